//! Cross-cutting pieces every module uses: configuration, the tenant-scoped database context,
//! authentication and permissions, request extractors, errors, migrations.

pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod list;
pub mod migrate;
pub mod migration_sql;
pub mod patch;
pub mod pool;
pub mod tenant;

//! Cross-cutting pieces every module uses: configuration, the tenant-scoped database context,
//! authentication and permissions, request extractors, errors, migrations.
//!
//! Each file uses only those listed before it (`config`, `patch` and `migration_sql` use none):
//! `tenant`, `error`, `extract`, `migrations`, `registry`, `migrate`, `pool`, `list`,
//! `database`, `db`, `auth`, `links`.

pub mod auth;
pub mod config;
pub mod database;
pub mod db;
pub mod error;
pub mod extract;
pub mod links;
pub mod list;
pub mod migrate;
pub mod migration_sql;
pub mod migrations;
pub mod patch;
pub mod pool;
pub mod registry;
pub mod tenant;

//! Cross-cutting pieces every module uses: configuration, the tenant-scoped database context,
//! authentication and permissions, request extractors, errors, migrations.
//!
//! Each file uses only those listed before it (`config`, `json`, `patch`, `migration_sql`,
//! `openapi` and `guard` use none):
//! `tenant`, `error`, `secret`, `extract`, `precondition`, `migrations`, `registry`, `migrate`,
//! `pool`, `list`, `database`, `db`, `rows`, `idempotency`, `auth`, `links`.

pub mod auth;
pub mod config;
pub mod database;
pub mod db;
pub mod error;
pub mod extract;
pub mod guard;
pub mod idempotency;
pub mod json;
pub mod links;
pub mod list;
pub mod migrate;
pub mod migration_sql;
pub mod migrations;
pub mod openapi;
pub mod patch;
pub mod pool;
pub mod precondition;
pub mod registry;
pub mod rows;
pub mod secret;
pub mod tenant;

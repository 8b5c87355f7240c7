//! Migrations embedded at build time (see `build.rs`). `public` migrations run once per
//! database; `tenant` migrations run in every tenant schema, and each schema records its own
//! applied versions, so tenants created at different times converge on `server migrate`.

use sqlx::{PgConnection, PgPool};

use crate::core::error::AppError;
use crate::core::tenant;

#[derive(Debug)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// Applies the public migrations, then the tenant migrations to every tenant. Safe to run twice
/// and concurrently: each schema is locked while it is migrated.
pub async fn run(pool: &PgPool) -> Result<(), AppError> {
    run_public(pool).await?;
    for schema in tenant::schemas(pool).await? {
        migrate_schema(pool, &schema, TENANT).await?;
    }
    Ok(())
}

pub async fn run_public(pool: &PgPool) -> Result<(), AppError> {
    migrate_schema(pool, "public", PUBLIC).await
}

async fn migrate_schema(
    pool: &PgPool,
    schema: &str,
    migrations: &[Migration],
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    apply_pending(&mut tx, schema, migrations).await?;
    tx.commit().await?;
    Ok(())
}

/// Runs inside the caller's transaction, so a failing migration leaves the schema untouched.
/// `schema` must be a validated identifier (`public` or a `tenant_<slug>`).
pub async fn apply_pending(
    conn: &mut PgConnection,
    schema: &str,
    migrations: &[Migration],
) -> Result<(), AppError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('scaffold.migrate.' || $1))")
        .bind(schema)
        .execute(&mut *conn)
        .await?;
    sqlx::query("SELECT set_config('search_path', quote_ident($1), true)")
        .bind(schema)
        .execute(&mut *conn)
        .await?;
    // Checked rather than `CREATE TABLE IF NOT EXISTS`, whose notice would be logged for
    // every schema on every run.
    let tracked: bool = sqlx::query_scalar("SELECT to_regclass('schema_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !tracked {
        sqlx::query(
            "CREATE TABLE schema_migrations (
                version BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )
        .execute(&mut *conn)
        .await?;
    }
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await?;
    for migration in migrations.iter().filter(|m| !applied.contains(&m.version)) {
        sqlx::raw_sql(migration.sql)
            .execute(&mut *conn)
            .await
            .map_err(|e| anyhow::anyhow!("migration {} in schema {schema}: {e}", migration.name))?;
        sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
            .bind(migration.version)
            .bind(migration.name)
            .execute(&mut *conn)
            .await?;
        tracing::info!(schema, migration = migration.name, "applied");
    }
    Ok(())
}

//! The migrations this binary carries (embedded at build time, see `build.rs`), and applying
//! them to one schema. `public` migrations run once per database; `tenant` migrations run in
//! every tenant schema, and each schema records its own applied versions with the checksum of
//! the SQL that ran, so an applied migration edited afterwards is caught.
//!
//! A schema is migrated in one transaction (all its pending migrations or none) under an
//! advisory lock, so concurrent runs are safe. `migrate` runs this for every tenant.

use std::collections::HashSet;

use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, PgConnection, PgPool};

use crate::core::error::AppError;
use crate::core::migration_sql::split_statements;

#[derive(Debug)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// SHA-256 of the file's bytes, in hex: what `schema_migrations.checksum` records.
    pub fn checksum(&self) -> String {
        Sha256::digest(self.sql.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// The version a tenant schema is at once it has every tenant migration of this binary;
/// `public.tenants.schema_version` records it, and requests compare against it.
pub fn latest_tenant_version() -> i64 {
    TENANT.last().map_or(0, |m| m.version)
}

/// Why a schema was not migrated.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// Applied migrations that do not match this binary's files.
    #[error("drift, refused: {}", .0.join("; "))]
    Drift(Vec<String>),
    #[error("{migration} failed at line {line} (`{statement}`): {error}")]
    Statement {
        migration: &'static str,
        line: usize,
        statement: String,
        error: String,
    },
    /// A failure that replaying the file statement by statement did not reproduce.
    #[error("{migration} failed: {error}")]
    Migration {
        migration: &'static str,
        error: String,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<MigrateError> for AppError {
    fn from(error: MigrateError) -> AppError {
        match error {
            MigrateError::Database(error) => error.into(),
            other => AppError::Internal(other.into()),
        }
    }
}

/// One applied migration as a schema's `schema_migrations` records it.
#[derive(Debug, sqlx::FromRow)]
struct Applied {
    version: i64,
    name: String,
    /// None for migrations applied before checksums were recorded.
    checksum: Option<String>,
}

/// A schema's applied migrations compared with the binary's.
#[derive(Debug, Default)]
pub struct Plan {
    /// The highest applied version, if any.
    pub applied_version: Option<i64>,
    pub pending: Vec<&'static Migration>,
    /// One message per applied migration that differs from the binary's file or is unknown.
    pub drift: Vec<String>,
    /// Applied before checksums were recorded: `migrate` records the current file's checksum.
    pub unrecorded: usize,
}

impl Plan {
    fn new(migrations: &'static [Migration], applied: &[Applied]) -> Plan {
        let mut plan = Plan {
            applied_version: applied.iter().map(|a| a.version).max(),
            ..Plan::default()
        };
        for row in applied {
            match migrations.iter().find(|m| m.version == row.version) {
                None => plan.drift.push(format!(
                    "applied migration {} ({}) is not in this binary: it was removed, or a \
                     newer binary applied it; run the binary that has it",
                    row.version, row.name
                )),
                Some(migration) => match &row.checksum {
                    None => plan.unrecorded += 1,
                    Some(checksum) if *checksum != migration.checksum() => {
                        plan.drift.push(format!(
                            "{} changed after it was applied (checksum {} applied, {} now): \
                             restore the file and put the change in a new migration",
                            migration.name,
                            short(checksum),
                            short(&migration.checksum())
                        ))
                    }
                    Some(_) => {}
                },
            }
        }
        let applied: HashSet<i64> = applied.iter().map(|a| a.version).collect();
        plan.pending = migrations
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .collect();
        plan
    }

    /// Where `schema` stands, read without a transaction or lock.
    pub async fn read(
        pool: &PgPool,
        schema: &str,
        migrations: &'static [Migration],
    ) -> Result<Plan, sqlx::Error> {
        Ok(Plan::new(migrations, &read_applied(pool, schema).await?))
    }

    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.drift.is_empty() && self.unrecorded == 0
    }
}

fn short(checksum: &str) -> &str {
    &checksum[..checksum.len().min(12)]
}

/// Applies the pending public migrations, all or none.
pub async fn run_public(pool: &PgPool) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    apply_pending(&mut tx, "public", PUBLIC)
        .await
        .map_err(|e| anyhow::anyhow!("public migrations: {e}"))?;
    tx.commit().await?;
    Ok(())
}

/// A schema's applied migrations, without a transaction or lock; empty when it has no
/// tracking table yet. `schema` must be a validated identifier.
async fn read_applied(pool: &PgPool, schema: &str) -> Result<Vec<Applied>, sqlx::Error> {
    let query = |checksum: &str| {
        format!("SELECT version, name, {checksum} AS checksum FROM \"{schema}\".schema_migrations")
    };
    match sqlx::query_as(AssertSqlSafe(query("checksum")))
        .fetch_all(pool)
        .await
    {
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(UNDEFINED_COLUMN) => {
            // A tracking table from before checksums were recorded.
            sqlx::query_as(AssertSqlSafe(query("NULL::text")))
                .fetch_all(pool)
                .await
        }
        Err(sqlx::Error::Database(e))
            if matches!(e.code().as_deref(), Some(UNDEFINED_TABLE | INVALID_SCHEMA)) =>
        {
            Ok(Vec::new())
        }
        other => other,
    }
}

const UNDEFINED_TABLE: &str = "42P01";
const UNDEFINED_COLUMN: &str = "42703";
const INVALID_SCHEMA: &str = "3F000";

/// Runs inside the caller's transaction, so a failing migration leaves the schema untouched.
/// `schema` must be a validated identifier (`public` or a `tenant_<slug>`). Returns the names
/// of the migrations applied.
pub async fn apply_pending(
    conn: &mut PgConnection,
    schema: &str,
    migrations: &'static [Migration],
) -> Result<Vec<&'static str>, MigrateError> {
    // One round trip: wait for any other run on this schema, then scope the transaction to
    // it. The lock timeout bounds waits for the tables' locks (a long request, a stuck
    // session): that tenant fails with a clear error and the others go on, instead of every
    // request of that tenant queueing behind the migration.
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtext('scaffold.migrate.' || $1)), \
                set_config('search_path', quote_ident($1), true), \
                set_config('lock_timeout', '10s', true)",
    )
    .bind(schema)
    .execute(&mut *conn)
    .await?;
    // Checked rather than `CREATE TABLE IF NOT EXISTS`, whose notice would be logged for
    // every schema on every run.
    let (tracked, has_checksums): (bool, bool) = sqlx::query_as(
        "SELECT to_regclass('schema_migrations') IS NOT NULL, EXISTS (
             SELECT FROM pg_attribute WHERE attrelid = to_regclass('schema_migrations')
             AND attname = 'checksum' AND NOT attisdropped)",
    )
    .fetch_one(&mut *conn)
    .await?;
    if !tracked {
        sqlx::query(
            "CREATE TABLE schema_migrations (
                version BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                checksum TEXT
            )",
        )
        .execute(&mut *conn)
        .await?;
    } else if !has_checksums {
        // Tracking tables from before checksums: rows keep a NULL checksum until recorded below.
        sqlx::query("ALTER TABLE schema_migrations ADD COLUMN checksum TEXT")
            .execute(&mut *conn)
            .await?;
    }
    let applied: Vec<Applied> =
        sqlx::query_as("SELECT version, name, checksum FROM schema_migrations")
            .fetch_all(&mut *conn)
            .await?;
    let plan = Plan::new(migrations, &applied);
    if !plan.drift.is_empty() {
        return Err(MigrateError::Drift(plan.drift));
    }
    // Nobody knows what a migration applied without a checksum ran; the file this binary has
    // is the best evidence, so its checksum is recorded and checked from now on.
    for row in applied.iter().filter(|row| row.checksum.is_none()) {
        if let Some(migration) = migrations.iter().find(|m| m.version == row.version) {
            sqlx::query("UPDATE schema_migrations SET checksum = $2 WHERE version = $1")
                .bind(row.version)
                .bind(migration.checksum())
                .execute(&mut *conn)
                .await?;
        }
    }
    let mut names = Vec::new();
    for migration in plan.pending {
        // One round trip per file, with its row in schema_migrations: a tenant's creation is
        // a few dozen statements, and on a busy machine each round trip waits for a core. The
        // savepoint lets a failure be replayed statement by statement, to name the one that
        // failed.
        let batch = format!(
            "SAVEPOINT migration;\n{}\n;\n\
             INSERT INTO schema_migrations (version, name, checksum) VALUES ({}, '{}', '{}');\n\
             RELEASE SAVEPOINT migration",
            migration.sql,
            migration.version,
            migration.name.replace('\'', "''"),
            migration.checksum()
        );
        if let Err(error) = sqlx::raw_sql(AssertSqlSafe(batch))
            .execute(&mut *conn)
            .await
        {
            return Err(locate_failure(conn, migration, error).await);
        }
        names.push(migration.name);
    }
    Ok(names)
}

/// Replays a migration that failed, statement by statement from its savepoint, and names the
/// statement that fails again. The transaction is aborted either way; the caller rolls it back.
async fn locate_failure(
    conn: &mut PgConnection,
    migration: &'static Migration,
    error: sqlx::Error,
) -> MigrateError {
    let message = |error: &sqlx::Error| match error {
        sqlx::Error::Database(e) => e.message().to_owned(),
        other => other.to_string(),
    };
    if sqlx::raw_sql("ROLLBACK TO SAVEPOINT migration")
        .execute(&mut *conn)
        .await
        .is_ok()
    {
        for statement in split_statements(migration.sql) {
            if let Err(again) = sqlx::raw_sql(AssertSqlSafe(statement.text))
                .execute(&mut *conn)
                .await
            {
                return MigrateError::Statement {
                    migration: migration.name,
                    line: statement.line,
                    statement: preview(statement.text),
                    error: message(&again),
                };
            }
        }
    }
    MigrateError::Migration {
        migration: migration.name,
        error: message(&error),
    }
}

/// The statement's first line, cut to a length that fits a report line.
fn preview(statement: &str) -> String {
    let first = statement.lines().next().unwrap_or_default().trim();
    let mut preview: String = first.chars().take(60).collect();
    if preview.len() < first.len() || statement.lines().nth(1).is_some() {
        preview.push_str(" ...");
    }
    preview
}

#[cfg(test)]
mod tests {
    use super::{Applied, Migration, PUBLIC, Plan, TENANT, preview};

    static MIGRATIONS: &[Migration] = &[
        Migration {
            version: 1,
            name: "1_a.sql",
            sql: "CREATE TABLE a (x INT);",
        },
        Migration {
            version: 2,
            name: "2_b.sql",
            sql: "CREATE TABLE b (x INT);",
        },
    ];

    fn applied(version: i64, checksum: Option<String>) -> Applied {
        Applied {
            version,
            name: format!("{version}_x.sql"),
            checksum,
        }
    }

    #[test]
    fn plans_find_pending_drift_and_unrecorded_checksums() {
        let fresh = Plan::new(MIGRATIONS, &[]);
        assert_eq!(fresh.pending.len(), 2);
        assert_eq!(fresh.applied_version, None);

        let current = Plan::new(
            MIGRATIONS,
            &[
                applied(1, Some(MIGRATIONS[0].checksum())),
                applied(2, Some(MIGRATIONS[1].checksum())),
            ],
        );
        assert!(current.is_current(), "{current:?}");
        assert_eq!(current.applied_version, Some(2));

        let legacy = Plan::new(MIGRATIONS, &[applied(1, None)]);
        assert_eq!((legacy.unrecorded, legacy.pending.len()), (1, 1));
        assert!(legacy.drift.is_empty());

        let changed = Plan::new(MIGRATIONS, &[applied(1, Some("0123456789abcdef".into()))]);
        assert_eq!(changed.drift.len(), 1);
        assert!(changed.drift[0].contains("1_a.sql changed"), "{changed:?}");
        assert!(changed.drift[0].contains("0123456789ab"), "{changed:?}");

        let unknown = Plan::new(MIGRATIONS, &[applied(3, Some("x".into()))]);
        assert!(unknown.drift[0].contains("3 (3_x.sql) is not in this binary"));
    }

    #[test]
    fn checksums_are_sha256_hex() {
        assert_eq!(
            Migration {
                version: 0,
                name: "",
                sql: "",
            }
            .checksum(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn previews_show_the_first_line() {
        assert_eq!(
            preview("CREATE TABLE a (\n x INT\n)"),
            "CREATE TABLE a ( ..."
        );
        assert_eq!(preview("DROP TABLE a"), "DROP TABLE a");
    }

    /// A moved checkout, or two sharing a target directory, must not read another
    /// checkout's files: the generated code names none by an absolute path.
    #[test]
    fn embedded_migrations_name_no_absolute_path() {
        let generated = include_str!(concat!(env!("OUT_DIR"), "/migrations.rs"));
        assert!(
            !generated.contains(env!("CARGO_MANIFEST_DIR")),
            "{generated}"
        );
        assert!(
            generated.contains("env!(\"CARGO_MANIFEST_DIR\")"),
            "{generated}"
        );
        assert!(!PUBLIC.is_empty() && !TENANT.is_empty());
        // The embedded text is the files' own (a change migration has no CREATE).
        assert!(
            TENANT
                .iter()
                .all(|m| m.sql.contains("CREATE") || m.sql.contains("ALTER"))
        );
    }
}

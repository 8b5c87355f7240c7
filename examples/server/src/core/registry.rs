//! The registry of tenants, `public.tenants`: creating and deleting a tenant with its schema,
//! listing them, and the look-up a request makes before it first serves a tenant.

use sqlx::{AssertSqlSafe, PgPool};

use crate::core::error::AppError;
use crate::core::migrations::{TENANT, apply_pending, latest_tenant_version};
use crate::core::tenant::TenantSlug;

/// A registered tenant as `public.tenants` records it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TenantRow {
    pub slug: String,
    pub schema: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The tenant migration version its schema is at; None before the public migration that
    /// records it.
    pub schema_version: Option<i64>,
}

/// Taken by `migrate` (shared) and exclusively by `tenant delete`, which waits for a migration
/// in flight; the server's first look-up of a tenant tries it too ([`LOOKUP`]), so a tenant
/// being deleted is refused rather than remembered.
pub(crate) const LOCK_SHARED: &str =
    "SELECT pg_advisory_xact_lock_shared(hashtext('scaffold.tenant.' || $1))";
const LOCK_EXCLUSIVE: &str = "SELECT pg_advisory_xact_lock(hashtext('scaffold.tenant.' || $1))";

/// Registers the tenant, creates its schema and migrates it, all in one transaction: a failure
/// leaves nothing behind.
pub async fn create(pool: &PgPool, slug: &TenantSlug) -> Result<(), AppError> {
    let schema = slug.schema();
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO public.tenants (slug, schema_name, schema_version) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(slug.as_str())
    .bind(&schema)
    .bind(latest_tenant_version())
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AppError::Conflict(format!("tenant {slug} already exists")));
    }
    sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(&mut *tx)
        .await?;
    apply_pending(&mut tx, &schema, TENANT).await?;
    tx.commit().await?;
    Ok(())
}

/// Drops the tenant's schema with all its data and removes it from the registry, in one
/// transaction. Waits for the tenant's requests in flight (bounded by `lock_timeout`); requests
/// that arrive meanwhile, and all after, are refused with 401.
pub async fn delete(pool: &PgPool, slug: &TenantSlug) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    // No notice listing every dropped table: the command says what it did.
    sqlx::query(
        "SELECT set_config('lock_timeout', '30s', true), \
                set_config('client_min_messages', 'warning', true)",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query(LOCK_EXCLUSIVE)
        .bind(slug.as_str())
        .execute(&mut *tx)
        .await?;
    let schema: Option<String> =
        sqlx::query_scalar("DELETE FROM public.tenants WHERE slug = $1 RETURNING schema_name")
            .bind(slug.as_str())
            .fetch_optional(&mut *tx)
            .await?;
    let Some(schema) = schema else {
        return Err(AppError::NotFound(format!(
            "tenant {slug} does not exist; `tenant list` shows the tenants"
        )));
    };
    // The registry's name, not one derived from the slug: it is what was created. Quoted, and
    // IF EXISTS so that a schema dropped by hand does not keep the registry row forever.
    sqlx::query(AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {} CASCADE",
        quote_ident(&schema)
    )))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tenants in `only` (every tenant when empty), ordered by slug; an unknown slug in
/// `only` is an error. Empty when the registry does not exist yet.
pub async fn select(pool: &PgPool, only: &[TenantSlug]) -> Result<Vec<TenantRow>, AppError> {
    // to_jsonb reads schema_version whether or not the public migration adding it has run:
    // `migrate --status` must work on a database that is behind too.
    let rows: Vec<TenantRow> = match sqlx::query_as(
        "SELECT slug, schema_name AS schema, created_at, \
                (to_jsonb(t) ->> 'schema_version')::bigint AS schema_version \
         FROM public.tenants t \
         WHERE cardinality($1::text[]) = 0 OR slug = ANY($1) ORDER BY slug",
    )
    .bind(only.iter().map(|s| s.as_str()).collect::<Vec<_>>())
    .fetch_all(pool)
    .await
    {
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Vec::new(),
        other => other?,
    };
    let missing: Vec<&str> = only
        .iter()
        .map(TenantSlug::as_str)
        .filter(|slug| !rows.iter().any(|row| row.slug == *slug))
        .collect();
    if !missing.is_empty() {
        return Err(AppError::NotFound(format!(
            "no tenant {}; `tenant list` shows the tenants",
            missing.join(", ")
        )));
    }
    Ok(rows)
}

pub(crate) async fn is_registered(
    conn: &mut sqlx::PgConnection,
    slug: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT FROM public.tenants WHERE slug = $1)")
        .bind(slug)
        .fetch_one(conn)
        .await
}

/// How many tenants are registered, and how many of them are behind this binary's tenant
/// migrations.
pub async fn count_behind(pool: &PgPool) -> Result<(i64, i64), AppError> {
    let counts = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE schema_version < $1) FROM public.tenants",
    )
    .bind(latest_tenant_version())
    .fetch_one(pool)
    .await?;
    Ok(counts)
}

/// Looks a tenant up for requests (see `database::Database::connection`), once per tenant and server
/// process: one round trip checks that the tenant is registered, that its schema has every
/// migration this binary needs, and that it is not being deleted (the shared lock is taken
/// and, outside a transaction, let go at once: a probe), and gives its schema. Binds: `$1` the
/// slug, `$2` [`latest_tenant_version`]. Its row (if any) goes to [`entered`].
pub(crate) const LOOKUP: &str = "\
    SELECT schema_name, \
           pg_try_advisory_xact_lock_shared(hashtext('scaffold.tenant.' || slug)), \
           schema_version >= $2 \
    FROM public.tenants WHERE slug = $1";

/// What [`LOOKUP`]'s row says: the tenant's schema, quoted for SQL, or why the request may
/// not go on.
pub(crate) fn entered(
    slug: &TenantSlug,
    row: Option<(String, bool, bool)>,
) -> Result<String, AppError> {
    match row {
        None => Err(AppError::Unauthorized(format!(
            "tenant {slug} is not registered"
        ))),
        Some((_, false, _)) => Err(AppError::Unauthorized(format!(
            "tenant {slug} is being deleted"
        ))),
        Some((_, true, false)) => Err(AppError::Unavailable(format!(
            "tenant {slug}'s data is not yet migrated to this version of the server; \
             an operator must run `{} migrate`",
            env!("CARGO_PKG_NAME")
        ))),
        Some((schema, true, true)) => Ok(quote_ident(&schema)),
    }
}

#[cfg(test)]
mod tests {
    use super::{AppError, TenantSlug, entered};

    #[test]
    fn enter_refusals_name_the_tenant_and_the_reason() {
        let slug = TenantSlug::parse("acme").unwrap();
        let message = |row: Option<(&str, bool, bool)>| match entered(
            &slug,
            row.map(|(s, l, v)| (s.to_owned(), l, v)),
        ) {
            Ok(schema) => format!("ok {schema}"),
            Err(AppError::Unauthorized(m)) => format!("401 {m}"),
            Err(AppError::Unavailable(m)) => format!("503 {m}"),
            other => panic!("{row:?}: {other:?}"),
        };
        assert_eq!(message(None), "401 tenant acme is not registered");
        assert_eq!(
            message(Some(("tenant_acme", false, true))),
            "401 tenant acme is being deleted"
        );
        let behind = message(Some(("tenant_acme", true, false)));
        assert!(
            behind.starts_with("503 tenant acme's data is not yet migrated"),
            "{behind}"
        );
        assert_eq!(
            message(Some(("tenant_acme", true, true))),
            "ok \"tenant_acme\""
        );
        assert_eq!(message(Some(("a\"b", true, true))), "ok \"a\"\"b\"");
    }
}

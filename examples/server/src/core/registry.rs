//! The registry of tenants, `public.tenants`: creating and deleting a tenant with its schema,
//! listing them, and the look-up a request makes before it first serves a tenant.

use sqlx::{AssertSqlSafe, PgConnection, PgPool};

use crate::core::error::AppError;
use crate::core::migrations::{TENANT, apply_pending, latest_tenant_version};
use crate::core::tenant::{MAX_IDENTIFIER_LEN, TenantId, TenantSlug};

/// A registered tenant as `public.tenants` records it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TenantRow {
    pub slug: String,
    pub schema: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The tenant migration version its schema is at; None before the public migration that
    /// records it.
    pub schema_version: Option<i64>,
    /// This incarnation's id, which its tokens carry; None before the public migration that
    /// records it.
    pub id: Option<TenantId>,
}

impl TenantRow {
    /// The tenant's slug bound to its id: what a token for it names.
    pub fn tenant(&self) -> Result<TenantSlug, AppError> {
        let slug =
            TenantSlug::parse(&self.slug).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
        let id = self.id.ok_or_else(|| {
            AppError::Unavailable(format!(
                "tenant {slug} has no id yet: an operator must run `{} migrate`",
                env!("CARGO_PKG_NAME")
            ))
        })?;
        Ok(slug.with_id(id))
    }
}

/// Taken by `migrate` (shared) and exclusively by `tenant delete`, which waits for a migration
/// in flight; the server's first look-up of a tenant tries it too ([`LOOKUP`]), so a tenant
/// being deleted is refused rather than remembered.
pub(crate) const LOCK_SHARED: &str =
    "SELECT pg_advisory_xact_lock_shared(hashtext('scaffold.tenant.' || $1))";
const LOCK_EXCLUSIVE: &str = "SELECT pg_advisory_xact_lock(hashtext('scaffold.tenant.' || $1))";

/// Registers the tenant with a new id, creates its schema and migrates it, all in one
/// transaction: a failure leaves nothing behind.
pub async fn create(pool: &PgPool, slug: &TenantSlug) -> Result<TenantRow, AppError> {
    let mut tx = pool.begin().await?;
    let schema = unused_schema(&mut tx, slug).await?;
    let row: Option<TenantRow> = sqlx::query_as(
        "INSERT INTO public.tenants (slug, schema_name, schema_version) VALUES ($1, $2, $3) \
         ON CONFLICT (slug) DO NOTHING \
         RETURNING slug, schema_name AS schema, created_at, schema_version, id",
    )
    .bind(slug.as_str())
    .bind(&schema)
    .bind(latest_tenant_version())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Err(AppError::Conflict(format!("tenant {slug} already exists")));
    };
    sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(&mut *tx)
        .await?;
    apply_pending(&mut tx, &schema, TENANT).await?;
    tx.commit().await?;
    Ok(row)
}

/// The first of `tenant_<slug>`, `tenant_<slug>_2`, `tenant_<slug>_3`... (the slug cut short
/// where the number would not fit PostgreSQL's 63 bytes) that no tenant has and no deleted
/// tenant had. A name is never used twice, so a server process that remembers the schema of a
/// deleted tenant finds it gone, never the schema of the tenant created after it.
async fn unused_schema(conn: &mut PgConnection, slug: &TenantSlug) -> Result<String, AppError> {
    let first = slug.first_schema();
    let mut n = 1;
    loop {
        let candidate = match n {
            1 => first.clone(),
            n => {
                let suffix = format!("_{n}");
                let kept = first.len().min(MAX_IDENTIFIER_LEN - suffix.len());
                format!("{}{suffix}", &first[..kept])
            }
        };
        let unused: bool = sqlx::query_scalar(
            "SELECT NOT EXISTS (SELECT FROM public.tenants WHERE schema_name = $1) \
                AND NOT EXISTS (SELECT FROM public.dropped_schemas WHERE schema_name = $1)",
        )
        .bind(&candidate)
        .fetch_one(&mut *conn)
        .await?;
        if unused {
            return Ok(candidate);
        }
        n += 1;
    }
}

/// Drops the tenant's schema with all its data and removes it from the registry, in one
/// transaction, and records the schema's name as never to be used again. Waits for the
/// tenant's requests in flight (bounded by `lock_timeout`); requests that arrive meanwhile,
/// and all after, are refused with 401. Returns the schema dropped.
pub async fn delete(pool: &PgPool, slug: &TenantSlug) -> Result<String, AppError> {
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
    let schema: Option<String> = sqlx::query_scalar(
        "WITH gone AS (DELETE FROM public.tenants WHERE slug = $1 RETURNING schema_name), \
              kept AS (INSERT INTO public.dropped_schemas (schema_name) \
                       SELECT schema_name FROM gone ON CONFLICT DO NOTHING) \
         SELECT schema_name FROM gone",
    )
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
    Ok(schema)
}

/// `name` as a PostgreSQL identifier, for the statements that name a schema they are given.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tenants in `only` (every tenant when empty), ordered by slug; an unknown slug in
/// `only` is an error. Empty when the registry does not exist yet.
pub async fn select(pool: &PgPool, only: &[TenantSlug]) -> Result<Vec<TenantRow>, AppError> {
    // to_jsonb reads schema_version and id whether or not the public migrations adding them
    // have run: `migrate --status` must work on a database that is behind too.
    let rows: Vec<TenantRow> = match sqlx::query_as(
        "SELECT slug, schema_name AS schema, created_at, \
                (to_jsonb(t) ->> 'schema_version')::bigint AS schema_version, \
                (to_jsonb(t) ->> 'id')::uuid AS id \
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

/// Whether `row`'s tenant is still registered: the same slug with the same schema, not a
/// tenant created under its slug since.
pub(crate) async fn is_registered(
    conn: &mut PgConnection,
    row: &TenantRow,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT FROM public.tenants WHERE slug = $1 AND schema_name = $2)",
    )
    .bind(&row.slug)
    .bind(&row.schema)
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
/// process: one round trip checks that the tenant is registered, that it is the incarnation the
/// token was minted for, that its schema has every migration this binary needs, and that it is
/// not being deleted (the shared lock is taken and, outside a transaction, let go at once: a
/// probe), and gives its schema. Binds: `$1` the slug, `$2` [`latest_tenant_version`], `$3` the
/// token's tenant id. Its row (if any) goes to [`entered`].
pub(crate) const LOOKUP: &str = "\
    SELECT schema_name, \
           id = $3, \
           pg_try_advisory_xact_lock_shared(hashtext('scaffold.tenant.' || slug)), \
           schema_version >= $2 \
    FROM public.tenants WHERE slug = $1";

/// What [`LOOKUP`]'s row says: the tenant's schema, quoted for SQL, or why the request may
/// not go on.
pub(crate) fn entered(
    slug: &TenantSlug,
    row: Option<(String, bool, bool, bool)>,
) -> Result<String, AppError> {
    match row {
        None => Err(AppError::Unauthorized(format!(
            "tenant {slug} is not registered"
        ))),
        Some((_, false, _, _)) => Err(AppError::Unauthorized(format!(
            "the token is for a tenant {slug} that was deleted; the tenant of that name now is \
             another one: ask for a new token"
        ))),
        Some((_, true, false, _)) => Err(AppError::Unauthorized(format!(
            "tenant {slug} is being deleted"
        ))),
        Some((_, true, true, false)) => Err(AppError::Unavailable(format!(
            "tenant {slug}'s data is not yet migrated to this version of the server; \
             an operator must run `{} migrate`",
            env!("CARGO_PKG_NAME")
        ))),
        Some((schema, true, true, true)) => Ok(quote_ident(&schema)),
    }
}

#[cfg(test)]
mod tests {
    use super::{AppError, TenantSlug, entered};

    #[test]
    fn enter_refusals_name_the_tenant_and_the_reason() {
        let slug = TenantSlug::parse("acme").unwrap();
        let message = |row: Option<(&str, bool, bool, bool)>| match entered(
            &slug,
            row.map(|(s, i, l, v)| (s.to_owned(), i, l, v)),
        ) {
            Ok(schema) => format!("ok {schema}"),
            Err(AppError::Unauthorized(m)) => format!("401 {m}"),
            Err(AppError::Unavailable(m)) => format!("503 {m}"),
            other => panic!("{row:?}: {other:?}"),
        };
        assert_eq!(message(None), "401 tenant acme is not registered");
        assert_eq!(
            message(Some(("tenant_acme_2", false, true, true))),
            "401 the token is for a tenant acme that was deleted; the tenant of that name now \
             is another one: ask for a new token"
        );
        assert_eq!(
            message(Some(("tenant_acme", true, false, true))),
            "401 tenant acme is being deleted"
        );
        let behind = message(Some(("tenant_acme", true, true, false)));
        assert!(
            behind.starts_with("503 tenant acme's data is not yet migrated"),
            "{behind}"
        );
        assert_eq!(
            message(Some(("tenant_acme", true, true, true))),
            "ok \"tenant_acme\""
        );
        assert_eq!(message(Some(("a\"b", true, true, true))), "ok \"a\"\"b\"");
    }
}

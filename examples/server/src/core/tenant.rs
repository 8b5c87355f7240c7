//! Tenants: the registry in `public.tenants` and one PostgreSQL schema per tenant.

use std::fmt;

use sqlx::{AssertSqlSafe, PgPool};

use crate::core::error::AppError;
use crate::core::migrate;

/// A validated tenant slug: lower-case letters, digits and underscores, starting with a letter,
/// short enough that `tenant_<slug>` fits PostgreSQL's 63-byte identifier limit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantSlug(String);

pub const MAX_SLUG_LEN: usize = 56;

impl TenantSlug {
    pub fn parse(slug: &str) -> Result<TenantSlug, String> {
        let mut chars = slug.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && slug.len() <= MAX_SLUG_LEN;
        if valid {
            Ok(TenantSlug(slug.to_owned()))
        } else {
            Err(format!(
                "invalid tenant slug {slug:?}: use 1 to {MAX_SLUG_LEN} lower-case letters, \
                 digits or underscores, starting with a letter (for example acme or acme_2)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tenant's schema. Safe to splice into SQL: the slug's alphabet needs no quoting.
    pub fn schema(&self) -> String {
        format!("tenant_{}", self.0)
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Registers the tenant, creates its schema and migrates it, all in one transaction: a failure
/// leaves nothing behind.
pub async fn create(pool: &PgPool, slug: &TenantSlug) -> Result<(), AppError> {
    let schema = slug.schema();
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO public.tenants (slug, schema_name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(slug.as_str())
    .bind(&schema)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AppError::Conflict(format!("tenant {slug} already exists")));
    }
    sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(&mut *tx)
        .await?;
    migrate::apply_pending(&mut tx, &schema, migrate::TENANT).await?;
    tx.commit().await?;
    Ok(())
}

/// Every registered tenant's schema, in a stable order.
pub async fn schemas(pool: &PgPool) -> Result<Vec<String>, AppError> {
    let schemas = sqlx::query_scalar("SELECT schema_name FROM public.tenants ORDER BY slug")
        .fetch_all(pool)
        .await?;
    Ok(schemas)
}

#[cfg(test)]
mod tests {
    use super::TenantSlug;

    #[test]
    fn slugs_are_checked() {
        for good in ["acme", "a", "acme_2", "a1_b2"] {
            assert_eq!(
                TenantSlug::parse(good).unwrap().schema(),
                format!("tenant_{good}")
            );
        }
        let too_long = "a".repeat(57);
        for bad in [
            "",
            "Acme",
            "1acme",
            "_acme",
            "ac-me",
            "ac me",
            "acmé",
            too_long.as_str(),
        ] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}

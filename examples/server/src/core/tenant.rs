//! A tenant's name, the id of one incarnation of it, and the PostgreSQL schema that holds its
//! data: `tenant_<slug>`. The registry of tenants is `registry`.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A validated tenant slug: lower-case letters, digits and underscores, starting with a letter,
/// short enough that `tenant_<slug>` fits PostgreSQL's 63-byte identifier limit.
///
/// A slug names a tenant, but the same slug can be deleted and created again for someone else.
/// What a verified token names is one incarnation: the slug bound to its [`TenantId`] (see
/// [`TenantSlug::with_id`]), and only that incarnation's schema serves it (`database`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantSlug {
    slug: String,
    id: Option<TenantId>,
}

/// The id `public.tenants.id` gives each creation of a tenant: a slug deleted and created again
/// has a new one, so a token minted for the first (its `tid` claim) does not serve the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct TenantId(Uuid);

impl From<Uuid> for TenantId {
    fn from(id: Uuid) -> TenantId {
        TenantId(id)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What every tenant schema's name starts with: `tenant_<slug>`.
pub const SCHEMA_PREFIX: &str = "tenant_";

/// PostgreSQL's identifiers are at most this many bytes.
pub const MAX_IDENTIFIER_LEN: usize = 63;

/// A schema is named `tenant_<slug>`, and an identifier is at most 63 bytes.
pub const MAX_SLUG_LEN: usize = MAX_IDENTIFIER_LEN - SCHEMA_PREFIX.len();

impl TenantSlug {
    pub fn parse(slug: &str) -> Result<TenantSlug, String> {
        let mut chars = slug.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && slug.len() <= MAX_SLUG_LEN;
        if valid {
            Ok(TenantSlug {
                slug: slug.to_owned(),
                id: None,
            })
        } else {
            Err(format!(
                "invalid tenant slug {slug:?}: use 1 to {MAX_SLUG_LEN} lower-case letters, \
                 digits or underscores, starting with a letter (for example acme or acme_2)"
            ))
        }
    }

    /// This slug bound to one incarnation of its tenant, as a verified token names it.
    pub fn with_id(self, id: TenantId) -> TenantSlug {
        TenantSlug {
            id: Some(id),
            ..self
        }
    }

    /// The incarnation this slug is bound to; None for a slug that was only parsed.
    pub fn id(&self) -> Option<TenantId> {
        self.id
    }

    pub fn as_str(&self) -> &str {
        &self.slug
    }

    /// The schema the slug's first tenant gets, `tenant_<slug>`. A slug created again gets
    /// another (see `registry::create`), so the schema of a tenant that exists is the
    /// registry's `schema_name`. Safe to splice into SQL: the slug's alphabet needs no quoting.
    pub fn first_schema(&self) -> String {
        format!("{SCHEMA_PREFIX}{}", self.slug)
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.slug)
    }
}

#[cfg(test)]
mod tests {
    use super::TenantSlug;

    #[test]
    fn slugs_are_checked() {
        for good in ["acme", "a", "acme_2", "a1_b2"] {
            assert_eq!(
                TenantSlug::parse(good).unwrap().first_schema(),
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

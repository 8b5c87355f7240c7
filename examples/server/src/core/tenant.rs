//! A tenant's name, and the PostgreSQL schema that holds its data: `tenant_<slug>`. The
//! registry of tenants is `registry`.

use std::fmt;

/// A validated tenant slug: lower-case letters, digits and underscores, starting with a letter,
/// short enough that `tenant_<slug>` fits PostgreSQL's 63-byte identifier limit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantSlug(String);

/// What every tenant schema's name starts with: `tenant_<slug>`.
pub const SCHEMA_PREFIX: &str = "tenant_";

/// PostgreSQL's identifiers are at most 63 bytes, and a schema is named `tenant_<slug>`.
pub const MAX_SLUG_LEN: usize = 63 - SCHEMA_PREFIX.len();

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
        format!("{SCHEMA_PREFIX}{}", self.0)
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
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

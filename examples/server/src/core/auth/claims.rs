//! What a token from an identity provider says, read the provider's way: where the tenant and
//! the permissions are (`AUTH_TENANT_CLAIM`, `AUTH_PERMISSIONS_CLAIM`, `AUTH_ROLES_CLAIM` with
//! `AUTH_ROLE_PERMISSIONS`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::core::config::ProviderConfig;

/// Where a provider's tokens keep what this server needs.
#[derive(Debug, Clone)]
pub struct ClaimMapping {
    tenant: String,
    permissions: String,
    roles: Option<(String, BTreeMap<String, Vec<String>>)>,
}

/// A provider token's caller, before its tenant is bound to an incarnation.
#[derive(Debug, PartialEq, Eq)]
pub struct Mapped {
    pub user: String,
    pub tenant: String,
    pub permissions: Vec<String>,
    /// `iat`: when the provider issued the token.
    pub issued_at: i64,
}

impl ClaimMapping {
    pub fn new(config: &ProviderConfig) -> ClaimMapping {
        ClaimMapping {
            tenant: config.tenant_claim.clone(),
            permissions: config.permissions_claim.clone(),
            roles: config.roles.clone(),
        }
    }

    /// The caller `claims` name, or why they do not name one. The messages name claims, never
    /// their values.
    pub fn map(&self, claims: &Map<String, Value>) -> Result<Mapped, String> {
        let user = match claims.get("sub") {
            Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
            _ => return Err("its `sub` claim is not a string".to_owned()),
        };
        let tenant = match claim(claims, &self.tenant) {
            Some(Value::String(tenant)) => tenant.clone(),
            Some(_) => return Err(format!("its `{}` claim is not a string", self.tenant)),
            None => {
                return Err(format!(
                    "it has no `{}` claim naming its tenant (AUTH_TENANT_CLAIM)",
                    self.tenant
                ));
            }
        };
        let issued_at = claims
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or("it has no `iat` claim (when it was issued), which binds it to its tenant")?;
        let mut permissions = match claim(claims, &self.permissions) {
            None => Vec::new(),
            Some(value) => words(value).ok_or_else(|| {
                format!("its `{}` claim is not a list of names", self.permissions)
            })?,
        };
        if let Some((roles_claim, table)) = &self.roles {
            let roles = match claim(claims, roles_claim) {
                None => Vec::new(),
                Some(value) => words(value)
                    .ok_or_else(|| format!("its `{roles_claim}` claim is not a list of roles"))?,
            };
            for role in roles {
                permissions.extend(table.get(&role).into_iter().flatten().cloned());
            }
        }
        permissions.sort();
        permissions.dedup();
        Ok(Mapped {
            user,
            tenant,
            permissions,
            issued_at,
        })
    }
}

/// The claim `name`: a top-level claim of that name (namespaced claims such as
/// `https://example.com/tenant` have dots of their own), else the path its dots separate
/// (`realm_access.roles`).
fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    claims.get(name).or_else(|| {
        let mut parts = name.split('.');
        let first = claims.get(parts.next()?)?;
        parts.try_fold(first, |value, part| value.get(part))
    })
}

/// An array of strings, or a space-separated string (the `scope` claim's form).
fn words(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(text) => Some(text.split_whitespace().map(str::to_owned).collect()),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn mapping(tenant: &str, permissions: &str, roles: Option<(&str, &str)>) -> ClaimMapping {
        ClaimMapping {
            tenant: tenant.to_owned(),
            permissions: permissions.to_owned(),
            roles: roles.map(|(claim, role_permissions)| {
                let (role, granted) = role_permissions.split_once('=').unwrap();
                let table = BTreeMap::from([(
                    role.to_owned(),
                    granted.split(' ').map(str::to_owned).collect(),
                )]);
                (claim.to_owned(), table)
            }),
        }
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn the_tenant_and_permissions_come_from_the_configured_claims() {
        let auth0 = mapping("https://api.example.com/tenant", "permissions", None);
        let token = claims(json!({
            "sub": "auth0|7", "iat": 100, "https://api.example.com/tenant": "acme",
            "permissions": ["projects:write", "projects:read"], "tenant": "other",
        }));
        assert_eq!(
            auth0.map(&token).unwrap(),
            Mapped {
                user: "auth0|7".into(),
                tenant: "acme".into(),
                permissions: vec!["projects:read".into(), "projects:write".into()],
                issued_at: 100,
            }
        );
        let keycloak = mapping(
            "org.slug",
            "scope",
            Some(("realm_access.roles", "editor=projects:read projects:write")),
        );
        let token = claims(json!({
            "sub": "k-1", "iat": 5, "org": {"slug": "acme"}, "scope": "openid projects:read",
            "realm_access": {"roles": ["editor", "offline_access"]},
        }));
        let mapped = keycloak.map(&token).unwrap();
        assert_eq!(mapped.tenant, "acme");
        assert_eq!(
            mapped.permissions,
            ["openid", "projects:read", "projects:write"]
        );
    }

    #[test]
    fn missing_or_malformed_claims_are_named() {
        let mapping = mapping("org_id", "scope", Some(("roles", "admin=p")));
        let good = json!({"sub": "u", "iat": 1, "org_id": "acme", "scope": "a b", "roles": []});
        assert!(mapping.map(&claims(good.clone())).is_ok());
        for (key, value, why) in [
            ("sub", json!(7), "its `sub` claim is not a string"),
            ("org_id", Value::Null, "its `org_id` claim is not a string"),
            ("iat", json!("yesterday"), "it has no `iat` claim"),
            ("scope", json!({"a": 1}), "its `scope` claim is not a list"),
            (
                "roles",
                json!([1]),
                "its `roles` claim is not a list of roles",
            ),
        ] {
            let mut token = good.clone();
            token[key] = value;
            let error = mapping.map(&claims(token)).unwrap_err();
            assert!(error.starts_with(why), "{key}: {error}");
        }
        let mut token = good;
        token.as_object_mut().unwrap().remove("org_id");
        assert_eq!(
            mapping.map(&claims(token)).unwrap_err(),
            "it has no `org_id` claim naming its tenant (AUTH_TENANT_CLAIM)"
        );
    }
}

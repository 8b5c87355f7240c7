//! The identity provider's settings: `AUTH_*` (see docs/server.md, "Authentication").

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use jsonwebtoken::Algorithm;

/// Where an identity provider's signing keys come from: a JWKS document, or the issuer's
/// OpenID Connect discovery document, which names one (`jwks_uri`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `AUTH_JWKS_URL`
    Jwks(String),
    /// `AUTH_ISSUER` without `AUTH_JWKS_URL`: `<issuer>/.well-known/openid-configuration`.
    Discovery(String),
}

/// How tokens from an identity provider are checked and read (see `core::auth`).
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub keys: KeySource,
    /// `AUTH_ISSUER`: the `iss` tokens must carry.
    pub issuer: Option<String>,
    /// `AUTH_AUDIENCE`: the `aud` tokens must carry.
    pub audience: Option<String>,
    /// `AUTH_ALGORITHMS`: asymmetric algorithms only (default RS256, ES256 and EdDSA).
    pub algorithms: Vec<Algorithm>,
    /// `AUTH_LEEWAY`: the clock skew allowed on `exp` and `nbf` (default 30s, at most 5m).
    pub leeway: Duration,
    /// `AUTH_TENANT_CLAIM`: the claim holding the tenant's slug (default `tenant`).
    pub tenant_claim: String,
    /// `AUTH_PERMISSIONS_CLAIM`: the claim holding permissions, an array or a space-separated
    /// string such as `scope` (default `permissions`).
    pub permissions_claim: String,
    /// `AUTH_ROLES_CLAIM` and `AUTH_ROLE_PERMISSIONS`: a claim of roles and the permissions
    /// each role grants, added to the permissions claim's.
    pub roles: Option<(String, BTreeMap<String, Vec<String>>)>,
    /// `AUTH_JWKS_TIMEOUT`: how long one fetch of the keys may take (default 5s).
    pub fetch_timeout: Duration,
    /// `AUTH_JWKS_MIN_REFRESH`: the least time between two fetches, however many tokens name
    /// unknown keys (default 30s).
    pub min_refresh: Duration,
    /// `AUTH_JWKS_MAX_AGE`: keys older than this are fetched again, so that a key the
    /// provider withdrew stops being accepted (default 10m).
    pub max_age: Duration,
}

/// Algorithms a provider's public keys verify. HS* is not among them: with a public key as
/// its "secret", anyone could sign.
const ASYMMETRIC: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Settings that mean nothing without `AUTH_JWKS_URL` or `AUTH_ISSUER`.
const DEPENDENT: [&str; 10] = [
    "AUTH_AUDIENCE",
    "AUTH_ALGORITHMS",
    "AUTH_LEEWAY",
    "AUTH_TENANT_CLAIM",
    "AUTH_PERMISSIONS_CLAIM",
    "AUTH_ROLES_CLAIM",
    "AUTH_ROLE_PERMISSIONS",
    "AUTH_JWKS_TIMEOUT",
    "AUTH_JWKS_MIN_REFRESH",
    "AUTH_JWKS_MAX_AGE",
];

/// The identity provider's settings, when `AUTH_JWKS_URL` or `AUTH_ISSUER` is set; an
/// `AUTH_*` setting without either is a mistake, refused rather than ignored.
pub fn from_vars(
    var: &impl Fn(&str) -> Option<String>,
    seconds: &impl Fn(&str, Duration) -> anyhow::Result<Duration>,
) -> anyhow::Result<Option<ProviderConfig>> {
    let issuer = var("AUTH_ISSUER");
    let keys = match (var("AUTH_JWKS_URL"), &issuer) {
        (Some(url), _) => KeySource::Jwks(checked_url("AUTH_JWKS_URL", &url)?),
        (None, Some(issuer)) => KeySource::Discovery(checked_url("AUTH_ISSUER", issuer)?),
        (None, None) => {
            if let Some(name) = DEPENDENT.iter().find(|name| var(name).is_some()) {
                bail!(
                    "{name} is set but neither AUTH_JWKS_URL nor AUTH_ISSUER is: set one of \
                     them to take tokens from an identity provider"
                );
            }
            return Ok(None);
        }
    };
    let algorithms = match var("AUTH_ALGORITHMS") {
        None => vec![Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA],
        Some(text) => algorithms(&text).with_context(|| format!("AUTH_ALGORITHMS={text:?}"))?,
    };
    let leeway = seconds("AUTH_LEEWAY", Duration::from_secs(30))?;
    if leeway > Duration::from_secs(300) {
        bail!("AUTH_LEEWAY is {leeway:?}: at most 5m, or expired tokens live on");
    }
    let roles = match (var("AUTH_ROLES_CLAIM"), var("AUTH_ROLE_PERMISSIONS")) {
        (None, None) => None,
        (Some(claim), Some(table)) => Some((
            claim,
            role_table(&table).with_context(|| format!("AUTH_ROLE_PERMISSIONS={table:?}"))?,
        )),
        (Some(_), None) => bail!(
            "AUTH_ROLES_CLAIM is set without AUTH_ROLE_PERMISSIONS, the permissions each role \
             grants, such as \"admin=projects:read projects:write; viewer=projects:read\""
        ),
        (None, Some(_)) => bail!(
            "AUTH_ROLE_PERMISSIONS is set without AUTH_ROLES_CLAIM, the claim that holds the \
             roles, such as realm_access.roles"
        ),
    };
    Ok(Some(ProviderConfig {
        keys,
        issuer,
        audience: var("AUTH_AUDIENCE"),
        algorithms,
        leeway,
        tenant_claim: var("AUTH_TENANT_CLAIM").unwrap_or_else(|| "tenant".to_owned()),
        permissions_claim: var("AUTH_PERMISSIONS_CLAIM")
            .unwrap_or_else(|| "permissions".to_owned()),
        roles,
        fetch_timeout: seconds("AUTH_JWKS_TIMEOUT", Duration::from_secs(5))?,
        min_refresh: seconds("AUTH_JWKS_MIN_REFRESH", Duration::from_secs(30))?,
        max_age: seconds("AUTH_JWKS_MAX_AGE", Duration::from_secs(600))?,
    }))
}

/// An http(s) URL; plain http only to this machine, since keys fetched over a network without
/// TLS could be anyone's. Also checks the `jwks_uri` a discovery document names.
pub fn checked_url(name: &str, text: &str) -> anyhow::Result<String> {
    let url: hyper::Uri = text
        .parse()
        .ok()
        .filter(|url: &hyper::Uri| url.host().is_some())
        .with_context(|| format!("{name}={text:?} is not a URL, such as https://auth.example"))?;
    let host = url.host().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme_str().unwrap_or_default() {
        "https" => Ok(text.to_owned()),
        "http" if loopback => Ok(text.to_owned()),
        _ => bail!(
            "{name}={text:?}: keys must come over https (plain http only from this machine), \
             or anyone on the way could hand this server keys of their own"
        ),
    }
}

/// `RS256,ES256`: names of asymmetric JWT algorithms.
fn algorithms(text: &str) -> anyhow::Result<Vec<Algorithm>> {
    let mut chosen = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if name.eq_ignore_ascii_case("none") {
            bail!("`none` means unsigned: a token anyone can write is never accepted");
        }
        if name.to_ascii_uppercase().starts_with("HS") {
            bail!(
                "{name} is signed with a shared secret, never with an identity provider's \
                 public key (anyone who has the key could sign); HS256 tokens for development \
                 are accepted when JWT_SECRET is set"
            );
        }
        let algorithm = name
            .parse::<Algorithm>()
            .ok()
            .filter(|a| ASYMMETRIC.contains(a))
            .with_context(|| {
                format!(
                    "unknown algorithm {name:?}: use RS256, RS384, RS512, PS256, PS384, \
                     PS512, ES256, ES384 or EdDSA"
                )
            })?;
        chosen.push(algorithm);
    }
    if chosen.is_empty() {
        bail!("no algorithm: name at least one, such as RS256");
    }
    Ok(chosen)
}

/// `admin=projects:read projects:write; viewer=projects:read`: each role's permissions.
fn role_table(text: &str) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let mut table = BTreeMap::new();
    for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((role, permissions)) = entry.split_once('=') else {
            bail!("{entry:?} has no `=`: write role=permission permission; role=...");
        };
        let permissions: Vec<String> = permissions
            .split([' ', ','])
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        if role.trim().is_empty() || permissions.is_empty() {
            bail!("{entry:?} needs a role and at least one permission");
        }
        table.insert(role.trim().to_owned(), permissions);
    }
    if table.is_empty() {
        bail!("no role: write role=permission permission; role=...");
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn provider(vars: &[(&str, &str)]) -> anyhow::Result<Option<ProviderConfig>> {
        let vars: HashMap<&str, &str> = vars.iter().copied().collect();
        let var = |name: &str| vars.get(name).map(|v| v.to_string());
        let seconds = |name: &str, default: Duration| match var(name) {
            None => Ok(default),
            // Whole seconds or minutes are all these tests write.
            Some(text) => Ok(match text.strip_suffix('m') {
                Some(minutes) => Duration::from_secs(60 * minutes.parse::<u64>()?),
                None => Duration::from_secs(text.trim_end_matches('s').parse()?),
            }),
        };
        from_vars(&var, &seconds)
    }

    fn refusal(vars: &[(&str, &str)]) -> String {
        format!("{:#}", provider(vars).unwrap_err())
    }

    #[test]
    fn no_provider_without_a_key_source_and_no_stray_settings() {
        assert!(provider(&[]).unwrap().is_none());
        let error = refusal(&[("AUTH_AUDIENCE", "projects")]);
        assert!(
            error.contains("AUTH_AUDIENCE is set but neither AUTH_JWKS_URL nor AUTH_ISSUER"),
            "{error}"
        );
    }

    #[test]
    fn the_issuer_alone_means_discovery_and_defaults_are_safe() {
        let config = provider(&[("AUTH_ISSUER", "https://id.example/realms/acme")])
            .unwrap()
            .unwrap();
        assert_eq!(
            config.keys,
            KeySource::Discovery("https://id.example/realms/acme".to_owned())
        );
        assert_eq!(
            config.algorithms,
            [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA]
        );
        assert_eq!(config.leeway, Duration::from_secs(30));
        assert_eq!(
            (
                config.tenant_claim.as_str(),
                config.permissions_claim.as_str()
            ),
            ("tenant", "permissions")
        );
        let jwks = provider(&[
            ("AUTH_JWKS_URL", "http://127.0.0.1:9/jwks.json"),
            ("AUTH_ISSUER", "https://id.example/"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            jwks.keys,
            KeySource::Jwks("http://127.0.0.1:9/jwks.json".to_owned())
        );
        assert_eq!(jwks.issuer.as_deref(), Some("https://id.example/"));
    }

    #[test]
    fn keys_come_over_https_except_from_this_machine() {
        for local in [
            "http://localhost:8080/jwks",
            "http://127.0.0.1/jwks",
            "http://[::1]:80/",
        ] {
            assert!(provider(&[("AUTH_JWKS_URL", local)]).is_ok(), "{local}");
        }
        for remote in [
            "http://id.example/jwks",
            "ftp://id.example/jwks",
            "id.example",
        ] {
            let error = refusal(&[("AUTH_JWKS_URL", remote)]);
            assert!(error.contains("AUTH_JWKS_URL"), "{error}");
        }
    }

    #[test]
    fn only_asymmetric_algorithms_are_accepted() {
        let source = ("AUTH_JWKS_URL", "https://id.example/jwks");
        let chosen = provider(&[source, ("AUTH_ALGORITHMS", "ES384, PS256")])
            .unwrap()
            .unwrap();
        assert_eq!(chosen.algorithms, [Algorithm::ES384, Algorithm::PS256]);
        for (algorithms, why) in [
            ("none", "`none` means unsigned"),
            ("RS256,HS256", "HS256 is signed with a shared secret"),
            ("hs512", "hs512 is signed with a shared secret"),
            ("RS257", "unknown algorithm \"RS257\""),
            (" , ", "no algorithm"),
        ] {
            let error = refusal(&[source, ("AUTH_ALGORITHMS", algorithms)]);
            assert!(
                error.contains("AUTH_ALGORITHMS") && error.contains(why),
                "{error}"
            );
        }
    }

    #[test]
    fn roles_need_a_claim_and_a_table() {
        let source = ("AUTH_JWKS_URL", "https://id.example/jwks");
        let config = provider(&[
            source,
            ("AUTH_ROLES_CLAIM", "realm_access.roles"),
            (
                "AUTH_ROLE_PERMISSIONS",
                "admin=projects:read projects:write; viewer=projects:read",
            ),
        ])
        .unwrap()
        .unwrap();
        let (claim, table) = config.roles.unwrap();
        assert_eq!(claim, "realm_access.roles");
        assert_eq!(table["admin"], ["projects:read", "projects:write"]);
        assert_eq!(table["viewer"], ["projects:read"]);
        for (vars, why) in [
            (
                vec![("AUTH_ROLES_CLAIM", "roles")],
                "without AUTH_ROLE_PERMISSIONS",
            ),
            (
                vec![("AUTH_ROLE_PERMISSIONS", "a=b")],
                "without AUTH_ROLES_CLAIM",
            ),
            (
                vec![
                    ("AUTH_ROLES_CLAIM", "roles"),
                    ("AUTH_ROLE_PERMISSIONS", "admin"),
                ],
                "has no `=`",
            ),
            (
                vec![
                    ("AUTH_ROLES_CLAIM", "roles"),
                    ("AUTH_ROLE_PERMISSIONS", "admin="),
                ],
                "needs a role and at least one permission",
            ),
        ] {
            let mut vars = vars;
            vars.push(source);
            let error = refusal(&vars);
            assert!(error.contains(why), "{error}");
        }
        let leeway = refusal(&[source, ("AUTH_LEEWAY", "10m")]);
        assert!(leeway.contains("at most 5m"), "{leeway}");
    }
}

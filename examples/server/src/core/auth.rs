//! Bearer tokens and permissions: the analog of the guide's `get_current_user` and
//! `require_permission`.

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::core::database::{ClientGone, Database};
use crate::core::db::Ctx;
use crate::core::error::AppError;
use crate::core::list::CursorKey;
use crate::core::tenant::{TenantId, TenantSlug};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What a token says about its caller. The claims this server adds to them (`tid`, `iss`,
/// `aud`) are in [`Token`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The tenant slug: the only place a request's tenant comes from.
    pub tenant: String,
    pub permissions: Vec<String>,
    pub iat: u64,
    pub exp: u64,
}

/// A token as it is signed: the [`Claims`], the id of the tenant's incarnation it was minted
/// for, and the issuer and audience, when the server is configured with them.
#[derive(Serialize, Deserialize)]
struct Token {
    #[serde(flatten)]
    claims: Claims,
    /// The tenant's id (`public.tenants.id`): a token whose tenant was deleted never serves
    /// another tenant created under the same slug. Required by [`Keys::verify`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tid: Option<TenantId>,
    /// Checked by the JWT validation itself, never read back.
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    aud: Option<String>,
}

/// The registered claims every token must have; `Keys::for_service` adds `iss` and `aud`.
const REQUIRED_CLAIMS: [&str; 2] = ["exp", "sub"];

/// HS256 signing and verification keys, derived once from `JWT_SECRET`, and the key list
/// cursors are signed with.
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    cursors: CursorKey,
    issuer: Option<String>,
    audience: Option<String>,
}

impl Keys {
    pub fn new(secret: &str) -> Keys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&REQUIRED_CLAIMS);
        // A token that is not valid yet (`nbf` in the future) is refused like an expired one.
        validation.validate_nbf = true;
        Keys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            cursors: CursorKey::derive(secret.as_bytes()),
            issuer: None,
            audience: None,
        }
    }

    /// Tokens minted name `issuer` (`iss`) and `audience` (`aud`), and tokens verified must
    /// name them: a token signed with the same secret for another service is refused. Either
    /// may be None: then it is not put in, and a token with an `aud` is refused.
    pub fn for_service(mut self, issuer: Option<&str>, audience: Option<&str>) -> Keys {
        let mut required = REQUIRED_CLAIMS.to_vec();
        if let Some(issuer) = issuer {
            self.validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        if let Some(audience) = audience {
            self.validation.set_audience(&[audience]);
            required.push("aud");
        }
        self.validation.set_required_spec_claims(&required);
        self.issuer = issuer.map(str::to_owned);
        self.audience = audience.map(str::to_owned);
        self
    }

    /// Signs a token for `tenant` that expires `ttl` from now. Its tenant id is `tenant`'s
    /// (see [`TenantSlug::with_id`]); a slug bound to none gives a token no server accepts.
    pub fn mint(
        &self,
        tenant: &TenantSlug,
        user: &str,
        permissions: &[String],
        ttl: Duration,
    ) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        self.sign_token(
            Claims {
                sub: user.to_owned(),
                tenant: tenant.as_str().to_owned(),
                permissions: permissions.to_vec(),
                iat: now.as_secs(),
                exp: (now + ttl).as_secs(),
            },
            tenant.id(),
        )
    }

    /// Signs `claims` as they are, with no tenant id: a token [`Keys::verify`] refuses, for
    /// tests of refusals (an expired token, say).
    pub fn sign(&self, claims: &Claims) -> String {
        self.sign_token(claims.clone(), None)
    }

    fn sign_token(&self, claims: Claims, tid: Option<TenantId>) -> String {
        let token = Token {
            claims,
            tid,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &token, &self.encoding)
            .expect("HS256 signing with an in-memory key cannot fail")
    }

    /// The caller a token names: signed with this secret, for this issuer and audience, not
    /// expired, and naming a tenant and its id.
    pub fn verify(&self, token: &str) -> Result<CurrentUser, AppError> {
        let Token { claims, tid, .. } =
            jsonwebtoken::decode::<Token>(token, &self.decoding, &self.validation)
                .map(|data| data.claims)
                .map_err(|e| AppError::Unauthorized(rejected_token(e.kind())))?;
        let tenant = TenantSlug::parse(&claims.tenant).map_err(AppError::Unauthorized)?;
        let tid = tid.ok_or_else(|| {
            AppError::Unauthorized(
                "invalid bearer token: it has no `tid` claim, the id of its tenant; it was \
                 minted before tenants had ids, or elsewhere: ask for a new token"
                    .to_owned(),
            )
        })?;
        Ok(CurrentUser {
            id: claims.sub,
            tenant: tenant.with_id(tid),
            permissions: claims.permissions,
        })
    }
}

/// Why a bearer token was refused, in the client's terms rather than the JWT library's.
fn rejected_token(kind: &jsonwebtoken::errors::ErrorKind) -> String {
    use jsonwebtoken::errors::ErrorKind;
    let why = match kind {
        ErrorKind::ExpiredSignature => "it has expired; ask for a new token".to_owned(),
        ErrorKind::ImmatureSignature => "it is not valid yet (nbf is in the future)".to_owned(),
        ErrorKind::InvalidSignature => {
            "its signature does not match: it was not signed with this server's secret".to_owned()
        }
        ErrorKind::InvalidIssuer => "it was issued by another issuer (`iss`)".to_owned(),
        ErrorKind::InvalidAudience => "it is meant for another service (`aud`)".to_owned(),
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            "it must be signed with HS256".to_owned()
        }
        ErrorKind::MissingRequiredClaim(claim) => format!("it has no `{claim}` claim"),
        ErrorKind::InvalidClaimFormat(claim) => format!("its `{claim}` claim is malformed"),
        ErrorKind::Json(_) => {
            "its claims are not what this server issues (sub, tenant, tid, permissions, iat, exp)"
                .to_owned()
        }
        _ => "it is malformed: a JWT is three base64url parts separated by dots".to_owned(),
    };
    format!("invalid bearer token: {why}")
}

/// The authenticated caller, from a verified bearer token.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: String,
    /// The token's tenant, bound to the id the token names.
    pub tenant: TenantSlug,
    pub permissions: Vec<String>,
}

impl CurrentUser {
    pub fn has(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}

impl<S> FromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    Arc<Keys>: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| AppError::Unauthorized("missing bearer token".to_owned()))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| {
                AppError::Unauthorized(
                    "the Authorization header must be `Bearer <token>`".to_owned(),
                )
            })?;
        Arc::<Keys>::from_ref(state).verify(token.trim())
    }
}

/// A permission a route requires, as a type so that it is declared in the handler's signature.
pub trait Permission {
    const NAME: &'static str;
}

/// Extracting `Authorized<P>` authenticates the caller and checks permission `P` before the
/// handler runs. It is the only way a handler gets a [`Ctx`], and so the database: a route
/// cannot reach tenant data without declaring what it needs.
pub struct Authorized<P> {
    pub user: CurrentUser,
    ctx: Ctx,
    permission: PhantomData<P>,
}

impl<P> Deref for Authorized<P> {
    type Target = Ctx;

    fn deref(&self) -> &Ctx {
        &self.ctx
    }
}

impl<S, P> FromRequestParts<S> for Authorized<P>
where
    S: Send + Sync,
    Arc<Keys>: FromRef<S>,
    Database: FromRef<S>,
    P: Permission,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        if !user.has(P::NAME) {
            return Err(AppError::PermissionDenied(format!(
                "this action requires the {} permission",
                P::NAME
            )));
        }
        let ctx = Ctx::new(
            Database::from_ref(state),
            Arc::<Keys>::from_ref(state).cursors.clone(),
            user.tenant.clone(),
            user.id.clone(),
            parts.extensions.get::<ClientGone>().cloned(),
        );
        Ok(Authorized {
            user,
            ctx,
            permission: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use serde_json::json;

    use super::*;

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn signed(keys: &Keys, claims: serde_json::Value) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap()
    }

    const TID: &str = "0b5b8a3c-5d2e-4b7a-9c1e-2f3a4b5c6d7e";

    fn acme() -> TenantSlug {
        TenantSlug::parse("acme")
            .unwrap()
            .with_id(TenantId::from(uuid::Uuid::parse_str(TID).unwrap()))
    }

    #[test]
    fn a_token_not_valid_yet_is_refused() {
        let keys = Keys::new("0123456789abcdef0123456789abcdef");
        let claims = |nbf: u64| {
            json!({
                "sub": "u", "tenant": "acme", "tid": TID, "permissions": [],
                "iat": now(), "exp": now() + 600, "nbf": nbf,
            })
        };
        let later = keys.verify(&signed(&keys, claims(now() + 300)));
        assert!(
            matches!(&later, Err(AppError::Unauthorized(_))),
            "{later:?}"
        );
        assert!(keys.verify(&signed(&keys, claims(now() - 1))).is_ok());
    }

    #[test]
    fn a_minted_token_names_the_tenant_and_its_id() {
        let keys = Keys::new("secret");
        let user = keys
            .verify(&keys.mint(&acme(), "alice", &["p".into()], Duration::from_secs(60)))
            .unwrap();
        assert_eq!(user.tenant, acme());
        assert_eq!(
            (user.id.as_str(), user.permissions),
            ("alice", vec!["p".into()])
        );
    }

    fn refusal(keys: &Keys, token: &str) -> String {
        match keys.verify(token) {
            Err(AppError::Unauthorized(message)) => message,
            other => panic!("{token}: {other:?}"),
        }
    }

    #[test]
    fn a_refused_token_says_what_is_wrong_with_it() {
        let keys = Keys::new("secret");
        let claims = json!({
            "sub": "alice", "tenant": "acme", "tid": TID, "permissions": [], "iat": now(),
            "exp": now() + 600,
        });
        let with = |key: &str, value: serde_json::Value| {
            let mut claims = claims.clone();
            claims[key] = value;
            signed(&keys, claims)
        };
        let without = |key: &str| {
            let mut claims = claims.clone();
            claims.as_object_mut().unwrap().remove(key);
            signed(&keys, claims)
        };
        let expired = with("exp", json!(2));
        let forged = Keys::new("other").mint(&acme(), "alice", &[], Duration::from_secs(60));
        let immature = with("nbf", json!(now() + 300));
        let malformed_nbf = with("nbf", json!("soon"));
        let malformed_tid = with("tid", json!("acme-1"));
        let no_tenant = without("tenant");
        let no_tid = without("tid");
        let unbound = keys.mint(
            &TenantSlug::parse("acme").unwrap(),
            "alice",
            &[],
            Duration::from_secs(60),
        );
        let signed_claims = keys.sign(&Claims {
            sub: "alice".into(),
            tenant: "acme".into(),
            permissions: vec![],
            iat: now(),
            exp: now() + 60,
        });
        let hs384 =
            jsonwebtoken::encode(&Header::new(Algorithm::HS384), &claims, &keys.encoding).unwrap();
        let no_tid_message = "invalid bearer token: it has no `tid` claim, the id of its tenant; \
                              it was minted before tenants had ids, or elsewhere: ask for a new \
                              token";
        let not_ours = "invalid bearer token: its claims are not what this server issues (sub, \
                        tenant, tid, permissions, iat, exp)";
        for (token, expected) in [
            (
                immature.as_str(),
                "invalid bearer token: it is not valid yet (nbf is in the future)",
            ),
            (
                hs384.as_str(),
                "invalid bearer token: it must be signed with HS256",
            ),
            (
                malformed_nbf.as_str(),
                "invalid bearer token: its `nbf` claim is malformed",
            ),
            (no_tenant.as_str(), not_ours),
            (malformed_tid.as_str(), not_ours),
            (no_tid.as_str(), no_tid_message),
            (unbound.as_str(), no_tid_message),
            (signed_claims.as_str(), no_tid_message),
            (
                expired.as_str(),
                "invalid bearer token: it has expired; ask for a new token",
            ),
            (
                forged.as_str(),
                "invalid bearer token: its signature does not match: it was not signed with \
                 this server's secret",
            ),
            (
                "not-a-jwt",
                "invalid bearer token: it is malformed: a JWT is three base64url parts \
                 separated by dots",
            ),
        ] {
            assert_eq!(refusal(&keys, token), expected);
        }
    }

    /// Services that share a secret still refuse each other's tokens once each names itself.
    #[test]
    fn a_token_for_another_issuer_or_audience_is_refused() {
        const SECRET: &str = "0123456789abcdef0123456789abcdef";
        let ours = Keys::new(SECRET).for_service(Some("https://auth.example"), Some("projects"));
        let mint = |keys: &Keys| keys.mint(&acme(), "alice", &[], Duration::from_secs(60));
        assert_eq!(ours.verify(&mint(&ours)).unwrap().tenant, acme());

        let billing = Keys::new(SECRET).for_service(Some("https://auth.example"), Some("billing"));
        let elsewhere =
            Keys::new(SECRET).for_service(Some("https://other.example"), Some("projects"));
        let plain = Keys::new(SECRET);
        for (token, why) in [
            (mint(&billing), "it is meant for another service (`aud`)"),
            (mint(&elsewhere), "it was issued by another issuer (`iss`)"),
            (
                mint(&Keys::new(SECRET).for_service(None, Some("projects"))),
                "it has no `iss` claim",
            ),
            (
                mint(&Keys::new(SECRET).for_service(Some("https://auth.example"), None)),
                "it has no `aud` claim",
            ),
        ] {
            assert_eq!(
                refusal(&ours, &token),
                format!("invalid bearer token: {why}")
            );
        }
        // A server that names no audience refuses tokens that name one.
        assert_eq!(
            refusal(&plain, &mint(&billing)),
            "invalid bearer token: it is meant for another service (`aud`)"
        );
        assert!(plain.verify(&mint(&plain)).is_ok());
    }
}

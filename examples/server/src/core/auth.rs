//! Bearer tokens and permissions: the analog of the guide's `get_current_user` and
//! `require_permission`.
//!
//! Two kinds of token: HS256, signed with `JWT_SECRET` (`server token` mints them, for
//! development and tests), and an identity provider's, signed with the keys it publishes
//! (`jwks`) and read the provider's way (`claims`). The header's `alg` says which.

mod claims;
mod jwks;

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::core::config::{Config, ProviderConfig};
use crate::core::database::{ClientGone, Database};
use crate::core::db::Ctx;
use crate::core::error::AppError;
use crate::core::list::CursorKey;
use crate::core::tenant::{TenantId, TenantSlug};
use anyhow::bail;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use hashlink::LruCache;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use self::claims::ClaimMapping;
pub use self::jwks::MAX_DOCUMENT_BYTES;
use self::jwks::{KeySet, Missing};

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
/// cursors are signed with; and the identity provider's keys, when there is one.
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    cursors: CursorKey,
    issuer: Option<String>,
    audience: Option<String>,
    /// False when tokens come from an identity provider and `JWT_SECRET` is not set: then the
    /// secret above is `CURSOR_SECRET`, which signs cursors only.
    accepts_hs256: bool,
    provider: Option<Provider>,
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
            accepts_hs256: true,
            provider: None,
        }
    }

    /// The keys `serve` verifies with: HS256 with `JWT_SECRET` unless an identity provider is
    /// configured without it, and the provider's, fetched once here (a provider that does not
    /// answer is logged, and fetched again when a token needs it).
    pub async fn for_server(config: &Config) -> anyhow::Result<Keys> {
        let keys = Keys::new(config.cursor_secret()?)
            .for_service(config.jwt_issuer.as_deref(), config.jwt_audience.as_deref());
        let Some(provider) = &config.provider else {
            return Ok(keys);
        };
        if config.accepts_hs256() {
            tracing::warn!(
                "JWT_SECRET is set beside the identity provider: HS256 tokens signed with it \
                 (`server token`'s) are accepted too. Leave it unset in production."
            );
        }
        let keys = keys.with_provider(provider, config.accepts_hs256())?;
        if let Some(provider) = &keys.provider {
            provider.keys.refresh(None).await;
        }
        Ok(keys)
    }

    /// The keys `server token` signs with: `JWT_SECRET`'s, which the server accepts beside an
    /// identity provider's only when it is set.
    pub fn for_minting(config: &Config) -> anyhow::Result<Keys> {
        if !config.accepts_hs256() {
            bail!(
                "tokens come from the identity provider (AUTH_JWKS_URL or AUTH_ISSUER) and \
                 JWT_SECRET is not set, so the server accepts no token this command could mint: \
                 ask the provider for one, or, for development, set JWT_SECRET beside it"
            );
        }
        Ok(Keys::new(config.jwt_secret()?)
            .for_service(config.jwt_issuer.as_deref(), config.jwt_audience.as_deref()))
    }

    /// Tokens from the identity provider `config` describes are accepted too; HS256 tokens
    /// only if `hs256`.
    pub fn with_provider(mut self, config: &ProviderConfig, hs256: bool) -> anyhow::Result<Keys> {
        self.provider = Some(Provider::new(config)?);
        self.accepts_hs256 = hs256;
        Ok(self)
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
        if !self.accepts_hs256 {
            return Err(AppError::Unauthorized(
                "invalid bearer token: this server accepts only its identity provider's tokens"
                    .to_owned(),
            ));
        }
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

impl Keys {
    /// The caller `token` names, whichever kind of token it is. A provider's token names its
    /// tenant by slug only; it is bound to the tenant registered under that slug when the
    /// token was issued (see [`Provider::bind`]).
    pub async fn authenticate(
        &self,
        token: &str,
        database: &Database,
    ) -> Result<CurrentUser, AppError> {
        let Some(provider) = &self.provider else {
            return self.verify(token);
        };
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| AppError::Unauthorized(rejected_header(token, e.kind())))?;
        if matches!(
            header.alg,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        ) {
            if self.accepts_hs256 {
                return self.verify(token);
            }
            return Err(AppError::Unauthorized(format!(
                "invalid bearer token: it is signed with {:?}, a shared secret; this server \
                 accepts tokens signed by its identity provider ({})",
                header.alg,
                provider.algorithm_names()
            )));
        }
        let mapped = provider.verify(token, &header).await?;
        let tenant = TenantSlug::parse(&mapped.tenant).map_err(AppError::Unauthorized)?;
        Ok(CurrentUser {
            id: mapped.user,
            tenant: provider.bind(database, tenant, mapped.issued_at).await?,
            permissions: mapped.permissions,
        })
    }
}

/// Tokens from an identity provider: its keys, what a token must say, and where it says it.
struct Provider {
    keys: KeySet,
    algorithms: Vec<Algorithm>,
    /// `iss`, `aud`, `exp` and `nbf` with the leeway; its algorithm is set per token.
    validation: Validation,
    claims: ClaimMapping,
    /// Each tenant slug's registered incarnation and its creation time, as looked up in the
    /// last [`INCARNATION_KEPT`].
    incarnations: Mutex<LruCache<String, (Instant, Registered)>>,
}

/// What the registry says of a slug: its incarnation's id (None before the migration that
/// gives tenants ids) and when it was created, in seconds; None if it is not registered.
type Registered = Option<(Option<TenantId>, i64)>;

/// How long a slug's incarnation is used without a look-up. A stale one fails closed: the
/// incarnation it names was deleted, and with it its schema (see `database`).
const INCARNATION_KEPT: Duration = Duration::from_secs(5);

impl Provider {
    fn new(config: &ProviderConfig) -> anyhow::Result<Provider> {
        let mut validation = Validation::new(config.algorithms[0]);
        validation.leeway = config.leeway.as_secs();
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub", "iat"];
        if let Some(issuer) = &config.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        if let Some(audience) = &config.audience {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        Ok(Provider {
            keys: KeySet::new(config)?,
            algorithms: config.algorithms.clone(),
            validation,
            claims: ClaimMapping::new(config),
            incarnations: Mutex::new(LruCache::new(10_000)),
        })
    }

    fn algorithm_names(&self) -> String {
        let names: Vec<String> = self.algorithms.iter().map(|a| format!("{a:?}")).collect();
        names.join(", ")
    }

    /// The claims of a token signed by one of the provider's keys, with an algorithm allowed
    /// and fit for that key.
    async fn verify(&self, token: &str, header: &Header) -> Result<claims::Mapped, AppError> {
        let refused = |why: &str| AppError::Unauthorized(format!("invalid bearer token: {why}"));
        if !self.algorithms.contains(&header.alg) {
            return Err(refused(&format!(
                "it is signed with {:?}; this server accepts {}",
                header.alg,
                self.algorithm_names()
            )));
        }
        let kid = header
            .kid
            .as_deref()
            .ok_or_else(|| refused("it has no `kid` header naming the key that signed it"))?;
        let key = match self.keys.key(kid).await {
            Ok(key) => key,
            Err(Missing::Unknown) => {
                return Err(refused(
                    "its key (`kid`) is not one the identity provider publishes",
                ));
            }
            Err(Missing::Unreachable) => {
                return Err(AppError::Unavailable(
                    "the identity provider's keys cannot be fetched, so the key this token \
                     names cannot be checked; try again shortly"
                        .to_owned(),
                ));
            }
        };
        if !key.verifies(header.alg) {
            return Err(refused(&format!(
                "its algorithm ({:?}) is not the one its key is for",
                header.alg
            )));
        }
        let mut validation = self.validation.clone();
        validation.algorithms = vec![header.alg];
        let claims = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token,
            &key.decoding,
            &validation,
        )
        .map_err(|e| {
            let audience = self.validation.aud.is_some();
            AppError::Unauthorized(rejected_provider_token(e.kind(), audience))
        })?
        .claims;
        self.claims.map(&claims).map_err(|why| refused(&why))
    }

    /// `tenant` bound to its incarnation registered when the token was issued: a token cannot
    /// carry the incarnation's id (the provider does not know it), so one issued before the
    /// tenant of its slug was created, for a deleted tenant of the same slug perhaps, is
    /// refused.
    async fn bind(
        &self,
        database: &Database,
        tenant: TenantSlug,
        issued_at: i64,
    ) -> Result<TenantSlug, AppError> {
        let kept = {
            let mut kept = self.incarnations.lock().unwrap_or_else(|e| e.into_inner());
            kept.get(tenant.as_str())
                .filter(|(at, _)| at.elapsed() < INCARNATION_KEPT)
                .map(|(_, registered)| *registered)
        };
        let registered = match kept {
            Some(registered) => registered,
            None => {
                let registered = database.registered(&tenant).await?;
                let mut kept = self.incarnations.lock().unwrap_or_else(|e| e.into_inner());
                kept.insert(tenant.as_str().to_owned(), (Instant::now(), registered));
                registered
            }
        };
        match registered {
            None => Err(AppError::Unauthorized(format!(
                "tenant {tenant} is not registered"
            ))),
            Some((None, _)) => Err(AppError::Unavailable(format!(
                "tenant {tenant} has no id yet: an operator must run `{} migrate`",
                env!("CARGO_PKG_NAME")
            ))),
            Some((Some(_), created)) if issued_at < created => {
                Err(AppError::Unauthorized(format!(
                    "invalid bearer token: it was issued before tenant {tenant} was created, so \
                     it may be for an earlier tenant of that name: ask for a new token"
                )))
            }
            Some((Some(id), _)) => Ok(tenant.with_id(id)),
        }
    }
}

/// Why a token's header could not be read; an unsigned token (`alg` none) is named as such.
fn rejected_header(token: &str, kind: &jsonwebtoken::errors::ErrorKind) -> String {
    let header = token.split('.').next().unwrap_or_default();
    let alg = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .and_then(|header| header.get("alg")?.as_str().map(str::to_ascii_lowercase));
    match alg.as_deref() {
        Some("none") => "invalid bearer token: it is unsigned (`alg` none), which is never \
                         accepted"
            .to_owned(),
        Some(_) => {
            "invalid bearer token: its algorithm (`alg`) is not one this server knows".to_owned()
        }
        None => rejected_token(kind),
    }
}

/// Why a provider's token was refused; as [`rejected_token`], but its signature is the
/// provider's and its claims the provider's own.
fn rejected_provider_token(kind: &jsonwebtoken::errors::ErrorKind, audience: bool) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match kind {
        // A provider serves many services, so its tokens name one; this server refuses them
        // until it is told its own.
        ErrorKind::InvalidAudience if !audience => "invalid bearer token: it names an audience \
                                                    (`aud`) and AUTH_AUDIENCE is not set: set \
                                                    it to this API's identifier at the \
                                                    identity provider"
            .to_owned(),
        ErrorKind::InvalidSignature => "invalid bearer token: its signature does not match the \
                                        identity provider's key it names"
            .to_owned(),
        ErrorKind::Json(_) => "invalid bearer token: its claims are not a JSON object".to_owned(),
        other => rejected_token(other),
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
    Database: FromRef<S>,
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
        Arc::<Keys>::from_ref(state)
            .authenticate(token.trim(), &Database::from_ref(state))
            .await
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
            user.permissions.clone(),
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

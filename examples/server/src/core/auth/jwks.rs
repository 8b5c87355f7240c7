//! An identity provider's signing keys: fetched from its JWKS (or the `jwks_uri` its OpenID
//! Connect discovery document names), kept, and fetched again when a token names a key not
//! kept or the keys grow old. Fetches are bounded in time and size, one at a time, and at most
//! one per `min_refresh`, so that tokens naming made-up keys cannot make this server hammer the
//! provider. While the provider cannot be reached, the keys kept go on serving; a token whose
//! key is not among them is answered 503, never let through.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty, LengthLimitError, Limited};
use hyper::body::Bytes;
use hyper::header::{ACCEPT, CONTENT_LENGTH, USER_AGENT};
use hyper::{Request, Uri};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use crate::core::config::{KeySource, ProviderConfig, checked_url};

/// A JWKS is a few kilobytes; a larger document is a mistake or an attack, not keys.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// One verification key of the provider, and the algorithms it may verify.
#[derive(Clone)]
pub struct Key {
    pub decoding: DecodingKey,
    /// The JWK's own `alg`, when it names one: a token must use exactly that.
    alg: Option<Algorithm>,
    family: Family,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Family {
    Rsa,
    P256,
    P384,
    Ed25519,
}

impl Key {
    /// Whether this key may verify a token signed with `alg`: its type fits the algorithm and,
    /// if the key names an algorithm, it is that one.
    pub fn verifies(&self, alg: Algorithm) -> bool {
        let family = match alg {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => Family::Rsa,
            Algorithm::ES256 => Family::P256,
            Algorithm::ES384 => Family::P384,
            Algorithm::EdDSA => Family::Ed25519,
            // HS*: a public key is no secret.
            _ => return false,
        };
        family == self.family && self.alg.is_none_or(|named| named == alg)
    }
}

/// Why no key was found for a token.
#[derive(Debug, PartialEq, Eq)]
pub enum Missing {
    /// The provider's keys, fetched, do not include it.
    Unknown,
    /// The keys could not be fetched, so whether it is the provider's is not known.
    Unreachable,
}

pub struct KeySet {
    source: KeySource,
    issuer: Option<String>,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    fetch_timeout: Duration,
    min_refresh: Duration,
    max_age: Duration,
    state: Mutex<State>,
    /// Held for the length of a fetch: requests that need one while it runs wait for its
    /// outcome instead of fetching too.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, Key>,
    /// When `keys` were fetched.
    fetched: Option<Instant>,
    /// When the last fetch began, and then when it ended, successful or not: the next waits
    /// `min_refresh` after it, so that the requests that waited for a slow fetch do not each
    /// start another.
    attempted: Option<Instant>,
    /// Why the last fetch failed; None once one succeeds.
    failure: Option<String>,
    /// The JWKS's address, from the configuration or from discovery.
    jwks_uri: Option<String>,
}

impl KeySet {
    pub fn new(config: &ProviderConfig) -> anyhow::Result<KeySet> {
        // ring has no post-quantum key exchange, which keeps secrets from being decrypted
        // later: a JWKS is public, and what TLS must give it, that it is the provider's, ring
        // gives.
        #[allow(deprecated)]
        let provider = rustls::crypto::ring::default_provider();
        let https = HttpsConnectorBuilder::new()
            .with_provider_and_platform_verifier(provider)?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(https);
        let jwks_uri = match &config.keys {
            KeySource::Jwks(url) => Some(url.clone()),
            KeySource::Discovery(_) => None,
        };
        Ok(KeySet {
            source: config.keys.clone(),
            issuer: config.issuer.clone(),
            client,
            fetch_timeout: config.fetch_timeout,
            min_refresh: config.min_refresh,
            max_age: config.max_age,
            state: Mutex::new(State {
                jwks_uri,
                ..State::default()
            }),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The key `kid` names: kept, or fetched (see the module's comment).
    pub async fn key(&self, kid: &str) -> Result<Key, Missing> {
        if let Some(key) = self.fresh(kid) {
            return Ok(key);
        }
        self.refresh(Some(kid)).await;
        let state = self.state();
        match state.keys.get(kid) {
            // Perhaps old, if the provider is down: better than refusing every token.
            Some(key) => Ok(key.clone()),
            None if state.failure.is_some() => Err(Missing::Unreachable),
            None => Err(Missing::Unknown),
        }
    }

    /// The key `kid` names, if kept and younger than `max_age`.
    fn fresh(&self, kid: &str) -> Option<Key> {
        let state = self.state();
        let key = state.keys.get(kid)?;
        state
            .fetched
            .is_some_and(|at| at.elapsed() < self.max_age)
            .then(|| key.clone())
    }

    /// Fetches the keys, unless a fetch began less than `min_refresh` ago, or the fetch this
    /// call waited for brought `needed`; one at a time.
    pub async fn refresh(&self, needed: Option<&str>) {
        let _fetching = self.fetching.lock().await;
        if needed.is_some_and(|kid| self.fresh(kid).is_some()) {
            return;
        }
        let jwks_uri = {
            let mut state = self.state();
            if state
                .attempted
                .is_some_and(|at| at.elapsed() < self.min_refresh)
            {
                return;
            }
            state.attempted = Some(Instant::now());
            state.jwks_uri.clone()
        };
        let fetched = async {
            let jwks_uri = match jwks_uri {
                Some(uri) => uri,
                None => self.discover().await?,
            };
            let keys = parse_jwks(&self.get(&jwks_uri).await?)
                .map_err(|why| format!("the JWKS at {jwks_uri} {why}"))?;
            Ok::<_, String>((jwks_uri, keys))
        }
        .await;
        let mut state = self.state();
        state.attempted = Some(Instant::now());
        match fetched {
            Ok((jwks_uri, keys)) => {
                if state.failure.is_some() {
                    tracing::info!(%jwks_uri, "the identity provider's keys are fetched again");
                }
                tracing::debug!(%jwks_uri, keys = keys.len(), "fetched the identity provider's keys");
                state.keys = keys;
                state.fetched = Some(Instant::now());
                state.failure = None;
                state.jwks_uri = Some(jwks_uri);
            }
            Err(why) => {
                tracing::error!(
                    "the identity provider's keys could not be fetched: {why}; tokens signed \
                     with keys fetched before are still accepted, others are answered 503 until \
                     a fetch succeeds (at most one every {:?})",
                    self.min_refresh
                );
                state.failure = Some(why);
            }
        }
    }

    /// The `jwks_uri` of the issuer's discovery document, which must name the same issuer.
    async fn discover(&self) -> Result<String, String> {
        #[derive(Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let KeySource::Discovery(issuer) = &self.source else {
            unreachable!("a configured JWKS address needs no discovery");
        };
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let document: Discovery = serde_json::from_slice(&self.get(&url).await?).map_err(|e| {
            format!("the discovery document at {url} has no issuer and jwks_uri: {e}")
        })?;
        if Some(&document.issuer) != self.issuer.as_ref() {
            return Err(format!(
                "the discovery document at {url} names the issuer {:?}, not AUTH_ISSUER",
                document.issuer
            ));
        }
        checked_url("its jwks_uri", &document.jwks_uri)
            .map_err(|e| format!("the discovery document at {url}: {e}"))
    }

    /// A document's bytes: a success within the timeout and at most [`MAX_DOCUMENT_BYTES`].
    async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        let uri: Uri = url.parse().map_err(|e| format!("GET {url}: {e}"))?;
        let request = Request::get(uri)
            .header(ACCEPT, "application/json")
            .header(
                USER_AGENT,
                concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::new())
            .map_err(|e| format!("GET {url}: {e}"))?;
        let too_large = || format!("GET {url}: larger than {MAX_DOCUMENT_BYTES} bytes");
        let fetch = async {
            let response = self.client.request(request).await.map_err(|e| {
                // The client's own message is "client error (Connect)"; the cause says which.
                let mut why = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    why = format!("{why}: {cause}");
                    source = cause.source();
                }
                format!("GET {url}: {why}")
            })?;
            if !response.status().is_success() {
                return Err(format!("GET {url} answered {}", response.status()));
            }
            let declared = response
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|length| length.to_str().ok()?.parse::<usize>().ok());
            if declared.is_some_and(|length| length > MAX_DOCUMENT_BYTES) {
                return Err(too_large());
            }
            // Redirects are not followed: a provider's JWKS address is where its keys are.
            let body = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<LengthLimitError>() {
                        too_large()
                    } else {
                        format!("GET {url}: {e}")
                    }
                })?;
            Ok(body.to_bytes().to_vec())
        };
        tokio::time::timeout(self.fetch_timeout, fetch)
            .await
            .map_err(|_| format!("GET {url}: no answer within {:?}", self.fetch_timeout))?
    }
}

/// The signing keys of a JWKS document, by `kid`. Keys of other uses, without a `kid`, of
/// kinds this server does not verify with, or symmetric (`oct`, which would make HS256 with a
/// published secret) are left out; a document with none left is an error.
fn parse_jwks(document: &[u8]) -> Result<HashMap<String, Key>, String> {
    #[derive(Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document = serde_json::from_slice(document)
        .map_err(|e| format!("is not a JWK set (an object with a `keys` array): {e}"))?;
    let mut keys = HashMap::new();
    for value in document.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
            continue;
        }
        let family = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Family::Rsa,
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => Family::P256,
                EllipticCurve::P384 => Family::P384,
                _ => continue,
            },
            AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
                Family::Ed25519
            }
            _ => continue,
        };
        let alg = match jwk.common.key_algorithm {
            None => None,
            Some(named) => match named.to_string().parse::<Algorithm>() {
                Ok(alg) => Some(alg),
                Err(_) => continue,
            },
        };
        let Ok(decoding) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        keys.insert(
            kid,
            Key {
                decoding,
                alg,
                family,
            },
        );
    }
    if keys.is_empty() {
        return Err(
            "has no signing key this server can use (RSA, P-256, P-384 or Ed25519, \
                    each with a `kid`)"
                .to_owned(),
        );
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_usable_signing_keys_are_kept() {
        // A P-256 public point (the generator), valid for any verifier.
        let x = "axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY";
        let y = "T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU";
        let document = json!({"keys": [
            {"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": "sig", "use": "sig", "alg": "ES256"},
            {"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": "enc", "use": "enc"},
            {"kty": "EC", "crv": "P-256", "x": x, "y": y},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "shared", "alg": "HS256"},
            {"kty": "weird", "kid": "w"},
        ]});
        let keys = parse_jwks(document.to_string().as_bytes()).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["sig"]);
        let key = &keys["sig"];
        assert!(key.verifies(Algorithm::ES256));
        for other in [Algorithm::ES384, Algorithm::RS256, Algorithm::HS256] {
            assert!(!key.verifies(other), "{other:?}");
        }
        let only_shared = json!({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]});
        let error = parse_jwks(only_shared.to_string().as_bytes())
            .err()
            .unwrap();
        assert!(error.contains("no signing key"), "{error}");
        let error = parse_jwks(b"<html>").err().unwrap();
        assert!(error.contains("is not a JWK set"), "{error}");
    }
}

//! Tokens from an identity provider: keys published as a JWKS by a local key server
//! (`testing::JwksServer`), generated here, and tokens signed with them sent to
//! `/api/harness-items` through the application, in memory and (the last test) as the real binary.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::EncodePrivateKey;
use rsa::rand_core::OsRng;
use serde_json::{Value, json};

use server::core::auth::{Keys, MAX_DOCUMENT_BYTES};
use server::core::config::Config;
use server::core::tenant::TenantSlug;
use server::testing::{self, JWT_SECRET, JwksServer, Serve, TestApp};

/// A private key of the provider's and the public JWK it publishes for it.
struct SigningKey {
    kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
    jwk: Jwk,
}

impl SigningKey {
    fn new(kid: &str, alg: Algorithm, encoding: EncodingKey) -> SigningKey {
        let mut jwk = Jwk::from_encoding_key(&encoding, alg).unwrap();
        jwk.common.key_id = Some(kid.to_owned());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        publish(&jwk);
        SigningKey {
            kid: kid.to_owned(),
            alg,
            encoding,
            jwk,
        }
    }

    /// An RSA key, made once per test process: a 2048-bit key takes a while in a debug build.
    fn rsa(kid: &str) -> SigningKey {
        let der = rsa_key().to_pkcs1_der().unwrap();
        SigningKey::new(
            kid,
            Algorithm::RS256,
            EncodingKey::from_rsa_der(der.as_bytes()),
        )
    }

    fn p256(kid: &str) -> SigningKey {
        let key = p256::SecretKey::random(&mut OsRng);
        let der = key.to_pkcs8_der().unwrap();
        SigningKey::new(
            kid,
            Algorithm::ES256,
            EncodingKey::from_ec_der(der.as_bytes()),
        )
    }

    /// Its JWK written here: jsonwebtoken derives one only from a PKCS#8 document without
    /// the public key, and ed25519-dalek writes it with.
    fn ed25519(kid: &str) -> SigningKey {
        let key = ed25519_dalek::SigningKey::generate(&mut OsRng);
        let der = key.to_pkcs8_der().unwrap();
        let jwk = json!({
            "kty": "OKP", "crv": "Ed25519", "x": b64(key.verifying_key().as_bytes()),
            "kid": kid, "use": "sig", "alg": "EdDSA",
        });
        let jwk = serde_json::from_value(jwk).unwrap();
        publish(&jwk);
        SigningKey {
            kid: kid.to_owned(),
            alg: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            jwk,
        }
    }

    /// `claims` signed with this key, its `kid` in the header.
    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

/// The public key material of every key made, which no answer may show.
static PUBLISHED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn publish(jwk: &Jwk) {
    use jsonwebtoken::jwk::AlgorithmParameters;
    let material = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => vec![rsa.n.clone()],
        AlgorithmParameters::EllipticCurve(ec) => vec![ec.x.clone(), ec.y.clone()],
        AlgorithmParameters::OctetKeyPair(okp) => vec![okp.x.clone()],
        _ => vec![],
    };
    PUBLISHED.lock().unwrap().extend(material);
}

fn rsa_key() -> &'static rsa::RsaPrivateKey {
    static KEY: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| rsa::RsaPrivateKey::new(&mut OsRng, 2048).unwrap())
}

/// The JWKS document publishing `keys`.
fn jwks(keys: &[&SigningKey]) -> Serve {
    let set = JwkSet {
        keys: keys.iter().map(|key| key.jwk.clone()).collect(),
    };
    Serve::Document(serde_json::to_string(&set).unwrap())
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

const ISSUER: &str = "https://id.example/realms/acme";
const AUDIENCE: &str = "projects-api";

/// Claims as the provider of these tests issues them: for `tenant`, with both harness
/// permissions, issued now and for ten minutes.
fn claims(tenant: &TenantSlug) -> Value {
    json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "tenant": tenant.as_str(),
        "permissions": ["harness:read", "harness:write"],
        "iat": now(), "exp": now() + 600,
    })
}

/// The configuration `serve` would read: the key server's JWKS, the issuer and audience,
/// a cursor secret instead of `JWT_SECRET`, and `extra`.
fn config(provider: &JwksServer, extra: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = [
        ("AUTH_JWKS_URL", provider.jwks_url()),
        ("AUTH_ISSUER", ISSUER.to_owned()),
        ("AUTH_AUDIENCE", AUDIENCE.to_owned()),
        (
            "CURSOR_SECRET",
            "a-cursor-secret-of-32-bytes-or-more".to_owned(),
        ),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    for (name, value) in extra {
        vars.insert(name.to_string(), value.to_string());
    }
    Config::from_vars(|name| vars.get(name).cloned()).unwrap()
}

/// The application with the keys `serve` would build from `config`, and a tenant.
async fn start(config: &Config) -> (TestApp, TenantSlug) {
    let app = TestApp::with_keys(Keys::for_server(config).await.unwrap()).await;
    let tenant = app.new_tenant().await;
    (app, tenant)
}

/// `GET /api/harness-items` with `token`: its status and problem detail (empty when none).
async fn list(app: &TestApp, token: &str) -> (StatusCode, String) {
    let response = app
        .client_with_token(Some(token.to_owned()))
        .get("/api/harness-items")
        .await;
    let detail = response.body["detail"].as_str().unwrap_or("").to_owned();
    (response.status, detail)
}

/// Refused with `status`, the detail containing `why`, and no key material in it.
#[track_caller]
fn assert_refused((status, detail): (StatusCode, String), expected: StatusCode, why: &str) {
    assert_eq!(status, expected, "{detail}");
    assert!(detail.contains(why), "expected {why:?} in: {detail}");
    let published = PUBLISHED.lock().unwrap();
    let leaked = published
        .iter()
        .find(|material| detail.contains(&material[..16]));
    assert!(
        leaked.is_none() && !detail.contains("BEGIN"),
        "key material in: {detail}"
    );
}

#[tokio::test]
async fn rs256_es256_and_eddsa_tokens_from_the_provider_reach_the_api() {
    let (rsa, ec, ed) = (
        SigningKey::rsa("rsa-1"),
        SigningKey::p256("ec-1"),
        SigningKey::ed25519("ed-1"),
    );
    let provider = JwksServer::start(jwks(&[&rsa, &ec, &ed])).await;
    let (app, tenant) = start(&config(&provider, &[])).await;
    for key in [&rsa, &ec, &ed] {
        let (status, detail) = list(&app, &key.sign(&claims(&tenant))).await;
        assert_eq!(status, StatusCode::OK, "{:?}: {detail}", key.alg);
    }
    // The permissions come from the token: without harness:read, 403.
    let mut reader_less = claims(&tenant);
    reader_less["permissions"] = json!(["harness:write"]);
    assert_refused(
        list(&app, &rsa.sign(&reader_less)).await,
        StatusCode::FORBIDDEN,
        "requires the harness:read permission",
    );
    // Fetched once, at start: every key was known from then on.
    assert_eq!(provider.jwks_fetches(), 1);
}

#[tokio::test]
async fn wrong_issuer_audience_expired_or_premature_tokens_are_refused() {
    let key = SigningKey::p256("ec-1");
    let provider = JwksServer::start(jwks(&[&key])).await;
    let (app, tenant) = start(&config(&provider, &[("AUTH_LEEWAY", "30s")])).await;
    let with = |name: &str, value: Value| {
        let mut claims = claims(&tenant);
        claims[name] = value;
        key.sign(&claims)
    };
    let without = |name: &str| {
        let mut claims = claims(&tenant);
        claims.as_object_mut().unwrap().remove(name);
        key.sign(&claims)
    };
    for (token, why) in [
        (
            with("iss", json!("https://evil.example")),
            "another issuer (`iss`)",
        ),
        (
            with("aud", json!("billing")),
            "meant for another service (`aud`)",
        ),
        (without("aud"), "it has no `aud` claim"),
        (with("exp", json!(now() - 120)), "it has expired"),
        (with("nbf", json!(now() + 120)), "it is not valid yet"),
        (without("iat"), "it has no `iat` claim"),
        (without("tenant"), "it has no `tenant` claim"),
        (with("tenant", json!("Not A Slug")), "invalid tenant slug"),
        (
            with("tenant", json!("no_such_tenant")),
            "tenant no_such_tenant is not registered",
        ),
        (with("iat", json!(now() - 3600)), "issued before tenant"),
    ] {
        assert_refused(list(&app, &token).await, StatusCode::UNAUTHORIZED, why);
    }
    // Within the leeway, a token just expired is still accepted.
    assert_eq!(
        list(&app, &with("exp", json!(now() - 5))).await.0,
        StatusCode::OK
    );
}

/// The classic attack: a token signed with HS256, using the provider's public key as the
/// "secret", and a `kid` naming that key. Refused whether or not HS256 is accepted for
/// development beside the provider; so are unsigned tokens and tokens whose `alg` does not
/// fit the key they name.
#[tokio::test]
async fn algorithm_confusion_and_unsigned_tokens_are_refused() {
    let (rsa, ec) = (SigningKey::rsa("rsa-1"), SigningKey::p256("ec-1"));
    let provider = JwksServer::start(jwks(&[&rsa, &ec])).await;
    let public_pem = rsa_key()
        .to_public_key()
        .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
        .unwrap();
    let confused = |tenant: &TenantSlug| {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("rsa-1".to_owned());
        let secret = EncodingKey::from_secret(public_pem.as_bytes());
        jsonwebtoken::encode(&header, &claims(tenant), &secret).unwrap()
    };
    let provider_only = config(&provider, &[]);
    let (app, tenant) = start(&provider_only).await;
    assert_refused(
        list(&app, &confused(&tenant)).await,
        StatusCode::UNAUTHORIZED,
        "signed with HS256, a shared secret",
    );
    // A token minted with the cursor secret, which signs nothing else, is refused as well.
    let minted = Keys::new("a-cursor-secret-of-32-bytes-or-more").mint(
        &tenant,
        "alice",
        &["harness:read".to_owned()],
        Duration::from_secs(60),
    );
    assert_refused(
        list(&app, &minted).await,
        StatusCode::UNAUTHORIZED,
        "signed with HS256, a shared secret",
    );

    // An ES256 token naming the RSA key, and an RS256 one naming the P-256 key.
    let mut as_es256 = ec.sign(&claims(&tenant));
    let (_, rest) = as_es256.split_once('.').unwrap();
    let header = json!({"alg": "ES256", "kid": "rsa-1", "typ": "JWT"}).to_string();
    as_es256 = format!("{}.{rest}", b64(header.as_bytes()));
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("ec-1".to_owned());
    let as_rs256 = jsonwebtoken::encode(&header, &claims(&tenant), &rsa.encoding).unwrap();
    for token in [as_es256, as_rs256] {
        assert_refused(
            list(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "is not the one its key is for",
        );
    }

    // Unsigned: `alg` none, no signature.
    let payload = b64(claims(&tenant).to_string().as_bytes());
    let unsigned = format!("{}.{payload}.", b64(br#"{"alg":"none","kid":"rsa-1"}"#));
    assert_refused(
        list(&app, &unsigned).await,
        StatusCode::UNAUTHORIZED,
        "it is unsigned (`alg` none)",
    );
    // An ES256 token with its signature from another P-256 key.
    let impostor = SigningKey::p256("ec-1").sign(&claims(&tenant));
    assert_refused(
        list(&app, &impostor).await,
        StatusCode::UNAUTHORIZED,
        "its signature does not match the identity provider's key",
    );
    // An algorithm not among AUTH_ALGORITHMS.
    let (only_rsa, tenant_2) = start(&config(&provider, &[("AUTH_ALGORITHMS", "RS256")])).await;
    assert_refused(
        list(&only_rsa, &ec.sign(&claims(&tenant_2))).await,
        StatusCode::UNAUTHORIZED,
        "it is signed with ES256; this server accepts RS256",
    );

    // With JWT_SECRET set for development, HS256 tokens are verified with it: the public key
    // is not it.
    let development = config(&provider, &[("JWT_SECRET", JWT_SECRET)]);
    let (app, tenant) = start(&development).await;
    assert_refused(
        list(&app, &confused(&tenant)).await,
        StatusCode::UNAUTHORIZED,
        "its signature does not match",
    );
    assert_eq!(
        list(&app, &app.token(&tenant, &["harness:read"])).await.0,
        StatusCode::OK
    );
    assert_eq!(
        list(&app, &rsa.sign(&claims(&tenant))).await.0,
        StatusCode::OK
    );
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A token naming a key the server does not have makes it fetch the keys again, at most once
/// every AUTH_JWKS_MIN_REFRESH: a rotated key is found; a withdrawn one stops serving.
#[tokio::test]
async fn an_unknown_kid_fetches_the_keys_again_and_finds_the_rotated_key() {
    let (old, new) = (SigningKey::p256("2024"), SigningKey::p256("2025"));
    let provider = JwksServer::start(jwks(&[&old])).await;
    let config = config(&provider, &[("AUTH_JWKS_MIN_REFRESH", "300ms")]);
    let (app, tenant) = start(&config).await;
    assert_eq!(
        list(&app, &old.sign(&claims(&tenant))).await.0,
        StatusCode::OK
    );
    assert_eq!(provider.jwks_fetches(), 1);

    tokio::time::sleep(Duration::from_millis(400)).await;
    // Not published yet: fetched once more, still unknown.
    assert_refused(
        list(&app, &new.sign(&claims(&tenant))).await,
        StatusCode::UNAUTHORIZED,
        "its key (`kid`) is not one the identity provider publishes",
    );
    assert_eq!(provider.jwks_fetches(), 2);

    // The provider rotates. Within AUTH_JWKS_MIN_REFRESH of the last fetch there is no other.
    provider.serve(jwks(&[&new]));
    assert_eq!(
        list(&app, &new.sign(&claims(&tenant))).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(provider.jwks_fetches(), 2);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        list(&app, &new.sign(&claims(&tenant))).await.0,
        StatusCode::OK
    );
    assert_eq!(provider.jwks_fetches(), 3);
    // The old key, withdrawn, no longer serves.
    assert_refused(
        list(&app, &old.sign(&claims(&tenant))).await,
        StatusCode::UNAUTHORIZED,
        "is not one the identity provider publishes",
    );
}

/// Many tokens naming made-up keys at once make one fetch, not one each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unknown_kids_makes_one_fetch() {
    let key = SigningKey::p256("real");
    let provider = JwksServer::start(jwks(&[&key])).await;
    let config = config(&provider, &[("AUTH_JWKS_MIN_REFRESH", "2s")]);
    let (app, tenant) = start(&config).await;
    let forged: Vec<String> = (0..40)
        .map(|i| SigningKey::p256(&format!("made-up-{i}")).sign(&claims(&tenant)))
        .collect();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let requests: Vec<_> = forged
        .iter()
        .map(|token| {
            let client = app.client_with_token(Some(token.clone()));
            tokio::spawn(async move { client.get("/api/harness-items").await })
        })
        .collect();
    for request in requests {
        let response = request.await.unwrap();
        let detail = response.body["detail"].as_str().unwrap_or("").to_owned();
        assert_refused(
            (response.status, detail),
            StatusCode::UNAUTHORIZED,
            "its key (`kid`) is not one",
        );
    }
    assert_eq!(
        provider.jwks_fetches(),
        2,
        "one at start, one for the flood"
    );
    assert_eq!(list(&app, &forged[0]).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(provider.jwks_fetches(), 2);
}

/// Requests that need a fetch while one runs wait for it rather than give up: a rotated key
/// that several requests bring at once is found by all of them, with one fetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_arrive_during_a_fetch_wait_for_it() {
    let (old, new) = (SigningKey::p256("old"), SigningKey::p256("new"));
    let provider = JwksServer::start(jwks(&[&old])).await;
    let config = config(&provider, &[("AUTH_JWKS_MIN_REFRESH", "300ms")]);
    let (app, tenant) = start(&config).await;
    let Serve::Document(rotated) = jwks(&[&old, &new]) else {
        unreachable!()
    };
    provider.serve(Serve::Slow(500, rotated));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let requests: Vec<_> = (0..8)
        .map(|_| {
            let client = app.client_with_token(Some(new.sign(&claims(&tenant))));
            tokio::spawn(async move { client.get("/api/harness-items").await.status })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(provider.jwks_fetches(), 2);
}

/// Down at start: the server starts, and a token is answered 503 (never let through) until
/// the provider answers. Down later: keys fetched before go on serving, even once old;
/// a token naming another key is answered 503.
#[tokio::test]
async fn the_provider_down_at_start_or_later_means_503_for_keys_not_known() {
    let key = SigningKey::p256("k1");
    let provider = JwksServer::start(Serve::Down).await;
    let config = config(
        &provider,
        &[
            ("AUTH_JWKS_MIN_REFRESH", "300ms"),
            ("AUTH_JWKS_MAX_AGE", "1s"),
        ],
    );
    let (app, tenant) = start(&config).await;
    assert_eq!(provider.jwks_fetches(), 1);
    assert_refused(
        list(&app, &key.sign(&claims(&tenant))).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "the identity provider's keys cannot be fetched",
    );

    provider.serve(jwks(&[&key]));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        list(&app, &key.sign(&claims(&tenant))).await.0,
        StatusCode::OK
    );

    provider.serve(Serve::Down);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fetches = provider.jwks_fetches();
    // Older than AUTH_JWKS_MAX_AGE: fetched again, which fails; the key still serves.
    assert_eq!(
        list(&app, &key.sign(&claims(&tenant))).await.0,
        StatusCode::OK
    );
    assert_eq!(provider.jwks_fetches(), fetches + 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_refused(
        list(&app, &SigningKey::p256("k2").sign(&claims(&tenant))).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "cannot be fetched",
    );
}

/// A JWKS that is too large (declared or not), not JSON, not a key set, or with no key this
/// server can use is not taken: tokens are answered 503, as when the provider is down, and a
/// fetch that hangs ends at AUTH_JWKS_TIMEOUT.
#[tokio::test]
async fn oversize_malformed_or_hanging_jwks_documents_are_not_taken() {
    let key = SigningKey::p256("k1");
    let Serve::Document(good) = jwks(&[&key]) else {
        unreachable!()
    };
    let mut padded: Value = serde_json::from_str(&good).unwrap();
    padded["padding"] = json!("x".repeat(MAX_DOCUMENT_BYTES));
    let padded = padded.to_string();
    let cases = [
        ("oversize", Serve::Document(padded.clone())),
        ("oversize, no Content-Length", Serve::Unsized(padded)),
        ("not JSON", Serve::Document("<html>login</html>".to_owned())),
        (
            "no key array",
            Serve::Document(r#"{"keys": "none"}"#.to_owned()),
        ),
        (
            "only a symmetric key",
            Serve::Document(
                r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "k1"}]}"#.to_owned(),
            ),
        ),
        ("no answer", Serve::Hang),
    ];
    for (case, serve) in cases {
        let provider = JwksServer::start(serve).await;
        let config = config(&provider, &[("AUTH_JWKS_TIMEOUT", "300ms")]);
        let (app, tenant) = start(&config).await;
        let answer = list(&app, &key.sign(&claims(&tenant))).await;
        assert_eq!(
            answer.0,
            StatusCode::SERVICE_UNAVAILABLE,
            "{case}: {}",
            answer.1
        );
        assert_refused(answer, StatusCode::SERVICE_UNAVAILABLE, "cannot be fetched");
    }
    // The same key, in a document of the right size, serves.
    let provider = JwksServer::start(Serve::Unsized(good)).await;
    let (app, tenant) = start(&config(&provider, &[])).await;
    assert_eq!(
        list(&app, &key.sign(&claims(&tenant))).await.0,
        StatusCode::OK
    );
}

/// With AUTH_ISSUER alone, the keys are found through the issuer's discovery document, which
/// must name that issuer.
#[tokio::test]
async fn the_keys_are_discovered_from_the_issuer() {
    let key = SigningKey::ed25519("ed");
    let provider = JwksServer::start(jwks(&[&key])).await;
    let issuer = provider.issuer().to_owned();
    let vars = |issuer: &str| -> Config {
        let vars: HashMap<&str, String> = HashMap::from([
            ("AUTH_ISSUER", issuer.to_owned()),
            (
                "CURSOR_SECRET",
                "a-cursor-secret-of-32-bytes-or-more".to_owned(),
            ),
        ]);
        Config::from_vars(|name| vars.get(name).cloned()).unwrap()
    };
    let (app, tenant) = start(&vars(&issuer)).await;
    let mut claims = claims(&tenant);
    claims["iss"] = json!(issuer);
    // AUTH_AUDIENCE is not set: a token naming an audience is refused, and told why.
    assert_refused(
        list(&app, &key.sign(&claims)).await,
        StatusCode::UNAUTHORIZED,
        "AUTH_AUDIENCE is not set",
    );
    claims.as_object_mut().unwrap().remove("aud");
    assert_eq!(list(&app, &key.sign(&claims)).await.0, StatusCode::OK);
    assert_eq!(
        (provider.discovery_fetches(), provider.jwks_fetches()),
        (1, 1)
    );

    // A discovery document for another issuer is not followed.
    provider.serve_discovery(Serve::Document(
        json!({"issuer": "https://evil.example", "jwks_uri": provider.jwks_url()}).to_string(),
    ));
    let (app, tenant) = start(&vars(&issuer)).await;
    let mut claims_2 = claims.clone();
    claims_2["tenant"] = json!(tenant.as_str());
    assert_refused(
        list(&app, &key.sign(&claims_2)).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "cannot be fetched",
    );
    assert_eq!(provider.jwks_fetches(), 1);
}

/// The tenant and permissions where a provider puts them: a namespaced tenant claim, the
/// `scope` string, and roles in a nested claim mapped by AUTH_ROLE_PERMISSIONS.
#[tokio::test]
async fn the_tenant_and_permissions_come_from_the_configured_claims() {
    let key = SigningKey::p256("k");
    let provider = JwksServer::start(jwks(&[&key])).await;
    let config = config(
        &provider,
        &[
            ("AUTH_TENANT_CLAIM", "https://projects.example/tenant"),
            ("AUTH_PERMISSIONS_CLAIM", "scope"),
            ("AUTH_ROLES_CLAIM", "realm_access.roles"),
            (
                "AUTH_ROLE_PERMISSIONS",
                "editor=harness:read harness:write; auditor=harness:read",
            ),
        ],
    );
    let (app, tenant) = start(&config).await;
    let token = |scope: &str, roles: Value| {
        let mut claims = claims(&tenant);
        let object = claims.as_object_mut().unwrap();
        object.remove("tenant");
        object.remove("permissions");
        object.insert(
            "https://projects.example/tenant".into(),
            json!(tenant.as_str()),
        );
        object.insert("scope".into(), json!(scope));
        object.insert("realm_access".into(), json!({ "roles": roles }));
        key.sign(&claims)
    };
    assert_eq!(
        list(&app, &token("openid harness:read", json!([]))).await.0,
        StatusCode::OK
    );
    assert_eq!(
        list(&app, &token("openid", json!(["auditor"]))).await.0,
        StatusCode::OK
    );
    assert_refused(
        list(
            &app,
            &token("openid harness:write", json!(["offline_access"])),
        )
        .await,
        StatusCode::FORBIDDEN,
        "requires the harness:read permission",
    );
    // The claim named `tenant` is not the tenant's any more.
    assert_refused(
        list(&app, &key.sign(&claims(&tenant))).await,
        StatusCode::UNAUTHORIZED,
        "it has no `https://projects.example/tenant` claim",
    );
}

/// `server token` mints HS256 tokens: beside a provider, without `JWT_SECRET`, the server
/// would refuse them, and the command says so instead of minting one.
#[test]
fn server_token_says_when_the_server_takes_only_the_providers_tokens() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["token", "--tenant", "acme", "--user", "alice"])
        .env("AUTH_JWKS_URL", "https://id.example/jwks.json")
        .env("CURSOR_SECRET", "a-cursor-secret-of-32-bytes-or-more")
        .env_remove("JWT_SECRET")
        .env_remove("APP_ENV")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("the server accepts no token this command could mint"),
        "{stderr}"
    );
}

/// The real binary, configured from the environment, with the provider down when it starts:
/// it says so in its log, answers 503, and serves the provider's tokens once it is back.
#[tokio::test]
async fn the_binary_takes_tokens_from_the_provider() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    let key = SigningKey::rsa("rsa-bin");
    let provider = JwksServer::start(Serve::Down).await;
    let tenant = TestApp::new().await.new_tenant().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("serve")
        .env("DATABASE_URL", testing::database_url())
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env("AUTH_JWKS_URL", provider.jwks_url())
        .env("AUTH_ISSUER", ISSUER)
        .env("AUTH_AUDIENCE", AUDIENCE)
        .env("AUTH_JWKS_MIN_REFRESH", "200ms")
        .env("CURSOR_SECRET", "a-cursor-secret-of-32-bytes-or-more")
        .env_remove("JWT_SECRET")
        .env_remove("APP_ENV")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, log) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines.send(line);
        }
    });
    let mut seen = Vec::new();
    let address = loop {
        let line = match log.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not listen:\n{}", seen.join("\n"));
            }
        };
        if let Some((_, rest)) = line.split_once("addr=") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
        seen.push(line);
    };
    let log_so_far = seen.join("\n");
    let base = format!("http://{address}/api/harness-items");
    let get = |token: String| {
        let base = base.clone();
        async move {
            let response = reqwest::Client::new()
                .get(&base)
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body["detail"].as_str().unwrap_or("").to_owned())
        }
    };
    let down = get(key.sign(&claims(&tenant))).await;
    provider.serve(jwks(&[&key]));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let up = get(key.sign(&claims(&tenant))).await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        log_so_far.contains("the identity provider's keys could not be fetched"),
        "{log_so_far}"
    );
    assert_eq!(down.0, 503, "{}", down.1);
    assert!(down.1.contains("cannot be fetched"), "{}", down.1);
    assert_eq!(up.0, 200, "{}", up.1);
}

//! The application in memory ([`TestApp`]), on the test database, and a [`Client`] that sends
//! it requests with a token for a fresh tenant; helpers that build queries and bodies.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;

use super::provision::{database_url, run_tag};
use crate::app::{AppState, app};
use crate::core::auth::{Authorized, Keys, Permission};
use crate::core::config::{Limits, WritePolicy};
use crate::core::database::{self, Database};
use crate::core::migrations;
use crate::core::pool::Pooled;
use crate::core::registry;
use crate::core::tenant::{TenantId, TenantSlug};

pub const JWT_SECRET: &str = "test-secret-at-least-32-bytes-long";

/// A spawned request that is cancelled when the test stops waiting for it, as a client that
/// goes away would cancel it.
struct CancelOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> CancelOnDrop<T> {
    async fn wait(mut self) -> T {
        (&mut self.0).await.expect("the request's task panicked")
    }
}

impl<T> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `name=value&...`, percent-encoded, for a list's query string.
pub fn query(params: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(params).expect("pairs of strings encode")
}

/// A JSON value as a query parameter carries it: a string as it is, anything else as JSON.
pub fn param(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The `id`s of a list page's items, in order.
pub fn ids(page: &Value) -> Vec<Value> {
    page["items"]
        .as_array()
        .expect("a page has items")
        .iter()
        .map(|item| item["id"].clone())
        .collect()
}

/// A JSON object of `fields`, in their order. Generated tests build bodies with it rather
/// than one `json!` literal, whose macro recursion a module of 40 fields would exceed.
pub fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
    )
}

/// The application on a small pool, with the public migrations applied.
pub struct TestApp {
    pub state: AppState,
    pool: PgPool,
    database: Database,
    router: Router,
    /// The last of [`Client::unique`]'s numbers, shared by the clients of every tenant.
    drawn: Arc<AtomicI64>,
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::with_pool_size(4).await
    }

    pub async fn with_pool_size(pool_size: u32) -> TestApp {
        TestApp::with_limits(Limits {
            pool_size,
            // Tests run many at once on a busy machine: waits longer than a server's.
            acquire_timeout: Duration::from_secs(10),
            ..Limits::default()
        })
        .await
    }

    /// The application with other bounds: a small pool, short timeouts.
    pub async fn with_limits(limits: Limits) -> TestApp {
        // Once per process: every test shares the database, and the tenant registry only
        // needs creating once.
        static PUBLIC_MIGRATED: AtomicBool = AtomicBool::new(false);
        let needed = !PUBLIC_MIGRATED.load(Ordering::Acquire);
        let app = TestApp::on_database(database_url(), limits, needed).await;
        PUBLIC_MIGRATED.store(true, Ordering::Release);
        app
    }

    /// The application verifying tokens with `keys` (an identity provider's, say).
    pub async fn with_keys(keys: Keys) -> TestApp {
        let mut test = TestApp::new().await;
        test.state = AppState::new(
            test.database.clone(),
            Arc::new(keys),
            Limits::default().max_in_flight,
        );
        test.router = app(test.state.clone());
        test
    }

    /// The application with another write policy (`REQUIRE_IF_MATCH`, retention).
    pub fn with_writes(mut self, writes: WritePolicy) -> TestApp {
        self.state = self.state.with_writes(writes);
        self.router = app(self.state.clone());
        self
    }

    /// The application on the database at `url` (say, a
    /// [`DedicatedPostgres`](super::postgres::DedicatedPostgres)'s).
    pub async fn on_database(url: &str, limits: Limits, migrate_public: bool) -> TestApp {
        // Its own size: a test holds locks on it while it checks what waits for them.
        let pool = database::connect(url, 4)
            .await
            .expect("connect to the test database");
        if migrate_public {
            migrations::run_public(&pool)
                .await
                .expect("public migrations");
        }
        let database = Database::new(url, limits).expect("a valid database URL");
        let state = AppState::new(
            database.clone(),
            Arc::new(Keys::new(JWT_SECRET)),
            limits.max_in_flight,
        );
        TestApp {
            router: app(state.clone()),
            state,
            pool,
            database,
            drawn: Arc::default(),
        }
    }

    /// The schema of `tenant`, for tests that run a command of the server on it.
    pub async fn schema(&self, tenant: &TenantSlug) -> String {
        sqlx::query_scalar("SELECT schema_name FROM public.tenants WHERE slug = $1")
            .bind(tenant.as_str())
            .fetch_one(&self.pool)
            .await
            .expect("a registered tenant")
    }

    /// What a handler requiring `P` gets for a request with `client`'s token: for tests that
    /// call a service function no route calls (a module's `verify_<secret>`).
    pub async fn authorize<P: Permission>(&self, client: &Client) -> Authorized<P> {
        let token = client.token.as_deref().expect("a client with a token");
        let request = Request::builder()
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(())
            .unwrap();
        let (mut parts, ()) = request.into_parts();
        <Authorized<P> as axum::extract::FromRequestParts<AppState>>::from_request_parts(
            &mut parts,
            &self.state,
        )
        .await
        .expect("the token is valid and holds the permission")
    }

    /// `column` (as SQL writes it) of the row `id` of `table` in `client`'s tenant, as stored,
    /// in JSON (`to_jsonb`): for write-only fields and secrets' hashes, which no response shows.
    pub async fn stored(&self, client: &Client, table: &str, column: &str, id: &Value) -> Value {
        let tenant = client.tenant.as_ref().expect("a client of a tenant");
        let schema = self.schema(tenant).await;
        let sql =
            format!("SELECT to_jsonb({column}) FROM \"{schema}\".{table} WHERE id = $1::uuid");
        let value: Option<Value> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str().expect("an id"))
            .fetch_one(&self.pool)
            .await
            .expect("the row exists");
        value.unwrap_or(Value::Null)
    }

    /// A connection of the application's own pool, for tests that look at what requests leave
    /// on their connections.
    pub async fn app_connection(&self) -> Pooled {
        self.database.connection_for_tests().await.unwrap()
    }

    /// A pool of the test's own, beside the application's: for setting tenants up and for
    /// holding locks the application must wait for.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Registers a new tenant with a unique slug and migrates its schema; the slug comes
    /// bound to the tenant's id, which the tokens minted for it carry.
    pub async fn new_tenant(&self) -> TenantSlug {
        let slug = format!("t_{}_{}", run_tag(), uuid::Uuid::new_v4().simple());
        let slug = TenantSlug::parse(&slug).unwrap();
        let row = registry::create(self.pool(), &slug)
            .await
            .expect("create test tenant");
        #[cfg(feature = "harness")]
        super::harness::create_table(self.pool(), &row.schema)
            .await
            .expect("create the harness's table");
        row.tenant().expect("a registered tenant")
    }

    pub fn token(&self, tenant: &TenantSlug, permissions: &[&str]) -> String {
        test_token(&self.state.keys, tenant, permissions)
    }

    /// A client for a fresh tenant, holding a token with `permissions`.
    pub async fn client(&self, permissions: &[&str]) -> Client {
        let tenant = self.new_tenant().await;
        self.client_for(&tenant, permissions)
    }

    pub fn client_for(&self, tenant: &TenantSlug, permissions: &[&str]) -> Client {
        Client {
            tenant: Some(tenant.clone()),
            ..self.client_with_token(Some(self.token(tenant, permissions)))
        }
    }

    /// A client that sends `token` as it is, or no token at all.
    pub fn client_with_token(&self, token: Option<String>) -> Client {
        Client {
            router: self.router.clone(),
            keys: self.state.keys.clone(),
            tenant: None,
            token,
            drawn: self.drawn.clone(),
        }
    }
}

/// The user of every client's token, unless [`Client::as_user`] says otherwise.
pub const TEST_USER: &str = "test-user";

/// A token for [`TEST_USER`], valid for longer than any test runs.
fn test_token(keys: &Keys, tenant: &TenantSlug, permissions: &[&str]) -> String {
    user_token(keys, tenant, TEST_USER, permissions)
}

/// A token for `user`. A slug bound to no tenant id (one that `TenantSlug::parse` made, for a
/// tenant never created) gets an id no tenant has, so that its requests are refused where a
/// deleted tenant's are: in the registry.
fn user_token(keys: &Keys, tenant: &TenantSlug, user: &str, permissions: &[&str]) -> String {
    let permissions: Vec<String> = permissions.iter().map(|p| p.to_string()).collect();
    let tenant = match tenant.id() {
        Some(_) => tenant.clone(),
        None => tenant.clone().with_id(TenantId::from(uuid::Uuid::new_v4())),
    };
    keys.mint(&tenant, user, &permissions, Duration::from_secs(600))
}

/// Sends requests to the in-memory app with an optional bearer token.
#[derive(Clone)]
pub struct Client {
    router: Router,
    keys: Arc<Keys>,
    tenant: Option<TenantSlug>,
    token: Option<String>,
    drawn: Arc<AtomicI64>,
}

impl Client {
    /// A number that no other call in this test returns, for values of unique columns.
    /// Counted per [`TestApp`], whose tenants are the test's own: tests running in parallel
    /// never make a test's values collide, even in a `string(1)`, and no two of a test's
    /// tenants draw the same value (short of what a `string(N)` can hold), so a `--key` in one
    /// does not name a row in another.
    pub fn unique(&self) -> i64 {
        self.drawn.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// `<prefix>-<unique number in base 36>`, cut from the front to at most `max_chars` so
    /// that the distinguishing digits survive: 36 distinct values even in one character.
    pub fn unique_string(&self, prefix: &str, max_chars: usize) -> String {
        let mut n = self.unique().unsigned_abs();
        let mut digits = Vec::new();
        while n > 0 {
            digits.push(char::from_digit((n % 36) as u32, 36).expect("a base-36 digit"));
            n /= 36;
        }
        let value: String = format!("{prefix}-")
            .chars()
            .chain(digits.into_iter().rev())
            .collect();
        let extra = value.chars().count().saturating_sub(max_chars);
        value.chars().skip(extra).collect()
    }

    /// A date unique in this client's tenant, as JSON carries it: `2024-01-02`.
    pub fn unique_date(&self) -> String {
        let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        (start + chrono::Days::new(self.unique().unsigned_abs())).to_string()
    }

    /// A timestamp unique in this client's tenant, as JSON carries it.
    pub fn unique_datetime(&self) -> String {
        let start = chrono::DateTime::from_timestamp(1_704_067_200, 0).unwrap();
        (start + chrono::Duration::seconds(self.unique()))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    }

    /// A client for the same tenant with other permissions: tests use it to create the rows
    /// that a body refers to in other modules.
    pub fn with_permissions(&self, permissions: &[&str]) -> Client {
        let tenant = self.tenant.as_ref().expect("a client made for a tenant");
        Client {
            token: Some(test_token(&self.keys, tenant, permissions)),
            ..self.clone()
        }
    }

    /// Another user of the same tenant, with `permissions`: for the owner and private rules.
    pub fn as_user(&self, user: &str, permissions: &[&str]) -> Client {
        let tenant = self.tenant.as_ref().expect("a client made for a tenant");
        Client {
            token: Some(user_token(&self.keys, tenant, user, permissions)),
            ..self.clone()
        }
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.send(Method::GET, uri, None).await
    }

    pub async fn post(&self, uri: &str, body: &Value) -> TestResponse {
        self.send(Method::POST, uri, Some(body.to_string())).await
    }

    pub async fn patch(&self, uri: &str, body: &Value) -> TestResponse {
        self.send(Method::PATCH, uri, Some(body.to_string())).await
    }

    pub async fn put(&self, uri: &str, body: &Value) -> TestResponse {
        self.send(Method::PUT, uri, Some(body.to_string())).await
    }

    pub async fn delete(&self, uri: &str) -> TestResponse {
        self.send(Method::DELETE, uri, None).await
    }

    /// A request with headers of its own: `If-Match`, `Idempotency-Key`.
    pub async fn send_with(
        &self,
        method: Method,
        uri: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let json = body.map(Value::to_string);
        self.send_raw(method, uri, json, headers).await
    }

    /// A request with a raw JSON body, for bodies that are not valid JSON.
    pub async fn send(&self, method: Method, uri: &str, json: Option<String>) -> TestResponse {
        self.send_raw(method, uri, json, &[]).await
    }

    async fn send_raw(
        &self,
        method: Method,
        uri: &str,
        json: Option<String>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(token) = &self.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match json {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json)
            }
            None => Body::empty(),
        };
        // The server's side runs as a task of its own, as under hyper, so its futures are polled
        // from the bottom of the runtime's stack, not beneath the test's: a debug build's deep
        // stack of a test calling helpers that create rows (samples whose refs need samples of
        // their own) overflowed. Dropping this future still cancels the request.
        let server = tokio::spawn(self.router.clone().oneshot(request.body(body).unwrap()));
        let response = CancelOnDrop(server).wait().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        TestResponse {
            status,
            headers,
            body,
        }
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    /// Panics with the body when the status is not `expected`, so failures explain themselves.
    #[track_caller]
    pub fn expect(self, expected: StatusCode) -> Value {
        assert_eq!(
            self.status, expected,
            "unexpected status; body: {:#}",
            self.body
        );
        self.body
    }

    /// Checks that this is a problem document with `expected` status.
    #[track_caller]
    pub fn expect_problem(self, expected: StatusCode) -> Value {
        let content_type = self.headers.get(header::CONTENT_TYPE).cloned();
        let body = self.expect(expected);
        assert_eq!(
            content_type.as_ref().and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        assert_eq!(body["status"], expected.as_u16());
        body
    }
}

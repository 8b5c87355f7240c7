//! Test support, shared by every module's `tests.rs` and by `tests/`: a real PostgreSQL, a fresh
//! tenant per test (multi-tenancy gives test isolation for free), and a client that drives
//! `app()` in memory.
//!
//! The database is `DATABASE_URL` when set. Otherwise a throwaway PostgreSQL is started from
//! the machine's own binaries (through `runuser -u postgres` when running as root) and stopped
//! when the test process exits. With neither, tests fail with a message saying what to install.
//! In `DATABASE_URL`'s server, the databases and tenants a test process made are removed when
//! it exits, so that a database shared by many runs (CI's) does not grow with each.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;

use crate::app::{AppState, app};
use crate::core::auth::Keys;
use crate::core::config::Limits;
use crate::core::database::{self, Database};
use crate::core::migrations;
use crate::core::pool::Pooled;
use crate::core::registry;
use crate::core::tenant::TenantSlug;

pub const JWT_SECRET: &str = "test-secret-at-least-32-bytes-long";

/// The database every test in this process uses.
pub fn database_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            remove_at_exit();
            url
        }
        _ => start_throwaway_postgres().unwrap_or_else(|error| {
            panic!(
                "tests need PostgreSQL: {error}.\nEither set DATABASE_URL to a database the \
                 tests may create schemas in, or install PostgreSQL's server binaries \
                 (Debian/Ubuntu: apt-get install postgresql) so a throwaway one can be started."
            )
        }),
    })
}

/// A new, empty database on the test server, for tests that run `server migrate`, which
/// touches every tenant: in the shared database those include other tests' tenants, whose
/// modules may differ. Blocking, so that plain `#[test]`s can call it too.
pub fn fresh_database() -> String {
    let base = database_url().to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let name = format!("test_{}_{}", run_tag(), uuid::Uuid::new_v4().simple());
            let pool = database::connect(&base, 1)
                .await
                .expect("connect to the test database");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&pool)
                .await
                .expect("create a test database");
            with_database(&base, &name)
        })
    })
    .join()
    .unwrap()
}

/// Eight hex digits of this process's own, in the name of every database (`test_<tag>_...`) and
/// tenant (`t_<tag>_...`) it creates: what it made can then be found and removed, and nothing
/// of another test process, running at the same time, is touched.
fn run_tag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| uuid::Uuid::new_v4().simple().to_string()[..8].to_owned())
}

unsafe extern "C" {
    fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
}

/// Removes this process's databases and tenants from `DATABASE_URL` when it exits. A test
/// binary has no hook that runs once every test is done, so this is the C library's `atexit`,
/// which runs when the test harness exits, whether tests failed or not (not when the process
/// is killed).
fn remove_at_exit() {
    extern "C" fn at_exit() {
        // At exit this thread's thread-locals, which tokio needs, are gone: a thread of its
        // own. A panic must not cross into C.
        let removed = std::thread::spawn(remove_what_this_process_made).join();
        match removed {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("removing this test run's databases and tenants: {error}"),
            Err(_) => eprintln!("removing this test run's databases and tenants panicked"),
        }
    }
    // SAFETY: `at_exit` is a plain function that unwinds nowhere.
    unsafe {
        atexit(at_exit);
    }
}

fn remove_what_this_process_made() -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let pool = database::connect(database_url(), 1)
            .await
            .map_err(|e| e.to_string())?;
        // The tag is hex: nothing in it needs escaping in LIKE.
        let tag = run_tag();
        let registered = sqlx::query_scalar::<_, String>(
            "SELECT slug FROM public.tenants WHERE slug LIKE 't\\_' || $1 || '\\_%'",
        )
        .bind(tag)
        .fetch_all(&pool)
        .await;
        // No registry: this process made no tenant in this database.
        for slug in registered.unwrap_or_default() {
            let slug = TenantSlug::parse(&slug)?;
            registry::delete(&pool, &slug)
                .await
                .map_err(|e| format!("tenant {slug}: {e}"))?;
        }
        let databases: Vec<String> = sqlx::query_scalar(
            "SELECT datname FROM pg_database WHERE datname LIKE 'test\\_' || $1 || '\\_%'",
        )
        .bind(tag)
        .fetch_all(&pool)
        .await
        .map_err(|e| e.to_string())?;
        for name in databases {
            // FORCE: connections of servers the tests started may not be gone yet.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&pool)
            .await
            .map_err(|e| format!("database {name}: {e}"))?;
        }
        pool.close().await;
        Ok(())
    })
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (rest, query) = url
        .split_once('?')
        .map_or((url, None), |(r, q)| (r, Some(q)));
    let authority_end = rest.find("://").map_or(0, |i| i + 3);
    let base = match rest[authority_end..].find('/') {
        Some(slash) => &rest[..authority_end + slash],
        None => rest,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

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

/// How many backends wait for a lock that backend `holder` holds, directly or behind another
/// waiter (as a second UPDATE of a row waits): tests wait on it instead of sleeping.
pub async fn lock_waiters(pool: &PgPool, holder: i32) -> i64 {
    sqlx::query_scalar(
        "WITH RECURSIVE waiter(pid) AS ( \
             SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) \
             UNION SELECT a.pid FROM pg_stat_activity a \
             JOIN waiter w ON w.pid = ANY(pg_blocking_pids(a.pid))) \
         SELECT count(*) FROM waiter",
    )
    .bind(holder)
    .fetch_one(pool)
    .await
    .expect("pg_stat_activity answers")
}

/// The application on a small pool, with the public migrations applied.
pub struct TestApp {
    pub state: AppState,
    pool: PgPool,
    database: Database,
    router: Router,
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::with_pool_size(4).await
    }

    pub async fn with_pool_size(max_connections: u32) -> TestApp {
        TestApp::with_limits(Limits {
            pool_size: max_connections,
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

    /// The application on the database at `url` (say, a [`DedicatedPostgres`]).
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
        }
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

    /// Registers a new tenant with a unique slug and migrates its schema.
    pub async fn new_tenant(&self) -> TenantSlug {
        let slug = format!("t_{}_{}", run_tag(), uuid::Uuid::new_v4().simple());
        let slug = TenantSlug::parse(&slug).unwrap();
        registry::create(self.pool(), &slug)
            .await
            .expect("create test tenant");
        slug
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
        }
    }
}

/// A token for `test-user`, valid for longer than any test runs.
fn test_token(keys: &Keys, tenant: &TenantSlug, permissions: &[&str]) -> String {
    let permissions: Vec<String> = permissions.iter().map(|p| p.to_string()).collect();
    keys.mint(tenant, "test-user", &permissions, Duration::from_secs(600))
}

/// Sends requests to the in-memory app with an optional bearer token.
#[derive(Clone)]
pub struct Client {
    router: Router,
    keys: Arc<Keys>,
    tenant: Option<TenantSlug>,
    token: Option<String>,
}

impl Client {
    /// A number that no other call for this client's tenant returns, for values of unique
    /// columns. Counted per tenant, and every test has tenants of its own, so that tests
    /// running in parallel never make a test's values collide, even in a `string(1)`.
    pub fn unique(&self) -> i64 {
        static NEXT: Mutex<BTreeMap<String, i64>> = Mutex::new(BTreeMap::new());
        let tenant = self.tenant.as_ref().expect("a client made for a tenant");
        let mut next = NEXT.lock().unwrap_or_else(|e| e.into_inner());
        let n = next.entry(tenant.as_str().to_owned()).or_insert(0);
        *n += 1;
        *n
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

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.send(Method::GET, uri, None).await
    }

    pub async fn post(&self, uri: &str, body: &Value) -> TestResponse {
        self.send(Method::POST, uri, Some(body.to_string())).await
    }

    pub async fn patch(&self, uri: &str, body: &Value) -> TestResponse {
        self.send(Method::PATCH, uri, Some(body.to_string())).await
    }

    pub async fn delete(&self, uri: &str) -> TestResponse {
        self.send(Method::DELETE, uri, None).await
    }

    /// A request with a raw JSON body, for bodies that are not valid JSON.
    pub async fn send(&self, method: Method, uri: &str, json: Option<String>) -> TestResponse {
        let mut request = Request::builder().method(method).uri(uri);
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

fn start_throwaway_postgres() -> Result<String, String> {
    let bin = postgres_bin_dir()?;
    let dir = std::env::temp_dir().join(format!("scaffold-test-pg-{}", std::process::id()));
    let data = dir.join("data");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let as_root = current_uid() == Some(0);
    if as_root {
        run(Command::new("chown").args(["postgres:postgres"]).arg(&dir))?;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("finding a free port: {e}"))?
        .port();
    let initdb = format!(
        "{} -D {} -A trust -U postgres -E UTF8 --no-sync >/dev/null",
        bin.join("initdb").display(),
        data.display()
    );
    run(&mut shell(as_root, &initdb))?;
    // The watchdog stops the server and removes its files once this process is gone, since a
    // test binary has no hook that runs at exit.
    let serve = format!(
        "{postgres} -D {data} -p {port} -k {dir} -c listen_addresses=127.0.0.1 \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
         -c max_connections=200 >{dir}/log 2>&1 & pg=$!; \
         while [ -d /proc/{pid} ]; do sleep 1; done; \
         kill -INT $pg; wait $pg; rm -rf {dir}",
        postgres = bin.join("postgres").display(),
        data = data.display(),
        dir = dir.display(),
        pid = std::process::id(),
    );
    shell(as_root, &serve)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting postgres: {e}"))?;
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    wait_until_accepting(port, &dir)?;
    Ok(url)
}

/// A PostgreSQL server of its own, for tests that stop and start the database under a running
/// application. Never `DATABASE_URL`'s: stopping that would break every other test. Stopped
/// and removed when dropped (and by a watchdog if the test process dies first).
pub struct DedicatedPostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_root: bool,
}

impl DedicatedPostgres {
    pub fn start() -> DedicatedPostgres {
        DedicatedPostgres::try_start().unwrap_or_else(|error| {
            panic!(
                "this test needs PostgreSQL's server binaries (Debian/Ubuntu: apt-get install \
                 postgresql): {error}"
            )
        })
    }

    fn try_start() -> Result<DedicatedPostgres, String> {
        let bin = postgres_bin_dir()?;
        let dir = std::env::temp_dir().join(format!(
            "scaffold-test-pg-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let as_root = current_uid() == Some(0);
        if as_root {
            run(Command::new("chown").args(["postgres:postgres"]).arg(&dir))?;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("finding a free port: {e}"))?
            .port();
        let postgres = DedicatedPostgres {
            bin,
            dir,
            port,
            as_root,
        };
        let initdb = format!(
            "{} -D {}/data -A trust -U postgres -E UTF8 --no-sync >/dev/null",
            postgres.bin.join("initdb").display(),
            postgres.dir.display()
        );
        run(&mut shell(as_root, &initdb))?;
        let watchdog = format!(
            "while [ -d /proc/{pid} ]; do sleep 1; done; {pg_ctl} -D {dir}/data stop -m immediate; \
             rm -rf {dir}",
            pid = std::process::id(),
            pg_ctl = postgres.bin.join("pg_ctl").display(),
            dir = postgres.dir.display(),
        );
        shell(as_root, &watchdog)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting the watchdog: {e}"))?;
        postgres.resume();
        Ok(postgres)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server the way an orchestrator does (`pg_ctl stop -m fast`): open
    /// connections are terminated, the files stay.
    pub fn stop(&self) {
        self.pg_ctl("stop -m fast");
    }

    /// Starts the stopped server again on the same port and files.
    pub fn resume(&self) {
        self.pg_ctl(&format!(
            "start -w -l {dir}/log -o '-p {port} -k {dir} -c listen_addresses=127.0.0.1 \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off'",
            dir = self.dir.display(),
            port = self.port,
        ));
    }

    fn pg_ctl(&self, args: &str) {
        let script = format!(
            "{} -D {}/data {args} >/dev/null",
            self.bin.join("pg_ctl").display(),
            self.dir.display()
        );
        if let Err(error) = run(&mut shell(self.as_root, &script)) {
            let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
            panic!("pg_ctl {args}: {error}\n{log}");
        }
    }
}

impl Drop for DedicatedPostgres {
    fn drop(&mut self) {
        let script = format!(
            "{} -D {dir}/data stop -m immediate >/dev/null 2>&1; rm -rf {dir}",
            self.bin.join("pg_ctl").display(),
            dir = self.dir.display()
        );
        let _ = shell(self.as_root, &script).status();
    }
}

fn shell(as_root: bool, script: &str) -> Command {
    if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--", "sh", "-c", script]);
        command
    } else {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("running {command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn wait_until_accepting(port: u16, dir: &Path) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
    Err(format!("postgres did not start within 30s: {log}"))
}

/// The newest `/usr/lib/postgresql/<version>/bin` (Debian's layout), else the one on PATH.
fn postgres_bin_dir() -> Result<PathBuf, String> {
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    candidates.sort();
    if let Some((_, bin)) = candidates.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| dir.join("initdb").exists() && dir.join("postgres").exists())
        .ok_or_else(|| "found no initdb and postgres binaries".to_owned())
}

fn current_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_names_are_replaced() {
        let cases = [
            ("postgres://u:p@h:5432/app", "postgres://u:p@h:5432/x"),
            (
                "postgres://u@h/app?sslmode=disable",
                "postgres://u@h/x?sslmode=disable",
            ),
            ("postgres://h:5432", "postgres://h:5432/x"),
        ];
        for (url, expected) in cases {
            assert_eq!(super::with_database(url, "x"), expected);
        }
    }
}

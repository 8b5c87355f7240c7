//! The real `server` binary: its subcommands, and HTTP over a socket.

use std::io::BufRead;
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use server::app::openapi_document;
use server::core::database;
use server::core::tenant::TenantSlug;
use server::testing::{fresh_database, lock_rows, wait_for_waiters};

/// Its own database: `server migrate` migrates every tenant it finds.
fn database_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(fresh_database)
}

fn server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .env("DATABASE_URL", database_url())
        .env("JWT_SECRET", "binary-test-secret-of-32-bytes-or-more")
        .env("RUST_LOG", "warn")
        .env_remove("APP_ENV");
    command
}

fn run(args: &[&str]) -> Output {
    server().args(args).output().expect("run the server binary")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn unique_slug() -> String {
    format!("bin_{}", uuid::Uuid::new_v4().simple())
}

/// A new tenant, after `migrate` (which is safe to run at once with other tests').
fn new_tenant() -> String {
    let migrate = run(&["migrate"]);
    assert!(migrate.status.success(), "{}", stderr(&migrate));
    let slug = unique_slug();
    let created = run(&["tenant", "create", &slug]);
    assert!(created.status.success(), "{}", stderr(&created));
    slug
}

/// `server token` for `slug` with both of the harness resource's permissions, with extra environment.
fn token(slug: &str, env: &[(&str, &str)]) -> String {
    let output = server()
        .envs(env.iter().copied())
        .args(["token", "--tenant", slug, "--user", "alice"])
        .args(["--permissions", "harness:read,harness:write"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn tenant_create_checks_the_slug_and_refuses_duplicates() {
    let migrate = run(&["migrate"]);
    assert!(migrate.status.success(), "{}", stderr(&migrate));
    assert!(run(&["migrate"]).status.success(), "migrate twice is safe");

    let slug = unique_slug();
    let created = run(&["tenant", "create", &slug]);
    assert!(created.status.success(), "{}", stderr(&created));
    assert!(stdout(&created).contains(&format!("tenant_{slug}")));

    let again = run(&["tenant", "create", &slug]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );

    for bad in ["Acme", "1acme", "ac-me", "a;drop"] {
        let refused = run(&["tenant", "create", bad]);
        assert_eq!(refused.status.code(), Some(1), "{bad}");
        assert!(
            stderr(&refused).contains("invalid tenant slug"),
            "{}",
            stderr(&refused)
        );
    }
}

/// Outside an explicit development mode there is no default secret: `serve` and `token` refuse
/// to start, whatever else APP_ENV says, and say how to set one.
#[test]
fn without_a_secret_only_explicit_development_mode_runs() {
    for app_env in [None, Some("production"), Some("prod"), Some("Production")] {
        for args in [
            &["serve"][..],
            &["token", "--tenant", "acme", "--user", "u"],
        ] {
            let mut command = server();
            command
                .env_remove("JWT_SECRET")
                .env("BIND_ADDR", "127.0.0.1:0");
            if let Some(env) = app_env {
                command.env("APP_ENV", env);
            }
            let output = command.args(args).output().unwrap();
            assert_eq!(output.status.code(), Some(1), "{app_env:?} {args:?}");
            let stderr = stderr(&output);
            assert!(stderr.contains("JWT_SECRET is not set"), "{stderr}");
            assert!(stderr.contains("export JWT_SECRET="), "{stderr}");
        }
    }
    let slug = new_tenant();
    let development = server()
        .env_remove("JWT_SECRET")
        .env("APP_ENV", "development")
        .args(["token", "--tenant", &slug, "--user", "u"])
        .output()
        .unwrap();
    assert!(development.status.success(), "{}", stderr(&development));
    assert!(stderr(&development).contains("development secret"));

    let public = server()
        .env_remove("JWT_SECRET")
        .env("APP_ENV", "development")
        .env("BIND_ADDR", "0.0.0.0:0")
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(public.status.code(), Some(1));
    assert!(
        stderr(&public).contains("not a loopback address"),
        "{}",
        stderr(&public)
    );
}

#[test]
fn short_secrets_are_refused() {
    let output = server()
        .env("JWT_SECRET", "changeme")
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("at least 32"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn token_ttls_are_bounded_and_checked() {
    for ttl in [
        "99999999999999999999d",
        "999999999999999d",
        "366d",
        "1é",
        "",
        "h",
        "10y",
    ] {
        let output = run(&["token", "--tenant", "acme", "--user", "u", "--ttl", ttl]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{ttl:?}: {}",
            stderr(&output)
        );
        assert!(stderr(&output).contains("--ttl"), "{}", stderr(&output));
    }
    let slug = new_tenant();
    let year = run(&["token", "--tenant", &slug, "--user", "u", "--ttl", "365d"]);
    assert!(year.status.success(), "{}", stderr(&year));
}

/// A token carries its tenant's id, which only the registry knows: `token` refuses a tenant
/// that is not registered.
#[test]
fn token_needs_a_registered_tenant() {
    assert!(run(&["migrate"]).status.success());
    let unknown = run(&["token", "--tenant", &unique_slug(), "--user", "u"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no tenant bin_"),
        "{}",
        stderr(&unknown)
    );
}

#[tokio::test]
async fn serves_the_api_over_http_and_stops_on_sigterm() {
    let slug = unique_slug();
    assert!(run(&["migrate"]).status.success());
    assert!(run(&["tenant", "create", &slug]).status.success());
    let token = stdout(&run(&[
        "token",
        "--tenant",
        &slug,
        "--user",
        "alice",
        "--permissions",
        "harness:read,harness:write",
        "--ttl",
        "5m",
    ]));

    let (mut child, base) = serve(&[]).await;
    let http = reqwest::Client::new();

    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    let openapi: Value = http
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The document the library makes (whatever modules the app has, the same as
    // `server openapi` prints), with the core's own components, and without the test harness's
    // routes, which the binary serves below.
    assert_eq!(openapi, openapi_document());
    for schema in ["Problem", "FieldError"] {
        assert!(
            openapi["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
    assert!(openapi["paths"].get("/api/harness-items").is_none());
    assert_eq!(
        openapi["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let docs = http.get(format!("{base}/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));

    let created = http
        .post(format!("{base}/api/harness-items"))
        .bearer_auth(&token)
        .json(&json!({ "name": "over http" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let fetched: Value = http
        .get(format!("{base}{location}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["name"], "over http");

    let anonymous = http
        .get(format!("{base}/api/harness-items"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.headers()["content-type"],
        "application/problem+json"
    );

    sigterm(&child);
    let status = wait_for_exit(&mut child, Duration::from_secs(10)).await;
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

/// `serve` with extra environment. It binds port 0 and the address is read from the line it
/// logs once it listens: a port picked by the test and bound later could be taken in between,
/// and connections made from then on wait in the kernel's backlog until it accepts them.
async fn serve(env: &[(&str, &str)]) -> (Running, String) {
    let mut command = server();
    command
        .arg("serve")
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = Running(command.spawn().unwrap());
    let stderr = child.0.stderr.take().unwrap();
    let (address, found) = std::sync::mpsc::channel();
    // Reads the log to its end, so that the server never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut log = Vec::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("listening")
                && let Some((_, rest)) = line.split_once("addr=")
            {
                let _ = address.send(Ok(rest.split_whitespace().next().unwrap_or("").to_owned()));
            }
            log.push(line);
        }
        let _ = address.send(Err(log.join("\n")));
    });
    let listening =
        tokio::task::spawn_blocking(move || found.recv_timeout(Duration::from_secs(20)))
            .await
            .unwrap();
    match listening {
        Ok(Ok(address)) => (child, format!("http://{address}")),
        Ok(Err(log)) => panic!("the server ended without listening:\n{log}"),
        Err(error) => panic!("the server did not log its address within 20 s: {error}"),
    }
}

fn sigterm(child: &Running) {
    let pid = child.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
}

async fn wait_for_exit(child: &mut Running, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A tenant with one harness item, a token for it, and the item's URL path.
async fn tenant_with_an_item(base: &str) -> (String, String, String) {
    let slug = unique_slug();
    assert!(run(&["tenant", "create", &slug]).status.success());
    let token = stdout(&run(&[
        "token",
        "--tenant",
        &slug,
        "--user",
        "alice",
        "--permissions",
        "harness:read,harness:write",
    ]));
    let created: Value = reqwest::Client::new()
        .post(format!("{base}/api/harness-items"))
        .bearer_auth(&token)
        .json(&json!({ "name": "before" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("/api/harness-items/{}", created["id"].as_str().unwrap());
    (slug, token, path)
}

fn rename(base: &str, token: &str, path: &str) -> tokio::task::JoinHandle<reqwest::Result<u16>> {
    let request = reqwest::Client::new()
        .patch(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&json!({ "name": "after" }));
    tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
}

/// The item's name once no transaction holds its row: `FOR UPDATE` waits for a writer
/// still in flight to commit or roll back, where a plain read would see the old name either
/// way.
async fn name_in_database(slug: &str) -> String {
    let pool = database::connect(database_url(), 1).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SET LOCAL lock_timeout = '20s'")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT name FROM tenant_{slug}.harness_items FOR UPDATE"
    )))
    .fetch_one(&mut *tx)
    .await
    .unwrap()
}

#[tokio::test]
async fn sigterm_drains_requests_in_flight_up_to_a_deadline() {
    assert!(run(&["migrate"]).status.success());
    let slow = [
        ("DATABASE_LOCK_TIMEOUT", "30s"),
        ("DATABASE_STATEMENT_TIMEOUT", "30s"),
    ];
    // One connection holds the locks, the other watches what waits for them.
    let locks = database::connect(database_url(), 2).await.unwrap();

    // Within the deadline: the request in flight finishes, new connections are refused.
    let (mut child, base) = serve(&[slow[0], slow[1], ("SHUTDOWN_TIMEOUT", "30s")]).await;
    let (slug, token, path) = tenant_with_an_item(&base).await;
    let tenant = TenantSlug::parse(&slug).unwrap();
    let (lock, holder) = lock_rows(&locks, &tenant, "harness_items").await;
    let in_flight = rename(&base, &token, &path);
    wait_for_waiters(&locks, holder, 1).await;
    sigterm(&child);
    // No new connections once the signal is handled; how soon that is depends on the machine.
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::get(format!("{base}/healthz")).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "new connections still served 10 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        child.0.try_wait().unwrap().is_none(),
        "waits for the request"
    );
    lock.commit().await.unwrap();
    assert_eq!(in_flight.await.unwrap().unwrap(), 200);
    assert!(
        wait_for_exit(&mut child, Duration::from_secs(10))
            .await
            .success()
    );
    assert_eq!(name_in_database(&slug).await, "after");

    // Past the deadline: the server stops anyway, and the abandoned request is rolled back.
    let (mut child, base) = serve(&[slow[0], slow[1], ("SHUTDOWN_TIMEOUT", "1s")]).await;
    let (slug, token, path) = tenant_with_an_item(&base).await;
    let tenant = TenantSlug::parse(&slug).unwrap();
    let (lock, holder) = lock_rows(&locks, &tenant, "harness_items").await;
    let in_flight = rename(&base, &token, &path);
    wait_for_waiters(&locks, holder, 1).await;
    sigterm(&child);
    assert!(
        wait_for_exit(&mut child, Duration::from_secs(10))
            .await
            .success()
    );
    assert!(
        in_flight.await.unwrap().is_err(),
        "the client saw the connection close"
    );
    lock.commit().await.unwrap();
    // name_in_database waits for the abandoned transaction to end, whichever way it ends.
    assert_eq!(name_in_database(&slug).await, "before", "rolled back");
}

/// Slowloris: clients that never finish their request head are cut off, and the number of
/// open connections is bounded.
#[tokio::test]
async fn slow_clients_are_cut_off_and_connections_are_bounded() {
    use std::io::{Read, Write};

    let (_child, base) = serve(&[
        ("HTTP_HEADER_READ_TIMEOUT", "1s"),
        ("HTTP_MAX_CONNECTIONS", "2"),
    ])
    .await;
    let address = base.trim_start_matches("http://").to_owned();
    let slow: Vec<std::net::TcpStream> = (0..2)
        .map(|_| {
            let mut stream = std::net::TcpStream::connect(&address).unwrap();
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            stream
        })
        .collect();
    wait_until_accepted(&address).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    assert!(
        http.get(format!("{base}/healthz")).send().await.is_err(),
        "a third connection is not served while two are open"
    );
    for mut stream in slow {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut rest = Vec::new();
        // The server closes the connection (after a 408, perhaps) instead of waiting forever.
        let closed = stream.read_to_end(&mut rest);
        assert!(closed.is_ok(), "still open: {closed:?}");
    }
    let http = reqwest::Client::new();
    let ok = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
}

/// Waits until the server has accepted every connection made to `address`: the kernel counts
/// the connections waiting in a listening socket's backlog as its receive queue in
/// /proc/net/tcp.
async fn wait_until_accepted(address: &str) {
    let port = address.rsplit_once(':').unwrap().1.parse::<u16>().unwrap();
    let listener = format!("0100007F:{port:04X}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
        let waiting = table
            .lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            // local address, remote, state (0A: listening), tx_queue:rx_queue
            .find(|fields| {
                fields.get(1) == Some(&listener.as_str()) && fields.get(3) == Some(&"0A")
            })
            .and_then(|fields| fields.get(4)?.split_once(':').map(|(_, rx)| rx.to_owned()))
            .map(|rx| u32::from_str_radix(&rx, 16).unwrap())
            .expect("the server's listening socket is in /proc/net/tcp");
        if waiting == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} connection(s) never accepted"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `GET /api/harness-items` with `token`: the status, and the names listed when it is a 200.
async fn list(base: &str, token: &str) -> (u16, Vec<String>) {
    let response = reqwest::Client::new()
        .get(format!("{base}/api/harness-items"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    let names = body["items"]
        .as_array()
        .map(|items| {
            let names = items.iter().map(|item| item["name"].as_str().unwrap());
            names.map(str::to_owned).collect()
        })
        .unwrap_or_default();
    (status, names)
}

async fn create_item(base: &str, token: &str, name: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/api/harness-items"))
        .bearer_auth(token)
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Two server processes on one database, as behind a load balancer: both have served a tenant
/// (and remember its schema) when it is deleted and its slug created again for someone else.
/// The old token is refused by both, and never reaches the new tenant's rows; the new token
/// works on both.
#[tokio::test]
async fn a_token_serves_only_the_tenant_it_was_minted_for_on_every_server() {
    let slug = new_tenant();
    let old = token(&slug, &[]);
    let (_first, first) = serve(&[]).await;
    let (_second, second) = serve(&[]).await;
    for base in [&first, &second] {
        assert_eq!(create_item(base, &old, "the first customer's").await, 201);
        assert_eq!(list(base, &old).await.0, 200);
    }

    let deleted = run(&["tenant", "delete", &slug, "--yes"]);
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    let created = run(&["tenant", "create", &slug]);
    assert!(created.status.success(), "{}", stderr(&created));
    assert!(
        stdout(&created).contains(&format!("tenant_{slug}_2")),
        "a new schema: {}",
        stdout(&created)
    );
    let new = token(&slug, &[]);
    assert_eq!(
        create_item(&second, &new, "the second customer's").await,
        201
    );

    for base in [&first, &second] {
        assert_eq!(list(base, &old).await, (401, vec![]), "{base}");
        assert_eq!(create_item(base, &old, "intruder").await, 401, "{base}");
        assert_eq!(
            list(base, &new).await,
            (200, vec!["the second customer's".to_owned()]),
            "{base}"
        );
        // Once the new tenant is looked up, the old token is refused by the look-up.
        assert_eq!(list(base, &old).await, (401, vec![]), "{base}");
    }
    // A server that never saw the first tenant refuses its token too.
    let (_third, third) = serve(&[]).await;
    assert_eq!(list(&third, &old).await, (401, vec![]));
    assert_eq!(list(&third, &new).await.0, 200);
}

/// With `JWT_ISSUER` and `JWT_AUDIENCE` set, a token signed with the same secret for another
/// audience, or with none, is refused.
#[tokio::test]
async fn tokens_for_another_audience_are_refused() {
    let slug = new_tenant();
    let ours = [
        ("JWT_ISSUER", "https://auth.example"),
        ("JWT_AUDIENCE", "harness_items"),
    ];
    let (_server, base) = serve(&ours).await;
    assert_eq!(list(&base, &token(&slug, &ours)).await.0, 200);
    let billing = [
        ("JWT_ISSUER", "https://auth.example"),
        ("JWT_AUDIENCE", "billing"),
    ];
    for env in [&billing[..], &[]] {
        let response = reqwest::Client::new()
            .get(format!("{base}/api/harness-items"))
            .bearer_auth(token(&slug, env))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{env:?}");
        let problem: Value = response.json().await.unwrap();
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("`aud`") || detail.contains("`iss`"),
            "{detail}"
        );
    }
}

/// The purges over every tenant: `purge` refuses a module without soft delete by name (and
/// exits 1, the other tenants done), `purge-keys` reports what it deleted.
#[test]
fn purges_run_over_every_tenant_and_report() {
    let slug = new_tenant();
    let output = run(&["purge", "harness_items", "--older-than", "30d"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stderr(&output).contains(&format!("{slug} (")),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("harness_items has no soft delete"),
        "{}",
        stderr(&output)
    );
    let bad = run(&["purge", "harness_items", "--older-than", "30y"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));

    let output = run(&["purge-keys", "--jobs", "2"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("expired idempotency keys deleted"),
        "{}",
        stdout(&output)
    );
}

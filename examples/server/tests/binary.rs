//! The real `server` binary: its subcommands, and HTTP over a socket.

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use server::testing::fresh_database;

/// Its own database: `server migrate` migrates every tenant it finds.
fn database_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(fresh_database)
}

fn server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .env("DATABASE_URL", database_url())
        .env("JWT_SECRET", "binary-test-secret")
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

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_until_healthy(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(response) = reqwest::get(format!("{base}/healthz")).await
            && response.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become healthy at {base}");
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

#[test]
fn production_refuses_the_development_secret() {
    let output = server()
        .env_remove("JWT_SECRET")
        .env("APP_ENV", "production")
        .args(["token", "--tenant", "acme", "--user", "u"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("JWT_SECRET must be set"),
        "{}",
        stderr(&output)
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
        "projects:read,projects:write",
        "--ttl",
        "5m",
    ]));

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Running(
        server()
            .arg("serve")
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_until_healthy(&base).await;
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
    assert!(openapi["paths"]["/api/projects"]["post"].is_object());
    assert!(openapi["paths"]["/api/projects/{id}"]["patch"].is_object());
    assert_eq!(
        openapi["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let docs = http.get(format!("{base}/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));

    let created = http
        .post(format!("{base}/api/projects"))
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
        .get(format!("{base}/api/projects"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.headers()["content-type"],
        "application/problem+json"
    );

    let pid = child.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

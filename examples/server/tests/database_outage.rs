//! The database goes away and comes back, under a running application: a PostgreSQL of this
//! test's own is stopped and started again.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::json;

use server::core::config::Limits;
use server::testing::{Client, DedicatedPostgres, TestApp};

const PERMISSIONS: &[&str] = &["harness:read", "harness:write"];

async fn reads(client: &Client, url: &str, how_many: usize) -> Vec<StatusCode> {
    let requests = (0..how_many).map(|_| {
        let (client, url) = (client.clone(), url.to_owned());
        tokio::spawn(async move { client.get(&url).await.status })
    });
    let mut statuses = Vec::new();
    for request in requests.collect::<Vec<_>>() {
        statuses.push(request.await.unwrap());
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_are_503_while_the_database_is_down_and_recover_after() {
    let postgres = DedicatedPostgres::start();
    let app = TestApp::on_database(
        &postgres.url(),
        Limits {
            pool_size: 4,
            acquire_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
        true,
    )
    .await;
    let client = app.client(PERMISSIONS).await;
    let url = create_item(&client, "survivor").await;
    assert_eq!(reads(&client, &url, 8).await, [StatusCode::OK; 8]);

    // A restart between requests: every pooled connection is dead, and no read sees it.
    postgres.stop();
    postgres.resume();
    assert_eq!(
        reads(&client, &url, 8).await,
        [StatusCode::OK; 8],
        "reads right after a restart"
    );

    // Down: 503 with Retry-After, not ready.
    postgres.stop();
    for _ in 0..3 {
        let response = client.get(&url).await;
        assert_eq!(response.headers["retry-after"], "1");
        response.expect_problem(StatusCode::SERVICE_UNAVAILABLE);
    }
    let anonymous = app.client_with_token(None);
    anonymous
        .get("/readyz")
        .await
        .expect_problem(StatusCode::SERVICE_UNAVAILABLE);

    // Back: ready again within seconds, and requests succeed.
    postgres.resume();
    let deadline = Instant::now() + Duration::from_secs(20);
    while anonymous.get("/readyz").await.status != StatusCode::OK {
        assert!(
            Instant::now() < deadline,
            "not ready 20 s after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(reads(&client, &url, 8).await, [StatusCode::OK; 8]);
    client
        .post("/api/harness-items", &json!({ "name": "after the outage" }))
        .await
        .expect(StatusCode::CREATED);
}

/// A connection that dies under a request (its backend terminated) is not handed to the next
/// one: the request that saw it fail has it checked when it comes back, and it is dropped.
#[tokio::test]
async fn a_connection_that_died_under_a_request_is_not_handed_out_again() {
    let app = TestApp::with_pool_size(1).await;
    let client = app.client(PERMISSIONS).await;
    let url = create_item(&client, "kept").await;
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *app.app_connection().await)
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(app.pool())
        .await
        .unwrap();

    // Right away, before the idle connection is old enough to be pinged: this request may
    // get the dead connection (503); the next one must not.
    let first = client.get(&url).await.status;
    assert!(
        [StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE].contains(&first),
        "{first}"
    );
    client.get(&url).await.expect(StatusCode::OK);
}

/// Creates a harness item named `name`; its URL.
async fn create_item(client: &Client, name: &str) -> String {
    let created = client
        .post("/api/harness-items", &json!({ "name": name }))
        .await
        .expect(StatusCode::CREATED);
    format!("/api/harness-items/{}", created["id"].as_str().unwrap())
}

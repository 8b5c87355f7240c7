//! What requests see when their tenant is deleted under them, or is behind the binary's
//! migrations.

use axum::http::StatusCode;
use serde_json::json;
use tokio::task::JoinSet;

use server::core::{database, registry};
use server::testing::{self, TestApp, harness};

const PERMISSIONS: &[&str] = &["harness:read", "harness:write"];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deleting_a_tenant_under_load_answers_its_requests_401_and_leaves_others_alone() {
    let app = TestApp::with_pool_size(6).await;
    let doomed = app.new_tenant().await;
    let other = app.new_tenant().await;
    let doomed_client = app.client_for(&doomed, PERMISSIONS);
    let other_client = app.client_for(&other, PERMISSIONS);
    doomed_client
        .post("/api/harness-items", &json!({ "name": "doomed" }))
        .await
        .expect(StatusCode::CREATED);
    other_client
        .post("/api/harness-items", &json!({ "name": "other" }))
        .await
        .expect(StatusCode::CREATED);

    let mut requests = JoinSet::new();
    let (answered, mut first_answer) = tokio::sync::mpsc::unbounded_channel();
    for n in 0..300 {
        let client = doomed_client.clone();
        let answered = answered.clone();
        requests.spawn(async move {
            let response = if n % 2 == 0 {
                client.get("/api/harness-items").await
            } else {
                client
                    .post(
                        "/api/harness-items",
                        &json!({ "name": format!("doomed {n}") }),
                    )
                    .await
            };
            let _ = answered.send(());
            response
        });
    }
    // Its own connection, so that the delete does not queue behind the requests for the pool.
    let admin = database::connect(testing::database_url(), 1).await.unwrap();
    // Under load: once the requests are being answered, with most of them still to come.
    first_answer.recv().await.unwrap();
    registry::delete(&admin, &doomed).await.unwrap();

    let mut refused = 0;
    while let Some(response) = requests.join_next().await {
        let response = response.unwrap();
        match response.status {
            StatusCode::OK => {
                for item in response.body["items"].as_array().unwrap() {
                    assert!(item["name"].as_str().unwrap().starts_with("doomed"));
                }
            }
            StatusCode::CREATED => {}
            StatusCode::UNAUTHORIZED => refused += 1,
            _ => panic!("a request for a tenant being deleted got {response:?}"),
        }
    }
    assert!(refused > 0, "the delete happened after every request");

    let after = doomed_client.get("/api/harness-items").await;
    let problem = after.expect_problem(StatusCode::UNAUTHORIZED);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not registered")
    );
    let others = other_client
        .get("/api/harness-items")
        .await
        .expect(StatusCode::OK);
    assert_eq!(others["items"].as_array().unwrap().len(), 1);
    assert_eq!(others["items"][0]["name"], "other");
}

#[tokio::test]
async fn a_tenant_behind_the_migrations_gets_503_not_a_database_error() {
    let app = TestApp::new().await;
    let behind = app.new_tenant().await;
    let current = app.new_tenant().await;
    sqlx::query("UPDATE public.tenants SET schema_version = 0 WHERE slug = $1")
        .bind(behind.as_str())
        .execute(app.pool())
        .await
        .unwrap();

    let problem = app
        .client_for(&behind, PERMISSIONS)
        .get("/api/harness-items")
        .await
        .expect_problem(StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(concat!(env!("CARGO_PKG_NAME"), " migrate")),
        "{problem}"
    );
    app.client_for(&current, PERMISSIONS)
        .get("/api/harness-items")
        .await
        .expect(StatusCode::OK);
}

/// A tenant deleted and created again under the same slug is another tenant: the first one's
/// token is refused, whether this process remembers the first tenant's schema or not, and
/// never reads the second one's rows.
#[tokio::test]
async fn a_token_for_a_deleted_tenant_is_refused_after_its_slug_is_created_again() {
    let app = TestApp::new().await;
    let first = app.new_tenant().await;
    let old = app.client_for(&first, PERMISSIONS);
    old.post("/api/harness-items", &json!({ "name": "first's" }))
        .await
        .expect(StatusCode::CREATED);

    registry::delete(app.pool(), &first).await.unwrap();
    let row = registry::create(app.pool(), &first).await.unwrap();
    harness::create_table(app.pool(), &row.schema)
        .await
        .unwrap();
    assert_eq!(row.schema, format!("{}_2", first.first_schema()));
    let second = row.tenant().unwrap();
    assert_ne!(second.id(), first.id());

    // The second tenant's row, written beside the application, which has not looked it up.
    let insert = format!(
        "INSERT INTO {}.harness_items (name) VALUES ('second''s')",
        row.schema
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(insert))
        .execute(app.pool())
        .await
        .unwrap();

    // This process remembers the first tenant's schema, and finds it dropped.
    old.get("/api/harness-items")
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);
    let new = app.client_for(&second, PERMISSIONS);
    let listed = new.get("/api/harness-items").await.expect(StatusCode::OK);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["name"], "second's");
    // It has looked up the second tenant: the look-up refuses the first's token.
    let problem = old
        .get("/api/harness-items")
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);
    assert!(
        problem["detail"].as_str().unwrap().contains("was deleted"),
        "{problem}"
    );
    // So does a process that never saw the first tenant.
    let fresh = TestApp::new().await;
    fresh
        .client_for(&first, PERMISSIONS)
        .post("/api/harness-items", &json!({ "name": "intruder" }))
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);
    fresh
        .client_for(&second, PERMISSIONS)
        .get("/api/harness-items")
        .await
        .expect(StatusCode::OK);
}

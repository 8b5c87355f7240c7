//! The classic multi-tenant bug: tenant state on a pooled connection outliving its request, so
//! the next request on that connection reads another tenant's rows. Statements name their
//! tenant's schema (see `core::db`), so no such state is needed; these tests check that none is
//! relied on: many requests for two tenants interleaved over a pool much smaller than the
//! number in flight, one connection taking turns, and a connection left in another tenant's
//! state on purpose.

use std::collections::HashSet;

use axum::http::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use server::core::tenant::TenantSlug;
use server::testing::TestApp;

const PERMISSIONS: &[&str] = &["harness:read", "harness:write"];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_never_cross_tenants() {
    let app = TestApp::with_pool_size(3).await;
    let tenants = [app.new_tenant().await, app.new_tenant().await];
    let clients = tenants.each_ref().map(|t| app.client_for(t, PERMISSIONS));
    let mut own_ids: [HashSet<String>; 2] = Default::default();
    for (i, client) in clients.iter().enumerate() {
        for n in 0..3 {
            let body = json!({ "name": format!("{}-seed-{n}", tenants[i]) });
            let created = client
                .post("/api/harness-items", &body)
                .await
                .expect(StatusCode::CREATED);
            own_ids[i].insert(created["id"].as_str().unwrap().to_owned());
        }
    }

    let mut requests = JoinSet::new();
    for round in 0..150 {
        for (i, client) in clients.iter().enumerate() {
            let client = client.clone();
            let prefix = format!("{}-", tenants[i]);
            let some_id = own_ids[i].iter().next().unwrap().clone();
            requests.spawn(async move {
                let body = match round % 3 {
                    0 => client
                        .get("/api/harness-items?limit=200")
                        .await
                        .expect(StatusCode::OK),
                    1 => client
                        .get(&format!("/api/harness-items/{some_id}"))
                        .await
                        .expect(StatusCode::OK),
                    _ => client
                        .post(
                            "/api/harness-items",
                            &json!({ "name": format!("{prefix}{round}") }),
                        )
                        .await
                        .expect(StatusCode::CREATED),
                };
                (i, prefix, body)
            });
        }
    }

    let mut checked = 0;
    while let Some(result) = requests.join_next().await {
        let (i, prefix, body) = result.unwrap();
        let items = match body.get("items") {
            Some(Value::Array(items)) => items.clone(),
            _ => vec![body],
        };
        for item in items {
            let name = item["name"].as_str().unwrap();
            assert!(
                name.starts_with(&prefix),
                "tenant {i} was answered with {name}"
            );
            checked += 1;
        }
    }
    assert!(checked > 300, "only {checked} items were checked");

    // Every pooled connection is still at the request connections' search_path: nothing
    // was set at session level.
    let mut connections = Vec::new();
    for _ in 0..3 {
        connections.push(app.app_connection().await);
    }
    for connection in &mut connections {
        let path: String = sqlx::query_scalar("SELECT current_setting('search_path')")
            .fetch_one(&mut **connection)
            .await
            .unwrap();
        assert_eq!(path, "pg_catalog");
    }
}

/// One pooled connection, two tenants taking turns, failing requests among them: after every
/// request, whatever its outcome, the connection carries no tenant's schema. A tenant setting
/// that outlived its transaction fails here on the first request that leaves it behind.
#[tokio::test]
async fn one_connection_carries_no_tenant_between_requests() {
    let app = TestApp::with_pool_size(1).await;
    let tenants = [app.new_tenant().await, app.new_tenant().await];
    let clients = tenants.each_ref().map(|t| app.client_for(t, PERMISSIONS));
    let unknown = TenantSlug::parse("t_never_created").unwrap();
    let stranger = app.client_for(&unknown, PERMISSIONS);
    let mut ids = Vec::new();
    for (i, client) in clients.iter().enumerate() {
        let body = json!({ "name": format!("{}-only", tenants[i]) });
        let created = client.post("/api/harness-items", &body).await;
        ids.push(created.expect(StatusCode::CREATED)["id"].clone());
    }
    let missing = format!("/api/harness-items/{}", uuid::Uuid::new_v4());

    for round in 0..6 {
        for (i, client) in clients.iter().enumerate() {
            let own = format!("/api/harness-items/{}", ids[i].as_str().unwrap());
            let theirs = format!("/api/harness-items/{}", ids[1 - i].as_str().unwrap());
            let step = format!("round {round}, tenant {i}");
            let item = client.get(&own).await.expect(StatusCode::OK);
            assert_eq!(item["id"], ids[i], "{step}");
            assert_clean(&app, &step).await;
            client
                .get(&theirs)
                .await
                .expect_problem(StatusCode::NOT_FOUND);
            assert_clean(&app, &step).await;
            client
                .get(&missing)
                .await
                .expect_problem(StatusCode::NOT_FOUND);
            assert_clean(&app, &step).await;
            let invalid = json!({ "name": "" });
            let response = client.post("/api/harness-items", &invalid).await;
            response.expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
            assert_clean(&app, &step).await;
            let listed = client
                .get("/api/harness-items")
                .await
                .expect(StatusCode::OK);
            assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{step}");
            assert_eq!(listed["items"][0]["id"], ids[i], "{step}");
            assert_clean(&app, &step).await;
            let response = stranger.get("/api/harness-items").await;
            response.expect_problem(StatusCode::UNAUTHORIZED);
            assert_clean(&app, &step).await;
        }
    }
}

/// Tracking broken on purpose: the pool's one connection goes back to the pool with one
/// tenant's schema as its session `search_path` and inside a transaction that wrote a row
/// there, as a bug in ending requests would leave it. The other tenant's requests on it see
/// and change only their own rows.
#[tokio::test]
async fn a_connection_left_in_another_tenants_state_serves_only_the_requests_tenant() {
    let app = TestApp::with_pool_size(1).await;
    let tenants = [app.new_tenant().await, app.new_tenant().await];
    let clients = tenants.each_ref().map(|t| app.client_for(t, PERMISSIONS));
    let first = clients[0]
        .post("/api/harness-items", &json!({ "name": "first's" }))
        .await
        .expect(StatusCode::CREATED);
    let leftover = format!(
        "SET search_path = {0}; BEGIN; INSERT INTO harness_items (name) VALUES ('leftover')",
        tenants[0].first_schema()
    );
    let mut connection = app.app_connection().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(leftover))
        .execute(&mut *connection)
        .await
        .unwrap();
    drop(connection);

    let listed = clients[1]
        .get("/api/harness-items")
        .await
        .expect(StatusCode::OK);
    assert_eq!(listed["items"], json!([]));
    let first_url = format!("/api/harness-items/{}", first["id"].as_str().unwrap());
    clients[1]
        .get(&first_url)
        .await
        .expect_problem(StatusCode::NOT_FOUND);
    clients[1]
        .post("/api/harness-items", &json!({ "name": "second's" }))
        .await
        .expect(StatusCode::CREATED);
    let listed = clients[1]
        .get("/api/harness-items")
        .await
        .expect(StatusCode::OK);
    assert_eq!(names(&listed), [&json!("second's")]);
}

/// A table named without a schema resolves nowhere on a request connection: a statement that
/// forgot `{schema}.` fails rather than reading some tenant's table.
#[tokio::test]
async fn a_table_named_without_its_schema_is_an_error() {
    let app = TestApp::with_pool_size(1).await;
    let tenant = app.new_tenant().await;
    app.client_for(&tenant, PERMISSIONS)
        .post("/api/harness-items", &json!({ "name": "there" }))
        .await
        .expect(StatusCode::CREATED);
    let mut connection = app.app_connection().await;
    let error = sqlx::query("SELECT count(*) FROM harness_items")
        .execute(&mut *connection)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("relation \"harness_items\" does not exist"),
        "{error}"
    );
}

/// The pool's one connection, borrowed between requests, carries no tenant schema.
async fn assert_clean(app: &TestApp, step: &str) {
    let mut connection = app.app_connection().await;
    let path: String = sqlx::query_scalar("SELECT current_setting('search_path')")
        .fetch_one(&mut *connection)
        .await
        .unwrap();
    assert_eq!(path, "pg_catalog", "after {step}");
}

/// Tenants whose first requests arrive together: each is looked up while the others wait for
/// a connection, and each must keep its own schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenants_first_seen_at_once_each_get_their_own_schema() {
    let app = TestApp::with_pool_size(2).await;
    let mut tenants = Vec::new();
    for _ in 0..8 {
        tenants.push(app.new_tenant().await);
    }
    let mut requests = JoinSet::new();
    for tenant in &tenants {
        let client = app.client_for(tenant, PERMISSIONS);
        let name = tenant.to_string();
        requests.spawn(async move {
            client
                .post("/api/harness-items", &json!({ "name": name }))
                .await
                .expect(StatusCode::CREATED);
        });
    }
    while let Some(request) = requests.join_next().await {
        request.unwrap();
    }
    for tenant in &tenants {
        let listed = app
            .client_for(tenant, PERMISSIONS)
            .get("/api/harness-items")
            .await
            .expect(StatusCode::OK);
        assert_eq!(
            names(&listed),
            [&json!(tenant.to_string())],
            "tenant {tenant}"
        );
    }
}

/// The `name`s of a list page's items, in order.
fn names(page: &Value) -> Vec<&Value> {
    let items = page["items"].as_array().expect("a page has items");
    items.iter().map(|item| &item["name"]).collect()
}

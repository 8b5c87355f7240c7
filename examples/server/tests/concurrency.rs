//! The classic multi-tenant bug: a `search_path` set on a pooled connection outliving its
//! request, so the next request on that connection reads another tenant's rows. Many requests
//! for two tenants run interleaved over a pool much smaller than the number in flight.

use std::collections::HashSet;

use axum::http::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use server::testing::TestApp;

const PERMISSIONS: &[&str] = &["projects:read", "projects:write"];

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
                .post("/api/projects", &body)
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
                        .get("/api/projects?limit=200")
                        .await
                        .expect(StatusCode::OK),
                    1 => client
                        .get(&format!("/api/projects/{some_id}"))
                        .await
                        .expect(StatusCode::OK),
                    _ => client
                        .post(
                            "/api/projects",
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

    // Every pooled connection is back at the server's default search_path: nothing was set
    // at session level.
    let mut connections = Vec::new();
    for _ in 0..3 {
        connections.push(app.app_pool().acquire().await.unwrap());
    }
    for connection in &mut connections {
        let path: String = sqlx::query_scalar("SELECT current_setting('search_path')")
            .fetch_one(&mut **connection)
            .await
            .unwrap();
        assert_eq!(path, "\"$user\", public");
    }
}

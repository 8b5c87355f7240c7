//! The server's side of conditional writes and idempotent creates, beyond what each module's
//! generated tests check: `REQUIRE_IF_MATCH`, a key whose first request is still running,
//! retention, and `purge-keys`.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::json;

use server::core::config::WritePolicy;
use server::core::idempotency;
use server::testing::TestApp;

const URL: &str = "/api/harness-items";
const PERMISSIONS: &[&str] = &["harness:read", "harness:write"];

#[tokio::test]
async fn require_if_match_refuses_unconditional_changes_with_428() {
    let app = TestApp::new().await.with_writes(WritePolicy {
        require_if_match: true,
        ..WritePolicy::default()
    });
    let client = app.client(PERMISSIONS).await;
    let created = client
        .post(URL, &json!({ "name": "guarded" }))
        .await
        .expect(StatusCode::CREATED);
    let url = format!("{URL}/{}", created["id"].as_str().unwrap());

    let patch = json!({ "name": "changed" });
    let refused = client.patch(&url, &patch).await;
    let problem = refused.expect_problem(StatusCode::PRECONDITION_REQUIRED);
    assert!(
        problem["detail"].as_str().unwrap().contains("If-Match"),
        "{problem}"
    );
    client
        .delete(&url)
        .await
        .expect_problem(StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(client.get(&url).await.expect(StatusCode::OK), created);

    let any = [("if-match", "*")];
    let changed = client
        .send_with(Method::PATCH, &url, Some(&patch), &any)
        .await;
    assert_eq!(changed.expect(StatusCode::OK)["version"], 2);
    let current = [("if-match", "\"2\"")];
    let deleted = client.send_with(Method::DELETE, &url, None, &current).await;
    deleted.expect(StatusCode::NO_CONTENT);
}

/// The tenant's schema, quoted as requests quote it.
async fn schema_of(app: &TestApp, tenant: &str) -> String {
    let schema: String =
        sqlx::query_scalar("SELECT schema_name FROM public.tenants WHERE slug = $1")
            .bind(tenant)
            .fetch_one(app.pool())
            .await
            .unwrap();
    format!("\"{schema}\"")
}

#[tokio::test]
async fn a_key_whose_first_request_is_still_running_is_a_409_without_waiting() {
    let app = TestApp::new().await;
    let tenant = app.new_tenant().await;
    let client = app.client_for(&tenant, PERMISSIONS);
    let schema = schema_of(&app, tenant.as_str()).await;
    // What a first request holds while it runs: the key's transaction-scoped lock.
    let mut first = app.pool().acquire().await.unwrap();
    sqlx::query(
        "SELECT pg_advisory_lock(hashtextextended($1 || length($2) || ':' || $2 || $3, 0))",
    )
    .bind(&schema)
    .bind("test-user")
    .bind("running-1")
    .execute(&mut *first)
    .await
    .unwrap();
    let key = [("idempotency-key", "running-1")];
    let body = json!({ "name": "once" });
    let busy = client.send_with(Method::POST, URL, Some(&body), &key).await;
    let problem = busy.expect_problem(StatusCode::CONFLICT);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("still being processed"),
        "{problem}"
    );
    let page = client.get(URL).await.expect(StatusCode::OK);
    assert_eq!(page["items"], json!([]));

    sqlx::query("SELECT pg_advisory_unlock_all()")
        .execute(&mut *first)
        .await
        .unwrap();
    let created = client.send_with(Method::POST, URL, Some(&body), &key).await;
    created.expect(StatusCode::CREATED);
}

#[tokio::test]
async fn an_expired_key_is_ignored_and_purged() {
    let app = TestApp::new().await;
    let tenant = app.new_tenant().await;
    let client = app.client_for(&tenant, PERMISSIONS);
    let schema = schema_of(&app, tenant.as_str()).await;
    let key = [("idempotency-key", "old-1")];
    let body = json!({ "name": "first" });
    let first = client.send_with(Method::POST, URL, Some(&body), &key).await;
    let first = first.expect(StatusCode::CREATED);
    let fresh = [("idempotency-key", "fresh-1")];
    client
        .send_with(Method::POST, URL, Some(&body), &fresh)
        .await
        .expect(StatusCode::CREATED);

    age(&app, &schema, "old-1").await;
    let again = client.send_with(Method::POST, URL, Some(&body), &key).await;
    assert!(!again.headers.contains_key("idempotent-replayed"));
    assert_ne!(again.expect(StatusCode::CREATED)["id"], first["id"]);

    age(&app, &schema, "old-1").await;
    let mut conn = app.pool().acquire().await.unwrap();
    let bare = schema.trim_matches('"');
    let day = Duration::from_secs(24 * 3600);
    assert_eq!(idempotency::purge(&mut conn, bare, day).await.unwrap(), 1);
    assert_eq!(idempotency::purge(&mut conn, bare, day).await.unwrap(), 0);
    let left: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT key FROM {schema}.idempotency_keys"
    )))
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert_eq!(left, ["fresh-1"]);
}

/// Makes `key`'s record older than the default retention.
async fn age(app: &TestApp, schema: &str, key: &str) {
    let statement = format!(
        "UPDATE {schema}.idempotency_keys SET created_at = now() - interval '25 hours' \
         WHERE key = $1"
    );
    sqlx::query(sqlx::AssertSqlSafe(statement))
        .bind(key)
        .execute(app.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_create_whose_response_cannot_be_stored_leaves_no_row() {
    let app = TestApp::new().await;
    let tenant = app.new_tenant().await;
    let client = app.client_for(&tenant, PERMISSIONS);
    let schema = schema_of(&app, tenant.as_str()).await;
    // Storing the response fails after the row is inserted, in the same transaction.
    let refuse = format!(
        "CREATE FUNCTION {schema}.refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'storage is down'; END $$;
         CREATE TRIGGER refuse BEFORE INSERT ON {schema}.idempotency_keys
         FOR EACH ROW EXECUTE FUNCTION {schema}.refuse();"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(refuse))
        .execute(app.pool())
        .await
        .unwrap();
    let key = [("idempotency-key", "lost-1")];
    let body = json!({ "name": "half" });
    let failed = client.send_with(Method::POST, URL, Some(&body), &key).await;
    failed.expect_problem(StatusCode::INTERNAL_SERVER_ERROR);
    let page = client.get(URL).await.expect(StatusCode::OK);
    assert_eq!(
        page["items"],
        json!([]),
        "the row outlived its stored response"
    );
    // Without a key nothing is stored, and the create goes through.
    client.post(URL, &body).await.expect(StatusCode::CREATED);
}

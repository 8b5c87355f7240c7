//! The projects API against a real PostgreSQL, each test in fresh tenants.

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::core::auth::{Claims, Keys};
use crate::testing::{Client, TestApp, object};

pub(crate) const URL: &str = "/api/projects";
pub(crate) const READ: &str = "projects:read";
pub(crate) const WRITE: &str = "projects:write";

/// A valid body with every field set, creating any rows it refers to in `client`'s tenant.
pub(crate) async fn sample(_client: &Client) -> Value {
    object([
        ("name", json!("alpha")),
        ("description", json!("Some longer text.")),
    ])
}

/// A second valid body whose every field differs from `sample()`'s.
pub(crate) async fn other_sample(_client: &Client) -> Value {
    object([
        ("name", json!("beta")),
        ("description", json!("Other text.")),
    ])
}

async fn create_in(client: &Client, url: &str, body: &Value) -> Value {
    client.post(url, body).await.expect(StatusCode::CREATED)
}

async fn create(client: &Client, body: &Value) -> Value {
    create_in(client, URL, body).await
}

fn item_url(item: &Value) -> String {
    format!("{URL}/{}", item["id"].as_str().expect("an id"))
}

/// Every field of `body` appears unchanged in `item`.
#[track_caller]
fn assert_fields(item: &Value, body: &Value) {
    for (field, value) in body.as_object().unwrap() {
        assert_eq!(&item[field], value, "field {field}");
    }
}

#[tokio::test]
async fn create_read_update_delete() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    let body = sample(&client).await;

    let response = client.post(URL, &body).await;
    let location = response.headers.get(header::LOCATION).cloned();
    let created = response.expect(StatusCode::CREATED);
    assert_fields(&created, &body);
    let url = item_url(&created);
    assert_eq!(location.unwrap(), url.as_str());

    let fetched = client.get(&url).await.expect(StatusCode::OK);
    assert_eq!(fetched, created);

    let listed = client.get(URL).await.expect(StatusCode::OK);
    assert_eq!(listed["items"], json!([created]));

    let other = other_sample(&client).await;
    let updated = client.patch(&url, &other).await.expect(StatusCode::OK);
    assert_fields(&updated, &other);
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(client.get(&url).await.expect(StatusCode::OK), updated);

    client.delete(&url).await.expect(StatusCode::NO_CONTENT);
    client.get(&url).await.expect_problem(StatusCode::NOT_FOUND);
    client
        .delete(&url)
        .await
        .expect_problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn patch_changes_only_the_fields_given() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    let body = sample(&client).await;
    let url = item_url(&create(&client, &body).await);

    let unchanged = client.patch(&url, &json!({})).await.expect(StatusCode::OK);
    assert_fields(&unchanged, &body);

    let field = "name";
    let other = other_sample(&client).await;
    let updated = client
        .patch(&url, &json!({ field: other[field] }))
        .await
        .expect(StatusCode::OK);
    let mut expected = body.clone();
    expected[field] = other[field].clone();
    assert_fields(&updated, &expected);
}

#[tokio::test]
async fn one_row_among_several_is_read_changed_and_deleted() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    let mut rows = Vec::new();
    for _ in 0..3 {
        rows.push(create(&client, &sample(&client).await).await);
    }
    for row in &rows {
        assert_eq!(
            &client.get(&item_url(row)).await.expect(StatusCode::OK),
            row
        );
    }

    let other = other_sample(&client).await;
    let updated = client
        .patch(&item_url(&rows[1]), &other)
        .await
        .expect(StatusCode::OK);
    assert_eq!(updated["id"], rows[1]["id"]);
    assert_fields(&updated, &other);
    client
        .delete(&item_url(&rows[1]))
        .await
        .expect(StatusCode::NO_CONTENT);
    for row in [&rows[0], &rows[2]] {
        let fetched = client.get(&item_url(row)).await.expect(StatusCode::OK);
        assert_eq!(&fetched, row, "a row the requests did not name changed");
    }
    // The list may hold rows the samples referred to as well.
    let listed = client.get(URL).await.expect(StatusCode::OK);
    let items = listed["items"].as_array().unwrap();
    for row in [&rows[0], &rows[2]] {
        assert!(items.contains(row), "{row} not listed as it was");
    }
    assert!(
        !items.iter().any(|item| item["id"] == rows[1]["id"]),
        "the deleted row is listed"
    );
}

#[tokio::test]
async fn the_server_owns_id_and_timestamps() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    // Sent in a body, they are ignored like any other unknown key.
    let forged = json!({
        "id": uuid::Uuid::new_v4(),
        "created_at": "2001-01-01T00:00:00Z",
        "updated_at": "2001-01-01T00:00:00Z",
    });
    let mut body = sample(&client).await;
    for (key, value) in forged.as_object().unwrap() {
        body[key] = value.clone();
    }
    let created = create(&client, &body).await;
    for key in ["id", "created_at", "updated_at"] {
        assert_ne!(created[key], forged[key], "{key} came from the body");
    }
    assert_eq!(created["created_at"], created["updated_at"]);

    let url = item_url(&created);
    let field = "name";
    let mut patch = forged.clone();
    patch[field] = other_sample(&client).await[field].clone();
    let updated = client.patch(&url, &patch).await.expect(StatusCode::OK);
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["created_at"], created["created_at"]);
    let time = |item: &Value, key: &str| {
        chrono::DateTime::parse_from_rfc3339(item[key].as_str().unwrap()).unwrap()
    };
    assert!(
        time(&updated, "updated_at") > time(&created, "updated_at"),
        "updated_at moves forward: {updated}"
    );
    assert_eq!(client.get(&url).await.expect(StatusCode::OK), updated);
}

#[tokio::test]
async fn patch_null_clears_optional_fields() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    let body = sample(&client).await;
    let url = item_url(&create(&client, &body).await);
    for field in ["description"] {
        let cleared = client
            .patch(&url, &json!({ field: null }))
            .await
            .expect(StatusCode::OK);
        assert_eq!(cleared[field], Value::Null);
        assert_eq!(client.get(&url).await.expect(StatusCode::OK), cleared);
    }
}

#[tokio::test]
async fn optional_fields_may_be_omitted() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    let mut body = sample(&client).await;
    let fields = body.as_object_mut().unwrap();
    fields.remove("description");
    let created = create(&client, &body).await;
    assert_eq!(created["description"], Value::Null);
}

#[tokio::test]
async fn required_fields_are_required() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    let body = sample(&client).await;
    let url = item_url(&create(&client, &body).await);
    for field in ["name"] {
        let mut incomplete = body.clone();
        incomplete.as_object_mut().unwrap().remove(field);
        let problem = client
            .post(URL, &incomplete)
            .await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            problem["detail"].as_str().unwrap().contains(field),
            "{problem}"
        );
    }
    for field in ["name"] {
        client
            .patch(&url, &json!({ field: null }))
            .await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn invalid_values_are_422_with_the_field_named() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    let body = sample(&client).await;
    let url = item_url(&create(&client, &body).await);
    let invalid: Vec<(&str, Value)> = vec![
        ("name", json!("")),
        // Limits count characters, not bytes.
        ("name", json!("é".repeat(201))),
        ("name", json!(12)),
        ("description", json!(12)),
    ];
    for (field, value) in invalid {
        let mut invalid_body = body.clone();
        invalid_body[field] = value.clone();
        let problem = client
            .post(URL, &invalid_body)
            .await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        client
            .patch(&url, &json!({ field: value }))
            .await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
    // At the limit, a value is accepted.
    let at_limit = json!("é".repeat(200));
    let updated = client
        .patch(&url, &json!({ "name": at_limit }))
        .await
        .expect(StatusCode::OK);
    assert_eq!(updated["name"], at_limit);
}

#[tokio::test]
async fn malformed_requests_are_problems() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    let response = client
        .send(Method::POST, URL, Some("{not json".into()))
        .await;
    response.expect_problem(StatusCode::BAD_REQUEST);
    let response = client.send(Method::POST, URL, Some("[1, 2]".into())).await;
    response.expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let response = client.send(Method::POST, URL, None).await;
    response.expect_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    client
        .get(&format!("{URL}/not-a-uuid"))
        .await
        .expect_problem(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn list_pages_in_a_stable_order() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(create(&client, &sample(&client).await).await["id"].clone());
    }
    let page = |query: &'static str| {
        let client = client.clone();
        async move { client.get(&format!("{URL}?{query}")).await }
    };
    let all = page("").await.expect(StatusCode::OK);
    assert_eq!(all["limit"], 50);
    assert_eq!(all["offset"], 0);
    let all_ids: Vec<Value> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].clone())
        .collect();
    assert_eq!(all_ids, ids, "oldest first, in creation order");

    let first = page("limit=2").await.expect(StatusCode::OK);
    let rest = page("limit=200&offset=2").await.expect(StatusCode::OK);
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(rest["items"].as_array().unwrap().len(), 3);
    assert_eq!(first["items"][0]["id"], ids[0]);
    assert_eq!(rest["items"][0]["id"], ids[2]);
    let beyond = page("offset=5").await.expect(StatusCode::OK);
    assert_eq!(beyond["items"], json!([]));

    for query in ["limit=0", "limit=201", "offset=-1"] {
        page(query)
            .await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
    page("limit=many")
        .await
        .expect_problem(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn requests_without_a_valid_token_are_401() {
    let app = TestApp::new().await;
    let tenant = app.new_tenant().await;
    let body = sample(&app.client_for(&tenant, &[READ, WRITE])).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expired = app.state.keys.sign(&Claims {
        sub: "test-user".into(),
        tenant: tenant.to_string(),
        permissions: vec![READ.into(), WRITE.into()],
        iat: now - 120,
        exp: now - 60,
    });
    let forged = Keys::new("another secret").mint(
        &tenant,
        "test-user",
        &[READ.into(), WRITE.into()],
        std::time::Duration::from_secs(60),
    );
    for token in [
        None,
        Some(expired),
        Some(forged),
        Some("garbage".to_owned()),
    ] {
        let client = app.client_with_token(token);
        client
            .get(URL)
            .await
            .expect_problem(StatusCode::UNAUTHORIZED);
        client
            .post(URL, &body)
            .await
            .expect_problem(StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn tokens_for_unknown_tenants_are_401() {
    let app = TestApp::new().await;
    let unknown = crate::core::tenant::TenantSlug::parse("t_never_created").unwrap();
    let client = app.client_for(&unknown, &[READ, WRITE]);
    client
        .get(URL)
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn each_route_requires_its_permission() {
    let app = TestApp::new().await;
    let tenant = app.new_tenant().await;
    let writer = app.client_for(&tenant, &[READ, WRITE]);
    let body = sample(&writer).await;
    let other = other_sample(&writer).await;
    let url = item_url(&create(&writer, &body).await);

    let reader = app.client_for(&tenant, &[READ]);
    reader.get(URL).await.expect(StatusCode::OK);
    reader.get(&url).await.expect(StatusCode::OK);
    reader
        .post(URL, &body)
        .await
        .expect_problem(StatusCode::FORBIDDEN);
    reader
        .patch(&url, &other)
        .await
        .expect_problem(StatusCode::FORBIDDEN);
    reader
        .delete(&url)
        .await
        .expect_problem(StatusCode::FORBIDDEN);

    let write_only = app.client_for(&tenant, &[WRITE]);
    write_only
        .get(URL)
        .await
        .expect_problem(StatusCode::FORBIDDEN);
    write_only
        .get(&url)
        .await
        .expect_problem(StatusCode::FORBIDDEN);

    let unrelated = app.client_for(&tenant, &["other:read", "other:write"]);
    unrelated
        .get(URL)
        .await
        .expect_problem(StatusCode::FORBIDDEN);
    unrelated
        .post(URL, &body)
        .await
        .expect_problem(StatusCode::FORBIDDEN);
    writer.get(&url).await.expect(StatusCode::OK);
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    let other = other_sample(&client).await;
    let url = format!("{URL}/{}", uuid::Uuid::new_v4());
    client.get(&url).await.expect_problem(StatusCode::NOT_FOUND);
    client
        .patch(&url, &other)
        .await
        .expect_problem(StatusCode::NOT_FOUND);
    client
        .delete(&url)
        .await
        .expect_problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tenant_fields_in_the_body_have_no_effect() {
    let app = TestApp::new().await;
    let mine = app.new_tenant().await;
    let theirs = app.new_tenant().await;
    let client = app.client_for(&mine, &[READ, WRITE]);
    let mut body = sample(&client).await;
    body["tenant"] = json!(theirs.as_str());
    body["tenant_id"] = json!(theirs.as_str());
    let created = create(&client, &body).await;
    assert!(created.get("tenant").is_none() && created.get("tenant_id").is_none());
    client.get(&item_url(&created)).await.expect(StatusCode::OK);

    let other = app.client_for(&theirs, &[READ, WRITE]);
    assert_eq!(
        other.get(URL).await.expect(StatusCode::OK)["items"],
        json!([])
    );
}

#[tokio::test]
async fn tenants_never_see_each_others_rows() {
    let app = TestApp::new().await;
    let a = app.client(&[READ, WRITE]).await;
    let b = app.client(&[READ, WRITE]).await;
    let created = create(&a, &sample(&a).await).await;
    let url = item_url(&created);

    assert_eq!(b.get(URL).await.expect(StatusCode::OK)["items"], json!([]));
    let other = other_sample(&b).await;
    b.get(&url).await.expect_problem(StatusCode::NOT_FOUND);
    b.patch(&url, &other)
        .await
        .expect_problem(StatusCode::NOT_FOUND);
    b.delete(&url).await.expect_problem(StatusCode::NOT_FOUND);

    assert_eq!(a.get(&url).await.expect(StatusCode::OK), created);
    assert_eq!(
        a.get(URL).await.expect(StatusCode::OK)["items"],
        json!([created])
    );
}

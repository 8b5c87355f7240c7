//! The projects API against a real PostgreSQL, each test in fresh tenants.

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::core::auth::{Claims, Keys};
use crate::testing::{Client, TestApp, TestResponse, ids, object, param, query};

pub(crate) const URL: &str = "/api/projects";
pub(crate) const READ: &str = "projects:read";
pub(crate) const WRITE: &str = "projects:write";
/// Deleting marks rows instead: modules that refer to this one test for it.
#[allow(
    dead_code,
    reason = "read by the tests of modules that refer to this one"
)]
pub(crate) const SOFT_DELETE: bool = false;

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

/// The URL of the project with this id: how the tests of modules that refer to
/// this one name it.
#[allow(
    dead_code,
    reason = "read by the tests of modules that refer to this one"
)]
pub(crate) async fn url_of(_client: &Client, id: &str) -> String {
    format!("{URL}/{id}")
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
        .delete(&item_url(&updated))
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
        "version": 99,
    });
    let mut body = sample(&client).await;
    for (key, value) in forged.as_object().unwrap() {
        body[key] = value.clone();
    }
    let created = create(&client, &body).await;
    for key in ["id", "created_at", "updated_at", "version"] {
        assert_ne!(created[key], forged[key], "{key} came from the body");
    }
    assert_eq!(created["created_at"], created["updated_at"]);
    assert_eq!(created["version"], 1);

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
    assert_eq!(
        client.get(&item_url(&updated)).await.expect(StatusCode::OK),
        updated
    );
}

/// The strong ETag of a project at `version`.
fn tag(version: &Value) -> String {
    format!("\"{}\"", version.as_i64().expect("a version"))
}

#[tokio::test]
async fn if_match_guards_changes_with_the_version() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    let created = create(&client, &sample(&client).await).await;
    let url = item_url(&created);
    let first = tag(&created["version"]);

    let response = client.get(&url).await;
    assert_eq!(response.headers[header::ETAG], first.as_str());
    let cached = client
        .send_with(Method::GET, &url, None, &[("if-none-match", &first)])
        .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert_eq!(cached.body, Value::Null);
    assert_eq!(cached.headers[header::ETAG], first.as_str());

    let other = other_sample(&client).await;
    let patch = |if_match: &str| {
        let (url, other, if_match) = (url.clone(), other.clone(), if_match.to_owned());
        let client = client.clone();
        async move {
            client
                .send_with(
                    Method::PATCH,
                    &url,
                    Some(&other),
                    &[("if-match", &if_match)],
                )
                .await
        }
    };
    let updated = patch(&first).await;
    let second = updated.headers[header::ETAG].to_str().unwrap().to_owned();
    let updated = updated.expect(StatusCode::OK);
    assert_eq!(updated["version"], created["version"].as_i64().unwrap() + 1);
    assert_eq!(second, tag(&updated["version"]));
    let fetched = client
        .send_with(Method::GET, &url, None, &[("if-none-match", &first)])
        .await
        .expect(StatusCode::OK);
    assert_eq!(fetched, updated);

    // A stale tag changes nothing, and the problem names the current version.
    let stale = patch(&first)
        .await
        .expect_problem(StatusCode::PRECONDITION_FAILED);
    assert!(
        stale["detail"].as_str().unwrap().contains(&second),
        "{stale}"
    );
    let deleted = client
        .send_with(Method::DELETE, &url, None, &[("if-match", &first)])
        .await;
    deleted.expect_problem(StatusCode::PRECONDITION_FAILED);
    assert_eq!(client.get(&url).await.expect(StatusCode::OK), updated);

    patch("W/\"1\", 7")
        .await
        .expect_problem(StatusCode::BAD_REQUEST);
    patch("*").await.expect(StatusCode::OK);
    let current = tag(&client.get(&url).await.expect(StatusCode::OK)["version"]);
    let deleted = client
        .send_with(Method::DELETE, &url, None, &[("if-match", &current)])
        .await;
    deleted.expect(StatusCode::NO_CONTENT);
    patch("*").await.expect_problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn of_two_writers_holding_the_same_version_one_wins() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    let created = create(&client, &sample(&client).await).await;
    let url = item_url(&created);
    let held = tag(&created["version"]);
    let other = other_sample(&client).await;
    let if_match = [("if-match", held.as_str())];
    let write = || client.send_with(Method::PATCH, &url, Some(&other), &if_match);
    let (a, b) = tokio::join!(write(), write());
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::PRECONDITION_FAILED],
        "{:#} {:#}",
        a.body,
        b.body
    );
    let now = client.get(&url).await.expect(StatusCode::OK);
    assert_eq!(now["version"], created["version"].as_i64().unwrap() + 1);
}

#[tokio::test]
async fn a_retried_create_with_its_idempotency_key_creates_once() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    let body = sample(&client).await;
    let key = [("idempotency-key", "create-once-1")];

    let first = client.send_with(Method::POST, URL, Some(&body), &key).await;
    let location = first.headers[header::LOCATION].clone();
    assert!(!first.headers.contains_key("idempotent-replayed"));
    let first = first.expect(StatusCode::CREATED);
    let again = client.send_with(Method::POST, URL, Some(&body), &key).await;
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.headers[header::LOCATION], location);
    assert_eq!(again.expect(StatusCode::CREATED), first);
    assert_eq!(
        ids(&client.get(URL).await.expect(StatusCode::OK)),
        [first["id"].clone()]
    );

    // The same key with another body is another request: refused, nothing created.
    let other = other_sample(&client).await;
    let before = total(&client).await;
    let reused = client
        .send_with(Method::POST, URL, Some(&other), &key)
        .await;
    reused.expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let bad = [("idempotency-key", "has a space")];
    let refused = client
        .send_with(Method::POST, URL, Some(&other), &bad)
        .await;
    refused.expect_problem(StatusCode::BAD_REQUEST);
    assert_eq!(total(&client).await, before);

    // Another tenant's same key is a request of its own; without a key, a retry creates again.
    let elsewhere = app.client(&[READ, WRITE]).await;
    let theirs = sample(&elsewhere).await;
    let created = elsewhere
        .send_with(Method::POST, URL, Some(&theirs), &key)
        .await;
    assert_ne!(created.expect(StatusCode::CREATED)["id"], first["id"]);
    let before = total(&elsewhere).await;
    create(&elsewhere, &theirs).await;
    create(&elsewhere, &theirs).await;
    assert_eq!(total(&elsewhere).await, before + 2);
}

async fn total(client: &Client) -> i64 {
    let page = client
        .get(&format!("{URL}?count=true"))
        .await
        .expect(StatusCode::OK);
    page["total"].as_i64().expect("a count")
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

/// `GET URL?params`.
async fn list(client: &Client, params: &[(&str, &str)]) -> TestResponse {
    client.get(&format!("{URL}?{}", query(params))).await
}

/// The ids of the rows a list with `params` matches, in its order, on one page.
async fn matching(client: &Client, params: &[(&str, &str)]) -> Vec<Value> {
    let mut params = params.to_vec();
    params.push(("limit", "200"));
    ids(&list(client, &params).await.expect(StatusCode::OK))
}

/// Every page of a list, following `next`, as ids.
async fn walk(client: &Client, params: &[(&str, &str)]) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut page_params = params.to_vec();
        if let Some(cursor) = &after {
            page_params.push(("after", cursor));
        }
        let page = list(client, &page_params).await.expect(StatusCode::OK);
        seen.extend(ids(&page));
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => return seen,
        }
    }
}

/// A bad list request is a 422 whose first error names the parameter `name`.
async fn assert_rejected(client: &Client, params: &[(&str, &str)], name: &str) -> Value {
    let problem = list(client, params)
        .await
        .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], name, "{params:?}: {problem}");
    problem
}

/// The ids of `rows` that `keep` selects, in their order.
fn ids_of(rows: &[Value], keep: impl Fn(&Value) -> bool) -> Vec<Value> {
    rows.iter()
        .filter(|row| keep(row))
        .map(|row| row["id"].clone())
        .collect()
}

/// Creates `sample()`, `other_sample()` and a third that leaves every optional
/// field empty; returns every row of the
/// tenant, oldest first (samples may add rows they refer to).
async fn three_rows(client: &Client) -> Vec<Value> {
    create(client, &sample(client).await).await;
    create(client, &other_sample(client).await).await;
    let mut third = sample(client).await;
    third["description"] = Value::Null;
    create(client, &third).await;
    let page = list(client, &[("limit", "200")])
        .await
        .expect(StatusCode::OK);
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn list_pages_by_cursor_with_rows_inserted_meanwhile() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(create(&client, &sample(&client).await).await["id"].clone());
    }
    let all = list(&client, &[]).await.expect(StatusCode::OK);
    assert_eq!(all["limit"], 50);
    assert_eq!(all["next"], Value::Null, "one page holds them all");
    assert!(all.get("total").is_none(), "no total unless asked for");
    assert_eq!(ids(&all), created, "oldest first, in creation order");

    // Oldest first by two: a row created after each page sorts after every row read, and is
    // reached; none is repeated or skipped.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut params = vec![("limit", "2")];
        if let Some(cursor) = &after {
            params.push(("after", cursor));
        }
        let page = list(&client, &params).await.expect(StatusCode::OK);
        assert!(ids(&page).len() <= 2);
        seen.extend(ids(&page));
        let Some(next) = page["next"].as_str() else {
            break;
        };
        after = Some(next.to_owned());
        if created.len() < 8 {
            created.push(create(&client, &sample(&client).await).await["id"].clone());
        }
    }
    assert_eq!(seen, created, "every row once, new ones included");

    // Newest first by three: rows created meanwhile sort before the cursor and are not
    // reached; the rest are each read once.
    let mut newest_first = created.clone();
    newest_first.reverse();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut params = vec![("limit", "3"), ("sort", "-created_at")];
        if let Some(cursor) = &after {
            params.push(("after", cursor));
        }
        let page = list(&client, &params).await.expect(StatusCode::OK);
        seen.extend(ids(&page));
        let Some(next) = page["next"].as_str() else {
            break;
        };
        after = Some(next.to_owned());
        create(&client, &sample(&client).await).await;
    }
    assert_eq!(seen, newest_first);
}

#[tokio::test]
async fn sorts_by_each_field_both_ways_with_ties_broken_by_id() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    // Rows with equal values, which tie (but in unique fields).
    three_rows(&client).await;
    let rows = three_rows(&client).await;
    for field in ["created_at", "updated_at", "id", "name"] {
        let descending_sort = format!("-{field}");
        let ascending = matching(&client, &[("sort", field)]).await;
        let descending = matching(&client, &[("sort", &descending_sort)]).await;
        let mut reversed = descending.clone();
        reversed.reverse();
        assert_eq!(
            ascending, reversed,
            "-{field} is the exact reverse of {field}"
        );
        let by_cursor = walk(&client, &[("sort", field), ("limit", "1")]).await;
        assert_eq!(by_cursor, ascending, "{field}, a row a page");
        let by_cursor = walk(&client, &[("sort", &descending_sort), ("limit", "2")]).await;
        assert_eq!(by_cursor, descending, "-{field}, two rows a page");

        // Equal values sit together, ordered by id; rows without a value come last.
        let values: Vec<&Value> = ascending
            .iter()
            .map(|id| &rows.iter().find(|row| row["id"] == *id).unwrap()[field])
            .collect();
        let mut done: Vec<&Value> = Vec::new();
        for i in 1..values.len() {
            if values[i] == values[i - 1] {
                assert!(
                    ascending[i - 1].as_str() < ascending[i].as_str(),
                    "{field}: ties by id"
                );
            } else {
                done.push(values[i - 1]);
                assert!(!done.contains(&values[i]), "{field}: equal values apart");
            }
        }
        if let Some(first_null) = values.iter().position(|value| value.is_null()) {
            assert!(
                values[first_null..].iter().all(|value| value.is_null()),
                "{field}: NULLs last"
            );
        }
    }
    // Several keys: the second orders the ties of the first.
    let sorted = matching(&client, &[("sort", "name,-created_at")]).await;
    assert_eq!(sorted.len(), rows.len());
}

#[tokio::test]
async fn filters_select_exactly_the_matching_rows() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    let rows = three_rows(&client).await;
    let all = ids_of(&rows, |_| true);
    assert_eq!(matching(&client, &[]).await, all);

    // Equality, on every field but json ones.
    for (name, field) in [("name", "name"), ("description", "description")] {
        for row in &rows {
            let value = &row[field];
            if value.is_null() {
                continue;
            }
            let expected = ids_of(&rows, |other| other[field] == *value);
            let text = param(value);
            assert_eq!(
                matching(&client, &[(name, &text)]).await,
                expected,
                "{name}={text}"
            );
        }
    }

    // Creation and change times, whose order is known.
    let created = |i: usize| param(&rows[i]["created_at"]);
    let later = matching(&client, &[("created_at[gt]", &created(0))]).await;
    assert_eq!(later, all[1..]);
    let up_to = matching(&client, &[("created_at[lte]", &created(1))]).await;
    assert_eq!(up_to, all[..2]);
    let before = matching(&client, &[("created_at[lt]", &created(1))]).await;
    assert_eq!(before, all[..1]);
    let from = matching(
        &client,
        &[
            ("created_at[gte]", &created(2)),
            ("created_at", &created(2)),
        ],
    )
    .await;
    assert_eq!(from, [all[2].clone()]);
    let changed = matching(
        &client,
        &[("updated_at[gte]", &param(&rows[1]["updated_at"]))],
    )
    .await;
    assert_eq!(changed, all[1..]);
    let mine = matching(
        &client,
        &[("id[in]", &format!("{},{}", param(&all[0]), param(&all[2])))],
    )
    .await;
    assert_eq!(mine, [all[0].clone(), all[2].clone()]);

    // Nulls, for optional fields.
    for field in ["description"] {
        let name = format!("{field}[null]");
        let empty = ids_of(&rows, |row| row[field].is_null());
        let filled = ids_of(&rows, |row| !row[field].is_null());
        assert_eq!(
            matching(&client, &[(&name, "true")]).await,
            empty,
            "{name}=true"
        );
        assert_eq!(
            matching(&client, &[(&name, "false")]).await,
            filled,
            "{name}=false"
        );
    }
}

#[tokio::test]
async fn q_searches_text_ignoring_case_with_percent_and_underscore_literal() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    let field = "name";
    let mut literal = sample(&client).await;
    literal[field] = json!("Sale: 50%_OFF now");
    let literal = create(&client, &literal).await;
    // What `50%_off` would match if % and _ were wildcards.
    let mut wildcard = other_sample(&client).await;
    wildcard[field] = json!("Sale: 500 xoff");
    let wildcard = create(&client, &wildcard).await;
    create(&client, &other_sample(&client).await).await;
    let every_row = matching(&client, &[]).await;

    assert_eq!(
        matching(&client, &[("q", "50%_off")]).await,
        [literal["id"].clone()]
    );
    assert_eq!(
        matching(&client, &[("q", "SALE: 50")]).await,
        [literal["id"].clone(), wildcard["id"].clone()]
    );
    assert_eq!(
        matching(&client, &[("q", "xOFF")]).await,
        [wildcard["id"].clone()]
    );
    assert_eq!(matching(&client, &[("q", "\\")]).await, Vec::<Value>::new());
    // Search and a filter together.
    let id = param(&wildcard["id"]);
    assert_eq!(
        matching(&client, &[("q", "sale"), ("id", &id)]).await,
        [wildcard["id"].clone()]
    );
    // An empty q searches nothing away.
    assert_eq!(matching(&client, &[("q", "")]).await, every_row);
}

#[tokio::test]
async fn count_true_adds_the_total_the_filters_match() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    let rows = three_rows(&client).await;
    let page = list(&client, &[("count", "true"), ("limit", "1")])
        .await
        .expect(StatusCode::OK);
    assert_eq!(page["total"], rows.len());
    assert_eq!(ids(&page).len(), 1);
    let after = page["next"].as_str().unwrap();
    let next = list(
        &client,
        &[("count", "true"), ("limit", "1"), ("after", after)],
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(
        next["total"],
        rows.len(),
        "the total of the list, not of what is left"
    );
    let later = param(&rows[0]["created_at"]);
    let filtered = list(&client, &[("count", "true"), ("created_at[gt]", &later)])
        .await
        .expect(StatusCode::OK);
    assert_eq!(filtered["total"], rows.len() - 1);
    let without = list(&client, &[("count", "false")])
        .await
        .expect(StatusCode::OK);
    assert!(without.get("total").is_none());
}

#[tokio::test]
async fn every_bad_list_parameter_is_a_422_naming_it() {
    let app = TestApp::new().await;
    let client = app.client(&[READ, WRITE]).await;
    three_rows(&client).await;
    let id = uuid::Uuid::new_v4().to_string();
    let id = id.as_str();
    for (params, name) in [
        (vec![("limit", "0")], "limit"),
        (vec![("limit", "201")], "limit"),
        (vec![("limit", "many")], "limit"),
        (vec![("count", "yes")], "count"),
        (vec![("sort", "-")], "sort"),
        (vec![("after", "garbage")], "after"),
        (vec![("after", "e30.e30")], "after"),
        (vec![("offset", "2")], "offset"),
        (vec![("no_such_field", "1")], "no_such_field"),
        (vec![("id", "42")], "id"),
        (vec![("id[in]", "42,43")], "id[in]"),
        (vec![("id[gt]", id)], "id[gt]"),
        (vec![("id", id), ("id", id)], "id"),
        (vec![("created_at[gte]", "yesterday")], "created_at[gte]"),
        (
            vec![("created_at[gte]", "2024-03-10T12:30:00 02:00")],
            "created_at[gte]",
        ),
        (vec![("created_at[between]", "x")], "created_at[between]"),
        (vec![("created_at[gt", "x")], "created_at[gt"),
        (vec![("created_at[null]", "true")], "created_at[null]"),
        (vec![("sort", "created_at\0")], "sort"),
        (vec![("name[null]", "true")], "name[null]"),
        (vec![("name[gt]", "1")], "name[gt]"),
        (vec![("name[in]", "1")], "name[in]"),
        (vec![("sort", "description")], "sort"),
        (vec![("description[null]", "maybe")], "description[null]"),
        (vec![("description[gt]", "1")], "description[gt]"),
        (vec![("description[in]", "1")], "description[in]"),
    ] {
        assert_rejected(&client, &params, name).await;
    }
    let problem = assert_rejected(&client, &[("sort", "no_such_field")], "sort").await;
    let message = problem["errors"][0]["message"].as_str().unwrap();
    for field in ["created_at", "updated_at", "id", "name"] {
        assert!(message.contains(field), "{message} lists {field}");
    }
    // Every bad parameter, not just the first.
    let problem = assert_rejected(&client, &[("limit", "0"), ("count", "yes")], "limit").await;
    assert_eq!(problem["errors"][1]["field"], "count", "{problem}");
}

#[tokio::test]
async fn filters_and_cursors_never_reach_another_tenant() {
    let app = TestApp::new().await;
    let mine = app.client(&[READ, WRITE]).await;
    let theirs = app.client(&[READ, WRITE]).await;
    let my_rows = three_rows(&mine).await;
    let their_rows = three_rows(&theirs).await;
    let their_id = param(&their_rows[0]["id"]);
    assert_eq!(
        matching(&mine, &[("id", &their_id)]).await,
        Vec::<Value>::new()
    );
    let both = format!("{},{}", param(&my_rows[0]["id"]), their_id);
    assert_eq!(
        matching(&mine, &[("id[in]", &both)]).await,
        [my_rows[0]["id"].clone()]
    );

    // Their cursor is refused, and so is mine with another sort, or altered.
    let their_page = list(&theirs, &[("limit", "1")])
        .await
        .expect(StatusCode::OK);
    let their_cursor = their_page["next"].as_str().unwrap();
    assert_rejected(&mine, &[("limit", "1"), ("after", their_cursor)], "after").await;
    let my_page = list(&mine, &[("limit", "1")]).await.expect(StatusCode::OK);
    let my_cursor = my_page["next"].as_str().unwrap();
    assert_rejected(
        &mine,
        &[("after", my_cursor), ("sort", "-created_at")],
        "after",
    )
    .await;
    let (payload, signature) = my_cursor.split_once('.').unwrap();
    let (their_payload, _) = their_cursor.split_once('.').unwrap();
    for altered in [
        format!("{their_payload}.{signature}"),
        format!("{payload}.{}", &signature[1..]),
        format!("{payload}x.{signature}"),
    ] {
        assert_rejected(&mine, &[("after", &altered)], "after").await;
    }
    assert_eq!(
        walk(&mine, &[("limit", "1")]).await,
        ids_of(&my_rows, |_| true)
    );
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

//! A resource of the test harness's own, `/api/harness-items`, for the server's core tests
//! (`tests/*.rs`): they drive requests through the core (tenants, tokens, pools, lists,
//! conditional writes, idempotent creates) and need some module to reach, but must hold
//! whatever modules an app has. A generated module would not do: a team destroys the sample
//! `projects`, and may override the templates that write modules. So this one is written by
//! hand against the core's building blocks, doing only what the core tests exercise.
//!
//! Compiled only with the `harness` feature, which the package's own tests switch on (see
//! Cargo.toml): `cargo build` and `cargo run` have neither these routes nor their table. Its
//! routes stay out of the OpenAPI document, so `server openapi` is the same either way.
//! Permissions `harness:read` and `harness:write`; the table `harness_items` (`table.sql`
//! beside this file) is made by [`create_table`] when a test creates a tenant. Not a migration:
//! a binary built by `cargo test` that migrated a developer's database would leave a version
//! there that every other build refuses as drift.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sqlx::{AssertSqlSafe, PgPool};
use uuid::Uuid;

use crate::app::AppState;
use crate::core::auth::{Authorized, Permission};
use crate::core::db::Db;
use crate::core::error::AppError;
use crate::core::extract::{Path, Query, ValidJson};
use crate::core::idempotency::{self, Created, IdempotencyKey};
use crate::core::list::{ListField, ListKind, ListQuery, ListSpec};
use crate::core::precondition::{self, IfMatch, etag};
use crate::core::registry::quote_ident;
use crate::core::{json, patch};

/// The route of the list; an item's is `{ROUTE}/{id}`.
pub const ROUTE: &str = "/api/harness-items";
/// Both permissions, as the core tests' tokens hold them.
pub const PERMISSIONS: &[&str] = &[Read::NAME, Write::NAME];
/// The table, for tests that lock its rows or write it in SQL.
pub const TABLE: &str = "harness_items";

pub struct Read;

impl Permission for Read {
    const NAME: &'static str = "harness:read";
}

pub struct Write;

impl Permission for Write {
    const NAME: &'static str = "harness:write";
}

static LIST: ListSpec = ListSpec {
    table: TABLE,
    fields: &[
        ListField {
            name: "name",
            column: "name",
            kind: ListKind::String,
            optional: false,
        },
        ListField {
            name: "description",
            column: "description",
            kind: ListKind::Text,
            optional: true,
        },
    ],
};

const COLUMNS: &str = "id, name, description, created_at, updated_at, version";

/// Serialize: a list's cursor holds the sort keys of a page's last row, by column.
#[derive(Serialize, sqlx::FromRow)]
struct Item {
    id: Uuid,
    name: String,
    description: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl Item {
    /// The JSON of the item, its timestamps named in the API's case as the core names them.
    fn json(&self) -> Value {
        let mut object = Map::new();
        object.insert("id".into(), json!(self.id));
        object.insert("name".into(), json!(self.name));
        object.insert("description".into(), json!(self.description));
        object.insert(json::name("created_at").into(), json!(self.created_at));
        object.insert(json::name("updated_at").into(), json!(self.updated_at));
        object.insert("version".into(), json!(self.version));
        Value::Object(object)
    }
}

/// Serialize: an `Idempotency-Key` compares creates by their body's JSON.
#[derive(Serialize, Deserialize, Validate)]
struct Create {
    #[garde(length(chars, min = 1, max = 200))]
    name: String,
    #[garde(skip)]
    description: Option<String>,
}

#[derive(Deserialize, Validate)]
struct Update {
    #[serde(default, deserialize_with = "patch::required")]
    #[garde(length(chars, min = 1, max = 200))]
    name: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[garde(skip)]
    description: Option<Option<String>>,
}

/// Makes the harness's table in a tenant's new schema: whatever creates tenants for the
/// tests calls it after `registry::create` (`TestApp::new_tenant`, `server tenant create` in
/// a test build), which knows nothing of the harness.
pub async fn create_table(pool: &PgPool, schema: &str) -> Result<(), sqlx::Error> {
    let sql = include_str!("table.sql").replace("{schema}", &quote_ident(schema));
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(pool).await?;
    Ok(())
}

/// The routes, a plain router: not in the OpenAPI document.
pub fn router() -> Router<AppState> {
    Router::new().route(ROUTE, get(list).post(create)).route(
        &format!("{ROUTE}/{{id}}"),
        get(read).patch(update).delete(remove),
    )
}

async fn list(
    ctx: Authorized<Read>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, AppError> {
    let query = ListQuery::parse(&LIST, &params, &ctx.cursors())?;
    let mut db = ctx.db().await?;
    let rows: Vec<Item> = query
        .select(db.schema(), COLUMNS)
        .build_query_as()
        .fetch_all(db.conn())
        .await?;
    let total = match query.count {
        true => Some(
            query
                .count(db.schema())
                .build_query_scalar()
                .fetch_one(db.conn())
                .await?,
        ),
        false => None,
    };
    let page = query.page(rows, total, &ctx.cursors());
    let items: Vec<Value> = page.rows.iter().map(Item::json).collect();
    let mut body = json!({ "items": items, "limit": query.limit, "next": page.next });
    if let Some(total) = page.total {
        body["total"] = json!(total);
    }
    Ok(Json(body))
}

async fn create(
    ctx: Authorized<Write>,
    key: IdempotencyKey,
    ValidJson(input): ValidJson<Create>,
) -> Result<Response, AppError> {
    idempotency::create(&ctx, key, input, async |db, input| {
        let item: Item = sqlx::query_as(db.sql(
            "INSERT INTO {schema}.harness_items (name, description) VALUES ($1, $2)
             RETURNING id, name, description, created_at, updated_at, version",
        ))
        .bind(input.name)
        .bind(input.description)
        .fetch_one(db.conn())
        .await?;
        Created::new(format!("{ROUTE}/{}", item.id), &item.json())
    })
    .await
}

async fn read(ctx: Authorized<Read>, Path(id): Path<Uuid>) -> Result<Response, AppError> {
    let mut db = ctx.db().await?;
    let item: Option<Item> = sqlx::query_as(db.sql(
        "SELECT id, name, description, created_at, updated_at, version
         FROM {schema}.harness_items WHERE id = $1",
    ))
    .bind(id)
    .fetch_optional(db.conn())
    .await?;
    let item = item.ok_or_else(|| AppError::not_found("harness item", id))?;
    Ok(([etag(item.version)], Json(item.json())).into_response())
}

async fn update(
    ctx: Authorized<Write>,
    Path(id): Path<Uuid>,
    IfMatch(expected): IfMatch,
    ValidJson(input): ValidJson<Update>,
) -> Result<Response, AppError> {
    let mut db = ctx.begin().await?;
    let item: Option<Item> = sqlx::query_as(db.sql(
        "UPDATE {schema}.harness_items SET
             name = COALESCE($2, name),
             description = CASE WHEN $3 THEN $4 ELSE description END,
             updated_at = now(),
             version = version + 1
         WHERE id = $1 AND ($5::bigint[] IS NULL OR version = ANY($5))
         RETURNING id, name, description, created_at, updated_at, version",
    ))
    .bind(id)
    .bind(input.name)
    .bind(input.description.is_some())
    .bind(input.description.flatten())
    .bind(expected.versions())
    .fetch_optional(db.conn())
    .await?;
    let Some(item) = item else {
        return Err(missed(&mut db, id).await);
    };
    db.commit().await?;
    Ok(([etag(item.version)], Json(item.json())).into_response())
}

async fn remove(
    ctx: Authorized<Write>,
    Path(id): Path<Uuid>,
    IfMatch(expected): IfMatch,
) -> Result<StatusCode, AppError> {
    let mut db = ctx.begin().await?;
    let deleted = sqlx::query(db.sql(
        "DELETE FROM {schema}.harness_items
         WHERE id = $1 AND ($2::bigint[] IS NULL OR version = ANY($2))",
    ))
    .bind(id)
    .bind(expected.versions())
    .execute(db.conn())
    .await?;
    if deleted.rows_affected() == 0 {
        return Err(missed(&mut db, id).await);
    }
    db.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Why a conditional change matched no row: 404, or 412 naming the current version.
async fn missed(db: &mut Db, id: Uuid) -> AppError {
    let current =
        sqlx::query_scalar(db.sql("SELECT version FROM {schema}.harness_items WHERE id = $1"))
            .bind(id)
            .fetch_optional(db.conn())
            .await;
    match current {
        Ok(current) => precondition::missed("harness item", id, current),
        Err(error) => error.into(),
    }
}

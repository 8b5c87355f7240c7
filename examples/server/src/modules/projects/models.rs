//! Database layer for projects: the row type and its queries. Every statement names its
//! tables in the caller's tenant's schema, `{schema}.table`, which `db.sql` fills in (see
//! `Db`): a table written without it is an error, never another tenant's rows.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::schemas::{CreateProject, UpdateProject};
use crate::core::db::Db;
use crate::core::list::ListQuery;

/// Serialize: a list's cursor holds the sort keys of a page's last row.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Project {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// The rows `query` asks for: its filters and sort, from its cursor on, one more than a page.
pub async fn list(db: &mut Db, query: &ListQuery) -> sqlx::Result<Vec<Project>> {
    query
        .select(
            db.schema(),
            "id, name, description, created_at, updated_at, version",
        )
        .build_query_as()
        .fetch_all(db.conn())
        .await
}

/// How many rows `query`'s filters match.
pub async fn count(db: &mut Db, query: &ListQuery) -> sqlx::Result<i64> {
    query
        .count(db.schema())
        .build_query_scalar()
        .fetch_one(db.conn())
        .await
}

pub async fn find(db: &mut Db, id: Uuid) -> sqlx::Result<Option<Project>> {
    sqlx::query_as(db.sql(
        "SELECT id, name, description, created_at, updated_at, version
         FROM {schema}.projects
         WHERE id = $1",
    ))
    .bind(id)
    .fetch_optional(db.conn())
    .await
}

pub async fn insert(db: &mut Db, input: CreateProject) -> sqlx::Result<Project> {
    sqlx::query_as(db.sql(
        "INSERT INTO {schema}.projects (name, description)
         VALUES ($1, $2)
         RETURNING id, name, description, created_at, updated_at, version",
    ))
    .bind(input.name)
    .bind(input.description)
    .fetch_one(db.conn())
    .await
}

/// Changes only the fields present in `input`, if the row is at one of `versions` (any, when
/// `None`); `None` otherwise ([`version_of`] tells why).
pub async fn update(
    db: &mut Db,
    id: Uuid,
    versions: Option<&[i64]>,
    input: UpdateProject,
) -> sqlx::Result<Option<Project>> {
    sqlx::query_as(db.sql(
        "UPDATE {schema}.projects SET
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
    .bind(versions)
    .fetch_optional(db.conn())
    .await
}

/// `false` when no row has this id at one of `versions` (any, when `None`).
pub async fn delete(db: &mut Db, id: Uuid, versions: Option<&[i64]>) -> sqlx::Result<bool> {
    let result = sqlx::query(db.sql(
        "DELETE FROM {schema}.projects
         WHERE id = $1 AND ($2::bigint[] IS NULL OR version = ANY($2))",
    ))
    .bind(id)
    .bind(versions)
    .execute(db.conn())
    .await?;
    Ok(result.rows_affected() > 0)
}

/// The row's version, if it exists: why a conditional change matched nothing.
pub async fn version_of(db: &mut Db, id: Uuid) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(db.sql("SELECT version FROM {schema}.projects WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.conn())
        .await
}

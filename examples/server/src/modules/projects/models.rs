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
}

/// The rows `query` asks for: its filters and sort, from its cursor on, one more than a page.
pub async fn list(db: &mut Db, query: &ListQuery) -> sqlx::Result<Vec<Project>> {
    query
        .select(db.schema(), "id, name, description, created_at, updated_at")
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
        "SELECT id, name, description, created_at, updated_at
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
         RETURNING id, name, description, created_at, updated_at",
    ))
    .bind(input.name)
    .bind(input.description)
    .fetch_one(db.conn())
    .await
}

/// Changes only the fields present in `input`; `None` when no row has this id.
pub async fn update(db: &mut Db, id: Uuid, input: UpdateProject) -> sqlx::Result<Option<Project>> {
    sqlx::query_as(db.sql(
        "UPDATE {schema}.projects SET
             name = COALESCE($2, name),
             description = CASE WHEN $3 THEN $4 ELSE description END,
             updated_at = now()
         WHERE id = $1
         RETURNING id, name, description, created_at, updated_at",
    ))
    .bind(id)
    .bind(input.name)
    .bind(input.description.is_some())
    .bind(input.description.flatten())
    .fetch_optional(db.conn())
    .await
}

/// `false` when no row has this id.
pub async fn delete(db: &mut Db, id: Uuid) -> sqlx::Result<bool> {
    let result = sqlx::query(db.sql("DELETE FROM {schema}.projects WHERE id = $1"))
        .bind(id)
        .execute(db.conn())
        .await?;
    Ok(result.rows_affected() > 0)
}

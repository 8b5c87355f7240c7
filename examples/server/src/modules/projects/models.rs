//! Database layer for projects: the row type and its queries. Every function runs on a
//! connection inside the tenant's transaction (see `Ctx::begin`), so tables are unqualified.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::schemas::{CreateProject, UpdateProject};
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
pub async fn list(conn: &mut PgConnection, query: &ListQuery) -> sqlx::Result<Vec<Project>> {
    query
        .select("id, name, description, created_at, updated_at")
        .build_query_as()
        .fetch_all(conn)
        .await
}

/// How many rows `query`'s filters match.
pub async fn count(conn: &mut PgConnection, query: &ListQuery) -> sqlx::Result<i64> {
    query.count().build_query_scalar().fetch_one(conn).await
}

pub async fn find(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Project>> {
    sqlx::query_as(
        "SELECT id, name, description, created_at, updated_at
         FROM projects
         WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn insert(conn: &mut PgConnection, input: CreateProject) -> sqlx::Result<Project> {
    sqlx::query_as(
        "INSERT INTO projects (name, description)
         VALUES ($1, $2)
         RETURNING id, name, description, created_at, updated_at",
    )
    .bind(input.name)
    .bind(input.description)
    .fetch_one(conn)
    .await
}

/// Changes only the fields present in `input`; `None` when no row has this id.
pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    input: UpdateProject,
) -> sqlx::Result<Option<Project>> {
    sqlx::query_as(
        "UPDATE projects SET
             name = COALESCE($2, name),
             description = CASE WHEN $3 THEN $4 ELSE description END,
             updated_at = now()
         WHERE id = $1
         RETURNING id, name, description, created_at, updated_at",
    )
    .bind(id)
    .bind(input.name)
    .bind(input.description.is_some())
    .bind(input.description.flatten())
    .fetch_optional(conn)
    .await
}

/// `false` when no row has this id.
pub async fn delete(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    let result = sqlx::query("DELETE FROM projects WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() > 0)
}

//! Business logic for projects. Knows nothing of HTTP: it takes the caller's context
//! and validated input, runs one transaction in the tenant's schema, and returns typed errors.

use sqlx::PgConnection;
use uuid::Uuid;

use super::models::{self, Project};
use super::schemas::{CreateProject, UpdateProject};
use crate::core::db::Ctx;
use crate::core::error::AppError;
use crate::core::list::{ListQuery, Listed};

/// How errors name a missing project.
const NAME: &str = "project";

pub async fn list(ctx: &Ctx, query: &ListQuery) -> Result<Listed<Project>, AppError> {
    let mut tx = ctx.begin().await?;
    let listed = read_page(&mut tx, ctx, query).await?;
    tx.commit().await?;
    Ok(listed)
}

async fn read_page(
    tx: &mut PgConnection,
    ctx: &Ctx,
    query: &ListQuery,
) -> Result<Listed<Project>, AppError> {
    let rows = models::list(tx, query).await?;
    let total = if query.count {
        Some(models::count(tx, query).await?)
    } else {
        None
    };
    Ok(query.page(rows, total, &ctx.cursors()))
}

pub async fn get(ctx: &Ctx, id: Uuid) -> Result<Project, AppError> {
    let mut tx = ctx.begin().await?;
    let row = models::find(&mut tx, id).await?;
    tx.commit().await?;
    row.ok_or_else(|| AppError::not_found(NAME, id))
}

pub async fn create(ctx: &Ctx, input: CreateProject) -> Result<Project, AppError> {
    let mut tx = ctx.begin().await?;
    let row = models::insert(&mut tx, input).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn update(ctx: &Ctx, id: Uuid, input: UpdateProject) -> Result<Project, AppError> {
    let mut tx = ctx.begin().await?;
    let row = models::update(&mut tx, id, input).await?;
    tx.commit().await?;
    row.ok_or_else(|| AppError::not_found(NAME, id))
}

pub async fn delete(ctx: &Ctx, id: Uuid) -> Result<(), AppError> {
    let mut tx = ctx.begin().await?;
    let deleted = models::delete(&mut tx, id).await?;
    tx.commit().await?;
    if deleted {
        Ok(())
    } else {
        Err(AppError::not_found(NAME, id))
    }
}

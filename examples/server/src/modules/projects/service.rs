//! Business logic for projects. Knows nothing of HTTP: it takes the caller's context
//! and validated input, runs its statements in the caller's tenant, and returns typed errors.
//! Reads run on their own (`ctx.db()`: one round trip each). Writes run in a transaction
//! (`ctx.begin()`, then `db.commit()`), so that a request abandoned mid-way, say by a server
//! stopping past its shutdown deadline, changes nothing.

use uuid::Uuid;

use super::models::{self, Project};
use super::schemas::{CreateProject, UpdateProject};
use crate::core::db::{Ctx, Db};
use crate::core::error::AppError;
use crate::core::list::{ListQuery, Listed};

/// How errors name a missing project.
const NAME: &str = "project";

pub async fn list(ctx: &Ctx, query: &ListQuery) -> Result<Listed<Project>, AppError> {
    let mut db = ctx.db().await?;
    read_page(&mut db, ctx, query).await
}

async fn read_page(db: &mut Db, ctx: &Ctx, query: &ListQuery) -> Result<Listed<Project>, AppError> {
    let rows = models::list(db, query).await?;
    let total = if query.count {
        Some(models::count(db, query).await?)
    } else {
        None
    };
    Ok(query.page(rows, total, &ctx.cursors()))
}

pub async fn get(ctx: &Ctx, id: Uuid) -> Result<Project, AppError> {
    let row = models::find(&mut ctx.db().await?, id).await?;
    row.ok_or_else(|| AppError::not_found(NAME, id))
}

pub async fn create(ctx: &Ctx, input: CreateProject) -> Result<Project, AppError> {
    let mut db = ctx.begin().await?;
    let row = models::insert(&mut db, input).await?;
    db.commit().await?;
    Ok(row)
}

pub async fn update(ctx: &Ctx, id: Uuid, input: UpdateProject) -> Result<Project, AppError> {
    let mut db = ctx.begin().await?;
    let row = models::update(&mut db, id, input).await?;
    db.commit().await?;
    row.ok_or_else(|| AppError::not_found(NAME, id))
}

pub async fn delete(ctx: &Ctx, id: Uuid) -> Result<(), AppError> {
    let mut db = ctx.begin().await?;
    let deleted = models::delete(&mut db, id).await?;
    db.commit().await?;
    if deleted {
        Ok(())
    } else {
        Err(AppError::not_found(NAME, id))
    }
}

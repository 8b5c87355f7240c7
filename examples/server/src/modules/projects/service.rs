//! Business logic for projects. Knows nothing of HTTP: it takes the caller's context
//! and validated input, runs its statements in the caller's tenant, and returns typed errors.
//! Reads run on their own (`ctx.db()`: one round trip each). Writes run in a transaction
//! (`ctx.begin()`, then `db.commit()`; a create in the one `core::idempotency` opens), so that
//! a request abandoned mid-way, say by a server stopping past its shutdown deadline, changes
//! nothing.

use uuid::Uuid;

use super::models::{self, Project};
use super::schemas::{CreateProject, UpdateProject};
use crate::core::db::{Ctx, Db};
use crate::core::error::AppError;
use crate::core::list::{ListQuery, Listed};
use crate::core::precondition::{self, Expected};

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

/// Runs in the caller's transaction (`db`), which also records the create's
/// `Idempotency-Key`, so that the row and the stored response commit together.
pub async fn create(db: &mut Db, input: CreateProject) -> Result<Project, AppError> {
    Ok(models::insert(db, input).await?)
}

/// Changes the project if it is at a version `expected` accepts (`If-Match`), in
/// the same statement: two writers holding the same version cannot both win.
pub async fn update(
    ctx: &Ctx,
    id: Uuid,
    expected: &Expected,
    input: UpdateProject,
) -> Result<Project, AppError> {
    let mut db = ctx.begin().await?;
    let Some(row) = models::update(&mut db, id, expected.versions(), input).await? else {
        return Err(precondition::missed(
            NAME,
            id,
            models::version_of(&mut db, id).await?,
        ));
    };
    db.commit().await?;
    Ok(row)
}

pub async fn delete(ctx: &Ctx, id: Uuid, expected: &Expected) -> Result<(), AppError> {
    let mut db = ctx.begin().await?;
    if !models::delete(&mut db, id, expected.versions()).await? {
        return Err(precondition::missed(
            NAME,
            id,
            models::version_of(&mut db, id).await?,
        ));
    }
    db.commit().await?;
    Ok(())
}

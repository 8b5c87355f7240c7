//! HTTP routes for projects. Handlers stay thin: the extractors authenticate, check the
//! permission and validate the body; the handler calls the service and shapes the response.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::schemas::{
    CreateProject, LIST, ProjectListParams, ProjectPage, ProjectResponse, UpdateProject,
};
use super::service;
use crate::app::AppState;
use crate::core::auth::{Authorized, Permission};
use crate::core::error::{AppError, Problem};
use crate::core::extract::{Path, Query, ValidJson};
use crate::core::list::ListQuery;

/// `projects:read`: list and fetch projects.
pub struct Read;

impl Permission for Read {
    const NAME: &'static str = "projects:read";
}

/// `projects:write`: create, change and delete projects.
pub struct Write;

impl Permission for Write {
    const NAME: &'static str = "projects:write";
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project, update_project, delete_project))
}

#[utoipa::path(
    get,
    path = "/api/projects",
    tag = "projects",
    params(ProjectListParams),
    security(("bearer" = ["projects:read"])),
    responses(
        (status = 200, description = "A page of projects, oldest first unless sorted", body = ProjectPage),
        (status = 401, description = "Missing or invalid token", body = Problem),
        (status = 403, description = "Missing the projects:read permission", body = Problem),
        (status = 422, description = "A parameter is invalid; the problem names it", body = Problem),
    )
)]
async fn list_projects(
    ctx: Authorized<Read>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<ProjectPage>, AppError> {
    let query = ListQuery::parse(&LIST, &params, &ctx.cursors())?;
    let listed = service::list(&ctx, &query).await?;
    Ok(Json(ProjectPage::new(&query, listed)))
}

#[utoipa::path(
    post,
    path = "/api/projects",
    tag = "projects",
    request_body = CreateProject,
    security(("bearer" = ["projects:write"])),
    responses(
        (status = 201, description = "Created; Location names the new project", body = ProjectResponse),
        (status = 401, description = "Missing or invalid token", body = Problem),
        (status = 403, description = "Missing the projects:write permission", body = Problem),
        (status = 409, description = "Conflicts with an existing project", body = Problem),
        (status = 422, description = "Invalid body", body = Problem),
    )
)]
async fn create_project(
    ctx: Authorized<Write>,
    ValidJson(input): ValidJson<CreateProject>,
) -> Result<impl IntoResponse, AppError> {
    let row = service::create(&ctx, input).await?;
    let location = format!("/api/projects/{}", row.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(ProjectResponse::from(row)),
    ))
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}",
    tag = "projects",
    params(("id" = Uuid, Path, description = "Project id")),
    security(("bearer" = ["projects:read"])),
    responses(
        (status = 200, description = "The project", body = ProjectResponse),
        (status = 401, description = "Missing or invalid token", body = Problem),
        (status = 403, description = "Missing the projects:read permission", body = Problem),
        (status = 404, description = "No such project", body = Problem),
    )
)]
async fn get_project(
    ctx: Authorized<Read>,
    Path(id): Path<Uuid>,
) -> Result<Json<ProjectResponse>, AppError> {
    let row = service::get(&ctx, id).await?;
    Ok(Json(row.into()))
}

#[utoipa::path(
    patch,
    path = "/api/projects/{id}",
    tag = "projects",
    params(("id" = Uuid, Path, description = "Project id")),
    request_body = UpdateProject,
    security(("bearer" = ["projects:write"])),
    responses(
        (status = 200, description = "The updated project", body = ProjectResponse),
        (status = 401, description = "Missing or invalid token", body = Problem),
        (status = 403, description = "Missing the projects:write permission", body = Problem),
        (status = 404, description = "No such project", body = Problem),
        (status = 409, description = "Conflicts with an existing project", body = Problem),
        (status = 422, description = "Invalid body", body = Problem),
    )
)]
async fn update_project(
    ctx: Authorized<Write>,
    Path(id): Path<Uuid>,
    ValidJson(input): ValidJson<UpdateProject>,
) -> Result<Json<ProjectResponse>, AppError> {
    let row = service::update(&ctx, id, input).await?;
    Ok(Json(row.into()))
}

#[utoipa::path(
    delete,
    path = "/api/projects/{id}",
    tag = "projects",
    params(("id" = Uuid, Path, description = "Project id")),
    security(("bearer" = ["projects:write"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid token", body = Problem),
        (status = 403, description = "Missing the projects:write permission", body = Problem),
        (status = 404, description = "No such project", body = Problem),
        (status = 409, description = "Other records still refer to this project", body = Problem),
    )
)]
async fn delete_project(
    ctx: Authorized<Write>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    service::delete(&ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! HTTP routes for projects. Handlers stay thin: the extractors authenticate, check the
//! permission and validate the body; the handler calls the service and shapes the response.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::models::LIST;
use super::schemas::{CreateProject, ProjectPage, ProjectResponse, UpdateProject};
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
    params(
        ("q" = Option<String>, Query, description = "Only those whose name or description contains this text, ignoring case; % and _ are plain characters"),
        ("sort" = Option<String>, Query, description = "Sort keys separated by commas, each a field (name, id, created_at, updated_at) with - for descending; ties are broken by id. Default: created_at"),
        ("limit" = Option<i64>, Query, description = "How many items a page holds: 1 to 200, 50 if absent"),
        ("after" = Option<String>, Query, description = "The `next` cursor of the previous page, with the same sort"),
        ("count" = Option<bool>, Query, description = "true: the answer's `total` counts every project the filters match (a scan)"),
        ("id" = Option<String>, Query, description = "Only the project with this id"),
        ("id[in]" = Option<String>, Query, description = "Only the projects with these ids, separated by commas"),
        ("created_at" = Option<String>, Query, description = "Only those whose created at equals this (RFC 3339)"),
        ("created_at[gt]" = Option<String>, Query, description = "Only those created after this (RFC 3339)"),
        ("created_at[gte]" = Option<String>, Query, description = "Only those created at or after this (RFC 3339)"),
        ("created_at[lt]" = Option<String>, Query, description = "Only those created before this (RFC 3339)"),
        ("created_at[lte]" = Option<String>, Query, description = "Only those created at or before this (RFC 3339)"),
        ("updated_at" = Option<String>, Query, description = "Only those whose updated at equals this (RFC 3339)"),
        ("updated_at[gt]" = Option<String>, Query, description = "Only those updated after this (RFC 3339)"),
        ("updated_at[gte]" = Option<String>, Query, description = "Only those updated at or after this (RFC 3339)"),
        ("updated_at[lt]" = Option<String>, Query, description = "Only those updated before this (RFC 3339)"),
        ("updated_at[lte]" = Option<String>, Query, description = "Only those updated at or before this (RFC 3339)"),
        ("name" = Option<String>, Query, description = "Only those whose name equals this"),
        ("description" = Option<String>, Query, description = "Only those whose description equals this"),
        ("description[null]" = Option<bool>, Query, description = "true: only those without a description; false: only those with one"),
    ),
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
    Ok(Json(ProjectPage {
        items: listed.rows.into_iter().map(ProjectResponse::from).collect(),
        limit: query.limit,
        next: listed.next,
        total: listed.total,
    }))
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

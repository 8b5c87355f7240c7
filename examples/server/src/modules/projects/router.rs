//! HTTP routes for projects. Handlers stay thin: the extractors authenticate, check the
//! permission and validate the body; the handler calls the service and shapes the response.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
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
use crate::core::idempotency::{self, Created, IdempotencyKey};
use crate::core::list::ListQuery;
use crate::core::precondition::{IfMatch, IfNoneMatch, etag};

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
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: a repeat with the same key and body replays the first response (with `Idempotent-Replayed: true`) instead of creating another project; 1 to 255 visible ASCII characters")),
    request_body = CreateProject,
    security(("bearer" = ["projects:write"])),
    responses(
        (status = 201, description = "Created; Location names the new project", body = ProjectResponse,
            headers(("Location" = String, description = "The new project's URL"))),
        (status = 400, description = "A malformed Idempotency-Key", body = Problem),
        (status = 401, description = "Missing or invalid token", body = Problem),
        (status = 403, description = "Missing the projects:write permission", body = Problem),
        (status = 409, description = "Conflicts with an existing project, or a request with the same Idempotency-Key is still running", body = Problem),
        (status = 422, description = "Invalid body, or an Idempotency-Key already used with another body", body = Problem),
    )
)]
async fn create_project(
    ctx: Authorized<Write>,
    key: IdempotencyKey,
    ValidJson(input): ValidJson<CreateProject>,
) -> Result<Response, AppError> {
    idempotency::create(&ctx, key, input, async |db, input| {
        let row = service::create(db, input).await?;
        let location = format!("/api/projects/{}", row.id);
        Created::new(location, &ProjectResponse::from(row))
    })
    .await
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}",
    tag = "projects",
    params(
        ("id" = Uuid, Path, description = "Project id"),
        ("If-None-Match" = Option<String>, Header, description = "ETags the client holds: 304 when the project is still at one of them"),
    ),
    security(("bearer" = ["projects:read"])),
    responses(
        (status = 200, description = "The project", body = ProjectResponse,
            headers(("ETag" = String, description = "The project's version, for If-Match"))),
        (status = 304, description = "Not modified: the project is at a version If-None-Match named",
            headers(("ETag" = String, description = "The project's version"))),
        (status = 400, description = "A malformed If-None-Match", body = Problem),
        (status = 401, description = "Missing or invalid token", body = Problem),
        (status = 403, description = "Missing the projects:read permission", body = Problem),
        (status = 404, description = "No such project", body = Problem),
    )
)]
async fn get_project(
    ctx: Authorized<Read>,
    Path(id): Path<Uuid>,
    cached: IfNoneMatch,
) -> Result<Response, AppError> {
    let row = service::get(&ctx, id).await?;
    let tag = etag(row.version);
    if cached.holds(row.version) {
        return Ok((StatusCode::NOT_MODIFIED, [tag]).into_response());
    }
    Ok(([tag], Json(ProjectResponse::from(row))).into_response())
}

#[utoipa::path(
    patch,
    path = "/api/projects/{id}",
    tag = "projects",
    params(
        ("id" = Uuid, Path, description = "Project id"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the version the change is based on (or `*`): 412 if the project has changed since"),
    ),
    request_body = UpdateProject,
    security(("bearer" = ["projects:write"])),
    responses(
        (status = 200, description = "The updated project", body = ProjectResponse,
            headers(("ETag" = String, description = "The project's new version"))),
        (status = 400, description = "A malformed If-Match", body = Problem),
        (status = 401, description = "Missing or invalid token", body = Problem),
        (status = 403, description = "Missing the projects:write permission", body = Problem),
        (status = 404, description = "No such project", body = Problem),
        (status = 409, description = "Conflicts with an existing project", body = Problem),
        (status = 412, description = "The project is no longer at the version If-Match named; the problem names the current one", body = Problem),
        (status = 422, description = "Invalid body", body = Problem),
        (status = 428, description = "No If-Match, and the server requires one (REQUIRE_IF_MATCH)", body = Problem),
    )
)]
async fn update_project(
    ctx: Authorized<Write>,
    Path(id): Path<Uuid>,
    IfMatch(expected): IfMatch,
    ValidJson(input): ValidJson<UpdateProject>,
) -> Result<Response, AppError> {
    let row = service::update(&ctx, id, &expected, input).await?;
    Ok(([etag(row.version)], Json(ProjectResponse::from(row))).into_response())
}

#[utoipa::path(
    delete,
    path = "/api/projects/{id}",
    tag = "projects",
    params(
        ("id" = Uuid, Path, description = "Project id"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the version the deletion is based on (or `*`): 412 if the project has changed since"),
    ),
    security(("bearer" = ["projects:write"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "A malformed If-Match", body = Problem),
        (status = 401, description = "Missing or invalid token", body = Problem),
        (status = 403, description = "Missing the projects:write permission", body = Problem),
        (status = 404, description = "No such project", body = Problem),
        (status = 409, description = "Other records still refer to this project", body = Problem),
        (status = 412, description = "The project is no longer at the version If-Match named; the problem names the current one", body = Problem),
        (status = 428, description = "No If-Match, and the server requires one (REQUIRE_IF_MATCH)", body = Problem),
    )
)]
async fn delete_project(
    ctx: Authorized<Write>,
    Path(id): Path<Uuid>,
    IfMatch(expected): IfMatch,
) -> Result<StatusCode, AppError> {
    service::delete(&ctx, id, &expected).await?;
    Ok(StatusCode::NO_CONTENT)
}

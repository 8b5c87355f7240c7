//! The whole HTTP application as one function, so tests can drive it without a socket.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::get;
use sqlx::PgPool;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::core::auth::Keys;
use crate::core::error::AppError;
use crate::modules;

/// Larger bodies are refused with 413 before any handler runs.
const BODY_LIMIT_BYTES: usize = 1024 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, FromRef)]
pub struct AppState {
    pub pool: PgPool,
    pub keys: Arc<Keys>,
}

#[derive(OpenApi)]
#[openapi(
    info(description = "A multi-tenant API: one PostgreSQL schema per tenant, the tenant \
                         taken from the bearer token."),
    modifiers(&BearerSecurity),
    components(schemas(crate::core::error::Problem, crate::core::error::FieldError))
)]
struct ApiDoc;

struct BearerSecurity;

impl Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An HS256 JWT with `sub`, `tenant` and `permissions` claims; \
                         `server token` mints one.",
                    ))
                    .build(),
            ),
        );
    }
}

pub fn app(state: AppState) -> Router {
    let (api, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(modules::router())
        .split_for_parts();
    api.route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .with_state(state)
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
}

/// Liveness: the process answers.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers too.
async fn readyz(State(pool): State<PgPool>) -> Result<&'static str, AppError> {
    sqlx::query("SELECT 1").execute(&pool).await?;
    Ok("ready")
}

async fn not_found() -> AppError {
    AppError::NotFound("no such route".to_owned())
}

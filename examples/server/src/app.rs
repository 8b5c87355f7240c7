//! The whole HTTP application as one function, so tests can drive it without a socket.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
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
        .layer(middleware::from_fn(run_to_completion))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
}

/// Runs the rest of the request in its own task, so that a client that disconnects (or the
/// timeout) cannot drop a handler half way through its transaction: it finishes and commits
/// or rolls back, instead of handing the next request a connection with a transaction open.
async fn run_to_completion(request: Request, next: Next) -> Response {
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(panic) => {
            tracing::error!(error = %panic, "request handler panicked");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use axum::middleware;
    use axum::routing::post;
    use tower::ServiceExt;

    use super::run_to_completion;

    #[tokio::test]
    async fn a_dropped_request_still_runs_to_completion() {
        let finished = Arc::new(AtomicBool::new(false));
        let flag = finished.clone();
        let app = Router::new()
            .route(
                "/slow",
                post(move || async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    flag.store(true, Ordering::SeqCst);
                }),
            )
            .layer(middleware::from_fn(run_to_completion));
        let request = Request::post("/slow").body(Body::empty()).unwrap();
        // The client gives up long before the handler is done.
        let gave_up = tokio::time::timeout(Duration::from_millis(5), app.oneshot(request)).await;
        assert!(gave_up.is_err());
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(finished.load(Ordering::SeqCst), "the handler was cut off");
    }
}

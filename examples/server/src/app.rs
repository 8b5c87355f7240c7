//! The whole HTTP application as one function, so tests can drive it without a socket.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::{Semaphore, watch};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::core::auth::Keys;
use crate::core::config::WritePolicy;
use crate::core::database::{ClientGone, Database};
use crate::core::error::AppError;
use crate::core::openapi;
use crate::modules;

/// Larger bodies are refused with 413 before any handler runs.
const BODY_LIMIT_BYTES: usize = 1024 * 1024;
/// A backstop: the database's own timeouts (see `core::database`) end a request's work long
/// before.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What handlers share. Its fields are private: module code reaches the database only through
/// the `Authorized` extractor's context, for its tenant.
#[derive(Clone, FromRef)]
pub struct AppState {
    database: Database,
    pub keys: Arc<Keys>,
    in_flight: Arc<Semaphore>,
    writes: WritePolicy,
}

impl AppState {
    /// `max_in_flight` bounds the requests being handled at once; more are answered 503.
    pub fn new(database: Database, keys: Arc<Keys>, max_in_flight: usize) -> AppState {
        AppState {
            database,
            keys,
            in_flight: Arc::new(Semaphore::new(max_in_flight)),
            writes: WritePolicy::default(),
        }
    }

    /// `REQUIRE_IF_MATCH` and `IDEMPOTENCY_RETENTION`, when not the defaults.
    pub fn with_writes(self, writes: WritePolicy) -> AppState {
        AppState { writes, ..self }
    }
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

/// Every module's routes, and the OpenAPI document that describes them.
fn routes() -> (Router<AppState>, serde_json::Value) {
    let (api, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(modules::router())
        .split_for_parts();
    // The test harness's resource, outside the document: the same with or without it.
    #[cfg(feature = "harness")]
    let api = api.merge(crate::testing::harness::router());
    let limits = openapi::Limits {
        body_bytes: BODY_LIMIT_BYTES,
        request_timeout: REQUEST_TIMEOUT,
    };
    (api, openapi::complete(&openapi, limits))
}

/// The OpenAPI document the server serves at `/openapi.json`, as `server openapi` prints it.
pub fn openapi_document() -> serde_json::Value {
    routes().1
}

pub fn app(state: AppState) -> Router {
    let (api, openapi) = routes();
    let api = api
        .fallback(not_found)
        .with_state(state.clone())
        // For the layers of links (`core::links::counts`), which run outside any handler.
        .layer(axum::Extension(state.clone()))
        .merge(SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", openapi))
        .layer(middleware::from_fn_with_state(
            state.in_flight.clone(),
            run_to_completion,
        ));
    // Health checks stay outside the bound on requests in flight: an overloaded instance is
    // alive, and says whether it is ready.
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
        .merge(api)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .layer(middleware::from_fn(request_timeout))
        .layer(TraceLayer::new_for_http())
}

/// Runs the rest of the request in its own task, so that a client that disconnects (or the
/// timeout) cannot drop a handler half way through its transaction: it finishes and commits
/// or rolls back, instead of handing the next request a connection with a transaction open.
/// A request that has not begun its transaction yet gives its place up instead (`ClientGone`).
///
/// At most `in_flight` requests run at once; the next ones are answered 503 at once rather than
/// queued, so the tasks spawned here are bounded too.
async fn run_to_completion(
    State(in_flight): State<Arc<Semaphore>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Ok(permit) = in_flight.try_acquire_owned() else {
        return AppError::Unavailable("the server has too many requests in flight".to_owned())
            .into_response();
    };
    // Dropped with this future, which is when the client has gone.
    let (_client_waits, client) = watch::channel(());
    request.extensions_mut().insert(ClientGone(client));
    let handler = tokio::spawn(async move {
        let response = next.run(request).await;
        drop(permit);
        response
    });
    match handler.await {
        Ok(response) => response,
        Err(panic) => AppError::Internal(anyhow::anyhow!("the request handler panicked: {panic}"))
            .into_response(),
    }
}

/// A request that takes longer than `REQUEST_TIMEOUT` is answered 504. Its handler may still be
/// running (see `run_to_completion`), so the answer says the outcome is unknown.
async fn request_timeout(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => AppError::TimedOut(REQUEST_TIMEOUT).into_response(),
    }
}

/// Liveness: the process answers.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers too, on a connection of its own.
async fn readyz(State(database): State<Database>) -> Result<&'static str, AppError> {
    database.ping().await?;
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
    use axum::http::{Request, StatusCode, header};
    use axum::middleware;
    use axum::routing::{get, post};
    use http_body_util::BodyExt;
    use tokio::sync::Semaphore;
    use tower::ServiceExt;

    use super::run_to_completion;

    fn bounded(router: Router, in_flight: usize) -> Router {
        router.layer(middleware::from_fn_with_state(
            Arc::new(Semaphore::new(in_flight)),
            run_to_completion,
        ))
    }

    // The clock is paused in these tests (`start_paused`): tokio moves it only when every task
    // waits, so a 50 ms handler always ends before a 200 ms wait does, however busy the
    // machine is.
    #[tokio::test(start_paused = true)]
    async fn a_dropped_request_still_runs_to_completion() {
        let finished = Arc::new(AtomicBool::new(false));
        let flag = finished.clone();
        let app = bounded(
            Router::new().route(
                "/slow",
                post(move || async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    flag.store(true, Ordering::SeqCst);
                }),
            ),
            8,
        );
        let request = Request::post("/slow").body(Body::empty()).unwrap();
        // The client gives up long before the handler is done.
        let gave_up = tokio::time::timeout(Duration::from_millis(5), app.oneshot(request)).await;
        assert!(gave_up.is_err());
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(finished.load(Ordering::SeqCst), "the handler was cut off");
    }

    #[tokio::test]
    async fn a_panic_is_a_problem_document() {
        let app = bounded(
            Router::new().route(
                "/boom",
                get(|| async {
                    let divisor = "0".parse::<u32>().unwrap();
                    (1 / divisor).to_string()
                }),
            ),
            8,
        );
        let response = app
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["detail"], "an internal error occurred");
    }

    #[tokio::test(start_paused = true)]
    async fn requests_beyond_the_bound_are_shed_with_503() {
        let app = bounded(
            Router::new().route(
                "/slow",
                get(|| async { tokio::time::sleep(Duration::from_millis(300)).await }),
            ),
            2,
        );
        let send = || {
            app.clone()
                .oneshot(Request::get("/slow").body(Body::empty()).unwrap())
        };
        let (a, b, c) = tokio::join!(send(), send(), async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            send().await
        });
        assert_eq!(a.unwrap().status(), StatusCode::OK);
        assert_eq!(b.unwrap().status(), StatusCode::OK);
        let shed = c.unwrap();
        assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(shed.headers()[header::RETRY_AFTER], "1");
        assert_eq!(
            shed.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }
}

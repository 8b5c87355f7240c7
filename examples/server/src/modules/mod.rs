//! Feature modules. `scaffold new module` adds one line above each `scaffold:` marker below;
//! keep the markers where they are.

use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;

pub mod projects;
// scaffold:modules

/// Every module's routes, with their OpenAPI descriptions.
pub fn router() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::new();
    router = router.merge(projects::router());
    // scaffold:routes
    router
}

//! What the modules `scaffold new link` generates share: lists of one side's rows joined with
//! a link's fields, the second permission those lists need, and `?counts=` on the sides' own
//! lists and GETs.
//!
//! Counts are a layer the link puts around the routes merged before it (the two sides'
//! among them), so that the sides' generated code knows nothing of the links made to them:
//! for `GET /api/projects?counts=tags` the layer takes `tags` out of the query, lets the
//! list answer, then counts every listed row's links in one statement and adds
//! `"tags_count"` to each row.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRef, FromRequestParts, Request};
use axum::http::{Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::core::auth::{Authorized, CurrentUser, Keys, Permission};
use crate::core::database::Database;
use crate::core::error::AppError;
use crate::core::json;
use crate::core::list::ListField;

/// The fields of a list of one side's rows with their link's: the side's, then the link's.
/// Made once per list, for the life of the process: a `ListSpec` holds `'static` fields.
pub fn joined_fields(
    side: &'static [ListField],
    link: &'static [ListField],
) -> &'static [ListField] {
    [side, link].concat().leak()
}

/// Refuses a caller without `permission`, as `Authorized` refuses one without the route's:
/// a list of linked rows needs read on the link (the route's) and on the side it lists.
pub fn require(user: &CurrentUser, permission: &str) -> Result<(), AppError> {
    if user.has(permission) {
        Ok(())
    } else {
        Err(AppError::PermissionDenied(format!(
            "this action requires the {permission} permission"
        )))
    }
}

/// One side of a link as `?counts=` sees it.
#[derive(Debug)]
pub struct Count {
    /// The side's list route: `/api/projects`. Its rows' GET is `<route>/{id}`.
    pub route: &'static str,
    /// The link as `counts=` names it from this side, and the key `<name>_count` (camelCase:
    /// `<name>Count`, see `core::json`): `tags`.
    pub name: &'static str,
    /// Pairs of a row id and its number of links, for the ids bound as `$1`:
    /// `SELECT project_id, count(*) FROM {schema}.project_tags WHERE project_id = ANY($1)
    /// GROUP BY project_id`.
    pub sql: &'static str,
}

/// `router` with `?counts=<count.name>` answered on `count.route`'s list and GET, for callers
/// with permission `P` (the link's read). Only routes merged into `router` so far are
/// wrapped, so a link is wired after its two sides. The request must carry the app's state
/// `S` as an extension (`app::app` adds it).
pub fn counts<S, P>(router: OpenApiRouter<S>, count: &'static Count) -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Keys>: FromRef<S>,
    Database: FromRef<S>,
    P: Permission + Send + Sync + 'static,
{
    router.layer(middleware::from_fn(move |request: Request, next: Next| {
        add_counts::<S, P>(count, request, next)
    }))
}

/// Which of a side's routes a path is.
enum Target {
    List,
    One,
}

fn target(route: &str, path: &str) -> Option<Target> {
    let rest = path.strip_prefix(route)?;
    if rest.is_empty() {
        return Some(Target::List);
    }
    let id = rest.strip_prefix('/')?;
    Uuid::parse_str(id).ok().map(|_| Target::One)
}

/// The query without `name` in its `counts`, or `None` when `counts` does not name it.
fn without(query: &str, name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    let mut found = false;
    let mut kept = Vec::with_capacity(pairs.len());
    for (param, value) in pairs {
        if param != "counts" || found {
            kept.push((param, value));
            continue;
        }
        let names: Vec<&str> = value.split(',').collect();
        if !names.contains(&name) {
            kept.push((param, value));
            continue;
        }
        found = true;
        let rest: Vec<&str> = names.into_iter().filter(|n| *n != name).collect();
        if !rest.is_empty() {
            kept.push((param, rest.join(",")));
        }
    }
    found.then(|| serde_urlencoded::to_string(&kept).expect("pairs of strings encode"))
}

async fn add_counts<S, P>(count: &'static Count, request: Request, next: Next) -> Response
where
    S: Clone + Send + Sync + 'static,
    Arc<Keys>: FromRef<S>,
    Database: FromRef<S>,
    P: Permission + Send + Sync + 'static,
{
    let uri = request.uri();
    let target = (request.method() == Method::GET)
        .then(|| target(count.route, uri.path()))
        .flatten();
    let query = uri.query().and_then(|query| without(query, count.name));
    let (Some(target), Some(query)) = (target, query) else {
        return next.run(request).await;
    };
    match counted::<S, P>(count, target, query, request, next).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn counted<S, P>(
    count: &'static Count,
    target: Target,
    query: String,
    request: Request,
    next: Next,
) -> Result<Response, AppError>
where
    S: Clone + Send + Sync + 'static,
    Arc<Keys>: FromRef<S>,
    Database: FromRef<S>,
    P: Permission + Send + Sync + 'static,
{
    let (mut parts, body) = request.into_parts();
    let state = parts.extensions.get::<S>().cloned().ok_or_else(|| {
        anyhow::anyhow!("?counts= needs the app's state as a request extension (app::app)")
    })?;
    let ctx = Authorized::<P>::from_request_parts(&mut parts, &state).await?;
    let path = parts.uri.path();
    let uri = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    parts.uri = Uri::try_from(uri).map_err(anyhow::Error::from)?;
    // The row's ETag is its version, which counts do not change: a 304 would keep a client's
    // stale counts, so a counted answer is always whole and carries no ETag.
    parts.headers.remove(header::IF_NONE_MATCH);
    let response = next.run(Request::from_parts(parts, body)).await;
    if response.status() != StatusCode::OK {
        return Ok(response);
    }
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::ETAG);
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(anyhow::Error::from)?;
    let mut json: Value = serde_json::from_slice(&bytes).map_err(anyhow::Error::from)?;
    let rows: Vec<&mut Value> = match target {
        Target::List => match json.get_mut("items").and_then(Value::as_array_mut) {
            Some(items) => items.iter_mut().collect(),
            None => Vec::new(),
        },
        Target::One => vec![&mut json],
    };
    let ids: Vec<Uuid> = rows
        .iter()
        .filter_map(|row| row.get("id")?.as_str()?.parse().ok())
        .collect();
    let mut db = ctx.db().await?;
    let counted: Vec<(Uuid, i64)> = sqlx::query_as(db.sql(count.sql))
        .bind(&ids)
        .fetch_all(db.conn())
        .await?;
    let counted: HashMap<Uuid, i64> = counted.into_iter().collect();
    let key = json::name(&format!("{}_count", count.name)).into_owned();
    for row in rows {
        let id: Option<Uuid> = row
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| id.parse().ok());
        let links = id.and_then(|id| counted.get(&id)).copied().unwrap_or(0);
        if let Some(row) = row.as_object_mut() {
            row.insert(key.clone(), links.into());
        }
    }
    let body = serde_json::to_vec(&json).map_err(anyhow::Error::from)?;
    parts.headers.remove(header::CONTENT_LENGTH);
    Ok(Response::from_parts(parts, Body::from(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_names_are_taken_out_of_the_query_one_at_a_time() {
        assert_eq!(without("counts=tags", "tags").as_deref(), Some(""));
        assert_eq!(
            without("name=a%20b&counts=members,tags&limit=5", "tags").as_deref(),
            Some("name=a+b&counts=members&limit=5")
        );
        assert_eq!(without("counts=members", "tags"), None);
        assert_eq!(without("tags=1", "tags"), None);
    }

    #[test]
    fn only_the_sides_list_and_its_rows_are_counted() {
        let id = Uuid::nil();
        assert!(matches!(
            target("/api/tags", "/api/tags"),
            Some(Target::List)
        ));
        assert!(matches!(
            target("/api/tags", &format!("/api/tags/{id}")),
            Some(Target::One)
        ));
        assert!(target("/api/tags", &format!("/api/tags/{id}/projects")).is_none());
        assert!(target("/api/tags", "/api/tagsx").is_none());
        assert!(target("/api/tags", "/api/tags/new").is_none());
    }
}

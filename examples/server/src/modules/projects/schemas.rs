//! Request and response types for projects, with their validation rules and OpenAPI
//! schemas. None of them has a tenant field: the tenant comes only from the caller's token.

use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::models::Project;
use crate::core::list::{ListField, ListKind, ListQuery, ListSpec, Listed};
use crate::core::patch;

/// What lists of projects filter, search and sort on, besides `id`, `created_at` and
/// `updated_at` (see `core::list`).
pub static LIST: ListSpec = ListSpec {
    table: "projects",
    fields: &[
        ListField {
            name: "name",
            column: "name",
            kind: ListKind::String,
            optional: false,
        },
        ListField {
            name: "description",
            column: "description",
            kind: ListKind::Text,
            optional: true,
        },
    ],
};

/// The list's query parameters, as the OpenAPI document shows them.
pub struct ProjectListParams;

impl IntoParams for ProjectListParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        LIST.openapi_params()
    }
}

/// Serialize: a create's `Idempotency-Key` compares bodies by their JSON (`core::idempotency`).
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
pub struct CreateProject {
    #[garde(length(chars, min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[garde(skip)]
    pub description: Option<String>,
}

/// A partial update: an absent field stays as it is; `null` clears an optional field.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateProject {
    #[serde(default, deserialize_with = "patch::required")]
    #[garde(length(chars, min = 1, max = 200))]
    #[schema(required = false, nullable = false, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[garde(skip)]
    #[schema(required = false, value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProjectResponse {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Changes on every update; the `ETag` of the project, for `If-Match`.
    pub version: i64,
}

impl From<Project> for ProjectResponse {
    fn from(row: Project) -> Self {
        ProjectResponse {
            id: row.id,
            name: row.name,
            description: row.description,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProjectPage {
    pub items: Vec<ProjectResponse>,
    pub limit: i64,
    /// The cursor of the next page, for `?after=`; null on the last page.
    pub next: Option<String>,
    /// How many projects the filters match, with `?count=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

impl ProjectPage {
    pub fn new(query: &ListQuery, listed: Listed<Project>) -> Self {
        ProjectPage {
            items: listed.rows.into_iter().map(ProjectResponse::from).collect(),
            limit: query.limit,
            next: listed.next,
            total: listed.total,
        }
    }
}

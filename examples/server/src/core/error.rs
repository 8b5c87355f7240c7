//! The one error type of the application. Services return it and know nothing of HTTP; the
//! single `IntoResponse` impl below turns it into an RFC 9457 `application/problem+json` body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    Unauthorized(String),
    /// Rejected before any handler ran: malformed JSON, a wrong content type, a path segment
    /// that is not a UUID. Carries the status the extractor chose (400, 413, 415).
    #[error("{1}")]
    Request(StatusCode, String),
    /// The request is well-formed but its content is invalid; each entry names a field.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Conflict(String),
    /// The service cannot answer for now: the tenant's schema is behind the binary's
    /// migrations until an operator runs `server migrate`.
    #[error("{0}")]
    Unavailable(String),
    /// Never shown to the client: logged where it is turned into a response.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's JSON path, or an empty string for the body as a whole.
    pub field: String,
    pub message: String,
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[schema(example = "about:blank")]
    pub r#type: &'static str,
    #[schema(example = "Not Found")]
    pub title: String,
    #[schema(example = 404)]
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl AppError {
    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        AppError::NotFound(format!("{what} {id} not found"))
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::PermissionDenied(_) => StatusCode::FORBIDDEN,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Request(status, _) => *status,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (detail, errors) = match self {
            AppError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                ("an internal error occurred".to_owned(), Vec::new())
            }
            AppError::Validation(errors) => {
                let detail = errors
                    .iter()
                    .map(|e| match e.field.as_str() {
                        "" => e.message.clone(),
                        field => format!("{field}: {}", e.message),
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                (detail, errors)
            }
            other => (other.to_string(), Vec::new()),
        };
        let problem = Problem {
            r#type: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors,
        };
        let mut response = (status, axum::Json(problem)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

/// Database errors that a client caused become client errors; everything else is internal.
impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        let Some(db) = error.as_database_error() else {
            return AppError::Internal(error.into());
        };
        let constraint = db.constraint().unwrap_or_default().to_owned();
        match db.code().as_deref() {
            // unique_violation
            Some("23505") => AppError::Conflict(format!(
                "a record with the same {} already exists",
                constraint_field(&constraint, db.table())
            )),
            // foreign_key_violation while deleting: other rows still refer to this one
            Some("23503") if db.message().starts_with("update or delete") => {
                AppError::Conflict(format!(
                    "still referred to by {}; delete or change those first",
                    db.table().unwrap_or("other records")
                ))
            }
            // foreign_key_violation while writing: the body names a row that does not exist
            Some("23503") => AppError::invalid(
                &constraint_field(&constraint, db.table()),
                "refers to a record that does not exist",
            ),
            // check_violation, not_null_violation: the schema types should have caught these
            Some("23514") | Some("23502") => AppError::invalid(
                &constraint_field(&constraint, db.table()),
                "violates a database constraint",
            ),
            _ => AppError::Internal(error.into()),
        }
    }
}

/// `projects_name_key` on table `projects` -> `name`: constraint names follow PostgreSQL's
/// own `<table>_<columns>_<suffix>` convention, which the migrations keep.
fn constraint_field(constraint: &str, table: Option<&str>) -> String {
    let without_table = table
        .and_then(|t| constraint.strip_prefix(t))
        .and_then(|rest| rest.strip_prefix('_'))
        .unwrap_or(constraint);
    ["_key", "_fkey", "_check", "_not_null"]
        .iter()
        .find_map(|suffix| without_table.strip_suffix(suffix))
        .unwrap_or(without_table)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::constraint_field;

    #[test]
    fn constraint_names_map_to_fields() {
        assert_eq!(
            constraint_field("projects_name_key", Some("projects")),
            "name"
        );
        assert_eq!(
            constraint_field("tasks_owner_id_fkey", Some("tasks")),
            "owner_id"
        );
        assert_eq!(constraint_field("odd", Some("tasks")), "odd");
        assert_eq!(constraint_field("tasks_title_key", None), "tasks_title");
    }
}

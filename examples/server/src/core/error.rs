//! The one error type of the application. Services return it and know nothing of HTTP; the
//! single `IntoResponse` impl below turns it into an RFC 9457 `application/problem+json` body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::core::json;
use crate::core::tenant::SCHEMA_PREFIX;

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
    /// `If-Match` named a version the row is no longer at: 412.
    #[error("{0}")]
    PreconditionFailed(String),
    /// A change without `If-Match` on a server that requires one: 428.
    #[error("{0}")]
    PreconditionRequired(String),
    /// The server or its database cannot take the request now (overload, a timeout that rolled
    /// the request back, the database unreachable, the tenant's schema behind the binary's
    /// migrations until an operator runs `server migrate`); trying again later may work. A 503
    /// with `Retry-After`.
    #[error("{0}")]
    Unavailable(String),
    /// The request ran past the server's request timeout; its outcome is unknown.
    #[error(
        "the request did not finish within {} s; it may still complete, so check its effect \
         before you retry a change",
        .0.as_secs()
    )]
    TimedOut(std::time::Duration),
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

    pub fn unavailable() -> Self {
        AppError::Unavailable("the database is unavailable; try again shortly".to_owned())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::PermissionDenied(_) => StatusCode::FORBIDDEN,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Request(status, _) => *status,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            AppError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::TimedOut(_) => StatusCode::GATEWAY_TIMEOUT,
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
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

/// `relation "tenant_acme.projects" does not exist`: a relation in a tenant's schema.
fn names_a_tenant_relation(message: &str) -> bool {
    message
        .strip_prefix("relation \"")
        .is_some_and(|name| name.starts_with(SCHEMA_PREFIX))
}

fn tenant_gone(error: &sqlx::Error) -> AppError {
    tracing::warn!(%error, "the tenant's schema or table is gone");
    AppError::Unauthorized("the tenant is not registered: it was deleted, with its data".to_owned())
}

/// The connection itself failed: I/O, the protocol, or the server ending the session
/// (admin_shutdown, crash_shutdown, cannot_connect_now, connection exceptions).
pub(crate) fn is_connection_failure(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            ["57P01", "57P02", "57P03"].contains(&code.as_ref()) || code.starts_with("08")
        }),
        _ => false,
    }
}

/// Database errors that a client caused become client errors, those that trying again may
/// cure 503s; everything else is internal.
impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        let unavailable = |detail: &str| {
            tracing::warn!(%error, "{detail}");
            AppError::Unavailable(detail.to_owned())
        };
        let db = match &error {
            sqlx::Error::Database(db) => db,
            sqlx::Error::PoolTimedOut => {
                return unavailable(
                    "no database connection became free in time; try again shortly",
                );
            }
            sqlx::Error::PoolClosed => return unavailable("the server is shutting down"),
            sqlx::Error::Io(_) => {
                return unavailable("the database connection failed; try again shortly");
            }
            _ => return AppError::Internal(error.into()),
        };
        let constraint = db.constraint().unwrap_or_default().to_owned();
        // The key's columns as PostgreSQL reports them, else the constraint's name (which a
        // long table or column name shortens to a hash).
        let detail = db
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .and_then(|pg| pg.detail());
        let key_field = detail
            .and_then(key_columns)
            .map(str::to_owned)
            .unwrap_or_else(|| constraint_field(&constraint, db.table()));
        let key_field = json::name(&key_field).into_owned();
        match db.code().as_deref() {
            // unique_violation
            Some("23505") => {
                AppError::Conflict(format!("a record with the same {key_field} already exists"))
            }
            // foreign_key_violation while deleting: other rows still refer to this one
            Some("23503") if db.message().starts_with("update or delete") => {
                AppError::Conflict(format!(
                    "still referred to by {}; delete or change those first",
                    db.table().unwrap_or("other records")
                ))
            }
            // foreign_key_violation while writing: the body names a row that does not exist
            Some("23503") => {
                AppError::invalid(&key_field, "refers to a record that does not exist")
            }
            // query_canceled: statement_timeout ended the statement, and with it the transaction
            Some("57014") => unavailable(
                "the request took longer than the database's statement timeout and was \
                 rolled back; nothing was changed",
            ),
            // lock_not_available: lock_timeout
            Some("55P03") => unavailable(
                "the request waited longer than the lock timeout for data another request \
                 holds, and was rolled back; nothing was changed",
            ),
            // serialization_failure, deadlock_detected: rolled back, safe to retry
            Some("40001") | Some("40P01") => unavailable(
                "the request collided with a concurrent one and was rolled back; nothing was \
                 changed, try again",
            ),
            // idle_in_transaction_session_timeout, the server shutting down or starting,
            // too many connections, connection exceptions (class 08)
            Some(code)
                if ["25P03", "57P01", "57P02", "57P03", "53300"].contains(&code)
                    || code.starts_with("08") =>
            {
                unavailable("the database is unavailable; try again shortly")
            }
            // Values PostgreSQL cannot store though the types let them through: a date before
            // 4713 BC, a string with U+0000, a number beyond a column's range.
            Some("22001") | Some("22003") | Some("22008") | Some("22021") | Some("22P05") => {
                AppError::invalid(
                    "",
                    format!(
                        "a value is outside what the database can store: {}",
                        db.message()
                    ),
                )
            }
            // Statements name the tenant's schema (see `db::Db::sql`), so a schema, or a table
            // in a tenant schema, that does not exist means the tenant was deleted after the
            // server looked it up (a statement that waited behind `DROP SCHEMA` finds the
            // table gone). Logged, in case it was a misspelt table instead.
            Some("3F000") => tenant_gone(&error),
            Some("42P01") if names_a_tenant_relation(db.message()) => tenant_gone(&error),
            // check_violation, not_null_violation: the schema types should have caught these
            Some("23514") | Some("23502") => AppError::invalid(
                &json::name(&constraint_field(&constraint, db.table())),
                "violates a database constraint",
            ),
            _ => AppError::Internal(error.into()),
        }
    }
}

/// `Key (code)=(x) already exists.` -> `code`: the columns of a unique or foreign key
/// violation, from its detail.
fn key_columns(detail: &str) -> Option<&str> {
    let (columns, _) = detail.strip_prefix("Key (")?.split_once(")=")?;
    // A column named like a keyword is quoted there (`"order"`); the field is the bare word.
    Some(
        columns
            .strip_prefix('"')
            .and_then(|c| c.strip_suffix('"'))
            .unwrap_or(columns),
    )
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
    use super::{constraint_field, key_columns};

    #[test]
    fn key_columns_come_from_the_detail() {
        assert_eq!(key_columns("Key (code)=(c1) already exists."), Some("code"));
        assert_eq!(
            key_columns("Key (owner_id)=(3f25) is not present in table \"users\"."),
            Some("owner_id")
        );
        assert_eq!(
            key_columns("Key (\"order\")=(7) already exists."),
            Some("order")
        );
        assert_eq!(key_columns("Failing row contains (x)."), None);
    }

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

//! Extractors whose rejections are problem documents like every other error, so that clients
//! never see axum's plain-text rejections.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use garde::Validate;
use serde::de::DeserializeOwned;

use crate::core::error::{AppError, FieldError};

/// A path parameter; a malformed one (say, an id that is not a UUID) is a 400 problem.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

/// Query parameters; a malformed one is a 400 problem.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

/// A JSON body, parsed and then validated with its garde rules before the handler sees it.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

impl<S, T> FromRequest<S> for ValidJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
    T::Context: Default,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        validate(&value)?;
        Ok(ValidJson(value))
    }
}

/// Runs `value`'s garde rules, reporting every failing field.
pub fn validate<T>(value: &T) -> Result<(), AppError>
where
    T: Validate,
    T::Context: Default,
{
    value.validate().map_err(|report| {
        AppError::Validation(
            report
                .iter()
                .map(|(path, error)| FieldError {
                    field: path.to_string(),
                    message: error.message().to_owned(),
                })
                .collect(),
        )
    })
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            // Well-formed JSON of the wrong shape (a missing field, a string for a number):
            // a validation problem, with serde's message naming the field.
            JsonRejection::JsonDataError(error) => AppError::invalid("", error.body_text()),
            other => AppError::Request(other.status(), other.body_text()),
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        AppError::Request(rejection.status(), rejection.body_text())
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::Request(rejection.status(), rejection.body_text())
    }
}

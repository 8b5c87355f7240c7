//! Extractors whose rejections are problem documents like every other error, so that clients
//! never see axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header};
use garde::Validate;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

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
        let content_type = req.headers().get(header::CONTENT_TYPE);
        if !content_type
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json)
        {
            return Err(AppError::Request(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected a body with Content-Type: application/json".to_owned(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await?;
        let value = parse_json(&bytes)?;
        reject_nul(&bytes)?;
        validate(&value)?;
        Ok(ValidJson(value))
    }
}

/// `application/json` or `application/<something>+json`, parameters such as charset aside.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let essence = essence.to_ascii_lowercase();
    essence == "application/json"
        || essence.starts_with("application/") && essence.ends_with("+json")
}

/// Parses a JSON body, naming the field at fault: a syntax error is a 400, a well-formed body
/// of the wrong shape (a missing field, a string for a number, an unknown enum value) a 422.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        // serde_json reports some shape errors as syntax errors (a number where an enum's
        // string belongs), so only a body that is not JSON at all counts as malformed.
        let well_formed = inner.classify() == Category::Data
            || serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
        if well_formed {
            let field = if path == "." { String::new() } else { path };
            AppError::invalid(&field, strip_position(&inner.to_string()))
        } else {
            AppError::Request(StatusCode::BAD_REQUEST, format!("malformed JSON: {inner}"))
        }
    })?;
    deserializer.end().map_err(|error| {
        AppError::Request(StatusCode::BAD_REQUEST, format!("malformed JSON: {error}"))
    })?;
    Ok(value)
}

/// PostgreSQL's `text` and `jsonb` cannot hold U+0000, so a string with one would fail its
/// query with a 500. In a JSON body it can only be spelled `\u0000`: a body without that text
/// costs one scan, and only a body with it is walked to name the field.
fn reject_nul(bytes: &[u8]) -> Result<(), AppError> {
    if !bytes.windows(6).any(|window| window == b"\\u0000") {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(());
    };
    match field_with_nul(&value, "") {
        Some(field) => Err(AppError::invalid(
            &field,
            "must not contain the character U+0000 (NUL)",
        )),
        None => Ok(()),
    }
}

/// The path, as serde_path_to_error writes it (`meta.tags[2]`), of the first string or key
/// holding a NUL.
fn field_with_nul(value: &serde_json::Value, path: &str) -> Option<String> {
    match value {
        serde_json::Value::String(text) => text.contains('\0').then(|| path.to_owned()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| field_with_nul(item, &format!("{path}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key.contains('\0') {
                Some(path)
            } else {
                field_with_nul(item, &path)
            }
        }),
        _ => None,
    }
}

/// serde_json ends its messages with ` at line 1 column 12`, noise to an API client.
fn strip_position(message: &str) -> &str {
    message
        .rsplit_once(" at line ")
        .map_or(message, |(message, _)| message)
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

impl From<BytesRejection> for AppError {
    fn from(rejection: BytesRejection) -> Self {
        AppError::Request(rejection.status(), rejection.body_text())
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

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::{StatusCode, parse_json, reject_nul};
    use crate::core::error::AppError;
    use crate::core::patch;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Update {
        #[serde(default, deserialize_with = "patch::required")]
        title: Option<String>,
        #[serde(default, deserialize_with = "patch::required")]
        score: Option<f64>,
        #[serde(default, deserialize_with = "patch::required")]
        budget: Option<rust_decimal::Decimal>,
        #[serde(default, deserialize_with = "patch::required")]
        status: Option<Status>,
    }

    #[derive(Debug, Deserialize)]
    enum Status {
        #[serde(rename = "open")]
        Open,
    }

    fn field_of(json: &str) -> String {
        match parse_json::<Update>(json.as_bytes()) {
            Err(AppError::Validation(errors)) => errors[0].field.clone(),
            other => panic!("{json}: {other:?}"),
        }
    }

    #[test]
    fn data_errors_name_the_field() {
        assert_eq!(field_of(r#"{"title": null}"#), "title");
        assert_eq!(field_of(r#"{"score": null}"#), "score");
        assert_eq!(field_of(r#"{"budget": null}"#), "budget");
        assert_eq!(field_of(r#"{"score": "twelve"}"#), "score");
        assert_eq!(field_of(r#"{"status": null}"#), "status");
        assert_eq!(field_of(r#"{"status": 12}"#), "status");
        assert_eq!(field_of(r#"{"status": "closed"}"#), "status");
        assert!(matches!(
            parse_json::<Update>(br#"{"status": "open""#),
            Err(AppError::Request(status, _)) if status == StatusCode::BAD_REQUEST
        ));
    }

    fn nul_field(json: &str) -> Option<String> {
        match reject_nul(json.as_bytes()) {
            Ok(()) => None,
            Err(AppError::Validation(errors)) => Some(errors[0].field.clone()),
            Err(other) => panic!("{json}: {other:?}"),
        }
    }

    #[test]
    fn a_nul_character_names_its_field() {
        assert_eq!(
            nul_field(r#"{"title": "a\u0000b"}"#).as_deref(),
            Some("title")
        );
        assert_eq!(
            nul_field(r#"{"title": "ok", "meta": {"tags": ["x", "\u0000"]}}"#).as_deref(),
            Some("meta.tags[1]")
        );
        assert_eq!(
            nul_field(r#"{"meta": {"\u0000": 1}}"#).as_deref(),
            Some("meta.\0")
        );
        // An escaped backslash followed by `u0000` is no NUL.
        assert_eq!(nul_field(r#"{"title": "C:\\u0000"}"#), None);
        assert_eq!(nul_field(r#"{"title": "plain"}"#), None);
    }

    #[test]
    fn deep_nesting_and_huge_numbers_are_client_errors() {
        let deep = format!(
            "{{\"title\": {}1{}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        for json in [
            deep.as_str(),
            r#"{"score": 1e400}"#,
            r#"{"title": 123456789012345678901234567890}"#,
        ] {
            match parse_json::<Update>(json.as_bytes()) {
                Err(AppError::Request(status, _)) => assert_eq!(status, StatusCode::BAD_REQUEST),
                Err(AppError::Validation(_)) => {}
                other => panic!("{}: {other:?}", &json[..json.len().min(40)]),
            }
        }
    }
}

//! Extractors whose rejections are problem documents like every other error, so that clients
//! never see axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header};
use garde::Validate;
use serde::de::DeserializeOwned;

use crate::core::error::{AppError, FieldError};
use crate::core::json;

/// A path parameter; a malformed one (say, an id that is not a UUID) is a 400 problem.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

/// `value` as one segment of a URL path, for the `Location` of a row named by a key
/// (`/api/articles/{slug}`): every byte but RFC 3986's unreserved characters is
/// percent-encoded, so that a key with `/`, `?`, `%`, spaces or non-ASCII letters comes back
/// through [`Path`] as it was.
pub fn path_segment(value: &str) -> String {
    let mut segment = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            segment.push(char::from(byte));
        } else {
            segment.push_str(&format!("%{byte:02X}"));
        }
    }
    segment
}

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
/// of the wrong shape (not an object, a missing field, a string for a number, an unknown enum
/// value) or a string holding U+0000 a 422. A field the type does not have is ignored, NUL and
/// all. The OpenAPI document says the same (see `core::openapi`).
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut body: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| {
        AppError::Request(StatusCode::BAD_REQUEST, format!("malformed JSON: {error}"))
    })?;
    // serde's derived structs also read a JSON array, as their fields in order, so `[]` would
    // be an empty patch.
    let Some(fields) = body.as_object_mut() else {
        return Err(AppError::invalid("", "the body must be a JSON object"));
    };
    // JSON has one kind of number, and JSON Schema counts `2.0` as an integer; serde reads
    // it into a float only. A field's value or, for an array field, each of its elements.
    let integral = |n: &f64| n.fract() == 0.0 && (i64::MIN as f64..i64::MAX as f64).contains(n);
    let as_integer = |value: &mut serde_json::Value| {
        if let Some(whole) = value.as_f64().filter(integral)
            && value.is_f64()
        {
            *value = serde_json::Value::from(whole as i64);
        }
    };
    for value in fields.values_mut() {
        match value {
            serde_json::Value::Array(elements) => elements.iter_mut().for_each(as_integer),
            value => as_integer(value),
        }
    }
    let mut unknown = Vec::new();
    let mut note_unknown = |path: serde_ignored::Path| unknown.push(path.to_string());
    let parsed = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(
        &body,
        &mut note_unknown,
    ));
    match parsed {
        Ok(value) => {
            if let Some(fields) = body.as_object_mut() {
                // serde_ignored names a top-level key as it is, and only top-level keys are
                // ignored: a type's nested values are JSON values, read whole.
                fields.retain(|key, _| !unknown.contains(key));
            }
            reject_nul(bytes, &body)?;
            Ok(value)
        }
        Err(first) => Err(AppError::Validation(wrong_fields::<T>(first, body))),
    }
}

/// Every field of a well-formed body that does not fit `T`, as far as serde can tell: it
/// stops at the first problem, so each wrong top-level field is taken out and the body parsed
/// again, until it parses or only fields already reported are missing.
fn wrong_fields<T: DeserializeOwned>(
    first: serde_path_to_error::Error<serde_json::Error>,
    mut body: serde_json::Value,
) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let mut next = Some(first);
    while let Some(error) = next.take() {
        let path = error.path().to_string();
        let message = field_message(&error.into_inner());
        let field = match (path.as_str(), missing_field(&message)) {
            (".", Some(missing)) => missing.to_owned(),
            (".", None) => String::new(),
            _ => path,
        };
        if errors.iter().any(|known| known.field == field) {
            break;
        }
        errors.push(FieldError {
            field: field.clone(),
            message,
        });
        // The top-level key the problem is under, taken out to find the next one.
        let key = field.split(['.', '[']).next().unwrap_or_default();
        let removed = body.as_object_mut().and_then(|object| object.remove(key));
        if removed.is_none() {
            break;
        }
        next = serde_path_to_error::deserialize::<_, T>(&body).err();
    }
    errors
}

/// The field a "missing field `name`" message is about.
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

/// serde's message for a field, said the way an API client needs it.
fn field_message(error: &serde_json::Error) -> String {
    let message = strip_position(&error.to_string()).to_owned();
    // rust_decimal is built with `serde-str`: a decimal is read only from a string, never
    // through a float that could lose digits.
    if message.contains("expected a Decimal type") {
        return "a decimal is sent as a JSON string, such as \"12.50\", so that no digit is \
                lost"
            .to_owned();
    }
    message
}

/// PostgreSQL's `text` and `jsonb` cannot hold U+0000, so a string with one would fail its
/// query with a 500. In a JSON body it can only be spelled `\u0000`: a body without that text
/// costs one scan, and only a body with it is walked to name the field.
fn reject_nul(bytes: &[u8], body: &serde_json::Value) -> Result<(), AppError> {
    if !bytes.windows(6).any(|window| window == b"\\u0000") {
        return Ok(());
    }
    match field_with_nul(body, "") {
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
                    // garde names a field by its Rust identifier, raw for a keyword
                    // (`r#type`) and in snake_case; the client knows it by its JSON name.
                    field: json::name(&path.to_string().replace("r#", "")).into_owned(),
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

    use super::{StatusCode, is_json, parse_json, path_segment, validate};
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
        fields_of::<Update>(json)[0].clone()
    }

    fn fields_of<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) -> Vec<String> {
        match parse_json::<T>(json.as_bytes()) {
            Err(AppError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("{json}: {other:?}"),
        }
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Create {
        name: String,
        count: i32,
        due_on: Option<chrono::NaiveDate>,
    }

    #[derive(garde::Validate)]
    struct Keyworded {
        #[garde(length(chars, max = 3))]
        r#type: String,
    }

    #[test]
    fn a_field_named_like_a_keyword_is_named_by_its_json_name() {
        let invalid = Keyworded {
            r#type: "long".to_owned(),
        };
        match validate(&invalid) {
            Err(AppError::Validation(errors)) => assert_eq!(errors[0].field, "type"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn json_and_json_based_content_types_are_json() {
        for json in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/merge-patch+json",
        ] {
            assert!(is_json(json), "{json}");
        }
        for other in [
            "text/plain",
            "application/xml",
            "text/x+json",
            "application/jsonp",
        ] {
            assert!(!is_json(other), "{other}");
        }
    }

    #[test]
    fn a_missing_field_is_named() {
        assert_eq!(fields_of::<Create>(r#"{"count": 1}"#), ["name"]);
        match parse_json::<Create>(br#"{"count": 1}"#) {
            Err(AppError::Validation(errors)) => {
                assert_eq!(errors[0].message, "missing field `name`")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_wrong_field_is_reported() {
        // In the order of their names: the body is read as a JSON value first.
        assert_eq!(
            fields_of::<Create>(r#"{"name": 5, "count": "x", "due_on": "soon"}"#),
            ["count", "due_on", "name"]
        );
        // A wrong field and, once it is out of the way, the missing one.
        assert_eq!(fields_of::<Create>(r#"{"count": "x"}"#), ["count", "name"]);
        // A body of the wrong shape as a whole is named by the empty field, like the database's
        // errors about no field in particular.
        assert_eq!(fields_of::<Create>(r#""a name""#), [""]);
    }

    #[test]
    fn a_body_is_an_object() {
        // serde alone reads `[]` as an `Update` with no field set: an empty patch.
        assert!(serde_json::from_str::<Update>("[]").is_ok());
        for json in ["[]", " [\"x\", 1]", "null", "7"] {
            assert_eq!(fields_of::<Update>(json), [""], "{json}");
        }
        assert!(matches!(
            parse_json::<Update>(b"[1,"),
            Err(AppError::Request(status, _)) if status == StatusCode::BAD_REQUEST
        ));
        assert!(parse_json::<Update>(b" {}").is_ok());
    }

    #[test]
    fn a_whole_number_written_with_a_fraction_is_an_integer() {
        // JSON Schema's `integer` takes `2.0`; serde alone reads it only into a float.
        assert!(serde_json::from_str::<Create>(r#"{"name": "n", "count": 2.0}"#).is_err());
        let create = parse_json::<Create>(br#"{"name": "n", "count": -920050856.0}"#).unwrap();
        assert_eq!(create.count, -920050856);
        assert_eq!(
            fields_of::<Create>(r#"{"name": "n", "count": 2.5}"#),
            ["count"]
        );
        assert_eq!(
            fields_of::<Create>(r#"{"name": "n", "count": 3e9}"#),
            ["count"]
        );
        // And each element of an array field.
        #[derive(Debug, serde::Deserialize)]
        struct Scores {
            scores: Vec<i64>,
        }
        let scores = parse_json::<Scores>(br#"{"scores": [324.0, 7, -90.0]}"#).unwrap();
        assert_eq!(scores.scores, [324, 7, -90]);
        assert!(parse_json::<Scores>(br#"{"scores": [1.5]}"#).is_err());
    }

    #[test]
    fn a_number_postgresql_writes_back_is_read_again() {
        // jsonb keeps 1.7976931348623157e308 as a numeric and writes it back in full; without
        // serde_json's float_roundtrip, reading the row back failed with a 500.
        let written = format!("[17976931348623157{}]", "0".repeat(292));
        let read: serde_json::Value = serde_json::from_str(&written).unwrap();
        assert_eq!(read[0].as_f64(), Some(f64::MAX));
    }

    #[test]
    fn a_field_the_request_does_not_have_is_ignored() {
        // As the OpenAPI document says: request bodies leave `additionalProperties` open.
        let update = parse_json::<Update>(br#"{"title": "t", "titel": "u", "x": {"y": 1}}"#);
        assert_eq!(update.unwrap().title.as_deref(), Some("t"));
        let create = parse_json::<Create>(br#"{"name": "n", "count": 1, "id": "x"}"#).unwrap();
        assert_eq!((create.name.as_str(), create.count), ("n", 1));
    }

    #[test]
    fn a_decimal_must_be_a_string() {
        match parse_json::<Update>(br#"{"budget": 12.5}"#) {
            Err(AppError::Validation(errors)) => {
                assert_eq!(errors[0].field, "budget");
                assert!(
                    errors[0].message.contains("JSON string, such as"),
                    "{errors:?}"
                );
            }
            other => panic!("{other:?}"),
        }
        let update = parse_json::<Update>(br#"{"budget": "12.50"}"#).unwrap();
        assert_eq!(update.budget.unwrap().to_string(), "12.50");
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

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Note {
        title: Option<String>,
        meta: Option<serde_json::Value>,
    }

    fn nul_field(json: &str) -> Option<String> {
        match parse_json::<Note>(json.as_bytes()) {
            Ok(_) => None,
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
        // A field the request does not have is ignored, whatever it holds.
        assert_eq!(nul_field(r#"{"title": "ok", "x\u0000": "\u0000"}"#), None);
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

    #[test]
    fn a_path_segment_keeps_only_unreserved_characters() {
        assert_eq!(path_segment("hello-world_1.2~"), "hello-world_1.2~");
        assert_eq!(path_segment("a/b?c d%"), "a%2Fb%3Fc%20d%25");
        assert_eq!(path_segment("café"), "caf%C3%A9");
    }
}

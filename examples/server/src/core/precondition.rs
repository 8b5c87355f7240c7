//! Conditional requests (RFC 9110, section 13) on a row's `version`, its strong entity tag
//! `"<version>"`: `If-None-Match` on reads (304), `If-Match` on writes (412), and
//! `REQUIRE_IF_MATCH` (428 without one).
//!
//! The tags are parsed here, not with the `headers` crate: its `IfMatch` only answers whether
//! one given tag passes, and a write must hand the tags it accepts to its `UPDATE ... WHERE`,
//! so that the check and the write are one statement.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::{ETAG, IF_MATCH, IF_NONE_MATCH};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::core::config::WritePolicy;
use crate::core::error::AppError;

/// The `ETag` header of a row at `version`.
pub fn etag(version: i64) -> (HeaderName, HeaderValue) {
    let value = HeaderValue::from_str(&format!("\"{version}\"")).expect("digits and quotes");
    (ETAG, value)
}

/// The versions a write may change, from `If-Match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// No `If-Match`, or `If-Match: *`: any existing row.
    Any,
    /// The versions named by strong tags. Weak tags and tags this server never sent match no
    /// row (RFC 9110 compares `If-Match` strongly), so the list may be empty.
    Versions(Vec<i64>),
}

impl Expected {
    /// For the statement: `NULL` (any version) or the versions to accept.
    pub fn versions(&self) -> Option<&[i64]> {
        match self {
            Expected::Any => None,
            Expected::Versions(versions) => Some(versions),
        }
    }
}

/// Why a conditional change matched no row: there is none (404), or it is at `current`, a
/// version `If-Match` did not name (412, naming it).
pub fn missed(what: &str, id: impl std::fmt::Display, current: Option<i64>) -> AppError {
    match current {
        None => AppError::not_found(what, id),
        Some(version) => AppError::PreconditionFailed(format!(
            "{what} {id} has changed: it is at version {version} (ETag \"{version}\"), not one \
             that If-Match named; fetch it again and reapply your change"
        )),
    }
}

/// `If-Match`, checked for syntax (400), and required when `REQUIRE_IF_MATCH` says so (428).
#[derive(Debug, Clone)]
pub struct IfMatch(pub Expected);

impl<S> FromRequestParts<S> for IfMatch
where
    S: Send + Sync,
    WritePolicy: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match tags(&parts.headers, &IF_MATCH, "If-Match")? {
            Some(Tags::Any) => Ok(IfMatch(Expected::Any)),
            Some(Tags::List(list)) => Ok(IfMatch(Expected::Versions(
                list.iter()
                    .filter(|tag| !tag.weak)
                    .filter_map(Tag::version)
                    .collect(),
            ))),
            None if WritePolicy::from_ref(state).require_if_match => {
                Err(AppError::PreconditionRequired(
                    "this server requires If-Match on changes: send the ETag of the version \
                     you read (If-Match: \"<version>\"), or If-Match: * to change it whatever \
                     its version"
                        .to_owned(),
                ))
            }
            None => Ok(IfMatch(Expected::Any)),
        }
    }
}

/// `If-None-Match`, checked for syntax (400).
#[derive(Debug, Clone)]
pub struct IfNoneMatch(Option<Tags>);

impl IfNoneMatch {
    /// Whether the client already has `version` (weak comparison, RFC 9110 13.1.2), so a GET
    /// answers 304.
    pub fn holds(&self, version: i64) -> bool {
        match &self.0 {
            None => false,
            Some(Tags::Any) => true,
            Some(Tags::List(list)) => list.iter().any(|tag| tag.version() == Some(version)),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfNoneMatch {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(IfNoneMatch(tags(
            &parts.headers,
            &IF_NONE_MATCH,
            "If-None-Match",
        )?))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tags {
    Any,
    List(Vec<Tag>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Tag {
    weak: bool,
    opaque: String,
}

impl Tag {
    /// The version this server's tag names; `None` for a tag it never sent.
    fn version(&self) -> Option<i64> {
        let digits = self.opaque.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| self.opaque.parse().ok()).flatten()
    }
}

/// The header's tags; every field line of it counts (RFC 9110 5.3). `label` names it in
/// errors as clients write it (`HeaderName` is lower case).
fn tags(headers: &HeaderMap, name: &HeaderName, label: &str) -> Result<Option<Tags>, AppError> {
    let mut lines = headers.get_all(name).iter().peekable();
    if lines.peek().is_none() {
        return Ok(None);
    }
    let malformed = || {
        AppError::Request(
            StatusCode::BAD_REQUEST,
            format!(
                "the {label} header is malformed: expected * or a list of entity tags such as \
                 \"3\" or W/\"3\""
            ),
        )
    };
    let mut list = Vec::new();
    for line in lines {
        let text = line.to_str().map_err(|_| malformed())?;
        if text.trim() == "*" {
            return Ok(Some(Tags::Any));
        }
        for item in text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            list.push(parse_tag(item).ok_or_else(malformed)?);
        }
    }
    if list.is_empty() {
        return Err(malformed());
    }
    Ok(Some(Tags::List(list)))
}

/// `entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE`, where `etagc` is any visible character but
/// the quote. A comma cannot occur inside a tag, so splitting the list on commas is exact.
fn parse_tag(text: &str) -> Option<Tag> {
    let (weak, quoted) = match text.strip_prefix("W/") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let opaque = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let etagc = |b: u8| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80;
    opaque.bytes().all(etagc).then(|| Tag {
        weak,
        opaque: opaque.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: &HeaderName, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn if_match(values: &[&str]) -> Result<Option<Tags>, AppError> {
        tags(&headers(&IF_MATCH, values), &IF_MATCH, "If-Match")
    }

    fn tag(weak: bool, opaque: &str) -> Tag {
        Tag {
            weak,
            opaque: opaque.to_owned(),
        }
    }

    #[test]
    fn tags_are_parsed_from_every_line_of_the_header() {
        assert_eq!(if_match(&[]).unwrap(), None);
        assert_eq!(if_match(&["*"]).unwrap(), Some(Tags::Any));
        assert_eq!(
            if_match(&["\"3\", W/\"4\"", "\"x\""]).unwrap(),
            Some(Tags::List(vec![
                tag(false, "3"),
                tag(true, "4"),
                tag(false, "x")
            ]))
        );
        assert_eq!(
            if_match(&["\"\""]).unwrap(),
            Some(Tags::List(vec![tag(false, "")]))
        );
    }

    #[test]
    fn malformed_tags_are_a_400() {
        for bad in [
            "3",
            "\"3",
            "3\"",
            "w/\"3\"",
            "\"a\"b\"",
            "W/3",
            "",
            " , ",
            "\"3\" \"4\"",
        ] {
            let error = if_match(&[bad]).expect_err(bad);
            assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{bad}");
            assert!(error.to_string().contains("If-Match"), "{error}");
        }
    }

    #[test]
    fn only_strong_tags_of_versions_name_versions() {
        assert_eq!(tag(false, "12").version(), Some(12));
        for other in ["-1", "+1", "1.0", "", "abc", "99999999999999999999"] {
            assert_eq!(tag(false, other).version(), None, "{other}");
        }
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let none_match = |values: &[&str]| {
            let map = headers(&IF_NONE_MATCH, values);
            IfNoneMatch(tags(&map, &IF_NONE_MATCH, "If-None-Match").unwrap())
        };
        assert!(none_match(&["W/\"5\""]).holds(5));
        assert!(none_match(&["\"4\", \"5\""]).holds(5));
        assert!(none_match(&["*"]).holds(1));
        assert!(!none_match(&["\"4\""]).holds(5));
        assert!(!none_match(&[]).holds(5));
    }

    #[test]
    fn a_miss_is_a_404_or_a_412_naming_the_version() {
        assert_eq!(missed("project", 1, None).status(), StatusCode::NOT_FOUND);
        let stale = missed("project", 1, Some(4));
        assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
        assert!(
            stale.to_string().contains("version 4 (ETag \"4\")"),
            "{stale}"
        );
    }

    #[test]
    fn the_etag_quotes_the_version() {
        assert_eq!(etag(7), (ETAG, HeaderValue::from_static("\"7\"")));
    }
}

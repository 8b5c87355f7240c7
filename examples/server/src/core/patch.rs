//! Partial updates (PATCH). A field absent from the body stays as it is; for an optional field,
//! `null` clears it. Use with `#[serde(default, deserialize_with = "...")]`, so that absence
//! falls back to `None` and these functions only run for fields that are present.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// For a required field: present means `Some(value)`; `null` is rejected, since the field
/// cannot be cleared.
pub fn required<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    non_null(deserializer).map(Some)
}

/// A required value that is never `null`, even where its type could hold one: a required
/// `json` field (a `serde_json::Value`) takes any JSON document but `null`, which would leave
/// the field as good as empty.
pub fn non_null<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer)?
        .ok_or_else(|| D::Error::custom("must not be null: the field is required"))
}

/// For an optional field: present means `Some(Some(value))`, `null` means `Some(None)`.
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Update {
        #[serde(default, deserialize_with = "super::required")]
        name: Option<String>,
        #[serde(default, deserialize_with = "super::nullable")]
        note: Option<Option<String>>,
    }

    fn parse(json: &str) -> Result<Update, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn absent_null_and_present_are_distinct() {
        assert_eq!(
            parse("{}").unwrap(),
            Update {
                name: None,
                note: None
            }
        );
        assert_eq!(
            parse(r#"{"name":"a","note":null}"#).unwrap(),
            Update {
                name: Some("a".into()),
                note: Some(None)
            }
        );
        assert_eq!(
            parse(r#"{"note":"n"}"#).unwrap().note,
            Some(Some("n".into()))
        );
        assert!(parse(r#"{"name":null}"#).is_err());
    }

    #[derive(Debug, Deserialize)]
    struct Document {
        #[serde(deserialize_with = "super::non_null")]
        body: serde_json::Value,
        #[serde(default, deserialize_with = "super::required")]
        meta: Option<serde_json::Value>,
    }

    #[test]
    fn required_json_is_never_null() {
        let parse = serde_json::from_str::<Document>;
        let document = parse(r#"{"body":{"a":1},"meta":[]}"#).unwrap();
        assert_eq!(document.body, serde_json::json!({"a": 1}));
        assert_eq!(document.meta, Some(serde_json::json!([])));
        assert_eq!(parse(r#"{"body":false}"#).unwrap().body, false);
        for body in [r#"{"body":null}"#, r#"{"body":1,"meta":null}"#, "{}"] {
            assert!(parse(body).is_err(), "{body}");
        }
    }
}

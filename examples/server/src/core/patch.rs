//! Partial updates (PATCH). A field absent from the body stays as it is; for an optional field,
//! `null` clears it. Use with `#[serde(default, deserialize_with = "...")]`, so that absence
//! falls back to `None` and these functions only run for fields that are present.

use serde::{Deserialize, Deserializer};

/// For a required field: present means `Some(value)`; `null` is rejected, since the field
/// cannot be cleared.
pub fn required<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
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
}

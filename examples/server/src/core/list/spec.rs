//! What a module's list is made of: its fields, the kind of each (which decides the filters it
//! takes and how its values parse), the operators, and the values a statement binds.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::core::json;

/// What a field's values are, which decides the filters it takes and how they are parsed.
#[derive(Debug, Clone, Copy)]
pub enum ListKind {
    /// `string(N)`: equality, search, sorting.
    String,
    /// `text`: equality and search; not sorted (long values make poor keys).
    Text,
    /// `int` and `bigint`.
    Integer,
    Float,
    Decimal,
    Bool,
    /// `uuid` and `ref`.
    Uuid,
    Date,
    DateTime,
    /// The values an enum field may hold, as the API spells them.
    Enum(&'static [&'static str]),
    /// Neither filtered (but for `[null]`) nor sorted.
    Json,
    /// An array field (`tags:string[]`): its elements' kind, and the column's SQL type
    /// (`text[]`), which a filter's values are cast to. Filtered by `[contains]` (all of the
    /// values) and `[overlaps]` (any of them), never sorted.
    Array(&'static ListKind, &'static str),
    /// A user id (a token's `sub`: `created_by`, `owner_id`): equality and sorting, never
    /// searched, since `q` is for what users wrote.
    UserId,
}

impl ListKind {
    pub(crate) fn sortable(self) -> bool {
        !matches!(self, ListKind::Text | ListKind::Json | ListKind::Array(..))
    }

    pub(crate) fn searchable(self) -> bool {
        matches!(self, ListKind::String | ListKind::Text)
    }

    pub(crate) fn takes(self, op: Op) -> bool {
        use ListKind::*;
        match op {
            Op::Contains | Op::Overlaps => matches!(self, Array(..)),
            Op::Eq => !matches!(self, Json | Array(..)),
            Op::In => matches!(self, Uuid | Enum(_)),
            Op::Gt | Op::Gte | Op::Lt | Op::Lte => {
                matches!(self, Integer | Float | Decimal | Date | DateTime)
            }
            Op::Null => false, // decided by the field being optional
        }
    }

    /// `text` as a value of this kind, or what is wrong with it.
    pub(crate) fn parse(self, text: &str) -> Result<Value, String> {
        let wrong = |what: &str| format!("must be {what}, not {text:?}");
        match self {
            ListKind::String | ListKind::Text | ListKind::UserId => {
                Ok(Value::Text(text.to_owned()))
            }
            ListKind::Enum(variants) => {
                if variants.contains(&text) {
                    Ok(Value::Text(text.to_owned()))
                } else {
                    Err(wrong(&format!("one of {}", variants.join(", "))))
                }
            }
            ListKind::Integer => text
                .parse()
                .map(Value::Integer)
                .map_err(|_| wrong("an integer")),
            ListKind::Float => match text.parse::<f64>() {
                Ok(number) if number.is_finite() => Ok(Value::Float(number)),
                _ => Err(wrong("a finite number")),
            },
            ListKind::Decimal => plain_decimal(text)
                .then(|| text.parse().ok())
                .flatten()
                .map(Value::Decimal)
                .ok_or_else(|| wrong("a decimal number such as 12.50")),
            ListKind::Bool => match text {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(wrong("true or false")),
            },
            ListKind::Uuid => Uuid::parse_str(text)
                .map(Value::Uuid)
                .map_err(|_| wrong("a UUID")),
            ListKind::Date => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Value::Date)
                .map_err(|_| wrong("a date such as 2024-03-10")),
            ListKind::DateTime => DateTime::parse_from_rfc3339(text)
                .map(|t| Value::DateTime(t.with_timezone(&Utc)))
                .map_err(|_| {
                    wrong(
                        "an RFC 3339 date and time such as 2024-03-10T12:30:00Z (a `+` in a URL \
                         is written %2B)",
                    )
                }),
            ListKind::Json => Err("json fields take only [null]".to_owned()),
            // An `int[]` column is `integer[]`, whose elements are 32-bit.
            ListKind::Array(ListKind::Integer, "integer[]") => match text.parse::<i32>() {
                Ok(number) => Ok(Value::Integer(number.into())),
                Err(_) => Err(wrong("an integer from -2147483648 to 2147483647")),
            },
            ListKind::Array(element, _) => element.parse(text),
        }
    }

    /// A value as the API serialised it (a cursor holds a row's values as JSON).
    pub(crate) fn parse_json(self, json: &serde_json::Value) -> Option<Value> {
        match (self, json) {
            (_, serde_json::Value::Null) => Some(Value::Null),
            (ListKind::Integer, json) => json.as_i64().map(Value::Integer),
            (ListKind::Float, json) => json.as_f64().map(Value::Float),
            (ListKind::Bool, json) => json.as_bool().map(Value::Bool),
            (kind, serde_json::Value::String(text)) => kind.parse(text).ok(),
            _ => None,
        }
    }
}

/// `12.50`, `-3`: the spelling of `core::openapi::DECIMAL`. rust_decimal alone also reads
/// `1_000` and `+.5`, which the OpenAPI document does not allow.
fn plain_decimal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    [whole, fraction]
        .iter()
        .all(|part| (1..=28).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()))
}

/// One field of a module, as lists see it. Copy: a link's lists join two modules' fields.
#[derive(Debug, Clone, Copy)]
pub struct ListField {
    /// The JSON name, which query parameters use.
    pub name: &'static str,
    /// The column as SQL writes it, quoted when it is a keyword.
    pub column: &'static str,
    pub kind: ListKind,
    pub optional: bool,
}

/// Every module's own columns.
pub(crate) const BUILT_IN: [ListField; 3] = [
    ListField {
        name: "id",
        column: "id",
        kind: ListKind::Uuid,
        optional: false,
    },
    ListField {
        name: json::pick("created_at", "createdAt"),
        column: "created_at",
        kind: ListKind::DateTime,
        optional: false,
    },
    ListField {
        name: json::pick("updated_at", "updatedAt"),
        column: "updated_at",
        kind: ListKind::DateTime,
        optional: false,
    },
];
pub(crate) const ID: &ListField = &BUILT_IN[0];
/// The default sort.
pub(crate) const CREATED_AT: &ListField = &BUILT_IN[1];

/// A module's list: its table and the fields it can filter, search and sort on.
#[derive(Debug)]
pub struct ListSpec {
    pub table: &'static str,
    /// The user's fields, without `id`, `created_at` and `updated_at`.
    pub fields: &'static [ListField],
}

impl ListSpec {
    pub(crate) fn field(&self, name: &str) -> Option<&'static ListField> {
        BUILT_IN
            .iter()
            .chain(self.fields)
            .find(|field| field.name == name)
    }

    pub(crate) fn names(&self, keep: impl Fn(&ListField) -> bool) -> Vec<&'static str> {
        BUILT_IN
            .iter()
            .chain(self.fields)
            .filter(|field| keep(field))
            .map(|field| field.name)
            .collect()
    }
}

/// A filter's operator: `<field>[<op>]=`, where `<field>=` is `[eq]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    In,
    Gt,
    Gte,
    Lt,
    Lte,
    Null,
    /// An array holds every value given (`@>`).
    Contains,
    /// An array holds at least one of them (`&&`).
    Overlaps,
}

pub(crate) const OPS: [(&str, Op); 9] = [
    ("eq", Op::Eq),
    ("in", Op::In),
    ("gt", Op::Gt),
    ("gte", Op::Gte),
    ("lt", Op::Lt),
    ("lte", Op::Lte),
    ("null", Op::Null),
    ("contains", Op::Contains),
    ("overlaps", Op::Overlaps),
];

/// A value to bind: what a filter compares with, or a cursor's key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Text(String),
    Integer(i64),
    Float(f64),
    Decimal(Decimal),
    Bool(bool),
    Uuid(Uuid),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Null,
}

/// A field the list is sorted by, and its direction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SortKey {
    pub(crate) field: &'static ListField,
    pub(crate) descending: bool,
}

#[cfg(test)]
mod tests {
    use super::ListKind;

    #[test]
    fn a_decimal_filter_takes_the_documented_spelling_only() {
        for good in ["12.50", "-3", "0", &"9".repeat(28)] {
            assert!(ListKind::Decimal.parse(good).is_ok(), "{good}");
        }
        for bad in ["1_000", "+1", ".5", "1.", "1e3", "", "-", &"9".repeat(29)] {
            assert!(ListKind::Decimal.parse(bad).is_err(), "{bad}");
        }
    }
}

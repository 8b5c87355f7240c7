//! The field types: everything the generator knows about a type, asked through
//! [`FieldType`]'s methods. A new type is a variant here, one arm in each method, and its
//! list parsing in the server's `core/list` (see ARCHITECTURE.md).

use heck::ToSnakeCase;
use serde_json::{Value, json};

use crate::input::names::ModuleNames;

/// `string` without a length gets this many characters, enough for names and titles.
pub const DEFAULT_STRING_MAX_LENGTH: u32 = 200;

/// The longest `string(N)`: four bytes a character at most, a value this long still fits the
/// server's 1 MiB request body limit with room for the rest of the body, so the module's own
/// tests (which send N + 1 characters) get a 422, not a 413. Longer text wants `text`.
pub const MAX_STRING_LENGTH: u32 = 65_535;

/// The fewest characters a `secret` takes: a password shorter than this is refused (422).
pub const SECRET_MIN_LENGTH: u32 = 8;

/// `secret` without a length takes at most this many characters: long passphrases fit, and
/// no request makes the server hash megabytes.
pub const DEFAULT_SECRET_MAX_LENGTH: u32 = 128;

/// The longest `secret(N)`.
pub const MAX_SECRET_LENGTH: u32 = 1024;

/// Elements an array field (`tags:string[]`) may hold at most. A list filter's
/// `[contains]` and `[overlaps]` take as many values as `[in]` (`core::list::MAX_IN_VALUES`),
/// so every array a row holds can be asked for whole; and each element is a GIN index entry,
/// so the bound also bounds what one row costs the index.
pub const MAX_ARRAY_ITEMS: u32 = 100;

/// What an array's elements may be, as users write them.
pub const ARRAY_ELEMENTS: &[&str] = &[
    "string",
    "string(N)",
    "text",
    "int",
    "bigint",
    "float",
    "decimal",
    "bool",
    "uuid",
    "date",
    "datetime",
];

/// The type syntax as users write it, for error messages and the interactive menu.
pub const TYPE_SYNTAX: &[&str] = &[
    "string",
    "string(N)",
    "text",
    "int",
    "bigint",
    "float",
    "decimal",
    "bool",
    "uuid",
    "date",
    "datetime",
    "json",
    "enum(a,b,c)",
    "ref(<module>)",
    "secret",
    "secret(N)",
    "<type>[]",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Modifier {
    Unique,
    Index,
    WriteOnly,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    String {
        max_length: u32,
    },
    Text,
    Int,
    BigInt,
    Float,
    Decimal,
    Bool,
    Uuid,
    Date,
    DateTime,
    Json,
    /// A TEXT column with a CHECK constraint and a Rust enum (never a PostgreSQL enum type:
    /// sqlx caches type OIDs per connection, which breaks with one type per tenant schema).
    Enum {
        rust_type: String,
        variants: Vec<EnumVariant>,
    },
    /// A UUID foreign key to another module's table in the same tenant schema.
    Ref {
        target: ModuleNames,
        /// As written (`ref(projects,cascade)`); `None` keeps the default of
        /// [`Field::on_delete`].
        on_delete: Option<OnDelete>,
    },
    /// A write-only value kept as an Argon2id hash (`core::secret` in the server), in a
    /// `<name>_hash` TEXT column; at most `max_length` characters, at least
    /// [`SECRET_MIN_LENGTH`].
    Secret {
        max_length: u32,
    },
    /// A PostgreSQL array of one of [`ARRAY_ELEMENTS`] (`tags:string(40)[]`): `Vec<T>` in
    /// Rust, each element validated as the scalar would be.
    Array(Box<FieldType>),
}

/// What deleting the row a `ref` points at does to the rows that point at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    /// The delete is refused (a 409) while rows still point at it.
    Restrict,
    /// The rows pointing at it are deleted with it.
    Cascade,
    /// The rows pointing at it keep living with the reference cleared: optional refs only.
    SetNull,
}

impl OnDelete {
    pub const ALL: [OnDelete; 3] = [OnDelete::Restrict, OnDelete::Cascade, OnDelete::SetNull];

    /// As the field grammar spells it: `ref(projects,set_null)`.
    pub fn word(self) -> &'static str {
        match self {
            Self::Restrict => "restrict",
            Self::Cascade => "cascade",
            Self::SetNull => "set_null",
        }
    }

    /// As `ON DELETE` spells it.
    pub fn sql(self) -> &'static str {
        match self {
            Self::Restrict => "RESTRICT",
            Self::Cascade => "CASCADE",
            Self::SetNull => "SET NULL",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EnumVariant {
    /// snake_case: the value in JSON and in the database.
    pub name: String,
    /// PascalCase: the Rust variant.
    pub rust: String,
}

impl FieldType {
    /// The type keyword, as in `name:<kind>`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::String { .. } => "string",
            Self::Text => "text",
            Self::Int => "int",
            Self::BigInt => "bigint",
            Self::Float => "float",
            Self::Decimal => "decimal",
            Self::Bool => "bool",
            Self::Uuid => "uuid",
            Self::Date => "date",
            Self::DateTime => "datetime",
            Self::Json => "json",
            Self::Enum { .. } => "enum",
            Self::Ref { .. } => "ref",
            Self::Secret { .. } => "secret",
            Self::Array(_) => "array",
        }
    }

    /// The element type of an array field.
    pub fn element(&self) -> Option<&FieldType> {
        match self {
            Self::Array(element) => Some(element),
            _ => None,
        }
    }

    /// Elements an array field may hold.
    pub fn max_items(&self) -> Option<u32> {
        self.element().map(|_| MAX_ARRAY_ITEMS)
    }

    /// The type as it appears in Rust code, short where an import makes it short (see
    /// [`FieldType::imports`]). `serde_json::Value` stays qualified: a bare `Value` reads as
    /// anything.
    pub fn rust_type(&self) -> String {
        match self {
            Self::String { .. } | Self::Text => "String",
            Self::Int => "i32",
            Self::BigInt => "i64",
            Self::Float => "f64",
            Self::Decimal => "Decimal",
            Self::Bool => "bool",
            Self::Uuid | Self::Ref { .. } => "Uuid",
            Self::Date => "NaiveDate",
            Self::DateTime => "DateTime<Utc>",
            Self::Json => "serde_json::Value",
            Self::Enum { rust_type, .. } => rust_type,
            Self::Secret { .. } => "Secret",
            Self::Array(element) => return format!("Vec<{}>", element.rust_type()),
        }
        .to_string()
    }

    /// Paths that [`FieldType::rust_type`] needs in scope.
    pub fn imports(&self) -> &'static [&'static str] {
        match self {
            Self::Decimal => &["rust_decimal::Decimal"],
            Self::Uuid | Self::Ref { .. } => &["uuid::Uuid"],
            Self::Date => &["chrono::NaiveDate"],
            Self::DateTime => &["chrono::DateTime", "chrono::Utc"],
            Self::Array(element) => element.imports(),
            _ => &[],
        }
    }

    pub fn sql_type(&self) -> &'static str {
        match self {
            Self::String { .. } | Self::Text | Self::Enum { .. } | Self::Secret { .. } => "TEXT",
            Self::Int => "INTEGER",
            Self::BigInt => "BIGINT",
            Self::Float => "DOUBLE PRECISION",
            Self::Decimal => "NUMERIC",
            Self::Bool => "BOOLEAN",
            Self::Uuid | Self::Ref { .. } => "UUID",
            Self::Date => "DATE",
            Self::DateTime => "TIMESTAMPTZ",
            Self::Json => "JSONB",
            Self::Array(element) => match **element {
                Self::Int => "INTEGER[]",
                Self::BigInt => "BIGINT[]",
                Self::Float => "DOUBLE PRECISION[]",
                Self::Decimal => "NUMERIC[]",
                Self::Bool => "BOOLEAN[]",
                Self::Uuid => "UUID[]",
                Self::Date => "DATE[]",
                Self::DateTime => "TIMESTAMPTZ[]",
                Self::String { .. } | Self::Text => "TEXT[]",
                Self::Json
                | Self::Enum { .. }
                | Self::Ref { .. }
                | Self::Array(_)
                | Self::Secret { .. } => {
                    unreachable!("not an array element: the parser refuses it")
                }
            },
        }
    }

    pub fn max_length(&self) -> Option<u32> {
        match self {
            Self::String { max_length } | Self::Secret { max_length } => Some(*max_length),
            _ => None,
        }
    }

    /// The fewest characters a value has, for the types with a [`Self::max_length`].
    pub fn min_length(&self) -> Option<u32> {
        match self {
            Self::String { .. } => Some(1),
            Self::Secret { .. } => Some(SECRET_MIN_LENGTH),
            _ => None,
        }
    }

    /// Write-only by nature: accepted, never returned, never filtered or sorted on.
    pub fn is_secret(&self) -> bool {
        matches!(self, Self::Secret { .. })
    }

    /// Two different valid JSON values for tests (create, then update). A `ref` has none:
    /// its value is the id of a row the test must create first.
    pub fn samples(&self) -> [Value; 2] {
        match self {
            Self::String { max_length } => {
                let fit = |word: &str| word.chars().take(*max_length as usize).collect::<String>();
                [json!(fit("alpha")), json!(fit("beta"))]
            }
            Self::Text => [json!("Some longer text."), json!("Other text.")],
            Self::Int => [json!(7), json!(42)],
            Self::BigInt => [json!(10_000_000_000_i64), json!(20_000_000_000_i64)],
            Self::Float => [json!(1.5), json!(2.25)],
            // Strings, because rust_decimal serialises to strings and a round trip through
            // JSON must compare equal.
            Self::Decimal => [json!("12.50"), json!("99.99")],
            Self::Bool => [json!(true), json!(false)],
            Self::Uuid => [
                json!("3f2504e0-4f89-41d3-9a0c-0305e82c3301"),
                json!("7c9e6679-7425-40de-944b-e07fc1f90ae7"),
            ],
            Self::Date => [json!("2024-01-15"), json!("2024-06-30")],
            Self::DateTime => [json!("2024-01-15T10:30:00Z"), json!("2024-06-30T18:45:00Z")],
            Self::Json => [json!({"key": "alpha"}), json!({"key": "beta", "n": 2})],
            Self::Enum { variants, .. } => {
                let last = variants.len() - 1;
                [json!(variants[0].name), json!(variants[1.min(last)].name)]
            }
            Self::Ref { .. } => [Value::Null, Value::Null],
            Self::Secret { max_length } => {
                let fit = |word: &str| word.chars().take(*max_length as usize).collect::<String>();
                [json!(fit("s3cret-alpha")), json!(fit("s3cret-beta"))]
            }
            // Two elements, then the second alone: the rows share a value and differ in one,
            // which the `[contains]` and `[overlaps]` tests need.
            Self::Array(element) => {
                let [first, second] = element.samples();
                [json!([first, second.clone()]), json!([second])]
            }
        }
    }

    /// Two different valid values as the Rust expressions a module's tests put in `json!(...)`:
    /// the samples, or for a `unique` field expressions that give every call a value of its
    /// own (`client.unique()`), where the type can be unique. A `ref` has none (see
    /// [`FieldType::samples`]).
    pub fn test_values(&self, unique: bool) -> [String; 2] {
        let both = |expression: &str| [expression.to_owned(), expression.to_owned()];
        match self {
            Self::String { max_length } if unique => [
                format!("client.unique_string(\"alpha\", {max_length})"),
                format!("client.unique_string(\"beta\", {max_length})"),
            ],
            Self::Text if unique => [
                "client.unique_string(\"some text\", usize::MAX)".to_owned(),
                "client.unique_string(\"other text\", usize::MAX)".to_owned(),
            ],
            Self::Int if unique => both("client.unique()"),
            Self::BigInt if unique => both("10_000_000_000_i64 + client.unique()"),
            Self::Float if unique => both("client.unique() as f64 + 0.5"),
            Self::Decimal if unique => both("format!(\"{}.50\", client.unique())"),
            Self::Uuid if unique => both("uuid::Uuid::new_v4()"),
            Self::Date if unique => both("client.unique_date()"),
            Self::DateTime if unique => both("client.unique_datetime()"),
            _ => self.samples().map(|value| self.rust_literal(&value)),
        }
    }

    /// A value of the right JSON type that validation must reject with 422, where the type
    /// has a rule beyond its JSON type.
    pub fn invalid_sample(&self) -> Option<Value> {
        match self {
            Self::String { max_length } | Self::Secret { max_length } => {
                Some(json!("x".repeat(*max_length as usize + 1)))
            }
            // `-` never appears in a variant, so this is never valid.
            Self::Enum { .. } => Some(json!("not-a-variant")),
            _ => None,
        }
    }

    /// `value` as a Rust literal inside `json!(...)`: a `bigint` needs `_i64`, or its
    /// literal would be an `i32`.
    pub fn rust_literal(&self, value: &Value) -> String {
        match self {
            Self::BigInt => format!("{value}_i64"),
            Self::Array(element) => {
                let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
                let items: Vec<String> = items.iter().map(|v| element.rust_literal(v)).collect();
                format!("[{}]", items.join(", "))
            }
            _ => value.to_string(),
        }
    }

    /// Values a request body may carry that validation must refuse with a 422, as Rust
    /// expressions for `json!(...)`, each with a comment for the test where it needs one:
    /// values of the wrong JSON type, and of the right type that break the type's rules.
    pub fn invalid_values(&self, optional: bool) -> Vec<(Option<&'static str>, String)> {
        let wrong_type = |value: &str| (None, value.to_owned());
        match self {
            Self::String { max_length } => vec![
                wrong_type("\"\""),
                (
                    Some("Limits count characters, not bytes."),
                    format!("\"é\".repeat({})", max_length + 1),
                ),
                wrong_type("12"),
            ],
            // `-` never appears in a variant, so this is never valid.
            Self::Enum { .. } => vec![wrong_type("\"not-a-variant\""), wrong_type("12")],
            Self::Secret { max_length } => vec![
                (
                    Some("Shorter than a secret's fewest characters."),
                    format!("\"x\".repeat({})", SECRET_MIN_LENGTH - 1),
                ),
                (
                    Some("Limits count characters, not bytes."),
                    format!("\"é\".repeat({})", max_length + 1),
                ),
                wrong_type("12"),
            ],
            // Any JSON is a valid document; only a required one refuses `null`.
            Self::Json if optional => vec![],
            Self::Json => vec![wrong_type("null")],
            Self::Text | Self::Date | Self::DateTime | Self::Uuid | Self::Ref { .. } => {
                vec![wrong_type("12")]
            }
            Self::Int => vec![
                wrong_type("\"twelve\""),
                wrong_type("i64::from(i32::MAX) + 1"),
            ],
            Self::BigInt | Self::Float | Self::Decimal | Self::Bool => {
                vec![wrong_type("\"twelve\"")]
            }
            // What is wrong with one element is in `invalid_elements`.
            Self::Array(element) => vec![
                wrong_type("\"alpha\""),
                (
                    Some("One element more than an array may hold."),
                    format!(
                        "vec![{}; {}]",
                        element.test_values(false)[0],
                        MAX_ARRAY_ITEMS + 1
                    ),
                ),
            ],
        }
    }

    /// For an array, elements that validation must refuse, each as the Rust expression of a
    /// whole array for `json!(...)` whose second element (`[1]`) is the bad one.
    pub fn invalid_elements(&self) -> Vec<(Option<&'static str>, String)> {
        let Some(element) = self.element() else {
            return Vec::new();
        };
        let good = &element.test_values(false)[0];
        let invalid = element.invalid_values(false).into_iter();
        invalid
            .map(|(note, bad)| (note, format!("[{good}, {bad}]")))
            .collect()
    }

    /// List filter values the server must refuse with a 422: the operator (`None` for the
    /// equality filter) and the value, as a query string carries it.
    pub fn invalid_filters(&self) -> Vec<(Option<&'static str>, String)> {
        let eq = |value: &str| (None, value.to_owned());
        let op = |op: &'static str, value: &str| (Some(op), value.to_owned());
        match self {
            // Never a list parameter: any value is refused as an unknown one.
            Self::String { .. } | Self::Text | Self::Secret { .. } => vec![],
            Self::Json => vec![eq("{}")],
            Self::Enum { variants, .. } => vec![
                eq("not-a-variant"),
                op("in", &format!("{},not-a-variant", variants[0].name)),
            ],
            Self::Int | Self::BigInt => vec![eq("twelve"), op("gt", "1.5")],
            Self::Float => vec![eq("twelve"), op("lt", "NaN")],
            Self::Decimal => vec![eq("twelve")],
            Self::Bool => vec![eq("maybe")],
            Self::Uuid | Self::Ref { .. } => vec![eq("42"), op("in", "42")],
            Self::Date => vec![eq("2024-13-01"), op("lte", "today")],
            Self::DateTime => vec![eq("yesterday"), op("gte", "2024-03-10")],
            // An element the element type refuses, in either operator.
            Self::Array(element) => {
                let mut invalid: Vec<(Option<&'static str>, String)> = element
                    .invalid_filters()
                    .into_iter()
                    .filter(|(op, _)| op.is_none())
                    .map(|(_, value)| op("contains", &value))
                    .collect();
                if let Some((_, value)) = invalid.first().cloned() {
                    invalid.push(op("overlaps", &format!("{value},{value}")));
                }
                if **element == Self::Int {
                    invalid.push(op("overlaps", "2147483648"));
                }
                invalid
            }
        }
    }

    /// The type the OpenAPI document shows where the Rust type has no schema of its own:
    /// `Object` for a `json` document (`serde_json::Value`).
    pub fn schema_value_type(&self) -> Option<&'static str> {
        match self {
            Self::Json => Some("Object"),
            // The OpenAPI document shows a secret as the string it is sent as.
            Self::Secret { .. } => Some("String"),
            _ => None,
        }
    }

    /// JSON `null` deserialises into the Rust type itself (`serde_json::Value::Null`), so a
    /// required field must refuse it explicitly.
    pub fn takes_null(&self) -> bool {
        matches!(self, Self::Json)
    }

    /// The variant of the server's `core::list::ListKind` that lists use for this type, as
    /// a Rust expression: `ListKind::Integer`, `ListKind::Enum(&["open", "done"])`.
    pub fn list_kind(&self) -> String {
        match self {
            Self::String { .. } => "ListKind::String".to_owned(),
            Self::Text => "ListKind::Text".to_owned(),
            Self::Int | Self::BigInt => "ListKind::Integer".to_owned(),
            Self::Float => "ListKind::Float".to_owned(),
            Self::Decimal => "ListKind::Decimal".to_owned(),
            Self::Bool => "ListKind::Bool".to_owned(),
            Self::Uuid | Self::Ref { .. } => "ListKind::Uuid".to_owned(),
            Self::Date => "ListKind::Date".to_owned(),
            Self::DateTime => "ListKind::DateTime".to_owned(),
            Self::Json => "ListKind::Json".to_owned(),
            // Never listed (see `filters`); the kind of its column, were it.
            Self::Secret { .. } => "ListKind::Text".to_owned(),
            Self::Enum { variants, .. } => {
                let names: Vec<String> = variants.iter().map(|v| format!("{:?}", v.name)).collect();
                format!("ListKind::Enum(&[{}])", names.join(", "))
            }
            Self::Array(element) => format!(
                "ListKind::Array(&{}, {:?})",
                element.list_kind(),
                self.sql_type().to_lowercase()
            ),
        }
    }

    /// The list filter operators the type takes, in the order the API documents them; the
    /// server's `core::list` applies the same rules to the `ListKind`.
    pub fn filters(&self, optional: bool) -> Vec<&'static str> {
        let mut ops = Vec::new();
        if self.is_secret() {
            return ops;
        }
        if self.element().is_some() {
            ops.extend(["contains", "overlaps"]);
        } else if !matches!(self, Self::Json) {
            ops.push("eq");
        }
        if matches!(self, Self::Uuid | Self::Ref { .. } | Self::Enum { .. }) {
            ops.push("in");
        }
        if matches!(
            self,
            Self::Int | Self::BigInt | Self::Float | Self::Decimal | Self::Date | Self::DateTime
        ) {
            ops.extend(["gt", "gte", "lt", "lte"]);
        }
        if optional {
            ops.push("null");
        }
        ops
    }

    /// Lists sort by it (`?sort=field`).
    pub fn sortable(&self) -> bool {
        !matches!(
            self,
            Self::Text | Self::Json | Self::Secret { .. } | Self::Array(_)
        )
    }

    /// `?q=` searches it.
    pub fn searchable(&self) -> bool {
        matches!(self, Self::String { .. } | Self::Text)
    }

    /// The CHECK expression on `column` (as SQL writes it) that keeps its values valid, for
    /// types that have one.
    pub fn check(&self, column: &str) -> Option<String> {
        match self {
            Self::String { max_length } => {
                Some(format!("char_length({column}) BETWEEN 1 AND {max_length}"))
            }
            Self::Enum { variants, .. } => {
                let values: Vec<String> =
                    variants.iter().map(|v| format!("'{}'", v.name)).collect();
                Some(format!("{column} IN ({})", values.join(", ")))
            }
            _ => None,
        }
    }

    /// How the column's SQL type changes when a field of this type becomes `new`, if the
    /// data carries over: `Some(None)` when the column type stays (only the rules change),
    /// `Some(Some(type))` for a widening, `None` when the change cannot keep the data.
    pub fn widening_to(&self, new: &FieldType) -> Option<Option<&'static str>> {
        use FieldType::*;
        let text = |ty: &FieldType| matches!(ty, String { .. } | Text | Enum { .. });
        match (self, new) {
            _ if self.kind() == new.kind() && !matches!(self, Ref { .. } | Array(_)) => Some(None),
            (Ref { target: a, .. }, Ref { target: b, .. }) if a.module == b.module => Some(None),
            // The same column type (a `string(N)[]` to `text[]`): only validation differs.
            (Array(a), Array(b)) if a.widening_to(b) == Some(None) => Some(None),
            (Array(_), _) | (_, Array(_)) => None,
            // All TEXT columns: only the CHECK differs, and the migration validates the rows
            // against the new one before it applies.
            _ if text(self) && text(new) => Some(None),
            (Int, BigInt) => Some(Some("BIGINT")),
            (Int, Float) => Some(Some("DOUBLE PRECISION")),
            (Int | BigInt, Decimal) => Some(Some("NUMERIC")),
            _ => None,
        }
    }

    /// `text` as a default of this type in canonical form, or why it is not one.
    pub fn check_default(&self, text: &str) -> Result<String, String> {
        let kind = self.kind();
        let not =
            |example: &str| format!("`{text}` is not a valid `{kind}`; write e.g. `={example}`");
        match self {
            Self::String { max_length } => {
                let chars = text.chars().count();
                if chars == 0 || chars > *max_length as usize {
                    return Err(format!(
                        "a `string({max_length})` default must have 1 to {max_length} \
                         characters, like every value of the field"
                    ));
                }
                Ok(text.to_string())
            }
            Self::Text => Ok(text.to_string()),
            Self::Int => text
                .parse::<i32>()
                .map(|n| n.to_string())
                .map_err(|_| not("0")),
            Self::BigInt => text
                .parse::<i64>()
                .map(|n| n.to_string())
                .map_err(|_| not("0")),
            Self::Float => match text.parse::<f64>() {
                Ok(n) if n.is_finite() && !text.trim().is_empty() => Ok(n.to_string()),
                _ => Err(not("0.5")),
            },
            Self::Decimal => {
                let digits = text.strip_prefix('-').unwrap_or(text);
                let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
                let is_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                // rust_decimal holds 28 significant digits.
                if is_digits(whole) && is_digits(fraction) && whole.len() + fraction.len() <= 28 {
                    Ok(text.to_string())
                } else {
                    Err(not("12.50"))
                }
            }
            Self::Bool => match text.to_ascii_lowercase().as_str() {
                value @ ("true" | "false") => Ok(value.to_string()),
                _ => Err(format!(
                    "`{text}` is not a `bool`; write `=true` or `=false`"
                )),
            },
            Self::Uuid => {
                let lower = text.to_ascii_lowercase();
                let shape = lower.len() == 36
                    && lower.char_indices().all(|(i, c)| match i {
                        8 | 13 | 18 | 23 => c == '-',
                        _ => c.is_ascii_hexdigit(),
                    });
                if shape {
                    Ok(lower)
                } else {
                    Err(not("3f2504e0-4f89-41d3-9a0c-0305e82c3301"))
                }
            }
            Self::Date => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|date| date.format("%Y-%m-%d").to_string())
                .map_err(|_| not("2024-01-15")),
            Self::DateTime => chrono::DateTime::parse_from_rfc3339(text)
                .map(|time| {
                    time.to_utc()
                        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                })
                .map_err(|_| not("2024-01-15T10:30:00Z")),
            Self::Json => serde_json::from_str::<Value>(text)
                .map(|value| value.to_string())
                .map_err(|_| format!("`{text}` is not JSON; write e.g. `={{\"key\":1}}` or `=[]`")),
            Self::Enum { variants, .. } => {
                let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
                let wanted = text.to_snake_case();
                if names.contains(&wanted.as_str()) {
                    Ok(wanted)
                } else {
                    Err(format!(
                        "`{text}` is not one of the values: {}",
                        names.join(", ")
                    ))
                }
            }
            Self::Ref { .. } => Err(
                "a `ref` cannot have a default: no row id exists in every tenant; make it \
                 optional instead (`?`)"
                    .into(),
            ),
            Self::Secret { .. } => Err(
                "a `secret` cannot have a default: every row would share it; make it optional \
                 instead (`?`)"
                    .into(),
            ),
            Self::Array(element) => {
                let example = format!("write e.g. `=[]` or `=[{}]`", element.example_default());
                let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
                    return Err(format!("`{text}` is not an array; {example}"));
                };
                let items: Vec<&str> = match inner.trim() {
                    "" => Vec::new(),
                    _ => inner.split(',').map(str::trim).collect(),
                };
                if items.len() > MAX_ARRAY_ITEMS as usize {
                    return Err(format!(
                        "an array default holds at most {MAX_ARRAY_ITEMS} elements"
                    ));
                }
                let items: Result<Vec<String>, String> = items
                    .into_iter()
                    .map(|item| {
                        element
                            .check_default(item)
                            .map_err(|why| format!("element `{item}`: {why}"))
                    })
                    .collect();
                Ok(format!("[{}]", items?.join(",")))
            }
        }
    }

    /// An element of an array default in the error that shows how to write one.
    fn example_default(&self) -> &'static str {
        match self {
            Self::Int | Self::BigInt => "1,2",
            Self::Float => "0.5,1.5",
            Self::Decimal => "12.50,3",
            Self::Bool => "true,false",
            Self::Uuid => "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
            Self::Date => "2024-01-15",
            Self::DateTime => "2024-01-15T10:30:00Z",
            _ => "a,b",
        }
    }

    /// Why this type cannot carry a modifier, if it cannot.
    pub(super) fn refuses(&self, modifier: Modifier) -> Option<&'static str> {
        match (self, modifier) {
            (Self::Secret { .. }, Modifier::WriteOnly) => {
                Some("a secret is write-only already; drop `:writeonly`")
            }
            (Self::Secret { .. }, _) => Some(
                "it is stored as a salted hash, so equal secrets never compare equal, and \
                 nothing may look rows up by it",
            ),
            (Self::Ref { .. }, Modifier::WriteOnly) => Some(
                "the reference is how clients reach the row it points at, and its nested list \
                 route shows it anyway",
            ),
            (Self::Array(_), Modifier::WriteOnly) => {
                Some("an array's filters (`[contains]`, `[overlaps]`) are how clients use it")
            }
            (_, Modifier::WriteOnly) => None,
            (Self::Json, _) => Some("JSON documents have no useful equality or order"),
            (Self::Bool, Modifier::Unique) => Some("a unique bool would allow only two rows"),
            (Self::Enum { .. }, Modifier::Unique) => {
                Some("a unique enum would allow one row per value; use `:index`")
            }
            (Self::Array(_), Modifier::Unique) => Some(
                "a unique array would compare whole arrays, not elements; use `:index` for a \
                 GIN index that serves `[contains]` and `[overlaps]`",
            ),
            _ => None,
        }
    }

    /// The type as the user would write it, in its shortest form.
    pub(super) fn syntax(&self) -> String {
        match self {
            Self::String { max_length } if *max_length != DEFAULT_STRING_MAX_LENGTH => {
                format!("string({max_length})")
            }
            Self::Enum { variants, .. } => {
                let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
                format!("enum({})", names.join(","))
            }
            Self::Ref {
                target,
                on_delete: None,
            } => format!("ref({})", target.module),
            Self::Ref {
                target,
                on_delete: Some(rule),
            } => format!("ref({},{})", target.module, rule.word()),
            Self::Secret { max_length } if *max_length != DEFAULT_SECRET_MAX_LENGTH => {
                format!("secret({max_length})")
            }
            Self::Array(element) => format!("{}[]", element.syntax()),
            other => other.kind().to_string(),
        }
    }
}

//! FIELD words (`name:type[?][:unique][:index][=DEFAULT]`) parsed into typed fields.
//!
//! Everything a template needs to know about a type lives on [`FieldType`], so adding a type
//! or an attribute is one match arm per method here and nothing anywhere else.

use std::fmt;
use std::ops::Range;

use heck::{ToPascalCase, ToSnakeCase};
use serde_json::{Value, json};

use crate::input::idents;
use crate::input::names::ModuleNames;

/// `string` without a length gets this many characters, enough for names and titles.
pub const DEFAULT_STRING_MAX_LENGTH: u32 = 200;

/// The longest `string(N)`: four bytes a character at most, a value this long still fits the
/// server's 1 MiB request body limit with room for the rest of the body, so the module's own
/// tests (which send N + 1 characters) get a 422, not a 413. Longer text wants `text`.
pub const MAX_STRING_LENGTH: u32 = 65_535;

/// Columns every module has already.
pub const BUILTIN_COLUMNS: &[&str] = &["id", "created_at", "updated_at"];

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
];

/// Names people reach for from other languages, with the type we call it.
const TYPE_ALIASES: &[(&str, &str)] = &[
    ("str", "string"),
    ("varchar", "string"),
    ("integer", "int"),
    ("i32", "int"),
    ("i64", "bigint"),
    ("f64", "float"),
    ("double", "float"),
    ("number", "float"),
    ("numeric", "decimal"),
    ("money", "decimal"),
    ("boolean", "bool"),
    ("timestamp", "datetime"),
    ("timestamptz", "datetime"),
    ("jsonb", "json"),
    ("references", "ref(<module>)"),
    ("fk", "ref(<module>)"),
];

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
        }
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
            _ => &[],
        }
    }

    pub fn sql_type(&self) -> &'static str {
        match self {
            Self::String { .. } | Self::Text | Self::Enum { .. } => "TEXT",
            Self::Int => "INTEGER",
            Self::BigInt => "BIGINT",
            Self::Float => "DOUBLE PRECISION",
            Self::Decimal => "NUMERIC",
            Self::Bool => "BOOLEAN",
            Self::Uuid | Self::Ref { .. } => "UUID",
            Self::Date => "DATE",
            Self::DateTime => "TIMESTAMPTZ",
            Self::Json => "JSONB",
        }
    }

    pub fn max_length(&self) -> Option<u32> {
        match self {
            Self::String { max_length } => Some(*max_length),
            _ => None,
        }
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
        }
    }

    /// A value of the right JSON type that validation must reject with 422, where the type
    /// has a rule beyond its JSON type.
    pub fn invalid_sample(&self) -> Option<Value> {
        match self {
            Self::String { max_length } => Some(json!("x".repeat(*max_length as usize + 1))),
            // `-` never appears in a variant, so this is never valid.
            Self::Enum { .. } => Some(json!("not-a-variant")),
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
        }
    }

    /// Why this type cannot carry a modifier, if it cannot.
    fn refuses(&self, modifier: Modifier) -> Option<&'static str> {
        match (self, modifier) {
            (Self::Json, _) => Some("JSON documents have no useful equality or order"),
            (Self::Bool, Modifier::Unique) => Some("a unique bool would allow only two rows"),
            (Self::Enum { .. }, Modifier::Unique) => {
                Some("a unique enum would allow one row per value; use `:index`")
            }
            _ => None,
        }
    }

    /// The type as the user would write it, in its shortest form.
    fn syntax(&self) -> String {
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
            other => other.kind().to_string(),
        }
    }
}

/// One parsed field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// snake_case, without the `_id` a `ref` adds.
    pub name: String,
    pub ty: FieldType,
    pub optional: bool,
    pub unique: bool,
    /// `:index` was asked for.
    pub index: bool,
    /// The column default, canonical (see [`FieldType::check_default`]): what rows that
    /// exist get when the field is added, and what a create request that leaves it out gets.
    pub default: Option<String>,
}

impl Field {
    /// The column, the JSON key and the Rust struct field: `<name>_id` for a `ref`.
    pub fn column(&self) -> String {
        match self.ty {
            FieldType::Ref { .. } => format!("{}_id", self.name),
            _ => self.name.clone(),
        }
    }

    /// The Rust struct field: [`Self::column`], raw (`r#type`) when it is a keyword.
    pub fn rust_ident(&self) -> String {
        idents::rust_ident(&self.column())
    }

    /// [`Self::column`] as SQL statements write it, quoted when it is a keyword: `"order"`.
    pub fn sql_column(&self) -> String {
        idents::sql_ident(&self.column())
    }

    /// For a `ref`, what deleting the row it points at does: as written, else what it always
    /// did: an optional reference is cleared, a required one keeps the row from being deleted.
    pub fn on_delete(&self) -> Option<OnDelete> {
        match self.ty {
            FieldType::Ref {
                on_delete: Some(rule),
                ..
            } => Some(rule),
            FieldType::Ref {
                on_delete: None, ..
            } if self.optional => Some(OnDelete::SetNull),
            FieldType::Ref {
                on_delete: None, ..
            } => Some(OnDelete::Restrict),
            _ => None,
        }
    }

    /// Whether the migration needs a `CREATE INDEX`: asked for, or a foreign key (PostgreSQL
    /// does not index those by itself), and not already covered by a unique constraint.
    pub fn needs_index(&self) -> bool {
        (self.index || matches!(self.ty, FieldType::Ref { .. })) && !self.unique
    }

    /// The canonical FIELD word, which parses back to this field.
    pub fn syntax(&self) -> String {
        let mut word = format!("{}:{}", self.name, self.ty.syntax());
        if self.optional {
            word.push('?');
        }
        if self.unique {
            word.push_str(":unique");
        }
        if self.index {
            word.push_str(":index");
        }
        if let Some(default) = &self.default {
            word.push('=');
            word.push_str(default);
        }
        word
    }

    /// The default as a PostgreSQL literal: `0`, `'open'`, `'{"a":1}'::jsonb`.
    pub fn default_sql(&self) -> Option<String> {
        let text = self.default.as_deref()?;
        let quoted = format!("'{}'", text.replace('\'', "''"));
        Some(match &self.ty {
            FieldType::Int | FieldType::BigInt | FieldType::Float | FieldType::Decimal => {
                text.to_string()
            }
            FieldType::Bool => text.to_uppercase(),
            FieldType::Json => format!("{quoted}::jsonb"),
            _ => quoted,
        })
    }

    /// The default as the JSON value the API shows: what a create request without the field
    /// gets back.
    pub fn default_json(&self) -> Option<Value> {
        let text = self.default.as_deref()?;
        Some(match &self.ty {
            // `1` is an integer in JSON, but the API answers a float field with `1.0`.
            FieldType::Float => Value::from(text.parse::<f64>().expect("a checked float")),
            FieldType::Int | FieldType::BigInt | FieldType::Bool | FieldType::Json => {
                serde_json::from_str(text).expect("a checked default is JSON")
            }
            _ => Value::String(text.to_string()),
        })
    }

    /// The default as a Rust expression of the field's type (wrapped in `Some` when the
    /// field is optional).
    pub fn default_rust(&self) -> Option<String> {
        let text = self.default.as_deref()?;
        let literal = format!("{text:?}");
        let expression = match &self.ty {
            FieldType::Int | FieldType::BigInt | FieldType::Bool => text.to_string(),
            FieldType::Float => format!("{:?}", text.parse::<f64>().expect("a checked float")),
            FieldType::String { .. } | FieldType::Text => format!("{literal}.to_string()"),
            FieldType::Enum {
                rust_type,
                variants,
            } => {
                let variant = variants
                    .iter()
                    .find(|v| v.name == text)
                    .expect("a checked value");
                format!("{rust_type}::{}", variant.rust)
            }
            FieldType::Json => format!("serde_json::from_str({literal}).expect(\"valid JSON\")"),
            FieldType::Decimal | FieldType::Uuid | FieldType::Date | FieldType::DateTime => {
                format!("{literal}.parse().expect(\"a valid {}\")", self.ty.kind())
            }
            FieldType::Ref { .. } => unreachable!("refs have no default"),
        };
        Some(if self.optional {
            format!("Some({expression})")
        } else {
            expression
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Modifier {
    Unique,
    Index,
}

/// A FIELD word that does not parse, with the part to point at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FieldError {
    pub word: String,
    /// Byte range of the offending part of `word`.
    pub span: Range<usize>,
    pub message: String,
    pub help: Option<String>,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let column = self.word[..self.span.start].chars().count();
        let width = self.word[self.span.clone()].chars().count().max(1);
        writeln!(f, "field `{}`: {}", self.word, self.message)?;
        writeln!(f, "    {}", self.word)?;
        write!(f, "    {}{}", " ".repeat(column), "^".repeat(width))?;
        if let Some(help) = &self.help {
            write!(f, "\n  {help}")?;
        }
        Ok(())
    }
}

/// What parsing a field needs from outside the word itself.
pub struct FieldContext<'a> {
    /// The owning module's type name, which prefixes enum type names (`ProjectStatus`).
    pub type_name: &'a str,
    /// Turns a `ref(...)` argument into the target module's names, or says why it cannot.
    pub resolve_ref: &'a dyn Fn(&str) -> Result<ModuleNames, String>,
}

pub fn parse_field(word: &str, cx: &FieldContext) -> Result<Field, FieldError> {
    Parser { word }.field(cx)
}

struct Parser<'w> {
    word: &'w str,
}

impl Parser<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> FieldError {
        FieldError {
            word: self.word.to_string(),
            span,
            message: message.into(),
            help: None,
        }
    }

    fn error_help(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> FieldError {
        FieldError {
            help: Some(help.into()),
            ..self.error(span, message)
        }
    }

    fn field(&self, cx: &FieldContext) -> Result<Field, FieldError> {
        // The default is everything after the first `=`: it may hold `:` (a time) or `=`.
        let (word, default) = match self.word.split_once('=') {
            Some((head, default)) => (head, Some(default)),
            None => (self.word, None),
        };
        let Some(colon) = word.find(':') else {
            return Err(self.error_help(
                0..word.len(),
                "missing type",
                format!("write `name:type`, e.g. `{word}:string`"),
            ));
        };
        let raw_name = &word[..colon];
        let mut segments = segments(word, colon + 1);
        let (type_span, type_text) = segments.remove(0);
        let optional = type_text.ends_with('?');
        let type_text = type_text.strip_suffix('?').unwrap_or(type_text);
        let type_span = type_span.start..type_span.start + type_text.len();

        let name = self.name(raw_name)?;
        let ty = self.ty(type_span.clone(), type_text, &name, cx)?;
        // `owner_id:ref(users)` means the same as `owner:ref(users)`, not `owner_id_id`.
        let name = match (&ty, name.strip_suffix("_id")) {
            (FieldType::Ref { .. }, Some(bare)) => bare.to_string(),
            _ => name,
        };
        let (mut unique, mut index) = (false, false);
        for (span, text) in segments {
            let (modifier, flag) = match text {
                "unique" => (Modifier::Unique, &mut unique),
                "index" => (Modifier::Index, &mut index),
                "" => return Err(self.error(span, "empty modifier (stray `:`)")),
                "?" => {
                    return Err(self.error_help(
                        span,
                        "`?` goes right after the type",
                        "write `name:type?:unique`",
                    ));
                }
                other => {
                    return Err(self.error_help(
                        span,
                        format!("unknown modifier `{other}`"),
                        "modifiers are `:unique` and `:index`",
                    ));
                }
            };
            if *flag {
                return Err(self.error(span, format!("`:{text}` given twice")));
            }
            if let Some(why) = ty.refuses(modifier) {
                return Err(self.error(span, format!("`{}` cannot be `:{text}`: {why}", ty.kind())));
            }
            *flag = true;
        }
        if unique && index {
            return Err(self.error_help(
                0..word.len(),
                "`:unique` already creates an index",
                "drop `:index`",
            ));
        }
        let default = match default {
            None => None,
            Some(text) => {
                let span = word.len() + 1..self.word.len();
                if text.chars().any(char::is_control) {
                    return Err(self.error(span, "a default cannot hold control characters"));
                }
                if unique {
                    return Err(self.error_help(
                        span,
                        "a `:unique` field cannot have a default",
                        "every row left without a value would get the same one, which \
                         `:unique` forbids; drop the default",
                    ));
                }
                Some(
                    ty.check_default(text)
                        .map_err(|message| self.error(span, message))?,
                )
            }
        };
        let field = Field {
            name,
            ty,
            optional,
            unique,
            index,
            default,
        };
        self.check_column(&field, 0..colon)?;
        if let FieldType::Ref {
            target,
            on_delete: Some(OnDelete::SetNull),
        } = &field.ty
            && !field.optional
        {
            return Err(self.error_help(
                type_span,
                "`set_null` needs an optional ref: a required reference cannot be cleared",
                format!(
                    "make it optional (`{}:ref({},set_null)?`), or choose `restrict` or \
                     `cascade`",
                    field.name, target.module
                ),
            ));
        }
        Ok(field)
    }

    fn name(&self, raw: &str) -> Result<String, FieldError> {
        let span = 0..raw.len();
        if raw.is_empty() {
            return Err(self.error_help(span, "missing field name", "write `name:type`"));
        }
        if let Some(bare) = raw.strip_suffix('?') {
            return Err(self.error_help(
                span,
                "`?` goes after the type",
                format!("write `{bare}:<type>?`"),
            ));
        }
        // Names are accepted in any case (`dueDate`) and stored snake_case (`due_date`), the
        // way module names are; the printed summary shows the normalised form.
        if !idents::is_loose_identifier(raw) || raw.contains('-') {
            return Err(self.error_help(
                span,
                format!("`{raw}` is not a valid field name"),
                "start with a letter and use only letters, digits and `_`, e.g. `due_date`",
            ));
        }
        Ok(raw.to_snake_case())
    }

    fn ty(
        &self,
        span: Range<usize>,
        text: &str,
        name: &str,
        cx: &FieldContext,
    ) -> Result<FieldType, FieldError> {
        if text.is_empty() {
            return Err(self.error_help(
                span,
                "missing type",
                format!("valid types: {}", TYPE_SYNTAX.join(", ")),
            ));
        }
        let (keyword, args) = match text.find('(') {
            None => (text, None),
            Some(open) => {
                if !text.ends_with(')') || text[open + 1..].contains(['(']) {
                    return Err(self.error_help(
                        span,
                        format!("malformed type `{text}`"),
                        "write `type` or `type(arguments)`, e.g. `string(80)` or `enum(a,b)`",
                    ));
                }
                let start = span.start + open + 1;
                (
                    &text[..open],
                    Some((start, &text[open + 1..text.len() - 1])),
                )
            }
        };
        let keyword_span = span.start..span.start + keyword.len();
        let keyword = keyword.to_ascii_lowercase();
        let no_args = |ty: FieldType| match args {
            None => Ok(ty),
            Some(_) => Err(self.error_help(
                span.clone(),
                format!("`{keyword}` takes no arguments"),
                "only `string(N)`, `enum(...)` and `ref(...)` do",
            )),
        };
        match keyword.as_str() {
            "string" => match args {
                None => Ok(FieldType::String {
                    max_length: DEFAULT_STRING_MAX_LENGTH,
                }),
                Some((start, arg)) => {
                    let arg_span = start..start + arg.len();
                    match arg.trim().parse::<u32>() {
                        Ok(n) if (1..=MAX_STRING_LENGTH).contains(&n) => {
                            Ok(FieldType::String { max_length: n })
                        }
                        _ => Err(self.error_help(
                            arg_span,
                            format!("`{arg}` is not a length"),
                            format!(
                                "write a whole number from 1 to {MAX_STRING_LENGTH}, e.g. \
                                 `string(80)`, or use `text` for unlimited length"
                            ),
                        )),
                    }
                }
            },
            "text" => no_args(FieldType::Text),
            "int" => no_args(FieldType::Int),
            "bigint" => no_args(FieldType::BigInt),
            "float" => no_args(FieldType::Float),
            "decimal" => no_args(FieldType::Decimal),
            "bool" => no_args(FieldType::Bool),
            "uuid" => no_args(FieldType::Uuid),
            "date" => no_args(FieldType::Date),
            "datetime" => no_args(FieldType::DateTime),
            "json" => no_args(FieldType::Json),
            "enum" => match args {
                None => Err(self.error_help(
                    span,
                    "`enum` needs its values",
                    format!("write e.g. `{name}:enum(draft,active,archived)`"),
                )),
                Some((_, arg)) if arg.trim().is_empty() => Err(self.error_help(
                    span,
                    "`enum` needs its values",
                    format!("write e.g. `{name}:enum(draft,active,archived)`"),
                )),
                Some((start, arg)) => self.enum_type(start, arg, name, cx),
            },
            "ref" => match args {
                None | Some((_, "")) => Err(self.error_help(
                    span,
                    "`ref` needs the module it points to",
                    format!("write e.g. `{name}:ref(users)`"),
                )),
                Some((start, arg)) => self.ref_type(start, arg, name, cx),
            },
            unknown => {
                let mut help = format!("valid types: {}", TYPE_SYNTAX.join(", "));
                if let Some((_, ours)) = TYPE_ALIASES.iter().find(|(alias, _)| *alias == unknown) {
                    help = format!("did you mean `{ours}`? {help}");
                } else {
                    let keywords = TYPE_SYNTAX.iter().map(|t| t.split('(').next().unwrap_or(t));
                    help = crate::input::suggest::with_suggestion(help, unknown, keywords);
                }
                Err(self.error_help(keyword_span, format!("unknown type `{unknown}`"), help))
            }
        }
    }

    /// `ref(<module>)` or `ref(<module>,<rule>)`.
    fn ref_type(
        &self,
        start: usize,
        arguments: &str,
        name: &str,
        cx: &FieldContext,
    ) -> Result<FieldType, FieldError> {
        let mut args = segments_by(arguments, start, ',').into_iter();
        let (module_span, module) = args.next().expect("split yields a first piece");
        let target = (cx.resolve_ref)(module.trim()).map_err(|m| self.error(module_span, m))?;
        let rules: Vec<&str> = OnDelete::ALL.iter().map(|rule| rule.word()).collect();
        let help = format!(
            "what deleting the {} does: `{}` (the default: a 409 while rows refer to it; \
             clearing the reference instead for an optional ref)",
            target.human_singular,
            rules.join("`, `"),
        );
        let on_delete = match args.next() {
            None => None,
            Some((span, rule)) => {
                let rule = rule.trim().to_ascii_lowercase().replace('-', "_");
                match OnDelete::ALL.into_iter().find(|r| r.word() == rule) {
                    Some(rule) => Some(rule),
                    None => {
                        return Err(self.error_help(
                            span,
                            format!("unknown delete rule `{rule}`"),
                            crate::input::suggest::with_suggestion(
                                help,
                                &rule,
                                rules.iter().copied(),
                            ),
                        ));
                    }
                }
            }
        };
        if let Some((span, _)) = args.next() {
            return Err(self.error_help(
                span,
                "`ref` takes a module and at most one delete rule",
                format!("write e.g. `{name}:ref({},cascade)`", target.module),
            ));
        }
        Ok(FieldType::Ref { target, on_delete })
    }

    fn enum_type(
        &self,
        start: usize,
        list: &str,
        name: &str,
        cx: &FieldContext,
    ) -> Result<FieldType, FieldError> {
        let mut variants: Vec<EnumVariant> = Vec::new();
        for (span, raw) in segments_by(list, start, ',') {
            let value = raw.trim();
            if value.is_empty() {
                return Err(self.error_help(
                    span,
                    "empty enum value",
                    format!("write e.g. `{name}:enum(draft,active)`"),
                ));
            }
            if !idents::is_loose_identifier(value) || value.contains('-') {
                return Err(self.error_help(
                    span,
                    format!("`{value}` is not a valid enum value"),
                    "start with a letter and use only letters, digits and `_`",
                ));
            }
            let variant = EnumVariant {
                name: value.to_snake_case(),
                rust: value.to_pascal_case(),
            };
            if variant.rust == "Self" {
                return Err(self.error(span, "`self` cannot be an enum value in Rust"));
            }
            if variants
                .iter()
                .any(|v| v.name == variant.name || v.rust == variant.rust)
            {
                return Err(self.error(span, format!("enum value `{value}` given twice")));
            }
            variants.push(variant);
        }
        // The module's own types are `<Type>Page` and `<Type>Response`; an enum named the
        // same would not compile.
        if ["page", "response"].contains(&name) {
            return Err(self.error_help(
                0..name.len(),
                format!("an enum field cannot be called `{name}`"),
                format!(
                    "its type would clash with `{}{}`; choose another name",
                    cx.type_name,
                    name.to_pascal_case()
                ),
            ));
        }
        Ok(FieldType::Enum {
            rust_type: format!("{}{}", cx.type_name, name.to_pascal_case()),
            variants,
        })
    }

    fn check_column(&self, field: &Field, span: Range<usize>) -> Result<(), FieldError> {
        let column = field.column();
        for word in [&field.name, &column] {
            if BUILTIN_COLUMNS.contains(&word.as_str()) {
                return Err(self.error_help(
                    span,
                    format!("`{word}` clashes with the `{word}` column every module has"),
                    "choose another name",
                ));
            }
            if word
                .split('_')
                .any(|part| part == "tenant" || part == "tenants")
            {
                return Err(self.error_help(
                    span,
                    format!("`{word}` refers to the tenant"),
                    "the tenant never comes from the client: every row lives in the caller's \
                     tenant schema, chosen from their token; drop this field",
                ));
            }
            if let Some(problem) = idents::field_name_problem(word) {
                return Err(self.error_help(span, problem, "choose another field name"));
            }
        }
        Ok(())
    }
}

/// `word[from..]` split at `:`, with each piece's byte range in `word`.
fn segments(word: &str, from: usize) -> Vec<(Range<usize>, &str)> {
    segments_by(&word[from..], from, ':')
}

fn segments_by(text: &str, offset: usize, separator: char) -> Vec<(Range<usize>, &str)> {
    let mut start = offset;
    text.split(separator)
        .map(|piece| {
            let span = start..start + piece.len();
            start = span.end + separator.len_utf8();
            (span, piece)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::names::{Inflections, NameRequest};

    fn resolve(target: &str) -> Result<ModuleNames, String> {
        let names = ModuleNames::derive(NameRequest::new(target), &Inflections::default())
            .map_err(|e| e.0)?;
        match names.module.as_str() {
            "users" | "projects" => Ok(names),
            other => Err(format!("no module `{other}`")),
        }
    }

    fn parse(word: &str) -> Result<Field, FieldError> {
        let cx = FieldContext {
            type_name: "Project",
            resolve_ref: &resolve,
        };
        parse_field(word, &cx)
    }

    #[test]
    fn canonical_syntax_parses_back_to_the_same_field() {
        for word in [
            "title:string",
            "code:string(12):unique",
            "body:text?",
            "rank:int:index",
            "views:bigint?",
            "score:float",
            "price:decimal",
            "done:bool",
            "external_id:uuid:unique",
            "due:date?",
            "starts_at:datetime:index",
            "meta:json?",
            "status:enum(draft,in_review,done)",
            "owner:ref(users)?",
            "project:ref(projects,cascade)",
            "owner:ref(users,restrict)?",
            "owner:ref(users,set_null)?",
        ] {
            assert_eq!(parse(word).unwrap().syntax(), word);
        }
    }

    #[test]
    fn a_ref_chooses_its_delete_rule() {
        let rule = |word: &str| parse(word).unwrap().on_delete().map(OnDelete::sql);
        assert_eq!(rule("project:ref(projects)"), Some("RESTRICT"));
        assert_eq!(rule("project:ref(projects)?"), Some("SET NULL"));
        assert_eq!(rule("project:ref(Projects, Cascade)"), Some("CASCADE"));
        assert_eq!(rule("project:ref(projects,set-null)?"), Some("SET NULL"));
        assert_eq!(rule("project:ref(projects,restrict)?"), Some("RESTRICT"));
        assert_eq!(rule("title:string"), None);

        let error = parse("project:ref(projects,set_null)").unwrap_err();
        assert!(error.message.contains("needs an optional ref"), "{error}");
        let help = error.help.unwrap();
        assert!(help.contains("`project:ref(projects,set_null)?`"), "{help}");
        let error = parse("project:ref(projects,casade)").unwrap_err();
        assert_eq!(&error.word[error.span.clone()], "casade");
        assert!(
            error
                .help
                .as_deref()
                .unwrap()
                .starts_with("did you mean `cascade`?"),
            "{error}"
        );
        let error = parse("project:ref(projects,cascade,restrict)").unwrap_err();
        assert_eq!(&error.word[error.span.clone()], "restrict");
        assert!(error.message.contains("at most one delete rule"), "{error}");
    }

    #[test]
    fn loose_input_is_normalised() {
        let field = parse("dueDate:DATE").unwrap();
        assert_eq!(field.syntax(), "due_date:date");
        let field = parse("owner:ref(User)").unwrap();
        assert_eq!(
            (field.syntax(), field.column()),
            ("owner:ref(users)".into(), "owner_id".into())
        );
        let field = parse("state:enum(InReview, done)").unwrap();
        assert_eq!(field.syntax(), "state:enum(in_review,done)");
        assert_eq!(field.ty.rust_type(), "ProjectState");
    }

    #[test]
    fn errors_point_at_the_bad_part() {
        let error = parse("title:strng:unique").unwrap_err();
        assert_eq!(&error.word[error.span.clone()], "strng");
        let error = parse("status:enum(a,,b)").unwrap_err();
        assert_eq!(error.span, 14..14);
        let error = parse("title:strng?:unique").unwrap_err();
        assert_eq!(&error.word[error.span.clone()], "strng");
        let error = parse("code:string(0)?").unwrap_err();
        assert_eq!(&error.word[error.span.clone()], "0");
        let error = parse("tag:string:uniqe").unwrap_err();
        assert_eq!(&error.word[error.span.clone()], "uniqe");
        assert!(
            error
                .to_string()
                .contains("\n    tag:string:uniqe\n               ^^^^^\n")
        );
    }

    #[test]
    fn string_lengths_fit_the_request_body_limit() {
        assert!(parse("a:string(65535)").is_ok());
        let error = parse("a:string(65536)").unwrap_err().to_string();
        assert!(error.contains("from 1 to 65535"), "{error}");
    }

    #[test]
    fn samples_differ_and_fit() {
        let field = parse("code:string(1)").unwrap();
        assert_eq!(field.ty.samples(), [json!("a"), json!("b")]);
        assert_eq!(field.ty.invalid_sample(), Some(json!("xx")));
        let field = parse("state:enum(only)").unwrap();
        assert_eq!(field.ty.samples(), [json!("only"), json!("only")]);
    }

    #[test]
    fn types_refuse_the_modifiers_they_cannot_use() {
        for (word, why) in [
            ("done:bool:unique", "only two rows"),
            ("state:enum(a,b):unique", "one row per value"),
            ("doc:json:index", "no useful equality"),
            ("doc:json:unique", "no useful equality"),
        ] {
            let error = parse(word).unwrap_err();
            assert!(error.to_string().contains(why), "{word}: {error}");
        }
        for word in [
            "done:bool:index",
            "state:enum(a,b):index",
            "code:string:unique",
        ] {
            assert!(parse(word).is_ok(), "{word}");
        }
    }

    #[test]
    fn defaults_are_checked_at_the_edges_of_each_type() {
        let check = |ty: &FieldType, text: &str| ty.check_default(text);
        let short = FieldType::String { max_length: 3 };
        assert_eq!(check(&short, "abc"), Ok("abc".into()));
        assert_eq!(
            check(&short, "äöü"),
            Ok("äöü".into()),
            "characters, not bytes"
        );
        for bad in ["", "abcd"] {
            assert!(check(&short, bad).is_err(), "{bad:?}");
        }
        assert_eq!(check(&FieldType::Float, "0.5"), Ok("0.5".into()));
        for bad in ["inf", "NaN", "1e999", " 1"] {
            assert!(check(&FieldType::Float, bad).is_err(), "{bad:?}");
        }
        let digits28 = format!("{}.{}", "1".repeat(20), "2".repeat(8));
        for good in ["12.50", "-3", "0.1", digits28.as_str()] {
            assert_eq!(check(&FieldType::Decimal, good), Ok(good.into()));
        }
        let digits29 = format!("{}.{}", "1".repeat(20), "2".repeat(9));
        for bad in [".5", "5.", "-", "1.2.3", "1e3", "12a", digits29.as_str()] {
            assert!(check(&FieldType::Decimal, bad).is_err(), "{bad:?}");
        }
        let uuid = "3F2504E0-4F89-41D3-9A0C-0305E82C3301";
        assert_eq!(check(&FieldType::Uuid, uuid), Ok(uuid.to_lowercase()));
        for bad in [
            "3f2504e0",
            "3f2504e0-4f89-41d3-9a0c-0305e82c330z",
            "3f2504e0x4f89-41d3-9a0c-0305e82c3301",
        ] {
            assert!(check(&FieldType::Uuid, bad).is_err(), "{bad:?}");
        }
    }
}

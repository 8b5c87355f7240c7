//! One parsed field: a name, a [`FieldType`] and its modifiers, and what follows from them
//! (column, Rust identifier, default in each language).

use serde_json::Value;

use super::types::{FieldType, OnDelete};
use crate::input::idents;

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
    /// `:writeonly` was asked for (a `secret` is write-only without it: see
    /// [`Self::is_write_only`]).
    pub write_only: bool,
    /// The column default, canonical (see [`FieldType::check_default`]): what rows that
    /// exist get when the field is added, and what a create request that leaves it out gets.
    pub default: Option<String>,
}

impl Field {
    /// The column: [`Self::key`], or `<name>_hash` for a `secret`, whose column holds a
    /// hash (so that nobody reading the table takes it for the secret, and `password` stays
    /// free for the JSON key).
    pub fn column(&self) -> String {
        match self.ty {
            FieldType::Secret { .. } => format!("{}_hash", self.name),
            _ => self.key(),
        }
    }

    /// The JSON key and the Rust struct field: `<name>_id` for a `ref`, else the name.
    pub fn key(&self) -> String {
        match self.ty {
            FieldType::Ref { .. } => format!("{}_id", self.name),
            _ => self.name.clone(),
        }
    }

    /// Accepted in requests and never returned, filtered or sorted on: `:writeonly`, or a
    /// `secret`.
    pub fn is_write_only(&self) -> bool {
        self.write_only || self.ty.is_secret()
    }

    /// The Rust struct field: [`Self::key`], raw (`r#type`) when it is a keyword.
    pub fn rust_ident(&self) -> String {
        idents::rust_ident(&self.key())
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
        if self.write_only {
            word.push_str(":writeonly");
        }
        if let Some(default) = &self.default {
            word.push('=');
            word.push_str(default);
        }
        word
    }

    /// An array's default (`[a,b]`, canonical) as a required field of the element type per
    /// element, whose defaults in each language make the array's.
    fn array_default(&self) -> Option<Vec<Field>> {
        let element = self.ty.element()?;
        let text = self.default.as_deref()?;
        let inner = &text[1..text.len() - 1];
        let items = inner.split(',').filter(|_| !inner.is_empty());
        let field = |item: &str| Field {
            ty: element.clone(),
            optional: false,
            default: Some(item.to_string()),
            ..self.clone()
        };
        Some(items.map(field).collect())
    }

    /// The default as a PostgreSQL literal: `0`, `'open'`, `'{"a":1}'::jsonb`.
    pub fn default_sql(&self) -> Option<String> {
        if let Some(items) = self.array_default() {
            let items: Vec<String> = items.iter().filter_map(Field::default_sql).collect();
            let sql_type = self.ty.sql_type().to_lowercase();
            return Some(format!("ARRAY[{}]::{sql_type}", items.join(", ")));
        }
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
        if let Some(items) = self.array_default() {
            return Some(items.iter().filter_map(Field::default_json).collect());
        }
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
        if let Some(items) = self.array_default() {
            let items: Vec<String> = items.iter().filter_map(Field::default_rust).collect();
            let expression = format!("vec![{}]", items.join(", "));
            return Some(match self.optional {
                true => format!("Some({expression})"),
                false => expression,
            });
        }
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
            FieldType::Ref { .. } | FieldType::Secret { .. } => {
                unreachable!("refs and secrets have no default")
            }
            FieldType::Array(_) => unreachable!("handled by array_default"),
        };
        Some(if self.optional {
            format!("Some({expression})")
        } else {
            expression
        })
    }
}

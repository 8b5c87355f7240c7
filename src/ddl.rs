//! The SQL of a field's column: its definition, its constraints and its index, named in one
//! place so that the create migration and every later change migration agree (a change finds
//! a constraint by the name the create migration gave it).

use serde::Serialize;

use crate::fields::{Field, FieldType};

/// The names of a column's constraints and index, as PostgreSQL would choose them itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConstraintNames {
    pub unique: String,
    pub check: String,
    pub foreign_key: String,
    pub index: String,
}

impl ConstraintNames {
    pub fn new(table: &str, column: &str) -> Self {
        let name = |suffix: &str| format!("{table}_{column}_{suffix}");
        Self {
            unique: name("key"),
            check: name("check"),
            foreign_key: name("fkey"),
            index: name("idx"),
        }
    }
}

/// The CHECK expression that keeps the column's values valid, for types that have one.
pub fn check(field: &Field) -> Option<String> {
    let column = field.column();
    match &field.ty {
        FieldType::String { max_length } => {
            Some(format!("char_length({column}) BETWEEN 1 AND {max_length}"))
        }
        FieldType::Enum { variants, .. } => {
            let values: Vec<String> = variants.iter().map(|v| format!("'{}'", v.name)).collect();
            Some(format!("{column} IN ({})", values.join(", ")))
        }
        _ => None,
    }
}

/// What deleting the referenced row does: an optional reference is cleared, a required one
/// keeps the row from being deleted.
pub fn on_delete(field: &Field) -> &'static str {
    if field.optional {
        "SET NULL"
    } else {
        "RESTRICT"
    }
}

/// The `REFERENCES ...` clause of a ref field.
pub fn references(field: &Field) -> Option<String> {
    match &field.ty {
        FieldType::Ref { target } => Some(format!(
            "REFERENCES {} (id) ON DELETE {}",
            target.module,
            on_delete(field)
        )),
        _ => None,
    }
}

/// The column as `CREATE TABLE` and `ADD COLUMN` declare it.
pub fn definition(table: &str, field: &Field) -> String {
    let column = field.column();
    let names = ConstraintNames::new(table, &column);
    let mut sql = format!("{column} {}", field.ty.sql_type());
    if !field.optional {
        sql.push_str(" NOT NULL");
    }
    if let Some(default) = field.default_sql() {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    if field.unique {
        sql.push_str(&format!(" CONSTRAINT {} UNIQUE", names.unique));
    }
    if let Some(check) = check(field) {
        sql.push_str(&format!(" CONSTRAINT {} CHECK ({check})", names.check));
    }
    if let Some(references) = references(field) {
        sql.push_str(&format!(" CONSTRAINT {} {references}", names.foreign_key));
    }
    sql
}

/// The `CREATE INDEX` the column needs, if any (see [`Field::needs_index`]).
pub fn create_index(table: &str, field: &Field) -> Option<String> {
    let column = field.column();
    field.needs_index().then(|| {
        let index = ConstraintNames::new(table, &column).index;
        format!("CREATE INDEX {index} ON {table} ({column});")
    })
}

//! The SQL of a field's column: its definition, its constraints and its index, named in one
//! place so that the create migration and every later change migration agree (a change finds
//! a constraint by the name the create migration gave it).

use serde::Serialize;

use crate::input::fields::{Field, FieldType};
use crate::input::options::ModuleOptions;

/// The names of a column's constraints and index, as PostgreSQL would choose them itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConstraintNames {
    pub unique: String,
    pub check: String,
    pub foreign_key: String,
    pub index: String,
}

/// PostgreSQL cuts longer identifiers silently, so two long names could become one.
const MAX_IDENTIFIER_BYTES: usize = 63;

impl ConstraintNames {
    pub fn new(table: &str, column: &str) -> Self {
        let name = |suffix: &str| {
            let name = format!("{table}_{column}_{suffix}");
            if name.len() > MAX_IDENTIFIER_BYTES || name == sort_index(table) {
                shortened(&name, suffix)
            } else {
                name
            }
        };
        Self {
            unique: name("key"),
            check: name("check"),
            foreign_key: name("fkey"),
            index: name("idx"),
        }
    }
}

/// A column every table of a [`TABLE_SHAPE`](crate::input::spec::TABLE_SHAPE) has, after
/// the fields.
struct SystemColumn {
    definition: &'static str,
    /// The first shape that has it.
    since: u32,
}

const SYSTEM_COLUMNS: &[SystemColumn] = &[
    SystemColumn {
        definition: "created_at TIMESTAMPTZ NOT NULL DEFAULT now()",
        since: 1,
    },
    SystemColumn {
        definition: "updated_at TIMESTAMPTZ NOT NULL DEFAULT now()",
        since: 1,
    },
    // Optimistic concurrency: bumped by every UPDATE, the row's ETag.
    SystemColumn {
        definition: "version BIGINT NOT NULL DEFAULT 1",
        since: 2,
    },
];

/// The definitions of the columns a table of `shape` with `options` has after its fields.
pub fn system_columns(shape: u32, options: ModuleOptions) -> Vec<&'static str> {
    let present = SYSTEM_COLUMNS.iter().filter(|c| c.since <= shape);
    let mut columns: Vec<&str> = present.map(|c| c.definition).collect();
    columns.extend(
        option_columns(options)
            .into_iter()
            .map(|(_, definition)| definition),
    );
    columns
}

/// The columns `options` add: name and definition. Nullable: rows from before an option was
/// turned on have no author, owner or deletion.
fn option_columns(options: ModuleOptions) -> Vec<(&'static str, &'static str)> {
    let definition = |column: &str| match column {
        "created_by" => "created_by TEXT",
        "updated_by" => "updated_by TEXT",
        "owner_id" => "owner_id TEXT",
        "deleted_at" => "deleted_at TIMESTAMPTZ",
        "deleted_by" => "deleted_by TEXT",
        other => unreachable!("no definition for {other}"),
    };
    let columns = options.columns();
    columns.into_iter().map(|c| (c, definition(c))).collect()
}

/// The indexes `options` need beyond the fields': `?owner=me` and the owner rules look rows
/// up by owner, in the lists' order.
pub fn option_indexes(table: &str, options: ModuleOptions) -> Vec<String> {
    let mut indexes = Vec::new();
    if options.owned {
        let index = ConstraintNames::new(table, "owner_id").index;
        indexes.push(format!(
            "CREATE INDEX {index} ON {table} (owner_id, created_at, id);"
        ));
    }
    indexes
}

/// With soft delete, a unique field is unique among live rows only: a partial unique index
/// (named as the constraint would be, so that a 409 names the field either way).
pub fn unique_index(table: &str, field: &Field) -> String {
    let names = ConstraintNames::new(table, &field.column());
    format!(
        "CREATE UNIQUE INDEX {} ON {table} ({}) WHERE deleted_at IS NULL;",
        names.unique,
        field.sql_column()
    )
}

/// The statements that take `table` from `old` options to `new`: columns and indexes added or
/// dropped, and, when soft delete comes or goes, the unique fields' uniqueness moved between a
/// constraint and a partial index. Turning soft delete off deletes the rows it had kept.
pub fn option_statements(
    table: &str,
    old: ModuleOptions,
    new: ModuleOptions,
    unique: &[&Field],
) -> Vec<String> {
    let mut sql = Vec::new();
    let (before, after) = (option_columns(old), option_columns(new));
    if old.soft_delete && !new.soft_delete {
        sql.push(format!("DELETE FROM {table} WHERE deleted_at IS NOT NULL;"));
        for field in unique {
            let names = ConstraintNames::new(table, &field.column());
            sql.push(format!("DROP INDEX {};", names.unique));
            sql.push(format!(
                "ALTER TABLE {table} ADD CONSTRAINT {} UNIQUE ({});",
                names.unique,
                field.sql_column()
            ));
        }
    }
    if old.owned && !new.owned {
        let index = ConstraintNames::new(table, "owner_id").index;
        sql.push(format!("DROP INDEX {index};"));
    }
    for (column, _) in before.iter().filter(|c| !after.contains(c)) {
        sql.push(format!("ALTER TABLE {table} DROP COLUMN {column};"));
    }
    for (_, definition) in after.iter().filter(|c| !before.contains(c)) {
        sql.push(format!("ALTER TABLE {table} ADD COLUMN {definition};"));
    }
    if new.owned && !old.owned {
        sql.extend(option_indexes(table, new));
    }
    if new.soft_delete && !old.soft_delete {
        for field in unique {
            let names = ConstraintNames::new(table, &field.column());
            sql.push(format!(
                "ALTER TABLE {table} DROP CONSTRAINT {};",
                names.unique
            ));
            sql.push(unique_index(table, field));
        }
    }
    sql
}

/// The statements that take `table` from shape `from` to shape `to`.
pub fn shape_statements(table: &str, from: u32, to: u32) -> Vec<String> {
    let added = SYSTEM_COLUMNS
        .iter()
        .filter(|c| from < c.since && c.since <= to);
    added
        .map(|c| format!("ALTER TABLE {table} ADD COLUMN {};", c.definition))
        .collect()
}

/// The index lists are sorted by, which every table has.
pub fn sort_index(table: &str) -> String {
    format!("{table}_created_at_id_idx")
}

/// `name` cut to fit, made unique again by a hash of the whole of it, ending in `suffix` as
/// PostgreSQL's own names do: `<start of name>_<hash>_<suffix>`. Names are ASCII identifiers.
fn shortened(name: &str, suffix: &str) -> String {
    let hash = crate::generate::digest::hash(name);
    let hash = &hash[..8];
    let keep = MAX_IDENTIFIER_BYTES - hash.len() - suffix.len() - 2;
    let start = name[..keep.min(name.len())].trim_end_matches('_');
    format!("{start}_{hash}_{suffix}")
}

/// The CHECK expression that keeps the column's values valid, for types that have one.
pub fn check(field: &Field) -> Option<String> {
    field.ty.check(&field.sql_column())
}

/// The `REFERENCES ...` clause of a ref field, with its delete rule (see [`Field::on_delete`]).
pub fn references(field: &Field) -> Option<String> {
    match (&field.ty, field.on_delete()) {
        (FieldType::Ref { target, .. }, Some(rule)) => Some(format!(
            "REFERENCES {} (id) ON DELETE {}",
            target.module,
            rule.sql()
        )),
        _ => None,
    }
}

/// The column as `CREATE TABLE` and `ADD COLUMN` declare it. With `soft_delete`, its
/// uniqueness is a partial index instead ([`unique_index`]).
pub fn definition(table: &str, field: &Field, soft_delete: bool) -> String {
    let names = ConstraintNames::new(table, &field.column());
    let mut sql = format!("{} {}", field.sql_column(), field.ty.sql_type());
    if !field.optional {
        sql.push_str(" NOT NULL");
    }
    if let Some(default) = field.default_sql() {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    if field.unique && !soft_delete {
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
/// The column first, then the lists' default order: a list filtered on the column (a
/// ref's parent-scoped list) reads its pages in order from the index, page 1000 as cheaply as
/// page 1, and lookups on the column alone (a ref's foreign key check) still use it.
pub fn create_index(table: &str, field: &Field) -> Option<String> {
    index_in_order(table, field, true)
}

/// [`create_index`] of a link's field: a link has no `id` (nor a list order) to end with.
pub fn create_link_index(table: &str, field: &Field) -> Option<String> {
    index_in_order(table, field, false)
}

fn index_in_order(table: &str, field: &Field, list_order: bool) -> Option<String> {
    field.needs_index().then(|| {
        let index = ConstraintNames::new(table, &field.column()).index;
        // An array's index is GIN, which serves `@>` and `&&` (`[contains]`, `[overlaps]`)
        // and holds no list order.
        if field.ty.element().is_some() {
            return format!(
                "CREATE INDEX {index} ON {table} USING GIN ({});",
                field.sql_column()
            );
        }
        let order = if list_order { ", created_at, id" } else { "" };
        format!(
            "CREATE INDEX {index} ON {table} ({}{order});",
            field.sql_column()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_add_columns_and_the_upgrade_adds_the_difference() {
        let plain = ModuleOptions::default();
        assert_eq!(system_columns(1, plain).len(), 2);
        assert_eq!(
            system_columns(2, plain).last(),
            Some(&"version BIGINT NOT NULL DEFAULT 1")
        );
        assert_eq!(
            shape_statements("projects", 1, 2),
            ["ALTER TABLE projects ADD COLUMN version BIGINT NOT NULL DEFAULT 1;"]
        );
        assert!(shape_statements("projects", 2, 2).is_empty());
    }

    #[test]
    fn options_add_and_drop_their_columns_and_move_uniqueness_with_soft_delete() {
        let plain = ModuleOptions::default();
        let all = ModuleOptions {
            private: true,
            soft_delete: true,
            ..plain
        }
        .implied();
        let code = crate::input::fields::parse_field(
            "code:string(10):unique",
            &crate::input::fields::FieldContext {
                type_name: "Task",
                resolve_ref: &|_| Err("no refs".into()),
            },
        )
        .unwrap();
        let on = option_statements("tasks", plain, all, &[&code]);
        assert_eq!(
            on,
            [
                "ALTER TABLE tasks ADD COLUMN created_by TEXT;",
                "ALTER TABLE tasks ADD COLUMN updated_by TEXT;",
                "ALTER TABLE tasks ADD COLUMN owner_id TEXT;",
                "ALTER TABLE tasks ADD COLUMN deleted_at TIMESTAMPTZ;",
                "ALTER TABLE tasks ADD COLUMN deleted_by TEXT;",
                "CREATE INDEX tasks_owner_id_idx ON tasks (owner_id, created_at, id);",
                "ALTER TABLE tasks DROP CONSTRAINT tasks_code_key;",
                "CREATE UNIQUE INDEX tasks_code_key ON tasks (code) WHERE deleted_at IS NULL;",
            ]
        );
        let off = option_statements("tasks", all, plain, &[&code]);
        assert_eq!(off[0], "DELETE FROM tasks WHERE deleted_at IS NOT NULL;");
        assert_eq!(off[1], "DROP INDEX tasks_code_key;");
        assert!(off.contains(&"ALTER TABLE tasks DROP COLUMN owner_id;".to_owned()));
        assert!(option_statements("tasks", all, all, &[&code]).is_empty());
        assert!(!definition("tasks", &code, true).contains("UNIQUE"));
        assert!(definition("tasks", &code, false).contains("CONSTRAINT tasks_code_key UNIQUE"));
    }

    #[test]
    fn names_fit_postgres_and_stay_distinct() {
        let short = ConstraintNames::new("tasks", "title");
        assert_eq!(short.unique, "tasks_title_key");
        assert_eq!(short.index, "tasks_title_idx");

        let table = "customer_subscription_invoices";
        let long = ConstraintNames::new(table, "billing_address_postal_code_line");
        let names = [&long.unique, &long.check, &long.foreign_key, &long.index];
        for name in names {
            assert!(name.len() <= MAX_IDENTIFIER_BYTES, "{name}");
            assert!(
                name.starts_with("customer_subscription_invoices_billing"),
                "{name}"
            );
        }
        assert!(long.check.ends_with("_check") && long.unique.ends_with("_key"));
        let mut distinct: Vec<&String> = names.to_vec();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 4);
        // Two long columns that share their first 50 bytes still get different names.
        let other = ConstraintNames::new(table, "billing_address_postal_code_line2");
        assert_ne!(other.check, long.check);

        // A column named like the sort index's columns does not take its name.
        let index = ConstraintNames::new("tasks", "created_at_id").index;
        assert_ne!(index, sort_index("tasks"));
        assert!(index.ends_with("_idx"), "{index}");
    }
}

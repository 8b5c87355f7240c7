//! `scaffold change module`, the pure part: the requested edits turn the recorded field list
//! into a new one, and the difference of the two specs becomes the ALTER migration. The new
//! rendering of the module comes from the new spec, merged as `upgrade` merges.
//!
//! A change is a diff of two specs: nothing here looks at the database or the files.

use std::fmt::Write as _;

use heck::ToSnakeCase;

use crate::generate::ddl::{self, ConstraintNames};
use crate::input::fields::{Field, FieldType};
use crate::input::options::ModuleOptions;
use crate::input::project::{JsonCase, ProjectFacts};
use crate::input::spec::{ModuleSpec, SpecRequest};

/// The edits as given on the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpecEdits<'a> {
    pub add: &'a [String],
    pub remove: &'a [String],
    pub rename: &'a [String],
    pub alter: &'a [String],
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct SpecDiffError(pub String);

fn fail<T>(message: impl Into<String>) -> Result<T, SpecDiffError> {
    Err(SpecDiffError(message.into()))
}

/// The module before and after, and which new field each old one became.
#[derive(Debug, Clone)]
pub struct SpecDiff {
    pub old: ModuleSpec,
    pub new: ModuleSpec,
    /// For each field of `new`, the index of the field of `old` it was, if any.
    pub origin: Vec<Option<usize>>,
    /// Fields of `old` that are gone.
    pub removed: Vec<usize>,
}

/// One field of the list being edited.
struct Slot {
    old: Option<usize>,
    word: String,
    renamed: bool,
    altered: bool,
}

impl SpecDiff {
    /// Applies `request` to `old`'s fields; `parse` parses a field list with the module's
    /// names, as `new module` would (see [`parser`]).
    pub fn new(
        old: &ModuleSpec,
        request: SpecEdits,
        parse: &dyn Fn(&[String]) -> Result<ModuleSpec, String>,
    ) -> Result<Self, SpecDiffError> {
        let module = &old.names.module;
        let mut slots: Vec<Slot> = old
            .fields
            .iter()
            .enumerate()
            .map(|(i, field)| Slot {
                old: Some(i),
                word: field.syntax(),
                renamed: false,
                altered: false,
            })
            .collect();
        let field_list = || {
            let names: Vec<&str> = old.fields.iter().map(|f| f.name.as_str()).collect();
            names.join(", ")
        };
        let unknown = |name: &str| {
            SpecDiffError(format!(
                "`{module}` has no field `{name}`; its fields are {}",
                field_list()
            ))
        };
        // `--remove` and `--rename` name fields as they were; `--alter` as they will be named.
        let find_old = |slots: &[Slot], name: &str| {
            let wanted = name.trim().to_snake_case();
            slots
                .iter()
                .position(|slot| {
                    slot.old.is_some_and(|i| {
                        let field = &old.fields[i];
                        field.name == wanted || field.column() == wanted
                    })
                })
                .ok_or_else(|| unknown(name))
        };
        let find_new = |slots: &[Slot], name: &str| {
            slots
                .iter()
                .position(|slot| field_name(&slot.word) == name)
                .ok_or_else(|| unknown(name))
        };

        let mut removed = Vec::new();
        for name in request.remove {
            let at = find_old(&slots, name)?;
            removed.extend(slots.remove(at).old);
        }
        for pair in request.rename {
            let Some((from, to)) = pair.split_once(':') else {
                return fail(format!(
                    "`--rename {pair}` needs the old and the new name: `--rename old_name:new_name`"
                ));
            };
            let at = find_old(&slots, from).map_err(|error| {
                let removed_too = request
                    .remove
                    .iter()
                    .any(|r| r.to_snake_case() == from.to_snake_case());
                if removed_too {
                    SpecDiffError(format!("`{from}` is both removed and renamed; choose one"))
                } else {
                    error
                }
            })?;
            if slots[at].renamed {
                return fail(format!("`{from}` is renamed twice"));
            }
            // `favoritesCount` is `favorites_count` (names are stored snake_case), so this
            // rename would change nothing; the JSON spelling is the project's, not the field's.
            let snake = from.trim().to_snake_case();
            if to.trim().to_snake_case() == snake {
                return fail(format!(
                    "`{from}` and `{to}` name the same field, `{snake}`: field names are kept in \
                     snake_case, and JSON spells every name in the case `[api] json_case` sets in \
                     scaffold.toml (`\"camel\"` for `{}`); to rename the field, give it another name",
                    JsonCase::Camel.name(&snake)
                ));
            }
            let rest =
                &slots[at].word[slots[at].word.find(':').expect("a field word has a type")..];
            let word = format!("{}{rest}", to.trim());
            let taken = slots
                .iter()
                .enumerate()
                .any(|(other, slot)| other != at && field_name(&slot.word) == field_name(&word));
            if taken {
                return fail(format!(
                    "cannot rename `{from}` to `{to}`: `{to}` is already a field of `{module}`"
                ));
            }
            slots[at].word = word;
            slots[at].renamed = true;
        }
        for word in request.alter {
            let name = field_name(word);
            if name.is_empty() || !word.contains(':') {
                return fail(format!(
                    "`--alter {word}` needs the field's whole new definition, e.g. `--alter \
                     {}:string(300)`",
                    if name.is_empty() { "title" } else { &name }
                ));
            }
            let at = find_new(&slots, &name).map_err(|error| {
                let renamed_away = request
                    .rename
                    .iter()
                    .filter_map(|pair| pair.split_once(':'))
                    .find(|(from, _)| from.to_snake_case() == name);
                match renamed_away {
                    Some((from, to)) => SpecDiffError(format!(
                        "`{from}` is renamed to `{to}` in this change; alter it by its new name: \
                         `--alter {to}:...`"
                    )),
                    None => error,
                }
            })?;
            if slots[at].altered {
                return fail(format!("`{name}` is altered twice"));
            }
            slots[at].word = word.clone();
            slots[at].altered = true;
        }
        slots.extend(request.add.iter().map(|word| Slot {
            old: None,
            word: word.clone(),
            renamed: false,
            altered: false,
        }));

        if slots.is_empty() {
            return fail(format!(
                "this would remove every field of `{module}`; a module needs at least one. To \
                 remove the module, use `scaffold destroy module {module}`"
            ));
        }
        let words: Vec<String> = slots.iter().map(|slot| slot.word.clone()).collect();
        let new = parse(&words).map_err(SpecDiffError)?;
        if new.command == old.command {
            return fail(format!(
                "nothing to change: `{module}` already has exactly these fields ({})",
                field_list()
            ));
        }
        let change = Self {
            origin: slots.iter().map(|slot| slot.old).collect(),
            old: old.clone(),
            new,
            removed,
        };
        change.check()?;
        Ok(change)
    }

    /// The Rust and JSON names (columns) that a rename changes: (old, new).
    pub fn renamed_columns(&self) -> Vec<(String, String)> {
        self.kept()
            .map(|(old, new)| (old.column(), new.column()))
            .filter(|(old, new)| old != new)
            .collect()
    }

    /// The pairs of (old, new) field that the change keeps, renamed or altered.
    fn kept(&self) -> impl Iterator<Item = (&Field, &Field)> {
        self.new
            .fields
            .iter()
            .zip(&self.origin)
            .filter_map(|(new, old)| Some((&self.old.fields[(*old)?], new)))
    }

    fn added(&self) -> impl Iterator<Item = &Field> {
        self.new
            .fields
            .iter()
            .zip(&self.origin)
            .filter(|(_, old)| old.is_none())
            .map(|(new, _)| new)
    }

    /// Refuses what no migration can do safely, saying what to do instead.
    fn check(&self) -> Result<(), SpecDiffError> {
        for field in self.added() {
            if field.optional || field.default.is_some() {
                continue;
            }
            let word = field.syntax();
            let hint = match field.ty {
                FieldType::Ref { .. } | FieldType::Secret { .. } => format!(
                    "add it optional (`--add {word}?`), set it in every row, then make it \
                     required with `--alter {word}`"
                ),
                _ if field.unique => format!(
                    "add it optional (`--add {word}?`... without `:unique`), give every row its \
                     own value, then `--alter {word}`"
                ),
                _ => format!(
                    "give it a default for those rows (`--add {word}=VALUE`), or make it \
                     optional (`--add {word}?`)"
                ),
            };
            return fail(format!(
                "`{}` is required, and the table may already hold rows that need a value: {hint}",
                field.name
            ));
        }
        for (old, new) in self.kept() {
            if old.ty.widening_to(&new.ty).is_none() {
                return fail(format!(
                    "cannot change `{}` from `{}` to `{}` in place: the data would not carry \
                     over. Instead: add a new field (`--add {}_new:...`), copy the data across \
                     in a migration of your own, then `--remove {}` and `--rename {}_new:{}`",
                    old.name,
                    type_word(old),
                    type_word(new),
                    new.name,
                    old.name,
                    new.name,
                    new.name
                ));
            }
            let needs_value = old.optional && !new.optional;
            // Neither has a default; the migration checks every row has a value instead.
            let no_default = matches!(new.ty, FieldType::Ref { .. } | FieldType::Secret { .. });
            if needs_value && new.default.is_none() && !no_default {
                return fail(format!(
                    "making `{}` required needs a value for the rows where it is empty: write \
                     `--alter {}=VALUE`",
                    new.name,
                    new.syntax()
                ));
            }
        }
        Ok(())
    }

    /// The statements of the change migration, in the order they must run: drops, renames,
    /// alterations, additions. Each runs in the tenant's schema, inside the migration
    /// runner's transaction.
    pub fn statements(&self) -> Vec<String> {
        let table = &self.new.names.module;
        // Options and fields never change in one run (see `change module`), so this is the
        // soft-delete state of both.
        let soft = self.new.options.soft_delete;
        let mut sql = Vec::new();
        for &i in &self.removed {
            let column = self.old.fields[i].sql_column();
            sql.push(format!("ALTER TABLE {table} DROP COLUMN {column};"));
        }
        for (old, new) in self.kept() {
            rename(table, old, new, soft, &mut sql);
        }
        for (old, new) in self.kept() {
            alter(table, old, new, soft, &mut sql);
            if !old.needs_index() && new.needs_index() {
                sql.extend(self.create_index(table, new));
            }
        }
        for field in self.added() {
            sql.push(format!(
                "ALTER TABLE {table} ADD COLUMN {};",
                ddl::definition(table, field, soft)
            ));
            sql.extend(self.create_index(table, field));
            if soft && field.unique {
                sql.push(ddl::unique_index(table, field));
            }
        }
        sql.extend(ddl::shape_statements(table, self.old.shape, self.new.shape));
        let unique: Vec<&Field> = self.new.fields.iter().filter(|f| f.unique).collect();
        sql.extend(ddl::option_statements(
            table,
            self.old.options,
            self.new.options,
            &unique,
        ));
        sql
    }
}

impl SpecDiff {
    /// A field's index as the table's kind needs it: a link has no list order to end with.
    fn create_index(&self, table: &str, field: &Field) -> Option<String> {
        match self.new.link {
            Some(_) => ddl::create_link_index(table, field),
            None => ddl::create_index(table, field),
        }
    }
}

/// The migration that brings a module created at an older table shape to `spec`'s: what
/// `scaffold upgrade` writes beside the merged code. `None` when the shape is current.
pub fn shape_migration(old: &ModuleSpec, shape: u32) -> Option<String> {
    let statements = ddl::shape_statements(&old.names.module, old.shape, shape);
    if statements.is_empty() {
        return None;
    }
    let mut text = format!(
        "-- {}: brought to the current table shape by `scaffold upgrade`.\n",
        capitalize(&old.names.human_plural)
    );
    for statement in statements {
        let _ = writeln!(text, "{statement}");
    }
    Some(text)
}

impl SpecDiff {
    /// The migration file: what made it, then the statements.
    pub fn migration(&self, command: &str) -> String {
        let mut text = format!(
            "-- {}: changed by `scaffold change module {command}`.\n",
            capitalize(&self.new.names.human_plural)
        );
        for statement in self.statements() {
            let _ = writeln!(text, "{statement}");
        }
        text
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The field name of a FIELD word, snake_case, without a ref's `_id`.
fn field_name(word: &str) -> String {
    let name = word
        .split([':', '='])
        .next()
        .unwrap_or_default()
        .to_snake_case();
    match (is_ref(word), name.strip_suffix("_id")) {
        (true, Some(bare)) => bare.to_string(),
        _ => name,
    }
}

fn is_ref(word: &str) -> bool {
    word.split(':')
        .nth(1)
        .is_some_and(|ty| ty.trim().to_ascii_lowercase().starts_with("ref("))
}

/// `int`, `string(80)`, `enum(a,b)`: the type part of a field's syntax.
fn type_word(field: &Field) -> String {
    let syntax = field.syntax();
    let ty = syntax.split(':').nth(1).unwrap_or_default();
    ty.trim_end_matches('?').to_string()
}

fn rename(table: &str, old: &Field, new: &Field, soft: bool, sql: &mut Vec<String>) {
    let (from, to) = (old.column(), new.column());
    if from == to {
        return;
    }
    sql.push(format!(
        "ALTER TABLE {table} RENAME COLUMN {} TO {};",
        old.sql_column(),
        new.sql_column()
    ));
    let (a, b) = (
        ConstraintNames::new(table, &from),
        ConstraintNames::new(table, &to),
    );
    let mut constraint = |has: bool, from: &str, to: &str| {
        if has {
            sql.push(format!(
                "ALTER TABLE {table} RENAME CONSTRAINT {from} TO {to};"
            ));
        }
    };
    constraint(old.unique && !soft, &a.unique, &b.unique);
    constraint(ddl::check(old).is_some(), &a.check, &b.check);
    constraint(
        ddl::references(old).is_some(),
        &a.foreign_key,
        &b.foreign_key,
    );
    if old.needs_index() {
        sql.push(format!("ALTER INDEX {} RENAME TO {};", a.index, b.index));
    }
    if old.unique && soft {
        sql.push(format!("ALTER INDEX {} RENAME TO {};", a.unique, b.unique));
    }
}

/// `old` is the field as it was, `new` as it will be; any rename has already run.
fn alter(table: &str, old: &Field, new: &Field, soft: bool, sql: &mut Vec<String>) {
    let names = ConstraintNames::new(table, &new.column());
    let column = new.sql_column();
    // `old` under the new name, so that rules compare equal when only the name changed.
    let old = &Field {
        name: new.name.clone(),
        ..old.clone()
    };
    let alter_column = |what: String| format!("ALTER TABLE {table} ALTER COLUMN {column} {what};");
    let new_type = old.ty.widening_to(&new.ty).flatten();

    // Constraints that change are dropped before the column changes and added after it.
    let check_changes = ddl::check(old) != ddl::check(new);
    let references_change = ddl::references(old) != ddl::references(new);
    if check_changes && ddl::check(old).is_some() {
        sql.push(format!(
            "ALTER TABLE {table} DROP CONSTRAINT {};",
            names.check
        ));
    }
    if references_change && ddl::references(old).is_some() {
        sql.push(format!(
            "ALTER TABLE {table} DROP CONSTRAINT {};",
            names.foreign_key
        ));
    }
    if old.unique && !new.unique {
        sql.push(match soft {
            true => format!("DROP INDEX {};", names.unique),
            false => format!("ALTER TABLE {table} DROP CONSTRAINT {};", names.unique),
        });
    }
    if old.needs_index() && !new.needs_index() {
        sql.push(format!("DROP INDEX {};", names.index));
    }

    let default_changes = old.default_sql() != new.default_sql() || new_type.is_some();
    if default_changes && old.default.is_some() {
        sql.push(alter_column("DROP DEFAULT".into()));
    }
    if let Some(sql_type) = new_type {
        sql.push(alter_column(format!("TYPE {sql_type}")));
    }
    if default_changes && let Some(default) = new.default_sql() {
        sql.push(alter_column(format!("SET DEFAULT {default}")));
    }

    if old.optional && !new.optional {
        match new.default_sql() {
            Some(default) => sql.push(format!(
                "UPDATE {table} SET {column} = {default} WHERE {column} IS NULL;"
            )),
            None => sql.push(refuse_rows(
                table,
                &column,
                &format!("{column} IS NULL"),
                &format!("{table}.{column} is empty in % row(s); set it before making it required"),
            )),
        }
        sql.push(alter_column("SET NOT NULL".into()));
    } else if !old.optional && new.optional {
        sql.push(alter_column("DROP NOT NULL".into()));
    }

    if check_changes && let Some(check) = ddl::check(new) {
        sql.push(refuse_rows(
            table,
            &column,
            &format!("NOT ({check})"),
            &format!(
                "{table}.{column} holds values that the new definition ({check}) does not \
                 allow, in % row(s): %; change those rows first"
            ),
        ));
        sql.push(format!(
            "ALTER TABLE {table} ADD CONSTRAINT {} CHECK ({check});",
            names.check
        ));
    }
    if references_change && let Some(references) = ddl::references(new) {
        sql.push(format!(
            "ALTER TABLE {table} ADD CONSTRAINT {} FOREIGN KEY ({column}) {references};",
            names.foreign_key
        ));
    }
    if !old.unique && new.unique {
        sql.push(match soft {
            true => ddl::unique_index(table, new),
            false => format!(
                "ALTER TABLE {table} ADD CONSTRAINT {} UNIQUE ({column});",
                names.unique
            ),
        });
    }
}

/// A block that fails the migration with `message` when rows of `table` match `condition`,
/// before a statement that would fail on them less clearly (or not at all). The first `%` in
/// the message is the number of rows, a second one a few of the column's values.
fn refuse_rows(table: &str, column: &str, condition: &str, message: &str) -> String {
    let message = message.replace('\'', "''");
    let sample = if message.matches('%').count() > 1 {
        ", sample"
    } else {
        ""
    };
    format!(
        "DO $$\n\
         DECLARE\n\
         \x20   n bigint;\n\
         \x20   sample text;\n\
         BEGIN\n\
         \x20   SELECT count(*), string_agg(DISTINCT left(value, 40), ', ') INTO n, sample\n\
         \x20   FROM (SELECT {column}::text AS value FROM {table} WHERE {condition}) AS bad;\n\
         \x20   IF n > 0 THEN\n\
         \x20       RAISE EXCEPTION '{message}', n{sample};\n\
         \x20   END IF;\n\
         END\n\
         $$;"
    )
}

/// Parses a field list with the names of `recorded` (the module's recorded command: its
/// singular and plural as given), `options` and `key`, as `new module` would parse it.
pub fn parser<'a>(
    old: &'a ModuleSpec,
    recorded: SpecRequest<'a>,
    options: ModuleOptions,
    key: Option<&'a str>,
    facts: &'a ProjectFacts,
) -> impl Fn(&[String]) -> Result<ModuleSpec, String> + 'a {
    move |fields: &[String]| {
        let request = SpecRequest {
            fields,
            with_tests: old.with_tests,
            ..recorded
        };
        let spec = ModuleSpec::parse(request, facts)
            .and_then(|spec| spec.with_options(options))
            .map_err(|e| e.to_string())?;
        let spec = match &old.link {
            Some(link) => spec.with_link(link.clone()).map_err(|e| e.to_string())?,
            None => spec,
        };
        spec.with_key(key).map_err(|e| e.to_string())
    }
}

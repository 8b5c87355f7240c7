//! The data templates see. This is the contract between the generator and the templates:
//! add a key here (and to the snapshots of `context_of_every_type_and_modifier` and
//! `context_of_projects` in `tests/fields.rs`) when a template needs one.
//!
//! Top level: every [`ModuleNames`] key (`module`, `singular`, `type_name`, `plural_type`,
//! `route`, `human_singular`, `human_plural`), then the keys of [`ModuleContext`]. Each entry
//! of `fields` is a [`FieldView`].

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::generate::ddl::{self, ConstraintNames};
use crate::generate::link_context::LinkView;
use crate::input::fields::{EnumVariant, Field, FieldType};
use crate::input::names::ModuleNames;
use crate::input::options::ModuleOptions;
use crate::input::project::JsonCase;
use crate::input::spec::ModuleSpec;

/// The query parameters of a list that are not filters (`core::list::RESERVED`).
const LIST_PARAMETERS: &[&str] = &["q", "sort", "limit", "after", "count"];

/// The columns every module, option or link may show in JSON besides the user's fields; the
/// templates name them by [`ModuleContext::system_names`].
const SYSTEM_COLUMNS: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "version",
    "created_by",
    "updated_by",
    "owner_id",
    "deleted_at",
    "deleted_by",
    "linked_at",
];

/// What the `id`, `created_at` and `updated_at` columns of every module need in scope.
const BUILTIN_IMPORTS: &[&str] = &["chrono::DateTime", "chrono::Utc", "uuid::Uuid"];

#[derive(Debug, Serialize)]
pub struct ModuleContext<'a> {
    #[serde(flatten)]
    pub names: &'a ModuleNames,
    /// `<module>:read` and `<module>:write`.
    pub read_permission: String,
    pub write_permission: String,
    pub fields: Vec<FieldView<'a>>,
    /// False with `--no-tests`. A template that renders to nothing writes no file, so
    /// `tests.rs.tera` wraps itself in `{% if with_tests %}`.
    pub with_tests: bool,
    /// The arguments to `scaffold new module` that regenerate this module.
    pub command: &'a str,
    /// `[api] json_case` of scaffold.toml: `snake` or `camel`. Every field's `json_name`
    /// follows it; the response, request and page types say it to serde with `rename_all`.
    pub json_case: &'static str,
    /// The JSON name of each column the module has without the user writing it:
    /// `system_names.created_at` is `created_at` or `createdAt`.
    pub system_names: BTreeMap<&'static str, String>,
    /// Paths the module's types need, built-in columns included, sorted: `chrono::Utc`.
    pub imports: Vec<&'static str>,
    /// `imports` as grouped `use` lines in rustfmt's order: `use chrono::{DateTime, Utc};`.
    pub use_lines: Vec<String>,
    /// `use_lines` without what only write-only fields need: the row type's, which leaves
    /// them out.
    pub row_use_lines: Vec<String>,
    /// Only what the user's fields add beyond the built-in columns.
    pub field_imports: Vec<&'static str>,
    pub field_use_lines: Vec<String>,
    pub has_optional: bool,
    pub has_unique: bool,
    pub has_index: bool,
    pub has_enums: bool,
    pub has_refs: bool,
    /// Some `ref` points at a module whose rows are named by id, so a nested list route
    /// takes a `Uuid`.
    pub has_id_refs: bool,
    pub has_defaults: bool,
    /// Some field is `string` or `text`, so lists take `?q=`.
    pub has_search: bool,
    /// Some field is a `secret`: the service hashes it and has a `verify_<name>`.
    pub has_secrets: bool,
    /// Some field is write-only (`:writeonly` or a `secret`): requests take it, responses
    /// never show it.
    pub has_write_only: bool,
    /// The index of the list order, `(created_at, id)`.
    pub sort_index: String,
    /// The definitions of the columns after the fields (`created_at`, ..., `version`), for
    /// the table's shape (see `ddl::system_columns`).
    pub system_columns: Vec<&'static str>,
    /// The `CREATE INDEX` statements the options need (`owner_id`'s).
    pub option_indexes: Vec<String>,
    /// `audit`, `owned`, `private`, `soft_delete`: see `input::options`.
    pub options: ModuleOptions,
    /// `<module>:admin`: lifts the owner and private rules, lists deleted rows.
    pub admin_permission: String,
    /// The columns the options add, in table order: `created_by`, ..., `deleted_by`.
    pub option_columns: Vec<OptionColumn>,
    /// The JSON names of some groups of `fields`, in field order, for lists that templates
    /// write out (`["title", "done"]`). A loop that needs more of each field goes over
    /// `fields` with an `if`.
    pub json_names: FieldGroups,
    /// For a link: its sides, columns and directions (see `link_context`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkView<'a>>,
    /// What names one row in the per-row routes: its id, or the `--key` field.
    pub row_key: RowKey,
}

/// What names one row in the per-row routes (`GET`/`PATCH`/`DELETE /api/<route>/{...}`): the
/// id, or the field given as `--key` (`/api/articles/{slug}`).
#[derive(Debug, Serialize)]
pub struct RowKey {
    /// The path parameter: `id`, or the key field's JSON name.
    pub path_name: String,
    /// The variable handlers, services and models hold it in: `id` or `key`.
    pub param: &'static str,
    /// How a handler passes it on to the service: `id`, `&key`.
    pub arg: &'static str,
    /// Its Rust type in services and models (`Uuid`, `&str`), and in the handler's `Path`
    /// (`Uuid`, `String`).
    pub rust_type: &'static str,
    pub path_type: &'static str,
    /// The column statements find the row by, as SQL writes it: `id`, `slug`, `"type"`.
    pub sql: String,
    /// For a key: the row's Rust field (`slug`, `r#type`), its words (`slug`) and its
    /// `string(N)` length. `None` for the id.
    pub ident: Option<String>,
    pub label: String,
    pub max_length: Option<u32>,
}

impl RowKey {
    fn new(spec: &ModuleSpec, fields: &[FieldView]) -> Self {
        let key = spec
            .key_field()
            .and_then(|key| fields.iter().find(|f| f.name == key.name));
        match key {
            None => Self {
                path_name: "id".into(),
                param: "id",
                arg: "id",
                rust_type: "Uuid",
                path_type: "Uuid",
                sql: "id".into(),
                ident: None,
                label: "id".into(),
                max_length: None,
            },
            Some(field) => Self {
                path_name: field.json_name.clone(),
                param: "key",
                arg: "&key",
                rust_type: "&str",
                path_type: "String",
                sql: field.sql.clone(),
                ident: Some(field.ident.clone()),
                label: field.label.clone(),
                max_length: field.max_length,
            },
        }
    }
}

/// What names the row a `ref` points at in its module's routes, as a nested list route
/// takes it: the id, or that module's `--key` field.
#[derive(Debug, Serialize)]
pub struct TargetKey {
    /// The path parameter: `id`, or the key's JSON name (`slug`).
    pub path_name: String,
    /// The key's column as SQL writes it (`slug`, `"type"`); `None` for the id.
    pub sql: Option<String>,
}

impl TargetKey {
    fn new(key: Option<&str>, case: JsonCase) -> Self {
        match key {
            None => Self {
                path_name: "id".into(),
                sql: None,
            },
            Some(key) => Self {
                path_name: case.name(key),
                sql: Some(crate::input::idents::sql_ident(key)),
            },
        }
    }
}

/// A column an option adds, as the model, the response and the list see it.
#[derive(Debug, Serialize)]
pub struct OptionColumn {
    pub name: &'static str,
    /// As the response and list parameters spell it (`ownerId` in camelCase).
    pub json_name: String,
    /// Always optional: rows from before the option have none.
    pub rust_type: &'static str,
    /// `ListKind::UserId` for who, `ListKind::DateTime` for when.
    pub list_kind: &'static str,
}

impl OptionColumn {
    fn new(name: &'static str, case: JsonCase) -> Self {
        let when = name.ends_with("_at");
        Self {
            name,
            json_name: case.name(name),
            rust_type: if when {
                "Option<DateTime<Utc>>"
            } else {
                "Option<String>"
            },
            list_kind: if when {
                "ListKind::DateTime"
            } else {
                "ListKind::UserId"
            },
        }
    }
}

/// See [`ModuleContext::json_names`]. Grouped here rather than with Tera's `filter` in the
/// templates: Tera copies every field of the list it filters, and again at every use of the
/// result, which made the tests template the slowest step of `new module`.
#[derive(Debug, Serialize)]
pub struct FieldGroups {
    pub required: Vec<String>,
    /// Required and without a default: a create that leaves one out is refused.
    pub required_without_default: Vec<String>,
    pub optional: Vec<String>,
    /// Returned in responses: not write-only.
    pub datetime: Vec<String>,
    /// `:writeonly` fields and secrets.
    pub write_only: Vec<String>,
    pub sortable: Vec<String>,
    /// With list filters `eq`, `in`, and the ranges (`gt`, `gte`, `lt`, `lte`).
    pub filter_eq: Vec<String>,
    pub filter_in: Vec<String>,
    pub filter_range: Vec<String>,
    /// With the `null` filter: optional, and not write-only.
    pub filter_null: Vec<String>,
    /// Arrays, with `[contains]` and `[overlaps]`.
    pub filter_array: Vec<String>,
}

impl FieldGroups {
    fn new(fields: &[FieldView]) -> Self {
        let names = |test: fn(&FieldView) -> bool| {
            let group = fields.iter().filter(|f| test(f));
            group.map(|f| f.json_name.clone()).collect()
        };
        Self {
            required: names(|f| !f.optional),
            required_without_default: names(|f| !f.optional && !f.has_default),
            optional: names(|f| f.optional),
            datetime: names(|f| f.kind == "datetime" && !f.write_only),
            write_only: names(|f| f.write_only),
            sortable: names(|f| f.sortable),
            filter_eq: names(|f| f.filters.contains(&"eq")),
            filter_in: names(|f| f.filters.contains(&"in")),
            filter_range: names(|f| f.filters.contains(&"gt")),
            filter_null: names(|f| f.filters.contains(&"null")),
            filter_array: names(|f| f.filters.contains(&"contains")),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct FieldView<'a> {
    /// snake_case, without the `_id` of a ref: `owner`.
    pub name: &'a str,
    /// The column: `owner_id` for a ref, `password_hash` for a secret, else `name`.
    pub column: String,
    /// The key in JSON bodies, list parameters and error `field`s: `owner_id` for a ref,
    /// else `name` (a secret's too, whose column is `password_hash`), or in camelCase
    /// (`ownerId`) with `[api] json_case = "camel"`.
    pub json_name: String,
    /// The Rust struct field: `column`, raw when it is a keyword (`r#type`).
    pub ident: String,
    /// `column` as SQL statements write it, quoted when it is a keyword (`"order"`).
    pub sql: String,
    /// The name in words, for messages: `due date`.
    pub label: String,
    /// The type keyword: `string`, `text`, `int`, ... `enum`, `ref`. The built-in templates
    /// never test it: they ask for what a type can do (`max_length`, `target`, `filters`,
    /// ...), so that a new type needs no template change.
    pub kind: &'static str,
    /// The field as FIELD syntax, which parses back to it: `code:string(12):unique`.
    pub syntax: String,
    /// Nullable in SQL, `Option<_>` in Rust, may be omitted in JSON.
    pub optional: bool,
    pub unique: bool,
    /// A `secret`: hashed before it is stored, checked by the service's `verify_<name>`.
    pub secret: bool,
    /// Accepted in requests, never in a response, a list filter or a sort (`:writeonly`, or
    /// a `secret`). The row type and its `SELECT`s leave the column out.
    pub write_only: bool,
    /// Needs its own `CREATE INDEX`: `:index` was given or it is a ref, and it is not
    /// `:unique` (a unique constraint is an index already).
    pub index: bool,
    /// Maximum length in characters, for the types that have one (`string`, `secret`).
    pub max_length: Option<u32>,
    /// Minimum length in characters, where `max_length` is set: 1, or 8 for a `secret`.
    pub min_length: Option<u32>,
    /// For an array: the elements' type keyword (`string`, `int`, ...), the most elements
    /// it holds, and each element's maximum length in characters (`string(N)[]`).
    pub item_kind: Option<&'static str>,
    pub max_items: Option<u32>,
    pub item_max_length: Option<u32>,
    /// For `enum`: the Rust enum's name, `<TypeName><FieldPascal>` (`TaskStatus`).
    pub enum_type: Option<String>,
    /// For `enum`: `{name: "in_review", rust: "InReview"}` in declaration order.
    pub variants: &'a [EnumVariant],
    /// For `ref`: every name of the target module (the same keys as the top level).
    pub target: Option<&'a ModuleNames>,
    /// For `ref`: the target is the module itself (a category's parent).
    pub self_ref: bool,
    /// For `ref`: what deleting the target row does, as written or by default: `restrict`,
    /// `cascade` or `set_null`.
    pub on_delete: Option<&'static str>,
    /// For `ref`: the nested list route, `/api/projects/{id}/tasks`, or
    /// `/api/users/{id}/tasks-by-owner` when several of the module's refs point at `users`;
    /// `/api/articles/{slug}/comments` when the target is named by a key.
    pub nested_route: Option<String>,
    /// For `ref`: what follows the target row's own URL in `nested_route`: `tasks`,
    /// `tasks-by-owner`.
    pub nested_tail: Option<String>,
    /// For `ref`: what names the target row in `nested_route`: its id, or its `--key`.
    pub target_key: Option<TargetKey>,
    /// The bare Rust type, short where `imports` bring it into scope: `DateTime<Utc>`.
    pub rust_type: String,
    /// `rust_type`, wrapped in `Option<...>` when optional.
    pub rust_field_type: String,
    pub imports: &'static [&'static str],
    /// `TEXT`, `INTEGER`, `BIGINT`, `DOUBLE PRECISION`, `NUMERIC`, `BOOLEAN`, `UUID`, `DATE`,
    /// `TIMESTAMPTZ` or `JSONB`, without `NOT NULL`.
    pub sql_type: &'static str,
    /// Two different valid values as JSON text: `"alpha"`, `"beta"`. `null` for refs, whose
    /// value is a row the test creates.
    pub sample: String,
    pub sample_alt: String,
    /// A value of the right JSON type that validation must reject (too long, not a variant).
    pub invalid_sample: Option<String>,
    /// Two different valid values as Rust expressions for `json!(...)` in the module's tests:
    /// `sample` and `sample_alt` as Rust literals, or for a unique field expressions that
    /// give each call its own value (`client.unique()`).
    pub test_values: [String; 2],
    /// The default as a Rust literal for `json!(...)` in the module's tests.
    pub test_default: Option<String>,
    /// Values a request may carry that validation refuses with a 422, in the order the
    /// tests try them.
    pub invalid_values: Vec<InvalidValue>,
    /// For an array: whole arrays whose second element (`field[1]`) validation refuses.
    pub invalid_elements: Vec<InvalidValue>,
    /// List filters (parameter and value) that the server refuses with a 422.
    pub invalid_filters: Vec<InvalidFilter>,
    /// The OpenAPI type shown for a Rust type without a schema of its own: `Object` for
    /// `json`.
    pub schema_value_type: Option<&'static str>,
    /// JSON `null` is a value of the Rust type (`json`), so a required field refuses it
    /// explicitly.
    pub takes_null: bool,
    /// The default (`=VALUE`), as the JSON the API shows for it: `0`, `"open"`. A field with
    /// a default may be left out of a create request.
    pub default_json: Option<String>,
    pub has_default: bool,
    /// The default as a Rust expression of `rust_field_type`: `0`, `TaskStatus::Open`.
    pub default_rust: Option<String>,
    /// The default as a PostgreSQL literal: `0`, `'open'`.
    pub default_sql: Option<String>,
    /// The column as `CREATE TABLE` declares it, constraints and default included:
    /// `title TEXT NOT NULL CONSTRAINT tasks_title_check CHECK (...)`.
    pub definition: String,
    /// `CREATE INDEX ...;` when the column needs its own index (see `index`).
    pub create_index: Option<String>,
    /// How lists see the field, as the Rust expression of its `core::list::ListKind`:
    /// `ListKind::Integer`, `ListKind::Enum(&["open", "done"])`.
    pub list_kind: String,
    /// The operators of its list filters, in the order the API documents them: `eq` (also
    /// the bare `?field=`), `in`, `gt`, `gte`, `lt`, `lte`, `null`; an array's are
    /// `contains`, `overlaps` and `null`.
    pub filters: Vec<&'static str>,
    /// The equality filter's parameter: `json_name`, or `json_name[eq]` when the name is one
    /// of the list's own parameters (`q`, `sort`, `limit`, `after`, `count`), which keep
    /// their meaning.
    pub eq_param: String,
    /// Lists sort by it (`?sort=field`).
    pub sortable: bool,
    /// `?q=` searches it.
    pub searchable: bool,
    /// The names of the column's constraints and index: `unique`, `check`, `foreign_key`,
    /// `index` (`tasks_title_key`, ...). Change migrations find them by these names.
    pub constraints: ConstraintNames,
}

/// See [`FieldView::invalid_values`].
#[derive(Debug, Serialize)]
pub struct InvalidValue {
    /// A comment for the test line, where the value needs one.
    pub note: Option<&'static str>,
    /// A Rust expression for `json!(...)`.
    pub value: String,
}

/// See [`FieldView::invalid_filters`].
#[derive(Debug, Serialize)]
pub struct InvalidFilter {
    /// `json_name[op]`, or `eq_param` for equality.
    pub param: String,
    pub value: String,
}

impl<'a> ModuleContext<'a> {
    pub fn new(spec: &'a ModuleSpec, case: JsonCase) -> Self {
        let names = &spec.names;
        let mut fields: Vec<FieldView> = spec
            .fields
            .iter()
            .map(|field| FieldView::new(field, names, spec.options.soft_delete, case))
            .collect();
        let targets: Vec<Option<&ModuleNames>> = fields.iter().map(|f| f.target).collect();
        for field in &mut fields {
            if let Some(target) = field.target {
                let key = if field.self_ref {
                    spec.key.as_ref()
                } else {
                    spec.target_keys.get(&target.module)
                };
                let key = TargetKey::new(key.map(String::as_str), case);
                let shared = targets.iter().flatten().filter(|t| **t == target).count() > 1;
                let mut tail = names.route.clone();
                if shared {
                    tail.push_str(&format!("-by-{}", field.name.replace('_', "-")));
                }
                let route = format!("/api/{}/{{{}}}/{tail}", target.route, key.path_name);
                field.nested_route = Some(route);
                field.nested_tail = Some(tail);
                field.target_key = Some(key);
            }
        }
        let field_imports: BTreeSet<&'static str> = spec
            .fields
            .iter()
            .flat_map(|f| f.ty.imports())
            .copied()
            .collect();
        let mut imports = field_imports.clone();
        imports.extend(BUILTIN_IMPORTS);
        let row_imports: BTreeSet<&'static str> = spec
            .fields
            .iter()
            .filter(|f| !f.is_write_only())
            .flat_map(|f| f.ty.imports())
            .chain(BUILTIN_IMPORTS)
            .copied()
            .collect();
        let any = |test: fn(&FieldView) -> bool| fields.iter().any(test);
        Self {
            names,
            read_permission: names.read_permission(),
            write_permission: names.write_permission(),
            with_tests: spec.with_tests,
            command: &spec.command,
            json_case: case.word(),
            system_names: SYSTEM_COLUMNS
                .iter()
                .map(|column| (*column, case.name(column)))
                .collect(),
            use_lines: use_lines(&imports),
            row_use_lines: use_lines(&row_imports),
            imports: imports.into_iter().collect(),
            field_use_lines: use_lines(&field_imports),
            field_imports: field_imports.into_iter().collect(),
            has_optional: any(|f| f.optional),
            has_unique: any(|f| f.unique),
            has_index: any(|f| f.index),
            has_enums: any(|f| f.enum_type.is_some()),
            has_refs: any(|f| f.target.is_some()),
            has_id_refs: any(|f| f.target_key.as_ref().is_some_and(|key| key.sql.is_none())),
            has_defaults: any(|f| f.has_default),
            has_search: any(|f| f.searchable),
            has_secrets: any(|f| f.secret),
            has_write_only: any(|f| f.write_only),
            sort_index: ddl::sort_index(&names.module),
            system_columns: ddl::system_columns(spec.shape, spec.options),
            option_indexes: ddl::option_indexes(&names.module, spec.options),
            options: spec.options,
            admin_permission: format!("{}:admin", names.module),
            option_columns: spec
                .options
                .columns()
                .into_iter()
                .map(|column| OptionColumn::new(column, case))
                .collect(),
            json_names: FieldGroups::new(&fields),
            row_key: RowKey::new(spec, &fields),
            fields,
            link: spec
                .link
                .as_ref()
                .map(|link| LinkView::new(spec, link, case)),
        }
    }

    pub fn to_tera(&self) -> tera::Context {
        tera::Context::from_serialize(self).expect("the context serialises to a JSON object")
    }
}

impl<'a> FieldView<'a> {
    fn new(field: &'a Field, module: &'a ModuleNames, soft_delete: bool, case: JsonCase) -> Self {
        let ty = &field.ty;
        let rust_type = ty.rust_type();
        let [sample, sample_alt] = ty.samples().map(|value| value.to_string());
        let (enum_type, variants) = match ty {
            FieldType::Enum {
                rust_type,
                variants,
            } => (Some(rust_type.clone()), variants.as_slice()),
            _ => (None, &[][..]),
        };
        let target = match ty {
            FieldType::Ref { target, .. } => Some(target),
            _ => None,
        };
        let json_name = case.name(&field.key());
        let eq_param = if LIST_PARAMETERS.contains(&json_name.as_str()) {
            format!("{json_name}[eq]")
        } else {
            json_name.clone()
        };
        let write_only = field.is_write_only();
        Self {
            name: &field.name,
            column: field.column(),
            ident: field.rust_ident(),
            sql: field.sql_column(),
            label: field.name.replace('_', " "),
            kind: ty.kind(),
            syntax: field.syntax(),
            optional: field.optional,
            unique: field.unique,
            secret: ty.is_secret(),
            write_only,
            index: field.needs_index(),
            max_length: ty.max_length(),
            min_length: ty.min_length(),
            item_kind: ty.element().map(FieldType::kind),
            max_items: ty.max_items(),
            item_max_length: ty.element().and_then(FieldType::max_length),
            enum_type,
            variants,
            self_ref: target.is_some_and(|t| t.module == module.module),
            on_delete: field.on_delete().map(|rule| rule.word()),
            nested_route: None,
            nested_tail: None,
            target_key: None,
            target,
            rust_field_type: if field.optional {
                format!("Option<{rust_type}>")
            } else {
                rust_type.clone()
            },
            rust_type,
            imports: ty.imports(),
            sql_type: ty.sql_type(),
            sample,
            sample_alt,
            invalid_sample: ty.invalid_sample().map(|value| value.to_string()),
            test_values: ty.test_values(field.unique),
            test_default: field.default_json().map(|value| ty.rust_literal(&value)),
            invalid_values: ty
                .invalid_values(field.optional)
                .into_iter()
                .map(|(note, value)| InvalidValue { note, value })
                .collect(),
            invalid_elements: ty
                .invalid_elements()
                .into_iter()
                .map(|(note, value)| InvalidValue { note, value })
                .collect(),
            invalid_filters: ty
                .invalid_filters()
                .into_iter()
                .filter(|_| !write_only)
                .map(|(op, value)| InvalidFilter {
                    param: match op {
                        None => eq_param.clone(),
                        Some(op) => format!("{json_name}[{op}]"),
                    },
                    value,
                })
                .collect(),
            schema_value_type: ty.schema_value_type(),
            takes_null: ty.takes_null(),
            default_json: field.default_json().map(|value| value.to_string()),
            has_default: field.default.is_some(),
            default_rust: field.default_rust(),
            default_sql: field.default_sql(),
            definition: ddl::definition(&module.module, field, soft_delete),
            create_index: match soft_delete && field.unique {
                true => Some(ddl::unique_index(&module.module, field)),
                false => ddl::create_index(&module.module, field),
            },
            list_kind: ty.list_kind(),
            eq_param,
            // A write-only field is never a list parameter: filters and sorts would tell
            // clients its values by probing.
            filters: match write_only {
                true => Vec::new(),
                false => ty.filters(field.optional),
            },
            sortable: ty.sortable() && !write_only,
            searchable: ty.searchable() && !write_only,
            constraints: ConstraintNames::new(&module.module, &field.column()),
            json_name,
        }
    }
}

/// `["chrono::DateTime", "chrono::Utc", "uuid::Uuid"]` ->
/// `["use chrono::{DateTime, Utc};", "use uuid::Uuid;"]`, sorted as rustfmt sorts them.
/// Also the `use_lines` filter, so templates can merge their own imports with these.
pub fn use_lines<'p>(paths: impl IntoIterator<Item = &'p &'p str>) -> Vec<String> {
    let mut groups: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for path in paths {
        let (parent, item) = path.rsplit_once("::").unwrap_or(("", path));
        groups.entry(parent).or_default().insert(item);
    }
    groups
        .into_iter()
        .map(|(parent, items)| {
            let items: Vec<&str> = items.into_iter().collect();
            match (parent, items.as_slice()) {
                ("", items) => items
                    .iter()
                    .map(|i| format!("use {i};"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                (parent, [item]) => format!("use {parent}::{item};"),
                (parent, items) => format!("use {parent}::{{{}}};", items.join(", ")),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_lines_group_by_parent() {
        let paths: BTreeSet<&str> = [
            "uuid::Uuid",
            "chrono::Utc",
            "rust_decimal::Decimal",
            "chrono::DateTime",
            "chrono::NaiveDate",
        ]
        .into();
        assert_eq!(
            use_lines(&paths),
            [
                "use chrono::{DateTime, NaiveDate, Utc};",
                "use rust_decimal::Decimal;",
                "use uuid::Uuid;"
            ]
        );
    }
}

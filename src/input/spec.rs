//! The command line's words become a [`ModuleSpec`]: names in every spelling and typed
//! fields, checked against each other and against the project. Nothing downstream checks
//! them again.

use std::collections::BTreeMap;
use std::fmt;

use heck::ToSnakeCase;

use crate::input::fields::{self, Field, FieldContext, FieldError, FieldType};
use crate::input::link::{LinkRequest, LinkSpec};
use crate::input::names::{ModuleNames, NameError, NameRequest, TAKEN_TYPE_NAMES};
use crate::input::options::ModuleOptions;
use crate::input::project::ProjectFacts;
use crate::input::shell;

/// Module names that would shadow a crate or a well-known module of the server.
const RESERVED_MODULES: &[&str] = &[
    "alloc", "app", "core", "lib", "main", "mod", "modules", "std", "test", "tests",
];

/// Tables the server itself keeps: migration records and idempotency keys in every schema, the
/// tenant registry in `public`. A module's table of the same name would collide with them.
const SERVER_TABLES: &[&str] = &["idempotency_keys", "schema_migrations", "tenants"];

/// The shape of the table new modules get, beyond the fields (`generate::ddl::system_columns`):
/// 1 has `id`, `created_at` and `updated_at`; 2 adds `version`. A module created at an older
/// shape is brought to this one by the migration `scaffold upgrade` writes.
pub const TABLE_SHAPE: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSpec {
    pub names: ModuleNames,
    pub fields: Vec<Field>,
    pub with_tests: bool,
    /// The arguments to `scaffold new module` that generate this module again.
    pub command: String,
    /// For a link (`scaffold new link`): the two modules it joins. Its command then holds
    /// `--link A:B` and the link's other flags after the name.
    pub link: Option<LinkSpec>,
    /// [`TABLE_SHAPE`] for a new module; the manifest's record for an existing one.
    pub shape: u32,
    /// `--audit`, `--owned`, `--private`, `--soft-delete`: see [`ModuleSpec::with_options`].
    pub options: ModuleOptions,
    /// `--key FIELD`: the field whose value names a row in its routes instead of its id. See
    /// [`ModuleSpec::with_key`].
    pub key: Option<String>,
    /// The `--key` of each other module a `ref` points at, which names that module's rows
    /// in the nested list routes (`/api/articles/{slug}/comments`).
    pub target_keys: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy)]
pub struct SpecRequest<'a> {
    pub names: NameRequest<'a>,
    pub fields: &'a [String],
    pub with_tests: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{0}")]
    Name(#[from] NameError),
    #[error("{}", list(.0))]
    Fields(Vec<FieldError>),
    #[error("{0}")]
    Key(String),
}

fn list(errors: &[FieldError]) -> String {
    let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    texts.join("\n\n")
}

impl ModuleSpec {
    pub fn parse(request: SpecRequest, facts: &ProjectFacts) -> Result<Self, SpecError> {
        let names = ModuleNames::derive(request.names, &facts.inflections)?;
        check_module_name(&names, request.names.name, facts)?;

        let resolve_ref = |target: &str| resolve_ref(target, &names, facts);
        let cx = FieldContext {
            type_name: &names.type_name,
            resolve_ref: &resolve_ref,
        };
        let mut fields: Vec<Field> = Vec::new();
        let mut errors = Vec::new();
        for word in request.fields {
            let field = fields::parse_field(word, &cx).and_then(|field| {
                let name_span = 0..word.find(':').unwrap_or(word.len());
                let error = |message: String, help: &str| FieldError {
                    word: word.clone(),
                    span: name_span.clone(),
                    message,
                    help: Some(help.into()),
                };
                if let Some(taken) = duplicate(&fields, &field) {
                    return Err(error(
                        format!("`{taken}` is already a field"),
                        "each field needs its own name",
                    ));
                }
                if let FieldType::Enum { rust_type, .. } = &field.ty {
                    let taken = TAKEN_TYPE_NAMES.contains(&rust_type.as_str())
                        || names.own_types().contains(rust_type);
                    let twin = fields.iter().find(|other| {
                        matches!(&other.ty, FieldType::Enum { rust_type: t, .. } if t == rust_type)
                    });
                    if let Some(twin) = twin {
                        return Err(error(
                            format!(
                                "its enum type would be `{rust_type}`, the same as `{}`'s",
                                twin.name
                            ),
                            "rename one of the two fields",
                        ));
                    }
                    if taken {
                        return Err(error(
                            format!(
                                "its enum type would be `{rust_type}`, a name the generated code \
                                 already uses"
                            ),
                            "choose another field name",
                        ));
                    }
                }
                let self_ref =
                    matches!(&field.ty, FieldType::Ref { target, .. } if *target == names);
                if self_ref && !field.optional {
                    return Err(error(
                        "a required reference to the module itself leaves no way to create \
                         the first row"
                            .into(),
                        &format!("make it optional: `{}?`", field.syntax()),
                    ));
                }
                Ok(field)
            });
            match field {
                Ok(field) => fields.push(field),
                Err(error) => errors.push(error),
            }
        }
        if !errors.is_empty() {
            return Err(SpecError::Fields(errors));
        }

        let command = command_line(&names, &request, &fields);
        let target_keys = fields
            .iter()
            .filter_map(|field| match &field.ty {
                FieldType::Ref { target, .. } => {
                    let key = facts.keys.get(&target.module)?;
                    Some((target.module.clone(), key.clone()))
                }
                _ => None,
            })
            .collect();
        Ok(Self {
            names,
            fields,
            with_tests: request.with_tests,
            command,
            shape: TABLE_SHAPE,
            link: None,
            options: ModuleOptions::default(),
            key: None,
            target_keys,
        })
    }

    /// The spec with `options` (their implications added), which its command then records.
    /// A field whose column one of them adds is refused.
    pub fn with_options(mut self, options: ModuleOptions) -> Result<Self, SpecError> {
        let options = options.implied();
        let columns = options.columns();
        let taken: Vec<FieldError> = self
            .fields
            .iter()
            .filter(|field| columns.contains(&field.column().as_str()))
            .map(|field| FieldError {
                word: field.syntax(),
                span: 0..field.name.len(),
                message: format!(
                    "its column `{}` is one that {} adds",
                    field.column(),
                    options.flags().join(" ")
                ),
                help: Some("rename the field".into()),
            })
            .collect();
        if !taken.is_empty() {
            return Err(SpecError::Fields(taken));
        }
        for flag in self.options.flags() {
            self.command = self.command.replace(&format!(" {flag}"), "");
        }
        for flag in options.flags() {
            self.command.push(' ');
            self.command.push_str(flag);
        }
        self.options = options;
        Ok(self)
    }

    /// The spec with `key` as its lookup key (`--key slug`), which its command then records;
    /// `None` names rows by id again. The key must be a required `:unique` `string` field,
    /// so that its value names one row for good and fits a path; a link, which has no
    /// routes of its own rows, and soft delete, which lets a deleted row keep a value a live
    /// one takes again, are refused with it.
    pub fn with_key(mut self, key: Option<&str>) -> Result<Self, SpecError> {
        if let Some(old) = &self.key {
            self.command = self.command.replace(&format!(" --key {old}"), "");
        }
        self.key = None;
        let Some(key) = key else {
            return Ok(self);
        };
        let module = &self.names.module;
        let refuse = |problem: String, fix: &str| {
            Err(SpecError::Key(format!("--key {key}: {problem}; {fix}")))
        };
        if self.link.is_some() {
            return refuse(
                "a link's rows are named by the two rows they join".into(),
                "leave out --key",
            );
        }
        let Some(field) = self.fields.iter().find(|field| field.name == key) else {
            let names: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
            return refuse(
                format!("`{module}` has no field `{key}`"),
                &format!("name one of its fields ({})", names.join(", ")),
            );
        };
        let fix = format!("make it `{key}:string(N):unique` (required)");
        if !matches!(field.ty, FieldType::String { .. }) {
            return refuse(format!("`{}` is not a string", field.syntax()), &fix);
        }
        if field.optional {
            return refuse(
                format!("`{key}` is optional: a row without it could not be named"),
                &fix,
            );
        }
        if !field.unique {
            return refuse(
                format!("`{key}` is not `:unique`, so its value may name many rows"),
                &fix,
            );
        }
        if self.options.soft_delete {
            return refuse(
                "with --soft-delete a deleted row keeps its value while a live row takes it \
                 again, so the value would not name one row"
                    .into(),
                "leave out one of --key and --soft-delete",
            );
        }
        self.command.push_str(&format!(" --key {key}"));
        self.key = Some(key.to_owned());
        Ok(self)
    }

    /// The key field, if the module has one (see [`ModuleSpec::with_key`]).
    pub fn key_field(&self) -> Option<&Field> {
        let key = self.key.as_deref()?;
        self.fields.iter().find(|field| field.name == key)
    }

    /// This spec as the link `request` asks for: its sides resolved like `ref` targets.
    pub fn into_link(self, request: &LinkRequest, facts: &ProjectFacts) -> Result<Self, SpecError> {
        let side = |target: &str| resolve_ref(target, &self.names, facts).map_err(NameError);
        let (a, b) = (side(request.a)?, side(request.b)?);
        let link = LinkSpec::new(&self.names, a, b, request, &facts.inflections)?;
        self.with_link(link)
    }

    /// This spec as a link of `link`'s sides: its fields checked against the link's columns,
    /// its command given the link's words.
    pub fn with_link(mut self, link: LinkSpec) -> Result<Self, SpecError> {
        let taken = [link.a_column.as_str(), link.b_column.as_str(), "linked_at"];
        let mut errors = Vec::new();
        for field in &self.fields {
            let column = field.column();
            let problem = if taken.contains(&column.as_str()) {
                Some(format!("`{column}` is a column every row of this link has"))
            } else if matches!(&field.ty, FieldType::Ref { target, .. } if *target == self.names) {
                Some("a link has no id of its own for a reference to point at".to_owned())
            } else if field.is_write_only() {
                Some(
                    "a link's fields are all returned with it: a secret or `:writeonly` field \
                     belongs on a module"
                        .to_owned(),
                )
            } else if field.ty.element().is_some() {
                // The link templates do not yet carry an array's element rules.
                Some(
                    "a link's fields cannot be arrays yet; give the link a module of its own"
                        .to_owned(),
                )
            } else {
                None
            };
            if let Some(message) = problem {
                let word = field.syntax();
                errors.push(FieldError {
                    span: 0..word.find(':').unwrap_or(word.len()),
                    word,
                    message,
                    help: Some("choose another field".into()),
                });
            }
        }
        if !errors.is_empty() {
            return Err(SpecError::Fields(errors));
        }
        let (name, rest) = self
            .command
            .split_once(' ')
            .unwrap_or((self.command.as_str(), ""));
        let mut words = vec![name.to_owned()];
        words.extend(link.words());
        if !rest.is_empty() {
            words.push(rest.to_owned());
        }
        self.command = words.join(" ");
        self.link = Some(link);
        Ok(self)
    }
}

/// Both the module and the word as typed are checked: `core` would become `cores`, which is
/// harmless, but the user plainly meant `core`.
fn check_module_name(
    names: &ModuleNames,
    typed: &str,
    facts: &ProjectFacts,
) -> Result<(), NameError> {
    let typed = typed.to_snake_case();
    if SERVER_TABLES.contains(&names.module.as_str()) {
        return Err(NameError(format!(
            "`{}` is a table the server keeps for itself; choose another name",
            names.module
        )));
    }
    for word in [names.module.as_str(), typed.as_str()] {
        if RESERVED_MODULES.contains(&word) || facts.taken_names.contains(word) {
            return Err(NameError(format!(
                "`{word}` is reserved: it would be confused with the crate or module of that \
                 name; choose another name"
            )));
        }
    }
    Ok(())
}

/// A `ref(...)` target in any case and number, as an existing module or the one being made.
fn resolve_ref(
    target: &str,
    this: &ModuleNames,
    facts: &ProjectFacts,
) -> Result<ModuleNames, String> {
    let target = ModuleNames::derive(NameRequest::new(target), &facts.inflections)
        .map_err(|error| error.0)?;
    if target.module == this.module {
        return Ok(this.clone());
    }
    if facts.links.contains(&target.module) {
        return Err(format!(
            "`{}` is a link: its rows are pairs with no id of their own to refer to; refer to \
             one of the modules it joins",
            target.module
        ));
    }
    if facts.existing_modules.contains(&target.module) {
        return Ok(target);
    }
    let known = if facts.existing_modules.is_empty() {
        "there are none yet".to_string()
    } else {
        let names: Vec<&str> = facts.existing_modules.iter().map(String::as_str).collect();
        format!("existing: {}", names.join(", "))
    };
    let existing = facts.existing_modules.iter().map(String::as_str);
    let generate = format!(
        "generate it first with `{}`",
        crate::input::hints::scaffold(&format!("new module {}", target.module))
    );
    let fix = match crate::input::suggest::did_you_mean(&target.module, existing) {
        Some(close) => format!("did you mean `{close}`? otherwise {generate}"),
        None => generate,
    };
    Err(format!(
        "no module `{}` in {} to refer to ({known}); {fix}",
        target.module, facts.modules_dir
    ))
}

/// The name of an earlier field that `field` collides with, by name or by column.
fn duplicate(fields: &[Field], field: &Field) -> Option<String> {
    let column = field.column();
    fields.iter().find_map(|other| {
        if other.name == field.name {
            Some(field.name.clone())
        } else if other.column() == column {
            Some(column.clone())
        } else {
            None
        }
    })
}

fn command_line(names: &ModuleNames, request: &SpecRequest, fields: &[Field]) -> String {
    let mut words = vec![names.module.clone()];
    if request.names.singular.is_some() {
        words.push(format!("--singular {}", names.singular));
    }
    if request.names.plural.is_some() {
        words.push(format!("--plural {}", names.module));
    }
    words.extend(fields.iter().map(|field| shell::quote(&field.syntax())));
    if !request.with_tests {
        words.push("--no-tests".into());
    }
    words.join(" ")
}

impl fmt::Display for ModuleSpec {
    /// The derived names and fields, as printed before generating.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = &self.names;
        writeln!(f, "module  {}  (table {})", n.module, n.module)?;
        writeln!(f, "types   {} / {}", n.type_name, n.plural_type)?;
        writeln!(f, "route   /api/{}", n.route)?;
        writeln!(
            f,
            "access  {} / {}",
            n.read_permission(),
            n.write_permission()
        )?;
        write!(f, "words   {} / {}", n.human_singular, n.human_plural)?;
        if self.options != ModuleOptions::default() {
            write!(f, "\noptions {}", self.options.flags().join(" "))?;
        }
        if let Some(key) = &self.key {
            write!(f, "\nkey     {key}: /api/{}/{{{key}}}", n.route)?;
        }
        if let Some(link) = &self.link {
            write!(
                f,
                "\nlink    {} <-> {}, key ({}, {})",
                link.a.module, link.b.module, link.a_column, link.b_column
            )?;
            for (side, direction) in [(&link.a, &link.forward), (&link.b, &link.backward)] {
                write!(
                    f,
                    "\nroutes  /api/{}/{{id}}/{}",
                    side.route, direction.route
                )?;
            }
        }
        for field in &self.fields {
            write!(f, "\nfield   {}", field.syntax())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::names::Inflections;

    fn facts() -> ProjectFacts {
        ProjectFacts {
            existing_modules: ["users".to_string()].into(),
            links: Default::default(),
            keys: Default::default(),
            modules_dir: "src/modules".into(),
            taken_names: ["core".to_string(), "routes".to_string()].into(),
            inflections: Inflections::default(),
        }
    }

    fn parse(name: &str, fields: &[&str]) -> Result<ModuleSpec, SpecError> {
        let fields: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
        let request = SpecRequest {
            names: NameRequest::new(name),
            fields: &fields,
            with_tests: true,
        };
        ModuleSpec::parse(request, &facts())
    }

    #[test]
    fn refs_resolve_to_existing_modules_or_to_itself() {
        let spec = parse("categories", &["parent:ref(Category)?", "owner:ref(user)"]).unwrap();
        assert_eq!(
            spec.command,
            "categories parent:ref(categories)? owner:ref(users)"
        );
        let error = parse("tasks", &["team:ref(teams)"])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("no module `teams` in src/modules"),
            "{error}"
        );
        assert!(error.contains("existing: users"), "{error}");
    }

    #[test]
    fn the_summary_names_everything_derived() {
        let spec = parse("news_items", &["parent:ref(NewsItem)?", "title:string"]).unwrap();
        assert_eq!(
            spec.to_string(),
            "module  news_items  (table news_items)\n\
             types   NewsItem / NewsItems\n\
             route   /api/news-items\n\
             access  news_items:read / news_items:write\n\
             words   news item / news items\n\
             field   parent:ref(news_items)?\n\
             field   title:string"
        );
    }

    #[test]
    fn duplicates_are_caught_after_ref_suffixing() {
        let error = parse("tasks", &["owner_id:uuid", "owner:ref(users)"]).unwrap_err();
        assert!(error.to_string().contains("`owner_id` is already a field"));
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let SpecError::Fields(errors) = parse("tasks", &["a:nope", "b:text", "c:"]).unwrap_err()
        else {
            panic!("expected field errors")
        };
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn enum_types_never_clash() {
        let error = parse("tasks", &["status1:enum(a,b)", "status_1:enum(c,d)"])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("its enum type would be `TaskStatus1`, the same as `status1`'s"),
            "{error}"
        );
        let error = parse("dates", &["time:enum(a,b)"]).unwrap_err().to_string();
        assert!(
            error.contains("`DateTime`, a name the generated code"),
            "{error}"
        );
        let error = parse("tasks", &["page:enum(a,b)"]).unwrap_err().to_string();
        assert!(
            error.contains("an enum field cannot be called `page`"),
            "{error}"
        );
    }

    #[test]
    fn server_tables_are_not_module_names() {
        for name in ["schema_migrations", "tenants", "Tenant"] {
            let error = parse(name, &[]).unwrap_err().to_string();
            assert!(
                error.contains("a table the server keeps"),
                "{name}: {error}"
            );
        }
    }

    #[test]
    fn reserved_and_taken_module_names() {
        for name in ["tests", "core", "routes", "std"] {
            let error = parse(name, &[]).unwrap_err().to_string();
            assert!(error.contains("is reserved"), "{name}: {error}");
        }
    }
}

//! Tera templates: the set built into the binary, overridden file by file from the project's
//! own folder, rendered with autoescaping off (the output is Rust and SQL, not HTML).
//!
//! Template names are paths relative to the template root, with `/` separators:
//!
//! - `module/<path>.tera` renders to `<modules>/<module>/<path>`; a file name starting with
//!   `_` is a partial (for `include`/`import`) and writes nothing. A template that renders to
//!   only whitespace writes nothing either, which is how `tests.rs` honours `--no-tests`.
//! - `migration.sql.tera` renders to `<migrations>/<version>_create_<table>.sql`.
//! - `inject/<name>.tera` renders the line(s) inserted above `// scaffold:<name>` in the file
//!   that `[registration] <name>` names in scaffold.toml.
//! - Anything else is a helper that only other templates use.
//!
//! Filters, besides Tera's own:
//!
//! - `snake`: `UserProfile` -> `user_profile`
//! - `pascal`: `user_profile` -> `UserProfile`
//! - `kebab`: `user_profiles` -> `user-profiles`
//! - `plural`: `user_profile` -> `user_profiles` (last word only, project inflections apply)
//! - `singular`: `user_profiles` -> `user_profile`
//! - `use_lines`: a list of paths -> grouped, sorted `use` lines, one per line; merges a
//!   template's own imports with the context's:
//!   `{{ imports | concat(with=["sqlx::PgConnection"]) | use_lines }}`

use std::collections::{BTreeMap, HashMap};
use std::error::Error as _;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use heck::{ToKebabCase, ToPascalCase, ToSnakeCase};
use include_dir::{Dir, DirEntry, include_dir};
use tera::{Template, Tera, Value};

use crate::generate::template_codec;
use crate::input::names::Inflections;

static BUILTIN: Dir = include_dir!("$CARGO_MANIFEST_DIR/templates");
/// The same templates, parsed by build.rs.
static BUILTIN_PARSED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/builtin_templates.bin"));

const TEMPLATE_SUFFIX: &str = ".tera";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Builtin,
    /// The file in the project's template folder.
    Project(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Builtin => f.write_str("built in"),
            Self::Project(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The templates to render with, by name.
#[derive(Debug, Clone, Default)]
pub struct TemplateSet {
    templates: BTreeMap<String, (String, Origin)>,
}

impl TemplateSet {
    /// The built-in templates (if `builtin`), then every `*.tera` file of `project_dir`
    /// replacing or adding to them.
    pub fn load(builtin: bool, project_dir: Option<&Path>) -> Result<Self, RenderError> {
        let mut set = Self::default();
        if builtin {
            collect_builtin(&BUILTIN, &mut set.templates);
        }
        if let Some(dir) = project_dir {
            collect_dir(dir, dir, &mut set.templates).map_err(|error| RenderError {
                template: dir.display().to_string(),
                origin: Origin::Project(dir.to_path_buf()),
                message: format!("cannot read the template folder: {error}"),
            })?;
        }
        Ok(set)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.templates.keys().map(String::as_str)
    }

    pub fn origin(&self, name: &str) -> Option<&Origin> {
        self.templates.get(name).map(|(_, origin)| origin)
    }

    /// A short hash of every template's name and text: two sets with the same fingerprint
    /// render the same output. Where a template came from does not count.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for (name, (source, _)) in &self.templates {
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(source.as_bytes());
            hasher.update([0]);
        }
        crate::generate::digest::short_hex(&hasher.finalize())
    }

    pub fn source(&self, name: &str) -> Option<&str> {
        self.templates.get(name).map(|(source, _)| source.as_str())
    }
}

fn collect_builtin(dir: &Dir<'static>, into: &mut BTreeMap<String, (String, Origin)>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(dir) => collect_builtin(dir, into),
            DirEntry::File(file) => {
                let name = file.path().to_string_lossy().replace('\\', "/");
                if let (true, Some(text)) = (name.ends_with(TEMPLATE_SUFFIX), file.contents_utf8())
                {
                    into.insert(name, (text.to_string(), Origin::Builtin));
                }
            }
        }
    }
}

fn collect_dir(
    root: &Path,
    dir: &Path,
    into: &mut BTreeMap<String, (String, Origin)>,
) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_dir(root, &path, into)?;
        } else if path.to_string_lossy().ends_with(TEMPLATE_SUFFIX) {
            let relative = path.strip_prefix(root).expect("walked from root");
            let name = relative.to_string_lossy().replace('\\', "/");
            let text = fs::read_to_string(&path)?;
            into.insert(name, (text, Origin::Project(path)));
        }
    }
    Ok(())
}

/// A template that failed to parse or render, with Tera's whole explanation.
#[derive(Debug, thiserror::Error)]
pub struct RenderError {
    pub template: String,
    pub origin: Origin,
    pub message: String,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "template `{}` ({}): {}",
            self.template, self.origin, self.message
        )
    }
}

/// The built-in templates, as the build parsed them (0.35 ms to decode; a thread that
/// decoded them beside the project's reading saved about 0.5 ms of a 10 ms run and took a
/// global handle, so they are decoded where they are used).
fn builtin_templates() -> Vec<Template> {
    template_codec::decode(BUILTIN_PARSED)
}

pub struct Renderer {
    tera: Tera,
    set: TemplateSet,
}

impl Renderer {
    /// Loads every template up front, so a broken one fails before anything is rendered.
    /// Built-in templates come parsed from the build; the project's own are parsed here.
    pub fn new(set: TemplateSet, inflections: &Inflections) -> Result<Self, RenderError> {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![]);
        register_filters(&mut tera, inflections);
        for template in builtin_templates() {
            if set.origin(&template.name) == Some(&Origin::Builtin) {
                tera.templates.insert(template.name.clone(), template);
            }
        }
        let to_parse = set
            .templates
            .iter()
            .filter(|(name, _)| !tera.templates.contains_key(*name))
            .map(|(name, (source, _))| (name, source))
            .collect::<Vec<_>>();
        // add_raw_templates also builds the inheritance chains and checks macro imports,
        // for the built-in templates too.
        if let Err(error) = tera.add_raw_templates(to_parse) {
            let message = chain(&error);
            let template = quoted_after(&message, "Failed to parse '")
                .unwrap_or("(inheritance)")
                .to_string();
            let origin = set.origin(&template).cloned().unwrap_or(Origin::Builtin);
            return Err(RenderError {
                template,
                origin,
                message,
            });
        }
        Ok(Self { tera, set })
    }

    pub fn templates(&self) -> &TemplateSet {
        &self.set
    }

    pub fn has(&self, name: &str) -> bool {
        self.set.templates.contains_key(name)
    }

    pub fn render(&self, name: &str, context: &tera::Context) -> Result<String, RenderError> {
        self.tera
            .render(name, context)
            .map_err(|error| self.render_error(name, &error))
    }

    fn render_error(&self, name: &str, error: &tera::Error) -> RenderError {
        let mut message = chain(error);
        // Tera reports render errors without a line; point at the first line that mentions
        // the culprit, which is nearly always the right one. The failure may be in a parent
        // template: Tera then says "(error happened in 'parent')".
        let culprit = quoted_after(&message, "error happened in '").unwrap_or(name);
        let found = self
            .set
            .source(culprit)
            .and_then(|source| locate(source, &message));
        if let Some((number, line)) = found {
            let of = if culprit == name {
                String::new()
            } else {
                format!(" of `{culprit}`")
            };
            message = format!("{message}\n  near line {number}{of}: {}", line.trim());
        }
        RenderError {
            template: name.to_string(),
            origin: self.set.origin(name).cloned().unwrap_or(Origin::Builtin),
            message,
        }
    }
}

/// An error and every `source()` below it, one per line.
fn chain(error: &tera::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    text
}

/// The `'...'`-quoted name that follows `prefix` in a Tera message.
fn quoted_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let start = message.find(prefix)? + prefix.len();
    let end = message[start..].find('\'')?;
    Some(&message[start..start + end])
}

/// The first line of `source` holding a name that `message` quotes in backticks.
fn locate<'s>(source: &'s str, message: &str) -> Option<(usize, &'s str)> {
    message
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|quoted| !quoted.is_empty())
        .find_map(|quoted| {
            source
                .lines()
                .enumerate()
                .find(|(_, line)| line.contains(quoted))
                .map(|(index, line)| (index + 1, line))
        })
}

fn register_filters(tera: &mut Tera, inflections: &Inflections) {
    fn string_filter(
        name: &'static str,
        transform: impl Fn(&str) -> String + Send + Sync + 'static,
    ) -> impl tera::Filter {
        move |value: &Value, _: &HashMap<String, Value>| match value.as_str() {
            Some(text) => Ok(Value::String(transform(text))),
            None => Err(tera::Error::msg(format!(
                "filter `{name}` expects a string, got {value}"
            ))),
        }
    }
    tera.register_filter("snake", string_filter("snake", |s| s.to_snake_case()));
    tera.register_filter("pascal", string_filter("pascal", |s| s.to_pascal_case()));
    tera.register_filter("kebab", string_filter("kebab", |s| s.to_kebab_case()));
    let plural = inflections.clone();
    tera.register_filter(
        "plural",
        string_filter("plural", move |s| plural.pluralize(&s.to_snake_case())),
    );
    tera.register_filter("use_lines", |value: &Value, _: &HashMap<String, Value>| {
        let paths: Option<Vec<&str>> = value
            .as_array()
            .map(|items| items.iter().map(Value::as_str).collect())
            .unwrap_or(None);
        match paths {
            Some(paths) => Ok(Value::String(
                crate::generate::context::use_lines(&paths).join("\n"),
            )),
            None => Err(tera::Error::msg(format!(
                "filter `use_lines` expects a list of paths, got {value}"
            ))),
        }
    });
    let singular = inflections.clone();
    tera.register_filter(
        "singular",
        string_filter("singular", move |s| {
            singular.singularize(&s.to_snake_case())
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renderer(templates: &[(&str, &str)]) -> Result<Renderer, RenderError> {
        let set = TemplateSet {
            templates: templates
                .iter()
                .map(|(name, text)| {
                    let origin = Origin::Project(PathBuf::from(name));
                    (name.to_string(), (text.to_string(), origin))
                })
                .collect(),
        };
        Renderer::new(set, &Inflections::default())
    }

    #[test]
    fn filters_and_no_escaping() {
        let r = renderer(&[(
            "t.html.tera",
            "{{ a | pascal }} {{ a | kebab }} {{ b | snake }} {{ a | plural }} \
             {{ 'people' | singular }} {{ c }}",
        )])
        .unwrap();
        let mut context = tera::Context::new();
        context.insert("a", "user_profile");
        context.insert("b", "UserProfile");
        context.insert("c", "<Vec<&str>>");
        assert_eq!(
            r.render("t.html.tera", &context).unwrap(),
            "UserProfile user-profile user_profile user_profiles person <Vec<&str>>"
        );
        let r = renderer(&[(
            "u.tera",
            "{{ imports | concat(with=[\"sqlx::PgConnection\", \"chrono::Utc\"]) | use_lines }}",
        )])
        .unwrap();
        context.insert("imports", &["chrono::DateTime", "uuid::Uuid"]);
        assert_eq!(
            r.render("u.tera", &context).unwrap(),
            "use chrono::{DateTime, Utc};\nuse sqlx::PgConnection;\nuse uuid::Uuid;"
        );
    }

    /// Without this, a template that build.rs left out would be parsed at run time, silently
    /// and slowly.
    #[test]
    fn every_builtin_template_comes_parsed_from_the_build() {
        let builtin = TemplateSet::load(true, None).unwrap();
        let decoded: Vec<String> = builtin_templates().into_iter().map(|t| t.name).collect();
        assert_eq!(decoded, builtin.names().collect::<Vec<_>>());
    }

    #[test]
    fn syntax_errors_name_the_template_and_line() {
        let error = renderer(&[("module/x.rs.tera", "ok\n{{ oops }\n")])
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("module/x.rs.tera"), "{error}");
        assert!(error.contains("2:"), "{error}");
    }

    #[test]
    fn render_errors_point_at_a_line() {
        let r = renderer(&[(
            "t.tera",
            "one\n{% for f in fields %}\n{{ f.nme }}\n{% endfor %}",
        )])
        .unwrap();
        let mut context = tera::Context::new();
        context.insert("fields", &[serde_json::json!({"name": "x"})]);
        let error = r.render("t.tera", &context).unwrap_err().to_string();
        assert!(error.contains("near line 3: {{ f.nme }}"), "{error}");
    }
}

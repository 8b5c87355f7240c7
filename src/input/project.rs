//! The project being generated into: found by its `scaffold.toml`, which says where modules,
//! migrations, templates and registration points live.
//!
//! ```toml
//! [paths]
//! modules = "src/modules"            # one folder per module: src/modules/<module>/
//! migrations = "migrations/tenant"   # one migration per module
//! src = "src"                        # optional; its top-level names are reserved
//!
//! [templates]                        # optional
//! dir = "scaffold/templates"         # overrides the built-in templates file by file (may
//!                                    # be absent until there is something to override)
//! builtin = true                     # false: use only `dir`
//!
//! [registration]                     # injection name = file
//! modules = "src/modules/mod.rs"     # renders inject/modules.tera above `// scaffold:modules`
//! routes = "src/modules/mod.rs"      # renders inject/routes.tera above `// scaffold:routes`
//!
//! [inflections]                      # optional: singular = plural
//! person = "people"
//!
//! [api]                              # optional
//! json_case = "camel"                # JSON names of every module: "snake" (default) or
//!                                    # "camel"; columns and Rust stay snake_case
//!
//! [check]                            # optional
//! hand_written = ["users"]           # module folders not made by scaffold: `scaffold check`
//!                                    # does not expect them in the manifest
//! ```
//!
//! This is the only module besides `apply` that reads the disk; it hands the rest plain data.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::input::names::{Inflections, NameError};

pub const CONFIG_FILE: &str = "scaffold.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub paths: Paths,
    #[serde(default)]
    pub templates: TemplatesConfig,
    /// Injection name -> file that holds its `// scaffold:<name>` marker.
    #[serde(default)]
    pub registration: BTreeMap<String, PathBuf>,
    /// singular = plural.
    #[serde(default)]
    pub inflections: BTreeMap<String, String>,
    #[serde(default)]
    pub check: CheckConfig,
    /// `[modules]`: the options new modules get without asking (`audit = true`).
    #[serde(default)]
    pub modules: ModuleDefaults,
    #[serde(default)]
    pub api: ApiConfig,
}

/// `[api]`: how the API spells what every module shares.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    #[serde(default)]
    pub json_case: JsonCase,
}

/// The case of JSON names: request and response bodies, list query parameters, error
/// `field`s and the OpenAPI document. Columns and Rust identifiers are snake_case either way.
/// The server reads the same setting from `scaffold.toml` when it is built (its `build.rs`),
/// for the names its core gives (`createdAt`, error fields).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonCase {
    #[default]
    Snake,
    Camel,
}

impl JsonCase {
    /// The JSON name of the snake_case name `name`: `favorites_count` or `favoritesCount`,
    /// exactly as serde's `rename_all = "camelCase"` spells a Rust field.
    pub fn name(self, name: &str) -> String {
        match self {
            JsonCase::Snake => name.to_owned(),
            JsonCase::Camel => {
                let mut camel = String::with_capacity(name.len());
                let mut upper = false;
                for ch in name.chars() {
                    if ch == '_' {
                        upper = true;
                    } else if upper {
                        camel.extend(ch.to_uppercase());
                        upper = false;
                    } else {
                        camel.push(ch);
                    }
                }
                camel
            }
        }
    }

    /// The word `scaffold.toml` writes: `snake`, `camel`.
    pub fn word(self) -> &'static str {
        match self {
            JsonCase::Snake => "snake",
            JsonCase::Camel => "camel",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleDefaults {
    #[serde(default)]
    pub audit: bool,
    #[serde(default)]
    pub owned: bool,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub soft_delete: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckConfig {
    /// Folders of the modules directory written by hand, which the manifest does not list.
    #[serde(default)]
    pub hand_written: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paths {
    pub modules: PathBuf,
    pub migrations: PathBuf,
    #[serde(default = "default_src")]
    pub src: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplatesConfig {
    pub dir: Option<PathBuf>,
    #[serde(default = "yes")]
    pub builtin: bool,
}

impl Default for TemplatesConfig {
    fn default() -> Self {
        Self {
            dir: None,
            builtin: true,
        }
    }
}

fn default_src() -> PathBuf {
    PathBuf::from("src")
}

fn yes() -> bool {
    true
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(
        "no {CONFIG_FILE} found in {} or any folder above it; run scaffold inside a project, \
         or point at one with `-C <dir>`",
        .0.display()
    )]
    NotFound(PathBuf),
    #[error("cannot use directory {}: {source}", .path.display())]
    BadStart { path: PathBuf, source: io::Error },
    #[error("cannot read {}: {source}", .path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{} is not valid: {message}", .path.display())]
    Invalid { path: PathBuf, message: String },
}

/// What the naming rules need to know about the project, read from disk beforehand so that
/// parsing stays a pure function.
#[derive(Debug, Clone, Default)]
pub struct ProjectFacts {
    /// Folders in the modules directory.
    pub existing_modules: BTreeSet<String>,
    /// The modules among them that are links: pairs with no id of their own to refer to.
    pub links: BTreeSet<String>,
    /// The `--key` field of each module that has one: a `ref` to it nests its list under the
    /// key (`/api/articles/{slug}/comments`).
    pub keys: BTreeMap<String, String>,
    /// The modules directory as the user sees it, for messages.
    pub modules_dir: String,
    /// Stems of the top-level entries of `src/` (`main`, `app`, `core`...): a generated module
    /// with one of these names would be confused with them.
    pub taken_names: BTreeSet<String>,
    pub inflections: Inflections,
}

#[derive(Debug, Clone)]
pub struct Project {
    /// The folder holding `scaffold.toml`; every configured path is relative to it.
    pub root: PathBuf,
    pub config: Config,
    pub inflections: Inflections,
}

impl Project {
    /// Walks up from `start` to the nearest folder with a `scaffold.toml`, as git and cargo do.
    pub fn discover(start: &Path) -> Result<Self, ProjectError> {
        let start = fs::canonicalize(start).map_err(|source| ProjectError::BadStart {
            path: start.to_path_buf(),
            source,
        })?;
        let root = start
            .ancestors()
            .find(|dir| dir.join(CONFIG_FILE).is_file())
            .ok_or_else(|| ProjectError::NotFound(start.clone()))?;
        Self::load(root)
    }

    pub fn load(root: &Path) -> Result<Self, ProjectError> {
        let path = root.join(CONFIG_FILE);
        let text = fs::read_to_string(&path).map_err(|source| ProjectError::Read {
            path: path.clone(),
            source,
        })?;
        let invalid = |message: String| ProjectError::Invalid {
            path: path.clone(),
            message,
        };
        let config: Config = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        check_paths(&config, root).map_err(invalid)?;
        let inflections =
            Inflections::new(&config.inflections).map_err(|NameError(message)| invalid(message))?;
        Ok(Self {
            root: root.to_path_buf(),
            config,
            inflections,
        })
    }

    pub fn facts(&self) -> Result<ProjectFacts, ProjectError> {
        let modules = &self.config.paths.modules;
        let existing_modules = self
            .entries(modules)?
            .into_iter()
            .filter(|(_, is_dir)| *is_dir)
            .map(|(name, _)| name)
            .collect();
        let taken_names = self
            .entries(&self.config.paths.src)?
            .into_iter()
            .map(|(name, _)| match name.strip_suffix(".rs") {
                Some(stem) => stem.to_string(),
                None => name,
            })
            .collect();
        Ok(ProjectFacts {
            existing_modules,
            links: BTreeSet::new(),
            keys: BTreeMap::new(),
            modules_dir: modules.display().to_string(),
            taken_names,
            inflections: self.inflections.clone(),
        })
    }

    /// File names in the migrations folder (none if it does not exist yet).
    pub fn migration_files(&self) -> Result<Vec<String>, ProjectError> {
        let entries = self.entries(&self.config.paths.migrations)?;
        Ok(entries
            .into_iter()
            .filter(|(_, is_dir)| !is_dir)
            .map(|(name, _)| name)
            .collect())
    }

    /// The project's template folder, if it has one. A configured folder that does not
    /// exist yet simply overrides nothing: it is where overrides go once there are some.
    pub fn template_dir(&self) -> Option<PathBuf> {
        let dir = self.root.join(self.config.templates.dir.as_ref()?);
        dir.is_dir().then_some(dir)
    }

    /// Names of the visible entries of a project folder, and whether each is a folder.
    fn entries(&self, relative: &Path) -> Result<BTreeSet<(String, bool)>, ProjectError> {
        let path = self.root.join(relative);
        let read_error = |source| ProjectError::Read {
            path: path.clone(),
            source,
        };
        let iter = match fs::read_dir(&path) {
            Ok(iter) => iter,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
            Err(e) => return Err(read_error(e)),
        };
        let mut entries = BTreeSet::new();
        for entry in iter {
            let entry = entry.map_err(read_error)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') {
                entries.insert((name, entry.path().is_dir()));
            }
        }
        Ok(entries)
    }
}

/// Whether `path` names something inside a folder, written as it: relative, not empty,
/// without `..`.
pub fn is_relative_inside(path: &Path) -> bool {
    !path.as_os_str().is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// A project root, resolved once, against which paths are checked: a symbolic link in the
/// tree must not lead scaffold's reads and writes elsewhere. A root that cannot be resolved
/// has nothing inside it.
pub struct Inside(Option<PathBuf>);

impl Inside {
    pub fn new(root: &Path) -> Self {
        Self(root.canonicalize().ok())
    }

    /// Whether `relative`, resolved under the root with every symbolic link followed as far
    /// as it exists, is still inside the root.
    pub fn resolves(&self, relative: &Path) -> bool {
        let Some(root) = &self.0 else {
            return false;
        };
        let mut existing = root.join(relative);
        // The deepest part that exists decides: what is below it is created as plain folders.
        while existing.symlink_metadata().is_err() {
            if !existing.pop() {
                return false;
            }
        }
        existing
            .canonicalize()
            .is_ok_and(|resolved| resolved.starts_with(root))
    }
}

/// Every configured path must stay inside the project: the generator writes there.
fn check_paths(config: &Config, root: &Path) -> Result<(), String> {
    let mut paths = vec![
        ("paths.modules", &config.paths.modules),
        ("paths.migrations", &config.paths.migrations),
        ("paths.src", &config.paths.src),
    ];
    if let Some(dir) = &config.templates.dir {
        paths.push(("templates.dir", dir));
    }
    for (key, path) in &config.registration {
        let valid_key = key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if key.is_empty() || !valid_key {
            return Err(format!(
                "[registration] `{key}`: names are lower-case words like `routes`, matching \
                 templates/inject/<name>.tera"
            ));
        }
        paths.push(("registration", path));
    }
    let inside = Inside::new(root);
    for (key, path) in paths {
        if !is_relative_inside(path) {
            return Err(format!(
                "{key} = `{}` must be a relative path inside the project, without `..`",
                path.display()
            ));
        }
        if !inside.resolves(path) {
            return Err(format!(
                "{key} = `{}` leads outside the project through a symbolic link; point it at a \
                 folder inside the project",
                path.display()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str) -> Result<Project, ProjectError> {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(CONFIG_FILE), toml).unwrap();
        Project::load(dir.path())
    }

    #[test]
    fn minimal_config() {
        let project =
            load("[paths]\nmodules = \"src/modules\"\nmigrations = \"migrations\"\n").unwrap();
        assert!(project.config.templates.builtin);
        assert_eq!(project.config.paths.src, PathBuf::from("src"));
    }

    #[test]
    fn paths_must_stay_inside() {
        let error = load("[paths]\nmodules = \"../elsewhere\"\nmigrations = \"m\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("paths.modules"), "{error}");
    }

    #[test]
    fn unknown_keys_are_named() {
        let error = load("[paths]\nmodules = \"m\"\nmigrations = \"m\"\nmodule = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown field `module`"), "{error}");
    }

    #[test]
    fn json_case_is_snake_unless_camel_is_chosen() {
        let paths = "[paths]\nmodules = \"m\"\nmigrations = \"m\"\n";
        let snake = load(paths).unwrap().config.api.json_case;
        assert_eq!(snake, JsonCase::Snake);
        let camel = load(&format!("{paths}[api]\njson_case = \"camel\"\n")).unwrap();
        assert_eq!(camel.config.api.json_case, JsonCase::Camel);
        let error = load(&format!("{paths}[api]\njson_case = \"kebab\"\n"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("expected `snake` or `camel`"), "{error}");
    }

    #[test]
    fn camel_names_are_spelt_as_serde_spells_them() {
        let camel = |name| JsonCase::Camel.name(name);
        assert_eq!(camel("favorites_count"), "favoritesCount");
        assert_eq!(camel("created_at"), "createdAt");
        assert_eq!(camel("line_2_total"), "line2Total");
        assert_eq!(camel("name"), "name");
        assert_eq!(JsonCase::Snake.name("created_at"), "created_at");
    }

    #[test]
    fn discovery_walks_up() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(CONFIG_FILE),
            "[paths]\nmodules = \"m\"\nmigrations = \"m\"\n",
        )
        .unwrap();
        let deep = dir.path().join("a/b");
        fs::create_dir_all(&deep).unwrap();
        let project = Project::discover(&deep).unwrap();
        assert_eq!(project.root, fs::canonicalize(dir.path()).unwrap());
    }
}

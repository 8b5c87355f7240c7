//! The manifest: what `scaffold new module` generated, committed with the project so that
//! `list`, `check`, `upgrade` and `destroy` can tell generated code from hand edits later.
//!
//! Everything lives in `.scaffold/` at the project root (beside `scaffold.toml`):
//!
//! - `.scaffold/manifest.toml`: per module, the arguments that regenerate it, a fingerprint of
//!   the template set it was rendered with, a content hash of every file it wrote, and every
//!   line it registered. Sorted, without timestamps: generating the same module again gives
//!   the same bytes.
//! - `.scaffold/pristine/<path>.pristine`: the output as generated of every file, the merge
//!   base of `scaffold upgrade`. The suffix keeps tools that look for `*.rs` or `*.sql` (a
//!   formatter run over `git ls-files '*.rs'`, a migration runner) away from them.
//! - `.scaffold/.gitattributes`: marks the pristine copies as generated, so that code review
//!   folds them away.
//!
//! A project without modules has no manifest at all: the files are removed with the last
//! module, so that `new` then `destroy` leaves the tree as it was.
//!
//! ```toml
//! version = 1
//!
//! [modules.projects]
//! command = "projects name:string description:text?"
//! templates = "3f9a0c51d2e4b687"
//!
//! [modules.projects.files]
//! "migrations/tenant/20261127000000_create_projects.sql" = "9b1e04c3a8f2d6e5"
//! "src/modules/projects/mod.rs" = "0d4c6b2a9e8f1735"
//!
//! [[modules.projects.injections]]
//! file = "src/modules/mod.rs"
//! marker = "scaffold:modules"
//! line = "pub mod projects;"
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::generate::digest::hash;
use crate::generate::plan::{Op, Plan};
use crate::input::link::LinkRequest;
use crate::input::names::NameRequest;
use crate::input::options::ModuleOptions;
use crate::input::project::ProjectFacts;
use crate::input::spec::{ModuleSpec, SpecRequest};
use crate::write::stage::Write;

/// The folder of the manifest, relative to the project root.
pub const DIR: &str = ".scaffold";
pub const FILE: &str = ".scaffold/manifest.toml";
pub const PRISTINE_DIR: &str = ".scaffold/pristine";
pub const PRISTINE_SUFFIX: &str = ".pristine";
pub const ATTRIBUTES: &str = ".scaffold/.gitattributes";

/// The manifest format; a manifest of another version is refused rather than misread.
const FORMAT: u32 = 1;

const HEADER: &str = "\
# Written by `scaffold`: what it generated, so that `scaffold list`, `check`, `upgrade` and
# `destroy` can tell generated code from your edits. Commit it with the code; do not edit it.
# Hashes are of the output as generated, which is kept in .scaffold/pristine/.
";

const ATTRIBUTES_TEXT: &str = "\
# Written by `scaffold`: the pristine copies are generated; fold them away in code review.
pristine/** linguist-generated=true
";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub version: u32,
    #[serde(default)]
    pub modules: BTreeMap<String, ModuleRecord>,
}

impl Default for Manifest {
    fn default() -> Self {
        Self {
            version: FORMAT,
            modules: BTreeMap::new(),
        }
    }
}

/// One generated module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleRecord {
    /// The arguments to `scaffold new module` that generate it again, canonical: the module
    /// name, `--singular`/`--plural` if they were given, the fields, `--no-tests`.
    pub command: String,
    /// The command the create migration was generated from, once `scaffold change module`
    /// has changed the fields: the create migration keeps rendering from it, and the change
    /// migrations (recorded in `files`) hold the differences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_command: Option<String>,
    /// The table shape its migrations bring it to ([`crate::input::spec::TABLE_SHAPE`]); 1
    /// for modules recorded before shapes were.
    #[serde(default = "first_shape")]
    pub shape: u32,
    /// The shape its create migration has, once `upgrade` or `change module` has moved
    /// `shape` on: the create migration keeps rendering at it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_shape: Option<u32>,
    /// [`crate::generate::render::TemplateSet::fingerprint`] of the templates it was rendered with.
    pub templates: String,
    /// Every file written (the migration included) -> hash of its content as generated.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Files that `scaffold upgrade` left with conflict markers -> hash of the output it
    /// merged in. Their entry in `files` (the merge base) has not moved yet.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub conflicts: BTreeMap<String, String>,
    /// Every line registered in another file, as generated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub injections: Vec<Injection>,
}

fn first_shape() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Injection {
    pub file: String,
    /// The comment the line was put above: `scaffold:routes`.
    pub marker: String,
    /// Without indentation; several lines are joined by `\n`.
    pub line: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {}: {source}", .path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "{FILE} is not a valid manifest: {message}\nit is written by scaffold; restore it from \
         version control"
    )]
    Invalid { message: String },
    #[error(
        "{FILE} has format version {0}, this scaffold reads version {FORMAT}; use the scaffold \
         that wrote it, or a newer one"
    )]
    Version(u32),
}

impl Manifest {
    /// The project's manifest; an empty one if there is none yet.
    pub fn load(root: &Path) -> Result<Self, ManifestError> {
        let path = root.join(FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(ManifestError::Read { path, source }),
        };
        let manifest: Self = toml::from_str(&text).map_err(|e| ManifestError::Invalid {
            message: e.to_string(),
        })?;
        if manifest.version != FORMAT {
            return Err(ManifestError::Version(manifest.version));
        }
        manifest.check_paths(root)?;
        Ok(manifest)
    }

    /// What only the manifest knows about the modules: the recorded ones (which may be
    /// referred to even when their folder is gone), which of them are links, and their keys.
    pub fn add_facts(&self, facts: &mut ProjectFacts) {
        for (module, record) in &self.modules {
            facts.existing_modules.insert(module.clone());
            let words = record.words();
            if words.link.is_some() {
                facts.links.insert(module.clone());
            }
            if let Some(key) = words.key {
                facts.keys.insert(module.clone(), key);
            }
        }
    }

    /// Every path the manifest names must lead inside the project, symbolic links followed:
    /// `destroy` and `upgrade` write and delete them, and a manifest may come from anywhere
    /// (a cloned repository, a pull request).
    fn check_paths(&self, root: &Path) -> Result<(), ManifestError> {
        let inside = crate::input::project::Inside::new(root);
        for (module, record) in &self.modules {
            let files = record.files.keys().chain(record.conflicts.keys());
            let injected = record.injections.iter().map(|i| &i.file);
            for path in files.chain(injected) {
                let relative = Path::new(path);
                let problem = if !crate::input::project::is_relative_inside(relative) {
                    "a path outside the project"
                } else if !inside.resolves(relative) || !inside.resolves(&pristine_path(path)) {
                    "a path that a symbolic link leads outside the project"
                } else {
                    continue;
                };
                return Err(ManifestError::Invalid {
                    message: format!("module `{module}` records `{path}`, {problem}"),
                });
            }
        }
        Ok(())
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("the manifest serialises");
        format!("{HEADER}{body}")
    }

    /// The writes and removals (relative to the project root) that take the manifest on disk
    /// from `before` to `self`. `pristine` holds the new output as generated of the files
    /// whose record changed; the copies of files no longer recorded are removed.
    pub fn state_changes(
        &self,
        before: &Manifest,
        pristine: &BTreeMap<String, String>,
        root: &Path,
    ) -> StateChanges {
        let mut changes = StateChanges::default();
        let mut write = |path: PathBuf, content: String| {
            if read_text(&root.join(&path)).as_deref() != Some(content.as_str()) {
                changes.writes.push((path, content));
            }
        };
        if self.modules.is_empty() {
            changes.removals.push(FILE.into());
            changes.removals.push(ATTRIBUTES.into());
        } else {
            write(FILE.into(), self.to_toml());
            write(ATTRIBUTES.into(), ATTRIBUTES_TEXT.into());
        }
        for (path, text) in pristine {
            write(pristine_path(path), text.clone());
        }
        let recorded = |manifest: &Manifest, path: &str| {
            manifest
                .modules
                .values()
                .any(|m| m.files.contains_key(path))
        };
        for module in before.modules.values() {
            for path in module.files.keys() {
                if !recorded(self, path) {
                    changes.removals.push(pristine_path(path));
                }
            }
        }
        changes
            .removals
            .retain(|path| root.join(path).symlink_metadata().is_ok());
        changes
    }

    /// Which module recorded `file`, if any.
    pub fn owner_of(&self, file: &str) -> Option<&str> {
        self.modules
            .iter()
            .find(|(_, m)| m.files.contains_key(file))
            .map(|(name, _)| name.as_str())
    }
}

/// Manifest files to write and remove, relative to the project root.
#[derive(Debug, Default)]
pub struct StateChanges {
    pub writes: Vec<(PathBuf, String)>,
    pub removals: Vec<PathBuf>,
}

impl StateChanges {
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.removals.is_empty()
    }

    /// As absolute writes and removals for [`crate::write::stage::commit_all`].
    pub fn into_stage(self, root: &Path) -> (Vec<Write>, Vec<PathBuf>) {
        let writes = self
            .writes
            .into_iter()
            .map(|(path, content)| Write {
                path: root.join(path),
                content: content.into_bytes(),
            })
            .collect();
        let removals = self.removals.iter().map(|p| root.join(p)).collect();
        (writes, removals)
    }
}

impl ModuleRecord {
    /// The record of `plan`, as rendered for `spec` with templates of `fingerprint`.
    pub fn from_plan(spec: &ModuleSpec, plan: &Plan, fingerprint: &str) -> Self {
        let mut files = BTreeMap::new();
        let mut injections = Vec::new();
        for op in &plan.ops {
            match op {
                Op::CreateFile { path, content } => {
                    files.insert(slash_path(path), hash(content));
                }
                Op::Inject { path, marker, line } => injections.push(Injection {
                    file: slash_path(path),
                    marker: marker.clone(),
                    line: line.clone(),
                }),
            }
        }
        Self {
            command: spec.command.clone(),
            create_command: None,
            shape: spec.shape,
            create_shape: None,
            templates: fingerprint.to_string(),
            files,
            conflicts: BTreeMap::new(),
            injections,
        }
    }

    /// Keeps what `old`, the record of the same module, knows beyond one rendering: the
    /// command and shape of its create migration, its table's shape and the change
    /// migrations, which no plan contains.
    pub fn keep_history(&mut self, old: &ModuleRecord, is_migration: impl Fn(&str) -> bool) {
        self.create_command.clone_from(&old.create_command);
        // The table stays as its migrations left it; `upgrade` moves it to the current shape.
        self.shape = old.shape;
        self.create_shape = old.create_shape;
        for (path, hash) in &old.files {
            if is_migration(path) && !self.files.contains_key(path) {
                self.files.insert(path.clone(), hash.clone());
            }
        }
    }

    /// The command's words, as `scaffold new module` parses them.
    pub fn words(&self) -> CommandWords {
        words(&self.command)
    }

    /// The shape of the table its create migration makes.
    pub fn create_shape(&self) -> u32 {
        self.create_shape.unwrap_or(self.shape)
    }

    /// Whether its create migration renders from another command or shape than its code.
    pub fn has_create_history(&self) -> bool {
        self.create_command.is_some() || self.create_shape() != crate::input::spec::TABLE_SHAPE
    }

    /// Moves the table to `shape`, keeping the create migration's.
    pub fn reshape(&mut self, shape: u32) {
        self.create_shape = Some(self.create_shape.unwrap_or(self.shape)).filter(|s| *s != shape);
        self.shape = shape;
    }

    /// The command that generates it, as typed: `new module tasks title:string`, or for a link
    /// `new link projects tags role:string --name project_tags`.
    pub fn generate_command(&self) -> String {
        let words = self.words();
        let Some((a, b)) = words.link.as_deref().and_then(|link| link.split_once(':')) else {
            return format!("new module {}", self.command);
        };
        let mut out = vec!["new link".to_owned(), a.to_owned(), b.to_owned()];
        out.extend(
            words
                .fields
                .iter()
                .map(|field| crate::input::shell::quote(field)),
        );
        out.push(format!("--name {}", words.name));
        if let Some(directions) = &words.directions {
            out.push(format!("--as {directions}"));
        }
        if words.allow_self {
            out.push("--allow-self".to_owned());
        }
        if !words.with_tests {
            out.push("--no-tests".to_owned());
        }
        out.join(" ")
    }

    /// The words of the command the create migration was generated from.
    pub fn create_words(&self) -> CommandWords {
        words(self.create_command.as_deref().unwrap_or(&self.command))
    }

    /// The fields with which this module refers to `module` with `ref(...)`, in its command
    /// or in the command of its create migration (whose foreign key every new tenant still
    /// creates before a change migration drops it).
    pub fn refers_to(&self, module: &str) -> Vec<String> {
        let mut fields = self.words().fields;
        for field in self.create_words().fields {
            if !fields.contains(&field) {
                fields.push(field);
            }
        }
        let mut refs: Vec<String> = fields
            .into_iter()
            .filter(|field| {
                let ty = field.split(':').nth(1).unwrap_or_default();
                // `ref(tasks)` or, with a delete rule, `ref(tasks,cascade)`.
                ty.strip_prefix("ref(")
                    .and_then(|rest| rest.split([')', ',']).next())
                    .is_some_and(|target| target.trim() == module)
            })
            .collect();
        // A link's rows name both its sides.
        let link = self.words().link;
        if let Some(link) = link.filter(|link| link.split(':').any(|side| side == module)) {
            refs.push(format!("--link {link}"));
        }
        refs
    }
}

fn words(command: &str) -> CommandWords {
    let mut words = CommandWords {
        with_tests: true,
        ..CommandWords::default()
    };
    let mut iter = crate::input::shell::split(command).into_iter();
    words.name = iter.next().unwrap_or_default();
    while let Some(word) = iter.next() {
        match word.as_str() {
            "--singular" => words.singular = iter.next(),
            "--plural" => words.plural = iter.next(),
            "--no-tests" => words.with_tests = false,
            "--link" => words.link = iter.next(),
            "--as" => words.directions = iter.next(),
            "--allow-self" => words.allow_self = true,
            "--key" => words.key = iter.next(),
            flag if words.options.read(flag) => {}
            _ => words.fields.push(word),
        }
    }
    words
}

/// A module's recorded command, split up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandWords {
    pub name: String,
    pub singular: Option<String>,
    pub plural: Option<String>,
    pub fields: Vec<String>,
    pub with_tests: bool,
    /// A link's sides, `a:b` (`--link`), its `--as` and `--allow-self`.
    pub link: Option<String>,
    pub directions: Option<String>,
    pub allow_self: bool,
    /// `--audit`, `--owned`, `--private`, `--soft-delete`.
    pub options: ModuleOptions,
    /// `--key FIELD`; commands recorded before keys have none.
    pub key: Option<String>,
}

impl CommandWords {
    /// The words as a request to parse into a spec.
    pub fn request(&self) -> SpecRequest<'_> {
        SpecRequest {
            names: NameRequest {
                name: &self.name,
                singular: self.singular.as_deref(),
                plural: self.plural.as_deref(),
            },
            fields: &self.fields,
            with_tests: self.with_tests,
        }
    }

    /// A link's sides and options, when the command is a link's.
    pub fn link_request(&self) -> Option<LinkRequest<'_>> {
        let (a, b) = self.link.as_deref()?.split_once(':')?;
        Some(LinkRequest {
            a,
            b,
            directions: self.directions.as_deref(),
            allow_self: self.allow_self,
        })
    }
}

/// The pristine copy of a generated file, relative to the project root.
pub fn pristine_path(file: &str) -> PathBuf {
    Path::new(PRISTINE_DIR).join(format!("{file}{PRISTINE_SUFFIX}"))
}

/// A relative path with `/` separators, as the manifest stores it.
pub fn slash_path(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// A file as text, lossily (bytes that are not UTF-8 never match generated text anyway);
/// `None` if it cannot be read.
pub fn read_text(path: &Path) -> Option<String> {
    fs::read(path)
        .ok()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_that_cannot_be_read_is_an_error_not_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), Manifest::default());
        let path = dir.path().join(FILE);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, b"version = 1\n\xff\n").unwrap();
        assert!(matches!(
            Manifest::load(dir.path()),
            Err(ManifestError::Read { .. })
        ));
    }

    fn record() -> ModuleRecord {
        ModuleRecord {
            command: "people --singular person name:string owner:ref(users)? \
                      parent:ref(people)? --no-tests"
                .into(),
            create_command: None,
            shape: 2,
            create_shape: None,
            templates: "00".into(),
            files: [("src/modules/people/mod.rs".to_string(), "ab".to_string())].into(),
            conflicts: BTreeMap::new(),
            injections: vec![Injection {
                file: "src/modules/mod.rs".into(),
                marker: "scaffold:modules".into(),
                line: "pub mod people;".into(),
            }],
        }
    }

    #[test]
    fn round_trips_through_toml_deterministically() {
        let mut manifest = Manifest::default();
        manifest.modules.insert("people".into(), record());
        let text = manifest.to_toml();
        assert!(text.starts_with("# Written by `scaffold`"), "{text}");
        assert!(text.contains("[modules.people.files]\n"), "{text}");
        assert!(!text.contains("conflicts"), "{text}");
        let back: Manifest = toml::from_str(&text).unwrap();
        assert_eq!(back, manifest);
        assert_eq!(back.to_toml(), text);
    }

    #[test]
    fn command_words_and_references() {
        let words = record().words();
        assert_eq!(words.name, "people");
        assert_eq!(words.singular.as_deref(), Some("person"));
        assert_eq!(words.plural, None);
        assert!(!words.with_tests);
        assert_eq!(words.fields.len(), 3);
        assert_eq!(record().refers_to("users"), ["owner:ref(users)?"]);
        assert!(record().refers_to("user").is_empty());
    }

    #[test]
    fn every_flag_of_a_recorded_command_is_read_back() {
        let words = words("people --singular person --plural folk name:string --no-tests");
        assert_eq!(
            words,
            CommandWords {
                name: "people".into(),
                singular: Some("person".into()),
                plural: Some("folk".into()),
                fields: vec!["name:string".into()],
                with_tests: false,
                ..CommandWords::default()
            }
        );
    }

    #[test]
    fn state_changes_are_empty_only_without_writes_and_removals() {
        assert!(StateChanges::default().is_empty());
        let write = StateChanges {
            writes: vec![(FILE.into(), String::new())],
            ..StateChanges::default()
        };
        assert!(!write.is_empty());
        let removal = StateChanges {
            removals: vec![FILE.into()],
            ..StateChanges::default()
        };
        assert!(!removal.is_empty());
    }

    #[test]
    fn pristine_copies_sit_under_the_manifest_folder() {
        assert_eq!(
            pristine_path("src/a.rs"),
            Path::new(".scaffold/pristine/src/a.rs.pristine")
        );
    }
}

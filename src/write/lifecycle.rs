//! Generated modules after generation: the manifest against the tree and against what the
//! current templates render. Shared by `list`, `check`, `upgrade` and `destroy`; reads only.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use crate::generate::digest;
use crate::generate::format;
use crate::generate::plan::{self, MigrationVersion, Op, Plan};
use crate::generate::render::{Renderer, TemplateSet};
use crate::input::names::{ModuleNames, NameRequest};
use crate::input::project::Project;
use crate::input::project::ProjectFacts;
use crate::input::spec::{ModuleSpec, TABLE_SHAPE};
use crate::write::apply;
use crate::write::manifest::{self, CommandWords, Injection, Manifest, ModuleRecord};
use crate::write::stage::{self, ProjectLock};

/// The project, its manifest, and what parsing a recorded command needs.
pub struct Workspace {
    pub project: Project,
    pub manifest: Manifest,
    pub facts: ProjectFacts,
    /// Held by commands that write, from before the manifest is read until they end.
    pub lock: Option<ProjectLock>,
}

impl Workspace {
    /// For commands that only read.
    pub fn open(start: &Path) -> anyhow::Result<Self> {
        Self::load(Project::discover(start)?, None)
    }

    /// For commands that write: no other scaffold run changes the project meanwhile.
    pub fn open_locked(start: &Path) -> anyhow::Result<Self> {
        let project = Project::discover(start)?;
        let lock = stage::lock(&project.root)?;
        Self::load(project, Some(lock))
    }

    fn load(project: Project, lock: Option<ProjectLock>) -> anyhow::Result<Self> {
        let manifest = Manifest::load(&project.root)?;
        let mut facts = project.facts()?;
        manifest.add_facts(&mut facts);
        Ok(Self {
            project,
            manifest,
            facts,
            lock,
        })
    }

    pub fn root(&self) -> &Path {
        &self.project.root
    }

    /// The project's templates as they are now.
    pub fn renderer(&self) -> anyhow::Result<Renderer> {
        let dir = self.project.template_dir();
        let set = TemplateSet::load(self.project.config.templates.builtin, dir.as_deref())?;
        Ok(Renderer::new(set, &self.project.inflections)?)
    }

    /// The recorded module meant by `name`, in any case and number (`Task`, `tasks`).
    pub fn find(&self, name: &str) -> anyhow::Result<String> {
        if self.manifest.modules.contains_key(name) {
            return Ok(name.to_string());
        }
        let derived = ModuleNames::derive(NameRequest::new(name), &self.project.inflections)
            .ok()
            .map(|names| names.module);
        if let Some(module) = derived.filter(|m| self.manifest.modules.contains_key(m)) {
            return Ok(module);
        }
        let known = if self.manifest.modules.is_empty() {
            "it records none".to_string()
        } else {
            let names: Vec<&str> = self.manifest.modules.keys().map(String::as_str).collect();
            format!("it records {}", names.join(", "))
        };
        anyhow::bail!(
            "no module `{name}` in {} ({known}); scaffold only manages the modules it generated \
             (see `{}`)",
            manifest::FILE,
            crate::input::hints::scaffold("list")
        )
    }

    /// The module's spec, parsed again from its recorded command, at its table's shape.
    pub fn spec(&self, module: &str) -> Result<ModuleSpec, String> {
        let record = &self.manifest.modules[module];
        let mut spec = self.parse(module, &record.words())?;
        spec.shape = record.shape;
        Ok(spec)
    }

    /// The spec the module's create migration was generated from.
    pub fn create_spec(&self, module: &str) -> Result<ModuleSpec, String> {
        let record = &self.manifest.modules[module];
        let mut spec = self.parse(module, &record.create_words())?;
        spec.shape = record.create_shape();
        Ok(spec)
    }

    fn parse(&self, module: &str, words: &CommandWords) -> Result<ModuleSpec, String> {
        let record = &self.manifest.modules[module];
        let mut spec = ModuleSpec::parse(words.request(), &self.facts)
            .and_then(|spec| spec.with_options(words.options))
            .map_err(|e| e.to_string())?;
        if let Some(link) = words.link_request() {
            spec = spec
                .into_link(&link, &self.facts)
                .map_err(|e| e.to_string())?;
        }
        let spec = spec
            .with_key(words.key.as_deref())
            .map_err(|e| e.to_string())?;
        if spec.names.module != module {
            return Err(format!(
                "its command `{}` now names the module `{}` (have the [inflections] in \
                 scaffold.toml changed?)",
                record.command, spec.names.module
            ));
        }
        Ok(spec)
    }

    /// Renders `modules` with the current templates from their recorded commands, Rust
    /// formatted as `new` formats it, in one rustfmt run. A module that cannot be rendered
    /// (its command no longer parses) gets the reason instead of a plan.
    pub fn render(
        &self,
        renderer: &Renderer,
        modules: &[String],
    ) -> anyhow::Result<BTreeMap<String, Result<Plan, String>>> {
        let on_disk = self.project.migration_files()?;
        let now = MigrationVersion::at(now()?);
        let mut plans = BTreeMap::new();
        for module in modules {
            let record = &self.manifest.modules[module];
            // The recorded migration keeps its name, even when the file is gone.
            let recorded: Vec<String> = record
                .files
                .keys()
                .filter(|file| self.is_migration(file))
                .filter_map(|file| Some(Path::new(file).file_name()?.to_string_lossy().into()))
                .collect();
            let existing = if recorded.is_empty() {
                &on_disk
            } else {
                &recorded
            };
            let plan = self.spec(module).and_then(|mut spec| {
                // The code is always rendered for the current shape: `upgrade` writes the
                // migration that brings the table there.
                spec.shape = TABLE_SHAPE;
                let mut plan = plan::plan(&spec, renderer, &self.project.config, existing, now)
                    .map_err(|e| e.to_string())?;
                if record.has_create_history() {
                    let created = self.create_spec(module)?;
                    if let Some(content) = plan::create_migration(
                        &created,
                        renderer,
                        self.project.config.api.json_case,
                    )
                    .map_err(|e| e.to_string())?
                    {
                        let migrations = &self.project.config.paths.migrations;
                        plan::replace_create_migration(&mut plan, migrations, content);
                    }
                }
                Ok(plan)
            });
            plans.insert(module.clone(), plan);
        }
        let mut all = Plan::default();
        let mut ranges = Vec::new();
        for (module, plan) in &plans {
            if let Ok(plan) = plan {
                let start = all.ops.len();
                all.ops.extend(plan.ops.iter().cloned());
                ranges.push((module.clone(), start..all.ops.len()));
            }
        }
        format::format_rust(&mut all, self.root(), renderer.templates())?;
        for (module, range) in ranges {
            let ops = all.ops[range].to_vec();
            plans.insert(module, Ok(Plan { ops }));
        }
        Ok(plans)
    }

    /// Whether a recorded file is a migration: history that `upgrade` leaves alone.
    pub fn is_migration(&self, file: &str) -> bool {
        Path::new(file).parent() == Some(self.project.config.paths.migrations.as_path())
    }

    pub fn module_dir(&self, module: &str) -> PathBuf {
        self.project.config.paths.modules.join(module)
    }

    pub fn read(&self, file: &str) -> Option<String> {
        manifest::read_text(&self.root().join(file))
    }

    /// The pristine copy of a recorded file, if it is there and matches its hash.
    pub fn pristine(&self, module: &str, file: &str) -> Option<String> {
        let hash = self.manifest.modules.get(module)?.files.get(file)?;
        let text = manifest::read_text(&self.root().join(manifest::pristine_path(file)))?;
        (digest::hash(&text) == *hash).then_some(text)
    }
}

/// What `new module` and `new link` write: the spec's files, formatted, and its create
/// migration stamped [`now`].
pub fn plan_new(spec: &ModuleSpec, renderer: &Renderer, project: &Project) -> anyhow::Result<Plan> {
    let migrations = project.migration_files()?;
    let mut plan = plan::plan(
        spec,
        renderer,
        &project.config,
        &migrations,
        MigrationVersion::at(now()?),
    )?;
    format::format_rust(&mut plan, &project.root, renderer.templates())?;
    Ok(plan)
}

/// The time that names a new migration: now, or `SOURCE_DATE_EPOCH` for reproducible output.
pub fn now() -> anyhow::Result<DateTime<Utc>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(seconds) => seconds
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
            .with_context(|| {
                format!("SOURCE_DATE_EPOCH=`{seconds}` is not a number of seconds since 1970")
            }),
        Err(_) => Ok(Utc::now()),
    }
}

/// Whether a text holds git-style conflict markers, as `upgrade` writes them.
pub fn has_conflict_markers(text: &str) -> bool {
    let mut open = false;
    for line in text.lines() {
        if line.starts_with("<<<<<<<") {
            open = true;
        } else if open && line.starts_with(">>>>>>>") {
            return true;
        }
    }
    false
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    /// As generated.
    Pristine,
    Edited,
    Missing,
    /// Holds the conflict markers of an upgrade.
    Conflicted,
}

#[derive(Debug, Clone)]
pub struct FileStatus {
    pub path: String,
    pub state: FileState,
    pub migration: bool,
    /// The pristine copy is missing or does not match the recorded hash.
    pub bad_copy: bool,
}

#[derive(Debug, Clone)]
pub struct InjectionStatus {
    pub injection: Injection,
    /// Whether the registered line is in its file.
    pub present: bool,
}

/// How a module differs from what the current templates render.
#[derive(Debug, Clone, Default)]
pub struct Behind {
    /// The fingerprint recorded, when it is not the current one.
    pub templates: Option<String>,
    /// Files (not migrations) whose output changed, appeared or is no longer generated.
    pub files: Vec<String>,
    /// Registration lines that changed, as `file (marker)`.
    pub injections: Vec<String>,
    /// The migration would render differently. Not a reason to upgrade: migrations are
    /// history, which `upgrade` leaves alone.
    pub migration: bool,
    /// The module cannot be rendered any more.
    pub error: Option<String>,
    /// The table's shape, when older than the one the code is rendered for: `upgrade`
    /// writes the migration.
    pub shape: Option<u32>,
}

impl Behind {
    pub fn is_behind(&self) -> bool {
        self.templates.is_some()
            || self.shape.is_some()
            || !self.files.is_empty()
            || !self.injections.is_empty()
            || self.error.is_some()
    }
}

#[derive(Debug, Clone)]
pub struct ModuleStatus {
    pub name: String,
    pub record: ModuleRecord,
    pub folder: PathBuf,
    pub folder_exists: bool,
    pub files: Vec<FileStatus>,
    pub injections: Vec<InjectionStatus>,
    pub behind: Behind,
}

impl ModuleStatus {
    pub fn files_in(&self, state: FileState) -> impl Iterator<Item = &FileStatus> {
        self.files.iter().filter(move |f| f.state == state)
    }

    /// `pristine`, or what is not: `edited by hand, behind the templates`.
    pub fn summary(&self) -> String {
        let mut words = Vec::new();
        if self.files_in(FileState::Conflicted).next().is_some()
            || !self.record.conflicts.is_empty()
        {
            words.push("upgrade conflicts");
        }
        if self.files_in(FileState::Missing).next().is_some()
            || self.injections.iter().any(|i| !i.present)
        {
            words.push("incomplete");
        }
        if self.files_in(FileState::Edited).next().is_some() {
            words.push("edited by hand");
        }
        if self.behind.is_behind() {
            words.push("behind the templates");
        }
        if words.is_empty() {
            "pristine".to_string()
        } else {
            words.join(", ")
        }
    }
}

/// Every recorded module, compared with the tree and with the current templates.
pub fn statuses(ws: &Workspace) -> anyhow::Result<Vec<ModuleStatus>> {
    let renderer = ws.renderer()?;
    let fingerprint = renderer.templates().fingerprint();
    let modules: Vec<String> = ws.manifest.modules.keys().cloned().collect();
    let plans = ws.render(&renderer, &modules)?;
    let mut all = Vec::new();
    for (name, record) in &ws.manifest.modules {
        let mut files = Vec::new();
        for (path, hash) in &record.files {
            let state = match ws.read(path) {
                None => FileState::Missing,
                Some(text) if digest::hash(&text) == *hash => FileState::Pristine,
                Some(text) if has_conflict_markers(&text) => FileState::Conflicted,
                Some(_) => FileState::Edited,
            };
            files.push(FileStatus {
                path: path.clone(),
                state,
                migration: ws.is_migration(path),
                bad_copy: ws.pristine(name, path).is_none(),
            });
        }
        let mut texts: BTreeMap<&str, Option<String>> = BTreeMap::new();
        let injections = record
            .injections
            .iter()
            .map(|injection| {
                let text = texts
                    .entry(&injection.file)
                    .or_insert_with(|| ws.read(&injection.file));
                let present = text
                    .as_deref()
                    .is_some_and(|text| apply::find_block(text, &injection.line).is_some());
                InjectionStatus {
                    injection: injection.clone(),
                    present,
                }
            })
            .collect();
        let behind = match &plans[name] {
            Ok(plan) => behind(ws, record, plan, &fingerprint),
            Err(error) => Behind {
                error: Some(error.clone()),
                ..Behind::default()
            },
        };
        let folder = ws.module_dir(name);
        all.push(ModuleStatus {
            name: name.clone(),
            record: record.clone(),
            folder_exists: ws.root().join(&folder).is_dir(),
            folder,
            files,
            injections,
            behind,
        });
    }
    Ok(all)
}

fn behind(ws: &Workspace, record: &ModuleRecord, plan: &Plan, fingerprint: &str) -> Behind {
    let mut behind = Behind {
        templates: (record.templates != fingerprint).then(|| record.templates.clone()),
        shape: (record.shape < TABLE_SHAPE).then_some(record.shape),
        ..Behind::default()
    };
    let mut rendered = BTreeSet::new();
    for op in &plan.ops {
        match op {
            Op::CreateFile { path, content } => {
                let path = manifest::slash_path(path);
                let same = record.files.get(&path) == Some(&digest::hash(content));
                if !same {
                    if ws.is_migration(&path) {
                        behind.migration = true;
                    } else {
                        behind.files.push(path.clone());
                    }
                }
                rendered.insert(path);
            }
            Op::Inject { path, marker, line } => {
                let file = manifest::slash_path(path);
                let recorded = record
                    .injections
                    .iter()
                    .find(|i| i.file == file && i.marker == *marker);
                if recorded.is_none_or(|i| i.line != *line) {
                    behind.injections.push(format!("{file} ({marker})"));
                }
            }
        }
    }
    for path in record.files.keys() {
        if !rendered.contains(path) && !ws.is_migration(path) {
            behind.files.push(path.clone());
        }
    }
    for injection in &record.injections {
        let still = plan.ops.iter().any(|op| {
            matches!(op, Op::Inject { path, marker, .. }
                if manifest::slash_path(path) == injection.file && *marker == injection.marker)
        });
        if !still {
            behind
                .injections
                .push(format!("{} ({})", injection.file, injection.marker));
        }
    }
    behind
}

/// Where the manifest and the tree disagree outside any one module's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeFinding {
    /// A module folder that the manifest does not list and scaffold.toml does not call
    /// hand-written.
    Unrecorded(PathBuf),
    /// A pristine copy that no recorded file owns.
    StrayCopy(PathBuf),
}

impl fmt::Display for TreeFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unrecorded(dir) => {
                let name = dir.file_name().unwrap_or_default().to_string_lossy();
                write!(
                    f,
                    "{}: module folder not in {}; if scaffold generated it, run `{}` with its \
                     fields again to record it; if it is written by hand, add \"{name}\" to \
                     `hand_written` under [check] in scaffold.toml",
                    dir.display(),
                    manifest::FILE,
                    crate::input::hints::scaffold(&format!("new module {name}"))
                )
            }
            Self::StrayCopy(path) => write!(
                f,
                "{}: pristine copy of a file the manifest does not record; delete it",
                path.display()
            ),
        }
    }
}

pub fn tree_findings(ws: &Workspace) -> anyhow::Result<Vec<TreeFinding>> {
    let mut findings = Vec::new();
    let modules_dir = &ws.project.config.paths.modules;
    let hand_written = &ws.project.config.check.hand_written;
    if let Ok(entries) = fs::read_dir(ws.root().join(modules_dir)) {
        let mut folders: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|entry| entry.path().is_dir())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| !name.starts_with('.'))
            .collect();
        folders.sort();
        for folder in folders {
            if !ws.manifest.modules.contains_key(&folder) && !hand_written.contains(&folder) {
                findings.push(TreeFinding::Unrecorded(modules_dir.join(folder)));
            }
        }
    }
    let copies_dir = ws.root().join(manifest::PRISTINE_DIR);
    let mut stack = vec![copies_dir];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path.strip_prefix(ws.root()).unwrap_or(&path).to_path_buf();
            let file = path
                .strip_prefix(ws.root().join(manifest::PRISTINE_DIR))
                .ok()
                .map(manifest::slash_path)
                .and_then(|p| {
                    p.strip_suffix(manifest::PRISTINE_SUFFIX)
                        .map(str::to_string)
                });
            let owned = file.is_some_and(|file| ws.manifest.owner_of(&file).is_some());
            if !owned {
                findings.push(TreeFinding::StrayCopy(relative));
            }
        }
    }
    findings.sort_by_key(|f| f.to_string());
    Ok(findings)
}

/// Files as a command changes them, in memory; nothing is written until the end, in one
/// staged commit.
#[derive(Debug, Default)]
pub struct Edits {
    /// Path -> (on disk, as it will be); `None` for no file.
    files: BTreeMap<String, (Option<String>, Option<String>)>,
}

impl Edits {
    /// The file as it stands with the edits so far.
    pub fn current(&mut self, ws: &Workspace, path: &str) -> Option<String> {
        self.entry(ws, path).1.clone()
    }

    pub fn set(&mut self, ws: &Workspace, path: &str, text: Option<String>) {
        self.entry(ws, path).1 = text;
    }

    fn entry(&mut self, ws: &Workspace, path: &str) -> &mut (Option<String>, Option<String>) {
        self.files.entry(path.to_string()).or_insert_with(|| {
            let text = ws.read(path);
            (text.clone(), text)
        })
    }

    /// Every file that changes: (path, before, after).
    pub fn changed(&self) -> impl Iterator<Item = (&str, Option<&str>, Option<&str>)> {
        self.files
            .iter()
            .filter(|(_, (old, new))| old != new)
            .map(|(path, (old, new))| (path.as_str(), old.as_deref(), new.as_deref()))
    }

    /// Absolute writes and removals for [`crate::write::stage::commit_all`]; an error if a file
    /// changed on disk since it was read (an editor saved it while a prompt waited, say).
    pub fn to_stage(
        &self,
        root: &Path,
    ) -> anyhow::Result<(Vec<crate::write::stage::Write>, Vec<PathBuf>)> {
        let mut writes = Vec::new();
        let mut removals = Vec::new();
        for (path, old, new) in self.changed() {
            if manifest::read_text(&root.join(path)).as_deref() != old {
                anyhow::bail!(
                    "{path} changed while scaffold was running; nothing was written, run the \
                     command again"
                );
            }
            match new {
                Some(text) => writes.push(crate::write::stage::Write {
                    path: root.join(path),
                    content: text.as_bytes().to_vec(),
                }),
                None => removals.push(root.join(path)),
            }
        }
        Ok((writes, removals))
    }
}

/// Removes the folders that removals left empty, but never a configured folder.
pub fn prune(ws: &Workspace, removals: &[PathBuf]) {
    let config = &ws.project.config;
    let keep: Vec<PathBuf> = [
        &config.paths.modules,
        &config.paths.migrations,
        &config.paths.src,
    ]
    .iter()
    .map(|dir| ws.root().join(dir))
    .collect();
    crate::write::stage::prune_empty_dirs(removals.iter().map(PathBuf::as_path), ws.root(), &keep);
}

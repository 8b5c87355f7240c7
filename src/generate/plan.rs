//! Spec + templates -> the list of file operations, rendered in memory. Pure: the caller
//! passes in what it read from disk (existing migration names) and the time.

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::generate::context::ModuleContext;
use crate::generate::render::{RenderError, Renderer};
use crate::input::project::{Config, JsonCase};
use crate::input::spec::ModuleSpec;

pub const MODULE_PREFIX: &str = "module/";
pub const INJECT_PREFIX: &str = "inject/";
pub const MIGRATION_TEMPLATE: &str = "migration.sql.tera";
/// A link's (`scaffold new link`) counterparts of the three above.
pub const LINK_PREFIX: &str = "link/";
pub const LINK_INJECT_PREFIX: &str = "link_inject/";
pub const LINK_MIGRATION_TEMPLATE: &str = "link_migration.sql.tera";

/// The templates a spec renders from: a module's, or a link's.
struct Kind {
    files: &'static str,
    inject: &'static str,
    migration: &'static str,
}

impl Kind {
    fn of(spec: &ModuleSpec) -> Self {
        if spec.link.is_some() {
            Kind {
                files: LINK_PREFIX,
                inject: LINK_INJECT_PREFIX,
                migration: LINK_MIGRATION_TEMPLATE,
            }
        } else {
            Kind {
                files: MODULE_PREFIX,
                inject: INJECT_PREFIX,
                migration: MIGRATION_TEMPLATE,
            }
        }
    }
}

/// Paths are relative to the project root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    CreateFile {
        path: PathBuf,
        content: String,
    },
    /// Insert `line` (one or more lines, without indentation) above the line holding
    /// `// <marker>` in `path`, indented like the marker.
    Inject {
        path: PathBuf,
        marker: String,
        line: String,
    },
}

impl Op {
    pub fn path(&self) -> &Path {
        match self {
            Self::CreateFile { path, .. } | Self::Inject { path, .. } => path,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub ops: Vec<Op>,
}

impl fmt::Display for Plan {
    /// Every operation in full, for snapshots.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for op in &self.ops {
            match op {
                Op::CreateFile { path, content } => {
                    writeln!(f, "==> create {}", path.display())?;
                    f.write_str(content)?;
                    if !content.ends_with('\n') {
                        writeln!(f, "\n(no newline at end of file)")?;
                    }
                }
                Op::Inject { path, marker, line } => {
                    writeln!(f, "==> inject {} above `{marker}`", path.display())?;
                    writeln!(f, "{line}")?;
                }
            }
        }
        Ok(())
    }
}

/// A migration version: the `YYYYMMDDHHMMSS` number sqlx orders migrations by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MigrationVersion(pub u64);

impl MigrationVersion {
    pub fn at(time: DateTime<Utc>) -> Self {
        let digits = time.format("%Y%m%d%H%M%S").to_string();
        Self(digits.parse().expect("a formatted timestamp is a number"))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(
        "scaffold.toml registers `{0}`, but there is no template {1}; add the template or \
         remove the entry from [registration]"
    )]
    NoInjectTemplate(String, String),
    #[error(
        "template inject/{0}.tera has no registration point; add `{0} = \"<file with a \
         // scaffold:{0} line>\"` under [registration] in scaffold.toml"
    )]
    Unregistered(String),
}

pub fn plan(
    spec: &ModuleSpec,
    renderer: &Renderer,
    config: &Config,
    existing_migrations: &[String],
    now: MigrationVersion,
) -> Result<Plan, PlanError> {
    let context = ModuleContext::new(spec, config.api.json_case).to_tera();
    let names: Vec<&str> = renderer.templates().names().collect();
    let mut ops = Vec::new();
    let kind = Kind::of(spec);

    let module_dir = config.paths.modules.join(&spec.names.module);
    for name in &names {
        let Some(relative) = name.strip_prefix(kind.files) else {
            continue;
        };
        let file_name = relative.rsplit('/').next().unwrap_or(relative);
        if file_name.starts_with('_') {
            continue;
        }
        let content = renderer.render(name, &context)?;
        if !content.trim().is_empty() {
            let output = relative.strip_suffix(".tera").unwrap_or(relative);
            ops.push(Op::CreateFile {
                path: module_dir.join(output),
                content,
            });
        }
    }

    if let Some(content) = render_migration(renderer, kind.migration, &context)? {
        let file = migration_file_name(&spec.names.module, existing_migrations, now);
        ops.push(Op::CreateFile {
            path: config.paths.migrations.join(file),
            content,
        });
    }

    for name in &names {
        let Some(point) = name
            .strip_prefix(INJECT_PREFIX)
            .and_then(|rest| rest.strip_suffix(".tera"))
        else {
            continue;
        };
        if !config.registration.contains_key(point) {
            return Err(PlanError::Unregistered(point.to_string()));
        }
    }
    for (point, path) in &config.registration {
        let template = format!("{}{point}.tera", kind.inject);
        if !renderer.has(&template) {
            return Err(PlanError::NoInjectTemplate(point.clone(), template));
        }
        let line = renderer.render(&template, &context)?;
        let line = line.trim_matches('\n');
        if !line.trim().is_empty() {
            ops.push(Op::Inject {
                path: path.clone(),
                marker: format!("scaffold:{point}"),
                line: line.to_string(),
            });
        }
    }
    Ok(Plan { ops })
}

/// The migration that creates `spec`'s table, if the templates have one.
pub fn create_migration(
    spec: &ModuleSpec,
    renderer: &Renderer,
    case: JsonCase,
) -> Result<Option<String>, PlanError> {
    let context = ModuleContext::new(spec, case).to_tera();
    render_migration(renderer, Kind::of(spec).migration, &context)
}

fn render_migration(
    renderer: &Renderer,
    template: &str,
    context: &tera::Context,
) -> Result<Option<String>, PlanError> {
    if !renderer.has(template) {
        return Ok(None);
    }
    Ok(Some(renderer.render(template, context)?))
}

/// Puts `content` in place of the create migration's in `plan`.
pub fn replace_create_migration(plan: &mut Plan, migrations: &Path, content: String) {
    for op in &mut plan.ops {
        if let Op::CreateFile { path, content: old } = op
            && path.parent() == Some(migrations)
        {
            *old = content;
            return;
        }
    }
}

/// `<version>_create_<table>.sql`. An existing migration for the table keeps its name, so
/// that generating again is idempotent; a new one always sorts after every existing one, so
/// that a table is created after the tables it refers to.
pub fn migration_file_name(table: &str, existing: &[String], now: MigrationVersion) -> String {
    let created = existing.iter().find(|file| {
        file.split_once('_').is_some_and(|(version, rest)| {
            version.parse::<u64>().is_ok()
                && rest.strip_suffix(".sql") == Some(&format!("create_{table}"))
        })
    });
    match created {
        Some(file) => file.clone(),
        None => format!("{}_create_{table}.sql", next_version(existing, now).0),
    }
}

/// The version for a new migration: `now`, or just after the newest existing one if that is
/// not earlier, so that the new one always runs last.
pub fn next_version(existing: &[String], now: MigrationVersion) -> MigrationVersion {
    let newest = existing
        .iter()
        .filter_map(|file| file.split_once('_')?.0.parse::<u64>().ok())
        .max();
    match newest {
        Some(newest) if newest >= now.0 => MigrationVersion(newest + 1),
        _ => now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: MigrationVersion = MigrationVersion(20250301120000);

    fn files(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_the_create_migration_is_replaced() {
        let create = |path: &str, content: &str| Op::CreateFile {
            path: PathBuf::from(path),
            content: content.to_owned(),
        };
        let mut plan = Plan {
            ops: vec![
                create("src/modules/tasks/mod.rs", "mod models;"),
                create(
                    "migrations/tenant/20250301120000_create_tasks.sql",
                    "as changed",
                ),
            ],
        };
        let migrations = Path::new("migrations/tenant");
        replace_create_migration(&mut plan, migrations, "as created".to_owned());
        assert_eq!(
            plan.ops,
            [
                create("src/modules/tasks/mod.rs", "mod models;"),
                create(
                    "migrations/tenant/20250301120000_create_tasks.sql",
                    "as created"
                ),
            ]
        );
    }

    #[test]
    fn new_migrations_use_the_time() {
        let existing = files(&["20240101000000_create_users.sql", "README.md"]);
        assert_eq!(
            migration_file_name("tasks", &existing, NOW),
            "20250301120000_create_tasks.sql"
        );
    }

    #[test]
    fn existing_migration_names_are_kept() {
        let existing = files(&[
            "20240101000000_create_user_tasks.sql",
            "20240102000000_create_tasks.sql",
        ]);
        assert_eq!(
            migration_file_name("tasks", &existing, NOW),
            "20240102000000_create_tasks.sql"
        );
    }

    #[test]
    fn new_migrations_sort_after_existing_ones() {
        let existing = files(&["20990101000000_create_users.sql"]);
        assert_eq!(
            migration_file_name("tasks", &existing, NOW),
            "20990101000001_create_tasks.sql"
        );
    }

    #[test]
    fn version_from_time() {
        let time = DateTime::parse_from_rfc3339("2025-03-01T12:00:00Z").unwrap();
        assert_eq!(MigrationVersion::at(time.to_utc()), NOW);
    }
}

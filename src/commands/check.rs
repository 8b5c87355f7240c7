//! `scaffold check`: for CI. One line per problem and exit 1, or one summary line and exit 0.
//! Hand edits are not problems; `scaffold list` shows them.

use std::path::Path;

use crate::input::hints;
use crate::input::spec::TABLE_SHAPE;
use crate::write::lifecycle::{self, FileState, ModuleStatus, Workspace};
use crate::write::manifest;

pub fn run(start: &Path) -> anyhow::Result<()> {
    let ws = Workspace::open(start)?;
    let statuses = lifecycle::statuses(&ws)?;
    let mut findings: Vec<String> = statuses.iter().flat_map(findings).collect();
    findings.extend(
        lifecycle::tree_findings(&ws)?
            .iter()
            .map(ToString::to_string),
    );
    if !findings.is_empty() {
        for finding in &findings {
            println!("{finding}");
        }
        anyhow::bail!(
            "scaffold check found {} problem(s), listed above",
            findings.len()
        );
    }
    let edited = statuses
        .iter()
        .flat_map(|s| s.files_in(FileState::Edited))
        .count();
    let edited = match edited {
        0 => String::new(),
        n => format!(
            "; {n} file(s) edited by hand (see `{}`)",
            hints::scaffold("list")
        ),
    };
    println!(
        "scaffold check: ok, {} module(s) as recorded in {} and current with the templates{edited}",
        statuses.len(),
        manifest::FILE
    );
    Ok(())
}

/// One line per problem with a module: what is wrong, and how to fix it.
pub fn findings(status: &ModuleStatus) -> Vec<String> {
    let name = &status.name;
    let upgrade = hints::scaffold(&format!("upgrade {name}"));
    let mut out = Vec::new();
    if !status.folder_exists {
        out.push(format!(
            "{}: folder of module `{name}` is gone but {} records it; `{}` removes the rest, \
             `{}` restores it",
            status.folder.display(),
            manifest::FILE,
            hints::scaffold(&format!("destroy module {name}")),
            upgrade,
        ));
    }
    for file in &status.files {
        let gone_with_folder =
            !status.folder_exists && Path::new(&file.path).starts_with(&status.folder);
        match file.state {
            FileState::Missing if !gone_with_folder => out.push(format!(
                "{}: generated file of `{name}` is missing; `{upgrade}` restores it",
                file.path
            )),
            FileState::Conflicted => out.push(format!(
                "{}: unresolved conflict markers from `scaffold upgrade`; resolve them, then run \
                 `{upgrade}` again",
                file.path
            )),
            _ => {}
        }
        if file.bad_copy && file.state != FileState::Missing {
            out.push(format!(
                "{}: pristine copy of {} is missing or altered (upgrade merges from it); \
                 restore it from version control",
                manifest::pristine_path(&file.path).display(),
                file.path
            ));
        }
    }
    for path in status.record.conflicts.keys() {
        let marked = status
            .files
            .iter()
            .any(|f| f.path == *path && f.state == FileState::Conflicted);
        if !marked {
            out.push(format!(
                "{path}: upgrade conflict resolved but not recorded; run `{upgrade}`"
            ));
        }
    }
    for injection in status.injections.iter().filter(|i| !i.present) {
        let i = &injection.injection;
        out.push(format!(
            "{}: registration line of `{name}` is missing: `{}` above `// {}`; `{upgrade}` \
             puts it back",
            i.file,
            i.line.replace('\n', " "),
            i.marker
        ));
    }
    let behind = &status.behind;
    if let Some(shape) = behind.shape {
        out.push(format!(
            "{name}: its table has shape {shape}, older than the shape {TABLE_SHAPE} the current \
             templates need; run `{upgrade}`, which writes the migration"
        ));
    }
    if let Some(error) = &behind.error {
        out.push(format!("{name}: cannot be rendered again: {error}"));
    } else if !behind.files.is_empty() || !behind.injections.is_empty() {
        let mut what = behind.files.clone();
        what.extend(behind.injections.iter().cloned());
        out.push(format!(
            "{name}: behind the current templates, which render {} differently; run \
             `{upgrade}`",
            what.join(", ")
        ));
    } else if let Some(recorded) = &behind.templates {
        out.push(format!(
            "{name}: rendered with templates {recorded}, which have changed since (its files \
             would not); run `{upgrade}` to record that"
        ));
    }
    out
}

//! `scaffold list`: every generated module, its fields, and whether it is pristine, edited by
//! hand or behind the current templates.

use std::path::Path;

use console::style;

use crate::input::hints;
use crate::input::spec::TABLE_SHAPE;
use crate::write::lifecycle::{self, FileState, ModuleStatus, TreeFinding, Workspace};
use crate::write::manifest;

pub fn run(start: &Path) -> anyhow::Result<()> {
    let ws = Workspace::open(start)?;
    let statuses = lifecycle::statuses(&ws)?;
    if statuses.is_empty() {
        println!(
            "no generated modules in {}; generate one with `{}`",
            manifest::FILE,
            hints::scaffold("new module <name> [field]...")
        );
    }
    for status in &statuses {
        print!("{}", describe(status));
    }
    let hand_written = &ws.project.config.check.hand_written;
    if !hand_written.is_empty() {
        println!("\nwritten by hand: {}", hand_written.join(", "));
    }
    let unrecorded: Vec<String> = lifecycle::tree_findings(&ws)?
        .into_iter()
        .filter_map(|finding| match finding {
            TreeFinding::Unrecorded(dir) => Some(dir.display().to_string()),
            TreeFinding::StrayCopy(_) => None,
        })
        .collect();
    if !unrecorded.is_empty() {
        println!("not in the manifest: {}", unrecorded.join(", "));
    }
    Ok(())
}

/// A module's block: its name and state, then one line per detail.
pub fn describe(status: &ModuleStatus) -> String {
    let summary = status.summary();
    let styled = if summary == "pristine" {
        style(summary).green()
    } else {
        style(summary).yellow()
    };
    let mut out = format!("{}  {styled}\n", style(&status.name).bold());
    let words = status.record.words();
    let fields = if words.fields.is_empty() {
        "(none)".to_string()
    } else {
        words.fields.join(", ")
    };
    let mut line = |label: &str, text: &str| {
        out.push_str(&format!("  {label:<9} {text}\n"));
    };
    line("fields", &fields);
    line(
        "command",
        &format!("scaffold {}", status.record.generate_command()),
    );
    let paths = |state| -> Vec<&str> {
        status
            .files_in(state)
            .map(|file| file.path.as_str())
            .collect()
    };
    for path in paths(FileState::Edited) {
        line("edited", path);
    }
    for path in paths(FileState::Conflicted) {
        line("conflict", &format!("{path} (resolve the markers)"));
    }
    for path in paths(FileState::Missing) {
        line("missing", path);
    }
    for injection in status.injections.iter().filter(|i| !i.present) {
        let i = &injection.injection;
        line("missing", &format!("{} line `{}`", i.file, i.line));
    }
    let behind = &status.behind;
    if let Some(error) = &behind.error {
        line("broken", &format!("cannot render it again: {error}"));
    } else if behind.is_behind() {
        let mut what: Vec<String> = behind.files.clone();
        what.extend(behind.injections.iter().cloned());
        if let Some(shape) = behind.shape {
            what.push(format!("its table (shape {shape}, not {TABLE_SHAPE})"));
        }
        let text = if what.is_empty() {
            "templates changed since; its files would not change".to_string()
        } else {
            what.join(", ")
        };
        line(
            "behind",
            &format!(
                "{text}; run `{}`",
                hints::scaffold(&format!("upgrade {}", status.name))
            ),
        );
    }
    if behind.migration {
        line(
            "note",
            "the templates now render its migration differently; migrations are left as they \
             were applied",
        );
    }
    out
}

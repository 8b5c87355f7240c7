//! What the user reads: one coloured line per file, unified diffs, next steps, and the one
//! question about a conflicting file. Results go to stdout (the question to stderr, as
//! dialoguer does); console drops the colours when stdout is not a terminal or `NO_COLOR` is
//! set.

use std::fmt::Write as _;

use console::{Style, style};
use dialoguer::Select;
use similar::TextDiff;

use crate::write::apply::{ApplyError, Choice, FileChange, Status};

pub fn status_style(status: Status) -> Style {
    let style = Style::new().bold();
    match status {
        Status::Create => style.green(),
        Status::Identical => style.blue(),
        Status::Conflict => style.red(),
        Status::Overwrite => style.magenta(),
        Status::Inject => style.cyan(),
        Status::Skip => style.yellow(),
    }
}

/// `     create  src/modules/tasks/mod.rs`, labels right-aligned as Rails does.
pub fn status_line(change: &FileChange) -> String {
    let label = status_style(change.status).apply_to(format!("{:>9}", change.status.label()));
    format!("{label}  {}", change.path.display())
}

/// The change as a unified diff, coloured; empty when nothing changes.
pub fn diff(change: &FileChange) -> String {
    file_diff(&change.path, change.old.as_deref(), Some(&change.new))
}

fn colour_diff(text: &str) -> String {
    let mut coloured = String::with_capacity(text.len());
    for line in text.lines() {
        let styled = if line.starts_with("+++") || line.starts_with("---") {
            style(line).bold()
        } else if line.starts_with('+') {
            style(line).green()
        } else if line.starts_with('-') {
            style(line).red()
        } else if line.starts_with("@@") {
            style(line).cyan()
        } else {
            style(line)
        };
        let _ = writeln!(coloured, "{styled}");
    }
    coloured
}

/// Every file's status, and with `diffs` the change each would make.
pub fn print_changes(changes: &[FileChange], diffs: bool) {
    for change in changes {
        println!("{}", status_line(change));
        if diffs {
            print!("{}", diff(change));
        }
    }
}

pub fn print_dry_run_summary(changes: &[FileChange]) {
    let conflicts = changes
        .iter()
        .filter(|c| c.status == Status::Conflict)
        .count();
    println!();
    if conflicts > 0 {
        println!(
            "dry run: nothing written; {conflicts} conflicting file(s) would need --force or a \
             choice on a terminal"
        );
    } else {
        println!("dry run: nothing written");
    }
}

/// `module_tests`: the command that runs only the new module's tests, when it has some.
pub fn print_next_steps(changes: &[FileChange], module_tests: Option<String>) {
    if !changes.iter().any(|c| c.status.writes()) {
        println!("\nnothing to do: every file is already as generated");
        return;
    }
    print_migrate_steps(module_tests);
}

/// What to run after a new migration: apply it, then the module's own tests (seconds: no
/// integration test binary is built), then the whole suite.
pub fn print_migrate_steps(module_tests: Option<String>) {
    println!("\nnext steps:");
    let mut steps = vec![(
        crate::input::hints::cargo_run("migrate"),
        "apply the new migration to every tenant",
    )];
    if let Some(command) = module_tests {
        steps.push((command, "run the module's own tests"));
    }
    steps.push((
        crate::input::hints::cargo_test(),
        "run the whole suite, the module's tests among them",
    ));
    let width = steps
        .iter()
        .map(|(command, _)| command.len())
        .max()
        .unwrap_or(0);
    for (command, what) in steps {
        println!("  {command:<width$}   {what}");
    }
}

/// `    merge  src/modules/tasks/service.rs`: a lifecycle command's line about one file, the
/// label coloured by what it means.
pub fn action_line(label: &str, what: &str) -> String {
    let style = Style::new().bold();
    let style = match label {
        "create" | "restore" | "update" | "merge" | "record" | "resolved" => style.green(),
        "identical" | "unchanged" => style.blue(),
        "conflict" => style.red(),
        "remove" => style.magenta(),
        "keep" | "missing" | "skip" => style.yellow(),
        "inject" => style.cyan(),
        _ => style,
    };
    format!("{}  {what}", style.apply_to(format!("{label:>9}")))
}

/// A unified diff of one file from `old` to `new` (either may be absent), coloured.
pub fn file_diff(path: &std::path::Path, old: Option<&str>, new: Option<&str>) -> String {
    let before = match old {
        Some(_) => format!("a/{}", path.display()),
        None => "/dev/null".to_string(),
    };
    let after = match new {
        Some(_) => format!("b/{}", path.display()),
        None => "/dev/null".to_string(),
    };
    let (old, new) = (old.unwrap_or(""), new.unwrap_or(""));
    if old == new {
        return String::new();
    }
    let text = if old.is_empty() {
        all_added(&before, &after, new)
    } else {
        TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(3)
            .header(&before, &after)
            .to_string()
    };
    colour_diff(&text)
}

/// What `similar` writes for a diff from nothing to `new`, without diffing: a new module's
/// files are most of what `--dry-run` prints.
fn all_added(before: &str, after: &str, new: &str) -> String {
    let lines = new.split_inclusive('\n').count();
    let mut text = String::with_capacity(new.len() + lines + 64);
    // A range of one line is written without its length.
    let range = if lines == 1 {
        "1".to_string()
    } else {
        format!("1,{lines}")
    };
    let _ = writeln!(text, "--- {before}\n+++ {after}\n@@ -0,0 +{range} @@");
    for line in new.split_inclusive('\n') {
        text.push('+');
        text.push_str(line);
    }
    if !new.ends_with('\n') {
        text.push_str("\n\\ No newline at end of file\n");
    }
    text
}

/// Overwrite, skip or abort for one conflicting file, showing the diff on request.
pub fn ask_conflict(change: &FileChange) -> Result<Choice, ApplyError> {
    let items = ["overwrite", "skip", "show diff", "abort"];
    loop {
        let picked = Select::new()
            .with_prompt(format!(
                "{} differs from the generated file",
                change.path.display()
            ))
            .items(items)
            .default(1)
            .interact()
            .map_err(|error| ApplyError::Prompt(error.to_string()))?;
        match items[picked] {
            "overwrite" => return Ok(Choice::Overwrite),
            "skip" => return Ok(Choice::Skip),
            "show diff" => eprint!("{}", diff(change)),
            _ => return Ok(Choice::Abort),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_reads_as_similar_would_write_it() {
        for new in ["a\n", "a\nb", "\n", "a\n\nb\n", "x", "one\ntwo\nthree\n"] {
            let expected = TextDiff::from_lines("", new)
                .unified_diff()
                .context_radius(3)
                .header("/dev/null", "b/f.rs")
                .to_string();
            assert_eq!(all_added("/dev/null", "b/f.rs", new), expected, "{new:?}");
        }
    }
}

//! What the user reads: one coloured line per file, unified diffs, next steps. Results go
//! to stdout; console drops the colours when stdout is not a terminal or `NO_COLOR` is set.

use console::{Style, style};
use similar::TextDiff;

use crate::apply::{Change, Status};

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
pub fn status_line(change: &Change) -> String {
    let label = status_style(change.status).apply_to(format!("{:>9}", change.status.label()));
    format!("{label}  {}", change.path.display())
}

/// The change as a unified diff, coloured; empty when nothing changes.
pub fn diff(change: &Change) -> String {
    file_diff(&change.path, change.old.as_deref(), Some(&change.new))
}

fn colour_diff(text: &str) -> String {
    text.lines()
        .map(|line| {
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
            format!("{styled}\n")
        })
        .collect()
}

/// Every file's status, and with `diffs` the change each would make.
pub fn print_changes(changes: &[Change], diffs: bool) {
    for change in changes {
        println!("{}", status_line(change));
        if diffs {
            print!("{}", diff(change));
        }
    }
}

pub fn print_dry_run_summary(changes: &[Change]) {
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

pub fn print_next_steps(changes: &[Change]) {
    if !changes.iter().any(|c| c.status.writes()) {
        println!("\nnothing to do: every file is already as generated");
        return;
    }
    print_migrate_steps();
}

/// What to run after a new migration: apply it, then the module's tests.
pub fn print_migrate_steps() {
    println!("\nnext steps:");
    let steps = [
        (
            crate::hints::cargo_run("migrate"),
            "apply the new migration to every tenant",
        ),
        (
            crate::hints::cargo_test(),
            "run the tests, the new module's among them",
        ),
    ];
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
    let text = TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&before, &after)
        .to_string();
    colour_diff(&text)
}

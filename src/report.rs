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
    let old = change.old.as_deref().unwrap_or("");
    if old == change.new {
        return String::new();
    }
    let path = change.path.display().to_string();
    let before = match change.old {
        Some(_) => format!("a/{path}"),
        None => "/dev/null".to_string(),
    };
    let text = TextDiff::from_lines(old, &change.new)
        .unified_diff()
        .context_radius(3)
        .header(&before, &format!("b/{path}"))
        .to_string();
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
    println!("\nnext steps:");
    println!("  cargo run -- migrate     apply the new migration to every tenant");
    println!("  cargo test               run the module's generated tests");
}

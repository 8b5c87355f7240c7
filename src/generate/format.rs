//! Generated Rust is run through rustfmt before it is compared with the disk, so that what
//! lands passes `cargo fmt --check` whatever the names' lengths, and templates can be written
//! for reading rather than for rustfmt's line-width rules.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::generate::plan::{Op, Plan};
use crate::generate::render::{Origin, TemplateSet};

#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error(
        "cannot run `{program}` ({source}): scaffold formats the Rust it writes with rustfmt; \
         install it with `rustup component add rustfmt`, or point RUSTFMT at it"
    )]
    Missing {
        program: String,
        source: std::io::Error,
    },
    #[error("rustfmt rejected {}:\n{message}", blame.join("; "))]
    Rejected {
        /// For each rejected file: the file and the template it was rendered from.
        blame: Vec<String>,
        message: String,
    },
    #[error("formatting in {dir}: {source}")]
    Io {
        dir: PathBuf,
        source: std::io::Error,
    },
}

/// Formats every `.rs` file the plan creates, in one rustfmt run, with the edition and the
/// rustfmt.toml that `cargo fmt` would use in `project_root`. `templates` are the ones the plan
/// was rendered with, so that a rejected file is blamed on its template: the project's own,
/// or a built-in one (then scaffold's bug).
pub fn format_rust(
    plan: &mut Plan,
    project_root: &Path,
    templates: &TemplateSet,
) -> Result<(), FormatError> {
    let rust: Vec<(usize, &str)> = plan
        .ops
        .iter()
        .enumerate()
        .filter_map(|(index, op)| match op {
            Op::CreateFile { path, content } if path.extension().is_some_and(|e| e == "rs") => {
                Some((index, content.as_str()))
            }
            _ => None,
        })
        .collect();
    if rust.is_empty() {
        return Ok(());
    }
    let scratch = scratch_dir()?;
    let io = |source| FormatError::Io {
        dir: scratch.path().to_path_buf(),
        source,
    };
    // Laid out as in the project: rustfmt follows `mod` declarations to sibling files.
    let files: Vec<(usize, PathBuf)> = rust
        .iter()
        .map(|(index, content)| {
            let file = scratch.path().join(plan.ops[*index].path());
            std::fs::create_dir_all(file.parent().unwrap_or(scratch.path()))?;
            std::fs::write(&file, content).map(|()| (*index, file))
        })
        .collect::<Result<_, _>>()
        .map_err(io)?;

    // rustfmt formats a file it is given and again each file a given one declares with
    // `mod`: given only the others, it does half the work for a module.
    let roots = rust
        .iter()
        .zip(&files)
        .filter(|((index, _), _)| !declared_by_sibling_mod(plan.ops[*index].path(), &rust, plan))
        .map(|(_, (_, file))| file);
    let program = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".to_owned());
    let mut command = Command::new(&program);
    command
        .arg("--edition")
        .arg(edition(project_root))
        .args(roots);
    if let Some(config) = rustfmt_config(project_root) {
        command.arg("--config-path").arg(config);
    }
    let output = command
        .output()
        .map_err(|source| FormatError::Missing { program, source })?;
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stderr)
            .replace(&format!("{}/", scratch.path().display()), "");
        let message = without_repeats(&message);
        let blame = rust
            .iter()
            .map(|(index, _)| plan.ops[*index].path())
            .filter(|path| message.contains(&format!("{}:", path.display())))
            .map(|path| blame(path, templates, project_root))
            .collect();
        return Err(FormatError::Rejected { blame, message });
    }
    for (index, file) in files {
        let formatted = std::fs::read_to_string(&file).map_err(io)?;
        if let Op::CreateFile { content, .. } = &mut plan.ops[index] {
            *content = formatted;
        }
    }
    Ok(())
}

/// Whether `path` (not a `mod.rs`) is declared by a `mod <stem>;` line of the `mod.rs` beside
/// it among the `rust` files the plan creates, so that rustfmt reaches it from there.
fn declared_by_sibling_mod(path: &Path, rust: &[(usize, &str)], plan: &Plan) -> bool {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    if stem == "mod" {
        return false;
    }
    let parent = path.with_file_name("mod.rs");
    rust.iter()
        .filter(|(index, _)| plan.ops[*index].path() == parent)
        .any(|(_, content)| content.lines().any(|line| declares_mod(line, &stem)))
}

/// `mod <stem>;`, `pub mod <stem>;`, `pub(crate) mod <stem>;`...
fn declares_mod(line: &str, stem: &str) -> bool {
    let mut rest = line.trim_start();
    if let Some(after) = rest.strip_prefix("pub") {
        rest = match after.strip_prefix('(') {
            Some(scope) => scope.split_once(')').map_or(after, |(_, rest)| rest),
            None => after,
        };
    }
    rest.trim_start() == format!("mod {stem};")
}

/// An empty folder for the copy that rustfmt formats: in memory (`/dev/shm`) unless TMPDIR
/// names another place. Creating its folders and files on a disk's file system (ext4) took as
/// much CPU as the rest of a `--dry-run`.
fn scratch_dir() -> Result<tempfile::TempDir, FormatError> {
    let shm = Path::new("/dev/shm");
    if std::env::var_os("TMPDIR").is_none()
        && shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return Ok(dir);
    }
    tempfile::tempdir().map_err(|source| FormatError::Io {
        dir: std::env::temp_dir(),
        source,
    })
}

/// `path, rendered from <template>`: module files come from `module/<file>.tera`.
fn blame(path: &Path, templates: &TemplateSet, project_root: &Path) -> String {
    let file = path.file_name().unwrap_or_default().to_string_lossy();
    let template = format!("module/{file}.tera");
    match templates.origin(&template) {
        Some(Origin::Project(source)) => format!(
            "{}, rendered from the project's template {}",
            path.display(),
            source
                .strip_prefix(project_root)
                .unwrap_or(source)
                .display()
        ),
        Some(Origin::Builtin) => format!(
            "{}, rendered from the built-in template {template} (a bug in scaffold: please \
             report it)",
            path.display()
        ),
        None => path.display().to_string(),
    }
}

/// rustfmt reaches a file both as an argument and through its parent's `mod` line, and then
/// reports the same error twice, with a line about the `mod` between: each diagnostic once.
/// A diagnostic starts at a line that starts with a letter (`error: ...`); its location and
/// source lines are indented or numbered.
fn without_repeats(message: &str) -> String {
    let mut diagnostics: Vec<String> = Vec::new();
    for line in message.lines() {
        let starts = line.starts_with(|c: char| c.is_ascii_alphabetic());
        match diagnostics.last_mut() {
            Some(last) if !starts => {
                last.push('\n');
                last.push_str(line);
            }
            _ => diagnostics.push(line.to_owned()),
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    diagnostics
        .into_iter()
        .filter(|d| !d.starts_with("Error writing files: failed to resolve mod"))
        .filter(|d| seen.insert(d.trim_end().to_owned()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The project's `package.edition`, as `cargo fmt` passes it; 2021 when it says nothing.
fn edition(project_root: &Path) -> String {
    let manifest = std::fs::read_to_string(project_root.join("Cargo.toml")).unwrap_or_default();
    manifest
        .parse::<toml::Table>()
        .ok()
        .and_then(|table| {
            let edition = table.get("package")?.get("edition")?.as_str()?;
            Some(edition.to_owned())
        })
        .unwrap_or_else(|| "2021".to_owned())
}

/// The nearest `rustfmt.toml` or `.rustfmt.toml` at or above the project, as rustfmt itself
/// would find for the project's files.
fn rustfmt_config(project_root: &Path) -> Option<PathBuf> {
    project_root.ancestors().find_map(|dir| {
        ["rustfmt.toml", ".rustfmt.toml"]
            .iter()
            .map(|name| dir.join(name))
            .find(|path| path.is_file())
    })
}

#[cfg(test)]
mod tests {
    use super::declares_mod;

    #[test]
    fn a_mod_line_declares_its_file_whatever_its_visibility() {
        for line in [
            "mod tests;",
            "pub mod tests;",
            "    pub(crate) mod tests;",
            "pub(in crate::modules) mod tests;",
        ] {
            assert!(declares_mod(line, "tests"), "{line}");
        }
        for line in [
            "// mod tests;",
            "mod tests_more;",
            "mod tests {",
            "pub fn mod_tests();",
        ] {
            assert!(!declares_mod(line, "tests"), "{line}");
        }
    }
}

//! A plan meets the disk: each file is `create`, `identical`, `conflict` or `inject`; a
//! conflict is refused, overwritten or asked about; then everything is written at once.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::generate::plan::{Op, Plan};
use crate::write::stage::{self, StageError, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Create,
    Identical,
    /// Exists with other content; nothing is written until it is resolved.
    Conflict,
    /// A conflict resolved by replacing the file.
    Overwrite,
    Inject,
    /// A conflict resolved by leaving the file alone.
    Skip,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Identical => "identical",
            Self::Conflict => "conflict",
            Self::Overwrite => "overwrite",
            Self::Inject => "inject",
            Self::Skip => "skip",
        }
    }

    pub fn writes(self) -> bool {
        matches!(self, Self::Create | Self::Overwrite | Self::Inject)
    }
}

/// One file's fate. Injections into one file add up to one change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Relative to the project root.
    pub path: PathBuf,
    pub status: Status,
    /// What is on disk now, if anything.
    pub old: Option<String>,
    pub new: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("cannot read {}: {source}", .path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{}: {message}", .path.display())]
    Inject { path: PathBuf, message: String },
    #[error("{}", refusal_message(.blocked, .existing_module.as_deref()))]
    Refused {
        /// Conflicts, and files that would be added to an existing module.
        blocked: Vec<(Status, PathBuf)>,
        /// The module folder, when the module is already there.
        existing_module: Option<PathBuf>,
    },
    #[error("aborted; nothing was changed")]
    Aborted,
    #[error(
        "{} changed while scaffold was running; nothing was written, run the command again",
        .0.display()
    )]
    Changed(PathBuf),
    #[error("cannot ask: {0}")]
    Prompt(String),
    #[error(transparent)]
    Stage(#[from] StageError),
}

fn refusal_message(blocked: &[(Status, PathBuf)], existing_module: Option<&Path>) -> String {
    let mut text = match existing_module {
        Some(dir) => format!(
            "the module already exists in {}; generating it would change:\n",
            dir.display()
        ),
        None => "existing files differ from the generated ones:\n".to_string(),
    };
    for (status, path) in blocked {
        text.push_str(&format!("  {:>9}  {}\n", status.label(), path.display()));
    }
    text.push_str(
        "nothing was changed; see the differences with --dry-run, overwrite with --force, or \
         run on a terminal to decide file by file",
    );
    text
}

/// What the disk says about each file of the plan, in plan order. Reads only.
pub fn compare(plan: &Plan, root: &Path) -> Result<Vec<FileChange>, ApplyError> {
    let mut changes: Vec<FileChange> = Vec::new();
    for op in plan.ops.iter() {
        let path = op.path();
        let earlier = changes.iter().position(|c| c.path == path);
        match (op, earlier) {
            (Op::CreateFile { content, .. }, None) => {
                let old = read(root, path)?;
                let status = match &old {
                    None => Status::Create,
                    Some(old) if old == content => Status::Identical,
                    Some(_) => Status::Conflict,
                };
                changes.push(FileChange {
                    path: path.to_path_buf(),
                    status,
                    old,
                    new: content.clone(),
                });
            }
            (Op::Inject { marker, line, .. }, earlier) => {
                let change = match earlier {
                    Some(index) => &mut changes[index],
                    None => {
                        if fs::read(root.join(path)).is_ok_and(|b| std::str::from_utf8(&b).is_err())
                        {
                            // Injecting would rewrite its other bytes as replacement characters.
                            return Err(ApplyError::Inject {
                                path: path.to_path_buf(),
                                message: "is not valid UTF-8 text, so a line cannot be added to \
                                          it safely; convert it to UTF-8 and run again"
                                    .into(),
                            });
                        }
                        let Some(old) = read(root, path)? else {
                            return Err(ApplyError::Inject {
                                path: path.to_path_buf(),
                                message: format!(
                                    "file not found; scaffold.toml registers it for \
                                     `// {marker}`"
                                ),
                            });
                        };
                        changes.push(FileChange {
                            path: path.to_path_buf(),
                            status: Status::Identical,
                            new: old.clone(),
                            old: Some(old),
                        });
                        changes.last_mut().expect("just pushed")
                    }
                };
                let injected =
                    inject(&change.new, marker, line).map_err(|message| ApplyError::Inject {
                        path: path.to_path_buf(),
                        message,
                    })?;
                if injected != change.new {
                    change.new = injected;
                    change.status = Status::Inject;
                }
            }
            (Op::CreateFile { .. }, Some(_)) => {
                unreachable!("templates map to distinct files: {}", path.display())
            }
        }
    }
    Ok(changes)
}

fn read(root: &Path, path: &Path) -> Result<Option<String>, ApplyError> {
    let full = root.join(path);
    let error = |source| ApplyError::Read {
        path: path.to_path_buf(),
        source,
    };
    match fs::read(&full) {
        // Bytes that are not UTF-8 can never equal rendered text, so lossy is exact enough.
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(error(e)),
    }
}

/// `content` with `block` above the line holding the comment `marker`, each line indented
/// like the marker. Unchanged if the block is there already.
pub fn inject(content: &str, marker: &str, block: &str) -> Result<String, String> {
    let lines: Vec<&str> = content.split_inclusive('\n').collect();
    let markers: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| is_marker(line, marker))
        .map(|(index, _)| index)
        .collect();
    let at = match markers.as_slice() {
        [at] => *at,
        [] => {
            return Err(format!(
                "no `// {marker}` line to insert above; add that comment where generated lines \
                 should go"
            ));
        }
        _ => {
            return Err(format!(
                "`// {marker}` appears {} times; keep exactly one",
                markers.len()
            ));
        }
    };
    let marker_line = lines[at];
    let indent = &marker_line[..marker_line.len() - marker_line.trim_start().len()];
    let newline = if marker_line.ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let block: Vec<String> = block
        .lines()
        .map(|line| match line.trim_end() {
            "" => String::new(),
            line => format!("{indent}{line}"),
        })
        .collect();
    let trimmed: Vec<&str> = lines
        .iter()
        .map(|l| l.trim_end_matches(['\r', '\n']))
        .collect();
    if trimmed.windows(block.len()).any(|window| window == block) {
        return Ok(content.to_string());
    }
    let at = match block.as_slice() {
        [line] => match sorted_position(&trimmed, at, line) {
            Some(position) => position,
            // There already, only indented or punctuated otherwise (by hand or by rustfmt).
            None => return Ok(content.to_string()),
        },
        _ => at,
    };
    let mut out = String::with_capacity(content.len() + block.len() * 40);
    out.extend(lines[..at].iter().copied());
    for line in &block {
        out.push_str(line);
        out.push_str(newline);
    }
    out.extend(lines[at..].iter().copied());
    Ok(out)
}

/// The lines of `content` (as indexes) that hold `block`, compared without indentation, so
/// that a registration line is found wherever a formatter moved it. The first match wins.
pub fn find_block(content: &str, block: &str) -> Option<std::ops::Range<usize>> {
    let wanted: Vec<&str> = block.lines().map(str::trim).collect();
    if wanted.is_empty() {
        return None;
    }
    let lines: Vec<&str> = content.lines().map(str::trim).collect();
    lines
        .windows(wanted.len())
        .position(|window| window == wanted.as_slice())
        .map(|start| start..start + wanted.len())
}

/// `content` without the lines of `block` (see [`find_block`]), or `None` if it is not there.
pub fn remove_block(content: &str, block: &str) -> Option<String> {
    let range = find_block(content, block)?;
    Some(
        content
            .split_inclusive('\n')
            .enumerate()
            .filter(|(index, _)| !range.contains(index))
            .map(|(_, line)| line)
            .collect(),
    )
}

/// Where a one-line injection goes among the lines of its own kind directly above the marker
/// (those that start with the same two words, like `pub mod`): in sorted order, as rustfmt
/// keeps `mod` declarations, so that the result still passes `cargo fmt --check`. None if
/// the run has the line already, up to whitespace and a trailing `;` or `,`.
fn sorted_position(lines: &[&str], marker: usize, new: &str) -> Option<usize> {
    let key = |line: &str| line.trim().trim_end_matches([';', ',']).to_owned();
    fn kind(line: &str) -> Vec<&str> {
        line.split_whitespace().take(2).collect()
    }
    let run_start = lines[..marker]
        .iter()
        .rposition(|line| kind(line) != kind(new))
        .map_or(0, |other| other + 1);
    let mut run = run_start..marker;
    if run.clone().any(|index| key(lines[index]) == key(new)) {
        return None;
    }
    Some(
        run.find(|&index| key(lines[index]) > key(new))
            .unwrap_or(marker),
    )
}

/// A line that is only a comment saying `marker`: `// scaffold:routes`, also `#` or `--`.
fn is_marker(line: &str, marker: &str) -> bool {
    let line = line.trim();
    ["//", "#", "--"]
        .iter()
        .filter_map(|leader| line.strip_prefix(leader))
        .any(|rest| rest.trim() == marker)
}

/// A decision about one conflicting file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Overwrite,
    Skip,
    Abort,
}

pub enum ConflictPolicy<'a> {
    /// Stop with the list of conflicting files.
    Refuse,
    /// `--force`.
    Overwrite,
    /// Ask about each conflict.
    Ask(&'a mut dyn FnMut(&FileChange) -> Result<Choice, ApplyError>),
}

/// Turns every `conflict` into `overwrite` or `skip`, or fails without touching anything.
/// Refusing also covers files that would be added to a module that already exists
/// (`existing_module`): changing an existing module takes `--force` or a person's consent.
pub fn resolve(
    changes: &mut [FileChange],
    policy: ConflictPolicy,
    existing_module: Option<&Path>,
) -> Result<(), ApplyError> {
    let conflicts = |c: &&mut FileChange| c.status == Status::Conflict;
    match policy {
        ConflictPolicy::Refuse => {
            let blocked: Vec<(Status, PathBuf)> = changes
                .iter()
                .filter(|c| match c.status {
                    Status::Conflict => true,
                    Status::Create => existing_module.is_some_and(|dir| c.path.starts_with(dir)),
                    _ => false,
                })
                .map(|c| (c.status, c.path.clone()))
                .collect();
            if blocked.is_empty() {
                return Ok(());
            }
            let inside = |dir: &Path| blocked.iter().any(|(_, path)| path.starts_with(dir));
            Err(ApplyError::Refused {
                existing_module: existing_module
                    .filter(|dir| inside(dir))
                    .map(Path::to_path_buf),
                blocked,
            })
        }
        ConflictPolicy::Overwrite => {
            for change in changes.iter_mut().filter(conflicts) {
                change.status = Status::Overwrite;
            }
            Ok(())
        }
        ConflictPolicy::Ask(ask) => {
            for change in changes.iter_mut().filter(conflicts) {
                change.status = match ask(change)? {
                    Choice::Overwrite => Status::Overwrite,
                    Choice::Skip => Status::Skip,
                    Choice::Abort => return Err(ApplyError::Aborted),
                };
            }
            Ok(())
        }
    }
}

/// Writes every change that writes, all or nothing.
pub fn commit(root: &Path, changes: &[FileChange]) -> Result<(), ApplyError> {
    commit_with(root, changes, Vec::new(), &[])
}

/// Writes every change that writes, and `extra` writes and `removals` (absolute paths), all
/// or nothing.
pub fn commit_with(
    root: &Path,
    changes: &[FileChange],
    extra: Vec<Write>,
    removals: &[PathBuf],
) -> Result<(), ApplyError> {
    assert!(
        changes.iter().all(|c| c.status != Status::Conflict),
        "conflicts are resolved before committing"
    );
    for change in changes.iter().filter(|c| c.status.writes()) {
        if read(root, &change.path)? != change.old {
            return Err(ApplyError::Changed(change.path.clone()));
        }
    }
    let writes: Vec<Write> = changes
        .iter()
        .filter(|c| c.status.writes())
        .map(|c| Write {
            path: root.join(&c.path),
            content: c.new.clone().into_bytes(),
        })
        .chain(extra)
        .collect();
    stage::commit_all(root, &writes, removals)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOD_RS: &str = "pub mod users;\n// scaffold:modules\n\npub fn router() {\n    \
                          let mut router = x;\n    // scaffold:routes\n}\n";

    #[test]
    fn a_declaration_there_already_is_not_added_again_whatever_its_indent() {
        let content = "pub mod projects;\n  pub mod users;\n// scaffold:modules\n";
        assert_eq!(
            inject(content, "scaffold:modules", "pub mod users;"),
            Ok(content.into())
        );
        let content = "router = router.merge(users::router());\n    // scaffold:routes\n";
        let block = "router = router.merge(users::router());";
        assert_eq!(
            inject(content, "scaffold:routes", block),
            Ok(content.into())
        );
    }

    #[test]
    fn a_file_that_cannot_be_read_is_an_error_not_a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("models.rs")).unwrap();
        assert!(matches!(
            read(dir.path(), Path::new("models.rs")),
            Err(ApplyError::Read { .. })
        ));
        assert!(matches!(read(dir.path(), Path::new("absent.rs")), Ok(None)));
    }

    #[test]
    fn a_file_changed_after_it_was_read_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("mod.rs"), MOD_RS).unwrap();
        let plan = Plan {
            ops: vec![Op::Inject {
                path: "mod.rs".into(),
                marker: "scaffold:modules".into(),
                line: "pub mod tasks;".into(),
            }],
        };
        let changes = compare(&plan, dir.path()).unwrap();
        // Saved by an editor while a prompt waited.
        fs::write(dir.path().join("mod.rs"), "// mine\n").unwrap();
        let error = commit(dir.path(), &changes).unwrap_err();
        assert!(matches!(error, ApplyError::Changed(_)), "{error}");
        assert_eq!(
            fs::read_to_string(dir.path().join("mod.rs")).unwrap(),
            "// mine\n"
        );
    }

    #[test]
    fn injects_above_the_marker_with_its_indentation() {
        let out = inject(MOD_RS, "scaffold:routes", "router = router.merge(t());").unwrap();
        assert!(out.contains("    router = router.merge(t());\n    // scaffold:routes\n"));
        let again = inject(&out, "scaffold:routes", "router = router.merge(t());").unwrap();
        assert_eq!(again, out, "injecting twice changes nothing");
    }

    #[test]
    fn single_lines_keep_the_run_above_the_marker_sorted() {
        let file = "mod x;\n\npub mod b;\npub mod d;\n// scaffold:modules\n";
        let out = inject(file, "scaffold:modules", "pub mod c;").unwrap();
        assert_eq!(
            out,
            "mod x;\n\npub mod b;\npub mod c;\npub mod d;\n// scaffold:modules\n"
        );
        let out = inject(&out, "scaffold:modules", "pub mod a;").unwrap();
        assert!(out.starts_with("mod x;\n\npub mod a;\npub mod b;"), "{out}");
        let out = inject(&out, "scaffold:modules", "pub mod a0;").unwrap();
        assert!(out.contains("pub mod a;\npub mod a0;\npub mod b;"), "{out}");
        let out = inject(&out, "scaffold:modules", "pub mod e;").unwrap();
        assert!(
            out.ends_with("pub mod d;\npub mod e;\n// scaffold:modules\n"),
            "{out}"
        );
    }

    #[test]
    fn multi_line_blocks_and_crlf() {
        let crlf = MOD_RS.replace('\n', "\r\n");
        let out = inject(&crlf, "scaffold:modules", "#[doc = \"x\"]\npub mod tasks;").unwrap();
        assert!(out.starts_with("pub mod users;\r\n#[doc = \"x\"]\r\npub mod tasks;\r\n//"));
    }

    #[test]
    fn injected_blocks_are_found_and_removed_whatever_their_indentation() {
        let out = inject(MOD_RS, "scaffold:routes", "router = router.merge(t());").unwrap();
        assert_eq!(find_block(&out, "router = router.merge(t());"), Some(5..6));
        assert_eq!(
            remove_block(&out, "router = router.merge(t());").as_deref(),
            Some(MOD_RS)
        );
        assert_eq!(remove_block(MOD_RS, "pub mod tasks;"), None);
        let two = inject(MOD_RS, "scaffold:modules", "#[doc = \"x\"]\npub mod tasks;").unwrap();
        assert_eq!(
            remove_block(&two, "#[doc = \"x\"]\npub mod tasks;").as_deref(),
            Some(MOD_RS)
        );
    }

    #[test]
    fn marker_must_be_there_exactly_once() {
        let error = inject("fn x() {}\n", "scaffold:routes", "x").unwrap_err();
        assert!(error.contains("no `// scaffold:routes` line"));
        let twice = format!("{MOD_RS}// scaffold:routes\n");
        assert!(
            inject(&twice, "scaffold:routes", "x")
                .unwrap_err()
                .contains("2 times")
        );
        assert!(inject("// scaffold:routes_v2\n", "scaffold:routes", "x").is_err());
    }

    #[test]
    fn refusing_lists_conflicts_and_names_an_existing_module() {
        let change = |path: &str, status| FileChange {
            path: path.into(),
            status,
            old: None,
            new: "b".into(),
        };
        let mut changes = vec![
            change("src/modules/tasks/mod.rs", Status::Conflict),
            change("src/modules/tasks/tests.rs", Status::Create),
            change("migrations/1_create_tasks.sql", Status::Create),
        ];
        let dir = Path::new("src/modules/tasks");
        let error = resolve(&mut changes, ConflictPolicy::Refuse, Some(dir))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("already exists in src/modules/tasks"),
            "{error}"
        );
        assert!(
            error.contains("   conflict  src/modules/tasks/mod.rs\n"),
            "{error}"
        );
        assert!(
            error.contains("     create  src/modules/tasks/tests.rs\n"),
            "{error}"
        );
        assert!(!error.contains("migrations"), "{error}");

        let mut skip = |_: &FileChange| Ok(Choice::Skip);
        resolve(&mut changes, ConflictPolicy::Ask(&mut skip), Some(dir)).unwrap();
        assert_eq!(changes[0].status, Status::Skip);
        assert_eq!(changes[1].status, Status::Create);
    }

    #[test]
    fn a_new_module_is_never_refused_for_creating_files() {
        let mut changes = vec![FileChange {
            path: "src/modules/tasks/mod.rs".into(),
            status: Status::Create,
            old: None,
            new: "b".into(),
        }];
        resolve(&mut changes, ConflictPolicy::Refuse, None).unwrap();
    }
}

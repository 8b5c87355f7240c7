//! All-or-nothing writes and removals. Every new content goes to a temporary file beside its
//! target first; only when all are written are they renamed into place, each replaced or
//! removed file kept as a backup until the end. Any failure undoes what was done, so the tree
//! is exactly as it was.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Written beside the target as `.<file name><suffix>`.
const NEW_SUFFIX: &str = ".scaffold-new";
const OLD_SUFFIX: &str = ".scaffold-old";

#[derive(Debug, Clone)]
pub struct Write {
    pub path: PathBuf,
    pub content: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}: {source}{}", .path.display(), rollback_note(.rollback))]
pub struct StageError {
    /// `write` or `remove`.
    pub action: &'static str,
    pub path: PathBuf,
    pub source: io::Error,
    /// Anything the rollback could not undo (empty when the tree is as it was).
    pub rollback: Vec<String>,
}

fn rollback_note(problems: &[String]) -> String {
    if problems.is_empty() {
        "; nothing was changed".to_string()
    } else {
        format!(
            "; undoing the other changes also failed, check by hand:\n  {}",
            problems.join("\n  ")
        )
    }
}

pub fn commit(writes: &[Write]) -> Result<(), StageError> {
    commit_failing_at(writes, &[], None)
}

/// Writes every file of `writes` and removes every file of `removals` (those that exist), all
/// or nothing. Folders that the removals leave empty stay; see [`prune_empty_dirs`].
pub fn commit_all(writes: &[Write], removals: &[PathBuf]) -> Result<(), StageError> {
    commit_failing_at(writes, removals, None)
}

/// `fail_at`: pretend step number `fail_at` (the writes, then the removals) fails, to test the
/// rollback.
fn commit_failing_at(
    writes: &[Write],
    removals: &[PathBuf],
    fail_at: Option<usize>,
) -> Result<(), StageError> {
    let mut undo = Undo::default();
    let result = stage_and_swap(writes, removals, fail_at, &mut undo);
    match result {
        Ok(()) => {
            undo.forget();
            Ok(())
        }
        Err((action, path, source)) => Err(StageError {
            action,
            path,
            source,
            rollback: undo.roll_back(),
        }),
    }
}

type Failure = (&'static str, PathBuf, io::Error);

fn stage_and_swap(
    writes: &[Write],
    removals: &[PathBuf],
    fail_at: Option<usize>,
    undo: &mut Undo,
) -> Result<(), Failure> {
    for write in writes {
        let fail = |error| ("write", write.path.clone(), error);
        let parent = write.path.parent().expect("targets are files in a folder");
        undo.create_dirs(parent).map_err(fail)?;
        let temp = beside(&write.path, NEW_SUFFIX);
        undo.temps.push(temp.clone());
        fs::write(&temp, &write.content).map_err(fail)?;
        // A replaced file keeps its permissions (an executable script stays executable).
        if let Ok(metadata) = fs::metadata(&write.path) {
            fs::set_permissions(&temp, metadata.permissions()).map_err(fail)?;
        }
    }
    for (index, write) in writes.iter().enumerate() {
        let fail = |error| ("write", write.path.clone(), error);
        let temp = beside(&write.path, NEW_SUFFIX);
        let backup = if write.path.exists() {
            let backup = beside(&write.path, OLD_SUFFIX);
            fs::rename(&write.path, &backup).map_err(fail)?;
            Some(backup)
        } else {
            None
        };
        undo.swapped.push((write.path.clone(), backup));
        if fail_at == Some(index) {
            return Err(fail(io::Error::other("injected failure")));
        }
        fs::rename(&temp, &write.path).map_err(fail)?;
        undo.temps.retain(|t| t != &temp);
    }
    for (index, path) in removals.iter().enumerate() {
        let fail = |error| ("remove", path.clone(), error);
        if fs::symlink_metadata(path).is_err() {
            continue;
        }
        // Moved aside rather than deleted, so that a later failure can put it back.
        let backup = beside(path, OLD_SUFFIX);
        fs::rename(path, &backup).map_err(fail)?;
        undo.swapped.push((path.clone(), Some(backup)));
        if fail_at == Some(writes.len() + index) {
            return Err(fail(io::Error::other("injected failure")));
        }
    }
    Ok(())
}

/// Removes each folder holding one of `files` if it is empty, and its parents while they are
/// empty, up to (not including) `stop` and any folder in `keep`. Best effort: a folder that
/// cannot be removed is left where it is, which loses nothing.
pub fn prune_empty_dirs<'a>(
    files: impl IntoIterator<Item = &'a Path>,
    stop: &Path,
    keep: &[PathBuf],
) {
    for file in files {
        for dir in file.ancestors().skip(1) {
            if dir == stop || !dir.starts_with(stop) || keep.iter().any(|k| k == dir) {
                break;
            }
            let empty = fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none());
            if !empty || fs::remove_dir(dir).is_err() {
                break;
            }
        }
    }
}

/// What has been done so far, in order, to undo it in reverse.
#[derive(Default)]
struct Undo {
    created_dirs: Vec<PathBuf>,
    temps: Vec<PathBuf>,
    /// Target, and where its previous version was moved (none if it did not exist).
    swapped: Vec<(PathBuf, Option<PathBuf>)>,
}

impl Undo {
    fn create_dirs(&mut self, dir: &Path) -> io::Result<()> {
        let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
        for dir in missing.into_iter().rev() {
            fs::create_dir(dir)?;
            self.created_dirs.push(dir.to_path_buf());
        }
        Ok(())
    }

    /// Restores the tree; returns what could not be restored.
    fn roll_back(self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut note = |what: String, result: io::Result<()>| {
            if let Err(error) = result {
                problems.push(format!("{what}: {error}"));
            }
        };
        for (target, backup) in self.swapped.into_iter().rev() {
            match backup {
                Some(backup) => note(
                    format!("restore {} from {}", target.display(), backup.display()),
                    fs::rename(&backup, &target),
                ),
                None if target.exists() => note(
                    format!("remove {}", target.display()),
                    fs::remove_file(&target),
                ),
                None => {}
            }
        }
        for temp in self.temps.into_iter().rev() {
            if temp.is_file() {
                note(format!("remove {}", temp.display()), fs::remove_file(&temp));
            }
        }
        for dir in self.created_dirs.into_iter().rev() {
            note(format!("remove {}", dir.display()), fs::remove_dir(&dir));
        }
        problems
    }

    /// Everything is in place: drop the backups.
    fn forget(self) {
        for (_, backup) in self.swapped {
            if let Some(backup) = backup {
                // A leftover backup is clutter, not damage; the write itself succeeded.
                let _ = fs::remove_file(backup);
            }
        }
    }
}

fn beside(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .expect("targets are files")
        .to_string_lossy();
    path.with_file_name(format!(".{name}{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Every file and folder under `root` with its content.
    fn snapshot(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
        let mut all = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    all.insert(path.clone(), None);
                    stack.push(path);
                } else {
                    all.insert(path.clone(), Some(fs::read(&path).unwrap()));
                }
            }
        }
        all
    }

    fn setup() -> (tempfile::TempDir, Vec<Write>) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("src")).unwrap();
        fs::write(root.join("src/mod.rs"), "old\n").unwrap();
        let writes = vec![
            Write {
                path: root.join("src/tasks/mod.rs"),
                content: b"new module\n".to_vec(),
            },
            Write {
                path: root.join("src/mod.rs"),
                content: b"changed\n".to_vec(),
            },
            Write {
                path: root.join("migrations/tenant/1_create_tasks.sql"),
                content: b"CREATE TABLE tasks ();\n".to_vec(),
            },
        ];
        (dir, writes)
    }

    #[test]
    fn commits_everything() {
        let (dir, writes) = setup();
        commit(&writes).unwrap();
        let after = snapshot(dir.path());
        for write in &writes {
            assert_eq!(after[&write.path].as_deref(), Some(&write.content[..]));
        }
        assert_eq!(
            after.len(),
            7,
            "three files and four folders, no leftovers: {after:?}"
        );
    }

    #[test]
    fn a_failure_at_any_step_leaves_the_tree_as_it_was() {
        for fail_at in 0..3 {
            let (dir, writes) = setup();
            let before = snapshot(dir.path());
            let error = commit_failing_at(&writes, &[], Some(fail_at)).unwrap_err();
            assert!(error.rollback.is_empty(), "{error}");
            assert!(error.to_string().contains("nothing was changed"));
            assert_eq!(snapshot(dir.path()), before, "failing at {fail_at}");
        }
    }

    #[test]
    fn a_failure_while_staging_leaves_the_tree_as_it_was() {
        let (dir, writes) = setup();
        // The last temporary file cannot be created: a folder is in its way.
        fs::create_dir_all(
            dir.path()
                .join("migrations/tenant/.1_create_tasks.sql.scaffold-new"),
        )
        .unwrap();
        let before = snapshot(dir.path());
        commit(&writes).unwrap_err();
        assert_eq!(snapshot(dir.path()), before);
    }

    #[test]
    fn removals_are_undone_too() {
        for fail_at in 0..5 {
            let (dir, writes) = setup();
            let root = dir.path();
            fs::write(root.join("src/old.rs"), "old\n").unwrap();
            fs::write(root.join("gone.rs"), "gone\n").unwrap();
            let removals = vec![root.join("src/old.rs"), root.join("gone.rs")];
            let before = snapshot(root);
            let error = commit_failing_at(&writes, &removals, Some(fail_at)).unwrap_err();
            assert!(error.rollback.is_empty(), "{error}");
            let expected = if fail_at < 3 {
                "cannot write"
            } else {
                "cannot remove"
            };
            assert!(error.to_string().starts_with(expected), "{error}");
            assert_eq!(snapshot(root), before, "failing at {fail_at}");
        }
    }

    #[test]
    fn removes_and_prunes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a/b/c")).unwrap();
        fs::create_dir_all(root.join("keep")).unwrap();
        fs::write(root.join("a/b/c/x.rs"), "x").unwrap();
        fs::write(root.join("keep/y.rs"), "y").unwrap();
        let removals = vec![
            root.join("a/b/c/x.rs"),
            root.join("keep/y.rs"),
            root.join("never/there.rs"),
        ];
        commit_all(&[], &removals).unwrap();
        prune_empty_dirs(
            removals.iter().map(PathBuf::as_path),
            root,
            &[root.join("keep")],
        );
        let after = snapshot(root);
        assert_eq!(after.keys().collect::<Vec<_>>(), [&root.join("keep")]);
    }
}

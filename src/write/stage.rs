//! All-or-nothing writes and removals, also across a crash.
//!
//! A commit first records what it will do in a journal, `.scaffold/journal.json` under the
//! project root: every file it writes or removes. Then every new content goes to a temporary
//! file beside its target; only when all are written are they renamed into place, each
//! replaced or removed file kept as a backup. Once the new files and their folders are on disk
//! (fsync), the backups and the journal are removed. Any failure undoes what was done, so the
//! tree is exactly as it was.
//!
//! A run that dies half way (killed, power lost) leaves the journal behind, and the next run
//! that takes the project lock ([`lock`]) calls [`recover`]: if every file already holds its new content,
//! the commit had finished and only its leftovers go; otherwise every backup is put back and
//! what the commit created is removed. Ctrl-C and other terminating signals are held off while
//! a commit runs, so that they end the process before or after it, never inside.

use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::input::project::CONFIG_FILE;

/// Written beside the target as `.<file name><suffix>`.
const NEW_SUFFIX: &str = ".scaffold-new";
const OLD_SUFFIX: &str = ".scaffold-old";

/// Where an unfinished commit is recorded, relative to the project root.
pub const JOURNAL: &str = ".scaffold/journal.json";

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
            "; undoing the other changes also failed, check by hand (the next scaffold run \
             tries again):\n  {}",
            problems.join("\n  ")
        )
    }
}

type Failure = (&'static str, PathBuf, io::Error);

impl From<Failure> for StageError {
    fn from((action, path, source): Failure) -> Self {
        Self {
            action,
            path,
            source,
            rollback: Vec::new(),
        }
    }
}

pub fn commit(root: &Path, writes: &[Write]) -> Result<(), StageError> {
    commit_all(root, writes, &[])
}

/// Writes every file of `writes` and removes every file of `removals` (those that exist), all
/// or nothing. Every path is under `root`, the project root that holds the journal. Folders
/// that the removals leave empty stay; see [`prune_empty_dirs`].
pub fn commit_all(root: &Path, writes: &[Write], removals: &[PathBuf]) -> Result<(), StageError> {
    let _held = HeldSignals::hold();
    let journal = Journal::begin(root, writes, removals)?;
    let result = carry_out(root, &journal, writes, &mut Steps::default());
    journal.end(root, result)
}

/// What a commit does, relative to the project root: enough for a later run to finish or
/// undo it. Plain JSON, so that a person can read it too.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    /// Files written, in order.
    writes: Vec<JournalWrite>,
    /// Existing files removed; each is moved to its backup `.<name>.scaffold-old` first.
    removals: Vec<PathBuf>,
    /// Folders the commit creates, parents first.
    created_dirs: Vec<PathBuf>,
}

#[derive(Debug, Serialize, Deserialize)]
struct JournalWrite {
    path: PathBuf,
    /// Whether the file existed; it is then moved to its backup `.<name>.scaffold-old`
    /// before the new content, staged as `.<name>.scaffold-new`, takes its place.
    existed: bool,
    /// Of the new content, in hex: a file that has it was written completely.
    sha256: String,
}

/// What [`recover`] did about an interrupted commit.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// The commit had written everything: only its backups and journal were removed.
    pub completed: bool,
    /// Files put back as they were before the commit.
    pub restored: Vec<PathBuf>,
    /// Files the commit had created, removed.
    pub removed: Vec<PathBuf>,
    /// What could not be undone.
    pub problems: Vec<String>,
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.completed {
            return f.write_str(
                "an earlier scaffold run was interrupted after it had written all its files; \
                 removed its leftover backups",
            );
        }
        write!(
            f,
            "an earlier scaffold run was interrupted while writing files; undid its changes, \
             so the files are as they were before it (run that command again)"
        )?;
        for path in &self.restored {
            write!(f, "\n  restored  {}", path.display())?;
        }
        for path in &self.removed {
            write!(f, "\n   removed  {}", path.display())?;
        }
        Ok(())
    }
}

/// Held while a command reads and writes the project, so that two runs at once cannot lose
/// each other's registration lines and manifest entries. Released when dropped (or when the
/// process ends, however it ends).
#[derive(Debug)]
pub struct ProjectLock {
    _file: fs::File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot read {}: {source}", .path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "another scaffold is changing the project in {} right now; wait for it to finish, \
         then run this again",
        .0.display()
    )]
    Busy(PathBuf),
    #[error("{0}")]
    Recovery(String),
}

/// An exclusive lock on the project in `root` (on its `scaffold.toml`, which scaffold never
/// writes), or `Busy` if another run holds it. A commit that an earlier run left unfinished
/// is finished or undone first, and that said on stderr.
pub fn lock(root: &Path) -> Result<ProjectLock, LockError> {
    let path = root.join(CONFIG_FILE);
    let file = fs::File::open(&path).map_err(|source| LockError::Read {
        path: path.clone(),
        source,
    })?;
    match file.try_lock() {
        Ok(()) => {
            let lock = ProjectLock { _file: file };
            if let Some(recovery) = recover(root).map_err(LockError::Recovery)? {
                eprintln!("note: {recovery}");
            }
            Ok(lock)
        }
        Err(fs::TryLockError::WouldBlock) => Err(LockError::Busy(root.to_path_buf())),
        Err(fs::TryLockError::Error(source)) => Err(LockError::Read { path, source }),
    }
}

/// Finishes or undoes a commit that an earlier run left unfinished under `root`, if any.
/// Call it with the project lock held, before reading anything the commit may have touched.
pub fn recover(root: &Path) -> Result<Option<Recovery>, String> {
    let path = root.join(JOURNAL);
    // A journal still being written when its run died: nothing had been changed yet, but
    // the journal's folder may be new.
    if fs::remove_file(beside(&path, NEW_SUFFIX)).is_ok() {
        let _ = fs::remove_dir(path.parent().expect("in a folder"));
    }
    let text = match fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let journal: Journal = serde_json::from_slice(&text).map_err(|e| {
        format!(
            "{} records an interrupted scaffold run but cannot be read ({e}); check the files \
             it names by hand, then delete it",
            path.display()
        )
    })?;
    let recovery = if journal.is_complete(root) {
        journal.finish(root);
        Recovery {
            completed: true,
            ..Recovery::default()
        }
    } else {
        journal.roll_back(root)
    };
    if recovery.problems.is_empty() {
        Ok(Some(recovery))
    } else {
        Err(format!(
            "{recovery}\nbut some changes could not be undone; fix them by hand, then delete {}:\n  \
             {}",
            path.display(),
            recovery.problems.join("\n  ")
        ))
    }
}

impl Journal {
    /// Records the commit on disk, durably, before anything else changes.
    fn begin(root: &Path, writes: &[Write], removals: &[PathBuf]) -> Result<Self, StageError> {
        let relative = |path: &Path| {
            path.strip_prefix(root).map(Path::to_path_buf).map_err(|_| {
                (
                    "write",
                    path.to_path_buf(),
                    io::Error::other(format!("not inside {}", root.display())),
                )
            })
        };
        let mut journal = Self {
            writes: Vec::new(),
            removals: Vec::new(),
            created_dirs: Vec::new(),
        };
        let journal_path = root.join(JOURNAL);
        let parents = std::iter::once(journal_path.as_path())
            .chain(writes.iter().map(|w| w.path.as_path()))
            .filter_map(Path::parent);
        for parent in parents {
            // Folders above the root (a new app's `--dir a/b`) are made, but not undone.
            let missing: Vec<&Path> = parent
                .ancestors()
                .take_while(|d| !d.exists() && d.starts_with(root))
                .collect();
            for dir in missing.into_iter().rev() {
                let dir = relative(dir)?;
                if !journal.created_dirs.contains(&dir) {
                    journal.created_dirs.push(dir);
                }
            }
        }
        for write in writes {
            leftover_check("write", &write.path)?;
            journal.writes.push(JournalWrite {
                path: relative(&write.path)?,
                existed: fs::symlink_metadata(&write.path).is_ok(),
                sha256: sha256(&write.content),
            });
        }
        for path in removals {
            leftover_check("remove", path)?;
            if fs::symlink_metadata(path).is_ok() {
                journal.removals.push(relative(path)?);
            }
        }
        if journal_path.exists() {
            return Err(StageError::from((
                "write",
                journal_path,
                io::Error::other(
                    "an interrupted scaffold run is recorded there; run a scaffold command that \
                     changes the project (it finishes or undoes that run first)",
                ),
            )));
        }
        journal.save(root).map_err(|error| {
            journal.remove_created_dirs(root);
            StageError::from(("write", journal_path, error))
        })?;
        Ok(journal)
    }

    /// Writes the journal through a temporary file, so that it is never seen half written,
    /// and makes it durable: the renames that follow must never reach the disk without it.
    fn save(&self, root: &Path) -> io::Result<()> {
        let path = root.join(JOURNAL);
        let dir = path.parent().expect("the journal is in a folder");
        if let Some(above) = root.parent().filter(|above| !above.as_os_str().is_empty()) {
            fs::create_dir_all(above)?;
        }
        for created in &self.created_dirs {
            let created = root.join(created);
            if dir.starts_with(&created) {
                fs::create_dir(created)?;
            }
        }
        let temp = beside(&path, NEW_SUFFIX);
        let mut file = fs::File::create(&temp)?;
        file.write_all(&serde_json::to_vec_pretty(self).map_err(io::Error::other)?)?;
        file.sync_all()?;
        fs::rename(&temp, &path)?;
        sync(&[dir.to_path_buf()])
    }

    /// The points of a commit where a test can make it fail or stop: after each temporary
    /// file is staged, before each file takes its new place or is moved aside, and before
    /// the sync.
    #[cfg(test)]
    fn steps(&self) -> usize {
        2 * self.writes.len() + self.removals.len() + 1
    }

    /// Finishes a commit: `result` is how carrying it out went.
    fn end(self, root: &Path, result: Result<(), Failure>) -> Result<(), StageError> {
        match result {
            Ok(()) => {
                self.finish(root);
                Ok(())
            }
            Err(failure) => {
                let recovery = self.roll_back(root);
                let mut error = StageError::from(failure);
                error.rollback = recovery.problems;
                Err(error)
            }
        }
    }

    /// Whether the commit got as far as its last rename: no temporary file is left, every
    /// file holds its new content and every removed file is gone.
    fn is_complete(&self, root: &Path) -> bool {
        let written = self.writes.iter().all(|write| {
            let target = root.join(&write.path);
            !exists(&beside(&target, NEW_SUFFIX))
                && fs::read(&target).is_ok_and(|bytes| sha256(&bytes) == write.sha256)
        });
        written && self.removals.iter().all(|path| !exists(&root.join(path)))
    }

    /// Everything is in place: drop the backups, then the journal.
    fn finish(self, root: &Path) {
        let replaced = self.writes.iter().filter(|w| w.existed).map(|w| &w.path);
        for path in replaced.chain(&self.removals) {
            // A leftover backup is clutter, not damage; the commit itself succeeded.
            let _ = fs::remove_file(beside(&root.join(path), OLD_SUFFIX));
        }
        let _ = fs::remove_file(root.join(JOURNAL));
        // The journal's folder, if this commit made it only for the journal.
        let journal_dir = Path::new(JOURNAL).parent().expect("in a folder");
        if self.created_dirs.iter().any(|dir| dir == journal_dir) {
            let _ = fs::remove_dir(root.join(journal_dir));
        }
    }

    /// Puts the tree back as it was before the commit, from what is on disk now: a backup
    /// that exists goes back in place; a file that did not exist is removed.
    fn roll_back(self, root: &Path) -> Recovery {
        let mut recovery = Recovery::default();
        let mut note = |what: String, result: io::Result<()>| {
            if let Err(error) = result {
                recovery.problems.push(format!("{what}: {error}"));
            }
        };
        let mut restored = Vec::new();
        let mut removed = Vec::new();
        let writes = self.writes.iter().map(|w| (&w.path, w.existed));
        let removals = self.removals.iter().map(|path| (path, true));
        for (path, existed) in writes.chain(removals).rev() {
            let target = root.join(path);
            let backup = beside(&target, OLD_SUFFIX);
            let temp = beside(&target, NEW_SUFFIX);
            if existed && exists(&backup) {
                note(
                    format!("restore {} from {}", target.display(), backup.display()),
                    fs::rename(&backup, &target),
                );
                restored.push(path.clone());
            } else if !existed && exists(&target) {
                note(
                    format!("remove {}", target.display()),
                    fs::remove_file(&target),
                );
                removed.push(path.clone());
            }
            if exists(&temp) {
                note(format!("remove {}", temp.display()), fs::remove_file(&temp));
            }
        }
        if recovery.problems.is_empty() {
            let _ = fs::remove_file(root.join(JOURNAL));
            self.remove_created_dirs(root);
        }
        restored.reverse();
        removed.reverse();
        recovery.restored = restored;
        recovery.removed = removed;
        recovery
    }

    /// Removes the folders the commit created, deepest first, those that are empty.
    fn remove_created_dirs(&self, root: &Path) {
        for dir in self.created_dirs.iter().rev() {
            let _ = fs::remove_dir(root.join(dir));
        }
    }

    /// What must be on disk before the backups may go: every new file, and every folder whose
    /// entries the commit changed.
    fn durable_paths(&self, root: &Path) -> Vec<PathBuf> {
        let files = self.writes.iter().map(|w| root.join(&w.path));
        let changed = self.writes.iter().map(|w| &w.path).chain(&self.removals);
        let mut dirs: Vec<PathBuf> = changed
            .chain(&self.created_dirs)
            .filter_map(|path| root.join(path).parent().map(Path::to_path_buf))
            .collect();
        dirs.sort();
        dirs.dedup();
        files.chain(dirs).collect()
    }
}

/// A temporary file or backup of ours where the commit would put its own: left by a run of
/// an older scaffold that died. Refused rather than overwritten, since it may be the only copy
/// of a file.
fn leftover_check(action: &'static str, path: &Path) -> Result<(), StageError> {
    for suffix in [NEW_SUFFIX, OLD_SUFFIX] {
        let leftover = beside(path, suffix);
        if exists(&leftover) {
            return Err(StageError::from((
                action,
                path.to_path_buf(),
                io::Error::other(format!(
                    "{} is in the way, left by an interrupted scaffold run; keep what you need \
                     from it and delete it",
                    leftover.display()
                )),
            )));
        }
    }
    Ok(())
}

/// Counts the steps of a commit, so that a test can make step `fail_at` fail.
#[derive(Default)]
struct Steps {
    next: usize,
    fail_at: Option<usize>,
}

impl Steps {
    fn pass(&mut self) -> io::Result<()> {
        let this = self.next;
        self.next += 1;
        if self.fail_at == Some(this) {
            return Err(io::Error::other("injected failure"));
        }
        Ok(())
    }
}

/// Stages every write, swaps everything into place, and makes it durable.
fn carry_out(
    root: &Path,
    journal: &Journal,
    writes: &[Write],
    steps: &mut Steps,
) -> Result<(), Failure> {
    for dir in &journal.created_dirs {
        let dir = root.join(dir);
        if !dir.exists() {
            fs::create_dir(&dir).map_err(|e| ("write", dir, e))?;
        }
    }
    for write in writes {
        let fail = |error| ("write", write.path.clone(), error);
        let temp = beside(&write.path, NEW_SUFFIX);
        fs::write(&temp, &write.content).map_err(fail)?;
        // A replaced file keeps its permissions (an executable script stays executable).
        if let Ok(metadata) = fs::metadata(&write.path) {
            fs::set_permissions(&temp, metadata.permissions()).map_err(fail)?;
        }
        steps.pass().map_err(fail)?;
    }
    for write in writes {
        let fail = |error| ("write", write.path.clone(), error);
        if fs::symlink_metadata(&write.path).is_ok() {
            fs::rename(&write.path, beside(&write.path, OLD_SUFFIX)).map_err(fail)?;
        }
        steps.pass().map_err(fail)?;
        fs::rename(beside(&write.path, NEW_SUFFIX), &write.path).map_err(fail)?;
    }
    for relative in &journal.removals {
        let path = root.join(relative);
        let fail = |error| ("remove", path.clone(), error);
        steps.pass().map_err(fail)?;
        // Moved aside rather than deleted, so that a later failure can put it back.
        fs::rename(&path, beside(&path, OLD_SUFFIX)).map_err(fail)?;
    }
    steps
        .pass()
        .and_then(|()| sync(&journal.durable_paths(root)))
        .map_err(|e| ("write", root.to_path_buf(), e))
}

/// fsyncs every file and folder of `paths`, all at once: each fsync waits for the disk, and
/// waits that overlap cost about one.
fn sync(paths: &[PathBuf]) -> io::Result<()> {
    let sync_one = |path: &PathBuf| fs::File::open(path).and_then(|file| file.sync_all());
    if paths.len() < 2 {
        return paths.iter().try_for_each(sync_one);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .iter()
            .map(|path| scope.spawn(move || sync_one(path)))
            .collect();
        handles
            .into_iter()
            .try_for_each(|handle| handle.join().expect("fsync does not panic"))
    })
}

/// Ctrl-C (SIGINT), SIGTERM, SIGHUP and SIGQUIT wait while held; one that arrived meanwhile
/// takes effect when the value is dropped, after the commit.
struct HeldSignals {
    #[cfg(unix)]
    previous: libc::sigset_t,
}

impl HeldSignals {
    fn hold() -> Self {
        #[cfg(unix)]
        // SAFETY: the sets are initialised by sigemptyset before use, and pthread_sigmask only
        // changes this thread's mask (threads spawned meanwhile inherit it).
        unsafe {
            let mut held: libc::sigset_t = std::mem::zeroed();
            let mut previous: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut held);
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
                libc::sigaddset(&mut held, signal);
            }
            libc::pthread_sigmask(libc::SIG_BLOCK, &held, &mut previous);
            Self { previous }
        }
        #[cfg(not(unix))]
        Self {}
    }
}

impl Drop for HeldSignals {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: restores the mask saved by `hold`.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.previous, std::ptr::null_mut());
        }
    }
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

/// Whether anything is at `path`, a symbolic link included.
fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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

    #[test]
    fn a_commit_is_complete_only_when_every_file_holds_its_new_content() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let journal = Journal {
            writes: vec![JournalWrite {
                path: "a.rs".into(),
                existed: true,
                sha256: sha256(b"new"),
            }],
            removals: vec!["gone.rs".into()],
            created_dirs: vec![],
        };
        fs::write(root.join("a.rs"), "old").unwrap();
        assert!(!journal.is_complete(root), "the old content");
        fs::write(root.join("a.rs"), "new").unwrap();
        assert!(journal.is_complete(root));
        fs::write(beside(&root.join("a.rs"), NEW_SUFFIX), "new").unwrap();
        assert!(!journal.is_complete(root), "a temporary file left");
        fs::remove_file(beside(&root.join("a.rs"), NEW_SUFFIX)).unwrap();
        fs::write(root.join("gone.rs"), "").unwrap();
        assert!(!journal.is_complete(root), "a removal not done");
    }

    #[test]
    fn durable_paths_are_every_new_file_and_every_changed_folder() {
        let root = Path::new("/p");
        let journal = Journal {
            writes: vec![JournalWrite {
                path: "src/modules/tasks/mod.rs".into(),
                existed: false,
                sha256: String::new(),
            }],
            removals: vec!["migrations/old.sql".into()],
            created_dirs: vec!["src/modules/tasks".into()],
        };
        assert_eq!(
            journal.durable_paths(root),
            [
                "/p/src/modules/tasks/mod.rs",
                "/p/migrations",
                "/p/src/modules",
                "/p/src/modules/tasks",
            ]
            .map(PathBuf::from)
        );
    }

    #[test]
    fn a_journal_that_cannot_be_read_is_an_error_not_an_absent_journal() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(recover(dir.path()).map(|r| r.is_none()), Ok(true));
        fs::create_dir_all(dir.path().join(JOURNAL)).unwrap();
        let error = recover(dir.path()).map(|_| ()).unwrap_err();
        assert!(error.starts_with("cannot read "), "{error}");
    }

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

    /// A project with two files, and a commit that creates two files in new folders, replaces
    /// one and removes two.
    fn setup() -> (tempfile::TempDir, Vec<Write>, Vec<PathBuf>) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("src")).unwrap();
        fs::write(root.join("src/mod.rs"), "old\n").unwrap();
        fs::write(root.join("src/old.rs"), "old\n").unwrap();
        fs::write(root.join("gone.rs"), "gone\n").unwrap();
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
        let removals = vec![root.join("src/old.rs"), root.join("gone.rs")];
        (dir, writes, removals)
    }

    /// `commit_all` with step `fail_at` failing.
    fn commit_failing_at(
        root: &Path,
        writes: &[Write],
        removals: &[PathBuf],
        fail_at: usize,
    ) -> Result<(), StageError> {
        let journal = Journal::begin(root, writes, removals)?;
        let mut steps = Steps {
            next: 0,
            fail_at: Some(fail_at),
        };
        let result = carry_out(root, &journal, writes, &mut steps);
        journal.end(root, result)
    }

    #[test]
    fn commits_everything() {
        let (dir, writes, removals) = setup();
        commit_all(dir.path(), &writes, &removals).unwrap();
        let after = snapshot(dir.path());
        for write in &writes {
            assert_eq!(after[&write.path].as_deref(), Some(&write.content[..]));
        }
        assert_eq!(
            after.len(),
            7,
            "three files and four folders, no leftovers, no journal: {after:?}"
        );
    }

    #[test]
    fn a_failure_at_any_step_leaves_the_tree_as_it_was() {
        let (_, writes, removals) = setup();
        let steps = 2 * writes.len() + removals.len() + 1;
        for fail_at in 0..steps {
            let (dir, writes, removals) = setup();
            let before = snapshot(dir.path());
            let error = commit_failing_at(dir.path(), &writes, &removals, fail_at).unwrap_err();
            assert!(error.rollback.is_empty(), "{error}");
            assert!(error.to_string().contains("nothing was changed"));
            let expected = if (6..8).contains(&fail_at) {
                "cannot remove"
            } else {
                "cannot write"
            };
            assert!(error.to_string().starts_with(expected), "{error}");
            assert_eq!(snapshot(dir.path()), before, "failing at {fail_at}");
        }
    }

    /// The process dies at each step in turn, leaving everything as it is; the next run's
    /// recovery puts the tree back as it was, or, once every rename was done, as committed.
    #[test]
    fn a_crash_at_any_step_is_recovered() {
        let (dir, writes, removals) = setup();
        commit_all(dir.path(), &writes, &removals).unwrap();
        let committed: BTreeMap<_, _> = snapshot(dir.path())
            .into_iter()
            .map(|(path, content)| (path.strip_prefix(dir.path()).unwrap().to_owned(), content))
            .collect();
        let total = 2 * writes.len() + removals.len() + 1;
        for crash_at in 0..total {
            let (dir, writes, removals) = setup();
            let root = dir.path();
            let before = snapshot(root);
            let journal = Journal::begin(root, &writes, &removals).unwrap();
            assert_eq!(journal.steps(), total);
            let mut steps = Steps {
                next: 0,
                fail_at: Some(crash_at),
            };
            carry_out(root, &journal, &writes, &mut steps).unwrap_err();
            drop(journal);
            assert!(root.join(JOURNAL).is_file());

            let recovery = recover(root).unwrap().expect("a journal to recover from");
            let after = snapshot(root);
            // The last step comes after every rename.
            if crash_at + 1 < total {
                assert!(!recovery.completed, "crash at {crash_at}: {recovery:?}");
                assert_eq!(after, before, "crash at {crash_at}");
            } else {
                assert!(recovery.completed, "crash at {crash_at}: {recovery:?}");
                let after: BTreeMap<_, _> = after
                    .into_iter()
                    .map(|(path, content)| (path.strip_prefix(root).unwrap().to_owned(), content))
                    .collect();
                assert_eq!(after, committed, "crash at {crash_at}");
            }
            assert_eq!(recover(root).unwrap(), None, "recovered once");
        }
    }

    #[test]
    fn recovery_says_what_it_undid() {
        let (dir, writes, removals) = setup();
        let root = dir.path();
        let journal = Journal::begin(root, &writes, &removals).unwrap();
        let mut steps = Steps {
            next: 0,
            // After the second write's swap: the first file is created and the second's
            // backup is aside.
            fail_at: Some(writes.len() + 2),
        };
        carry_out(root, &journal, &writes, &mut steps).unwrap_err();
        let recovery = recover(root).unwrap().unwrap();
        assert_eq!(recovery.restored, [PathBuf::from("src/mod.rs")]);
        assert_eq!(recovery.removed, [PathBuf::from("src/tasks/mod.rs")]);
        let text = recovery.to_string();
        assert!(text.contains("restored  src/mod.rs"), "{text}");
        assert!(text.contains("removed  src/tasks/mod.rs"), "{text}");
    }

    #[test]
    fn leftovers_of_an_older_run_are_refused_not_overwritten() {
        let (dir, writes, removals) = setup();
        let root = dir.path();
        fs::write(root.join("src/.mod.rs.scaffold-old"), "only copy\n").unwrap();
        let before = snapshot(root);
        let error = commit_all(root, &writes, &removals)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(".mod.rs.scaffold-old is in the way"),
            "{error}"
        );
        assert_eq!(snapshot(root), before);
    }

    #[test]
    fn pruning_stops_at_its_folder_even_when_that_is_left_empty() {
        let dir = tempfile::tempdir().unwrap();
        let modules = dir.path().join("src/modules");
        fs::create_dir_all(modules.join("tasks")).unwrap();
        let gone = modules.join("tasks/mod.rs");
        prune_empty_dirs([gone.as_path()], &modules, &[]);
        assert!(!modules.join("tasks").exists());
        assert!(modules.is_dir(), "the folder pruning stops at stays");
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
        commit_all(root, &[], &removals).unwrap();
        prune_empty_dirs(
            removals.iter().map(PathBuf::as_path),
            root,
            &[root.join("keep")],
        );
        let after = snapshot(root);
        assert_eq!(after.keys().collect::<Vec<_>>(), [&root.join("keep")]);
    }
}

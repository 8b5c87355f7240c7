//! Shared by the integration tests: a temporary copy of the fixture project, a way to run
//! the real binary in it (and to see it refuse), a fingerprint of every file to prove nothing
//! changed, git, and a time limit for every process a test starts.

#![allow(dead_code)] // each test file uses its own subset

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// 2025-03-01T12:00:00Z, so that new migrations are named `20250301120000_create_<table>.sql`.
pub const EPOCH: &str = "1740830400";

/// A default of every type (snapshot in `generated.rs`; built and tested against PostgreSQL in
/// `end_to_end.rs` as the `settings` module).
pub const DEFAULTS: &[&str] = &[
    "title:string(40)=Untitled",
    "note:text=it's \"quoted\"",
    "points:int=-3",
    "big:bigint=10000000000",
    "ratio:float=2",
    "price:decimal=12.50",
    "enabled:bool=true",
    "token:uuid=3F2504E0-4F89-41D3-9A0C-0305E82C3301",
    "starts_on:date=2024-01-15",
    "starts_at:datetime=2024-01-15T12:30:00+02:00",
    "meta:json={\"theme\": \"dark\", \"n\": [1, 2]}",
    "level:enum(low,high)=High",
    "weight:float?=1.5",
    "tag:string?:index=none",
];

pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/project")
}

pub struct Project {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Project {
    /// A fresh copy of `tests/fixtures/project`.
    pub fn copy() -> Self {
        let project = Self::empty("project");
        copy_tree(&fixture_dir(), &project.root);
        project
    }

    /// An empty folder `<tmp>/<relative>`, removed with the value.
    pub fn empty(relative: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(relative);
        fs::create_dir_all(&root).unwrap();
        Self { _dir: dir, root }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    pub fn read(&self, relative: &str) -> String {
        fs::read_to_string(self.path(relative))
            .unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
    }

    pub fn write(&self, relative: &str, content: &str) {
        let path = self.path(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    /// `scaffold -C <root> <args>`.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut all = vec!["-C", self.root.to_str().unwrap()];
        all.extend_from_slice(args);
        run_in(&self.root, &all)
    }

    /// `scaffold -C <root> <args>`, refused: see [`fails_in`].
    #[track_caller]
    pub fn fails_with(&self, args: &[&str], expected: &[&str]) -> Run {
        let mut all = vec!["-C", self.root.to_str().unwrap()];
        all.extend_from_slice(args);
        fails_in(&self.root, &all, expected)
    }

    /// Every file (with its bytes) and folder under the root.
    pub fn tree(&self) -> Tree {
        tree(&self.root)
    }
}

/// Runs the real binary with a fixed clock and no colours, never attached to a terminal.
pub fn run_in(cwd: &Path, args: &[&str]) -> Run {
    let output = output(
        Command::new(env!("CARGO_BIN_EXE_scaffold"))
            .args(args)
            .current_dir(cwd)
            .env("NO_COLOR", "1")
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .env_remove("CLICOLOR_FORCE"),
    );
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// The real binary, run in `cwd`, refuses: it exits with 1, its stderr holds each of
/// `expected`, and not a file or folder under `cwd` changed.
#[track_caller]
pub fn fails_in(cwd: &Path, args: &[&str], expected: &[&str]) -> Run {
    let before = tree(cwd);
    let run = run_in(cwd, args);
    assert_eq!(run.code, 1, "{args:?}: {run:?}");
    for part in expected {
        assert!(
            run.stderr.contains(part),
            "{args:?}: missing {part:?} in {run:?}"
        );
    }
    assert_same(&tree(cwd), &before, &format!("{args:?} changed the tree"));
    run
}

/// Every file (with its bytes) and folder under a root, by relative path.
pub type Tree = BTreeMap<String, Option<Vec<u8>>>;

/// The paths that differ between two trees (the trees themselves are too long to print).
pub fn changed(left: &Tree, right: &Tree) -> Vec<String> {
    let mut paths: Vec<&String> = left.keys().chain(right.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .filter(|path| left.get(*path) != right.get(*path))
        .cloned()
        .collect()
}

#[track_caller]
pub fn assert_same(left: &Tree, right: &Tree, what: &str) {
    let differences = changed(left, right);
    assert!(
        differences.is_empty(),
        "{what}: these differ: {differences:?}"
    );
}

pub fn tree(root: &Path) -> Tree {
    let mut all = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let key = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                all.insert(key, None);
                stack.push(path);
            } else {
                all.insert(key, Some(fs::read(&path).unwrap()));
            }
        }
    }
    all
}

pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs git in `dir` as a fixed author that signs nothing; its stdout. Fails the test if git
/// fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = output(
        Command::new("git")
            .args([
                "-c",
                "user.name=scaffold",
                "-c",
                "user.email=scaffold@localhost",
            ])
            .args(["-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(dir),
    );
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

// ---- the time limit ------------------------------------------------------------------------

/// How long a process that a test starts may run before the test kills it and fails:
/// `SCAFFOLD_TEST_TIMEOUT` seconds, 120 unless set. Far beyond what any of them takes on a
/// slow, busy machine (the longest take seconds): it is there only so that a mutant that loops
/// forever fails its test instead of hanging the run. Builds (cargo) are not limited.
pub fn time_limit() -> Duration {
    let seconds = match std::env::var("SCAFFOLD_TEST_TIMEOUT") {
        Ok(value) => value.trim().parse().unwrap_or_else(|_| {
            panic!("SCAFFOLD_TEST_TIMEOUT={value:?} is not a whole number of seconds")
        }),
        Err(_) => 120,
    };
    Duration::from_secs(seconds)
}

/// As `command.output()` (stdin empty, stdout and stderr captured), within [`time_limit`].
pub fn output(command: &mut Command) -> Output {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    wait_for(child, command)
}

/// Waits for `child` and gathers what it wrote to the pipes it was given; if it is still
/// running after [`time_limit`], kills it and fails the test. `what` names it then.
pub fn wait_for(child: Child, what: &dyn Debug) -> Output {
    let limit = time_limit();
    wait_within(child, limit, false).unwrap_or_else(|killed| {
        panic!(
            "{what:?} still ran after {limit:?}, so it was killed (SCAFFOLD_TEST_TIMEOUT=<seconds> \
             sets the limit): {killed:?}"
        )
    })
}

/// Waits at most `limit` for `child`, reading its piped stdout and stderr meanwhile (in
/// threads: a full pipe would stop it). At the limit it is killed, and its output is the
/// `Err`. With `group` (the child leads a process group of its own), the whole group is
/// killed, at the limit and when the child ends, so that nothing it left running in the
/// background outlives it or holds its pipes open.
pub fn wait_within(mut child: Child, limit: Duration, group: bool) -> Result<Output, Output> {
    let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = read(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = read(child.stderr.take().map(|p| Box::new(p) as _));
    let kill_group = |child: &Child| {
        // SAFETY: kill has no memory effects; the group is the child's own.
        unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    };
    let started = Instant::now();
    // Short at first, as most runs take milliseconds; then no busier than 20 checks a second.
    let mut pause = Duration::from_millis(1);
    let (status, in_time) = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break (status, true);
        }
        if started.elapsed() > limit {
            if group {
                kill_group(&child);
            } else {
                let _ = child.kill();
            }
            break (child.wait().unwrap(), false);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    };
    if group {
        kill_group(&child);
    }
    let output = Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    if in_time { Ok(output) } else { Err(output) }
}

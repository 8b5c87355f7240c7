//! A run that dies in the middle of its commit never leaves the project damaged: the next run
//! finishes or undoes the commit from the journal it left (`.scaffold/journal.json`), and
//! Ctrl-C or SIGTERM during the commit waits until it is done.
//!
//! The crashes are real: strace stops the real binary at its Nth rename with SIGKILL (no hook
//! in scaffold), so these tests need strace (`apt-get install strace`; `.ci/run` installs it).

mod common;

use std::fs;
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};

use common::{EPOCH, Project, Run, Tree, assert_same, wait_for};

const NEW_TASKS: &[&str] = &["new", "module", "tasks", "title:string", "done:bool"];

/// Fails the test, saying what to install, when strace is missing: a crash test that skipped
/// itself would pass without proving anything.
fn require_strace() {
    let mut command = Command::new("strace");
    command
        .arg("-V")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let found = command
        .spawn()
        .is_ok_and(|child| wait_for(child, &command).status.success());
    assert!(found, "these tests need strace: apt-get install strace");
}

/// `scaffold -C <root> <args>` under strace, which delivers `signal` when scaffold enters its
/// `when`th call of one of `calls`. Returns the signal that ended it, if one did.
///
/// The signals scaffold holds off during its commit reach it as they would from a terminal,
/// whatever this test inherited: a signal ignored here would stay ignored across exec, and
/// the background jobs of a non-interactive shell (`cargo test &` in a script) start with
/// SIGINT and SIGQUIT ignored.
fn run_stopped(
    project: &Project,
    calls: &str,
    signal: &str,
    when: usize,
    args: &[&str],
) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    let mut command = Command::new("strace");
    command
        // Only scaffold's main thread, which does every rename and unlink: strace counts the
        // calls of each thread apart.
        .args(["-o", "/dev/null", "-e", &format!("trace={calls}")])
        .args(["-e", &format!("inject={calls}:signal={signal}:when={when}")])
        .arg(env!("CARGO_BIN_EXE_scaffold"))
        .arg("-C")
        .arg(&project.root)
        .args(args)
        .env("NO_COLOR", "1")
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: only async-signal-safe calls (signal, sigemptyset, sigaddset, sigprocmask)
    // between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let mut unblocked: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut unblocked);
            for held in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
                if libc::signal(held, libc::SIG_DFL) == libc::SIG_ERR {
                    return Err(std::io::Error::last_os_error());
                }
                libc::sigaddset(&mut unblocked, held);
            }
            if libc::sigprocmask(libc::SIG_UNBLOCK, &unblocked, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let status = wait_for(command.spawn().unwrap(), &command).status;
    // strace ends itself with the signal that ended scaffold.
    status.signal()
}

/// The project after `new module tasks` ran to the end.
fn committed() -> Tree {
    let project = Project::copy();
    let run = project.run(NEW_TASKS);
    assert_eq!(run.code, 0, "{run:?}");
    project.tree()
}

/// A command that takes the project lock and then changes nothing.
fn recover(project: &Project) -> Run {
    let run = project.run(&["upgrade", "--all"]);
    assert_eq!(run.code, 0, "{run:?}");
    run
}

const RENAMES: &str = "rename,renameat,renameat2";

#[test]
fn killed_at_any_rename_of_its_commit_the_next_run_puts_the_tree_back() {
    require_strace();
    let committed = committed();
    let mut killed = 0;
    for when in 1.. {
        let project = Project::copy();
        let before = project.tree();
        match run_stopped(&project, RENAMES, "KILL", when, NEW_TASKS) {
            None => {
                // Fewer renames than `when`: the run finished.
                assert_same(&project.tree(), &committed, "finished");
                break;
            }
            Some(signal) => assert_eq!(signal, 9, "killed at rename {when}"),
        }
        killed += 1;
        assert_ne!(
            project.tree(),
            before,
            "killed at rename {when}: the commit had begun"
        );
        let run = recover(&project);
        assert_same(
            &project.tree(),
            &before,
            &format!("killed at rename {when}: {run:?}"),
        );
        if when > 1 {
            // The first rename is the journal's own: nothing had changed yet.
            assert!(
                run.stderr
                    .contains("note: an earlier scaffold run was interrupted while writing files; undid its changes"),
                "{run:?}"
            );
        }
    }
    assert!(
        killed > 10,
        "a commit of a module renames its files: {killed}"
    );
}

/// Killed once every file is in place and on disk, as it removes the first backup (its
/// second unlink: the first looks for a journal left half written), the next run keeps the
/// commit and removes what it left behind.
#[test]
fn killed_after_its_last_rename_the_next_run_completes_the_commit() {
    require_strace();
    let project = Project::copy();
    assert_eq!(
        run_stopped(&project, "unlink", "KILL", 2, NEW_TASKS),
        Some(9)
    );
    assert!(project.path("src/modules/.mod.rs.scaffold-old").is_file());
    assert!(project.path(".scaffold/journal.json").is_file());
    let run = recover(&project);
    assert!(
        run.stderr
            .contains("interrupted after it had written all its files"),
        "{run:?}"
    );
    assert_same(&project.tree(), &committed(), "completed");
}

/// SIGTERM (as Ctrl-C's SIGINT) in the middle of the renames ends the run only after its
/// commit is complete.
#[test]
fn a_terminating_signal_during_the_commit_waits_for_its_end() {
    require_strace();
    for signal in ["TERM", "INT"] {
        let project = Project::copy();
        let ended = run_stopped(&project, RENAMES, signal, 4, NEW_TASKS);
        assert_eq!(ended, Some(if signal == "TERM" { 15 } else { 2 }));
        assert_same(&project.tree(), &committed(), signal);
    }
}

/// The journal is plain JSON that a crashed run leaves with its temporary files and backups;
/// here one is written by hand: a module file created, the registration file replaced (its
/// old content aside as the backup), a migration not yet renamed into place.
#[test]
fn a_journal_left_by_a_crashed_run_is_undone_by_the_next_run() {
    let project = Project::copy();
    let before = project.tree();
    let registry = project.read("src/modules/mod.rs");
    fs::rename(
        project.path("src/modules/mod.rs"),
        project.path("src/modules/.mod.rs.scaffold-old"),
    )
    .unwrap();
    project.write("src/modules/mod.rs", "pub mod tasks;\n");
    project.write("src/modules/tasks/mod.rs", "// tasks\n");
    project.write(
        "migrations/tenant/.2_create_tasks.sql.scaffold-new",
        "CREATE TABLE tasks ();\n",
    );
    project.write(
        ".scaffold/journal.json",
        r#"{
  "writes": [
    {"path": "src/modules/tasks/mod.rs", "existed": false, "sha256": "00"},
    {"path": "src/modules/mod.rs", "existed": true, "sha256": "00"},
    {"path": "migrations/tenant/2_create_tasks.sql", "existed": false, "sha256": "00"}
  ],
  "removals": [],
  "created_dirs": [".scaffold", "src/modules/tasks"]
}"#,
    );
    let run = recover(&project);
    assert!(
        run.stderr.contains(
            "interrupted while writing files; undid its changes, so the files are as they were \
             before it (run that command again)\n  restored  src/modules/mod.rs\n   removed  \
             src/modules/tasks/mod.rs\n"
        ),
        "{run:?}"
    );
    assert_eq!(project.read("src/modules/mod.rs"), registry);
    assert_same(&project.tree(), &before, "undone");
    // Once is enough.
    let run = recover(&project);
    assert!(!run.stderr.contains("interrupted"), "{run:?}");
}

/// A journal that cannot be read is never guessed at: the run stops and says what to do.
#[test]
fn an_unreadable_journal_stops_every_writing_command() {
    let project = Project::copy();
    project.write(".scaffold/journal.json", "{\"writes\": [");
    let before = project.tree();
    let run = project.run(NEW_TASKS);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("records an interrupted scaffold run but cannot be read"),
        "{run:?}"
    );
    assert!(run.stderr.contains("then delete it"), "{run:?}");
    assert_same(&project.tree(), &before, "unchanged");
}

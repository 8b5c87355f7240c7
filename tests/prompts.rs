//! The questions `scaffold` asks at a terminal, answered through a real pseudo-terminal as a
//! person would type them, and its colours: on at a terminal, off with `NO_COLOR` or in a
//! pipe.

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{EPOCH, Project};

/// How long a prompt may take to appear on a machine busy with other builds.
const PATIENCE: Duration = Duration::from_secs(30);

const ENTER: &str = "\r";
const UP: &str = "\x1b[A";
const DOWN: &str = "\x1b[B";

/// Everything the program wrote, and a signal for each change.
type Screen = Arc<(Mutex<Vec<u8>>, Condvar)>;

/// The real binary on a pseudo-terminal of its own: stdin, stdout and stderr are the
/// terminal, as when a person runs it.
struct Terminal {
    child: Child,
    master: File,
    /// Our own copy of the program's end, held open so that the terminal never hangs up
    /// under the reader: Linux may drop output still in flight when the last copy closes.
    slave: File,
    screen: Screen,
    /// How much of the screen `expect` has consumed.
    seen: usize,
}

impl Terminal {
    fn run(project: &Project, args: &[&str], env: &[(&str, &str)]) -> Terminal {
        let (mut master, mut slave) = (0, 0);
        // Wide enough that no prompt or menu line wraps.
        let size = libc::winsize {
            ws_row: 50,
            ws_col: 200,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two file descriptors, which are then owned here.
        let opened = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just opened and nothing else owns them.
        let (master, slave) = unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let kept = File::from(slave.try_clone().unwrap());
        let mut command = Command::new(env!("CARGO_BIN_EXE_scaffold"));
        command
            .arg("-C")
            .arg(&project.root)
            .args(args)
            .current_dir(&project.root)
            .env("TERM", "xterm-256color")
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR")
            .env_remove("CLICOLOR_FORCE")
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        for (name, value) in env {
            command.env(name, value);
        }
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                // A session of its own with the terminal as its controlling terminal, so
                // that /dev/tty and the terminal's modes are this one's.
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("run scaffold");
        drop(command);
        let screen: Screen = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let mut reader = master.try_clone().unwrap();
        let shared = screen.clone();
        thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            loop {
                // EIO once every copy of the terminal's other end is closed.
                let read = reader.read(&mut buffer).unwrap_or(0);
                let (lock, changed) = &*shared;
                let mut screen = lock.lock().unwrap();
                if read == 0 {
                    return;
                }
                screen.extend_from_slice(&buffer[..read]);
                changed.notify_all();
            }
        });
        Terminal {
            child,
            master,
            slave: kept,
            screen,
            seen: 0,
        }
    }

    /// Waits until `text` appears after what was already expected, and moves past it.
    #[track_caller]
    fn expect(&mut self, text: &str) {
        let (lock, changed) = &*self.screen;
        let deadline = Instant::now() + PATIENCE;
        let mut screen = lock.lock().unwrap();
        loop {
            let fresh = String::from_utf8_lossy(&screen[self.seen..]).into_owned();
            if let Some(at) = fresh.find(text) {
                self.seen += fresh[..at + text.len()].len();
                return;
            }
            let now = Instant::now();
            assert!(
                now < deadline,
                "{text:?} did not appear; the screen since the last answer:\n{fresh}"
            );
            screen = changed.wait_timeout(screen, deadline - now).unwrap().0;
        }
    }

    /// Types `keys`, as one burst.
    fn send(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }

    /// Waits for the program to end; its exit status and everything it wrote.
    fn finish(self) -> (ExitStatus, String) {
        let Terminal {
            mut child,
            mut slave,
            screen,
            ..
        } = self;
        let pid = child.id() as libc::pid_t;
        let (exited, exit) = std::sync::mpsc::channel();
        thread::spawn(move || exited.send(child.wait().unwrap()));
        let Ok(status) = exit.recv_timeout(PATIENCE) else {
            // SAFETY: a plain signal to the child this test started.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("scaffold did not end:\n{}", text(&screen));
        };
        // The terminal delivers in order: once this mark has come through, so has everything
        // the program wrote before it exited.
        slave.write_all(END.as_bytes()).unwrap();
        let (lock, changed) = &*screen;
        let (written, timeout) = changed
            .wait_timeout_while(lock.lock().unwrap(), PATIENCE, |screen| {
                !screen.ends_with(END.as_bytes())
            })
            .unwrap();
        assert!(!timeout.timed_out(), "the end mark did not come through");
        let written = &written[..written.len() - END.len()];
        (status, String::from_utf8_lossy(written).into_owned())
    }
}

/// Written after the program has ended; nothing the program writes looks like it.
const END: &str = "\u{1}end of the test's terminal\u{1}";

fn text(screen: &Screen) -> String {
    String::from_utf8_lossy(&screen.0.lock().unwrap()).into_owned()
}

/// Moves `steps` down (or up, when negative) from the highlighted item, waits until `landing`
/// is highlighted, and picks it.
fn choose(terminal: &mut Terminal, steps: i32, landing: &str) {
    let key = if steps < 0 { UP } else { DOWN };
    for _ in 0..steps.abs() {
        terminal.send(key);
    }
    terminal.expect(&format!("> {landing}"));
    terminal.send(ENTER);
}

#[test]
fn fields_are_asked_one_at_a_time_and_each_answer_is_checked() {
    let project = Project::copy();
    let mut terminal = Terminal::run(&project, &["new", "module", "tasks"], &[]);
    // The derived names come first, so that a surprise there is seen before typing fields.
    terminal.expect("route   /api/tasks");
    terminal.expect("field name");
    terminal.send(&format!("title:string{ENTER}"));
    terminal.expect("type the name only (`title`); the type is the next question");
    terminal.send(&format!("title{ENTER}"));
    terminal.expect("type of `title`");
    choose(&mut terminal, 0, "string");
    terminal.expect("maximum length");
    terminal.send(&format!("abc{ENTER}"));
    terminal.expect("a whole number of characters from 1 to");
    terminal.send(&format!("80{ENTER}"));
    terminal.expect("optional (may be null)?");
    terminal.send("n");
    terminal.expect("unique?");
    terminal.send("y");

    terminal.expect("field name");
    terminal.send(&format!("title{ENTER}"));
    terminal.expect("`title` is already a field");
    terminal.send(&format!("done{ENTER}"));
    terminal.expect("type of `done`");
    choose(&mut terminal, 6, "bool");
    // A bool is never unique: the next question is the next field.
    terminal.expect("optional (may be null)?");
    terminal.send("n");

    terminal.expect("field name");
    terminal.send(&format!("status{ENTER}"));
    terminal.expect("type of `status`");
    // The menu wraps around: enum is second from the end.
    choose(&mut terminal, -2, "enum");
    terminal.expect("values, separated by commas");
    terminal.send(&format!("open,,done{ENTER}"));
    terminal.expect("empty enum value");
    terminal.send(&format!("open, done{ENTER}"));
    terminal.expect("optional (may be null)?");
    terminal.send("n");
    terminal.expect("unique?");
    terminal.send("n");

    terminal.expect("field name");
    terminal.send(&format!("owner{ENTER}"));
    terminal.expect("type of `owner`");
    choose(&mut terminal, -1, "ref");
    terminal.expect("refers to");
    choose(&mut terminal, 0, "users");
    terminal.expect("optional (may be null)?");
    terminal.send("y");
    terminal.expect("unique?");
    terminal.send("n");

    terminal.expect("field name");
    terminal.send(ENTER);
    let (status, screen) = terminal.finish();
    assert!(status.success(), "{status}:\n{screen}");
    assert!(screen.contains("src/modules/tasks/mod.rs"), "{screen}");
    let manifest = project.read(".scaffold/manifest.toml");
    assert!(
        manifest.contains(
            "command = \"tasks title:string(80):unique done:bool status:enum(open,done) \
             owner:ref(users)?\""
        ),
        "{manifest}"
    );
    let migration = project.read("migrations/tenant/20250301120000_create_tasks.sql");
    assert!(migration.contains("owner_id UUID"), "{migration}");
}

/// `tasks` generated, then its models.rs edited by hand: the next run finds a conflict.
fn edited_module() -> (Project, String) {
    let project = Project::copy();
    let run = project.run(&["new", "module", "tasks", "title:string"]);
    assert_eq!(run.code, 0, "{run:?}");
    let generated = project.read("src/modules/tasks/models.rs");
    project.write(
        "src/modules/tasks/models.rs",
        &format!("{generated}// Edited by hand.\n"),
    );
    (project, generated)
}

fn ask_about_the_conflict(project: &Project) -> Terminal {
    let mut terminal = Terminal::run(
        project,
        &["new", "module", "tasks", "title:string"],
        &[("NO_COLOR", "1")],
    );
    terminal.expect("src/modules/tasks/models.rs differs from the generated file");
    terminal
}

#[test]
fn a_conflict_shows_its_diff_then_is_skipped() {
    let (project, _) = edited_module();
    let mut terminal = ask_about_the_conflict(&project);
    // overwrite, [skip], show diff, abort
    choose(&mut terminal, 1, "show diff");
    terminal.expect("-// Edited by hand.");
    terminal.expect("differs from the generated file");
    choose(&mut terminal, 0, "skip");
    let (status, screen) = terminal.finish();
    assert!(status.success(), "{status}:\n{screen}");
    assert!(
        screen.contains("skip  src/modules/tasks/models.rs"),
        "{screen}"
    );
    assert!(
        project
            .read("src/modules/tasks/models.rs")
            .ends_with("// Edited by hand.\n")
    );
}

#[test]
fn a_conflict_is_overwritten_when_chosen() {
    let (project, generated) = edited_module();
    let mut terminal = ask_about_the_conflict(&project);
    choose(&mut terminal, -1, "overwrite");
    let (status, screen) = terminal.finish();
    assert!(status.success(), "{status}:\n{screen}");
    assert!(
        screen.contains("overwrite  src/modules/tasks/models.rs"),
        "{screen}"
    );
    assert_eq!(project.read("src/modules/tasks/models.rs"), generated);
}

#[test]
fn aborting_at_a_conflict_changes_nothing() {
    let (project, _) = edited_module();
    let before = project.tree();
    let mut terminal = ask_about_the_conflict(&project);
    choose(&mut terminal, 2, "abort");
    let (status, screen) = terminal.finish();
    assert_eq!(status.code(), Some(1), "{screen}");
    assert!(screen.contains("aborted; nothing was changed"), "{screen}");
    assert!(project.tree() == before, "the tree changed");
}

/// The same command at a terminal, with and without `NO_COLOR`, and in a pipe.
#[test]
fn colours_only_at_a_terminal_and_never_with_no_color() {
    let args = ["new", "module", "notes", "body:text", "--dry-run"];
    let (status, coloured) = Terminal::run(&Project::copy(), &args, &[]).finish();
    assert!(status.success(), "{coloured}");
    // `create` in bold green, and the diff's added lines in green.
    assert!(coloured.contains("\x1b[32m"), "{coloured:?}");

    for no_color in ["1", "0", "false"] {
        let (status, plain) =
            Terminal::run(&Project::copy(), &args, &[("NO_COLOR", no_color)]).finish();
        assert!(status.success(), "{plain}");
        assert!(
            plain.contains("create  src/modules/notes/mod.rs"),
            "{plain}"
        );
        assert!(!plain.contains('\x1b'), "NO_COLOR={no_color}: {plain:?}");
    }

    let project = Project::copy();
    let piped = Command::new(env!("CARGO_BIN_EXE_scaffold"))
        .arg("-C")
        .arg(&project.root)
        .args(args)
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8(piped.stdout).unwrap();
    assert!(piped.status.success(), "{stdout}");
    assert!(
        stdout.contains("create  src/modules/notes/mod.rs"),
        "{stdout}"
    );
    assert!(!stdout.contains('\x1b'), "{stdout:?}");
}

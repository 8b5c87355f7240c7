//! The TypeScript client in `clients/typescript` against the real `server` binary: its types
//! generated from the committed `openapi.json` by openapi-typescript, `tsc --noEmit` over the
//! client and its suite, and `node --test` running the suite's files (the sample module's,
//! `test/projects.test.js`, creates, lists, patches and deletes projects over HTTP with
//! openapi-fetch): every test each file declares must report ok.
//!
//! npm runs in a copy under Cargo's target folder: `node_modules` in the source tree would be
//! embedded in every build of `scaffold`, which embeds this project whole.
//!
//! Without `node` and `npm` the test says so and passes, except in CI (`CI` set), where a
//! suite that did not run is a failure: `.ci/run` installs Node.js when it is missing.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use server::testing::fresh_database;

const SECRET: &str = "typescript-client-test-secret-of-32-bytes";

#[test]
fn the_typescript_client_creates_lists_patches_and_deletes_projects() {
    if !node_is_installed() {
        return;
    }
    let work = Work::new();
    let client = work.copy_client();
    npm(&client, &["ci", "--no-audit", "--no-fund"], &[]);
    npm(&client, &["run", "generate"], &[]);
    npm(&client, &["run", "typecheck"], &[]);

    let database_url = fresh_database();
    let server = |args: &[&str]| -> Output {
        let output = Command::new(env!("CARGO_BIN_EXE_server"))
            .args(args)
            .env("DATABASE_URL", &database_url)
            .env("JWT_SECRET", SECRET)
            .env_remove("APP_ENV")
            .output()
            .expect("run the server binary");
        assert!(output.status.success(), "server {args:?}: {output:?}");
        output
    };
    server(&["migrate"]);
    server(&["tenant", "create", "typescript"]);
    let token = server(&[
        "token",
        "--tenant",
        "typescript",
        "--user",
        "frontend",
        "--permissions",
        "projects:read,projects:write",
    ]);
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let (_running, base) = serve(&database_url);

    let output = npm(
        &client,
        &["test"],
        &[("API_URL", base.as_str()), ("API_TOKEN", token.as_str())],
    );
    // A suite that ran nothing passes too: make sure every test of every file of the suite
    // ran and passed, however many there are (a team that destroys the sample module deletes
    // its file, test/projects.test.js, and the suite may then be empty).
    let report = String::from_utf8_lossy(&output.stdout);
    let count = |word: &str| -> Option<usize> {
        report.lines().find_map(|line| {
            let rest = line.trim_start_matches(['#', 'ℹ', ' ']);
            rest.strip_prefix(word)?.trim().parse().ok()
        })
    };
    let declared = declared_tests(&client.join("test"));
    assert_eq!(count("fail "), Some(0), "{report}");
    assert_eq!(
        count("pass "),
        Some(declared.len()),
        "{declared:?}\n{report}"
    );
    for name in &declared {
        let passed = report.lines().any(|line| {
            line.strip_prefix("ok ")
                .and_then(|rest| rest.split_once(" - "))
                .is_some_and(|(_, reported)| reported == name)
        });
        assert!(passed, "`{name}` did not report ok:\n{report}");
    }
}

/// The names of the top-level tests (`test("name", ...)` at a line's start) of every file of
/// the suite in `dir`, as the TAP report names them.
fn declared_tests(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("test(\"")
                && let Some((name, _)) = rest.split_once('"')
            {
                names.push(name.to_owned());
            }
        }
    }
    names
}

/// Whether `node` and `npm` run here; when they do not, outside CI, a notice.
fn node_is_installed() -> bool {
    let runs = |program: &str| {
        Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success())
    };
    if runs("node") && runs("npm") {
        return true;
    }
    let notice = "the TypeScript client's suite needs Node.js and npm (Debian: apt-get install \
                  nodejs npm)";
    if std::env::var_os("CI").is_some() {
        panic!("{notice}: CI must run it");
    }
    eprintln!("NOTICE: skipped: {notice}");
    false
}

/// `npm ARGS` in `dir`, which must succeed; its output, for the caller to read.
fn npm(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let output = Command::new("npm")
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .output()
        .expect("run npm");
    assert!(
        output.status.success(),
        "npm {} in {} failed ({}):\n{}\n{}",
        args.join(" "),
        dir.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    output
}

/// A folder of this test process's own under Cargo's target folder, laid out as the project is
/// (`openapi.json` beside `clients/typescript`), removed when the test ends.
struct Work(PathBuf);

impl Work {
    fn new() -> Work {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("typescript-client-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Work(dir)
    }

    /// The committed document and the client's sources, without what npm and the generator
    /// leave behind in the source tree.
    fn copy_client(&self) -> PathBuf {
        let project = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::copy(project.join("openapi.json"), self.0.join("openapi.json"))
            .expect("the committed OpenAPI document, openapi.json");
        let client = self.0.join("clients/typescript");
        copy_tree(&project.join("clients/typescript"), &client);
        client
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "node_modules" || name == "generated" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `server serve` on a port of its own choosing, read from the line it logs once it listens
/// (a port picked here and bound later could be taken in between).
fn serve(database_url: &str) -> (Running, String) {
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_server"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("JWT_SECRET", SECRET)
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .env_remove("APP_ENV")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server binary"),
    );
    let stderr = child.0.stderr.take().unwrap();
    let (found, address) = mpsc::channel();
    // Reads the log to its end, so that the server never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut log = Vec::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("listening")
                && let Some((_, rest)) = line.split_once("addr=")
            {
                let _ = found.send(Ok(rest.split_whitespace().next().unwrap_or("").to_owned()));
            }
            log.push(line);
        }
        let _ = found.send(Err(log.join("\n")));
    });
    match address.recv_timeout(Duration::from_secs(20)) {
        Ok(Ok(address)) => (child, format!("http://{address}")),
        Ok(Err(log)) => panic!("the server ended without listening:\n{log}"),
        Err(error) => panic!("the server did not log its address within 20 s: {error}"),
    }
}

//! The READMEs cannot drift: every ```sh block of README.md, the pages of docs/ and
//! examples/server/README.md runs as written, in order, as a newcomer would type it, and the
//! commands scaffold prints for the user to run next work from where the user ran it.
//!
//! The rule, also stated in docs/tests.md:
//! - Every block fenced ```sh runs, unless the line before its fence is an HTML comment
//!   `<!-- not run: <why> -->`. Other shell-like fences (`bash`, `shell`, `console`) are
//!   refused, so that no block escapes by its spelling; `toml` and plain blocks are not shell.
//! - Each line is one command (a line ending in `\` continues on the next); `# exit N` on a
//!   line says it must exit with N (0 otherwise), `# prints nothing` that its output must be
//!   empty. The pages run in the order of [`READMES`]: README.md, then the pages of docs/ in
//!   the order their sections had when all of them were README.md (so each block finds what
//!   it found then), then examples/server/README.md; a page in docs/ that is not listed fails
//!   a test. A page's blocks run in order, each in a fresh bash started in the folder the page
//!   is written from (the repository root for README.md and docs/, examples/server for its
//!   README); files, the database and the home folder carry over from block to block and
//!   from page to page, as they would for a person following them all.
//! - The sandbox: a copy of the repository (a git repository with everything committed), its
//!   own HOME, a fresh database in `DATABASE_URL`, its own port (every `localhost:8080` in a
//!   block becomes it, and `BIND_ADDR` is set), `EDITOR=true`, and on the PATH: `scaffold` (the
//!   binary under test, as `cargo install --path .` would give) and a `cargo` that runs the
//!   repository's packages from binaries built once (`cargo run -p server -- migrate` runs the
//!   built server) instead of building the copy, treats `cargo build` of them as done and
//!   `cargo test` in the copy as the suite this test is part of. Every other cargo command
//!   (say, `cargo test` in a new app) is the real cargo.
//! - Whatever a block started (a server in the background) is killed when it ends.

mod common;
mod example_server;

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::git;
use example_server::{target_dir, workspace_dir};

/// The pages whose blocks run, in the order they run, each with the folder (relative to the
/// repository) its blocks start in. The docs/ pages were README.md's sections, in this order,
/// and are written from the repository root as they were.
const READMES: &[(&str, &str)] = &[
    ("README.md", "."),
    ("docs/generator.md", "."),
    ("docs/lifecycle.md", "."),
    ("docs/onboarding.md", "."),
    ("docs/links.md", "."),
    ("docs/people.md", "."),
    ("docs/api-shape.md", "."),
    ("docs/server.md", "."),
    ("docs/tests.md", "."),
    ("docs/performance.md", "."),
    ("examples/server/README.md", "examples/server"),
];
/// The port the READMEs use, replaced by the sandbox's own.
const README_PORTS: &[&str] = &["localhost:8080", "127.0.0.1:8080"];
/// The app that docs/onboarding.md creates in the home folder.
const README_APP: &str = "billing-api";
/// Long enough for a block that builds and tests a new app on a busy machine.
const BLOCK_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// A ```sh block of a README.
#[derive(Debug)]
struct Block {
    readme: &'static str,
    /// 1-based line of the opening fence.
    line: usize,
    /// `None` when it runs; the reason given when it does not.
    not_run: Option<String>,
    text: String,
}

/// The ```sh blocks of `readme` (relative to the repository), by the rule above.
fn blocks(readme: &'static str, text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        let Some(info) = lines[at].trim_start().strip_prefix("```") else {
            at += 1;
            continue;
        };
        let end = (at + 1..lines.len())
            .find(|&i| lines[i].trim_start().starts_with("```"))
            .unwrap_or_else(|| panic!("{readme}:{}: a block that never closes", at + 1));
        let language = info.split_whitespace().next().unwrap_or_default();
        assert!(
            !["bash", "shell", "console", "shell-session", "zsh"].contains(&language),
            "{readme}:{}: fence the block with ```sh so that tests/readme.rs runs it (or put \
             `<!-- not run: <why> -->` before it)",
            at + 1
        );
        if language == "sh" {
            let marker = at
                .checked_sub(1)
                .and_then(|before| lines[before].trim().strip_prefix("<!-- not run:"))
                .map(|rest| rest.trim_end_matches("-->").trim().to_owned());
            if let Some(reason) = &marker {
                assert!(
                    !reason.is_empty(),
                    "{readme}:{at}: say why the block is not run"
                );
            }
            blocks.push(Block {
                readme,
                line: at + 1,
                not_run: marker,
                text: lines[at + 1..end].join("\n"),
            });
        }
        at = end + 1;
    }
    blocks
}

/// One command per line, continuation lines joined, with the line it starts on.
fn commands(block: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, line) in block.lines().enumerate() {
        let (start, mut text) = pending.take().unwrap_or((index, String::new()));
        text.push_str(line);
        if text.ends_with('\\') {
            pending = Some((start, format!("{text}\n")));
            continue;
        }
        let trimmed = text.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            out.push((start, text));
        }
    }
    assert!(pending.is_none(), "a block ends with a `\\`");
    out
}

/// The block as a bash script that checks each command's exit status (and output where the
/// block says it prints nothing) and stops at the first surprise.
fn script(block: &Block, port: u16) -> String {
    let mut text = block.text.clone();
    for readme_port in README_PORTS {
        text = text.replace(readme_port, &format!("127.0.0.1:{port}"));
    }
    let mut script = String::from("shopt -s expand_aliases\n");
    for (line, command) in commands(&text) {
        let at = format!("{}:{}", block.readme, block.line + 1 + line);
        let comment = command.rsplit_once(" # ").map_or("", |(_, c)| c);
        let expected: i32 = comment
            .strip_prefix("exit ")
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .map_or(0, |code| code.parse().expect("`# exit N` has a number"));
        let quiet = comment.starts_with("prints nothing");
        if quiet {
            script.push_str(&format!(
                "__out=$( {{ {command}\n}} 2>&1 ); __status=$?\n\
                 if [ -n \"$__out\" ]; then printf '%s\\n' \"README {at}: expected no output, \
                 got:\" \"$__out\" >&2; exit 97; fi\n"
            ));
        } else {
            script.push_str(&format!("{command}\n__status=$?\n"));
        }
        script.push_str(&format!(
            "if [ \"$__status\" != {expected} ]; then echo \"README {at}: exit $__status, \
             expected {expected}\" >&2; exit 98; fi\n"
        ));
    }
    script
}

/// A copy of the repository to follow the READMEs in, with everything they need on the PATH.
struct Sandbox {
    _dir: tempfile::TempDir,
    repo: PathBuf,
    home: PathBuf,
    bin: PathBuf,
    log: PathBuf,
    database_url: String,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let home = dir.path().join("home");
        let bin = dir.path().join("bin");
        for folder in [&repo, &home, &bin] {
            fs::create_dir_all(folder).unwrap();
        }
        let repo = repo.canonicalize().unwrap();
        copy_repository(&repo);
        for args in [
            &["init", "-q"][..],
            &["add", "-A"],
            &["commit", "-q", "-m", "checkout"],
        ] {
            git(&repo, args);
        }
        let server = built_server();
        let log = dir.path().join("cargo.log");
        let shim = CARGO_SHIM
            .replace("@REAL_CARGO@", env!("CARGO"))
            .replace("@REPO@", &repo.display().to_string())
            .replace("@LOG@", &log.display().to_string())
            .replace("@SCAFFOLD@", env!("CARGO_BIN_EXE_scaffold"))
            .replace("@SERVER@", &server.display().to_string());
        write_executable(&bin.join("cargo"), &shim);
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_scaffold"), bin.join("scaffold")).unwrap();
        let database_url = server::testing::fresh_database();
        Self {
            _dir: dir,
            repo,
            home,
            bin,
            log,
            database_url,
        }
    }

    /// `bash -c script` in `folder` of the copy, in a process group of its own that is killed
    /// when it ends, with the sandbox's environment.
    fn bash(&self, folder: &Path, script: &str, port: u16) -> std::process::Output {
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = Command::new("bash");
        command
            .args(["-c", script])
            .current_dir(folder)
            .env("PATH", path)
            .env("HOME", &self.home)
            .env("DATABASE_URL", &self.database_url)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("EDITOR", "true")
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "warn")
            .env("CARGO_TARGET_DIR", target_dir())
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("CARGO_MAKEFLAGS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let child = command.spawn().expect("bash runs");
        // Killed with whatever the block left running, such as a server in the background
        // (which keeps the pipes open after bash exits). A block killed at the limit fails
        // as any block that a signal ended.
        common::wait_within(child, BLOCK_TIMEOUT, true).unwrap_or_else(|killed| killed)
    }

    /// What the `cargo` on the PATH did: one line per command it ran for a package of the
    /// repository, `<subcommand> <package>`.
    fn cargo_log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

#[test]
fn every_readme_block_runs_as_written() {
    let sandbox = Sandbox::new();
    let mut ran = 0;
    let mut transcript = String::new();
    for &(readme, folder) in READMES {
        let text = fs::read_to_string(workspace_dir().join(readme)).unwrap();
        let folder = sandbox.repo.join(folder);
        for block in blocks(readme, &text) {
            if block.not_run.is_some() {
                continue;
            }
            let started = Instant::now();
            let port = free_port();
            let output = sandbox.bash(&folder, &script(&block, port), port);
            eprintln!("{}:{}: {:.1?}", block.readme, block.line, started.elapsed());
            assert!(
                output.status.success(),
                "the block at {}:{} failed ({}):\n{}\n--- stdout\n{}\n--- stderr\n{}",
                block.readme,
                block.line,
                output.status,
                block.text,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            transcript.push_str(&String::from_utf8_lossy(&output.stdout));
            ran += 1;
        }
    }
    assert!(ran >= 8, "only {ran} blocks ran");
    the_app_the_readme_made_is_ready_for_ci(&sandbox.home.join(README_APP), &transcript);
}

/// The app of docs/onboarding.md, which its blocks created, built and tested:
/// every generated test of its modules ran and passed in the section's `cargo test`
/// (`transcript` is the blocks' output), what a CI of its own would also run passes, and its
/// binary knows its name. (This is the one app build of the suite; tests/new_app.rs checks the
/// rest without building.)
fn the_app_the_readme_made_is_ready_for_ci(app: &Path, transcript: &str) {
    assert!(
        app.join("Cargo.toml").is_file(),
        "docs/onboarding.md makes ~/{README_APP}; if it makes another app, change README_APP \
         in tests/readme.rs"
    );
    // The modules when the section's `cargo test` ran (a later block adds `payments` with a
    // team template and does not test it). The next block destroys the sample `projects`, whose
    // tests are the reference server's, and tests the app again without it.
    example_server::generated_tests_passed(
        &workspace_dir().join("examples/server"),
        "projects",
        transcript,
    );
    example_server::generated_tests_passed(app, "invoices", transcript);
    assert!(
        !app.join("src/modules/projects").exists(),
        "docs/onboarding.md destroys the sample module"
    );
    example_server::cargo(app, &["fmt", "--check"]);
    example_server::cargo(app, &["clippy", "--all-targets", "--", "-D", "warnings"]);
    let help =
        common::output(Command::new(target_dir().join("debug").join(README_APP)).arg("--help"));
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains(&format!("Usage: {README_APP}")), "{help}");
    assert!(
        help.contains(&format!("{README_APP} tenant create acme")),
        "{help}"
    );
}

/// `new module` from the repository root with `-C examples/server` prints next steps that
/// work from the root, and so does `destroy`; they are run here as printed.
#[test]
fn printed_next_steps_run_from_where_scaffold_ran() {
    let sandbox = Sandbox::new();
    let run = |script: &str| {
        let output = sandbox.bash(&sandbox.repo, script, free_port());
        assert!(output.status.success(), "{script}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let new = run("scaffold -C examples/server new module labels name:string");
    let steps = printed_commands(&new, "next steps:");
    assert_eq!(
        steps,
        [
            "cargo run -p server -- migrate",
            "cargo test -p server --lib labels",
            "cargo test -p server"
        ],
        "{new}"
    );
    for step in &steps {
        run(step);
    }
    let destroy = run("scaffold -C examples/server destroy module labels");
    let hint = destroy
        .split("then run `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("a command in {destroy}"));
    assert_eq!(hint, "cargo run -p server -- migrate");
    run(hint);
    // Each cargo command reached the server, not scaffold (the root package).
    assert_eq!(
        sandbox.cargo_log(),
        "run server\ntest server\ntest server\nrun server\n",
        "what the printed commands ran"
    );
}

/// The commands listed under `heading` in scaffold's output, up to the first blank line.
fn printed_commands(output: &str, heading: &str) -> Vec<String> {
    output
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("no {heading:?} in {output}"))
        .lines()
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .map(|line| line.trim().split("   ").next().unwrap().to_owned())
        .collect()
}

/// A page added to docs/ runs too: each one is in [`READMES`], at the place its blocks belong.
#[test]
fn every_page_of_docs_is_listed() {
    for entry in fs::read_dir(workspace_dir().join("docs")).unwrap() {
        let page = format!("docs/{}", entry.unwrap().file_name().to_string_lossy());
        assert!(
            !page.ends_with(".md") || READMES.iter().any(|&(listed, _)| listed == page),
            "{page}: add it to READMES in tests/readme.rs, where its blocks should run"
        );
    }
}

#[test]
fn the_block_rule_finds_marks_and_refuses() {
    let readme = "text\n```sh\necho one\n```\n<!-- not run: needs a terminal -->\n```sh\nvi x\n\
                  ```\n```toml\n[a]\n```\n```\nplain\n```\n";
    let found = blocks("R.md", readme);
    assert_eq!(found.len(), 2);
    assert_eq!((found[0].line, found[0].not_run.as_deref()), (2, None));
    assert_eq!(found[1].not_run.as_deref(), Some("needs a terminal"));
    let refused = std::panic::catch_unwind(|| blocks("R.md", "```bash\nls\n```\n"));
    assert!(refused.is_err(), "a ```bash block must not slip through");
    assert_eq!(
        commands("# c\nfoo \\\n  --bar\n\nbaz # exit 1\n"),
        [
            (1, "foo \\\n  --bar".to_owned()),
            (4, "baz # exit 1".to_owned())
        ]
    );
}

/// The repository as a fresh clone has it, with the working tree's changes: the files git
/// knows or would add.
fn copy_repository(to: &Path) {
    let root = workspace_dir();
    let listed = git(
        &root,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    );
    for relative in listed.split('\0').filter(|p| !p.is_empty()) {
        let from = root.join(relative);
        if !from.is_file() {
            continue; // deleted in the working tree
        }
        let target = to.join(relative);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::copy(&from, &target).unwrap();
    }
}

/// The server binary of this workspace, as `cargo test --workspace` builds it: asking for
/// exactly that build finds it current within the suite (a `cargo build -p server` would
/// resolve other dependency features and rebuild much of the tree), and builds it when this
/// test runs alone.
fn built_server() -> PathBuf {
    let output = Command::new(env!("CARGO"))
        .args(["test", "--workspace", "--no-run", "-q"])
        .current_dir(workspace_dir())
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo test --workspace --no-run: {output:?}"
    );
    target_dir().join("debug/server")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write_executable(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// `cargo` on the sandbox's PATH (see the module documentation).
const CARGO_SHIM: &str = r#"#!/usr/bin/env bash
# cargo as tests/readme.rs runs the READMEs: the repository's own packages run from binaries
# built once, instead of building the copy into the shared target folder.
real='@REAL_CARGO@'
case "${1:-}" in
    run|build|test|install) ;;
    *) exec "$real" "$@" ;;
esac
sub=$1
shift
original=("$@")
foreign() {
    # Another project's tests start a PostgreSQL of their own: in the sandbox's database they
    # would leave tenants with that project's migrations, which the reference server's
    # `migrate` rightly refuses as drift.
    [ "$sub" = test ] && unset DATABASE_URL
    exec "$real" "$sub" "${original[@]}"
}
package=
manifest=
while [ $# -gt 0 ]; do
    case "$1" in
        --) shift; break ;;
        -p|--package) package=$2; shift 2 ;;
        --manifest-path) manifest=$2; shift 2 ;;
        *) shift ;;
    esac
done
# Which package cargo would pick here, asked of cargo itself.
id=$("$real" pkgid --offline ${manifest:+--manifest-path "$manifest"} ${package:+"$package"}) || exit 101
case "$id" in
    "path+file://@REPO@#"*|"path+file://@REPO@/"*) ;;
    *) foreign ;;
esac
fragment=${id#*#}
case "$fragment" in
    *@*) name=${fragment%@*} ;;
    *) url=${id%%#*}; name=${url##*/} ;;
esac
case "$name" in
    scaffold|server) echo "$sub $name" >> '@LOG@' ;;
    # Another package in the copy, such as a new app made there: its own workspace.
    *) foreign ;;
esac
case "$sub $name" in
    "run scaffold") exec '@SCAFFOLD@' "$@" ;;
    "run server") exec '@SERVER@' "$@" ;;
    "build "*) exit 0 ;;
    "test "*) echo "(README test: \`cargo test\` here is the suite this test runs in)" >&2; exit 0 ;;
    *) echo "README test: cannot \`cargo $sub\` $name; mark the block <!-- not run: ... -->" >&2; exit 101 ;;
esac
"#;

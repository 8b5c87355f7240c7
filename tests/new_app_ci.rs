//! The CI workflow `scaffold new app` writes, `.github/workflows/ci.yml`: jactionlint (actionlint's
//! checks, with shellcheck over every `run:` script) finds nothing in it, it runs the steps a
//! team relies on, and every command it runs exists: each `scaffold` subcommand, each
//! `cargo test --test` target and each script it names is in the new app.
//!
//! The linters come from PyPI, pinned in tests/workflow/requirements.txt, into a virtual
//! environment of this test's own.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{output, run_in};
use serde_json::Value;

#[test]
fn a_new_apps_workflow_passes_actionlint_and_runs_only_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["new", "app", "billing-api"]);
    assert_eq!(run.code, 0, "{run:?}");
    let app = dir.path().join("billing-api");
    let workflow = app.join(".github/workflows/ci.yml");
    assert!(workflow.is_file(), "new app writes {}", workflow.display());

    let linters = Linters::install();
    let lint = linters.run(
        "jactionlint",
        &[
            "--profile",
            "correctness",
            "--no-online",
            "--strict-exit",
            "--no-color",
            "--oneline",
        ],
        &workflow,
    );
    assert!(
        lint.status.success() && lint.stdout.is_empty(),
        "jactionlint found problems in the new app's workflow:\n{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr),
    );
    let yaml = linters.run(
        "python",
        &[
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
        ],
        &workflow,
    );
    assert!(yaml.status.success(), "{yaml:?}");
    let workflow: Value = serde_json::from_slice(&yaml.stdout).unwrap();

    let commands = commands(&workflow);
    for step in [
        "scaffold lint",
        "scaffold check",
        "cargo fmt --check",
        "cargo test --test openapi",
        "cargo test",
    ] {
        assert!(
            commands.iter().any(|command| command.join(" ") == step),
            "the workflow does not run `{step}`; it runs {commands:?}"
        );
    }
    for command in &commands {
        check_exists(&app, command);
    }
}

/// The checks of the commands refuse a subcommand, test target, script or program that is not
/// there, so that the workflow test cannot pass a step that would fail in CI.
#[test]
fn commands_that_do_not_exist_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run_in(dir.path(), &["new", "app", "billing"]).code, 0);
    let app = dir.path().join("billing");
    check_exists(&app, &words("scaffold lint"));
    check_exists(&app, &words("cargo test --test binary"));
    for missing in [
        "scaffold lnt",
        "cargo test --test no_such_target",
        "cargo no-such-subcommand",
        "bash scripts/no-such-script.sh",
        "bash .github/workflows/ci.yml --binary target/debug/server",
        "curl -sSf https://example.com",
    ] {
        let refused = std::panic::catch_unwind(|| check_exists(&app, &words(missing)));
        assert!(refused.is_err(), "`{missing}` passed the check");
    }
}

fn words(command: &str) -> Vec<String> {
    command.split_whitespace().map(str::to_owned).collect()
}

/// docs/onboarding.md shows the workflow's steps: every line it shows is a line of the workflow.
#[test]
fn the_onboarding_page_shows_the_workflow_as_it_is() {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/onboarding.md"))
            .unwrap();
    let excerpt = page
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/onboarding.md shows the workflow's steps in a ```yaml block");
    let workflow = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/server/.github/workflows/ci.yml"),
    )
    .unwrap();
    let lines: Vec<&str> = workflow.lines().collect();
    for shown in excerpt.lines().filter(|line| !line.trim().is_empty()) {
        assert!(
            lines.contains(&shown),
            "docs/onboarding.md shows `{shown}`, which is not a line of the workflow"
        );
    }
}

/// Every command of every `run:` step, as words: one per line and per `&&`, `||`, `;` or `|`,
/// with a leading `if`, `then`, `else` or `!` taken off.
fn commands(workflow: &Value) -> Vec<Vec<String>> {
    let jobs = workflow["jobs"].as_object().expect("the workflow has jobs");
    let scripts = jobs
        .values()
        .flat_map(|job| job["steps"].as_array().expect("every job has steps"))
        .filter_map(|step| step["run"].as_str());
    let mut commands = Vec::new();
    for script in scripts {
        for line in script.lines().map(str::trim) {
            if line.starts_with('#') {
                continue;
            }
            for part in line.split(['&', '|', ';']) {
                let mut words: Vec<String> = part
                    .split_whitespace()
                    .map(|word| word.trim_matches('"').to_owned())
                    .collect();
                while words
                    .first()
                    .is_some_and(|word| ["if", "then", "else", "!"].contains(&word.as_str()))
                {
                    words.remove(0);
                }
                if !words.is_empty() {
                    commands.push(words);
                }
            }
        }
    }
    commands
}

/// The command runs in the new app: a real scaffold subcommand, a cargo test target the app
/// has, a script the app has. A program this test does not know is an error, so that a new
/// kind of step gets a check here.
fn check_exists(app: &Path, command: &[String]) {
    let words: Vec<&str> = command.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["scaffold", subcommand, ..] => {
            let help = run_in(app, &[subcommand, "--help"]);
            assert_eq!(
                help.code, 0,
                "`scaffold {subcommand}` does not exist: {help:?}"
            );
        }
        ["cargo", subcommand, rest @ ..] => {
            let help = output(Command::new("cargo").args([subcommand, "--help"]));
            assert!(help.status.success(), "`cargo {subcommand}`: {help:?}");
            if let Some(at) = rest.iter().position(|word| *word == "--test") {
                let target = rest.get(at + 1).expect("--test names a target");
                let file = app.join("tests").join(format!("{target}.rs"));
                assert!(
                    file.is_file(),
                    "`cargo test --test {target}`: the new app has no {}",
                    file.display()
                );
            }
        }
        ["bash", script, rest @ ..] => {
            assert!(
                app.join(script).is_file(),
                "`bash {script}`: the new app has no such script"
            );
            // A binary it is handed is the one `cargo test` builds: the app's own.
            let binary = format!(
                "target/debug/{}",
                app.file_name().unwrap().to_string_lossy()
            );
            for word in rest.iter().filter(|word| word.starts_with("target/")) {
                assert_eq!(
                    *word,
                    binary,
                    "`{}`: the app's binary is {binary}",
                    words.join(" ")
                );
            }
        }
        ["[", ..] | ["echo", ..] | ["exit", ..] | ["fi"] => {}
        _ => panic!("the workflow runs {words:?}: add a check that it exists to this test"),
    }
}

/// A virtual environment with the pinned linters, removed when the test ends.
struct Linters(PathBuf);

impl Linters {
    fn install() -> Linters {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("workflow-linters-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let venv = output(Command::new("python3").args(["-m", "venv"]).arg(&dir));
        assert!(
            venv.status.success(),
            "python3 -m venv (Debian: apt-get install python3-venv): {venv:?}"
        );
        let linters = Linters(dir);
        let requirements =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/workflow/requirements.txt");
        let pip = output(
            Command::new(linters.bin("pip"))
                .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
                .arg(requirements),
        );
        assert!(pip.status.success(), "pip install: {pip:?}");
        linters
    }

    fn bin(&self, program: &str) -> PathBuf {
        self.0.join("bin").join(program)
    }

    /// `program ARGS file`, with the environment's programs (shellcheck) first on the PATH.
    fn run(&self, program: &str, args: &[&str], file: &Path) -> Output {
        let path = std::env::join_paths(std::iter::once(self.0.join("bin")).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))
        .unwrap();
        output(
            Command::new(self.bin(program))
                .args(args)
                .arg(file)
                .env("PATH", path),
        )
    }
}

impl Drop for Linters {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

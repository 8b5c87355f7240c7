//! Temporary copies of `examples/server`, for the tests that generate into the reference
//! server rather than into the small fixture project.

#![allow(dead_code)] // each test file uses its own subset

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::common::copy_tree;

pub fn workspace_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn server_dir() -> PathBuf {
    workspace_dir().join("examples/server")
}

/// Everything `scaffold new module` reads in `project`, relative to it, as its scaffold.toml
/// says: the config itself, the Cargo manifest (rustfmt takes the edition from it), a rustfmt
/// config, scaffold's record of what it generated (`.scaffold`), the source folder
/// (reserved names, module folders, registration files), the migrations and the template
/// folder. Only what exists, and no path inside another one.
pub fn generation_inputs(project: &Path) -> Vec<PathBuf> {
    let config = scaffold::input::project::Project::load(project)
        .expect("examples/server has a valid scaffold.toml")
        .config;
    let mut paths: Vec<PathBuf> = [
        "scaffold.toml",
        "Cargo.toml",
        "rustfmt.toml",
        ".rustfmt.toml",
        scaffold::write::manifest::DIR,
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    paths.extend([
        config.paths.src.clone(),
        config.paths.modules.clone(),
        config.paths.migrations.clone(),
    ]);
    paths.extend(config.templates.dir.clone());
    paths.extend(config.registration.values().cloned());
    paths.retain(|path| project.join(path).exists());
    outermost(paths)
}

/// `paths` without duplicates and without those inside another one.
fn outermost(mut paths: Vec<PathBuf>) -> Vec<PathBuf> {
    paths.sort();
    paths.dedup();
    paths
        .iter()
        .filter(|path| {
            !paths
                .iter()
                .any(|other| other != *path && path.starts_with(other))
        })
        .cloned()
        .collect()
}

/// A copy of (part of) `examples/server` in a temporary folder.
pub use crate::common::Project as ServerCopy;

impl ServerCopy {
    /// Exactly what generation reads (see [`generation_inputs`]).
    pub fn generation_inputs() -> Self {
        let from = server_dir();
        Self::of(&from, &generation_inputs(&from))
    }

    /// A crate that builds and tests on its own: the generation inputs, the build script and
    /// every migration it embeds, the integration tests, and the workspace's Cargo.lock so
    /// that the same dependency versions are used (and, with the shared target folder,
    /// reused).
    pub fn whole_crate() -> Self {
        let from = server_dir();
        let mut paths = generation_inputs(&from);
        paths.extend(["build.rs", "migrations", "tests"].map(PathBuf::from));
        let copy = Self::of(&from, &outermost(paths));
        fs::copy(
            workspace_dir().join("Cargo.lock"),
            copy.root.join("Cargo.lock"),
        )
        .unwrap();
        // The copy is a workspace of its own: the workspace's optimised Argon2 goes with it
        // (as into a new app's, `new_app::ARGON2_PROFILE`), or `:secret` tests crawl.
        let manifest = copy.root.join("Cargo.toml");
        let text = fs::read_to_string(&manifest).unwrap();
        let profile = "\n[profile.dev.package.argon2]\nopt-level = 3\n\n\
                       [profile.dev.package.blake2]\nopt-level = 3\n";
        fs::write(manifest, text + profile).unwrap();
        copy
    }

    fn of(from: &Path, paths: &[PathBuf]) -> Self {
        let copy = Self::empty("server");
        for path in paths {
            let source = from.join(path);
            let target = copy.root.join(path);
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            if source.is_dir() {
                copy_tree(&source, &target);
            } else {
                fs::copy(&source, &target).unwrap();
            }
        }
        copy
    }
}

/// The `create`/`identical`/... lines of a run's output, as (label, path).
pub fn file_lines(stdout: &str) -> Vec<(&str, &str)> {
    const LABELS: &[&str] = &[
        "create",
        "identical",
        "conflict",
        "overwrite",
        "inject",
        "skip",
    ];
    stdout
        .lines()
        .filter_map(|line| {
            let (label, path) = line.trim_start().split_once("  ")?;
            LABELS.contains(&label).then_some((label, path.trim()))
        })
        .collect()
}

/// The workspace's target folder (or the one the workspace is built into), so that the
/// copy reuses the compiled dependencies.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| workspace_dir().join(dir))
        .unwrap_or_else(|| workspace_dir().join("target"))
}

/// Runs `cargo <args>` in `root`; on failure, panics with everything the command printed.
/// Runs cargo in `root` and returns its standard output; fails the test if cargo fails.
pub fn cargo(root: &Path, args: &[&str]) -> String {
    let started = Instant::now();
    let mut command = Command::new(env!("CARGO"));
    command
        .args(args)
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_TERM_COLOR", "never")
        .stdin(std::process::Stdio::null());
    // Never the shared DATABASE_URL: the copy's tenants would carry migrations that the
    // shared database's other tenants lack, and `server migrate` there would then fail. The
    // copy's test harness starts a throwaway PostgreSQL of its own instead.
    command.env_remove("DATABASE_URL");
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "`cargo {}` failed ({}) in {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        args.join(" "),
        output.status,
        root.display()
    );
    eprintln!("`cargo {}`: {:.2?}", args.join(" "), started.elapsed());
    // What ran, for the log: each test binary and its counts.
    for line in stderr.lines().chain(stdout.lines()) {
        if line.trim_start().starts_with("Running") || line.starts_with("test result:") {
            eprintln!("    {}", line.trim());
        }
    }
    stdout.into_owned()
}

/// Every `#[tokio::test]` of the module's generated `tests.rs` in `root` ran and passed, by
/// name, in `output` (what `cargo test` printed): a suite that exits 0 because a test was
/// filtered out, ignored or never compiled in proves nothing.
pub fn generated_tests_passed(root: &Path, module: &str, output: &str) -> usize {
    let tests = std::fs::read_to_string(root.join(format!("src/modules/{module}/tests.rs")))
        .unwrap_or_else(|e| panic!("{module}'s tests.rs: {e}"));
    let names: Vec<&str> = tests
        .split("#[tokio::test]")
        .skip(1)
        .filter_map(|after| after.trim_start().strip_prefix("async fn "))
        .filter_map(|rest| rest.split('(').next())
        .collect();
    assert!(!names.is_empty(), "{module} has no generated tests");
    for name in &names {
        let line = format!("test modules::{module}::tests::{name} ... ok");
        assert!(
            output.lines().any(|l| l == line),
            "`{line}` is not in the output of cargo test"
        );
    }
    names.len()
}

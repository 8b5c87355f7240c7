//! `scaffold new app`: a new project from the reference server, renamed, that builds outside
//! this repository, takes a generated module, and passes lint, check, fmt, clippy and its own
//! tests against PostgreSQL.

mod common;
mod example_server;

use common::run_in;
use example_server::cargo;

#[test]
fn a_new_app_builds_takes_a_module_and_passes_its_tests() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["new", "app", "billing-api"]);
    assert_eq!(run.code, 0, "{run:?}");
    let app = dir.path().join("billing-api");
    let manifest = std::fs::read_to_string(app.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"billing-api\""), "{manifest}");
    assert!(
        manifest.contains("\n[workspace]\n"),
        "its own workspace: {manifest}"
    );
    // Features such as hyper's "server" stay; the reference server's name does not.
    assert!(!manifest.contains("name = \"server\""), "{manifest}");
    let readme = std::fs::read_to_string(app.join("README.md")).unwrap();
    assert!(readme.starts_with("# billing-api\n"), "{readme}");

    let run = run_in(
        &app,
        &[
            "new",
            "module",
            "invoices",
            "number:string:unique",
            "total:decimal",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    for command in [&["lint"][..], &["check"]] {
        let run = run_in(&app, command);
        assert_eq!(run.code, 0, "{command:?}: {run:?}");
    }
    cargo(&app, &["fmt", "--check"]);
    cargo(&app, &["clippy", "--all-targets", "--", "-D", "warnings"]);
    cargo(&app, &["test"]);

    let binary = example_server::target_dir().join("debug/billing-api");
    let help = std::process::Command::new(binary)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("Usage: billing-api"), "{help}");
    assert!(help.contains("billing-api tenant create acme"), "{help}");
}

#[test]
fn new_app_refuses_a_folder_with_files_and_bad_names() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("taken")).unwrap();
    std::fs::write(dir.path().join("taken/notes.txt"), "mine").unwrap();
    let before = common::tree(dir.path());

    let run = run_in(dir.path(), &["new", "app", "taken"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("is not empty"), "{run:?}");

    for bad in ["Billing", "1api", "billing.api", "fn"] {
        let run = run_in(dir.path(), &["new", "app", bad]);
        assert_eq!(run.code, 1, "{bad}: {run:?}");
        assert!(run.stderr.contains("cannot name a crate"), "{bad}: {run:?}");
    }
    assert_eq!(common::tree(dir.path()), before, "nothing was written");

    let run = run_in(dir.path(), &["new", "app", "fresh", "--dir", "taken"]);
    assert_eq!(run.code, 1, "{run:?}");
    let run = run_in(
        dir.path(),
        &["new", "app", "fresh", "--dir", "elsewhere/fresh"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        dir.path()
            .join("elsewhere/fresh/src/modules/projects/tests.rs")
            .is_file()
    );
}

//! `scaffold new app`: a new project from the reference server, renamed, that takes a generated
//! module and passes lint and check. That it builds outside this repository and passes fmt,
//! clippy and its own tests against PostgreSQL is shown by tests/readme.rs, which follows the
//! README's onboarding section (the suite's one build of a new app).

mod common;

use common::{fails_in, run_in};

#[test]
fn a_new_app_is_renamed_and_takes_a_module() {
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
    assert!(
        manifest.contains("description = \"billing-api: a multi-tenant Axum server"),
        "its own description, not the reference server's: {manifest}"
    );
    let readme = std::fs::read_to_string(app.join("README.md")).unwrap();
    assert!(readme.starts_with("# billing-api\n"), "{readme}");
    // The committed OpenAPI document is titled as `billing-api openapi` prints it.
    let document = std::fs::read_to_string(app.join("openapi.json")).unwrap();
    assert!(
        document.contains("\"title\": \"billing-api\""),
        "{document}"
    );
    assert!(!document.contains("\"title\": \"server\""), "{document}");

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
    // The module's own tests are run under the app's package name.
    assert!(
        run.stdout
            .contains("cargo test -p billing-api --lib invoices"),
        "{run:?}"
    );
    for command in [&["lint"][..], &["check"]] {
        let run = run_in(&app, command);
        assert_eq!(run.code, 0, "{command:?}: {run:?}");
    }
}

#[test]
fn new_app_refuses_a_folder_with_files_and_bad_names() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("taken")).unwrap();
    std::fs::write(dir.path().join("taken/notes.txt"), "mine").unwrap();

    fails_in(dir.path(), &["new", "app", "taken"], &["is not empty"]);
    for bad in ["Billing", "1api", "billing.api", "fn"] {
        fails_in(dir.path(), &["new", "app", bad], &["cannot name a crate"]);
    }
    fails_in(dir.path(), &["new", "app", "fresh", "--dir", "taken"], &[]);
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

#[test]
fn new_app_refuses_to_nest_inside_a_scaffold_project() {
    // As the README's alias does: `scaffold -C examples/server new app ...`.
    let project = common::Project::copy();
    let before = project.tree();
    for (cwd, args) in [
        (&project.root, &["-C", ".", "new", "app", "billing"][..]),
        (
            &project.path("src"),
            &["new", "app", "billing", "--dir", "deep/er"],
        ),
    ] {
        fails_in(
            cwd,
            args,
            &[
                "is inside the scaffold project",
                "`scaffold new app billing --dir ",
            ],
        );
    }
    assert_eq!(project.tree(), before, "nothing was written");
}

//! `examples/server/src/modules/projects` is generator output: generating it again with the
//! spec it was made from finds every file identical and changes nothing.

mod common;
mod example_server;

use example_server::{ServerCopy, file_lines, server_dir};

const PROJECTS: &[&str] = &[
    "new",
    "module",
    "projects",
    "name:string",
    "description:text?",
];

/// Every file the module consists of, as the generator reports it.
const FILES: &[&str] = &[
    "src/modules/projects/mod.rs",
    "src/modules/projects/models.rs",
    "src/modules/projects/router.rs",
    "src/modules/projects/schemas.rs",
    "src/modules/projects/service.rs",
    "src/modules/projects/tests.rs",
    "migrations/tenant/20261127000000_create_projects.sql",
    "src/modules/mod.rs",
];

fn assert_all_identical(stdout: &str, context: &dyn std::fmt::Debug) {
    let lines = file_lines(stdout);
    let paths: Vec<&str> = lines.iter().map(|(_, path)| *path).collect();
    assert_eq!(paths, FILES, "{context:?}");
    for (label, path) in &lines {
        assert_eq!(*label, "identical", "{path} is not identical: {context:?}");
    }
}

#[test]
fn the_copy_copies_what_generation_reads() {
    let copy = ServerCopy::generation_inputs();
    let mut top: Vec<String> = std::fs::read_dir(&copy.root)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    let mut expected = vec!["Cargo.toml", "migrations", "scaffold.toml", "src"];
    if server_dir().join(scaffold::write::manifest::DIR).exists() {
        expected.insert(0, scaffold::write::manifest::DIR);
    }
    assert_eq!(top, expected);
    assert!(
        !copy.root.join("migrations/public").exists(),
        "not read by generation"
    );
}

#[test]
fn generating_projects_again_changes_nothing() {
    let copy = ServerCopy::generation_inputs();
    let before = copy.tree();
    let run = copy.run(PROJECTS);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.is_empty(), "{run:?}");
    assert_all_identical(&run.stdout, &run);
    assert!(
        run.stdout
            .contains("nothing to do: every file is already as generated"),
        "{run:?}"
    );
    assert!(!run.stdout.contains("next steps"), "{run:?}");
    let after = copy.tree();
    let changed: Vec<&String> = before
        .keys()
        .chain(after.keys())
        .filter(|path| before.get(*path) != after.get(*path))
        .collect();
    assert!(changed.is_empty(), "changed: {changed:?}");
}

#[test]
fn a_dry_run_on_the_checkout_shows_no_difference() {
    let root = server_dir();
    let mut args = vec!["-C", root.to_str().unwrap()];
    args.extend_from_slice(PROJECTS);
    args.push("--dry-run");
    let run = common::run_in(&root, &args);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.is_empty(), "{run:?}");
    assert_all_identical(&run.stdout, &run);
    let diff_lines: Vec<&str> = run
        .stdout
        .lines()
        .filter(|line| {
            ["--- ", "+++ ", "@@ ", "+", "-"]
                .iter()
                .any(|start| line.starts_with(start))
        })
        .collect();
    assert!(diff_lines.is_empty(), "a diff was shown: {run:?}");
    assert!(run.stdout.contains("dry run: nothing written\n"), "{run:?}");
    assert!(!run.stdout.contains("conflicting"), "{run:?}");
}

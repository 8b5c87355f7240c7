//! The generator's output is real code: modules covering every field type and modifier,
//! generated with the real binary into a copy of `examples/server`, pass `cargo fmt --check`,
//! clippy with `-D warnings`, and their own generated tests against PostgreSQL.
//!
//! One test, so that the copy is built once. It shares the workspace's target folder, so the
//! dependencies are compiled once for every run; the copy's own crate is always rebuilt.
//! The database is the throwaway PostgreSQL that the copy's test harness starts itself (see
//! `example_server::cargo`).

mod common;
mod example_server;

use std::path::Path;
use std::time::Instant;

use example_server::{ServerCopy, cargo, file_lines};

/// In generation order: a module may only refer to modules that exist, and its migration
/// must sort after theirs.
const MODULES: &[&[&str]] = &[
    &[
        "tags",
        "label:string(40):unique",
        "color:enum(red,green,blue)?",
    ],
    &["categories", "name:string", "parent:ref(categories)?"],
    &[
        "tasks",
        "title:string",
        "notes:text?",
        "priority:int:index",
        "estimate:bigint?",
        "score:float",
        "budget:decimal?",
        "done:bool",
        "external_id:uuid:unique",
        "due_on:date?",
        "due_at:datetime?",
        "meta:json?",
        "status:enum(todo,in_review,done):index",
        "project:ref(projects)",
        "tag:ref(tags)?",
        "category:ref(categories)?",
    ],
    // Sorts before `projects`, so its `pub mod` line goes above the existing one; also an
    // optional, unique string with a length, which no other module has.
    &[
        "api-keys",
        "label:string(60):index",
        "hint:string(80)?:unique",
    ],
];

/// The tables of `MODULES`, in generation order.
const TABLES: &[&str] = &["tags", "categories", "tasks", "api_keys"];

#[test]
fn generated_modules_pass_fmt_clippy_and_their_own_tests() {
    let started = Instant::now();
    let copy = ServerCopy::whole_crate();
    rename_the_binary(&copy.root);
    // examples/server may hold modules besides `projects` (a developer's, say): the checks
    // below are relative to what is there.
    let existing = migrations(&copy);

    for module in MODULES {
        let run = copy.run(&[&["new", "module"], *module].concat());
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stderr.is_empty(), "{run:?}");
        let lines = file_lines(&run.stdout);
        assert!(lines.contains(&("inject", "src/modules/mod.rs")), "{run:?}");
        for (label, path) in lines {
            assert!(
                label == "create" || label == "inject",
                "{label} {path}: {run:?}"
            );
        }
    }
    // Each new migration sorts after every earlier one, so a table is created after the
    // tables it refers to.
    let newest: u64 = existing
        .iter()
        .filter_map(|file| file.split('_').next()?.parse().ok())
        .max()
        .unwrap();
    let created: Vec<String> = migrations(&copy)
        .into_iter()
        .filter(|file| !existing.contains(file))
        .collect();
    let expected: Vec<String> = (1..)
        .zip(TABLES)
        .map(|(step, table)| format!("{}_create_{table}.sql", newest + step))
        .collect();
    assert_eq!(created, expected);
    // Each registration point's run of lines stays sorted, the new modules among them.
    let registry = copy.read("src/modules/mod.rs");
    for (prefix, marker) in [
        ("pub mod ", "// scaffold:modules"),
        ("router = router.merge(", "// scaffold:routes"),
    ] {
        let run = lines_above(&registry, marker, prefix);
        let mut sorted = run.clone();
        sorted.sort();
        assert_eq!(run, sorted, "{registry}");
        for module in TABLES.iter().chain(&["projects"]) {
            assert!(
                run.iter()
                    .any(|line| line.starts_with(&format!("{prefix}{module}"))),
                "{module} missing above {marker}: {registry}"
            );
        }
    }

    // Generating each module again finds everything as generated.
    let before = copy.tree();
    for module in MODULES {
        let run = copy.run(&[&["new", "module"], *module].concat());
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains("nothing to do"), "{run:?}");
    }
    assert!(copy.tree() == before, "generating again changed files");
    // Generated code follows the layering rules and is what the manifest records.
    for command in ["lint", "check"] {
        let run = copy.run(&[command]);
        assert_eq!(run.code, 0, "{command}: {run:?}");
    }
    let generated = started.elapsed();

    cargo(&copy.root, &["fmt", "--check"]);
    cargo(
        &copy.root,
        &["clippy", "--all-targets", "--", "-D", "warnings"],
    );
    cargo(&copy.root, &["test"]);
    eprintln!(
        "end to end: generated in {generated:.2?}, fmt + clippy + test in {:.2?}",
        started.elapsed() - generated
    );
}

/// The copy is a package named `server` too: with the shared target folder, building its
/// binary would replace the workspace's `target/debug/server`, which `examples/server`'s own
/// binary test runs later in the same `cargo test --workspace`. Its binary gets its own name.
fn rename_the_binary(root: &Path) {
    replace_once(
        &root.join("Cargo.toml"),
        "[[bin]]\nname = \"server\"\n",
        "[[bin]]\nname = \"server_e2e\"\n",
    );
    for test in ["tests/binary.rs", "tests/tenants.rs"] {
        replace_once(
            &root.join(test),
            "env!(\"CARGO_BIN_EXE_server\")",
            "env!(\"CARGO_BIN_EXE_server_e2e\")",
        );
    }
}

fn replace_once(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "expected `{from}` once in {}",
        file.display()
    );
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

fn migrations(copy: &ServerCopy) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(copy.path("migrations/tenant"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

/// The lines starting with `prefix` directly above the line `marker`, trimmed.
fn lines_above(text: &str, marker: &str, prefix: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let at = lines.iter().position(|line| *line == marker).unwrap();
    let start = lines[..at]
        .iter()
        .rposition(|line| !line.starts_with(prefix))
        .map_or(0, |other| other + 1);
    lines[start..at]
        .iter()
        .map(|line| line.to_string())
        .collect()
}

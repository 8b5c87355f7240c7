//! `scaffold lint` on the reference server (clean) and on copies of its `projects` module with
//! one violation seeded per rule.

mod common;

use std::fs;
use std::path::Path;

use common::run_in;

fn server() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/server"))
}

/// A project holding only the reference `projects` module, with `file` changed by `edit`.
fn seeded(file: &str, edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("src/modules/projects");
    fs::create_dir_all(&module).unwrap();
    for entry in fs::read_dir(server().join("src/modules/projects")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let source = fs::read_to_string(&path).unwrap();
        let source = if name == file { edit(source) } else { source };
        fs::write(module.join(name), source).unwrap();
    }
    dir
}

/// A change to one file's source that seeds a violation.
type Edit = fn(String) -> String;

/// `scaffold -C <dir> lint`: the seeded folders have no scaffold.toml, so they are named.
fn lint(dir: &Path) -> common::Run {
    run_in(dir, &["-C", dir.to_str().unwrap(), "lint"])
}

#[test]
fn the_reference_server_follows_the_rules() {
    let run = run_in(server(), &["lint"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("scaffold lint: ok"), "{run:?}");
}

#[test]
fn an_untouched_copy_is_clean() {
    let dir = seeded("none", |s| s);
    assert_eq!(lint(dir.path()).code, 0);
}

#[test]
fn each_rule_catches_its_violation() {
    let cases: [(&str, Edit, &str); 6] = [
        (
            "service.rs",
            |s| {
                s.replace(
                    "use uuid::Uuid;",
                    "use axum::http::StatusCode;\nuse uuid::Uuid;",
                )
            },
            "src/modules/projects/service.rs:8: service-imports-web:",
        ),
        (
            "router.rs",
            |s| s.replace("use super::service;", "use super::{models, service};"),
            "src/modules/projects/router.rs:14: router-bypasses-service:",
        ),
        (
            "schemas.rs",
            |s| {
                s.replace(
                    "pub struct CreateProject {",
                    "pub struct CreateProject {\n    #[garde(skip)]\n    pub tenant_id: String,",
                )
            },
            "src/modules/projects/schemas.rs:47: tenant-from-client: `CreateProject` accepts `tenant_id`",
        ),
        (
            "router.rs",
            |s| {
                s.replacen(
                    "    ctx: Authorized<Write>,\n    Path(id)",
                    "    Path(id)",
                    1,
                )
            },
            "route-without-permission: handler `update_project` declares no permission",
        ),
        (
            "models.rs",
            |s| {
                s.replace(
                    "pub async fn list(",
                    "pub const LEAK: &str = \"SET search_path TO tenant_a\";\n\npub async fn list(",
                )
            },
            "src/modules/projects/models.rs:25: session-search-path:",
        ),
        (
            "models.rs",
            |s| {
                s.replace(
                    "use serde::Serialize;",
                    "use serde::Serialize;\nuse sqlx::{PgConnection, PgPool};",
                )
            },
            "src/modules/projects/models.rs:7: raw-pool: the module uses `sqlx::PgPool`",
        ),
    ];
    for (file, edit, expected) in cases {
        let dir = seeded(file, edit);
        let run = lint(dir.path());
        assert_eq!(run.code, 1, "{file}: {run:?}");
        assert!(
            run.stdout.contains(expected),
            "{file}: expected {expected:?} in {run:?}"
        );
        assert_eq!(run.stdout.lines().count(), 1, "one finding: {run:?}");
        assert!(run.stderr.contains("1 violation"), "{run:?}");
    }
}

#[test]
fn unparsable_rust_is_a_finding_and_the_others_are_still_shown() {
    let dir = seeded("service.rs", |s| format!("{s}\nfn broken( {{"));
    fs::write(
        dir.path().join("src/modules/projects/router.rs"),
        "use super::{models, service};\nuse sqlx::{Row, query};\n",
    )
    .unwrap();
    let run = lint(dir.path());
    assert_eq!(run.code, 1, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "one line per line and rule: {run:?}");
    assert!(
        lines[0].starts_with("src/modules/projects/router.rs:1: router-bypasses-service:"),
        "{run:?}"
    );
    assert!(
        lines[1].starts_with("src/modules/projects/router.rs:2: router-bypasses-service:"),
        "{run:?}"
    );
    assert!(
        lines[2].starts_with("src/modules/projects/service.rs:")
            && lines[2].contains(": cannot-parse: "),
        "{run:?}"
    );
    assert!(run.stderr.contains("3 violation"), "{run:?}");
}

#[test]
fn lint_needs_a_project_unless_a_folder_is_named() {
    let dir = seeded("service.rs", |s| {
        s.replace("use uuid::Uuid;", "use axum::Json;\nuse uuid::Uuid;")
    });
    let run = run_in(dir.path(), &["lint"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert!(run.stderr.contains("no scaffold.toml found"), "{run:?}");
    assert!(run.stderr.contains("`scaffold -C <dir> lint`"), "{run:?}");
    let empty = tempfile::tempdir().unwrap();
    let run = run_in(empty.path(), &["lint"]);
    assert_eq!(
        run.code, 1,
        "an empty folder is not a clean project: {run:?}"
    );
    // Named, the folder is linted with modules in src/modules.
    assert_eq!(lint(dir.path()).code, 1);
}

/// A project with a scaffold.toml whose tenant migrations live in `db/tenant` (no folder named
/// `migrations`, so only the configured path finds them), the reference `projects` module and
/// the server's public migrations.
fn configured_project() -> tempfile::TempDir {
    let dir = seeded("none", |s| s);
    let config = fs::read_to_string(server().join("scaffold.toml"))
        .unwrap()
        .replace(
            "migrations = \"migrations/tenant\"",
            "migrations = \"db/tenant\"",
        );
    assert!(config.contains("db/tenant"), "{config}");
    fs::write(dir.path().join("scaffold.toml"), config).unwrap();
    common::copy_tree(
        &server().join("migrations/tenant"),
        &dir.path().join("db/tenant"),
    );
    common::copy_tree(
        &server().join("migrations/public"),
        &dir.path().join("migrations/public"),
    );
    dir
}

#[test]
fn tenant_renames_aliases_and_schema_changes_are_caught() {
    let cases: [(&str, Edit, &str); 5] = [
        (
            "schemas.rs",
            |s| {
                s.replacen(
                    "    #[garde(skip)]\n",
                    "    #[garde(skip)]\n    #[serde(alias = \"tenant\")]\n",
                    1,
                )
            },
            "src/modules/projects/schemas.rs:50: tenant-from-client: `CreateProject` accepts `tenant`",
        ),
        (
            "schemas.rs",
            |s| {
                s.replacen(
                    "    #[garde(skip)]\n",
                    "    #[garde(skip)]\n    #[serde(rename(serialize = \"description\", deserialize = \"tenant\"))]\n",
                    1,
                )
            },
            "src/modules/projects/schemas.rs:50: tenant-from-client: `CreateProject` accepts `tenant`",
        ),
        (
            "router.rs",
            |s| {
                format!(
                    "{s}\n#[derive(serde::Deserialize)]\npub struct Filter {{\n    \
                     #[serde(rename = \"tenant_id\")]\n    pub owner: Option<String>,\n}}\n"
                )
            },
            "tenant-from-client: `Filter` accepts `tenant_id`",
        ),
        (
            "schemas.rs",
            |s| {
                s.replacen(
                    "    #[garde(skip)]\n",
                    "    #[garde(skip)]\n    #[serde(rename = tenant)]\n",
                    1,
                )
            },
            "src/modules/projects/schemas.rs:51: cannot-parse: cannot read this #[serde(...)] attribute of `CreateProject`",
        ),
        (
            "models.rs",
            |s| {
                s.replace(
                    "pub async fn list(",
                    "pub const LEAK: &str = \"SET SCHEMA 'tenant_a'\";\n\npub async fn list(",
                )
            },
            "src/modules/projects/models.rs:25: session-search-path: SET SCHEMA lasts for the session",
        ),
    ];
    for (file, edit, expected) in cases {
        let dir = seeded(file, edit);
        let run = lint(dir.path());
        assert_eq!(run.code, 1, "{file}: {run:?}");
        assert!(
            run.stdout.contains(expected),
            "{file}: expected {expected:?} in {run:?}"
        );
        assert_eq!(run.stdout.lines().count(), 1, "one finding: {run:?}");
    }
}

#[test]
fn migrations_that_change_search_path_are_caught() {
    let dir = configured_project();
    let run = run_in(dir.path(), &["lint"]);
    assert_eq!(run.code, 0, "the migrations as they are pass: {run:?}");

    let tenant = dir.path().join("db/tenant/20990101000000_move.sql");
    fs::write(
        &tenant,
        "-- Never SET search_path here.\nCREATE TABLE notes (body TEXT DEFAULT 'SET SCHEMA x');\n\n\
         SET LOCAL search_path TO public;\nINSERT INTO notes VALUES ('x');\n",
    )
    .unwrap();
    let public = dir.path().join("migrations/public/0099_shared.sql");
    fs::write(
        &public,
        "CREATE TABLE shared (x INT);\nSET SCHEMA 'public';\nSELECT set_config('search_path', 'public', true);\n",
    )
    .unwrap();
    let run = run_in(dir.path(), &["lint"]);
    assert_eq!(run.code, 1, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{run:?}");
    assert!(
        lines[0].starts_with("db/tenant/20990101000000_move.sql:4: migration-search-path: SET search_path in a migration: the runner sets search_path"),
        "{run:?}"
    );
    assert!(
        lines[1].starts_with(
            "migrations/public/0099_shared.sql:2: migration-search-path: SET SCHEMA in a migration"
        ),
        "{run:?}"
    );
    assert!(
        lines[2].starts_with("migrations/public/0099_shared.sql:3: migration-search-path: set_config('search_path', ...) in a migration"),
        "{run:?}"
    );
    assert!(run.stderr.contains("3 violation"), "{run:?}");
}

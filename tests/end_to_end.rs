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

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use example_server::{ServerCopy, cargo, file_lines};

/// In generation order: a module may only refer to modules that exist, and its migration
/// must sort after theirs.
const MODULES: &[&[&str]] = &[
    &[
        "tags",
        "label:string(40):unique",
        "color:enum(red,green,blue)?",
    ],
    // A self-reference whose children go with their parent.
    &[
        "categories",
        "name:string",
        "parent:ref(categories,cascade)?",
    ],
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
        "project:ref(projects,cascade)",
        "tag:ref(tags,restrict)?",
        "category:ref(categories)?",
    ],
    // Sorts before `projects`, so its `pub mod` line goes above the existing one; also an
    // optional, unique string with a length, which no other module has.
    &[
        "api-keys",
        "label:string(60):index",
        "hint:string(80)?:unique",
    ],
    // Constraint names longer than PostgreSQL's 63 bytes, shortened with a hash; the 409
    // still names the field.
    &[
        "customer_subscription_invoices",
        "billing_address_postal_code_line:string(20):unique",
        "billing_address_postal_code_kind:enum(home,work):index",
    ],
    // Every Rust keyword that can be a raw identifier (the rest are refused) names a field:
    // `r#type` in Rust, `type` in JSON and SQL.
    &[
        "keywords",
        "type:enum(a,b)",
        "enum:enum(x,y)?",
        "ref:ref(tags)?",
        "match:string(30):unique",
        "where:int:index",
        "fn:bool",
        "async:date?",
        "await:datetime?",
        "loop:json?",
        "const:decimal?",
        "static:uuid?",
        "mod:bigint?",
        "move:float?",
        "in:text?",
        "abstract:string?",
        "as:string?",
        "become:string?",
        "box:string?",
        "break:string?",
        "continue:string?",
        "do:string?",
        "dyn:string?",
        "else:string?",
        "extern:string?",
        "false:string?",
        "final:string?",
        "for:string?",
        "gen:string?",
        "if:string?",
        "impl:string?",
        "let:string?",
        "macro:string?",
        "mut:string?",
        "override:string?",
        "priv:string?",
        "pub:string?",
        "return:string?",
        "struct:string?",
        "trait:string?",
        "true:string?",
        "try:string?",
        "typeof:string?",
        "unsafe:string?",
        "unsized:string?",
        "use:string?",
        "virtual:string?",
        "while:string?",
        "yield:string?",
    ],
    // PostgreSQL's reserved words (and column-name keywords) as fields: quoted in every
    // statement, constraint and index; `user` unquoted would read `current_user`.
    &[
        "reserved_words",
        "user:string(40):unique",
        "order:int:index",
        "group:enum(a,b)",
        "select:bool=false",
        "from:date?",
        "limit:int?",
        "offset:bigint?",
        "desc:text?",
        "check:string?",
        "default:decimal?=1.5",
        "column:uuid?",
        "table:json?",
        "end:datetime?",
        "all:string(8)?",
        "time:string?",
        "int:float?",
        "both:ref(tags)?",
    ],
    // Changed after rows exist (see `change_with_rows_and_hand_edits`); also defaults.
    &[
        "notes",
        "title:string(40)",
        "legacy_code:string?",
        "status:enum(open,done)",
        "pinned:bool=false",
        "weight:float?=1.5",
    ],
    // Who did what: each option alone, and all of them together with refs between them.
    // `wordCount`: a field typed in camelCase is the column `word_count`.
    &["journals", "title:string", "wordCount:int?", "--audit"],
    &["posts", "title:string", "journal:ref(journals)?", "--owned"],
    &["drafts", "title:string(60):unique", "--private"],
    &[
        "bins",
        "label:string(30):unique",
        "code:int?:unique",
        "--soft-delete",
    ],
    &[
        "vaults",
        "name:string(40):unique",
        "post:ref(posts,cascade)?",
        "bin:ref(bins)?",
        "--private",
        "--soft-delete",
    ],
    // Write-only fields: secrets kept as Argon2id hashes (a required one, and an optional one
    // with a length) and plain `:writeonly` values, none of them ever in a response, a filter
    // or a sort.
    &[
        "accounts",
        "email:string:unique",
        "password:secret",
        "pin:secret(12)?",
        "recovery_code:string?:writeonly",
        "born_on:date:writeonly",
    ],
    // Named by a key in its routes (`/api/articles/{slug}`), owned so that a miss is
    // explained from the row its key finds; a module that refers to it still holds its id.
    &[
        "articles",
        "slug:string(80):unique",
        "title:string",
        "--key",
        "slug",
        "--owned",
    ],
    &["comments", "body:text", "article:ref(articles,cascade)"],
    // Arrays: each element type, required, optional, with defaults and with a GIN index.
    &[
        "bookmarks",
        "title:string",
        "tags:string(40)[]:index",
        "labels:string(20)[]?",
        "notes:text[]?",
        "scores:int[]?",
        "sizes:bigint[]:index=[1,2]",
        "ratios:float[]?",
        "prices:decimal[]?",
        "flags:bool[]?",
        "ids:uuid[]=[]",
        "days:date[]?",
        "times:datetime[]?",
    ],
];

/// `scaffold new link` arguments, after `MODULES`.
const LINKS: &[&[&str]] = &[
    &[
        "projects",
        "tags",
        "role:enum(lead,member)=member",
        "note:string(40)?",
        "weight:int:index",
    ],
    &["tags", "tags", "--as", "followers:following"],
];
const LINK_TABLES: &[&str] = &["project_tags", "tag_tags"];

/// The tables of `MODULES`, then `settings` (a default of every type, `common::DEFAULTS`), in
/// generation order.
const TABLES: &[&str] = &[
    "tags",
    "categories",
    "tasks",
    "api_keys",
    "customer_subscription_invoices",
    "keywords",
    "reserved_words",
    "notes",
    "journals",
    "posts",
    "drafts",
    "bins",
    "vaults",
    "accounts",
    "articles",
    "comments",
    "bookmarks",
    "settings",
    "combinations",
];

/// `combinations`: every type with every modifier the grammar allows (required, optional,
/// `:unique`, `:index`, and both with `?`), `string(1)` among them so that unique sample
/// values must stay unique in one character.
fn combinations() -> Vec<String> {
    let types = [
        ("string", "string(1)"),
        ("text", "text"),
        ("int", "int"),
        ("bigint", "bigint"),
        ("float", "float"),
        ("decimal", "decimal"),
        ("bool", "bool"),
        ("uuid", "uuid"),
        ("date", "date"),
        ("datetime", "datetime"),
        ("json", "json"),
        ("enum", "enum(a,b)"),
        ("ref", "ref(tags)"),
    ];
    let modifiers = [
        ("required", ""),
        ("optional", "?"),
        ("unique", ":unique"),
        ("optional_unique", "?:unique"),
        ("indexed", ":index"),
        ("optional_indexed", "?:index"),
    ];
    let mut fields = vec!["combinations".to_owned()];
    for (name, ty) in types {
        for (modifier, syntax) in modifiers {
            let unique = syntax.contains("unique");
            let refused = (unique && matches!(name, "bool" | "json" | "enum"))
                || (name == "json" && syntax.contains("index"));
            if !refused {
                fields.push(format!("{name}_{modifier}:{ty}{syntax}"));
            }
        }
    }
    fields
}

#[test]
fn generated_modules_pass_fmt_clippy_and_their_own_tests() {
    let started = Instant::now();
    let copy = ServerCopy::whole_crate();
    rename_the_binary(&copy.root);
    // Every module, link, generated test and the conformance run below speak camelCase JSON
    // (`[api] json_case`, docs/api-shape.md): set before anything is generated, `projects`
    // upgraded to it. Snake case, the default, is examples/server's own and the snapshots'.
    let config = copy.read("scaffold.toml");
    copy.write(
        "scaffold.toml",
        &format!("{config}\n[api]\njson_case = \"camel\"\n"),
    );
    let run = copy.run(&["upgrade", "--all"]);
    assert_eq!(run.code, 0, "{run:?}");
    // examples/server may hold modules besides `projects` (a developer's, say): the checks
    // below are relative to what is there.
    let existing = migrations(&copy);

    let settings: Vec<&str> = [&["settings"][..], common::DEFAULTS].concat();
    let combinations = combinations();
    let combinations: Vec<&str> = combinations.iter().map(String::as_str).collect();
    let modules: Vec<&[&str]> = MODULES
        .iter()
        .copied()
        .chain([&settings[..], &combinations[..]])
        .collect();
    for module in &modules {
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
    for module in &modules {
        let run = copy.run(&[&["new", "module"], *module].concat());
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains("nothing to do"), "{run:?}");
    }
    assert!(copy.tree() == before, "generating again changed files");
    // Links between modules generated above: one with fields of every kind of rule, one of a
    // module to itself. Each is wired below every module's routes.
    for link in LINKS {
        let run = copy.run(&[&["new", "link"], *link].concat());
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stderr.is_empty(), "{run:?}");
    }
    // Generated code follows the layering rules and is what the manifest records.
    for command in ["lint", "check"] {
        let run = copy.run(&[command]);
        assert_eq!(run.code, 0, "{command}: {run:?}");
    }
    change_with_rows_and_hand_edits(&copy);
    let generated = started.elapsed();

    cargo(&copy.root, &["fmt", "--check"]);
    cargo(
        &copy.root,
        &["clippy", "--all-targets", "--", "-D", "warnings"],
    );
    // The generated modules' tests live in the library; the copy's integration tests are
    // examples/server's own, which the workspace runs anyway.
    let output = cargo(&copy.root, &["test", "--lib"]);
    for module in TABLES.iter().chain(&["projects"]).chain(LINK_TABLES) {
        let ran = example_server::generated_tests_passed(&copy.root, module, &output);
        eprintln!("    {module}: {ran} generated tests passed");
    }
    let tested = started.elapsed();
    conformance(&copy);
    openapi_drift(&copy);
    eprintln!(
        "end to end: generated in {generated:.2?}, fmt + clippy + test in {:.2?}, \
         conformance in {:.2?}",
        tested - generated,
        started.elapsed() - tested
    );
}

/// The copy's `openapi.json` is examples/server's, and its modules changed the API: its drift
/// test fails, saying how to refresh the file, and passes once it is refreshed.
fn openapi_drift(copy: &ServerCopy) {
    let drift_test = |refresh: bool| {
        let mut command = Command::new(env!("CARGO"));
        command
            .args(["test", "--test", "openapi"])
            .current_dir(&copy.root)
            .env("CARGO_TARGET_DIR", example_server::target_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if refresh {
            command.env("UPDATE_OPENAPI", "1");
        }
        let child = command.spawn().expect("cargo runs");
        common::wait_within(child, Duration::from_secs(600), false)
            .unwrap_or_else(|killed| panic!("cargo test --test openapi ran too long: {killed:?}"))
    };
    let stale = drift_test(false);
    let said = String::from_utf8_lossy(&stale.stdout).into_owned();
    assert!(!stale.status.success(), "the stale document passed: {said}");
    assert!(said.contains("UPDATE_OPENAPI=1"), "{said}");
    assert!(drift_test(true).status.success());
    assert!(copy.read("openapi.json").contains("\"/api/tasks/{id}\""));
    let refreshed = drift_test(false);
    assert!(refreshed.status.success(), "{refreshed:?}");
}

/// The copy's server, every module in it, checked against its own OpenAPI document by
/// `scripts/conformance.sh` (Schemathesis, all checks): any finding fails the test.
fn conformance(copy: &ServerCopy) {
    cargo(&copy.root, &["build", "--bin", "server_e2e"]);
    let binary = example_server::target_dir().join("debug/server_e2e");
    let script = example_server::workspace_dir().join("scripts/conformance.sh");
    let mut command = Command::new("bash");
    command
        .arg(&script)
        .arg("--binary")
        .arg(&binary)
        .args(["--seconds", "180", "--seed", "1"])
        .env("DATABASE_URL", server::testing::fresh_database())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group, so that a kill at the limit takes the server it started too.
        .process_group(0);
    let child = command.spawn().expect("bash runs the conformance script");
    // The budget, plus installing Schemathesis on a fresh machine and starting the server.
    let output = common::wait_within(child, Duration::from_secs(900), true)
        .unwrap_or_else(|killed| panic!("{} ran past 15 minutes: {killed:?}", script.display()));
    assert!(
        output.status.success(),
        "{} failed: a finding, or it could not run:\n{}\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `scaffold change module` on a module whose table holds rows in two tenants and whose
/// files carry hand edits: the real binary migrates before and after, and the rows keep
/// their data under renamed columns, with defaults filled in, through options turned on and
/// off. What follows (fmt, clippy, the
/// module's regenerated tests) runs on the changed module.
fn change_with_rows_and_hand_edits(copy: &ServerCopy) {
    const SERVICE: &str = "src/modules/notes/service.rs";
    const TESTS: &str = "src/modules/notes/tests.rs";
    let service_edit = "\n/// Written by hand: what a screen shows of a note before it is opened.\n\
                        pub const PREVIEW_CHARS: usize = 40;\n";
    let tests_edit = "\n/// Written by hand, and kept through every change.\n#[test]\n\
                      fn previews_fit_the_title() {\n    \
                      assert_eq!(super::service::PREVIEW_CHARS, 40);\n}\n";
    // Inside the files, where no option or field change writes: an edit at the very end would
    // meet the tests and functions that options append there, a conflict by design.
    let insert = |file: &str, before: &str, edit: &str| {
        let text = copy.read(file);
        assert_eq!(text.matches(before).count(), 1, "{before:?} in {file}");
        copy.write(
            file,
            &text.replacen(before, &format!("{}\n{before}", &edit[1..]), 1),
        );
    };
    insert(
        SERVICE,
        "/// Runs in the caller's transaction",
        service_edit,
    );
    insert(
        TESTS,
        "#[tokio::test]\nasync fn create_read_update_delete()",
        tests_edit,
    );

    let database = server::testing::fresh_database();
    let server = |args: &[&str]| {
        cargo(&copy.root, &["build", "--bin", "server_e2e"]);
        let binary = example_server::target_dir().join("debug/server_e2e");
        for args in [&["migrate"][..], args] {
            if args.is_empty() {
                continue;
            }
            let output = common::output(
                Command::new(&binary)
                    .args(args)
                    .env("DATABASE_URL", &database)
                    .env("RUST_LOG", "warn")
                    .env("JWT_SECRET", "end-to-end-secret-long-enough-for-hs256"),
            );
            assert!(output.status.success(), "server {args:?}: {output:?}");
        }
    };
    server(&["tenant", "create", "alpha"]);
    server(&["tenant", "create", "beta"]);
    for tenant in ["alpha", "beta"] {
        psql(
            &database,
            &format!(
                "INSERT INTO tenant_{tenant}.notes (title, legacy_code, status) VALUES \
                 ('first {tenant}', 'L1', 'open'), ('second {tenant}', NULL, 'done')"
            ),
        );
    }

    let run = copy.run(&[
        "change",
        "module",
        "notes",
        "--add",
        "priority:int=0",
        "--add",
        "summary:text?",
        "--add",
        "project:ref(projects)?",
        // A secret added to rows that exist: its hash column starts empty.
        "--add",
        "passcode:secret?",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = copy.run(&[
        "change",
        "module",
        "notes",
        "--rename",
        "title:headline",
        "--alter",
        "headline:string(80)",
        "--alter",
        "status:enum(open,done,archived)",
        "--remove",
        "legacy_code",
        "--yes",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    // Each option turned on and off on the same rows, each run its own migration; soft delete
    // stays on, so that the module's regenerated tests below cover it.
    for flags in [
        &["--audit", "--soft-delete"][..],
        &["--no-soft-delete", "--yes"],
        &["--private"],
        &["--no-private", "--no-owned", "--yes"],
        &["--no-audit", "--yes"],
        &["--soft-delete"],
    ] {
        let run = copy.run(&[&["change", "module", "notes"], flags].concat());
        assert_eq!(run.code, 0, "{run:?}");
    }
    assert!(
        copy.read(SERVICE).contains(&service_edit[1..]),
        "hand edit lost"
    );
    assert!(
        copy.read(TESTS).contains(&tests_edit[1..]),
        "hand edit lost"
    );
    for command in ["lint", "check"] {
        let run = copy.run(&[command]);
        assert_eq!(run.code, 0, "{command} after the change: {run:?}");
    }

    server(&[]);
    for tenant in ["alpha", "beta"] {
        let rows = psql(
            &database,
            &format!(
                "SELECT headline, priority, summary, project_id, status, pinned, weight \
                 FROM tenant_{tenant}.notes ORDER BY headline"
            ),
        );
        assert_eq!(
            rows,
            format!("first {tenant}|0|||open|f|1.5\nsecond {tenant}|0|||done|f|1.5\n")
        );
        let columns = psql(
            &database,
            &format!(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = \
                 'tenant_{tenant}' AND table_name = 'notes' AND column_name = 'legacy_code'"
            ),
        );
        assert_eq!(columns, "0\n");
        let unset = psql(
            &database,
            &format!("SELECT count(*) FROM tenant_{tenant}.notes WHERE passcode_hash IS NULL"),
        );
        assert_eq!(unset, "2\n");
        let added = psql(
            &database,
            &format!(
                "SELECT string_agg(column_name, ',' ORDER BY column_name), \
                 count(*) FILTER (WHERE column_name LIKE 'deleted%') \
                 FROM information_schema.columns WHERE table_schema = 'tenant_{tenant}' \
                 AND table_name = 'notes' AND column_name IN ('created_by', 'updated_by', \
                 'owner_id', 'deleted_at', 'deleted_by')"
            ),
        );
        assert_eq!(added, "deleted_at|1\n");
    }
    // The new rules hold in the database: a value the enum gained is accepted, and a
    // headline longer than before is too.
    psql(
        &database,
        &format!(
            "UPDATE tenant_alpha.notes SET status = 'archived', headline = '{}'",
            "h".repeat(80)
        ),
    );
}

/// Runs one SQL statement; its rows unaligned, without headers.
fn psql(database: &str, sql: &str) -> String {
    let output = common::output(Command::new("psql").args([
        database,
        "-X",
        "-q",
        "-A",
        "-t",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        sql,
    ]));
    assert!(output.status.success(), "psql {sql}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
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
    for entry in std::fs::read_dir(root.join("tests")).unwrap() {
        let file = entry.unwrap().path();
        let text = std::fs::read_to_string(&file).unwrap();
        let renamed = text.replace(
            "env!(\"CARGO_BIN_EXE_server\")",
            "env!(\"CARGO_BIN_EXE_server_e2e\")",
        );
        std::fs::write(&file, renamed).unwrap();
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

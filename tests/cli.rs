//! The real binary against a temporary copy of `tests/fixtures/project`.

mod common;

use std::fs;

use common::{Project, fails_in, run_in, wait_for};

const TASKS: &[&str] = &[
    "new",
    "module",
    "tasks",
    "title:string(120)",
    "status:enum(todo,doing,done)",
    "owner:ref(users)?",
];

const MIGRATION: &str = "migrations/tenant/20250301120000_create_tasks.sql";

#[test]
fn generates_a_module_and_registers_it() {
    let project = Project::copy();
    let run = project.run(TASKS);
    assert_eq!(run.code, 0, "{run:?}");
    for expected in [
        "module  tasks  (table tasks)",
        "types   Task / Tasks",
        "route   /api/tasks",
        "access  tasks:read / tasks:write",
        "field   owner:ref(users)?",
        "   create  src/modules/tasks/mod.rs",
        "   create  src/modules/tasks/models.rs",
        "   create  src/modules/tasks/tests.rs",
        &format!("   create  {MIGRATION}"),
        "   inject  src/modules/mod.rs",
        "cargo run -- migrate",
    ] {
        assert!(
            run.stdout.contains(expected),
            "missing {expected:?} in {run:?}"
        );
    }
    assert!(run.stderr.is_empty(), "{run:?}");
    assert!(!run.stdout.contains("_header"), "partials write nothing");
    let registry = project.read("src/modules/mod.rs");
    assert!(registry.contains("pub mod tasks;\npub mod users;\n// scaffold:modules\n"));
    assert!(registry.contains("    router.push(tasks::ROUTE);\n    // scaffold:routes\n"));
    assert!(project.read(MIGRATION).contains("REFERENCES users (id)"));
}

#[test]
fn generating_again_is_identical_and_changes_nothing() {
    let project = Project::copy();
    assert_eq!(project.run(TASKS).code, 0);
    let before = project.tree();
    // Without reusing its name, the migration would be new again as `...120001_create_tasks`.
    let run = project.run(TASKS);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("identical  src/modules/mod.rs"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains(&format!("identical  {MIGRATION}")),
        "{run:?}"
    );
    assert!(!run.stdout.contains("   create  "), "{run:?}");
    assert!(run.stdout.contains("nothing to do"), "{run:?}");
    assert_eq!(project.tree(), before);
}

#[test]
fn a_conflict_stops_everything_without_force() {
    let project = Project::copy();
    assert_eq!(project.run(TASKS).code, 0);
    project.write("src/modules/tasks/models.rs", "// edited by hand\n");
    project.fails_with(
        TASKS,
        &[
            "the module already exists in src/modules/tasks",
            "  src/modules/tasks/models.rs\n",
            "--force",
        ],
    );

    // Other fields would rewrite the migration: refused, even with --force.
    let mut fields = TASKS.to_vec();
    fields.extend(["done:bool", "--force"]);
    project.fails_with(&fields, &["scaffold change module tasks"]);
}

#[test]
fn force_overwrites_conflicts() {
    let project = Project::copy();
    assert_eq!(project.run(TASKS).code, 0);
    let generated = project.read("src/modules/tasks/models.rs");
    project.write("src/modules/tasks/models.rs", "// edited by hand\n");
    let mut args = TASKS.to_vec();
    args.push("--force");
    let run = project.run(&args);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("overwrite  src/modules/tasks/models.rs"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("identical  src/modules/tasks/mod.rs"),
        "{run:?}"
    );
    assert_eq!(project.read("src/modules/tasks/models.rs"), generated);
}

#[test]
fn an_existing_module_is_not_overwritten() {
    let project = Project::copy();
    project.fails_with(
        &["new", "module", "users", "email:string"],
        &[
            "the module already exists in src/modules/users",
            "src/modules/users/mod.rs",
        ],
    );
}

#[test]
fn adding_files_to_an_existing_module_takes_force() {
    let project = Project::copy();
    project.write("src/modules/tasks/handwritten.rs", "// mine\n");
    project.fails_with(
        TASKS,
        &[
            "the module already exists in src/modules/tasks",
            "   create  src/modules/tasks/mod.rs\n",
        ],
    );

    let mut args = TASKS.to_vec();
    args.push("--force");
    assert_eq!(project.run(&args).code, 0);
    assert_eq!(
        project.read("src/modules/tasks/handwritten.rs"),
        "// mine\n"
    );
}

#[test]
fn dry_run_shows_diffs_and_touches_nothing() {
    let project = Project::copy();
    let before = project.tree();
    let mut args = TASKS.to_vec();
    args.push("--dry-run");
    let run = project.run(&args);
    assert_eq!(run.code, 0, "{run:?}");
    for expected in [
        "   create  src/modules/tasks/mod.rs",
        "--- /dev/null\n+++ b/src/modules/tasks/mod.rs\n",
        "+pub const ROUTE: &str = \"/api/tasks\";\n",
        "   inject  src/modules/mod.rs\n--- a/src/modules/mod.rs\n+++ b/src/modules/mod.rs\n",
        "+pub mod tasks;\n pub mod users;\n // scaffold:modules\n",
        "dry run: nothing written",
    ] {
        assert!(
            run.stdout.contains(expected),
            "missing {expected:?} in {run:?}"
        );
    }
    assert_eq!(project.tree(), before);
}

#[test]
fn dry_run_shows_conflicts_as_diffs() {
    let project = Project::copy();
    assert_eq!(project.run(TASKS).code, 0);
    project.write("src/modules/tasks/mod.rs", "// mine\n");
    let before = project.tree();
    let mut args = TASKS.to_vec();
    args.push("--dry-run");
    let run = project.run(&args);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(" conflict  src/modules/tasks/mod.rs\n"),
        "{run:?}"
    );
    assert!(run.stdout.contains("-// mine\n"), "{run:?}");
    assert!(run.stdout.contains("1 conflicting file(s)"), "{run:?}");
    assert_eq!(project.tree(), before);
}

#[test]
fn a_missing_marker_writes_nothing() {
    let project = Project::copy();
    let registry = project.read("src/modules/mod.rs");
    project.write(
        "src/modules/mod.rs",
        &registry.replace("    // scaffold:routes\n", ""),
    );
    project.fails_with(
        TASKS,
        &["src/modules/mod.rs: no `// scaffold:routes` line to insert above"],
    );
}

#[test]
fn a_failed_write_rolls_everything_back() {
    let project = Project::copy();
    // The registry's temporary file cannot be created, after the module folder and the
    // migration have been staged: all of that must be undone.
    fs::create_dir(project.path("src/modules/.mod.rs.scaffold-new")).unwrap();
    project.fails_with(
        TASKS,
        &["cannot write", "src/modules/mod.rs", "nothing was changed"],
    );
}

#[test]
fn template_errors_name_the_file_and_line() {
    let project = Project::copy();
    project.write(
        "scaffold/templates/module/models.rs.tera",
        "struct {{ type_name }};\n{% for f in fields %}\n{{ f.colum }}\n{% endfor %}\n",
    );
    project.fails_with(
        TASKS,
        &[
            "template `module/models.rs.tera`",
            "scaffold/templates/module/models.rs.tera",
            "Variable `f.colum` not found",
            "near line 3: {{ f.colum }}",
        ],
    );

    project.write("scaffold/templates/module/models.rs.tera", "ok\n{% if %}\n");
    // "2:": the parse error has a line.
    project.fails_with(TASKS, &["module/models.rs.tera", "2:"]);
}

#[test]
fn no_tests_leaves_out_the_tests_file() {
    let project = Project::copy();
    let run = project.run(&["new", "module", "notes", "body:text", "--no-tests"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!project.path("src/modules/notes/tests.rs").exists());
    assert!(
        !project
            .read("src/modules/notes/mod.rs")
            .contains("mod tests")
    );
}

#[test]
fn without_fields_or_terminal_a_name_field_is_used() {
    let project = Project::copy();
    let run = project.run(&["new", "module", "Tag"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("field   name:string\n"), "{run:?}");
    assert!(
        project
            .read("src/modules/tags/models.rs")
            .contains("pub name: String,")
    );
}

#[test]
fn names_come_from_flags_and_project_inflections() {
    let project = Project::copy();
    let run = project.run(&["new", "module", "Person", "name:string"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("module  people"), "{run:?}");
    assert!(run.stdout.contains("types   Person / People"), "{run:?}");

    let run = project.run(&[
        "new",
        "module",
        "news",
        "--singular",
        "NewsItem",
        "title:string",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("types   NewsItem / News"), "{run:?}");
    assert!(
        project
            .read("src/modules/news/mod.rs")
            .contains("--singular news_item")
    );
}

#[test]
fn a_module_may_refer_to_itself_and_to_existing_modules() {
    let project = Project::copy();
    let run = project.run(&[
        "new",
        "module",
        "categories",
        "name:string:unique",
        "parent:ref(Category)?",
        "owner:ref(user)",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let migration = project.read("migrations/tenant/20250301120000_create_categories.sql");
    assert!(
        migration.contains("parent_id UUID REFERENCES categories (id)"),
        "{migration}"
    );
    assert!(
        migration.contains("owner_id UUID NOT NULL REFERENCES users (id)"),
        "{migration}"
    );
}

#[test]
fn the_project_is_found_from_a_subfolder() {
    let project = Project::copy();
    let run = run_in(
        &project.path("src/modules"),
        &["new", "module", "tags", "label:string"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(project.path("src/modules/tags/mod.rs").exists());
}

#[test]
fn new_migrations_sort_after_existing_ones() {
    let project = Project::copy();
    project.write(
        "migrations/tenant/20990101000000_create_teams.sql",
        "SELECT 1;\n",
    );
    let run = project.run(&["new", "module", "tags", "label:string"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        project
            .path("migrations/tenant/20990101000001_create_tags.sql")
            .exists()
    );
}

/// Every bad input: exit 1, a message that names the problem, and an untouched tree.
#[test]
fn bad_input_is_refused_with_a_clear_message() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["types", "a:int"],
            &["`type` is a Rust keyword", "--singular"],
        ),
        (&["self", "a:int"], &["`self` is a Rust keyword"]),
        (&["crates", "a:int"], &["`crate` is a Rust keyword"]),
        (&["core", "a:int"], &["`core` is reserved"]),
        (&["app", "a:int"], &["`app` is reserved"]),
        (&["tests", "a:int"], &["`tests` is reserved"]),
        (&["std", "a:int"], &["`std` is reserved"]),
        (&["orders", "a:int"], &[]), // a reserved SQL word in the singular is fine
        (&["9lives", "a:int"], &["`9lives` is not a valid name"]),
        (&["user profiles", "a:int"], &["not a valid name"]),
        (&["../x", "a:int"], &["`../x` looks like a path"]),
        (&["a/b", "a:int"], &["`a/b` looks like a path"]),
        (
            &["news", "a:int"],
            &["same singular and plural", "--singular"],
        ),
        (
            &["tasks", "title:strng"],
            &["unknown type `strng`", "valid types: string,"],
        ),
        (&["tasks", "done:boolean"], &["did you mean `bool`?"]),
        (
            &["tasks", "title"],
            &["field `title`: missing type", "`title:string`"],
        ),
        (&["tasks", ":string"], &["missing field name"]),
        (&["tasks", "title?:string"], &["`?` goes after the type"]),
        (&["tasks", "title:string(abc)"], &["`abc` is not a length"]),
        (&["tasks", "title:string(0)"], &["`0` is not a length"]),
        (&["tasks", "body:text(10)"], &["`text` takes no arguments"]),
        (&["tasks", "s:enum()"], &["`enum` needs its values"]),
        (&["tasks", "s:enum(a,,b)"], &["empty enum value"]),
        (&["tasks", "s:enum"], &["`enum` needs its values"]),
        (&["tasks", "s:enum(a,a)"], &["enum value `a` given twice"]),
        (
            &["tasks", "s:enum(a,b-c)"],
            &["`b-c` is not a valid enum value"],
        ),
        (
            &["tasks", "s:enum(self)"],
            &["`self` cannot be an enum value"],
        ),
        (&["tasks", "t:string:"], &["empty modifier"]),
        (
            &["tasks", "t:string:uniqe"],
            &["unknown modifier `uniqe`", ":unique"],
        ),
        (
            &["tasks", "t:string:unique:unique"],
            &["`:unique` given twice"],
        ),
        (
            &["tasks", "t:string:unique:index"],
            &["already creates an index"],
        ),
        (&["tasks", "t:string:?"], &["`?` goes right after the type"]),
        (
            &["tasks", "meta:json:unique"],
            &["`json` cannot be `:unique`"],
        ),
        (
            &["tasks", "meta:json:index"],
            &["`json` cannot be `:index`"],
        ),
        (
            &["tasks", "done:bool:unique"],
            &["`bool` cannot be `:unique`"],
        ),
        (
            &["tasks", "tags:json[]"],
            &[
                "`json` cannot be an array element",
                "array elements are string,",
            ],
        ),
        (
            &["tasks", "tags:enum(a,b)[]"],
            &["`enum` cannot be an array element", "string(N)[]"],
        ),
        (
            &["tasks", "owners:ref(users)[]"],
            &["`ref` cannot be an array element", "scaffold new link"],
        ),
        (
            &["tasks", "grid:int[][]"],
            &["arrays of arrays are not supported"],
        ),
        (
            &["tasks", "tags:string[]:unique"],
            &["`array` cannot be `:unique`", "GIN index"],
        ),
        (
            &["tasks", "scores:int[]=[1,x]"],
            &["element `x`", "not a valid `int`"],
        ),
        (
            &["tasks", "scores:int[]=5"],
            &["`5` is not an array", "`=[]`"],
        ),
        (
            &["tasks", "a:string", "a:text"],
            &["field `a:text`: `a` is already a field"],
        ),
        (
            &["tasks", "owner_id:uuid", "owner:ref(users)"],
            &["`owner_id` is already a field"],
        ),
        (
            &["tasks", "Title:string", "title:text"],
            &["`title` is already a field"],
        ),
        (&["tasks", "id:uuid"], &["clashes with the `id` column"]),
        (
            &["tasks", "created_at:datetime"],
            &["clashes with the `created_at` column"],
        ),
        (
            &["tasks", "updated_at:datetime?"],
            &["clashes with the `updated_at` column"],
        ),
        (
            &["tasks", "tenant:string"],
            &["the tenant never comes from the client"],
        ),
        (&["tasks", "tenant_id:uuid"], &["refers to the tenant"]),
        (
            &["tasks", "tenant:ref(users)"],
            &["`tenant` refers to the tenant"],
        ),
        (&["tasks", "old_tenants:int"], &["refers to the tenant"]),
        (
            &["tasks", "self:string"],
            &["`self` cannot name a Rust struct field", "`r#self`"],
        ),
        (
            &["tasks", "xmin:int"],
            &["`xmin` is a PostgreSQL system column"],
        ),
        (&["tasks", "ctid:int"], &["system column"]),
        (&["tasks", "tableoid:int"], &["system column"]),
        (
            &["tasks", "due-date:date"],
            &["`due-date` is not a valid field name"],
        ),
        (
            &["tasks", "team:ref(teams)"],
            &["no module `teams` in src/modules", "existing: users"],
        ),
        (&["tasks", "team:ref()"], &["`ref` needs the module"]),
        (&["tasks", "team:ref"], &["`ref` needs the module"]),
        (
            &["categories", "parent:ref(categories)"],
            &["make it optional: `parent:ref(categories)?`"],
        ),
        (&["pages", "a:int"], &["the type name `Page` would clash"]),
        (&["ctxs", "a:int"], &["the type name `Ctx` would clash"]),
        (
            &["things", "page:enum(a,b)"],
            &["an enum field cannot be called `page`", "`ThingPage`"],
        ),
        (
            &["things", "response:enum(a,b)"],
            &["an enum field cannot be called `response`"],
        ),
        (
            &["tasks", "status:enum(a,b):unique"],
            &["a unique enum would allow one row per value"],
        ),
        (
            &["accounts", "password:secret:unique"],
            &["`secret` cannot be `:unique`", "salted hash"],
        ),
        (
            &["accounts", "password:secret:index"],
            &["`secret` cannot be `:index`"],
        ),
        (
            &["accounts", "password:secret=letmein123"],
            &["a `secret` cannot have a default"],
        ),
        (
            &["accounts", "password:secret(4)"],
            &["`4` is not a secret's maximum length", "from 8"],
        ),
        (
            &["accounts", "password:secret:writeonly"],
            &["a secret is write-only already"],
        ),
        (
            &["tasks", "owner:ref(users):writeonly"],
            &["`ref` cannot be `:writeonly`"],
        ),
        (
            &["accounts", "code:string:writeonly:unique"],
            &["a `:writeonly` field cannot be `:unique` or `:index`"],
        ),
        (
            &["accounts", "password:secret", "password_hash:string"],
            &["`password_hash` is already a field"],
        ),
    ];
    let project = Project::copy();
    let before = project.tree();
    for (words, expected) in cases {
        let mut args = vec!["new", "module"];
        args.extend_from_slice(words);
        if expected.is_empty() {
            let run = project.run(&args);
            assert_eq!(run.code, 0, "{words:?} should be accepted: {run:?}");
            let destroy = project.run(&["destroy", "module", "orders"]);
            assert_eq!(destroy.code, 0, "{destroy:?}");
            assert_eq!(project.tree(), before, "destroy undoes {words:?}");
            continue;
        }
        let run = project.fails_with(&args, expected);
        assert!(run.stderr.starts_with("error: "), "{words:?}: {run:?}");
    }
}

#[test]
fn field_errors_point_at_the_bad_part_and_all_are_reported() {
    let project = Project::copy();
    project.fails_with(
        &[
            "new",
            "module",
            "tasks",
            "title:strng",
            "ok:int",
            "n:int:uniqe",
        ],
        &[
            "    title:strng\n          ^^^^^\n",
            "    n:int:uniqe\n          ^^^^^\n",
        ],
    );
}

#[test]
fn no_project_is_a_clear_error() {
    let empty = tempfile::tempdir().unwrap();
    fails_in(
        empty.path(),
        &["new", "module", "tasks", "a:int"],
        &["no scaffold.toml found in", "-C <dir>"],
    );
    fails_in(
        empty.path(),
        &["-C", "does/not/exist", "new", "module", "tasks"],
        &["cannot use directory does/not/exist"],
    );
}

#[test]
fn a_broken_config_is_a_clear_error() {
    let project = Project::copy();
    project.write("scaffold.toml", "[paths]\nmodules = \"src/modules\"\n");
    project.fails_with(
        &["new", "module", "tasks", "a:int"],
        &["scaffold.toml is not valid", "missing field `migrations`"],
    );
}

#[test]
fn a_registration_without_its_template_is_a_clear_error() {
    let project = Project::copy();
    fs::remove_file(project.path("scaffold/templates/inject/routes.tera")).unwrap();
    project.fails_with(TASKS, &["no template inject/routes.tera"]);
}

#[test]
fn usage_errors_exit_with_2() {
    let project = Project::copy();
    for args in [
        &["new", "module"][..],
        &["new", "module", "tasks", "--frobnicate"],
        &["new", "widget"],
    ] {
        let run = project.run(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
    }
    let run = project.run(&["new", "module", "--help"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("name:type[?][:unique][:index]"),
        "{run:?}"
    );
    assert!(run.stdout.contains("Examples:"), "{run:?}");
}

#[test]
fn completions_are_printed_for_each_shell() {
    let project = Project::copy();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = project.run(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {run:?}");
        assert!(run.stdout.contains("scaffold"), "{shell}");
        assert!(
            run.stdout.contains("upgrade"),
            "{shell}: subcommands are completed"
        );
    }
    let run = project.run(&["completions", "tcsh"]);
    assert_eq!(run.code, 2, "an unknown shell is a usage error: {run:?}");
}

/// The reader of the output goes away (`scaffold ... | head`): the program ends without a
/// panic or a message, whatever the command.
#[test]
fn a_closed_output_pipe_ends_quietly() {
    let project = Project::copy();
    for args in [
        &["new", "module", "tasks", "title:string", "--dry-run"][..],
        &["--help"],
        &["templates", "list"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_scaffold"));
        command
            .arg("-C")
            .arg(&project.root)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(writer)
            .stderr(std::process::Stdio::piped());
        let output = wait_for(command.spawn().unwrap(), &command);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
        assert!(
            !output.status.success(),
            "{args:?}: ended by the closed pipe"
        );
    }
}

/// A registration file that is not UTF-8 would lose its other bytes to replacement
/// characters: refused, nothing written.
#[test]
fn a_registration_file_that_is_not_utf8_is_refused() {
    let project = Project::copy();
    let registry = project.path("src/modules/mod.rs");
    let mut bytes = fs::read(&registry).unwrap();
    bytes.extend_from_slice(b"// caf\xe9 in Latin-1\n");
    fs::write(&registry, &bytes).unwrap();
    project.fails_with(
        &["new", "module", "tasks", "title:string"],
        &["src/modules/mod.rs: is not valid UTF-8 text"],
    );
}

/// Two runs at once would lose each other's registration lines and manifest entries: while
/// one holds the project, every command that writes refuses, and changes nothing.
#[test]
fn one_run_at_a_time_changes_a_project() {
    let project = Project::copy();
    assert_eq!(project.run(TASKS).code, 0);
    let held = fs::File::open(project.path("scaffold.toml")).unwrap();
    held.lock().unwrap();
    for args in [
        &["new", "module", "notes", "title:string"][..],
        &["change", "module", "tasks", "--add", "done:bool=false"],
        &["upgrade", "--all"],
        &["destroy", "module", "tasks"],
        &["templates", "eject", "--force"],
    ] {
        project.fails_with(args, &["another scaffold is changing the project"]);
    }
    held.unlock().unwrap();
    assert_eq!(
        project
            .run(&["new", "module", "notes", "title:string"])
            .code,
        0
    );
}

#[test]
fn a_mistyped_command_or_type_gets_a_suggestion() {
    let project = Project::copy();
    let run = project.run(&["lsit"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("'list'"), "{run:?}");
    project.fails_with(
        &["new", "module", "tasks", "title:strng"],
        &["did you mean `string`?"],
    );
    project.fails_with(
        &["new", "module", "tasks", "owner:ref(usres)"],
        &["did you mean `users`?"],
    );
}

/// The commands under "next steps:", up to the first blank line.
fn next_steps(stdout: &str) -> Vec<String> {
    stdout
        .split("next steps:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no next steps in {stdout}"))
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .map(|line| line.trim().split("   ").next().unwrap().to_owned())
        .collect()
}

/// After `new module`, the module's own tests come first (`--lib`: no integration test binary
/// is built), under the package's name so that the command works anywhere in its workspace;
/// the whole suite second. A module without tests gets only the suite.
#[test]
fn next_steps_run_the_new_module_tests_before_the_suite() {
    let project = Project::copy();
    project.write(
        "Cargo.toml",
        "[package]\nname = \"billing-api\"\nedition = \"2024\"\n",
    );
    let run = project.run(&["new", "module", "tasks", "a:int"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        next_steps(&run.stdout),
        [
            "cargo run -- migrate",
            "cargo test -p billing-api --lib tasks",
            "cargo test"
        ],
        "{run:?}"
    );
    let run = project.run(&["new", "module", "notes", "body:text", "--no-tests"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        next_steps(&run.stdout),
        ["cargo run -- migrate", "cargo test"],
        "{run:?}"
    );
    let run = project.run(&["change", "module", "tasks", "--add", "b:int?"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        next_steps(&run.stdout),
        [
            "cargo run -- migrate",
            "cargo test -p billing-api --lib tasks",
            "cargo test"
        ],
        "{run:?}"
    );
}

/// Run with `-C` from outside the project, the commands scaffold suggests keep the `-C`.
#[test]
fn hints_name_commands_that_work_from_where_scaffold_ran() {
    let project = Project::copy();
    project.write(
        "Cargo.toml",
        "[package]\nname = \"fixture\"\nedition = \"2024\"\n",
    );
    let parent = project.root.parent().unwrap();
    let run = run_in(
        parent,
        &["-C", "project", "new", "module", "tasks", "a:int"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    // The fixture is in no Cargo workspace: its manifest is named.
    assert_eq!(
        next_steps(&run.stdout),
        [
            "cargo run --manifest-path project/Cargo.toml -- migrate",
            "cargo test --manifest-path project/Cargo.toml --lib tasks",
            "cargo test --manifest-path project/Cargo.toml",
        ],
        "{run:?}"
    );
    project.write("src/modules/tasks/models.rs", "// mine\n");
    fails_in(
        parent,
        &["-C", "project", "new", "module", "tasks", "a:int"],
        &["`scaffold -C project upgrade tasks` brings it"],
    );
    let run = run_in(parent, &["-C", "project", "check"]);
    assert_eq!(run.code, 0, "edits are no problem: {run:?}");
    assert!(
        run.stdout.contains("(see `scaffold -C project list`)"),
        "{run:?}"
    );
    let run = run_in(
        parent,
        &["-C", "project", "destroy", "module", "tasks", "--force"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("then run `cargo run --manifest-path project/Cargo.toml -- migrate`"),
        "{run:?}"
    );
}

//! `scaffold change module`: the ALTER SQL of each kind of change (snapshots), bad input
//! (refused, tree untouched), and the real binary merging a change into hand-edited files of
//! the fixture project. The migrations run against PostgreSQL in `end_to_end.rs`.

mod common;

use common::{Project, Run};
use scaffold::generate::spec_diff::{SpecDiff, SpecEdits};
use scaffold::input::names::{Inflections, NameRequest};
use scaffold::input::project::{JsonCase, ProjectFacts};
use scaffold::input::spec::{ModuleSpec, SpecRequest};

fn facts() -> ProjectFacts {
    ProjectFacts {
        existing_modules: ["projects".to_string(), "users".to_string()].into(),
        modules_dir: "src/modules".into(),
        inflections: Inflections::default(),
        ..ProjectFacts::default()
    }
}

fn parse(fields: &[String]) -> Result<ModuleSpec, String> {
    let request = SpecRequest {
        names: NameRequest::new("tasks"),
        fields,
        with_tests: true,
    };
    ModuleSpec::parse(request, &facts()).map_err(|e| e.to_string())
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The change of `tasks` from `fields` by `edit`, or why it is refused.
fn change(fields: &[&str], edit: Edit) -> Result<SpecDiff, String> {
    let old = parse(&words(fields)).unwrap();
    let (add, remove, rename, alter) = (
        words(edit.add),
        words(edit.remove),
        words(edit.rename),
        words(edit.alter),
    );
    let request = SpecEdits {
        add: &add,
        remove: &remove,
        rename: &rename,
        alter: &alter,
    };
    SpecDiff::new(&old, request, &parse).map_err(|e| e.to_string())
}

#[derive(Default, Clone, Copy)]
struct Edit {
    add: &'static [&'static str],
    remove: &'static [&'static str],
    rename: &'static [&'static str],
    alter: &'static [&'static str],
}

const TASKS: &[&str] = &[
    "title:string",
    "notes:text?",
    "priority:int",
    "status:enum(open,done)",
    "code:string(12):unique",
    "rank:int?:index",
    "project:ref(projects)",
    "owner:ref(users)?",
    "legacy_code:string?",
];

/// Every kind of change of the snapshot below; the SQL must also run on a table with rows.
fn kinds_of_change() -> Vec<(&'static str, Edit)> {
    vec![
        (
            "add a required field with a default, an optional field and a ref",
            Edit {
                add: &[
                    "points:int=0",
                    "state:enum(new,old)=new",
                    "due_on:date?",
                    "reviewer:ref(users)?",
                    "label:string(20)=Hello world",
                ],
                ..Edit::default()
            },
        ),
        (
            "add array fields, one with an empty default and a GIN index",
            Edit {
                add: &[
                    "tags:string(40)[]:index=[]",
                    "scores:int[]?",
                    "sizes:bigint[]=[1,2]",
                ],
                ..Edit::default()
            },
        ),
        (
            "remove fields",
            Edit {
                remove: &["legacy_code", "owner"],
                ..Edit::default()
            },
        ),
        (
            "rename fields with constraints and indexes",
            Edit {
                rename: &["title:name", "code:key", "rank:position", "owner:assignee"],
                ..Edit::default()
            },
        ),
        (
            "widen and narrow strings, string to text",
            Edit {
                alter: &["title:string(500)", "code:text:unique"],
                ..Edit::default()
            },
        ),
        (
            "enum values added and removed",
            Edit {
                alter: &["status:enum(open,doing,done,archived)"],
                ..Edit::default()
            },
        ),
        (
            "optional to required, required to optional, refs both ways",
            Edit {
                alter: &[
                    "notes:text=none",
                    "priority:int?",
                    "owner:ref(users)",
                    "project:ref(projects)?",
                ],
                ..Edit::default()
            },
        ),
        (
            "unique and index on and off, type widening, defaults",
            Edit {
                alter: &[
                    "code:string(12):index",
                    "rank:bigint?:unique",
                    "priority:int=3",
                    "title:string:index",
                ],
                ..Edit::default()
            },
        ),
        (
            "delete rules changed: cascade, restrict on an optional ref",
            Edit {
                alter: &[
                    "project:ref(projects,cascade)",
                    "owner:ref(users,restrict)?",
                ],
                ..Edit::default()
            },
        ),
        (
            "secrets and write-only fields added, a field made write-only (no SQL)",
            Edit {
                add: &["password:secret?", "hint:text:writeonly=none"],
                alter: &["legacy_code:string?:writeonly"],
                ..Edit::default()
            },
        ),
        (
            "rename and alter one field",
            Edit {
                rename: &["title:headline"],
                alter: &["headline:string(80):unique"],
                ..Edit::default()
            },
        ),
    ]
}

#[test]
fn alter_sql_for_each_kind_of_change() {
    let mut all = String::new();
    for (name, edit) in kinds_of_change() {
        let change = change(TASKS, edit).unwrap_or_else(|e| panic!("{name}: {e}"));
        all.push_str(&format!("==> {name}\n{}\n", change.migration("tasks ...")));
    }
    insta::assert_snapshot!(all);
}

/// Two rows of `TASKS`.
const TASK_ROWS: &str = "\
    INSERT INTO tasks (title, notes, priority, status, code, rank, project_id, owner_id, \
    legacy_code) SELECT 'first', NULL, 1, 'open', 'c1', 1, projects.id, users.id, 'x' \
    FROM projects, users;\n\
    INSERT INTO tasks (title, notes, priority, status, code, rank, project_id, owner_id, \
    legacy_code) SELECT 'second', 'n', 2, 'done', 'c2', 2, projects.id, users.id, NULL \
    FROM projects, users;";

/// The create migration of `tasks` as the built-in templates write it, in a schema of its
/// own with the tables it refers to and two rows, then `change`'s migration: the result of
/// psql, which runs it all in one transaction.
fn run_on_rows(
    database: &str,
    schema: &str,
    before: &str,
    change: &SpecDiff,
) -> std::process::Output {
    run_with_rows(database, schema, TASK_ROWS, before, change)
}

/// [`run_on_rows`] with the rows that `rows` inserts.
fn run_with_rows(
    database: &str,
    schema: &str,
    rows: &str,
    before: &str,
    change: &SpecDiff,
) -> std::process::Output {
    run_script(database, schema, rows, before, change, "")
}

/// [`run_with_rows`], then `after`.
fn run_script(
    database: &str,
    schema: &str,
    rows: &str,
    before: &str,
    change: &SpecDiff,
    after: &str,
) -> std::process::Output {
    let templates = scaffold::generate::render::TemplateSet::load(true, None).unwrap();
    let renderer =
        scaffold::generate::render::Renderer::new(templates, &Inflections::default()).unwrap();
    let create =
        scaffold::generate::plan::create_migration(&change.old, &renderer, JsonCase::Snake)
            .unwrap()
            .unwrap();
    let script = format!(
        "CREATE SCHEMA {schema};\n\
         SELECT set_config('search_path', '{schema}', true);\n\
         CREATE TABLE users (id UUID PRIMARY KEY DEFAULT gen_random_uuid());\n\
         CREATE TABLE projects (id UUID PRIMARY KEY DEFAULT gen_random_uuid());\n\
         INSERT INTO users DEFAULT VALUES;\n\
         INSERT INTO projects DEFAULT VALUES;\n\
         {create}\n\
         {rows}\n\
         {before}\n\
         {}\n\
         {after}\n",
        change.migration("tasks ...")
    );
    let mut command = std::process::Command::new("psql");
    command
        .args([
            database,
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "--single-transaction",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("psql, PostgreSQL's client, runs");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    common::wait_for(child, &command)
}

#[test]
fn change_migrations_run_on_tables_with_rows() {
    let database = server::testing::fresh_database();
    for (i, (name, edit)) in kinds_of_change().into_iter().enumerate() {
        let change = change(TASKS, edit).unwrap();
        let output = run_on_rows(&database, &format!("ok_{i}"), "", &change);
        assert!(output.status.success(), "{name}: {output:?}");
    }
    // Rows the new rules reject fail the migration with a message that says why.
    let refused: &[(Edit, &str, &str)] = &[
        (
            Edit {
                alter: &["status:enum(done,archived)"],
                ..Edit::default()
            },
            "",
            "tasks.status holds values that the new definition (status IN ('done', \
             'archived')) does not allow, in 1 row(s): open; change those rows first",
        ),
        (
            Edit {
                alter: &["title:string(5)"],
                ..Edit::default()
            },
            "",
            "tasks.title holds values that the new definition (char_length(title) BETWEEN 1 \
             AND 5) does not allow, in 1 row(s): second",
        ),
        (
            Edit {
                alter: &["owner:ref(users)"],
                ..Edit::default()
            },
            "UPDATE tasks SET owner_id = NULL WHERE title = 'second';",
            "tasks.owner_id is empty in 1 row(s); set it before making it required",
        ),
    ];
    for (i, (edit, before, expected)) in refused.iter().enumerate() {
        let change = change(TASKS, *edit).unwrap();
        let output = run_on_rows(&database, &format!("refused_{i}"), before, &change);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{expected}");
        assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    }
}

/// A changed delete rule holds in the database: with `cascade` deleting a project deletes its
/// tasks, with `restrict` deleting a user that a task names is refused; unchanged, a required
/// ref restricts and an optional one is cleared, as before delete rules existed.
#[test]
fn changed_delete_rules_hold_on_delete() {
    let database = server::testing::fresh_database();
    let psql = |schema: &str, edit: Edit, after: &str| {
        let change = change(TASKS, edit).unwrap();
        let output = run_script(&database, schema, TASK_ROWS, "", &change, after);
        let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
        (output.status.success(), text, output)
    };
    let cascade = Edit {
        alter: &["project:ref(projects,cascade)"],
        ..Edit::default()
    };
    let (ok, counted, output) = psql(
        "rule_cascade",
        cascade,
        "DELETE FROM projects;\nSELECT 'tasks left: ' || count(*) FROM tasks;",
    );
    assert!(ok, "{output:?}");
    assert!(counted.contains("tasks left: 0"), "{counted}");

    let restrict = Edit {
        alter: &["owner:ref(users,restrict)?"],
        ..Edit::default()
    };
    let (ok, _, output) = psql("rule_restrict", restrict, "DELETE FROM users;");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!ok, "{output:?}");
    assert!(
        stderr.contains("violates foreign key constraint \"tasks_owner_id_fkey\""),
        "{stderr}"
    );

    // Without the change, the required project keeps its default, `restrict`; the optional
    // owner its `set_null`.
    let unchanged = Edit {
        add: &["points:int=0"],
        ..Edit::default()
    };
    let (ok, _, output) = psql("rule_default", unchanged, "DELETE FROM projects;");
    assert!(!ok, "{output:?}");
    let (ok, owners, output) = psql(
        "rule_set_null",
        unchanged,
        "DELETE FROM users;\nSELECT 'owners left: ' || count(owner_id) FROM tasks;",
    );
    assert!(ok, "{output:?}");
    assert!(owners.contains("owners left: 0"), "{owners}");
}

/// Keywords as column names: quoted exactly as PostgreSQL's `quote_ident` quotes them, in the
/// create migration and in every kind of change, on a table with rows.
#[test]
fn keyword_columns_are_quoted_everywhere() {
    let database = server::testing::fresh_database();
    let keywords = psql_lines(
        &database,
        "SELECT word, quote_ident(word) FROM pg_get_keywords() ORDER BY word",
    );
    assert!(keywords.len() > 400, "{keywords:?}");
    for line in &keywords {
        let (word, quoted) = line.split_once('|').unwrap();
        assert_eq!(scaffold::input::idents::sql_ident(word), quoted, "{word}");
    }

    let fields = &[
        "order:int:index",
        "user:string(10)?:unique",
        "group:enum(a,b)",
        "time:ref(projects)?",
        "check:string?",
    ];
    let rows = "INSERT INTO tasks (\"order\", \"user\", \"group\", time_id, \"check\") \
                SELECT 1, 'ann', 'a', id, 'x' FROM projects;\n\
                INSERT INTO tasks (\"order\", \"user\", \"group\") VALUES (2, NULL, 'b');";
    let change = change(
        fields,
        Edit {
            add: &["limit:int=3", "desc:string?:unique"],
            remove: &["check"],
            rename: &["order:select"],
            alter: &[
                "user:string(5)?:index",
                "group:enum(a,b,c)",
                "time:ref(projects)",
            ],
        },
    )
    .unwrap();
    let output = run_with_rows(
        &database,
        "keywords",
        rows,
        "DELETE FROM tasks WHERE time_id IS NULL;",
        &change,
    );
    assert!(output.status.success(), "{output:?}");
}

fn psql_lines(database: &str, sql: &str) -> Vec<String> {
    let output = common::output(std::process::Command::new("psql").args([
        database,
        "-X",
        "-At",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        sql,
    ]));
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_new_spec_is_the_old_one_with_the_edits() {
    let change = change(
        TASKS,
        Edit {
            add: &["points:int=0"],
            remove: &["legacy_code"],
            rename: &["title:headline", "owner_id:assignee"],
            alter: &["headline:string(80)"],
        },
    )
    .unwrap();
    assert_eq!(
        change.new.command,
        "tasks headline:string(80) notes:text? priority:int status:enum(open,done) \
         code:string(12):unique rank:int?:index project:ref(projects) assignee:ref(users)? \
         points:int=0"
    );
}

/// A secret's column is its hash's: renaming the field renames `<name>_hash`, removing it
/// drops it, and making an optional secret required checks the rows instead of asking for a
/// default (a secret has none).
#[test]
fn secrets_change_their_hash_columns() {
    let fields = ["title:string", "password:secret?", "pin:secret(12)?"];
    let edit = Edit {
        remove: &["pin"],
        rename: &["password:passphrase"],
        ..Edit::default()
    };
    let sql = change(&fields, edit).unwrap().migration("tasks ...");
    assert!(
        sql.contains("RENAME COLUMN password_hash TO passphrase_hash"),
        "{sql}"
    );
    assert!(sql.contains("DROP COLUMN pin_hash"), "{sql}");
    let required = Edit {
        alter: &["password:secret"],
        ..Edit::default()
    };
    let sql = change(&fields, required).unwrap().migration("tasks ...");
    assert!(sql.contains("password_hash IS NULL"), "{sql}");
    assert!(
        sql.contains("ALTER COLUMN password_hash SET NOT NULL"),
        "{sql}"
    );
    let error = change(
        &fields,
        Edit {
            add: &["token:secret"],
            ..Edit::default()
        },
    )
    .unwrap_err();
    assert!(
        error.contains("add it optional (`--add token:secret?`)"),
        "{error}"
    );
    let error = change(
        &fields,
        Edit {
            alter: &["title:secret"],
            ..Edit::default()
        },
    )
    .unwrap_err();
    assert!(
        error.contains("cannot change `title` from `string` to `secret`"),
        "{error}"
    );
}

#[test]
fn impossible_changes_are_refused_with_what_to_do() {
    let cases: &[(Edit, &str)] = &[
        (
            Edit {
                remove: &["nope"],
                ..Edit::default()
            },
            "`tasks` has no field `nope`; its fields are title, notes",
        ),
        (
            Edit {
                alter: &["nope:int"],
                ..Edit::default()
            },
            "has no field `nope`",
        ),
        (
            Edit {
                alter: &["project:ref(projects,set_null)"],
                ..Edit::default()
            },
            "`set_null` needs an optional ref",
        ),
        (
            Edit {
                rename: &["title:notes"],
                ..Edit::default()
            },
            "cannot rename `title` to `notes`: `notes` is already a field of `tasks`",
        ),
        (
            Edit {
                rename: &["title"],
                ..Edit::default()
            },
            "`--rename old_name:new_name`",
        ),
        (
            Edit {
                rename: &["legacy_code:legacyCode"],
                ..Edit::default()
            },
            "`legacy_code` and `legacyCode` name the same field, `legacy_code`: field names are \
             kept in snake_case, and JSON spells every name in the case `[api] json_case` sets",
        ),
        (
            Edit {
                add: &["points:int"],
                ..Edit::default()
            },
            "`points` is required, and the table may already hold rows that need a value: \
             give it a default for those rows (`--add points:int=VALUE`)",
        ),
        (
            Edit {
                add: &["lead:ref(users)"],
                ..Edit::default()
            },
            "add it optional (`--add lead:ref(users)?`)",
        ),
        (
            Edit {
                add: &["points:int=abc"],
                ..Edit::default()
            },
            "`abc` is not a valid `int`",
        ),
        (
            Edit {
                add: &["state:enum(a,b)=c"],
                ..Edit::default()
            },
            "`c` is not one of the values: a, b",
        ),
        (
            Edit {
                alter: &["priority:date"],
                ..Edit::default()
            },
            "cannot change `priority` from `int` to `date` in place",
        ),
        (
            Edit {
                alter: &["notes:text"],
                ..Edit::default()
            },
            "making `notes` required needs a value for the rows where it is empty: write \
             `--alter notes:text=VALUE`",
        ),
        (
            Edit {
                alter: &["priority:int"],
                ..Edit::default()
            },
            "nothing to change",
        ),
        (
            Edit {
                add: &["tenant_id:uuid?"],
                ..Edit::default()
            },
            "refers to the tenant",
        ),
        (
            Edit {
                remove: &["title"],
                rename: &["title:name"],
                ..Edit::default()
            },
            "`title` is both removed and renamed",
        ),
        (
            Edit {
                rename: &["title:name"],
                alter: &["title:string(80)"],
                ..Edit::default()
            },
            "alter it by its new name: `--alter name:...`",
        ),
        (
            Edit {
                add: &["code:int?"],
                ..Edit::default()
            },
            "`code` is already a field",
        ),
    ];
    for (edit, expected) in cases {
        let error = change(TASKS, *edit).unwrap_err();
        assert!(
            error.contains(expected),
            "expected {expected:?} in {error:?}"
        );
    }
    let error = change(
        &["title:string", "done:bool"],
        Edit {
            remove: &["title", "done"],
            ..Edit::default()
        },
    )
    .unwrap_err();
    assert!(error.contains("would remove every field"), "{error}");
}

// ---- the real binary on the fixture project ------------------------------------------------

const MODELS: &str = "src/modules/tasks/models.rs";
const CHANGE: &str = "migrations/tenant/20250301120001_change_tasks.sql";

fn ok(run: &Run) {
    assert_eq!(run.code, 0, "{run:?}");
}

fn with_tasks() -> Project {
    let project = Project::copy();
    ok(&project.run(&[
        "new",
        "module",
        "tasks",
        "title:string(120)",
        "legacy_code:string?",
        "owner:ref(users)?",
    ]));
    project
}

#[test]
fn a_change_writes_a_migration_and_merges_into_hand_edits() {
    let project = with_tasks();
    let models = project.read(MODELS);
    project.write(
        MODELS,
        &format!("{models}\n// Tasks are sorted by owner.\n"),
    );
    let create = "migrations/tenant/20250301120000_create_tasks.sql";
    let created = project.read(create);

    let run = project.run(&[
        "change",
        "module",
        "Task",
        "--add",
        "priority:int=0",
        "--rename",
        "title:headline",
        "--remove",
        "legacy_code",
        "--yes",
    ]);
    ok(&run);
    assert!(
        run.stdout
            .contains("ALTER TABLE tasks RENAME COLUMN title TO headline;"),
        "{run:?}"
    );
    for line in [
        &format!("create  {CHANGE}"),
        &format!("merge  {MODELS}"),
        &format!("identical  {create}"),
    ] {
        assert!(run.stdout.contains(line.as_str()), "{line} in {run:?}");
    }
    let sql = project.read(CHANGE);
    assert!(
        sql.starts_with(
            "-- Tasks: changed by `scaffold change module tasks --add priority:int=0 --remove \
             legacy_code --rename title:headline`.\n"
        ),
        "{sql}"
    );
    assert!(
        sql.contains("ALTER TABLE tasks DROP COLUMN legacy_code;\n"),
        "{sql}"
    );
    assert!(
        sql.contains("ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;\n"),
        "{sql}"
    );
    assert_eq!(
        project.read(create),
        created,
        "an applied migration is never edited"
    );
    let models = project.read(MODELS);
    assert!(models.contains("// Tasks are sorted by owner."), "{models}");
    assert!(models.contains("pub headline: String,"), "{models}");
    assert!(models.contains("pub priority: i32,"), "{models}");
    assert!(!models.contains("legacy_code"), "{models}");

    let manifest = project.read(".scaffold/manifest.toml");
    assert!(
        manifest.contains(
            "command = \"tasks headline:string(120) owner:ref(users)? priority:int=0\"\n\
             create_command = \"tasks title:string(120) legacy_code:string? owner:ref(users)?\"\n"
        ),
        "{manifest}"
    );
    assert!(manifest.contains(&format!("\"{CHANGE}\" = ")), "{manifest}");
    ok(&project.run(&["check"]));

    // The new full field list generates nothing new; the hand edit conflicts, as with any
    // generation.
    let new_fields = [
        "new",
        "module",
        "tasks",
        "headline:string(120)",
        "owner:ref(users)?",
        "priority:int=0",
    ];
    project.fails_with(&new_fields, &["scaffold upgrade tasks"]);
    project.write(
        MODELS,
        &models.replace("\n// Tasks are sorted by owner.\n", ""),
    );
    let run = project.run(&new_fields);
    ok(&run);
    assert!(run.stdout.contains("nothing to do"), "{run:?}");
    for line in run
        .stdout
        .lines()
        .filter(|l| l.contains("src/") || l.contains("migrations/"))
    {
        assert!(
            line.trim_start().starts_with("identical"),
            "{line} in {run:?}"
        );
    }

    // The old field list is refused: it would rewrite the applied migration.
    project.fails_with(
        &["new", "module", "tasks", "title:string(120)", "--force"],
        &["scaffold change module tasks"],
    );

    // Destroying removes the change migration with the rest.
    ok(&project.run(&["destroy", "module", "tasks"]));
    assert!(!project.path(CHANGE).exists());
    assert!(!project.path(".scaffold").exists());
}

#[test]
fn an_edit_on_the_changed_lines_gives_conflict_markers() {
    let project = with_tasks();
    let models = project.read(MODELS);
    project.write(
        MODELS,
        &models.replace("pub title: String,", "pub title: String, // shown in lists"),
    );
    let run = project.run(&["change", "module", "tasks", "--rename", "title:name"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(&format!("conflict  {MODELS}")),
        "{run:?}"
    );
    assert!(run.stderr.contains("scaffold upgrade tasks"), "{run:?}");
    let merged = project.read(MODELS);
    assert!(merged.contains("<<<<<<< ours\n"), "{merged}");
    assert!(project.path(CHANGE).exists(), "the migration is written");

    let check = project.run(&["check"]);
    assert_eq!(check.code, 1, "{check:?}");
    assert!(check.stdout.contains(MODELS), "{check:?}");
    // Another change waits until the conflict is resolved.
    project.fails_with(
        &["change", "module", "tasks", "--add", "done:bool=false"],
        &["unresolved conflicts"],
    );

    // Resolved by hand and recorded with upgrade, the module is clean again.
    project.write(
        MODELS,
        &models.replace("pub title: String,", "pub name: String, // shown in lists"),
    );
    ok(&project.run(&["upgrade", "tasks"]));
    ok(&project.run(&["check"]));
}

#[test]
fn bad_changes_leave_the_tree_untouched() {
    let project = with_tasks();
    let before = project.tree();
    let cases: &[(&[&str], &str)] = &[
        (
            &["change", "module", "nope", "--add", "a:int?"],
            "no module `nope`",
        ),
        (
            &["change", "module", "tasks"],
            "nothing to change: give at least one of",
        ),
        (
            &["change", "module", "tasks", "--remove", "nope"],
            "has no field `nope`",
        ),
        (
            &["change", "module", "tasks", "--remove", "legacy_code"],
            "dropping `legacy_code` from `tasks` deletes that data in every tenant; pass --yes",
        ),
        (
            &["change", "module", "tasks", "--add", "n:int=x"],
            "`x` is not a valid `int`",
        ),
        (
            &["change", "module", "tasks", "--alter", "title:uuid"],
            "cannot change `title` from `string(120)` to `uuid`",
        ),
        (
            &["change", "module", "tasks", "--add", "tenant:text?"],
            "refers to the tenant",
        ),
        (
            &["change", "module", "tasks", "--add", "tenant_id:uuid?"],
            "refers to the tenant",
        ),
        (
            &["change", "module", "tasks", "--rename", "title:legacy_code"],
            "cannot rename `title` to `legacy_code`: `legacy_code` is already a field",
        ),
        (
            &["change", "module", "tasks", "--owned"],
            "its column `owner_id` is one that --audit --owned adds",
        ),
        (
            &["change", "module", "tasks", "--audit", "--add", "x:int?"],
            "change the fields and the options in two runs",
        ),
        (
            &["change", "module", "tasks", "--no-audit"],
            "nothing to change: `tasks` already has no options",
        ),
        (
            &["change", "module", "tasks", "--add", "points:int"],
            "`points` is required, and the table may already hold rows",
        ),
        (
            &["change", "module", "tasks", "--add", "state:enum(a,b)=c"],
            "`c` is not one of the values: a, b",
        ),
        (
            &[
                "change",
                "module",
                "tasks",
                "--remove",
                "title",
                "--remove",
                "legacy_code",
                "--remove",
                "owner",
                "--yes",
            ],
            "would remove every field of `tasks`",
        ),
        (
            &["change", "module", "tasks", "--alter", "title:string(120)"],
            "nothing to change: `tasks` already has exactly these fields",
        ),
    ];
    for (args, expected) in cases {
        project.fails_with(args, &[expected]);
    }
    // A dry run shows the SQL and the diffs and writes nothing.
    let run = project.run(&[
        "change",
        "module",
        "tasks",
        "--remove",
        "legacy_code",
        "--dry-run",
    ]);
    ok(&run);
    assert!(
        run.stdout
            .contains("ALTER TABLE tasks DROP COLUMN legacy_code;"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("-    pub legacy_code: Option<String>,"),
        "{run:?}"
    );
    assert!(run.stdout.contains("dry run: nothing written"), "{run:?}");
    assert!(project.tree() == before);
}

#[test]
fn defaults_are_part_of_the_field_grammar() {
    let project = Project::copy();
    let run = project.run(&[
        "new",
        "module",
        "tasks",
        "title:string=Hello world",
        "status:enum(open,done)=Open",
        "due:datetime=2024-01-15T12:30:00+02:00",
        "--dry-run",
    ]);
    ok(&run);
    assert!(
        run.stdout.contains(
            "field   title:string=Hello world\nfield   status:enum(open,done)=open\nfield   \
             due:datetime=2024-01-15T10:30:00Z"
        ),
        "{run:?}"
    );
    for (word, expected) in [
        (
            "code:string:unique=x",
            "a `:unique` field cannot have a default",
        ),
        ("n:string(3)=toolong", "must have 1 to 3 characters"),
        ("owner:ref(users)=1", "a `ref` cannot have a default"),
        ("on:bool=yes", "write `=true` or `=false`"),
        ("at:date=2024-02-30", "is not a valid `date`"),
    ] {
        project.fails_with(&["new", "module", "tasks", word], &[expected]);
    }
}

/// The `--X`/`--no-X` options of `change module`: recorded in the command, each run with its
/// migration, refusals that leave the tree alone.
#[test]
fn options_are_turned_on_and_off_with_a_migration_each() {
    let project = Project::copy();
    ok(&project.run(&["new", "module", "notes", "title:string", "--private"]));
    let command = |project: &Project| {
        let manifest = project.read(".scaffold/manifest.toml");
        let line = manifest
            .lines()
            .find(|l| l.starts_with("command = \"notes"));
        line.unwrap().to_owned()
    };
    assert_eq!(
        command(&project),
        "command = \"notes title:string --audit --owned --private\""
    );
    let migrations = |project: &Project| -> Vec<String> {
        let dir = project.path("migrations/tenant");
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with("_change_notes.sql"))
            .collect();
        names.sort();
        names
    };
    let last = |project: &Project| {
        let name = migrations(project).pop().unwrap();
        project.read(&format!("migrations/tenant/{name}"))
    };

    ok(&project.run(&["change", "module", "notes", "--soft-delete"]));
    assert_eq!(
        last(&project),
        "-- Notes: changed by `scaffold change module notes --soft-delete`.\n\
         ALTER TABLE notes ADD COLUMN deleted_at TIMESTAMPTZ;\n\
         ALTER TABLE notes ADD COLUMN deleted_by TEXT;\n"
    );
    assert!(command(&project).ends_with("--private --soft-delete\""));

    let before = project.tree();
    let refused = project.run(&["change", "module", "notes", "--no-audit"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stderr.contains("--owned needs --audit"),
        "{refused:?}"
    );
    let refused = project.run(&["change", "module", "notes", "--no-soft-delete"]);
    assert!(
        refused.stderr.contains(
            "dropping `deleted_at`, `deleted_by` from `notes` deletes that data in every \
             tenant, and the rows marked deleted with it; pass --yes"
        ),
        "{refused:?}"
    );
    assert!(common::changed(&before, &project.tree()).is_empty());

    ok(&project.run(&[
        "change",
        "module",
        "notes",
        "--no-private",
        "--no-owned",
        "--yes",
    ]));
    assert_eq!(
        last(&project),
        "-- Notes: changed by `scaffold change module notes --no-owned --no-private`.\n\
         DROP INDEX notes_owner_id_idx;\n\
         ALTER TABLE notes DROP COLUMN owner_id;\n"
    );
    assert_eq!(
        command(&project),
        "command = \"notes title:string --audit --soft-delete\""
    );
    assert_eq!(migrations(&project).len(), 2);
}

#[test]
fn scaffold_toml_turns_options_on_for_new_modules() {
    let project = Project::copy();
    let config = project.read("scaffold.toml");
    project.write(
        "scaffold.toml",
        &format!("{config}\n[modules]\naudit = true\n"),
    );
    ok(&project.run(&["new", "module", "notes", "title:string"]));
    let manifest = project.read(".scaffold/manifest.toml");
    assert!(
        manifest.contains("command = \"notes title:string --audit\""),
        "{manifest}"
    );
}

/// Table shapes and options change tables that hold rows: each migration runs after the create
/// migration of the shape and options before it, on two rows, and keeps them.
#[test]
fn shape_and_option_migrations_keep_the_rows() {
    use scaffold::generate::spec_diff;
    use scaffold::input::options::ModuleOptions;

    let database = server::testing::fresh_database();
    let templates = scaffold::generate::render::TemplateSet::load(true, None).unwrap();
    let renderer =
        scaffold::generate::render::Renderer::new(templates, &Inflections::default()).unwrap();
    let fields = words(&["title:string", "code:string(10):unique"]);
    let at = |shape: u32, options: ModuleOptions| {
        let mut spec = parse(&fields).unwrap().with_options(options).unwrap();
        spec.shape = shape;
        spec
    };
    let changed = |old: &ModuleSpec, options: ModuleOptions| {
        let parse = |f: &[String]| {
            parse(f).and_then(|s| s.with_options(options).map_err(|e| e.to_string()))
        };
        SpecDiff::new(old, SpecEdits::default(), &parse)
            .unwrap()
            .migration("tasks")
    };
    // Runs the create migration of `old`, two rows, `before`, `migration` and `after` in a
    // schema of its own; the last line psql prints, `after`'s result.
    let run = |schema: &str, old: &ModuleSpec, before: &str, migration: &str, after: &str| {
        let create = scaffold::generate::plan::create_migration(old, &renderer, JsonCase::Snake)
            .unwrap()
            .unwrap();
        let script = format!(
            "CREATE SCHEMA {schema}; SELECT set_config('search_path', '{schema}', true);\n\
             {create}\nINSERT INTO tasks (title, code) VALUES ('a', 'c1'), ('b', 'c2');\n\
             {before}\n{migration}\n{after}"
        );
        psql_lines(&database, &script).pop().unwrap()
    };
    let plain = ModuleOptions::default();
    let soft = ModuleOptions {
        audit: true,
        soft_delete: true,
        ..plain
    };
    let private = ModuleOptions {
        private: true,
        ..plain
    }
    .implied();

    // `upgrade` from before `version`: every row at version 1.
    let old = at(1, plain);
    let upgrade = spec_diff::shape_migration(&old, 2).unwrap();
    let versions = "SELECT string_agg(title || ':' || version, ',' ORDER BY title) FROM tasks";
    assert_eq!(run("shape", &old, "", &upgrade, versions), "a:1,b:1");

    // Soft delete on: a deleted row's unique value is free for a live one.
    let migration = changed(&at(2, plain), soft);
    let reuse = "UPDATE tasks SET deleted_at = now() WHERE title = 'a';\n\
                 INSERT INTO tasks (title, code) VALUES ('c', 'c1');\n\
                 SELECT string_agg(title, ',' ORDER BY title) FROM tasks WHERE code = 'c1'";
    assert_eq!(run("soft_on", &at(2, plain), "", &migration, reuse), "a,c");

    // Soft delete off: the rows it kept go, and the unique constraint is back.
    let migration = changed(&at(2, soft), plain);
    let before = "UPDATE tasks SET deleted_at = now() WHERE title = 'a';\n\
                  INSERT INTO tasks (title, code) VALUES ('c', 'c1');";
    let after = "SELECT string_agg(title, ',' ORDER BY title) || ' ' || \
                 (SELECT count(*) FROM pg_constraint WHERE conname = 'tasks_code_key' \
                 AND connamespace = 'soft_off'::regnamespace) FROM tasks";
    assert_eq!(
        run("soft_off", &at(2, soft), before, &migration, after),
        "b,c 1"
    );

    // Private on: the rows stay, with no owner, and the owner's index is there.
    let migration = changed(&at(2, plain), private);
    let after = "SELECT count(*) || ' ' || count(owner_id) || ' ' || \
                 (SELECT count(*) FROM pg_indexes WHERE indexname = 'tasks_owner_id_idx' \
                 AND schemaname = 'private') FROM tasks";
    assert_eq!(
        run("private", &at(2, plain), "", &migration, after),
        "2 0 1"
    );
}

/// Hand-written lines that name a renamed field are listed (file:line) before anything is
/// written: the merge renames only what scaffold generated, so they would break the build.
#[test]
fn a_rename_warns_of_hand_written_lines_that_still_name_the_old_field() {
    let project = with_tasks();
    let service = MODELS;
    let text = project.read(service);
    let hand = "pub fn headline_of(task: &Task) -> &str {\n    &task.title\n}\n";
    project.write(service, &format!("{text}\n{hand}"));
    let title_line = text.lines().count() + 3;
    // A file of the module that scaffold did not write is all hand-written.
    let extra = "src/modules/tasks/owners.rs";
    project.write(
        extra,
        "// Who owns a task.\nfn owner(id: Uuid) -> Uuid {\n    id // owner_id\n}\n",
    );

    let run = project.run(&[
        "change",
        "module",
        "tasks",
        "--rename",
        "title:headline",
        "--rename",
        "owner:assignee",
        "--dry-run",
    ]);
    ok(&run);
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with("warning:"))
        .collect();
    assert_eq!(
        warnings,
        [
            format!(
                "warning: {service}:{title_line} still names `title` (renamed to `headline`): &task.title"
            ),
            format!(
                "warning: {extra}:3 still names `owner_id` (renamed to `assignee_id`): id // owner_id"
            ),
        ],
        "{run:?}"
    );
    assert!(run.stderr.contains("rename it there too"), "{run:?}");

    // Generated lines alone give no warning, nor does a change that renames nothing.
    let clean = with_tasks();
    let run = clean.run(&["change", "module", "tasks", "--rename", "title:headline"]);
    ok(&run);
    assert!(!run.stderr.contains("warning:"), "{run:?}");
    let run = project.run(&["change", "module", "tasks", "--add", "done:bool=false"]);
    ok(&run);
    assert!(!run.stderr.contains("warning:"), "{run:?}");
}

/// `--key FIELD`: recorded in the command, `change module` moves it without a migration, and
/// what would leave a row without one name is refused. (What it generates: `generated.rs`.)
#[test]
fn a_key_names_rows_and_moves_without_a_migration() {
    let project = Project::copy();
    for (key, fields, expected) in [
        ("nope", "title:string", "`articles` has no field `nope`"),
        ("slug", "slug:string", "`slug` is not `:unique`"),
        ("slug", "slug:string?:unique", "`slug` is optional"),
        (
            "slug",
            "slug:int:unique",
            "`slug:int:unique` is not a string",
        ),
        (
            "slug",
            "slug:text:unique",
            "`slug:text:unique` is not a string",
        ),
    ] {
        project.fails_with(
            &["new", "module", "articles", fields, "--key", key],
            &[&format!("--key {key}: {expected}")],
        );
    }
    project.fails_with(
        &[
            "new",
            "module",
            "articles",
            "slug:string:unique",
            "--key",
            "slug",
            "--soft-delete",
        ],
        &["leave out one of --key and --soft-delete"],
    );

    ok(&project.run(&[
        "new",
        "module",
        "articles",
        "slug:string(80):unique",
        "code:string(12):unique",
        "title:string",
        "--key",
        "slug",
    ]));
    let command = |project: &Project| {
        let manifest = project.read(".scaffold/manifest.toml");
        let line = manifest
            .lines()
            .find(|l| l.starts_with("command = \"articles"));
        line.unwrap().to_owned()
    };
    assert!(command(&project).ends_with("title:string --key slug\""));

    let migrations = |project: &Project| {
        std::fs::read_dir(project.path("migrations/tenant"))
            .unwrap()
            .count()
    };
    let before = migrations(&project);
    ok(&project.run(&["change", "module", "articles", "--key", "code"]));
    assert!(command(&project).ends_with("title:string --key code\""));
    ok(&project.run(&["change", "module", "articles", "--no-key"]));
    assert!(command(&project).ends_with("title:string\""));
    ok(&project.run(&["change", "module", "articles", "--key", "slug"]));
    assert_eq!(
        migrations(&project),
        before,
        "a key is a route, not a column"
    );

    for (args, expected) in [
        (
            &["--key", "slug"][..],
            "nothing to change: `articles` already has the key `slug`",
        ),
        (&["--key", "title"], "--key title: `title` is not `:unique`"),
        (
            &["--key", "code", "--add", "x:int?"],
            "change the key in a run of its own",
        ),
        (
            &["--remove", "slug", "--yes"],
            "`slug` is `articles`'s key (--key slug)",
        ),
        (
            &["--rename", "slug:handle"],
            "change module articles --no-key",
        ),
        (
            &["--alter", "slug:string(80)"],
            "--key slug: `slug` is not `:unique`",
        ),
        (
            &["--soft-delete"],
            "leave out one of --key and --soft-delete",
        ),
    ] {
        let mut all = vec!["change", "module", "articles"];
        all.extend_from_slice(args);
        project.fails_with(&all, &[expected]);
    }

    // A module that refers to it nests its list under the key, so the key stays while it does.
    ok(&project.run(&[
        "new",
        "module",
        "comments",
        "body:text",
        "article:ref(articles,cascade)",
    ]));
    for args in [&["--no-key"][..], &["--key", "code"]] {
        let mut all = vec!["change", "module", "articles"];
        all.extend_from_slice(args);
        project.fails_with(
            &all,
            &["`comments` refers to `articles` and nests its list under what names"],
        );
    }
}

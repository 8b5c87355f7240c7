//! Living with generated code: the manifest, `list`, `check`, `upgrade` and `destroy`, run as
//! the real binary against copies of the fixture project and of `examples/server`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{Project, Run, Tree, changed, copy_tree, git, run_in};

const TASKS: &[&str] = &[
    "new",
    "module",
    "tasks",
    "title:string(120)",
    "owner:ref(users)?",
];
const MODELS: &str = "src/modules/tasks/models.rs";
const MIGRATION: &str = "migrations/tenant/20250301120000_create_tasks.sql";
const MANIFEST: &str = ".scaffold/manifest.toml";
/// The fixture's own models template, which the tests change to play a template release.
const MODELS_TEMPLATE: &str = "scaffold/templates/module/models.rs.tera";

fn ok(run: &Run) {
    assert_eq!(run.code, 0, "{run:?}");
}

fn fails(run: &Run) {
    assert_eq!(run.code, 1, "{run:?}");
}

/// The fixture with `tasks` generated.
fn with_tasks() -> Project {
    let project = Project::copy();
    ok(&project.run(TASKS));
    project
}

/// Replaces `from` by `to` in a project file, which must contain it.
fn edit(project: &Project, path: &str, from: &str, to: &str) {
    let text = project.read(path);
    assert!(text.contains(from), "{path} has no {from:?}:\n{text}");
    project.write(path, &text.replacen(from, to, 1));
}

// ---- the manifest -------------------------------------------------------------------------

#[test]
fn new_records_the_module_in_the_manifest() {
    let project = with_tasks();
    let manifest = project.read(MANIFEST);
    for expected in [
        "version = 1\n",
        "[modules.tasks]\ncommand = \"tasks title:string(120) owner:ref(users)?\"\nshape = 2\n\
         templates = ",
        &format!("\"{MIGRATION}\" = "),
        &format!("\"{MODELS}\" = "),
        "file = \"src/modules/mod.rs\"\nmarker = \"scaffold:modules\"\nline = \"pub mod tasks;\"",
        "marker = \"scaffold:routes\"\nline = \"router.push(tasks::ROUTE);\"",
    ] {
        assert!(manifest.contains(expected), "{expected:?} in\n{manifest}");
    }
    assert!(
        !manifest.contains("users]"),
        "hand-written modules are not recorded"
    );
    // The pristine copies are the output as generated, under a suffix tools leave alone.
    assert_eq!(
        project.read(&format!(".scaffold/pristine/{MODELS}.pristine")),
        project.read(MODELS)
    );
    assert_eq!(
        project.read(&format!(".scaffold/pristine/{MIGRATION}.pristine")),
        project.read(MIGRATION)
    );
    assert!(
        project
            .read(".scaffold/.gitattributes")
            .contains("linguist-generated")
    );
}

#[test]
fn upgrade_brings_a_table_of_an_older_shape_forward_with_a_migration() {
    let project = with_tasks();
    // As recorded before the table shape had `version`: no shape in the manifest.
    edit(&project, MANIFEST, "shape = 2\n", "");
    let upgrade_migrations = || -> Vec<PathBuf> {
        let dir = project.path("migrations/tenant");
        let mut found: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.to_string_lossy().ends_with("_upgrade_tasks.sql"))
            .collect();
        found.sort();
        found
    };
    let create = project.read(MIGRATION);
    let check = project.run(&["check"]);
    fails(&check);
    assert!(
        check.stdout.contains("tasks: its table has shape 1"),
        "{check:?}"
    );

    let run = project.run(&["upgrade", "--all"]);
    ok(&run);
    let written = upgrade_migrations();
    assert_eq!(written.len(), 1, "{run:?}");
    assert_eq!(
        fs::read_to_string(&written[0]).unwrap(),
        "-- Tasks: brought to the current table shape by `scaffold upgrade`.\n\
         ALTER TABLE tasks ADD COLUMN version BIGINT NOT NULL DEFAULT 1;\n"
    );
    assert!(run.stdout.contains("_upgrade_tasks.sql"), "{run:?}");
    assert_eq!(
        project.read(MIGRATION),
        create,
        "the applied create migration changed"
    );
    let manifest = project.read(MANIFEST);
    assert!(
        manifest.contains("shape = 2\ncreate_shape = 1\n"),
        "{manifest}"
    );

    // Now current: a second upgrade writes nothing, and regenerating keeps both shapes.
    let tree = project.tree();
    ok(&project.run(&["upgrade", "--all"]));
    assert_eq!(upgrade_migrations(), written);
    assert!(changed(&tree, &project.tree()).is_empty());
    ok(&project.run(&["check"]));
}

#[test]
fn the_manifest_is_stable_under_regeneration() {
    let project = with_tasks();
    ok(&project.run(&["new", "module", "people", "name:string"]));
    let before = project.tree();
    ok(&project.run(TASKS));
    ok(&project.run(&["new", "module", "People", "name:string"]));
    assert_eq!(
        project.tree(),
        before,
        "regenerating changes nothing, manifest included"
    );
}

#[test]
fn new_points_at_upgrade_for_an_edited_recorded_module() {
    let project = with_tasks();
    project.write(MODELS, "// mine\n");
    let run = project.run(TASKS);
    fails(&run);
    assert!(
        run.stderr.contains(
            "`tasks` is in .scaffold/manifest.toml: `scaffold upgrade tasks` brings it to the \
             current templates and keeps your edits"
        ),
        "{run:?}"
    );
}

#[test]
fn a_dry_run_of_new_records_nothing() {
    let project = Project::copy();
    let before = project.tree();
    let mut args = TASKS.to_vec();
    args.push("--dry-run");
    let run = project.run(&args);
    ok(&run);
    assert!(
        run.stdout
            .contains("record  tasks in .scaffold/manifest.toml"),
        "{run:?}"
    );
    assert_eq!(project.tree(), before);
}

#[test]
fn regenerating_with_other_options_drops_stale_pristine_copies() {
    let project = with_tasks();
    let copy = ".scaffold/pristine/src/modules/tasks/tests.rs.pristine";
    assert!(project.path(copy).is_file());
    let mut args = TASKS.to_vec();
    args.extend(["--no-tests", "--force"]);
    ok(&project.run(&args));
    assert!(!project.path(copy).exists());
    assert!(project.read(MANIFEST).contains("--no-tests"));
    assert!(!project.read(MANIFEST).contains("tasks/tests.rs"));
}

// ---- new, then destroy -------------------------------------------------------------------

#[test]
fn new_then_destroy_leaves_the_fixture_byte_identical() {
    let project = Project::copy();
    let empty = project.tree();
    ok(&project.run(TASKS));
    let with_tasks = project.tree();
    // Also with a second module in the manifest that has to stay exactly as it was.
    ok(&project.run(&["new", "module", "notes", "body:text", "task:ref(tasks)"]));
    let run = project.run(&["destroy", "module", "notes"]);
    ok(&run);
    assert!(run.stdout.contains("destroyed `notes`"), "{run:?}");
    assert_eq!(changed(&with_tasks, &project.tree()), Vec::<String>::new());

    let run = project.run(&["destroy", "module", "Task"]);
    ok(&run);
    for expected in [
        "   remove  src/modules/tasks/mod.rs\n",
        &format!("   remove  {MIGRATION}\n"),
        "   remove  src/modules/mod.rs (`pub mod tasks;`)\n",
        "   remove  src/modules/mod.rs (`router.push(tasks::ROUTE);`)\n",
    ] {
        assert!(run.stdout.contains(expected), "{expected:?} in {run:?}");
    }
    // The last module takes the manifest and its folder with it.
    assert_eq!(changed(&empty, &project.tree()), Vec::<String>::new());
}

#[test]
fn destroy_says_what_happens_to_databases() {
    let project = with_tasks();
    let run = project.run(&["destroy", "module", "tasks"]);
    ok(&run);
    for expected in [
        &format!("applied {MIGRATION} still"),
        "has the `tasks` table",
        "migrations/tenant/20250301120001_drop_tasks.sql",
        "DROP TABLE IF EXISTS tasks;",
    ] {
        assert!(run.stdout.contains(expected), "{expected:?} in {run:?}");
    }
}

#[test]
fn new_then_destroy_leaves_git_status_clean_on_a_copy_of_the_server() {
    let server = ServerCopy::new();
    server.git(&["init", "-q"]);
    server.git(&["add", "-A"]);
    server.git(&["commit", "-q", "-m", "checkout"]);
    let before = server.tree();

    let new = server.run(&[
        "new",
        "module",
        "invoices",
        "number:string:unique",
        "total:decimal",
        "paid_on:date?",
        "project:ref(projects)",
    ]);
    ok(&new);
    assert_ne!(server.git(&["status", "--porcelain"]), "");
    let check = server.run(&["check"]);
    ok(&check);
    assert!(
        check.stdout.starts_with("scaffold check: ok, "),
        "{check:?}"
    );

    let refused = server.run(&["destroy", "module", "projects"]);
    fails(&refused);
    assert!(
        refused
            .stderr
            .contains("cannot destroy `projects`: `invoices` (field project:ref(projects))"),
        "{refused:?}"
    );

    ok(&server.run(&["destroy", "module", "invoices"]));
    assert_eq!(server.git(&["status", "--porcelain"]), "");
    assert_eq!(changed(&before, &server.tree()), Vec::<String>::new());
}

// ---- destroy -----------------------------------------------------------------------------

/// Destroying the server's example module names the files that still call its route: the
/// sample TypeScript client's suite and type checks, which would build, and fail when run.
/// The server's own tests are not among them: they drive a resource of the test harness's own.
#[test]
fn destroy_names_the_files_that_still_call_the_route() {
    let server = ServerCopy::new();
    let run = server.run(&["destroy", "module", "projects", "--dry-run"]);
    ok(&run);
    let callers = run
        .stdout
        .split("still call /api/projects, which is gone")
        .nth(1)
        .unwrap_or_else(|| panic!("no callers listed in {run:?}"));
    let suite = "clients/typescript/test/projects.test.js";
    let text = fs::read_to_string(server.project.path(suite)).unwrap();
    let first = text
        .lines()
        .position(|line| line.contains("/api/projects"))
        .unwrap()
        + 1;
    assert!(
        callers.contains(&format!("\n  {suite}: lines {first}, ")),
        "{run:?}"
    );
    assert!(
        callers.contains("\n  clients/typescript/typecheck/refusals.js: lines "),
        "{run:?}"
    );
    assert!(!callers.contains("tests/"), "{run:?}");
    assert!(!callers.contains("src/"), "{run:?}");

    // A module nothing else calls gets no such note.
    let project = with_tasks();
    let run = project.run(&["destroy", "module", "tasks"]);
    ok(&run);
    assert!(!run.stdout.contains("still call"), "{run:?}");
}

#[test]
fn destroy_refuses_while_another_module_refers_to_it() {
    let project = with_tasks();
    ok(&project.run(&["new", "module", "notes", "body:text", "task:ref(tasks)?"]));
    ok(&project.run(&["new", "module", "labels", "name:string", "task:ref(tasks)"]));
    let before = project.tree();
    let run = project.run(&["destroy", "module", "tasks"]);
    fails(&run);
    assert!(
        run.stderr.contains(
            "cannot destroy `tasks`: `labels` (field task:ref(tasks)) and `notes` (field \
             task:ref(tasks)?) refer to it"
        ),
        "{run:?}"
    );
    assert!(run.stderr.contains("destroy them first"), "{run:?}");
    assert!(run.stderr.contains("nothing was changed"), "{run:?}");
    assert_eq!(project.tree(), before);

    // Whatever the delete rule (issue 28: `tasks,cascade` was compared with `tasks`).
    for (module, rule) in [
        ("pins", "cascade"),
        ("flags", "restrict"),
        ("marks", "set_null"),
    ] {
        let field = format!("task:ref(tasks,{rule})?");
        ok(&project.run(&["new", "module", module, "name:string", &field]));
        let run = project.run(&["destroy", "module", "tasks"]);
        fails(&run);
        assert!(
            run.stderr.contains(&format!("`{module}` (field {field})")),
            "{run:?}"
        );
        ok(&project.run(&["destroy", "module", module]));
    }

    // A module may refer to itself.
    ok(&project.run(&["new", "module", "folders", "parent:ref(folders)?"]));
    ok(&project.run(&["destroy", "module", "folders"]));
}

#[test]
fn destroy_keeps_files_edited_by_hand_unless_forced() {
    let project = with_tasks();
    project.write(MODELS, &format!("{}// mine\n", project.read(MODELS)));
    let run = project.run(&["destroy", "module", "tasks"]);
    ok(&run);
    assert!(
        run.stdout
            .contains(&format!("     keep  {MODELS} (edited by hand)\n")),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("kept, because they were edited by hand"),
        "{run:?}"
    );
    assert!(project.read(MODELS).ends_with("// mine\n"));
    assert!(!project.path("src/modules/tasks/mod.rs").exists());
    assert!(!project.path(MIGRATION).exists());
    assert!(!project.path(".scaffold").exists());
    assert!(!project.read("src/modules/mod.rs").contains("tasks"));

    let project = with_tasks();
    let empty = Project::copy().tree();
    project.write(MODELS, "// mine only\n");
    let run = project.run(&["destroy", "module", "tasks", "--force"]);
    ok(&run);
    assert!(
        run.stdout.contains(&format!("   remove  {MODELS}\n")),
        "{run:?}"
    );
    assert_eq!(changed(&empty, &project.tree()), Vec::<String>::new());
}

#[test]
fn destroy_dry_run_shows_and_changes_nothing() {
    let project = with_tasks();
    let before = project.tree();
    let run = project.run(&["destroy", "module", "tasks", "--dry-run"]);
    ok(&run);
    for expected in [
        "   remove  src/modules/tasks/mod.rs\n",
        "-pub mod tasks;\n",
        "DROP TABLE IF EXISTS tasks;",
        "dry run: nothing written",
    ] {
        assert!(run.stdout.contains(expected), "{expected:?} in {run:?}");
    }
    assert_eq!(project.tree(), before);
}

#[test]
fn destroy_handles_what_is_already_gone_and_unknown_modules() {
    let project = with_tasks();
    fs::remove_dir_all(project.path("src/modules/tasks")).unwrap();
    let run = project.run(&["destroy", "module", "tasks"]);
    ok(&run);
    assert!(
        run.stdout
            .contains("  missing  src/modules/tasks/mod.rs (already gone)"),
        "{run:?}"
    );
    assert_eq!(
        changed(&Project::copy().tree(), &project.tree()),
        Vec::<String>::new()
    );

    let run = project.run(&["destroy", "module", "users"]);
    fails(&run);
    assert!(
        run.stderr
            .contains("no module `users` in .scaffold/manifest.toml (it records none)"),
        "{run:?}"
    );
}

#[test]
fn a_failed_destroy_leaves_the_tree_as_it_was() {
    let project = with_tasks();
    // The last file cannot be moved aside: a folder is in the way of its backup (refused
    // before anything is written).
    fs::create_dir_all(project.path("src/modules/tasks/.tests.rs.scaffold-old/x")).unwrap();
    let before = project.tree();
    let run = project.run(&["destroy", "module", "tasks"]);
    fails(&run);
    assert!(run.stderr.contains("cannot remove"), "{run:?}");
    assert!(run.stderr.contains("nothing was changed"), "{run:?}");
    assert_eq!(project.tree(), before);
}

// ---- upgrade -----------------------------------------------------------------------------

#[test]
fn upgrade_keeps_hand_edits_and_brings_template_changes() {
    let project = with_tasks();
    // A hand edit at the end of the file...
    project.write(
        MODELS,
        &format!("{}\n// Tasks belong to one owner.\n", project.read(MODELS)),
    );
    // ...and a template release that changes its top.
    edit(
        &project,
        MODELS_TEMPLATE,
        "pub struct {{ type_name }} {",
        "/// One row of `{{ module }}`.\npub struct {{ type_name }} {",
    );

    let check = project.run(&["check"]);
    fails(&check);
    assert!(
        check.stdout.contains(&format!(
            "tasks: behind the current templates, which render {MODELS} differently; run \
             `scaffold upgrade tasks`"
        )),
        "{check:?}"
    );

    let before = project.tree();
    let dry = project.run(&["upgrade", "tasks", "--dry-run"]);
    ok(&dry);
    assert!(
        dry.stdout.contains(&format!("    merge  {MODELS}\n")),
        "{dry:?}"
    );
    assert!(dry.stdout.contains("+/// One row of `tasks`.\n"), "{dry:?}");
    assert!(dry.stdout.contains("dry run: nothing written"), "{dry:?}");
    assert_eq!(project.tree(), before, "a dry run writes nothing");

    let run = project.run(&["upgrade", "tasks"]);
    ok(&run);
    assert!(
        run.stdout.contains(&format!("    merge  {MODELS}\n")),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("identical  src/modules/tasks/mod.rs\n"),
        "{run:?}"
    );
    let models = project.read(MODELS);
    assert!(
        models.contains("/// One row of `tasks`.\npub struct Task {"),
        "{models}"
    );
    assert!(
        models.ends_with("\n// Tasks belong to one owner.\n"),
        "{models}"
    );
    // The new output is the next merge base.
    assert!(
        project
            .read(&format!(".scaffold/pristine/{MODELS}.pristine"))
            .contains("/// One row of `tasks`.")
    );
    let check = project.run(&["check"]);
    ok(&check);
    assert!(
        check.stdout.contains("1 file(s) edited by hand"),
        "{check:?}"
    );

    // Upgrading again has nothing left to do.
    let before = project.tree();
    let again = project.run(&["upgrade", "--all"]);
    ok(&again);
    assert!(
        again.stdout.contains(&format!("unchanged  {MODELS}\n")),
        "{again:?}"
    );
    assert_eq!(project.tree(), before);
}

#[test]
fn pristine_files_are_updated_and_missing_ones_restored() {
    let project = with_tasks();
    fs::remove_file(project.path("src/modules/tasks/tests.rs")).unwrap();
    edit(&project, "src/modules/mod.rs", "pub mod tasks;\n", "");
    edit(
        &project,
        MODELS_TEMPLATE,
        "    pub id: Uuid,",
        "    /// Primary key.\n    pub id: Uuid,",
    );
    let run = project.run(&["upgrade", "tasks"]);
    ok(&run);
    for expected in [
        &format!("   update  {MODELS}\n"),
        "  restore  src/modules/tasks/tests.rs\n",
        "  restore  src/modules/mod.rs (`pub mod tasks;`)\n",
    ] {
        assert!(run.stdout.contains(expected), "{expected:?} in {run:?}");
    }
    assert!(project.read(MODELS).contains("/// Primary key."));
    assert!(
        project
            .read("src/modules/mod.rs")
            .contains("pub mod tasks;\npub mod users;")
    );
    ok(&project.run(&["check"]));
}

#[test]
fn overlapping_edits_get_conflict_markers_and_exit_1() {
    let project = with_tasks();
    edit(
        &project,
        MODELS,
        "    pub id: Uuid,",
        "    pub id: Uuid, // the key",
    );
    edit(
        &project,
        MODELS_TEMPLATE,
        "    pub id: Uuid,",
        "    pub id: uuid::Uuid,",
    );
    let manifest_before = project.read(MANIFEST);

    let run = project.run(&["upgrade", "--all"]);
    fails(&run);
    assert!(
        run.stdout.contains(&format!(" conflict  {MODELS}\n")),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("1 conflict(s) to resolve by hand"),
        "{run:?}"
    );
    assert!(run.stderr.contains(MODELS), "{run:?}");
    // The command to record the resolution, with what it needs (not a bare `upgrade`).
    assert!(
        run.stderr
            .contains("once resolved, run `scaffold upgrade tasks` to record the result"),
        "{run:?}"
    );
    let models = project.read(MODELS);
    assert!(
        models.contains(
            "<<<<<<< ours\n    pub id: Uuid, // the key\n||||||| original\n    pub id: Uuid,\n\
             =======\n    pub id: uuid::Uuid,\n>>>>>>> theirs\n"
        ),
        "{models}"
    );
    // The manifest's merge base has not moved for the conflicting file, and the module is
    // still behind.
    let manifest = project.read(MANIFEST);
    let line = |text: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("\"{MODELS}\"")))
            .unwrap()
            .to_string()
    };
    assert_eq!(line(&manifest), line(&manifest_before));
    assert!(manifest.contains("[modules.tasks.conflicts]"), "{manifest}");
    let check = project.run(&["check"]);
    fails(&check);
    assert!(
        check.stdout.contains(&format!(
            "{MODELS}: unresolved conflict markers from `scaffold upgrade`"
        )),
        "{check:?}"
    );

    // Upgrading again before resolving leaves the markers alone.
    let before = project.tree();
    fails(&project.run(&["upgrade", "tasks"]));
    assert_eq!(project.tree(), before);

    // Resolved by keeping the hand-written line: the next upgrade records it.
    let start = models.find("<<<<<<<").unwrap();
    let end = models.find(">>>>>>> theirs\n").unwrap() + ">>>>>>> theirs\n".len();
    let resolved = format!(
        "{}    pub id: Uuid, // the key\n{}",
        &models[..start],
        &models[end..]
    );
    project.write(MODELS, &resolved);
    let run = project.run(&["upgrade", "tasks"]);
    ok(&run);
    assert!(
        run.stdout.contains(&format!(" resolved  {MODELS}\n")),
        "{run:?}"
    );
    assert_eq!(project.read(MODELS), resolved);
    assert!(!project.read(MANIFEST).contains("conflicts"));
    ok(&project.run(&["check"]));
}

#[test]
fn upgrade_leaves_migrations_alone_unless_asked() {
    let project = with_tasks();
    edit(
        &project,
        "scaffold/templates/migration.sql.tera",
        "CREATE TABLE",
        "-- a comment\nCREATE TABLE",
    );
    let before = project.tree();
    let run = project.run(&["upgrade", "tasks"]);
    ok(&run);
    assert!(
        run.stdout
            .contains(&format!("     skip  {MIGRATION} (a migration)")),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("a database that applied it would never see the change")
    );
    assert!(run.stdout.contains("+-- a comment\n"), "{run:?}");
    assert_eq!(
        project.read(MIGRATION),
        String::from_utf8(before[MIGRATION].clone().unwrap()).unwrap()
    );
    ok(&project.run(&["check"]));

    let run = project.run(&["upgrade", "tasks", "--migrations"]);
    ok(&run);
    assert!(
        run.stdout.contains(&format!("   update  {MIGRATION}")),
        "{run:?}"
    );
    assert!(project.read(MIGRATION).starts_with("-- a comment\n"));
}

#[test]
fn registration_lines_follow_their_templates() {
    let project = with_tasks();
    project.write(
        "scaffold/templates/inject/routes.tera",
        "router.push({{ module }}::ROUTE); // {{ route }}\n",
    );
    let run = project.run(&["upgrade", "tasks"]);
    ok(&run);
    assert!(
        run.stdout
            .contains("   update  src/modules/mod.rs (`router.push(tasks::ROUTE); // tasks`)"),
        "{run:?}"
    );
    let registry = project.read("src/modules/mod.rs");
    assert!(
        registry.contains("    router.push(tasks::ROUTE); // tasks\n"),
        "{registry}"
    );
    assert!(
        !registry.contains("    router.push(tasks::ROUTE);\n"),
        "{registry}"
    );
    ok(&project.run(&["check"]));
}

#[test]
fn a_failed_upgrade_leaves_the_tree_as_it_was() {
    let project = with_tasks();
    edit(
        &project,
        MODELS_TEMPLATE,
        "    pub id: Uuid,",
        "    pub id: uuid::Uuid,",
    );
    fs::create_dir_all(project.path(".scaffold/.manifest.toml.scaffold-new")).unwrap();
    let before = project.tree();
    let run = project.run(&["upgrade", "--all"]);
    fails(&run);
    assert!(run.stderr.contains("nothing was changed"), "{run:?}");
    assert_eq!(project.tree(), before);
}

#[test]
fn upgrade_needs_a_module_or_all() {
    let project = with_tasks();
    let run = project.run(&["upgrade"]);
    assert_eq!(run.code, 2, "{run:?}");
    let run = project.run(&["upgrade", "nope"]);
    fails(&run);
    assert!(run.stderr.contains("no module `nope`"), "{run:?}");
    assert!(run.stderr.contains("it records tasks"), "{run:?}");
}

// ---- check and list ----------------------------------------------------------------------

#[test]
fn check_passes_on_a_clean_tree_with_one_line() {
    let project = Project::copy();
    let run = project.run(&["check"]);
    ok(&run);
    assert_eq!(
        run.stdout,
        "scaffold check: ok, 0 module(s) as recorded in .scaffold/manifest.toml and current \
         with the templates\n"
    );
    ok(&project.run(TASKS));
    project.write(MODELS, &format!("{}// mine\n", project.read(MODELS)));
    let run = project.run(&["check"]);
    ok(&run);
    assert_eq!(run.stdout.lines().count(), 1, "{run:?}");
    assert!(run.stdout.contains("1 file(s) edited by hand"), "{run:?}");
}

#[test]
fn check_reports_each_kind_of_drift() {
    type Drift = (&'static str, fn(&Project), &'static str);
    let cases: &[Drift] = &[
        (
            "behind the templates",
            |p| {
                edit(
                    p,
                    MODELS_TEMPLATE,
                    "pub struct",
                    "#[derive(Debug)]\npub struct",
                )
            },
            "tasks: behind the current templates, which render src/modules/tasks/models.rs \
             differently; run `scaffold upgrade tasks`",
        ),
        (
            "templates changed, output the same",
            |p| p.write("scaffold/templates/unused.tera", "nothing\n"),
            "tasks: rendered with templates ",
        ),
        (
            "generated file missing",
            |p| fs::remove_file(p.path("src/modules/tasks/tests.rs")).unwrap(),
            "src/modules/tasks/tests.rs: generated file of `tasks` is missing; `scaffold \
             upgrade tasks` restores it",
        ),
        (
            "migration missing",
            |p| fs::remove_file(p.path(MIGRATION)).unwrap(),
            "migrations/tenant/20250301120000_create_tasks.sql: generated file of `tasks` is \
             missing",
        ),
        (
            "registration line missing",
            |p| {
                edit(
                    p,
                    "src/modules/mod.rs",
                    "    router.push(tasks::ROUTE);\n",
                    "",
                )
            },
            "src/modules/mod.rs: registration line of `tasks` is missing: \
             `router.push(tasks::ROUTE);` above `// scaffold:routes`",
        ),
        (
            "module folder not in the manifest",
            |p| p.write("src/modules/orphans/mod.rs", "// mine\n"),
            "src/modules/orphans: module folder not in .scaffold/manifest.toml",
        ),
        (
            "recorded module whose folder is gone",
            |p| fs::remove_dir_all(p.path("src/modules/tasks")).unwrap(),
            "src/modules/tasks: folder of module `tasks` is gone but .scaffold/manifest.toml \
             records it; `scaffold destroy module tasks` removes the rest",
        ),
        (
            "conflict markers",
            |p| {
                p.write(
                    MODELS,
                    "<<<<<<< ours\na\n||||||| original\nb\n=======\nc\n>>>>>>> theirs\n",
                )
            },
            "src/modules/tasks/models.rs: unresolved conflict markers",
        ),
        (
            "pristine copy altered",
            |p| p.write(&format!(".scaffold/pristine/{MODELS}.pristine"), "// no\n"),
            ".scaffold/pristine/src/modules/tasks/models.rs.pristine: pristine copy of \
             src/modules/tasks/models.rs is missing or altered",
        ),
        (
            "stray pristine copy",
            |p| p.write(".scaffold/pristine/src/modules/gone/mod.rs.pristine", "x\n"),
            ".scaffold/pristine/src/modules/gone/mod.rs.pristine: pristine copy of a file the \
             manifest does not record",
        ),
    ];
    for (what, drift, expected) in cases {
        let project = with_tasks();
        drift(&project);
        let run = project.run(&["check"]);
        assert_eq!(run.code, 1, "{what}: {run:?}");
        assert!(
            run.stdout.contains(expected),
            "{what}: {expected:?} in {run:?}"
        );
        assert!(
            run.stderr.contains("scaffold check found"),
            "{what}: {run:?}"
        );
    }
    // The folder gone is one problem, not one per file.
    let project = with_tasks();
    fs::remove_dir_all(project.path("src/modules/tasks")).unwrap();
    let run = project.run(&["check"]);
    assert_eq!(run.stdout.lines().count(), 1, "{run:?}");
}

#[test]
fn list_shows_fields_and_state() {
    let project = Project::copy();
    let run = project.run(&["list"]);
    ok(&run);
    assert!(run.stdout.starts_with("no generated modules"), "{run:?}");
    assert!(run.stdout.contains("written by hand: users"), "{run:?}");

    ok(&project.run(TASKS));
    ok(&project.run(&[
        "new",
        "module",
        "people",
        "--singular",
        "person",
        "name:string",
        "--no-tests",
    ]));
    project.write(MODELS, &format!("{}// mine\n", project.read(MODELS)));
    edit(
        &project,
        "scaffold/templates/inject/modules.tera",
        "pub mod",
        "pub(crate) mod",
    );
    let run = project.run(&["list"]);
    ok(&run);
    assert_eq!(
        run.stdout,
        "\
people  behind the templates
  fields    name:string
  command   scaffold new module people --singular person name:string --no-tests
  behind    src/modules/mod.rs (scaffold:modules); run `scaffold upgrade people`
tasks  edited by hand, behind the templates
  fields    title:string(120), owner:ref(users)?
  command   scaffold new module tasks title:string(120) owner:ref(users)?
  edited    src/modules/tasks/models.rs
  behind    src/modules/mod.rs (scaffold:modules); run `scaffold upgrade tasks`

written by hand: users
"
    );
}

// ---- examples/server ---------------------------------------------------------------------

fn server_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/server")
}

#[test]
fn the_reference_server_passes_check() {
    let root = server_dir();
    let run = run_in(&root, &["-C", root.to_str().unwrap(), "check"]);
    assert_eq!(
        run.code, 0,
        "run `scaffold -C examples/server upgrade --all` after changing the templates: {run:?}"
    );
    assert!(run.stdout.starts_with("scaffold check: ok, "), "{run:?}");
}

#[test]
fn the_reference_projects_module_is_in_the_manifest() {
    let manifest = fs::read_to_string(server_dir().join(MANIFEST)).unwrap();
    assert!(
        manifest
            .contains("[modules.projects]\ncommand = \"projects name:string description:text?\"\n"),
        "{manifest}"
    );
    for file in [
        "mod.rs",
        "models.rs",
        "router.rs",
        "schemas.rs",
        "service.rs",
        "tests.rs",
    ] {
        assert!(manifest.contains(&format!("\"src/modules/projects/{file}\" = ")));
    }
    assert!(manifest.contains("\"migrations/tenant/20261127000000_create_projects.sql\" = "));
}

/// A whole copy of `examples/server`, manifest included, at `<tmp>/examples/server`.
struct ServerCopy {
    project: Project,
}

impl ServerCopy {
    fn new() -> Self {
        let project = Project::empty("examples/server");
        copy_tree(&server_dir(), &project.root);
        Self { project }
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut all = vec!["-C", self.project.root.to_str().unwrap()];
        all.extend_from_slice(args);
        run_in(&self.project.root, &all)
    }

    fn tree(&self) -> Tree {
        let mut tree = common::tree(&self.project.root);
        tree.retain(|path, _| !path.starts_with(".git"));
        tree
    }

    fn git(&self, args: &[&str]) -> String {
        git(&self.project.root, args)
    }
}

/// `[api] json_case = "camel"`: a field typed in camelCase is the snake_case column under its
/// camelCase JSON name, renamed by either spelling; switching the case back leaves the
/// modules behind the templates until `upgrade --all` renders them in it.
#[test]
fn camel_case_json_names_and_the_fields_typed_in_camel_case() {
    let server = ServerCopy::new();
    let project = &server.project;
    let snake = project.read("scaffold.toml");
    project.write(
        "scaffold.toml",
        &format!("{snake}\n[api]\njson_case = \"camel\"\n"),
    );
    let run = server.run(&[
        "new",
        "module",
        "posts",
        "favoritesCount:int",
        "title:string",
    ]);
    ok(&run);
    assert!(
        run.stdout.contains("field   favorites_count:int\n"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("json    favoritesCount, title"),
        "{run:?}"
    );
    let schemas = project.read("src/modules/posts/schemas.rs");
    assert!(schemas.contains("#[serde(rename_all = \"camelCase\")]\npub struct PostResponse"));
    assert!(schemas.contains("name: \"favoritesCount\",\n            column: \"favorites_count\""));
    assert!(schemas.contains("pub favorites_count: i32,"), "{schemas}");
    let tests = project.read("src/modules/posts/tests.rs");
    assert!(tests.contains("\"createdAt[gte]\"") && !tests.contains("created_at"));

    ok(&server.run(&[
        "change",
        "module",
        "posts",
        "--rename",
        "favoritesCount:likes",
    ]));
    let change = fs::read_dir(project.path("migrations/tenant"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.to_string_lossy().ends_with("_change_posts.sql"))
        .unwrap();
    let sql = fs::read_to_string(change).unwrap();
    assert!(
        sql.contains("RENAME COLUMN favorites_count TO likes"),
        "{sql}"
    );

    project.write("scaffold.toml", &snake);
    let check = server.run(&["check"]);
    assert_eq!(check.code, 1, "{check:?}");
    assert!(
        check.stdout.contains("posts: behind the current templates"),
        "{check:?}"
    );
    ok(&server.run(&["upgrade", "--all"]));
    ok(&server.run(&["check"]));
    assert!(
        !project
            .read("src/modules/posts/schemas.rs")
            .contains("camelCase")
    );
}

#[test]
fn a_json_case_other_than_snake_or_camel_is_refused() {
    let server = ServerCopy::new();
    let project = &server.project;
    let config = project.read("scaffold.toml");
    project.write(
        "scaffold.toml",
        &format!("{config}\n[api]\njson_case = \"kebab\"\n"),
    );
    let before = server.tree();
    let run = server.run(&["new", "module", "posts", "title:string"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("unknown variant `kebab`, expected `snake` or `camel`"),
        "{run:?}"
    );
    assert!(server.tree() == before, "a refused run changed files");
}

/// A manifest may come from anywhere (a cloned repository, a pull request): a path in it that
/// leads outside the project, written so or through a symbolic link, is refused before
/// anything is read or written.
#[test]
fn manifest_paths_never_lead_outside_the_project() {
    let outside = Project::empty("outside");
    let victim = outside.path("victim.txt");
    fs::write(&victim, "keep me\n").unwrap();
    let escapes = [
        format!("{}", victim.display()),
        format!(
            "../{}/victim.txt",
            Path::new("..")
                .join(outside.root.strip_prefix("/").unwrap())
                .display()
        ),
        "../victim.txt".to_string(),
    ];
    for escape in &escapes {
        let project = with_tasks();
        let manifest = project.read(MANIFEST);
        project.write(
            MANIFEST,
            &manifest.replace(
                "[modules.tasks.files]\n",
                &format!("[modules.tasks.files]\n\"{escape}\" = \"0000000000000000\"\n"),
            ),
        );
        let before = project.tree();
        for args in [
            &["destroy", "module", "tasks", "--force"][..],
            &["upgrade", "--all"],
        ] {
            let run = project.run(args);
            fails(&run);
            assert!(
                run.stderr
                    .contains(&format!("records `{escape}`, a path outside the project")),
                "{args:?}: {run:?}"
            );
        }
        assert!(project.tree() == before);
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep me\n");
    }

    // The module folder replaced by a link to a folder elsewhere.
    let project = with_tasks();
    let elsewhere = outside.path("tasks");
    fs::rename(project.path("src/modules/tasks"), &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, project.path("src/modules/tasks")).unwrap();
    let run = project.run(&["destroy", "module", "tasks", "--force"]);
    fails(&run);
    assert!(
        run.stderr
            .contains("a path that a symbolic link leads outside the project"),
        "{run:?}"
    );
    assert!(elsewhere.join("models.rs").exists());
}

//! What the built-in templates generate, formatted as `scaffold` formats it, with
//! `examples/server`'s scaffold.toml: the CI-checks-generated-code snapshots. A change to a
//! template shows here as a reviewable diff of the code every user would get.

mod common;
mod example_server;

use scaffold::generate::format;
use scaffold::generate::plan::{self, MigrationVersion, Plan};
use scaffold::generate::render::{Renderer, TemplateSet};
use scaffold::input::names::NameRequest;
use scaffold::input::project::Project;
use scaffold::input::spec::{ModuleSpec, SpecRequest, TABLE_SHAPE};

use example_server::ServerCopy;

/// 2025-03-01T12:00:00Z: before the server's newest migration, so new migrations are
/// numbered right after it (`20261127000001_create_<table>.sql`).
const NOW: MigrationVersion = MigrationVersion(20250301120000);

const REFERENCE_MIGRATION: &str = "20261127000000_create_projects.sql";

fn generate(name: &str, fields: &[&str], with_tests: bool) -> Plan {
    generate_at(name, fields, with_tests, TABLE_SHAPE)
}

/// As a module whose table has `shape` renders it.
fn generate_at(name: &str, fields: &[&str], with_tests: bool, shape: u32) -> Plan {
    let copy = ServerCopy::generation_inputs();
    let project = Project::load(&copy.root).unwrap();
    let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
    let request = SpecRequest {
        names: NameRequest::new(name),
        fields: &fields,
        with_tests,
    };
    let mut spec = ModuleSpec::parse(request, &project.facts().unwrap()).unwrap();
    spec.shape = shape;
    let templates = TemplateSet::load(true, None).unwrap();
    let renderer = Renderer::new(templates, &project.inflections).unwrap();
    // Only the reference module's migration, whatever else a developer generated there:
    // snapshots must not depend on it.
    let migrations = [REFERENCE_MIGRATION.to_owned()];
    let mut plan = plan::plan(&spec, &renderer, &project.config, &migrations, NOW).unwrap();
    format::format_rust(&mut plan, &project.root, renderer.templates()).unwrap();
    plan
}

fn paths(plan: &Plan) -> Vec<String> {
    plan.ops
        .iter()
        .map(|op| op.path().display().to_string())
        .collect()
}

#[test]
fn projects() {
    let plan = generate("projects", &["name:string", "description:text?"], true);
    insta::assert_snapshot!(plan.to_string());
}

#[test]
fn defaults_of_every_type() {
    let plan = generate("settings", common::DEFAULTS, true);
    insta::assert_snapshot!(plan.to_string());
}

#[test]
fn every_field_type_and_modifier() {
    let plan = generate(
        "tasks",
        &[
            "title:string",
            "code:string(12):unique",
            "body:text?",
            "rank:int:index",
            "views:bigint?",
            "score:float",
            "price:decimal?",
            "done:bool",
            "external_id:uuid:unique",
            "due_on:date?",
            "starts_at:datetime:index",
            "meta:json?",
            "status:enum(a,b,c)",
            "stage:enum(todo,in_review,done)?:index",
            "project:ref(projects)",
            "parent:ref(tasks)?",
        ],
        true,
    );
    insta::assert_snapshot!(plan.to_string());
}

/// Keywords of Rust and PostgreSQL as field names: raw identifiers and quoted columns.
#[test]
fn keyword_field_names() {
    let plan = generate(
        "tasks",
        &[
            "type:enum(a,b)",
            "order:int:index",
            "user:string(40)?:unique",
            "match:ref(projects)?",
        ],
        false,
    );
    insta::assert_snapshot!(plan.to_string());
}

#[test]
fn unusual_name_without_tests() {
    let plan = generate("UserProfile", &["nickname:string(40)?:unique"], false);
    assert!(
        !paths(&plan).iter().any(|path| path.ends_with("tests.rs")),
        "{:?}",
        paths(&plan)
    );
    insta::assert_snapshot!(plan.to_string());
}

#[test]
fn kebab_name() {
    let plan = generate("api-keys", &["label:string", "secret:uuid:unique"], true);
    assert!(
        paths(&plan).contains(&"src/modules/api_keys/mod.rs".to_string()),
        "{:?}",
        paths(&plan)
    );
    insta::assert_snapshot!(plan.to_string());
}

/// The projects snapshot is not just any rendering: it is the checked-in module, byte for
/// byte (the round trip test proves the same through the binary). Its create migration is
/// the one it was created with, at table shape 1 (`upgrade` added `version` in a migration
/// of its own).
#[test]
fn projects_is_the_checked_in_module() {
    let fields = ["name:string", "description:text?"];
    let plan = generate("projects", &fields, true);
    let created = generate_at("projects", &fields, true, 1);
    let server = example_server::server_dir();
    for (op, first) in plan.ops.iter().zip(&created.ops) {
        if let (
            plan::Op::CreateFile { path, content },
            plan::Op::CreateFile { content: at_1, .. },
        ) = (op, first)
        {
            let expected = if path.ends_with(REFERENCE_MIGRATION) {
                at_1
            } else {
                content
            };
            let on_disk = std::fs::read_to_string(server.join(path)).unwrap();
            assert!(on_disk == *expected, "{} differs", path.display());
        }
    }
}

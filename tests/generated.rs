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
    generate_spec(name, fields, with_tests, |mut spec| {
        spec.shape = shape;
        spec
    })
}

/// The plan of `name` with `fields`, its spec finished by `finish`.
fn generate_spec(
    name: &str,
    fields: &[&str],
    with_tests: bool,
    finish: impl FnOnce(ModuleSpec) -> ModuleSpec,
) -> Plan {
    let copy = ServerCopy::generation_inputs();
    let project = Project::load(&copy.root).unwrap();
    let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
    let request = SpecRequest {
        names: NameRequest::new(name),
        fields: &fields,
        with_tests,
    };
    let spec = finish(ModuleSpec::parse(request, &project.facts().unwrap()).unwrap());
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

/// The files of `name` with `fields`, named by `key` in its routes.
fn generate_keyed(name: &str, fields: &[&str], key: &str) -> Vec<(String, String)> {
    let plan = generate_spec(name, fields, true, |spec| spec.with_key(Some(key)).unwrap());
    plan.ops
        .iter()
        .filter_map(|op| match op {
            plan::Op::CreateFile { path, content } => {
                Some((path.display().to_string(), content.clone()))
            }
            plan::Op::Inject { .. } => None,
        })
        .collect()
}

fn file<'a>(files: &'a [(String, String)], name: &str) -> &'a str {
    let found = files.iter().find(|(path, _)| path.ends_with(name));
    &found.unwrap_or_else(|| panic!("no {name}")).1
}

/// `--key slug`: every per-row route, statement and test names the row by its slug; the id
/// stays the primary key; the migration is the one without a key.
#[test]
fn a_key_names_the_row_in_routes_statements_and_tests() {
    let fields = ["slug:string(80):unique", "title:string"];
    let files = generate_keyed("articles", &fields, "slug");
    let router = file(&files, "router.rs");
    for expected in [
        "path = \"/api/articles/{slug}\"",
        "(\"slug\" = String, Path, description = \"The article's slug\", min_length = 1, max_length = 80)",
        "Path(key): Path<String>",
        "service::get(&ctx, &key)",
        "format!(\"/api/articles/{}\", path_segment(&row.slug))",
        "(row.slug != key)",
    ] {
        assert!(router.contains(expected), "{expected} not in {router}");
    }
    assert!(!router.contains("{id}"), "{router}");
    let models = file(&files, "models.rs");
    assert_eq!(models.matches("WHERE slug = $1").count(), 4, "{models}");
    assert!(models.contains("pub id: Uuid"));
    let tests = file(&files, "tests.rs");
    assert!(tests.contains("path_segment(key)"), "{tests}");
    assert!(tests.contains("assert_eq!(moved.expect(\"a Location\"), url.as_str());"));

    let plain = generate("articles", &fields, true);
    let migration = |path: &str| path.ends_with("_create_articles.sql");
    let keyed = files.iter().find(|(path, _)| migration(path)).unwrap();
    let unkeyed = plain.ops.iter().find_map(|op| match op {
        plan::Op::CreateFile { path, content } if migration(&path.display().to_string()) => {
            Some(content)
        }
        _ => None,
    });
    // Only the header's command differs.
    let keyed = keyed.1.replace(" --key slug`", "`");
    assert_eq!(Some(&keyed), unkeyed, "a key changes no column");
}

/// A key that is a Rust keyword: a raw identifier in Rust, the word in the path and in SQL;
/// and the module's ref to itself nests under that key.
#[test]
fn a_keyword_key_is_quoted_and_raw() {
    let fields = ["type:string(20):unique", "parent:ref(labels)?"];
    let files = generate_keyed("labels", &fields, "type");
    let router = file(&files, "router.rs");
    assert!(router.contains("path = \"/api/labels/{type}\""), "{router}");
    assert!(router.contains("path_segment(&row.r#type)"), "{router}");
    let models = file(&files, "models.rs");
    assert!(models.contains("WHERE type = $1"), "{models}");
    // A ref to a keyed module nests its list under the key, which the service looks up.
    assert!(
        router.contains("path = \"/api/labels/{type}/labels\""),
        "{router}"
    );
    assert!(
        models.contains("SELECT id FROM {schema}.labels WHERE type = $1"),
        "{models}"
    );
    let service = file(&files, "service.rs");
    assert!(
        service.contains("models::parent_id(&mut db, parent_key)"),
        "{service}"
    );
}

//! Rendered plans, as the fixture project's templates render them. The fixture's templates
//! use every context key, so these snapshots show what templates receive for each spec.

mod common;

use scaffold::generate::plan::{self, MigrationVersion, Plan};
use scaffold::generate::render::{Renderer, TemplateSet};
use scaffold::input::names::NameRequest;
use scaffold::input::project::Project;
use scaffold::input::spec::{ModuleSpec, SpecRequest};

const NOW: MigrationVersion = MigrationVersion(20250301120000);

fn plan_for(request: SpecRequest) -> Plan {
    let project = Project::load(&common::fixture_dir()).unwrap();
    let spec = ModuleSpec::parse(request, &project.facts().unwrap()).unwrap();
    let dir = project.template_dir();
    let templates = TemplateSet::load(project.config.templates.builtin, dir.as_deref()).unwrap();
    let renderer = Renderer::new(templates, &project.inflections).unwrap();
    let migrations = project.migration_files().unwrap();
    plan::plan(&spec, &renderer, &project.config, &migrations, NOW).unwrap()
}

fn request<'a>(name: &'a str, fields: &'a [String]) -> SpecRequest<'a> {
    SpecRequest {
        names: NameRequest::new(name),
        fields,
        with_tests: true,
    }
}

fn words(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|f| f.to_string()).collect()
}

#[test]
fn every_field_type() {
    let fields = words(&[
        "title:string(120)",
        "body:text?",
        "rank:int:index",
        "views:bigint",
        "score:float?",
        "price:decimal",
        "done:bool",
        "ref_code:uuid:unique",
        "due_on:date?",
        "starts_at:datetime",
        "meta:json?",
        "status:enum(todo,in_progress,done)",
        "owner:ref(users)",
        "parent:ref(tasks)?",
    ]);
    insta::assert_snapshot!(plan_for(request("tasks", &fields)).to_string());
}

#[test]
fn unusual_name_without_tests() {
    let fields = words(&["label:string:unique"]);
    let mut request = request("HTTPRequest", &fields);
    request.with_tests = false;
    insta::assert_snapshot!(plan_for(request).to_string());
}

#[test]
fn irregular_plural_from_the_project() {
    let fields = words(&["name:string"]);
    insta::assert_snapshot!(plan_for(request("person", &fields)).to_string());
}

#[test]
fn the_plan_does_not_depend_on_anything_but_its_inputs() {
    let fields = words(&["name:string"]);
    assert_eq!(
        plan_for(request("tags", &fields)),
        plan_for(request("Tag", &fields))
    );
}

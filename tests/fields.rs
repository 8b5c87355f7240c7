//! Field parsing for every type and modifier, seen as templates see it.

use std::collections::BTreeSet;

use scaffold::generate::context::ModuleContext;
use scaffold::input::names::{Inflections, NameRequest};
use scaffold::input::project::{JsonCase, ProjectFacts};
use scaffold::input::spec::{ModuleSpec, SpecRequest};

fn facts() -> ProjectFacts {
    ProjectFacts {
        existing_modules: BTreeSet::from(["users".to_string()]),
        links: BTreeSet::new(),
        keys: Default::default(),
        modules_dir: "src/modules".into(),
        taken_names: BTreeSet::from(["main".to_string(), "app".to_string()]),
        inflections: Inflections::default(),
    }
}

fn parse(name: &str, fields: &[&str]) -> Result<ModuleSpec, String> {
    let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
    let request = SpecRequest {
        names: NameRequest::new(name),
        fields: &fields,
        with_tests: true,
    };
    ModuleSpec::parse(request, &facts()).map_err(|e| e.to_string())
}

/// The whole template context of a module with one field of every type and modifier.
#[test]
fn context_of_every_type_and_modifier() {
    let spec = parse(
        "tasks",
        &[
            "title:string",
            "code:string(12):unique",
            "summary:text?",
            "rank:int:index",
            "views:bigint?",
            "score:float",
            "price:decimal?",
            "done:bool",
            "external_id:uuid:unique",
            "due_on:date?",
            "starts_at:datetime:index",
            "meta:json?",
            "status:enum(todo,in_progress,done)",
            "owner:ref(users)?",
            "parent:ref(Task)?",
            "password:secret",
            "pin:secret(12)?",
            "recovery_code:string?:writeonly",
            "tags:string(40)[]:index",
            "scores:int[]?",
            "ids:uuid[]=[]",
            "sizes:bigint[]=[1, 2]",
        ],
    )
    .unwrap();
    let context =
        serde_json::to_string_pretty(&ModuleContext::new(&spec, JsonCase::Snake)).unwrap();
    insta::assert_snapshot!(context);
}

/// `[api] json_case = "camel"`: every JSON name the context gives is camelCase, a field typed
/// in camelCase included; columns and Rust identifiers stay snake_case.
#[test]
fn context_in_camel_case() {
    let spec = parse(
        "posts",
        &["favoritesCount:int", "due_on:date?", "owner:ref(users)?"],
    )
    .unwrap();
    let context = serde_json::to_value(ModuleContext::new(&spec, JsonCase::Camel)).unwrap();
    let field = |i: usize, key: &str| context["fields"][i][key].clone();
    assert_eq!(context["json_case"], "camel");
    assert_eq!(field(0, "column"), "favorites_count");
    assert_eq!(field(0, "ident"), "favorites_count");
    assert_eq!(field(0, "json_name"), "favoritesCount");
    assert_eq!(field(0, "eq_param"), "favoritesCount");
    assert_eq!(field(2, "column"), "owner_id");
    assert_eq!(field(2, "json_name"), "ownerId");
    let filters = field(1, "invalid_filters");
    assert!(
        filters
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["param"].as_str().unwrap().starts_with("dueOn")),
        "{filters}"
    );
    assert_eq!(
        context["json_names"]["optional"],
        serde_json::json!(["dueOn", "ownerId"])
    );
    assert_eq!(context["system_names"]["created_at"], "createdAt");
    assert_eq!(context["system_names"]["version"], "version");
}

/// The example from the documentation, in full.
#[test]
fn context_of_projects() {
    let spec = parse("projects", &["name:string", "description:text?"]).unwrap();
    let context =
        serde_json::to_string_pretty(&ModuleContext::new(&spec, JsonCase::Snake)).unwrap();
    insta::assert_snapshot!(context);
}

/// Loose spellings and the canonical form they become.
#[test]
fn normalised_fields() {
    let spec = parse(
        "Tasks",
        &[
            "dueDate:DATE?",
            "owner_id:ref(User)",
            "state:enum(InReview, Done,on_hold)",
            "Title:String(80):index",
        ],
    )
    .unwrap();
    insta::assert_snapshot!(spec.command);
}

/// What the user sees for bad fields: the word, a caret under the bad part, a hint.
#[test]
fn field_errors() {
    let bad = [
        "title",
        ":string",
        "title?:string",
        "title:",
        "title:strng",
        "title:integer",
        "title:string(abc)",
        "title:string(12",
        "title:text(5)",
        "s:enum()",
        "s:enum",
        "s:enum(a,,b)",
        "s:enum(A,a)",
        "s:enum(ok,9x)",
        "o:ref(teams)",
        "o:ref(uesrs)",
        "o:ref(a/b)",
        "o:ref()",
        "t:string:uniqe",
        "t:string?:unique:unique",
        "t:string::unique",
        "meta:json:index",
        "id:uuid",
        "owner_tenant:uuid",
        "self:int",
        "xmin:int",
        "due-date:date",
        "naïve:text",
        "p:secret[]",
        "t:string[]:writeonly",
        "p:secret(7)",
        "p:secret(2000)",
        "p:secret:unique",
        "p:secret?:index",
        "p:secret=hunter2hunter2",
        "p:secret:writeonly",
        "o:ref(users):writeonly",
        "c:string:writeonly:unique",
        "c:string:index:writeonly",
        "c:string:writeonly:writeonly",
        "tags:json[]",
        "tags:enum(a,b)[]",
        "o:ref(users)[]",
        "t:int[][]",
        "t:string[]:unique",
        "t:int[]=[1,x]",
        "t:int[]=5",
        "t:strng[]",
    ];
    let mut out = String::new();
    for word in bad {
        out.push_str(&parse("tasks", &[word]).unwrap_err());
        out.push_str("\n\n");
    }
    insta::assert_snapshot!(out);
}

/// A link's context: a module's, with `link` (its sides, columns, directions and the names of
/// its constraints). A self link, whose second column is named after its forward direction.
#[test]
fn context_of_a_self_link() {
    let request = scaffold::input::link::LinkRequest {
        a: "users",
        b: "User",
        directions: Some("followers:following"),
        allow_self: false,
    };
    let spec = parse("user_users", &["since:date?", "muted:bool=false"])
        .unwrap()
        .into_link(&request, &facts())
        .unwrap();
    assert_eq!(
        spec.command,
        "user_users --link users:users --as followers:following since:date? muted:bool=false"
    );
    let context =
        serde_json::to_string_pretty(&ModuleContext::new(&spec, JsonCase::Snake)).unwrap();
    insta::assert_snapshot!(context);
}

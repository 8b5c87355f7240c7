//! `scaffold new link`, the real binary on copies of `examples/server`: what it writes and
//! records, what every other command makes of a link, and the bad input it refuses without
//! changing anything. The generated code itself is built and tested by `tests/end_to_end.rs`.

mod common;
mod example_server;

use common::Run;
use example_server::ServerCopy;

fn ok(run: &Run) {
    assert_eq!(run.code, 0, "{run:?}");
}

/// `examples/server` with `tags` and `people` generated besides its `projects`.
fn with_sides() -> ServerCopy {
    let copy = ServerCopy::generation_inputs();
    ok(&copy.run(&["new", "module", "tags", "label:string(40):unique", "-y"]));
    ok(&copy.run(&[
        "new",
        "module",
        "people",
        "--singular",
        "person",
        "name:string",
        "-y",
    ]));
    copy
}

const LINK: &[&str] = &[
    "new",
    "link",
    "projects",
    "tags",
    "role:enum(lead,member)=member",
    "weight:int?",
];

#[test]
fn a_link_is_a_module_every_command_knows() {
    let copy = with_sides();
    let run = copy.run(LINK);
    ok(&run);
    for expected in [
        "module  project_tags  (table project_tags)",
        "access  project_tags:read / project_tags:write",
        "link    projects <-> tags, key (project_id, tag_id)",
        "routes  /api/projects/{id}/tags",
        "routes  /api/tags/{id}/projects",
        "   create  src/modules/project_tags/router.rs",
        "   create  src/modules/project_tags/tests.rs",
        "   inject  src/modules/mod.rs",
        "   record  project_tags in .scaffold/manifest.toml",
    ] {
        assert!(run.stdout.contains(expected), "{expected:?} in {run:?}");
    }
    let migration = copy
        .tree()
        .keys()
        .find(|path| path.ends_with("_create_project_tags.sql"))
        .cloned()
        .expect("the link's migration");
    let sql = copy.read(&migration);
    for expected in [
        "project_id UUID NOT NULL\n        CONSTRAINT project_tags_project_id_fkey REFERENCES projects (id) ON DELETE CASCADE",
        "tag_id UUID NOT NULL\n        CONSTRAINT project_tags_tag_id_fkey REFERENCES tags (id) ON DELETE CASCADE",
        "role TEXT NOT NULL DEFAULT 'member'",
        "weight INTEGER,",
        "created_at TIMESTAMPTZ NOT NULL DEFAULT now()",
        "CONSTRAINT project_tags_pkey PRIMARY KEY (project_id, tag_id)",
        "CREATE INDEX project_tags_tag_id_idx ON project_tags (tag_id);",
    ] {
        assert!(sql.contains(expected), "{expected:?} in {sql}");
    }
    assert!(
        !sql.contains(" id UUID"),
        "a link has no id of its own: {sql}"
    );
    // Wired after both sides' routes, which its ?counts= layer wraps.
    let registry = copy.read("src/modules/mod.rs");
    let wired = registry.find("project_tags::wire(&mut router);").unwrap();
    for side in ["projects", "tags"] {
        let merged = registry
            .find(&format!("router.merge({side}::router())"))
            .unwrap();
        assert!(merged < wired, "{registry}");
    }
    let manifest = copy.read(".scaffold/manifest.toml");
    assert!(
        manifest.contains(
            "command = \"project_tags --link projects:tags role:enum(lead,member)=member weight:int?\""
        ),
        "{manifest}"
    );

    // Generating the same link again is refused, whatever its fields.
    let before = copy.tree();
    let run = copy.run(LINK);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("`project_tags` exists already, a link"),
        "{run:?}"
    );
    assert!(copy.tree() == before, "a refused link changed files");

    let run = copy.run(&["list"]);
    ok(&run);
    assert!(
        run.stdout.contains(
            "scaffold new link projects tags role:enum(lead,member)=member weight:int? \
             --name project_tags"
        ),
        "{run:?}"
    );
    for command in [&["check"][..], &["lint"], &["upgrade", "--all"]] {
        ok(&copy.run(command));
    }
    assert!(
        copy.tree() == before,
        "check, lint or upgrade changed a current link"
    );

    // Its fields change like a module's, with a migration of their own.
    let run = copy.run(&[
        "change",
        "module",
        "project_tags",
        "--add",
        "note:text?",
        "--add",
        "rank:int?:index",
    ]);
    ok(&run);
    let change = copy
        .tree()
        .keys()
        .find(|path| path.ends_with("_change_project_tags.sql"))
        .cloned()
        .expect("a change migration");
    assert!(
        copy.read(&change)
            .contains("ALTER TABLE project_tags ADD COLUMN note TEXT"),
        "{}",
        copy.read(&change)
    );
    // A link has no id nor list order: its field's index is on the column alone.
    assert!(
        copy.read(&change)
            .contains("CREATE INDEX project_tags_rank_idx ON project_tags (rank);"),
        "{}",
        copy.read(&change)
    );
    assert!(
        copy.read("src/modules/project_tags/models.rs")
            .contains("pub note: Option<String>")
    );
    ok(&copy.run(&["check"]));

    // A side goes only after its links.
    let run = copy.run(&["destroy", "module", "tags"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("`project_tags` (field --link projects:tags)"),
        "{run:?}"
    );
    ok(&copy.run(&["destroy", "module", "project_tags", "--force"]));
    assert!(!copy.read("src/modules/mod.rs").contains("project_tags"));
    ok(&copy.run(&["destroy", "module", "tags"]));
    ok(&copy.run(&["check"]));
}

#[test]
fn a_self_link_names_its_two_directions() {
    let copy = with_sides();
    let run = copy.run(&[
        "new",
        "link",
        "people",
        "people",
        "--as",
        "followers:following",
    ]);
    ok(&run);
    for expected in [
        "module  person_people  (table person_people)",
        "link    people <-> people, key (person_id, follower_id)",
        "routes  /api/people/{id}/followers",
        "routes  /api/people/{id}/following",
    ] {
        assert!(run.stdout.contains(expected), "{expected:?} in {run:?}");
    }
    let models = copy.read("src/modules/person_people/models.rs");
    assert!(models.contains("pub const COUNT_FOLLOWING"), "{models}");
    let service = copy.read("src/modules/person_people/service.rs");
    assert!(service.contains("cannot be linked to itself"), "{service}");
    ok(&copy.run(&["check"]));
    ok(&copy.run(&["lint"]));
}

/// Each refused with a message naming the problem, and the project left as it was; and a
/// `ref` to a link, which has no id to refer to.
#[test]
fn bad_links_are_refused_and_change_nothing() {
    let copy = with_sides();
    ok(&copy.run(&[
        "new",
        "module",
        "tasks",
        "title:string",
        "project:ref(projects)",
        "-y",
    ]));
    ok(&copy.run(&["new", "link", "projects", "tags"]));
    ok(&copy.run(&["new", "module", "vaults", "name:string", "--private", "-y"]));
    ok(&copy.run(&[
        "new",
        "module",
        "articles",
        "slug:string(80):unique",
        "--key",
        "slug",
        "-y",
    ]));
    let long = "a".repeat(60);
    let cases: &[(&[&str], &str)] = &[
        (
            &["new", "link", "projects", "labels"],
            "no module `labels` in src/modules",
        ),
        (
            &["new", "link", "projects", "tags"],
            "`project_tags` exists already, a link",
        ),
        (
            &["new", "link", "project_tags", "people"],
            "`project_tags` is a link: its rows are pairs",
        ),
        (
            &["new", "link", "projects", "vaults"],
            "`vaults` was generated with --audit --owned --private: a link's routes do not apply",
        ),
        (
            &["new", "link", "projects", "articles"],
            "`articles` names its rows by `slug` in its routes (--key slug)",
        ),
        (
            &["change", "module", "tags", "--key", "label"],
            "`tags` is a side of the link `project_tags`",
        ),
        (
            &["new", "link", "projects", "people", "--name", &long],
            "over PostgreSQL's limit of 63",
        ),
        (
            &["new", "link", "people", "people"],
            "a link of `people` to itself needs names for its two directions",
        ),
        (
            &["new", "link", "people", "people", "--as", "fans:fans"],
            "the two directions need different names",
        ),
        (
            &["new", "link", "projects", "people", "--allow-self"],
            "--allow-self is for a link of a module to itself",
        ),
        (
            &["new", "link", "projects", "people", "name:string"],
            "the link's field `name` would share its name with `projects`'s",
        ),
        (
            &["new", "link", "projects", "people", "person_id:uuid"],
            "`person_id` is a column every row of this link has",
        ),
        (
            &["new", "link", "projects", "people", "code:secret"],
            "a link's fields are all returned with it",
        ),
        (
            &["new", "link", "projects", "people", "note:text:writeonly"],
            "a link's fields are all returned with it",
        ),
        (
            &["new", "link", "projects", "people", "roles:string[]"],
            "a link's fields cannot be arrays yet",
        ),
        (
            &["new", "link", "projects", "tasks"],
            "`tasks` serves /api/projects/{id}/tasks already",
        ),
        (
            &["new", "link", "projects", "people", "--as", "self:fans"],
            "--as `self` cannot name a direction",
        ),
        (
            &["new", "module", "notes", "pair:ref(project_tags)", "-y"],
            "`project_tags` is a link: its rows are pairs with no id of their own to refer to",
        ),
        (
            &[
                "change",
                "module",
                "tasks",
                "--add",
                "pair:ref(project_tags)",
                "-y",
            ],
            "`project_tags` is a link: its rows are pairs with no id of their own to refer to",
        ),
    ];
    for (args, expected) in cases {
        copy.fails_with(args, &[expected]);
    }
}

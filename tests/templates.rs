//! Team templates: `templates list`, `templates eject`, and an edited or broken override
//! taking effect on a copy of the reference server.

mod common;
mod example_server;

use example_server::ServerCopy;

const TEMPLATES: &str = "scaffold/templates";

#[test]
fn list_shows_every_template_and_its_origin() {
    let server = ServerCopy::generation_inputs();
    let run = server.run(&["templates", "list"]);
    assert_eq!(run.code, 0, "{run:?}");
    for name in [
        "module/router.rs.tera",
        "migration.sql.tera",
        "inject/routes.tera",
    ] {
        let line = run.stdout.lines().find(|l| l.starts_with(name)).unwrap();
        assert!(line.ends_with("built in"), "{line}");
    }

    assert_eq!(
        server
            .run(&["templates", "eject", "module/service.rs.tera"])
            .code,
        0
    );
    let run = server.run(&["templates", "list"]);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("module/service.rs.tera"))
        .unwrap();
    assert!(
        line.ends_with(&format!("overridden by {TEMPLATES}/module/service.rs.tera")),
        "{line}"
    );
}

#[test]
fn ejecting_copies_without_overwriting() {
    let server = ServerCopy::generation_inputs();
    let run = server.run(&["templates", "eject"]);
    assert_eq!(run.code, 0, "{run:?}");
    let ejected = server.read(&format!("{TEMPLATES}/module/models.rs.tera"));
    assert!(ejected.contains("pub async fn insert"));
    // Ejected copies are identical, so nothing is behind: check stays green.
    assert_eq!(server.run(&["check"]).code, 0);

    let path = format!("{TEMPLATES}/module/models.rs.tera");
    std::fs::write(server.path(&path), "// ours\n").unwrap();
    let before = server.tree();
    let run = server.run(&["templates", "eject", "module/models.rs.tera"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("models.rs.tera"), "{run:?}");
    assert_eq!(server.tree(), before, "a refused eject writes nothing");
    let run = server.run(&["templates", "eject", "module/models.rs.tera", "--force"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(server.read(&path), ejected);

    let run = server.run(&["templates", "eject", "module/nope.tera"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("no built-in template module/nope.tera"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("module/router.rs.tera"),
        "lists the valid names: {run:?}"
    );
}

#[test]
fn an_edited_template_changes_the_output() {
    let server = ServerCopy::generation_inputs();
    assert_eq!(
        server
            .run(&["templates", "eject", "module/service.rs.tera"])
            .code,
        0
    );
    let path = server.path(&format!("{TEMPLATES}/module/service.rs.tera"));
    let template = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        format!("// Owned by the {{{{ module }}}} team.\n{template}"),
    )
    .unwrap();

    let run = server.run(&["new", "module", "invoices", "number:string"]);
    assert_eq!(run.code, 0, "{run:?}");
    let service = server.read("src/modules/invoices/service.rs");
    assert!(
        service.starts_with("// Owned by the invoices team.\n"),
        "{service}"
    );
}

#[test]
fn a_broken_template_is_located_and_writes_nothing() {
    let server = ServerCopy::generation_inputs();
    assert_eq!(
        server
            .run(&["templates", "eject", "module/router.rs.tera"])
            .code,
        0
    );
    let path = server.path(&format!("{TEMPLATES}/module/router.rs.tera"));
    let template = std::fs::read_to_string(&path).unwrap();
    let broken = template.replacen("pub struct Read;", "pub struct Read;\n{% if %}", 1);
    std::fs::write(&path, broken).unwrap();
    let line = template
        .lines()
        .position(|l| l == "pub struct Read;")
        .unwrap()
        + 2;

    let before = server.tree();
    let run = server.run(&["new", "module", "invoices", "number:string"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("module/router.rs.tera"), "{run:?}");
    assert!(
        run.stderr.contains(&format!("--> {line}:")),
        "names line {line}: {run:?}"
    );
    assert_eq!(server.tree(), before);
}

#[test]
fn an_override_that_renders_bad_rust_is_blamed_on_the_project_template() {
    let server = ServerCopy::generation_inputs();
    let eject = server.run(&["templates", "eject", "module/service.rs.tera"]);
    assert_eq!(eject.code, 0, "{eject:?}");
    let path = server.path(&format!("{TEMPLATES}/module/service.rs.tera"));
    let template = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{template}\nfn broken( {{\n")).unwrap();

    let before = server.tree();
    let run = server.run(&["new", "module", "invoices", "number:string"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "rustfmt rejected src/modules/invoices/service.rs, rendered from the project's \
             template {TEMPLATES}/module/service.rs.tera"
        )),
        "{run:?}"
    );
    assert!(!run.stderr.contains("not yours"), "{run:?}");
    assert!(!run.stderr.contains("a bug in scaffold"), "{run:?}");
    let located = "--> src/modules/invoices/service.rs:";
    assert_eq!(run.stderr.matches(located).count(), 1, "said once: {run:?}");
    assert_eq!(server.tree(), before);
}

#[test]
fn ejecting_over_an_override_names_the_command_that_overwrites() {
    let server = ServerCopy::generation_inputs();
    let eject = ["templates", "eject", "module/router.rs.tera"];
    assert_eq!(server.run(&eject).code, 0);
    let path = server.path(&format!("{TEMPLATES}/module/router.rs.tera"));
    std::fs::write(&path, "// ours\n").unwrap();
    let run = server.run(&eject);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        !run.stderr.contains("--dry-run"),
        "eject has no --dry-run: {run:?}"
    );
    assert!(
        run.stderr
            .contains("`scaffold templates eject module/router.rs.tera --force` replaces them"),
        "{run:?}"
    );
    let forced = server.run(&["templates", "eject", "module/router.rs.tera", "--force"]);
    assert_eq!(forced.code, 0, "the named command works: {forced:?}");
}

//! `openapi.json` beside Cargo.toml is the server's OpenAPI document, committed: clients are
//! generated from it (clients/typescript), and a change of the API shows in review as a diff
//! of that file. This test fails when the server's document and the file differ.

use std::path::Path;

use server::app::openapi_document;

const REFRESH: &str = "refresh it with `UPDATE_OPENAPI=1 cargo test --test openapi` (or `cargo \
                       run -q -- openapi > openapi.json` in the server's folder), review the diff \
                       and commit it";

#[test]
fn the_committed_document_is_the_servers() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    // As `server openapi` prints it.
    let document = serde_json::to_string_pretty(&openapi_document()).unwrap() + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&file, &document).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&file)
        .unwrap_or_else(|error| panic!("{}: {error}; {REFRESH}", file.display()));
    if committed == document {
        return;
    }
    let first = committed
        .lines()
        .zip(document.lines())
        .position(|(old, new)| old != new)
        .unwrap_or_else(|| committed.lines().count().min(document.lines().count()));
    panic!(
        "{} is not the server's OpenAPI document: a route, a schema or a rule changed. First \
         difference at line {}:\n  file:   {}\n  server: {}\n{REFRESH}",
        file.display(),
        first + 1,
        committed.lines().nth(first).unwrap_or("(end of file)"),
        document.lines().nth(first).unwrap_or("(end of document)"),
    );
}

/// `server openapi` prints exactly what the test compares, so either refreshes the file.
#[test]
fn the_command_prints_the_document() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("openapi")
        .env_remove("DATABASE_URL")
        .env_remove("JWT_SECRET")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        printed,
        serde_json::to_string_pretty(&openapi_document()).unwrap() + "\n"
    );
}

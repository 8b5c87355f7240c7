//! Embeds `migrations/public` and `migrations/tenant` into the binary, so `server migrate` and
//! `server tenant create` need no files beside the binary, and refuses migration files with
//! transaction control (the runner owns the transaction; see `src/core/migration_sql.rs`).
//!
//! The generated code names each file relative to `CARGO_MANIFEST_DIR`, evaluated when the
//! crate compiles, never by an absolute path: a moved checkout, or two checkouts sharing one
//! target directory, must not read another checkout's files. A directory in
//! `rerun-if-changed` makes cargo rebuild when a migration is added, which `include_str!`
//! alone would miss.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

#[allow(dead_code)]
mod migration_sql {
    include!("src/core/migration_sql.rs");
}

fn main() {
    println!("cargo:rerun-if-changed=src/core/migration_sql.rs");
    json_case();
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("migrations.rs");
    let mut code = String::new();
    let mut refused = Vec::new();
    for (name, dir) in [
        ("PUBLIC", "migrations/public"),
        ("TENANT", "migrations/tenant"),
    ] {
        println!("cargo:rerun-if-changed={dir}");
        writeln!(code, "pub static {name}: &[Migration] = &[").unwrap();
        for (version, file_name, path) in migration_files(dir) {
            let sql = fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            for (line, why) in migration_sql::transaction_control(&sql) {
                refused.push(format!("{dir}/{file_name}:{line}: {why}"));
            }
            writeln!(
                code,
                "    Migration {{ version: {version}, name: {file_name:?}, sql: \
                 include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), {:?})) }},",
                format!("/{dir}/{file_name}")
            )
            .unwrap();
        }
        writeln!(code, "];").unwrap();
    }
    // Cargo fails the build on these, showing each message alone, without this script's
    // whole output as a failing exit status would.
    for problem in &refused {
        println!("cargo::error={problem}");
    }
    fs::write(out, code).unwrap();
}

/// `(version, file name, path)` of every `<version>_<description>.sql`, ordered by version.
fn migration_files(dir: &str) -> Vec<(i64, String, PathBuf)> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(stem) = file_name.strip_suffix(".sql") else {
            continue;
        };
        let version = stem
            .split('_')
            .next()
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or_else(|| panic!("{dir}/{file_name}: expected <version>_<description>.sql"));
        files.push((version, file_name, path));
    }
    files.sort();
    for pair in files.windows(2) {
        assert!(
            pair[0].0 != pair[1].0,
            "{dir}: two migrations share version {}",
            pair[0].0
        );
    }
    files
}

/// `[api] json_case` of `scaffold.toml` as `SCAFFOLD_JSON_CASE`, for `src/core/json.rs`: the
/// case of the names the core gives, which must be the generated modules' case. scaffold
/// reads the file strictly; here a line-wise look for the one key is enough.
fn json_case() {
    println!("cargo:rerun-if-changed=scaffold.toml");
    let text = fs::read_to_string("scaffold.toml").unwrap_or_default();
    let mut section = "";
    let mut case = "snake".to_owned();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim();
        } else if let Some((key, value)) = line.split_once('=')
            && section == "api"
            && key.trim() == "json_case"
        {
            case = value.trim().trim_matches('"').to_owned();
        }
    }
    if case != "snake" && case != "camel" {
        println!(
            "cargo::error=scaffold.toml: [api] json_case is {case:?}; write \"snake\" or \"camel\""
        );
    }
    println!("cargo:rustc-env=SCAFFOLD_JSON_CASE={case}");
}

//! `scaffold new app`: a new server project made from the reference server, which is embedded
//! at build time so that there is one source for both (no second copy to keep in step).

use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, bail};
use include_dir::{Dir, include_dir};

use crate::input::cli::NewApp;
use crate::input::idents;
use crate::input::project::CONFIG_FILE;
use crate::write::stage::{self, Write};

static APP: Dir = include_dir!("$CARGO_MANIFEST_DIR/examples/server");
/// The versions the reference server is tested with.
const LOCKFILE: &str = include_str!("../../Cargo.lock");
/// The OpenAPI conformance check the app's CI runs (`scripts/conformance.sh` and the files it
/// reads beside it), kept once at the repository's root and copied as it is.
const CONFORMANCE_SCRIPT: &str = include_str!("../../scripts/conformance.sh");
static CONFORMANCE: Dir = include_dir!("$CARGO_MANIFEST_DIR/scripts/conformance");
/// The reference server's crate and binary name, replaced by the new app's.
const TEMPLATE_NAME: &str = "server";
/// The reference server's development secret, published with it: every new app gets a random
/// one of its own instead, so that no two apps accept each other's development tokens.
const DEVELOPMENT_SECRET: &str =
    "\"development-only-secret-do-not-use-in-production-000000000000000\"";

pub fn run(start: &Path, args: &NewApp) -> anyhow::Result<()> {
    let name = check_name(&args.name)?;
    let dir = match &args.into {
        Some(dir) => start.join(dir),
        None => start.join(name),
    };
    // An earlier `new app` into this folder that died half way is undone first.
    if let Some(recovery) = stage::recover(&dir).map_err(anyhow::Error::msg)? {
        eprintln!("note: {recovery}");
    }
    let occupied = dir
        .read_dir()
        .map(|mut entries| entries.next().is_some())
        .unwrap_or(false);
    if occupied {
        bail!(
            "{} is not empty; choose another --dir, or empty it first",
            dir.display()
        );
    }
    if dir.exists() && !dir.is_dir() {
        bail!("{} exists and is not a folder", dir.display());
    }
    if let Some(project) = enclosing_project(&dir) {
        let elsewhere = project.parent().unwrap_or(&project).join(name);
        bail!(
            "{} is inside the scaffold project {} (it has a {CONFIG_FILE}): a new app there \
             would be nested in that project; create it outside, for example with `scaffold new \
             app {name} --dir {}`\nnothing was written",
            dir.display(),
            project.display(),
            elsewhere.display()
        );
    }

    let mut writes = Vec::new();
    collect(&APP, name, &dir, &mut writes)?;
    writes.push(Write {
        path: dir.join("Cargo.lock"),
        content: LOCKFILE.as_bytes().to_vec(),
    });
    writes.push(Write {
        path: dir.join(".gitignore"),
        content: b"target/\n".to_vec(),
    });
    writes.extend(conformance(&dir));
    stage::commit(&dir, &writes)?;

    println!("created {} ({} files)\n", dir.display(), writes.len());
    println!("next steps:");
    println!("  cd {}", dir.display());
    println!("  cargo test                                  run its tests (PostgreSQL needed)");
    println!("  scaffold new module tasks title:string     add a feature module");
    Ok(())
}

/// The scaffold project (the folder with a `scaffold.toml`) that `dir`, which need not exist
/// yet, would be inside.
fn enclosing_project(dir: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(dir).ok()?;
    let existing = absolute.ancestors().find(|folder| folder.exists())?;
    let existing = existing.canonicalize().ok()?;
    existing
        .ancestors()
        .find(|folder| folder.join(CONFIG_FILE).is_file())
        .map(Path::to_path_buf)
}

/// A crate name that is also a usable binary and library name.
fn check_name(name: &str) -> anyhow::Result<&str> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        bail!(
            "`{name}` cannot name a crate: use lower-case letters, digits, - and _, starting \
             with a letter (for example billing or billing-api)"
        );
    }
    let library = name.replace('-', "_");
    if idents::is_rust_keyword(&library) {
        bail!("`{name}` cannot name a crate: it is a Rust keyword");
    }
    if ["std", "core", "alloc", "test", "proc_macro"].contains(&library.as_str()) {
        bail!("`{name}` would shadow the Rust crate of that name; choose another");
    }
    Ok(name)
}

/// 32 random bytes from the operating system, in hex.
fn random_secret() -> anyhow::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .context("reading /dev/urandom for the app's development secret")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn collect(
    dir: &Dir<'static>,
    name: &str,
    into: &Path,
    writes: &mut Vec<Write>,
) -> anyhow::Result<()> {
    for file in dir.files() {
        let relative = file.path();
        let text = file
            .contents_utf8()
            .with_context(|| format!("{} is not UTF-8 text", relative.display()))?;
        let mut text = rename(relative, text, name);
        if relative == Path::new("src/core/config.rs") {
            let secret = format!("\"{}\"", random_secret()?);
            text = text.replace(DEVELOPMENT_SECRET, &secret);
        }
        writes.push(Write {
            path: into.join(relative),
            content: text.into_bytes(),
        });
    }
    for sub in dir.dirs() {
        if !skipped(sub.path()) {
            collect(sub, name, into, writes)?;
        }
    }
    Ok(())
}

/// The conformance script and the files beside it (not the folders Python leaves there).
fn conformance(into: &Path) -> impl Iterator<Item = Write> {
    let script = Write {
        path: into.join("scripts/conformance.sh"),
        content: CONFORMANCE_SCRIPT.as_bytes().to_vec(),
    };
    let beside = CONFORMANCE.files().map(|file| Write {
        path: into.join("scripts/conformance").join(file.path()),
        content: file.contents().to_vec(),
    });
    std::iter::once(script).chain(beside)
}

/// Build output never belongs in a new project, nor what npm and the TypeScript client's type
/// generation leave in `clients/typescript` (its tests run them in a copy, but a developer may
/// run them in place).
fn skipped(path: &Path) -> bool {
    path.components().any(|c| {
        c == Component::Normal("target".as_ref()) || c == Component::Normal("node_modules".as_ref())
    }) || path == Path::new("clients/typescript/generated")
}

/// The dev profile lines of the workspace's Cargo.toml that a server crate needs at its own
/// root: Argon2id (`:secret` fields) unoptimised takes about a second a hash.
const ARGON2_PROFILE: &str = "
# Argon2id (`:secret` fields, src/core/secret.rs) takes about a second a hash unoptimised.
[profile.dev.package.argon2]
opt-level = 3

[profile.dev.package.blake2]
opt-level = 3
";

/// The reference server's own name, in the few places it appears, becomes the app's.
fn rename(path: &Path, text: &str, name: &str) -> String {
    let library = name.replace('-', "_");
    match path.to_str() {
        Some("Cargo.toml") => {
            let text = text
                .replace(
                    &format!("name = \"{TEMPLATE_NAME}\""),
                    &format!("name = \"{name}\""),
                )
                // The package's own tests depend on it with the `harness` feature, by its name.
                .replace(
                    &format!("\n{TEMPLATE_NAME} = {{ path = \".\""),
                    &format!("\n{name} = {{ path = \".\""),
                );
            // The reference server describes itself as such; the app is not a reference.
            let text: String = text
                .lines()
                .map(|line| match line.starts_with("description = ") {
                    true => format!(
                        "description = \"{name}: a multi-tenant Axum server on \
                                     PostgreSQL, one schema per tenant\"\n"
                    ),
                    false => format!("{line}\n"),
                })
                .collect();
            // Its own workspace, so that it builds even inside another one; with the
            // workspace's optimised Argon2 (see `ARGON2_PROFILE`).
            format!("{text}\n[workspace]\n{ARGON2_PROFILE}")
        }
        Some("README.md") => {
            text.replacen(&format!("# {TEMPLATE_NAME}\n"), &format!("# {name}\n"), 1)
        }
        // A new app records who created and changed each row from its first module on (the
        // reference server does not, so that its modules stay as the docs show them).
        Some("scaffold.toml") => format!(
            "{text}\n# What every new module gets without asking (see docs/people.md).\n\
             [modules]\naudit = true\n"
        ),
        // The document's title is the crate's name (`server openapi`; tests/openapi.rs compares).
        Some("openapi.json") => text.replacen(
            &format!("\"title\": \"{TEMPLATE_NAME}\""),
            &format!("\"title\": \"{name}\""),
            1,
        ),
        // The workflow runs the binary `cargo test` built.
        Some(".github/workflows/ci.yml") => {
            [" ", "\n"].iter().fold(text.to_owned(), |text, end| {
                text.replace(
                    &format!("target/debug/{TEMPLATE_NAME}{end}"),
                    &format!("target/debug/{name}{end}"),
                )
            })
        }
        _ if path.extension().is_some_and(|e| e == "rs") => text
            .replace(
                &format!("use {TEMPLATE_NAME}::"),
                &format!("use {library}::"),
            )
            .replace(
                &format!("CARGO_BIN_EXE_{TEMPLATE_NAME}"),
                &format!("CARGO_BIN_EXE_{name}"),
            ),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_crate_names() {
        for good in ["billing", "billing-api", "b2b_api"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "Billing", "1st", "-x", "bill ing", "bill.ing", "", "self", "std", "fn",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_server_name_is_replaced_where_it_is_code() {
        let cargo = rename(
            Path::new("Cargo.toml"),
            "[package]\nname = \"server\"\ndescription = \"Reference server\"\n\n[[bin]]\nname = \
             \"server\"\n\n[dev-dependencies]\nserver = { path = \".\", features = [\"harness\"] }\n",
            "billing-api",
        );
        assert_eq!(
            cargo,
            format!(
                "[package]\nname = \"billing-api\"\ndescription = \"billing-api: a multi-tenant Axum \
             server on PostgreSQL, one schema per tenant\"\n\n[[bin]]\nname = \"billing-api\"\n\n\
             [dev-dependencies]\nbilling-api = {{ path = \".\", features = [\"harness\"] }}\n\n\
             [workspace]\n{ARGON2_PROFILE}"
            )
        );
        // The reference server's manifest has that dev-dependency as the test above writes it.
        let manifest = APP.get_file("Cargo.toml").unwrap().contents_utf8().unwrap();
        assert!(
            manifest.contains("\nserver = { path = \".\", features = [\"harness\"] }\n"),
            "{manifest}"
        );
        let main = rename(
            Path::new("tests/binary.rs"),
            "use server::testing;\nlet s = server();\nenv!(\"CARGO_BIN_EXE_server\")",
            "billing-api",
        );
        assert_eq!(
            main,
            "use billing_api::testing;\nlet s = server();\nenv!(\"CARGO_BIN_EXE_billing-api\")"
        );
        let config = rename(Path::new("scaffold.toml"), "[paths]\n", "billing-api");
        assert!(config.ends_with("\n[modules]\naudit = true\n"), "{config}");
        let workflow = rename(
            Path::new(".github/workflows/ci.yml"),
            "run: a --binary target/debug/server --seconds 180\nrun: b target/debug/server\n",
            "billing-api",
        );
        assert_eq!(
            workflow,
            "run: a --binary target/debug/billing-api --seconds 180\nrun: b target/debug/billing-api\n"
        );
    }

    #[test]
    fn a_new_app_gets_a_development_secret_of_its_own() {
        let config = APP.get_file("src/core/config.rs").unwrap();
        assert!(
            config.contents_utf8().unwrap().contains(DEVELOPMENT_SECRET),
            "the reference server's development secret moved; update DEVELOPMENT_SECRET"
        );
        let dir = tempfile::tempdir().unwrap();
        let mut writes = Vec::new();
        collect(&APP, "billing", dir.path(), &mut writes).unwrap();
        let config = writes
            .iter()
            .find(|w| w.path.ends_with("src/core/config.rs"))
            .map(|w| String::from_utf8(w.content.clone()).unwrap())
            .unwrap();
        assert!(!config.contains(DEVELOPMENT_SECRET));
        assert_ne!(random_secret().unwrap(), random_secret().unwrap());
        assert_eq!(random_secret().unwrap().len(), 64);
    }

    #[test]
    fn build_and_npm_output_is_not_copied() {
        for left in [
            "target",
            "clients/typescript/node_modules",
            "clients/typescript/node_modules/typescript/lib",
            "clients/typescript/generated",
        ] {
            assert!(skipped(Path::new(left)), "{left}");
        }
        for kept in [
            "src/modules",
            "clients/typescript/src",
            "clients/typescript/test",
            ".github/workflows",
        ] {
            assert!(!skipped(Path::new(kept)), "{kept}");
        }
    }

    #[test]
    fn the_embedded_app_is_the_reference_server() {
        assert!(APP.get_file("src/modules/projects/service.rs").is_some());
        assert!(APP.get_file("scaffold.toml").is_some());
        assert!(APP.get_file(".scaffold/manifest.toml").is_some());
        assert!(APP.get_file(".github/workflows/ci.yml").is_some());
        assert!(
            APP.get_file("clients/typescript/package-lock.json")
                .is_some()
        );
    }

    /// The server's own tests (`tests/`, and the harness in `src/testing/`) drive the test
    /// harness's resource, never the sample module: a new app's tests pass after `scaffold
    /// destroy module projects` (issue 28). Except `tests/typescript_client.rs`, which runs
    /// the sample TypeScript client's suite (`clients/typescript/test/`, the sample module's,
    /// which `destroy` names) with a token for it, and passes with that suite deleted.
    #[test]
    fn the_server_tests_do_not_call_the_sample_module() {
        let mut writes = Vec::new();
        collect(&APP, "billing", Path::new("app"), &mut writes).unwrap();
        let mut checked = 0;
        for write in &writes {
            let Ok(relative) = write.path.strip_prefix("app") else {
                continue;
            };
            if !relative.starts_with("tests") && !relative.starts_with("src/testing")
                || relative == Path::new("tests/typescript_client.rs")
            {
                continue;
            }
            let text = String::from_utf8_lossy(&write.content);
            for needle in ["/api/projects", "projects:"] {
                assert!(
                    !text.contains(needle),
                    "{} names `{needle}`: point it at the test harness's resource \
                     (src/testing/harness)",
                    relative.display()
                );
            }
            checked += 1;
        }
        assert!(checked >= 10, "only {checked} files checked");
    }

    /// A path through the library's old name (`server::testing::...` outside a `use`) would
    /// not compile in the new app, whose library has its name.
    #[test]
    fn no_rust_file_of_a_new_app_names_the_reference_server_crate() {
        let mut writes = Vec::new();
        collect(&APP, "billing-api", Path::new("app"), &mut writes).unwrap();
        for write in writes
            .iter()
            .filter(|w| w.path.extension().is_some_and(|e| e == "rs"))
        {
            let text = String::from_utf8_lossy(&write.content);
            let named = text.match_indices("server::").any(|(at, _)| {
                let before = text[..at].chars().next_back();
                !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            });
            assert!(!named, "{} names `server::`", write.path.display());
        }
    }

    #[test]
    fn a_new_app_gets_the_conformance_check() {
        let writes: Vec<Write> = conformance(Path::new("app")).collect();
        let paths: Vec<&Path> = writes.iter().map(|w| w.path.as_path()).collect();
        for path in [
            "app/scripts/conformance.sh",
            "app/scripts/conformance/requirements.txt",
            "app/scripts/conformance/hooks.py",
        ] {
            assert!(paths.contains(&Path::new(path)), "{path}: {paths:?}");
        }
        // What it reads beside itself is what is copied beside it.
        assert!(CONFORMANCE_SCRIPT.contains("scripts/conformance/requirements.txt"));
    }
}

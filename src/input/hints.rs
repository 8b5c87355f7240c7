//! Commands printed for the user to run next (next steps, the fix for a problem), written so
//! that they work as typed in the folder where the user ran scaffold. With `-C DIR` from
//! outside the project, scaffold's own commands keep `-C DIR`, and the server's cargo commands
//! name its package (`cargo run -p server -- migrate` from the workspace root), or its
//! manifest when the current folder is in no workspace that has it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::input::project::CONFIG_FILE;

/// How commands are spelled from the current folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Here {
    /// `scaffold` or `scaffold -C <dir>`.
    scaffold: String,
    /// What goes between `cargo run`/`cargo test` and the rest: empty, ` -p <package>` or
    /// ` --manifest-path <path>`.
    cargo_target: String,
}

impl Default for Here {
    fn default() -> Self {
        Self {
            scaffold: "scaffold".into(),
            cargo_target: String::new(),
        }
    }
}

static HERE: OnceLock<Here> = OnceLock::new();
/// Where scaffold started and its `-C` argument: what `Here` is worked out from, when a
/// command first prints a hint (most runs print none, and reading the manifests costs time).
static START: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();

/// Called once, before any command runs, with the `-C` argument as the user typed it.
pub fn init(dir: Option<&Path>) {
    if let (Some(dir), Ok(cwd)) = (dir, std::env::current_dir()) {
        let _ = START.set((cwd, dir.to_path_buf()));
    }
}

fn here() -> &'static Here {
    HERE.get_or_init(|| match START.get() {
        Some((cwd, dir)) => Here::new(cwd, dir),
        None => Here::default(),
    })
}

/// `scaffold <args>`, as the user should type it here.
pub fn scaffold(args: &str) -> String {
    format!("{} {args}", here().scaffold)
}

/// `cargo run [target] -- <args>`: the project's own binary, run from here.
pub fn cargo_run(args: &str) -> String {
    format!("cargo run{} -- {args}", here().cargo_target)
}

/// `cargo test [target]`: the project's tests, run from here.
pub fn cargo_test() -> String {
    format!("cargo test{}", here().cargo_target)
}

/// `cargo test [target] --lib <filter>`: the library's tests whose path holds `filter` (one
/// module's), which builds no integration test binary. Inside the project the package is
/// named anyway, so that the command works from any folder of a workspace that has it.
pub fn cargo_test_lib(root: &Path, filter: &str) -> String {
    let target = match here().cargo_target.as_str() {
        "" => package_name(&root.join("Cargo.toml"))
            .map(|package| format!(" -p {package}"))
            .unwrap_or_default(),
        target => target.to_owned(),
    };
    format!("cargo test{target} --lib {filter}")
}

/// The `[package]` name of a Cargo.toml, if it has one.
fn package_name(manifest: &Path) -> Option<String> {
    let toml = std::fs::read_to_string(manifest)
        .ok()?
        .parse::<toml::Table>()
        .ok()?;
    Some(toml.get("package")?.get("name")?.as_str()?.to_owned())
}

impl Here {
    /// `cwd` is where scaffold runs, `dir` its `-C` argument as typed (relative to `cwd`).
    pub fn new(cwd: &Path, dir: &Path) -> Self {
        let (Ok(cwd), Ok(start)) = (cwd.canonicalize(), cwd.join(dir).canonicalize()) else {
            return Self::default();
        };
        let Some(root) = start
            .ancestors()
            .find(|folder| folder.join(CONFIG_FILE).is_file())
        else {
            return Self::default();
        };
        if cwd.starts_with(root) {
            return Self::default();
        }
        Self {
            scaffold: format!("scaffold -C {}", quote(&dir.display().to_string())),
            cargo_target: cargo_target(&cwd, root),
        }
    }
}

/// How cargo, run in `cwd`, reaches the package in `root`: by name when `cwd` is in a
/// workspace that has it as a member, else by its manifest.
fn cargo_target(cwd: &Path, root: &Path) -> String {
    let manifest = root.join("Cargo.toml");
    let package = package_name(&manifest);
    let in_workspace =
        cwd.ancestors()
            .find_map(workspace_members)
            .is_some_and(|(ws_root, members)| {
                root.strip_prefix(&ws_root).is_ok_and(|relative| {
                    members.iter().any(|member| Path::new(member) == relative)
                })
            });
    match package {
        Some(package) if in_workspace => format!(" -p {package}"),
        _ => {
            let path = manifest
                .strip_prefix(cwd)
                .map(Path::to_path_buf)
                .unwrap_or(manifest.clone());
            format!(" --manifest-path {}", quote(&path.display().to_string()))
        }
    }
}

/// The members of the workspace whose root is `folder`, if its Cargo.toml declares one.
fn workspace_members(folder: &Path) -> Option<(PathBuf, Vec<String>)> {
    let text = std::fs::read_to_string(folder.join("Cargo.toml")).ok()?;
    let toml = text.parse::<toml::Table>().ok()?;
    let workspace = toml.get("workspace")?;
    let mut members: Vec<String> = workspace
        .get("members")
        .and_then(|m| m.as_array())
        .map(|m| {
            m.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    // The root package is a member without being listed.
    members.push(".".into());
    let members = members
        .into_iter()
        .map(|m| m.trim_start_matches("./").to_owned())
        .map(|m| if m == "." { String::new() } else { m })
        .collect();
    Some((folder.to_path_buf(), members))
}

/// `text` as one shell word.
fn quote(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:,=@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A workspace root package `tool` with a member `examples/server` (a scaffold project,
    /// package `server`), and beside it a project `app` in no workspace.
    fn layout() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |path: &str, text: &str| {
            let path = root.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        };
        write(
            "repo/Cargo.toml",
            "[workspace]\nmembers = [\".\", \"examples/server\"]\n[package]\nname = \"tool\"\n",
        );
        write(
            "repo/examples/server/Cargo.toml",
            "[package]\nname = \"server\"\n",
        );
        write("repo/examples/server/scaffold.toml", "");
        fs::create_dir_all(root.join("repo/examples/server/src")).unwrap();
        write("app/Cargo.toml", "[package]\nname = \"billing\"\n");
        write("app/scaffold.toml", "");
        dir
    }

    #[test]
    fn inside_the_project_commands_are_plain() {
        let dir = layout();
        let server = dir.path().join("repo/examples/server");
        for (cwd, arg) in [(&server, "."), (&server.join("src"), "..")] {
            let here = Here::new(cwd, Path::new(arg));
            assert_eq!(here, Here::default());
        }
    }

    #[test]
    fn from_the_workspace_root_the_package_is_named() {
        let dir = layout();
        let here = Here::new(&dir.path().join("repo"), Path::new("examples/server/src"));
        assert_eq!(here.scaffold, "scaffold -C examples/server/src");
        assert_eq!(here.cargo_target, " -p server");
    }

    #[test]
    fn outside_any_workspace_the_manifest_is_named() {
        let dir = layout();
        let here = Here::new(&dir.path().join("repo"), Path::new("../app"));
        assert_eq!(here.scaffold, "scaffold -C ../app");
        let app = dir.path().join("app/Cargo.toml").canonicalize().unwrap();
        assert_eq!(
            here.cargo_target,
            format!(" --manifest-path {}", quote(&app.display().to_string()))
        );
        let here = Here::new(dir.path(), Path::new("app"));
        assert_eq!(here.cargo_target, " --manifest-path app/Cargo.toml");
    }

    #[test]
    fn odd_folder_names_are_quoted() {
        assert_eq!(quote("examples/server"), "examples/server");
        assert_eq!(quote("my app"), "'my app'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}

//! `scaffold destroy module`: removes what `new module` generated (files, registration
//! lines, migration, manifest entry) in one staged commit. Files edited by hand are kept
//! unless `--force`. Databases are never touched.

use std::collections::BTreeMap;
use std::path::Path;

use crate::generate::digest;
use crate::generate::plan::{self, MigrationVersion};
use crate::input::cli::DestroyModule;
use crate::write::apply;
use crate::write::lifecycle::{self, Edits, Workspace};
use crate::write::manifest;
use crate::write::report::{self, action_line};
use crate::write::stage;

pub fn run(start: &Path, args: &DestroyModule) -> anyhow::Result<()> {
    let ws = Workspace::open_locked(start)?;
    let module = ws.find(&args.name)?;
    let record = &ws.manifest.modules[&module];

    let users: Vec<String> = ws
        .manifest
        .modules
        .iter()
        .filter(|(name, _)| **name != module)
        .flat_map(|(name, other)| {
            other
                .refers_to(&module)
                .into_iter()
                .map(move |field| format!("`{name}` (field {field})"))
        })
        .collect();
    if !users.is_empty() {
        let (verb, them) = match users.len() {
            1 => ("refers", "it"),
            _ => ("refer", "them"),
        };
        anyhow::bail!(
            "cannot destroy `{module}`: {} {verb} to it, and its foreign keys would point at a \
             table that is gone; destroy {them} first, or regenerate {them} without the ref \
             field\nnothing was changed",
            users.join(" and "),
        );
    }

    let mut edits = Edits::default();
    let mut lines = Vec::new();
    let mut kept = Vec::new();
    let mut migration = None;
    for (path, hash) in &record.files {
        let is_migration = ws.is_migration(path);
        match edits.current(&ws, path) {
            None => lines.push(action_line("missing", &format!("{path} (already gone)"))),
            Some(text) if digest::hash(&text) == *hash || args.force => {
                lines.push(action_line("remove", path));
                edits.set(&ws, path, None);
                if is_migration {
                    migration = Some(path.clone());
                }
            }
            Some(_) => {
                lines.push(action_line("keep", &format!("{path} (edited by hand)")));
                kept.push(path.clone());
            }
        }
    }
    let mut stray = Vec::new();
    for injection in &record.injections {
        let text = edits.current(&ws, &injection.file);
        match text.and_then(|t| apply::remove_block(&t, &injection.line)) {
            Some(without) => {
                lines.push(action_line(
                    "remove",
                    &format!("{} (`{}`)", injection.file, injection.line),
                ));
                edits.set(&ws, &injection.file, Some(without));
            }
            None => {
                lines.push(action_line(
                    "missing",
                    &format!("{} (`{}` not found)", injection.file, injection.line),
                ));
                stray.push(format!(
                    "{}: `{}` was not found; if you changed it by hand, remove what is left of it",
                    injection.file, injection.line
                ));
            }
        }
    }

    // Named before anything is removed: it must sort after the migration being removed,
    // which databases have recorded as applied.
    let drop_migration = match &migration {
        Some(_) => {
            let existing = ws.project.migration_files()?;
            let version = plan::next_version(&existing, MigrationVersion::at(lifecycle::now()?));
            let dir = &ws.project.config.paths.migrations;
            Some(format!("{}/{}_drop_{module}.sql", dir.display(), version.0))
        }
        None => None,
    };
    let route = ws
        .spec(&module)
        .map(|spec| spec.names.route)
        .unwrap_or_else(|_| module.clone());
    let callers = route_callers(&ws, &module, &route);
    let mut manifest = ws.manifest.clone();
    manifest.modules.remove(&module);
    let state = manifest.state_changes(&ws.manifest, &BTreeMap::new(), ws.root());

    // The record line and the notes follow the file lines, whether or not anything is written.
    let print_record_and_notes = || {
        println!(
            "{}",
            action_line("record", &format!("{module} leaves {}", manifest::FILE))
        );
        print_notes(
            &module,
            migration.as_deref(),
            drop_migration.as_deref(),
            &kept,
            &stray,
        );
        print_callers(&route, &callers);
    };
    if args.dry_run {
        for line in &lines {
            println!("{line}");
        }
        for (path, old, new) in edits.changed() {
            // A removed file is listed above; its whole text as a diff would only be noise.
            if new.is_some() {
                print!("{}", report::file_diff(Path::new(path), old, new));
            }
        }
        print_record_and_notes();
        println!("\ndry run: nothing written");
        return Ok(());
    }
    let (mut writes, mut removals) = edits.to_stage(ws.root())?;
    let (state_writes, state_removals) = state.into_stage(ws.root());
    writes.extend(state_writes);
    removals.extend(state_removals);
    stage::commit_all(ws.root(), &writes, &removals)?;
    lifecycle::prune(&ws, &removals);
    for line in &lines {
        println!("{line}");
    }
    print_record_and_notes();
    println!("\ndestroyed `{module}`");
    Ok(())
}

fn print_notes(
    module: &str,
    migration: Option<&str>,
    drop_migration: Option<&str>,
    kept: &[String],
    stray: &[String],
) {
    if !kept.is_empty() {
        println!(
            "\nkept, because they were edited by hand (they are yours now; remove them, or run \
             again with --force):"
        );
        for path in kept {
            println!("  {path}");
        }
    }
    for line in stray {
        println!("\n{line}");
    }
    if let (Some(migration), Some(drop_migration)) = (migration, drop_migration) {
        println!(
            "\nDatabases are not touched. Every tenant schema that applied {migration} still \
             has the `{module}` table and its rows, and its schema_migrations still lists the \
             migration. To drop the table there too, add a migration, for example \
             {drop_migration} with:\n  DROP TABLE IF EXISTS {module};\nthen run `{}`.",
            crate::input::hints::cargo_run("migrate")
        );
    }
}

/// The integration tests (`tests/`) and the clients' code and suites (`clients/`, such as the
/// TypeScript client's `test/projects.test.js`) that still call the module's route, each with
/// the numbers of those lines: they compile without the module and fail only when run, as the
/// sample client's suite does in a new app whose example module is destroyed. (Code in `src/`
/// that uses the module names it in Rust, and the build says so.) Comment lines are left out.
fn route_callers(ws: &Workspace, module: &str, route: &str) -> Vec<(String, Vec<usize>)> {
    let url = format!("/api/{route}");
    let own = ws.module_dir(module);
    let mut files = Vec::new();
    source_files(&ws.root().join("tests"), &["rs"], &mut files);
    source_files(&ws.root().join("clients"), CLIENT_EXTENSIONS, &mut files);
    files.sort();
    let mut callers = Vec::new();
    for file in files {
        let Ok(relative) = file.strip_prefix(ws.root()) else {
            continue;
        };
        if relative.starts_with(&own) {
            continue;
        }
        let Some(text) = manifest::read_text(&file) else {
            continue;
        };
        let lines: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim_start().starts_with("//") && calls(line, &url))
            .map(|(at, _)| at + 1)
            .collect();
        if !lines.is_empty() {
            callers.push((manifest::slash_path(relative), lines));
        }
    }
    callers
}

/// Whether `line` has `url` as a whole path segment (`/api/tasks` and `/api/tasks/{id}`, not
/// `/api/tasks-archive`).
fn calls(line: &str, url: &str) -> bool {
    line.match_indices(url).any(|(at, _)| {
        !line[at + url.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

/// The clients' source files that may call a route.
const CLIENT_EXTENSIONS: &[&str] = &["js", "mjs", "cjs", "ts", "mts", "cts"];

/// The files under `folder` with one of `extensions`, leaving out what npm installs and what
/// a client generates from the OpenAPI document.
fn source_files(folder: &Path, extensions: &[&str], into: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if !path.ends_with("node_modules") && !path.ends_with("generated") {
                source_files(&path, extensions, into);
            }
        } else if path
            .extension()
            .is_some_and(|e| extensions.iter().any(|x| e == *x))
        {
            into.push(path);
        }
    }
}

fn print_callers(route: &str, callers: &[(String, Vec<usize>)]) {
    if callers.is_empty() {
        return;
    }
    println!(
        "\nThese tests still call /api/{route}, which is gone: they build, and fail when run. \
         Point them at another module, or remove those calls:"
    );
    for (file, lines) in callers {
        let shown: Vec<String> = lines.iter().take(5).map(usize::to_string).collect();
        let more = match lines.len() {
            n if n > 5 => format!(" and {} more", n - 5),
            _ => String::new(),
        };
        let noun = if lines.len() == 1 { "line" } else { "lines" };
        println!("  {file}: {noun} {}{more}", shown.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::calls;

    #[test]
    fn a_route_is_called_as_a_whole_segment() {
        for called in [
            "get(\"/api/tasks\")",
            "format!(\"/api/tasks/{id}\")",
            "\"/api/tasks?limit=2\"",
            "{base}/api/tasks\"",
        ] {
            assert!(calls(called, "/api/tasks"), "{called}");
        }
        for not in ["/api/tasks-archive", "/api/tasks_x", "/api/task", ""] {
            assert!(!calls(not, "/api/tasks"), "{not}");
        }
    }
}

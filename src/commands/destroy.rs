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

//! `scaffold change module`: the recorded field list and the requested edits give a new spec;
//! the difference becomes a new migration, and the module's files are rendered again from the
//! new spec and merged with the files as they are, by the same merge `upgrade` uses.

use std::path::Path;

use anyhow::Context as _;
use console::style;
use heck::ToSnakeCase;
use similar::{ChangeTag, TextDiff};

use crate::generate::digest;
use crate::generate::plan::{self, MigrationVersion, Op};
use crate::generate::spec_diff::{self, SpecDiff, SpecEdits};
use crate::input::cli::ChangeModule;
use crate::input::prompt;
use crate::write::lifecycle::{self, Workspace, has_conflict_markers};
use crate::write::manifest;
use crate::write::merge::{Rules, Upgrader};
use crate::write::report;

pub fn run(start: &Path, args: &ChangeModule) -> anyhow::Result<()> {
    let ws = Workspace::open_locked(start)?;
    let module = ws.find(&args.name)?;
    let record = &ws.manifest.modules[&module];
    refuse_unresolved(&ws, &module)?;

    let old = ws
        .spec(&module)
        .map_err(|error| anyhow::anyhow!("cannot read `{module}`'s recorded fields: {error}"))?;
    let words = record.words();
    let request = SpecEdits {
        add: &args.add,
        remove: &args.remove,
        rename: &args.rename,
        alter: &args.alter,
    };
    let fields_change = !(request.add.is_empty()
        && request.remove.is_empty()
        && request.rename.is_empty()
        && request.alter.is_empty());
    let (on, off) = args.option_flags();
    let options_change = !on.is_empty() || !off.is_empty();
    let key_change = args.key.is_some() || args.no_key;
    if !fields_change && !options_change && !key_change {
        anyhow::bail!(
            "nothing to change: give at least one of --add FIELD, --remove FIELD_NAME, --rename \
             OLD:NEW, --alter FIELD, an option such as --audit or --no-soft-delete, or --key \
             FIELD (see `scaffold change module --help`)"
        );
    }
    if fields_change && options_change {
        anyhow::bail!(
            "change the fields and the options in two runs: each makes its own migration\n\
             nothing was changed"
        );
    }
    if key_change && (fields_change || options_change) {
        anyhow::bail!(
            "change the key in a run of its own: it changes routes, not the table\n\
             nothing was changed"
        );
    }
    let key = match (&args.key, args.no_key) {
        (Some(key), _) => Some(key.trim().to_snake_case()),
        (None, true) => None,
        (None, false) => old.key.clone(),
    };
    if key_change && key == old.key {
        let now = match &old.key {
            Some(key) => format!("the key `{key}`"),
            None => "no key".to_owned(),
        };
        anyhow::bail!("nothing to change: `{module}` already has {now}");
    }
    if let Some(key) = &old.key {
        refuse_key_edits(&module, key, &request)?;
    }
    if key_change {
        refuse_a_key_change_under_referrers(&ws, &module)?;
    }
    let options = old
        .options
        .changed(&on, &off)
        .map_err(|error| anyhow::anyhow!("{error}\nnothing was changed"))?;
    if options_change && options == old.options {
        let now = match old.options.flags() {
            flags if flags.is_empty() => "no options".to_owned(),
            flags => flags.join(" "),
        };
        anyhow::bail!("nothing to change: `{module}` already has {now}");
    }
    let change = SpecDiff::new(
        &old,
        request,
        &spec_diff::parser(&old, words.request(), options, key.as_deref(), &ws.facts),
    )?;

    let renderer = ws.renderer()?;
    let fingerprint = renderer.templates().fingerprint();
    let existing = ws.project.migration_files()?;
    let version = plan::next_version(&existing, MigrationVersion::at(lifecycle::now()?));
    let table = &change.new.names.module;
    let migration_path = ws
        .project
        .config
        .paths
        .migrations
        .join(format!("{}_change_{table}.sql", version.0));
    let migration = change.migration(&change_command(&module, args));

    println!("{}\n", change.new);
    // A new key changes routes only: the unique constraint the key needs is there already.
    if !key_change {
        println!(
            "{}  {}",
            style("migration").bold(),
            manifest::slash_path(&migration_path)
        );
        for line in migration.lines().skip(1) {
            println!("    {line}");
        }
        println!();
    }

    let stale = stale_names(&ws, &module, &change.renamed_columns());
    for warning in &stale {
        eprintln!("{} {warning}", style("warning:").yellow().bold());
    }
    if !stale.is_empty() {
        eprintln!(
            "the change renames the field where scaffold generated it, not in lines you wrote \
             (numbered as they are before this change): rename it there too, or the module \
             will not build\n"
        );
    }
    if !args.dry_run {
        confirm_removal(&change, args.yes)?;
    }

    // The new rendering: code from the new spec, the create migration as it was (from the
    // spec it was created with), and the change migration as a new file.
    let mut next = ws.manifest.clone();
    let mut record = record.clone();
    let create_command = record
        .create_command
        .clone()
        .unwrap_or_else(|| record.command.clone());
    record.command = change.new.command.clone();
    record.create_command = Some(create_command).filter(|c| *c != record.command);
    record.reshape(change.new.shape);
    next.modules.insert(module.clone(), record);
    let ws = Workspace {
        manifest: next,
        ..ws
    };
    let mut plans = ws.render(&renderer, std::slice::from_ref(&module))?;
    let mut plan = plans.remove(&module).expect("rendered").map_err(|error| {
        anyhow::anyhow!("cannot render `{module}` with its new fields: {error}")
    })?;
    if !key_change {
        plan.ops.push(Op::CreateFile {
            path: migration_path,
            content: migration,
        });
    }

    let rules = Rules {
        dry_run: args.dry_run,
        migrations: false,
        headers: false,
        force: args.force,
    };
    let mut upgrader = Upgrader::new(&ws, rules);
    upgrader.module(&module, &plan, &fingerprint);
    upgrader.finish("changed").map_err(|error| {
        anyhow::anyhow!(
            "{error}\nthe migration is written and the manifest records the new fields: only \
             the files listed need your hand"
        )
    })?;
    if !args.dry_run && !key_change {
        let tests = ws.module_dir(&module).join("tests.rs");
        let module_tests = ws
            .root()
            .join(tests)
            .is_file()
            .then(|| crate::input::hints::cargo_test_lib(ws.root(), &module));
        report::print_migrate_steps(module_tests);
    }
    Ok(())
}

/// The key field stays while it is the key: its routes and the clients that call them name
/// rows by it.
fn refuse_key_edits(module: &str, key: &str, request: &SpecEdits) -> anyhow::Result<()> {
    let renamed = request
        .rename
        .iter()
        .filter_map(|pair| pair.split_once(':'))
        .map(|(from, _)| from);
    let touched = request
        .remove
        .iter()
        .map(String::as_str)
        .chain(renamed)
        .any(|name| name.trim().to_snake_case() == key);
    if touched {
        anyhow::bail!(
            "`{key}` is `{module}`'s key (--key {key}): name rows by id first with `{}`, then \
             remove or rename it\nnothing was changed",
            crate::input::hints::scaffold(&format!("change module {module} --no-key"))
        );
    }
    Ok(())
}

/// The modules that refer to this one name its rows in their routes as they were named when
/// they were generated: a link by id (`/api/<a>/{id}/<b>/{b_id}`), a module with a `ref` in
/// its nested list (`/api/articles/{slug}/comments`).
fn refuse_a_key_change_under_referrers(ws: &Workspace, module: &str) -> anyhow::Result<()> {
    let referrer = ws
        .manifest
        .modules
        .iter()
        .find(|(name, record)| *name != module && !record.refers_to(module).is_empty());
    let Some((referrer, record)) = referrer else {
        return Ok(());
    };
    if record.words().link.is_some() {
        anyhow::bail!(
            "`{module}` is a side of the link `{referrer}`, whose routes name its rows by id; a \
             key would give them two names\nnothing was changed"
        );
    }
    anyhow::bail!(
        "`{referrer}` refers to `{module}` and nests its list under what names `{module}`'s \
         rows now; change the key before other modules refer to it (destroy `{referrer}`, \
         change the key, generate `{referrer}` again)\nnothing was changed"
    )
}

/// A module whose last upgrade left conflicts has a mixed merge base: changing it now would
/// merge against the wrong one.
fn refuse_unresolved(ws: &Workspace, module: &str) -> anyhow::Result<()> {
    let record = &ws.manifest.modules[module];
    let marked: Vec<&String> = record
        .files
        .keys()
        .filter(|file| {
            ws.read(file)
                .is_some_and(|text| has_conflict_markers(&text))
        })
        .collect();
    if record.conflicts.is_empty() && marked.is_empty() {
        return Ok(());
    }
    let files: Vec<&String> = record.conflicts.keys().chain(marked).collect();
    anyhow::bail!(
        "`{module}` has unresolved conflicts from an earlier upgrade or change ({}); resolve \
         the markers and run `scaffold upgrade {module}` first",
        files
            .iter()
            .map(|f| f.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The lines of the module's hand-written code that still name a field this change renames:
/// the merge renames the generated lines, never what a developer wrote, so each of these would
/// break the build. A hand-written line is one of a recorded file that its pristine copy (what
/// was generated) does not have, or any line of a file in the module's folder that scaffold
/// did not write.
fn stale_names(ws: &Workspace, module: &str, renames: &[(String, String)]) -> Vec<String> {
    if renames.is_empty() {
        return Vec::new();
    }
    let record = &ws.manifest.modules[module];
    let mut hand_lines: Vec<(String, usize, String)> = Vec::new();
    for (file, hash) in &record.files {
        let Some(text) = ws.read(file) else { continue };
        if ws.is_migration(file) || digest::hash(&text) == *hash {
            continue;
        }
        // Without the pristine copy there is no telling generated lines from hand-written
        // ones; the merge reports that file as having no merge base.
        let Some(generated) = ws.pristine(module, file) else {
            continue;
        };
        let diff = TextDiff::from_lines(&generated, &text);
        for change in diff.iter_all_changes() {
            if let (ChangeTag::Insert, Some(at)) = (change.tag(), change.new_index()) {
                hand_lines.push((file.clone(), at + 1, change.value().to_owned()));
            }
        }
    }
    let folder = ws.root().join(ws.module_dir(module));
    let mut unrecorded: Vec<String> = std::fs::read_dir(&folder)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| manifest::slash_path(&ws.module_dir(module).join(entry.file_name())))
        .filter(|file| file.ends_with(".rs") && !record.files.contains_key(file))
        .collect();
    unrecorded.sort();
    for file in unrecorded {
        let Some(text) = ws.read(&file) else { continue };
        for (at, line) in text.lines().enumerate() {
            hand_lines.push((file.clone(), at + 1, line.to_owned()));
        }
    }
    let mut warnings = Vec::new();
    for (file, line, text) in hand_lines {
        for (old, new) in renames {
            if names_word(&text, old) {
                warnings.push(format!(
                    "{file}:{line} still names `{old}` (renamed to `{new}`): {}",
                    text.trim()
                ));
            }
        }
    }
    warnings
}

/// Whether `text` has `word` as a whole identifier (`title` in `row.title` or `"title"`, not
/// in `subtitle` or `title_case`).
fn names_word(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// Asks before a change drops data: removed fields, the columns of options turned off, and
/// the rows that soft delete kept.
fn confirm_removal(change: &SpecDiff, yes: bool) -> anyhow::Result<()> {
    let (old, new) = (change.old.options, change.new.options);
    let kept = new.columns();
    let mut columns: Vec<String> = change
        .removed
        .iter()
        .map(|&i| format!("`{}`", change.old.fields[i].column()))
        .collect();
    columns.extend(
        old.columns()
            .into_iter()
            .filter(|column| !kept.contains(column))
            .map(|column| format!("`{column}`")),
    );
    if columns.is_empty() {
        return Ok(());
    }
    let mut what = format!(
        "dropping {} from `{}` deletes that data in every tenant",
        columns.join(", "),
        change.new.names.module
    );
    if old.soft_delete && !new.soft_delete {
        what.push_str(", and the rows marked deleted with it");
    }
    if yes {
        return Ok(());
    }
    if !prompt::is_interactive() {
        anyhow::bail!("{what}; pass --yes to confirm\nnothing was changed");
    }
    let confirmed = dialoguer::Confirm::new()
        .with_prompt(format!("{what}. Go on?"))
        .default(false)
        .interact()
        .context("cannot ask for confirmation")?;
    if !confirmed {
        anyhow::bail!("nothing was changed");
    }
    Ok(())
}

/// The arguments as given, for the migration's header.
fn change_command(module: &str, args: &ChangeModule) -> String {
    let mut words = vec![module.to_string()];
    let mut flag = |name: &str, values: &[String]| {
        for value in values {
            words.push(format!("--{name} {}", crate::input::shell::quote(value)));
        }
    };
    flag("add", &args.add);
    flag("remove", &args.remove);
    flag("rename", &args.rename);
    flag("alter", &args.alter);
    let (on, off) = args.option_flags();
    words.extend(on.iter().map(|flag| flag.to_string()));
    words.extend(off.iter().map(|flag| format!("--no-{}", &flag[2..])));
    if let Some(key) = &args.key {
        words.push(format!("--key {key}"));
    }
    if args.no_key {
        words.push("--no-key".into());
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::names_word;

    #[test]
    fn a_field_is_named_as_a_whole_identifier() {
        for named in [
            "row.title",
            "\"title\"",
            "title: String",
            "r#title",
            "x.title)",
        ] {
            assert!(names_word(named, "title"), "{named}");
        }
        for not in ["subtitle", "title_case", "titles", "", "Title"] {
            assert!(!names_word(not, "title"), "{not}");
        }
    }
}

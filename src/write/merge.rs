//! The three-way merge of new output into generated files, for `upgrade` and `change module`
//! (base: the output as generated, ours: the file on disk, theirs: the new output). Every
//! file is merged in memory and everything written in one staged commit; the manifest moves
//! forward only for what merged cleanly.

use std::collections::BTreeMap;
use std::path::Path;

use diffy::{ConflictStyle, MergeOptions};

use crate::generate::digest;
use crate::generate::plan::{Op, Plan};
use crate::write::apply;
use crate::write::lifecycle::{self, Edits, Workspace, has_conflict_markers};
use crate::write::manifest::{self, Injection, ModuleRecord};
use crate::write::report::{self, action_line};
use crate::write::stage;

/// What `upgrade` and `change module` do differently with the same merge.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub dry_run: bool,
    /// Merge into recorded migrations too (`--migrations`).
    pub migrations: bool,
    /// Print each module's name above its files.
    pub headers: bool,
    /// Take the new output where an edit overlaps it, instead of writing conflict markers.
    pub force: bool,
}

/// Merges new renderings of modules into the tree and the manifest, in memory, then commits
/// everything at once in [`Upgrader::finish`].
pub struct Upgrader<'a> {
    ws: &'a Workspace,
    rules: Rules,
    edits: Edits,
    /// The manifest as it will be written.
    pub manifest: manifest::Manifest,
    /// New output as generated, of the files whose record moves forward.
    pristine: BTreeMap<String, String>,
    /// What happens to each file, as printed.
    lines: Vec<String>,
    /// Files (or lines) left for the user to resolve, with what to do.
    conflicts: Vec<String>,
    /// The modules those belong to.
    conflicted: Vec<String>,
    /// Printed at the end.
    notes: Vec<String>,
}

/// What the three-way merge of one file gives.
enum Outcome {
    /// Write this text and record the new output: label.
    Write(&'static str, String),
    /// Leave the file, record the new output: label.
    Record(&'static str),
    /// Write the text with markers; the record keeps its base.
    Conflict(String),
    /// Leave everything; the reason.
    Blocked(String),
}

impl<'a> Upgrader<'a> {
    pub fn new(ws: &'a Workspace, rules: Rules) -> Self {
        Self {
            ws,
            rules,
            edits: Edits::default(),
            manifest: ws.manifest.clone(),
            pristine: BTreeMap::new(),
            lines: Vec::new(),
            conflicts: Vec::new(),
            conflicted: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Merges `plan`, a new rendering of the recorded `module`, into the files.
    pub fn module(&mut self, module: &str, plan: &Plan, fingerprint: &str) {
        let ws = self.ws;
        let record = &ws.manifest.modules[module];
        let mut next = record.clone();
        let mut clean = true;
        if self.rules.headers {
            self.lines
                .push(format!("{}", console::style(module).bold()));
        }
        let mut rendered = Vec::new();

        for op in &plan.ops {
            let Op::CreateFile { path, content } = op else {
                continue;
            };
            let path = manifest::slash_path(path);
            rendered.push(path.clone());
            let recorded = record.files.get(&path);
            if ws.is_migration(&path) && recorded.is_some() && !self.rules.migrations {
                self.migration_note(module, &path, content);
                continue;
            }
            match self.merge(module, record, &path, content) {
                Outcome::Write(label, text) => {
                    self.lines.push(action_line(label, &path));
                    self.edits.set(ws, &path, Some(text));
                    self.advance(&mut next, &path, content);
                }
                Outcome::Record(label) => {
                    self.lines.push(action_line(label, &path));
                    self.advance(&mut next, &path, content);
                }
                Outcome::Conflict(_) if self.rules.force => {
                    self.lines.push(action_line("overwrite", &path));
                    self.edits.set(ws, &path, Some(content.clone()));
                    self.advance(&mut next, &path, content);
                }
                Outcome::Conflict(text) => {
                    clean = false;
                    self.lines.push(action_line("conflict", &path));
                    self.edits.set(ws, &path, Some(text));
                    next.conflicts.insert(path.clone(), digest::hash(content));
                    self.conflicts.push(format!(
                        "{path}: resolve the conflict markers (ours: your file; original: as \
                         generated; theirs: the current templates)"
                    ));
                }
                Outcome::Blocked(reason) => {
                    clean = false;
                    self.lines.push(action_line("conflict", &path));
                    self.conflicts.push(format!("{path}: {reason}"));
                }
            }
        }

        for (path, hash) in &record.files {
            if rendered.contains(path) || ws.is_migration(path) {
                continue;
            }
            next.files.remove(path);
            next.conflicts.remove(path);
            match self.edits.current(ws, path) {
                None => {}
                Some(text) if digest::hash(&text) == *hash => {
                    self.lines.push(action_line("remove", path));
                    self.edits.set(ws, path, None);
                }
                Some(_) => {
                    self.lines.push(action_line(
                        "keep",
                        &format!(
                            "{path} (no longer generated; edited by hand, so it is yours now)"
                        ),
                    ));
                }
            }
        }

        let mut injections = Vec::new();
        for op in &plan.ops {
            let Op::Inject { path, marker, line } = op else {
                continue;
            };
            let wanted = Injection {
                file: manifest::slash_path(path),
                marker: marker.clone(),
                line: line.clone(),
            };
            let old = record
                .injections
                .iter()
                .find(|i| i.file == wanted.file && i.marker == wanted.marker);
            match self.register(old, &wanted) {
                Ok(()) => injections.push(wanted),
                Err(reason) => {
                    clean = false;
                    self.lines.push(action_line("conflict", &wanted.file));
                    self.conflicts.push(format!("{}: {reason}", wanted.file));
                    injections.extend(old.cloned());
                }
            }
        }
        for old in &record.injections {
            let kept = plan.ops.iter().any(|op| {
                matches!(op, Op::Inject { path, marker, .. }
                    if manifest::slash_path(path) == old.file && *marker == old.marker)
            });
            if kept {
                continue;
            }
            let text = self.edits.current(ws, &old.file);
            if let Some(without) = text.and_then(|t| apply::remove_block(&t, &old.line)) {
                self.lines.push(action_line(
                    "remove",
                    &format!("{} (`{}`)", old.file, old.line),
                ));
                self.edits.set(ws, &old.file, Some(without));
            }
        }
        next.injections = injections;
        if clean {
            next.templates = fingerprint.to_string();
        } else {
            self.conflicted.push(module.to_string());
        }
        self.manifest.modules.insert(module.to_string(), next);
    }

    fn advance(&mut self, record: &mut ModuleRecord, path: &str, output: &str) {
        record.files.insert(path.to_string(), digest::hash(output));
        record.conflicts.remove(path);
        self.pristine.insert(path.to_string(), output.to_string());
    }

    fn merge(&mut self, module: &str, record: &ModuleRecord, path: &str, theirs: &str) -> Outcome {
        let ws = self.ws;
        let ours = self.edits.current(ws, path);
        let Some(recorded) = record.files.get(path) else {
            // New in the templates.
            return match ours {
                None => Outcome::Write("create", theirs.to_string()),
                Some(ours) if ours == theirs => Outcome::Record("identical"),
                Some(_) => Outcome::Blocked(
                    "the templates now generate this file, but one is already there; move it \
                     away and upgrade again"
                        .into(),
                ),
            };
        };
        let Some(ours) = ours else {
            return Outcome::Write("restore", theirs.to_string());
        };
        if ours == theirs {
            return Outcome::Record("identical");
        }
        let base = match ws.pristine(module, path) {
            Some(base) => base,
            None if digest::hash(&ours) == *recorded => ours.clone(),
            None => {
                return Outcome::Blocked(format!(
                    "its pristine copy {} is missing or altered, so there is no merge base; \
                     restore it from version control",
                    manifest::pristine_path(path).display()
                ));
            }
        };
        if base == theirs {
            return Outcome::Record("unchanged");
        }
        if ours == base {
            return Outcome::Write("update", theirs.to_string());
        }
        if let Some(pending) = record.conflicts.get(path) {
            if has_conflict_markers(&ours) {
                return Outcome::Blocked(
                    "still has conflict markers from the last upgrade; resolve them first".into(),
                );
            }
            if *pending == digest::hash(theirs) {
                // The user resolved the conflict of the last upgrade: their file is the result.
                return Outcome::Record("resolved");
            }
        }
        let mut options = MergeOptions::new();
        options.set_conflict_style(ConflictStyle::Diff3);
        match options.merge(&base, &ours, theirs) {
            Ok(merged) => Outcome::Write("merge", merged),
            Err(conflicted) => Outcome::Conflict(conflicted),
        }
    }

    /// Brings one registration line to `wanted`, or says why it cannot.
    fn register(&mut self, old: Option<&Injection>, wanted: &Injection) -> Result<(), String> {
        let ws = self.ws;
        let Some(text) = self.edits.current(ws, &wanted.file) else {
            return Err(format!(
                "file not found; it should hold `{}` above `// {}`",
                wanted.line, wanted.marker
            ));
        };
        let has = |line: &str| apply::find_block(&text, line).is_some();
        let updated = match old {
            Some(old) if old.line != wanted.line && has(&old.line) => {
                let without = apply::remove_block(&text, &old.line).expect("found above");
                Some(("update", without))
            }
            Some(old) if old.line != wanted.line && !has(&wanted.line) => {
                return Err(format!(
                    "the registration line `{}` was changed by hand, and the templates now want \
                     `{}`; make that change yourself, then upgrade again",
                    old.line, wanted.line
                ));
            }
            Some(_) if !has(&wanted.line) => Some(("restore", text.clone())),
            None if !has(&wanted.line) => Some(("inject", text.clone())),
            _ => None,
        };
        if let Some((label, text)) = updated {
            let injected = apply::inject(&text, &wanted.marker, &wanted.line)?;
            self.lines.push(action_line(
                label,
                &format!("{} (`{}`)", wanted.file, wanted.line),
            ));
            self.edits.set(ws, &wanted.file, Some(injected));
        }
        Ok(())
    }

    fn migration_note(&mut self, module: &str, path: &str, theirs: &str) {
        let recorded = &self.ws.manifest.modules[module].files[path];
        if *recorded == digest::hash(theirs) {
            self.lines.push(action_line("identical", path));
            return;
        }
        self.lines
            .push(action_line("skip", &format!("{path} (a migration)")));
        let base = self.ws.pristine(module, path);
        self.notes.push(format!(
            "note: the templates now render {path} differently. It is left alone: a database \
             that applied it would never see the change. Put the difference in a new migration, \
             or, if no database has applied it yet, run `{}`:\n{}",
            crate::input::hints::scaffold(&format!("upgrade {module} --migrations")),
            report::file_diff(Path::new(path), base.as_deref(), Some(theirs)).trim_end()
        ));
    }

    /// Writes everything (or, in a dry run, shows it); `done` is the verb for the summary.
    pub fn finish(self, done: &str) -> anyhow::Result<()> {
        let ws = self.ws;
        let print_lines = || {
            for line in &self.lines {
                println!("{line}");
            }
        };
        let state = self
            .manifest
            .state_changes(&ws.manifest, &self.pristine, ws.root());
        let changes_files = self.edits.changed().next().is_some();
        if self.rules.dry_run {
            print_lines();
            for (path, old, new) in self.edits.changed() {
                print!("{}", report::file_diff(Path::new(path), old, new));
            }
            if !state.is_empty() {
                println!("{}", action_line("record", manifest::FILE));
            }
            for note in &self.notes {
                println!("\n{note}");
            }
            println!();
            match self.conflicts.len() {
                0 => println!("dry run: nothing written"),
                n => println!("dry run: nothing written; {n} file(s) would need resolving by hand"),
            }
            return Ok(());
        }
        let recording = !state.is_empty();
        let (mut writes, mut removals) = self.edits.to_stage(ws.root())?;
        let (state_writes, state_removals) = state.into_stage(ws.root());
        writes.extend(state_writes);
        removals.extend(state_removals);
        stage::commit_all(ws.root(), &writes, &removals)?;
        lifecycle::prune(ws, &removals);
        print_lines();
        if recording {
            println!("{}", action_line("record", manifest::FILE));
        }
        for note in &self.notes {
            println!("\n{note}");
        }
        if !self.conflicts.is_empty() {
            anyhow::bail!(
                "{} conflict(s) to resolve by hand:\n  {}\nthe rest was {done}; once resolved, \
                 run `{}` to record the result",
                self.conflicts.len(),
                self.conflicts.join("\n  "),
                crate::input::hints::scaffold(&format!("upgrade {}", self.conflicted.join(" ")))
            );
        }
        println!();
        if changes_files {
            println!(
                "{done}; review the changes, then run `{}`",
                crate::input::hints::cargo_test()
            );
        } else {
            println!("nothing to change in the files: they are current with the templates");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffy_merges_and_marks_conflicts_as_git_does() {
        let mut options = MergeOptions::new();
        options.set_conflict_style(ConflictStyle::Diff3);
        let base = "a\nb\nc\nd\ne\n";
        assert_eq!(
            options
                .merge(base, "a\nB\nc\nd\ne\n", "a\nb\nc\nD\ne\n")
                .unwrap(),
            "a\nB\nc\nD\ne\n"
        );
        // As in git, changes to neighbouring lines conflict.
        assert!(
            options
                .merge(base, "a\nB\nc\nd\ne\n", "a\nb\nC\nd\ne\n")
                .is_err()
        );
        let base = "a\nb\nc\n";
        let conflict = options.merge(base, "a\nX\nc\n", "a\nY\nc\n").unwrap_err();
        assert!(
            conflict.contains("<<<<<<< ours\nX\n||||||| original\nb\n=======\nY\n>>>>>>> theirs\n"),
            "{conflict}"
        );
        assert!(has_conflict_markers(&conflict));
        // Both sides making the same change is no conflict: a resolved file merges cleanly.
        assert_eq!(
            options.merge(base, "a\nY\nc\n", "a\nY\nc\n").unwrap(),
            "a\nY\nc\n"
        );
    }
}

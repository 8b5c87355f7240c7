//! `scaffold templates list` and `scaffold templates eject`.

use std::path::Path;

use anyhow::{Context as _, bail};

use crate::generate::plan::{Op, Plan};
use crate::generate::render::{Origin, TemplateSet};
use crate::input::cli::Eject;
use crate::input::project::Project;
use crate::write::apply::{self, ConflictPolicy};
use crate::write::report;
use crate::write::stage;

pub fn list(start: &Path) -> anyhow::Result<()> {
    let project = Project::discover(start)?;
    let builtin = TemplateSet::load(true, None)?;
    let effective = TemplateSet::load(
        project.config.templates.builtin,
        project.template_dir().as_deref(),
    )?;
    for name in effective.names() {
        let state = match (effective.origin(name), builtin.source(name)) {
            (Some(Origin::Project(path)), Some(_)) => {
                format!("overridden by {}", relative(&project.root, path))
            }
            (Some(Origin::Project(path)), None) => {
                format!("project only, {}", relative(&project.root, path))
            }
            _ => "built in".to_owned(),
        };
        println!("{name:<28} {state}");
    }
    Ok(())
}

pub fn eject(start: &Path, args: &Eject) -> anyhow::Result<()> {
    let project = Project::discover(start)?;
    let _lock = stage::lock(&project.root)?;
    let dir = project.config.templates.dir.clone().context(
        "scaffold.toml names no template folder; add `[templates]` with \
         `dir = \"scaffold/templates\"` and eject again",
    )?;
    let builtin = TemplateSet::load(true, None)?;
    let names: Vec<&str> = if args.names.is_empty() {
        builtin.names().collect()
    } else {
        args.names.iter().map(String::as_str).collect()
    };
    let unknown: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| builtin.source(name).is_none())
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = builtin.names().collect();
        bail!(
            "no built-in template {}; the built-in templates are: {}",
            unknown.join(", "),
            known.join(", ")
        );
    }
    let plan = Plan {
        ops: names
            .iter()
            .map(|name| Op::CreateFile {
                path: dir.join(name),
                content: builtin.source(name).unwrap_or_default().to_owned(),
            })
            .collect(),
    };
    let mut changes = apply::compare(&plan, &project.root)?;
    let policy = if args.force {
        ConflictPolicy::Overwrite
    } else {
        ConflictPolicy::Refuse
    };
    apply::resolve(&mut changes, policy, None).map_err(|error| match error {
        // The generic advice names --dry-run and a terminal prompt, which eject has not.
        apply::ApplyError::Refused { blocked, .. } => {
            let paths: Vec<String> = blocked
                .iter()
                .map(|(_, path)| format!("  {}", path.display()))
                .collect();
            anyhow::anyhow!(
                "the project has its own version of these templates already:\n{}\nnothing was \
                 changed; `{}` replaces them with the built-in ones",
                paths.join("\n"),
                crate::input::hints::scaffold(&format!(
                    "templates eject {}--force",
                    names_arg(&args.names)
                ))
            )
        }
        error => error.into(),
    })?;
    apply::commit(&project.root, &changes)?;
    report::print_changes(&changes, false);
    println!(
        "\nEdit them in {}: each takes precedence over the built-in template of the same name.",
        dir.display()
    );
    Ok(())
}

/// The template names as given, each followed by a space (nothing for "all of them").
fn names_arg(names: &[String]) -> String {
    names.iter().map(|name| format!("{name} ")).collect()
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

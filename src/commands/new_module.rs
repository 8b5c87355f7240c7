//! `scaffold new module`: spec, plan, apply.

use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use crate::apply::{self, ConflictPolicy};
use crate::cli::NewModule;
use crate::format;
use crate::names::NameRequest;
use crate::plan::{self, MigrationVersion};
use crate::project::Project;
use crate::prompt;
use crate::render::{Renderer, TemplateSet};
use crate::report;
use crate::spec::{ModuleSpec, ProjectFacts, SpecError, SpecRequest};

/// Used when no FIELD is given and nobody can be asked.
const DEFAULT_FIELD: &str = "name:string";

pub fn run(start: &Path, args: &NewModule) -> anyhow::Result<()> {
    let project = Project::discover(start)?;
    let facts = project.facts()?;
    let interactive = !args.yes && prompt::is_interactive();
    let names = NameRequest {
        name: &args.name,
        singular: args.singular.as_deref(),
        plural: args.plural.as_deref(),
    };
    let parse = |fields: &[String]| {
        let request = SpecRequest {
            names,
            fields,
            with_tests: !args.no_tests,
        };
        ModuleSpec::parse(request, &facts)
    };

    let fields = if !args.fields.is_empty() {
        args.fields.clone()
    } else if interactive {
        ask_fields(&facts, &parse)?
    } else {
        vec![DEFAULT_FIELD.to_string()]
    };
    let spec = parse(&fields)?;
    println!("{spec}\n");

    let template_dir = project.template_dir();
    let templates = TemplateSet::load(project.config.templates.builtin, template_dir.as_deref())?;
    let renderer = Renderer::new(templates, &project.inflections)?;
    let mut plan = plan::plan(
        &spec,
        &renderer,
        &project.config,
        &project.migration_files()?,
        MigrationVersion::at(now()?),
    )?;
    format::format_rust(&mut plan, &project.root)?;

    let mut changes = apply::compare(&plan, &project.root)?;
    if args.dry_run {
        report::print_changes(&changes, true);
        report::print_dry_run_summary(&changes);
        return Ok(());
    }
    let mut ask = prompt::ask_conflict;
    let policy = if args.force {
        ConflictPolicy::Overwrite
    } else if interactive {
        ConflictPolicy::Ask(&mut ask)
    } else {
        ConflictPolicy::Refuse
    };
    let module_dir = project.config.paths.modules.join(&spec.names.module);
    let existing_module = project
        .root
        .join(&module_dir)
        .is_dir()
        .then_some(module_dir.as_path());
    apply::resolve(&mut changes, policy, existing_module)?;
    apply::commit(&project.root, &changes)?;
    report::print_changes(&changes, false);
    report::print_next_steps(&changes);
    Ok(())
}

/// Shows the derived names first, so that a surprise there is seen before typing fields.
fn ask_fields(
    facts: &ProjectFacts,
    parse: &dyn Fn(&[String]) -> Result<ModuleSpec, SpecError>,
) -> anyhow::Result<Vec<String>> {
    let names_only = parse(&[])?;
    eprintln!("{names_only}\n");
    let mut modules: Vec<String> = facts.existing_modules.iter().cloned().collect();
    if !modules.contains(&names_only.names.module) {
        modules.push(names_only.names.module.clone());
    }
    let check = |words: &[String]| parse(words).map(drop).map_err(|e| e.to_string());
    let words = prompt::ask_fields(&modules, &check).context("cannot ask for fields")?;
    Ok(if words.is_empty() {
        vec![DEFAULT_FIELD.to_string()]
    } else {
        words
    })
}

/// The time that names a new migration: now, or `SOURCE_DATE_EPOCH` for reproducible output.
fn now() -> anyhow::Result<DateTime<Utc>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(seconds) => seconds
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
            .with_context(|| {
                format!("SOURCE_DATE_EPOCH=`{seconds}` is not a number of seconds since 1970")
            }),
        Err(_) => Ok(Utc::now()),
    }
}

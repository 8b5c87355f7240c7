//! `scaffold new module`: spec, plan, apply; the manifest is updated in the same commit.

use std::path::Path;

use anyhow::Context as _;

use crate::generate::plan::{self, Op};
use crate::generate::render::{Renderer, TemplateSet};
use crate::input::cli::NewModule;
use crate::input::names::NameRequest;
use crate::input::options::ModuleOptions;
use crate::input::project::ProjectFacts;
use crate::input::project::{JsonCase, Project};
use crate::input::prompt;
use crate::input::spec::{ModuleSpec, SpecError, SpecRequest};
use crate::write::apply::{self, ApplyError, ConflictPolicy};
use crate::write::lifecycle::plan_new;
use crate::write::manifest::{self, Manifest, ModuleRecord};
use crate::write::report;
use crate::write::stage;

/// Used when no FIELD is given and nobody can be asked.
const DEFAULT_FIELD: &str = "name:string";

pub fn run(start: &Path, args: &NewModule) -> anyhow::Result<()> {
    let project = Project::discover(start)?;
    let _lock = stage::lock(&project.root)?;
    let recorded = Manifest::load(&project.root)?;
    let mut facts = project.facts()?;
    recorded.add_facts(&mut facts);
    let interactive = !args.yes && prompt::is_interactive();
    let names = NameRequest {
        name: &args.name,
        singular: args.singular.as_deref(),
        plural: args.plural.as_deref(),
    };
    let defaults = project.config.modules;
    let flags = args.options;
    let options = ModuleOptions {
        audit: flags.audit || defaults.audit,
        owned: flags.owned || defaults.owned,
        private: flags.private || defaults.private,
        soft_delete: flags.soft_delete || defaults.soft_delete,
    };
    let parse = |fields: &[String]| {
        let request = SpecRequest {
            names,
            fields,
            with_tests: !args.no_tests,
        };
        ModuleSpec::parse(request, &facts).and_then(|spec| spec.with_options(options))
    };

    let fields = if !args.fields.is_empty() {
        args.fields.clone()
    } else if interactive {
        ask_fields(&facts, &parse)?
    } else {
        vec![DEFAULT_FIELD.to_string()]
    };
    // The key after the fields: at the prompt, its field is not typed yet.
    let spec = parse(&fields)?.with_key(args.key.as_deref())?;
    let previous = recorded.modules.get(&spec.names.module);
    let fields: Vec<String> = spec.fields.iter().map(|field| field.syntax()).collect();
    // Other options (`--no-tests`, say) only change code; other fields or row options would
    // change the table.
    let other_table = |record: &&ModuleRecord| {
        record.words().fields != fields || record.words().options != spec.options
    };
    if let Some(previous) = previous.filter(other_table) {
        let module = &spec.names.module;
        anyhow::bail!(
            "`{module}` exists with other fields: it was generated as `scaffold new module {}`.\n\
             Generating it again would rewrite its migration, which databases may have applied, \
             and drop your edits. Change it instead, which writes a new migration and keeps \
             your edits, e.g.:\n  scaffold change module {module} --add FIELD --remove \
             FIELD_NAME --rename OLD:NEW --alter FIELD --audit --no-soft-delete\nor remove it \
             first with `scaffold destroy module {module}`",
            previous.command
        );
    }
    println!("{spec}");
    // A field's JSON name is the project's setting, whatever case the field was typed in.
    let case = project.config.api.json_case;
    if case == JsonCase::Camel {
        let names: Vec<String> = spec.fields.iter().map(|f| case.name(&f.column())).collect();
        println!("json    {} ([api] json_case = \"camel\")", names.join(", "));
    }
    println!();

    let templates = TemplateSet::load(
        project.config.templates.builtin,
        project.template_dir().as_deref(),
    )?;
    let renderer = Renderer::new(templates, &project.inflections)?;
    let mut plan = plan_new(&spec, &renderer, &project)?;
    if let Some(previous) = previous.filter(|record| record.has_create_history()) {
        // Changed since it was created: its create migration stays as it was generated.
        let words = previous.create_words();
        let mut created = ModuleSpec::parse(words.request(), &facts)?
            .with_options(words.options)?
            .with_key(words.key.as_deref())?;
        created.shape = previous.create_shape();
        if let Some(content) =
            plan::create_migration(&created, &renderer, project.config.api.json_case)?
        {
            plan::replace_create_migration(&mut plan, &project.config.paths.migrations, content);
        }
    }

    let mut changes = apply::compare(&plan, &project.root)?;
    let fingerprint = renderer.templates().fingerprint();
    let mut manifest = recorded.clone();
    let module = spec.names.module.clone();
    let mut record = ModuleRecord::from_plan(&spec, &plan, &fingerprint);
    if let Some(previous) = previous {
        let migrations = &project.config.paths.migrations;
        record.keep_history(previous, |file| {
            Path::new(file).parent() == Some(migrations.as_path())
        });
    }
    manifest.modules.insert(module.clone(), record);
    let pristine = plan
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::CreateFile { path, content } => Some((manifest::slash_path(path), content.clone())),
            Op::Inject { .. } => None,
        })
        .collect();
    let state = manifest.state_changes(&recorded, &pristine, &project.root);
    let record_line = format!(
        "{}  {module} in {}",
        console::style(format!("{:>9}", "record")).bold().green(),
        manifest::FILE
    );
    if args.dry_run {
        report::print_changes(&changes, true);
        if !state.is_empty() {
            println!("{record_line}");
        }
        report::print_dry_run_summary(&changes);
        return Ok(());
    }
    let mut ask = report::ask_conflict;
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
    apply::resolve(&mut changes, policy, existing_module).map_err(|error| {
        let recorded = recorded
            .modules
            .get(&module)
            .is_some_and(|record| record.command == spec.command);
        match error {
            ApplyError::Refused { .. } if recorded => anyhow::anyhow!(
                "{error}\n`{module}` is in {}: `{}` brings it to the current templates and keeps \
                 your edits",
                manifest::FILE,
                crate::input::hints::scaffold(&format!("upgrade {module}"))
            ),
            error => error.into(),
        }
    })?;
    let recording = !state.is_empty();
    let (writes, removals) = state.into_stage(&project.root);
    apply::commit_with(&project.root, &changes, writes, &removals)?;
    report::print_changes(&changes, false);
    if recording {
        println!("{record_line}");
    }
    let module_tests = spec
        .with_tests
        .then(|| crate::input::hints::cargo_test_lib(&project.root, &module));
    report::print_next_steps(&changes, module_tests);
    Ok(())
}

/// Shows the derived names first, so that a surprise there is seen before typing fields.
fn ask_fields(
    facts: &ProjectFacts,
    parse: &dyn Fn(&[String]) -> Result<ModuleSpec, SpecError>,
) -> anyhow::Result<Vec<String>> {
    let names_only = parse(&[])?;
    eprintln!("{names_only}\n");
    let mut modules: Vec<String> = facts
        .existing_modules
        .difference(&facts.links)
        .cloned()
        .collect();
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

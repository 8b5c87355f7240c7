//! `scaffold new link A B`: a module whose rows link A's rows to B's, generated and recorded
//! like any module, from the `link/` templates.

use std::collections::BTreeMap;
use std::path::Path;

use crate::generate::context::ModuleContext;
use crate::generate::format;
use crate::generate::plan::{self, MigrationVersion, Op};
use crate::input::cli::NewLink;
use crate::input::hints::scaffold;
use crate::input::link::{LinkRequest, LinkSpec};
use crate::input::names::{ModuleNames, NameRequest};
use crate::input::prompt;
use crate::input::spec::{ModuleSpec, SpecRequest};
use crate::write::apply::{self, ConflictPolicy};
use crate::write::lifecycle::{Workspace, now};
use crate::write::manifest::{self, ModuleRecord};
use crate::write::report;

pub fn run(start: &Path, args: &NewLink) -> anyhow::Result<()> {
    let ws = Workspace::open_locked(start)?;
    let request = LinkRequest {
        a: &args.a,
        b: &args.b,
        directions: args.directions.as_deref(),
        allow_self: args.allow_self,
    };
    let default_name = default_name(&ws, &request);
    let name = args.name.as_deref().unwrap_or(&default_name);
    let spec = ModuleSpec::parse(
        SpecRequest {
            names: NameRequest::new(name),
            fields: &args.fields,
            with_tests: !args.no_tests,
        },
        &ws.facts,
    )?
    .into_link(&request, &ws.facts)?;
    let link = spec.link.as_ref().expect("into_link makes a link");
    refuse_what_cannot_be_linked(&ws, &spec, link)?;
    println!("{spec}\n");

    let project = &ws.project;
    let renderer = ws.renderer()?;
    let mut plan = plan::plan(
        &spec,
        &renderer,
        &project.config,
        &project.migration_files()?,
        MigrationVersion::at(now()?),
    )?;
    format::format_rust(&mut plan, &project.root, renderer.templates())?;

    let mut changes = apply::compare(&plan, &project.root)?;
    let fingerprint = renderer.templates().fingerprint();
    let recorded = &ws.manifest;
    let mut manifest = recorded.clone();
    let module = spec.names.module.clone();
    manifest.modules.insert(
        module.clone(),
        ModuleRecord::from_plan(&spec, &plan, &fingerprint),
    );
    let pristine = plan
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::CreateFile { path, content } => Some((manifest::slash_path(path), content.clone())),
            Op::Inject { .. } => None,
        })
        .collect();
    let state = manifest.state_changes(recorded, &pristine, &project.root);
    let record_line = format!(
        "{}  {module} in {}",
        console::style(format!("{:>9}", "record")).bold().green(),
        manifest::FILE
    );
    if args.dry_run {
        report::print_changes(&changes, true);
        println!("{record_line}");
        report::print_dry_run_summary(&changes);
        return Ok(());
    }
    let interactive = !args.yes && prompt::is_interactive();
    let mut ask = report::ask_conflict;
    let policy = if args.force {
        ConflictPolicy::Overwrite
    } else if interactive {
        ConflictPolicy::Ask(&mut ask)
    } else {
        ConflictPolicy::Refuse
    };
    let module_dir = project.config.paths.modules.join(&module);
    let existing_module = project
        .root
        .join(&module_dir)
        .is_dir()
        .then_some(module_dir.as_path());
    apply::resolve(&mut changes, policy, existing_module)?;
    let (writes, removals) = state.into_stage(&project.root);
    apply::commit_with(&project.root, &changes, writes, &removals)?;
    report::print_changes(&changes, false);
    println!("{record_line}");
    report::print_next_steps(&changes);
    Ok(())
}

/// `<a_singular>_<b>` when both sides are names at all; otherwise A's word, whose error
/// `into_link` then reports.
fn default_name(ws: &Workspace, request: &LinkRequest) -> String {
    let derive = |word: &str| ModuleNames::derive(NameRequest::new(word), &ws.project.inflections);
    match (derive(request.a), derive(request.b)) {
        (Ok(a), Ok(b)) => LinkSpec::default_name(&a, &b),
        _ => request.a.to_owned(),
    }
}

/// What only the manifest can tell: an existing link, a side that is a link, a side without
/// tests, a field or route that would collide with a side's.
fn refuse_what_cannot_be_linked(
    ws: &Workspace,
    spec: &ModuleSpec,
    link: &LinkSpec,
) -> anyhow::Result<()> {
    let module = &spec.names.module;
    if let Some(record) = ws.manifest.modules.get(module) {
        let what = if record.words().link.is_some() {
            "a link"
        } else {
            "a module"
        };
        anyhow::bail!(
            "`{module}` exists already, {what} generated from `{}`; change its fields with \
             `{}`, or name this link otherwise with --name\nnothing was changed",
            record.command,
            scaffold(&format!("change module {module} --add FIELD"))
        );
    }
    for side in [&link.a, &link.b] {
        let Some(record) = ws.manifest.modules.get(&side.module) else {
            anyhow::bail!(
                "`{}` is not in {}: a link uses the types and test samples scaffold generates \
                 for its sides, so both must be modules it generated\nnothing was changed",
                side.module,
                manifest::FILE
            );
        };
        let words = record.words();
        if words.link.is_some() {
            anyhow::bail!(
                "`{}` is a link: its rows are pairs with no id of their own to link to; link \
                 the modules it joins instead\nnothing was changed",
                side.module
            );
        }
        if spec.with_tests && !words.with_tests {
            anyhow::bail!(
                "`{}` was generated with --no-tests, and the link's tests create its rows with \
                 its tests' `sample`; add --no-tests to this link, or give `{}` its tests \
                 (`{}`)\nnothing was changed",
                side.module,
                side.module,
                scaffold(&format!(
                    "new module {}",
                    record.command.replace(" --no-tests", "")
                ))
            );
        }
        let side_spec = ws.spec(&side.module).map_err(anyhow::Error::msg)?;
        for field in &spec.fields {
            let column = field.column();
            if side_spec
                .fields
                .iter()
                .any(|theirs| theirs.column() == column)
            {
                anyhow::bail!(
                    "the link's field `{column}` would share its name with `{}`'s, and the \
                     link's lists show both side by side; rename the link's field\nnothing \
                     was changed",
                    side.module
                );
            }
        }
    }
    let ours = [
        (&link.a, &link.forward.route),
        (&link.b, &link.backward.route),
    ];
    let taken = nested_routes(ws);
    for (side, segment) in ours {
        let route = format!("/api/{}/{{id}}/{segment}", side.route);
        if let Some(owner) = taken.get(&route) {
            anyhow::bail!(
                "`{owner}` serves {route} already; name this link's two directions otherwise \
                 with --as FORWARD:BACKWARD (now {}:{})\nnothing was changed",
                link.forward.name,
                link.backward.name
            );
        }
    }
    Ok(())
}

/// Every `/api/<a>/{id}/<b>` route the recorded modules serve, and the module serving it.
fn nested_routes(ws: &Workspace) -> BTreeMap<String, String> {
    let mut routes = BTreeMap::new();
    for module in ws.manifest.modules.keys() {
        let Ok(spec) = ws.spec(module) else {
            continue;
        };
        if let Some(link) = &spec.link {
            for (side, segment) in [
                (&link.a, &link.forward.route),
                (&link.b, &link.backward.route),
            ] {
                routes.insert(
                    format!("/api/{}/{{id}}/{segment}", side.route),
                    module.clone(),
                );
            }
            continue;
        }
        for field in ModuleContext::new(&spec).fields {
            if let Some(route) = field.nested_route {
                routes.insert(route, module.clone());
            }
        }
    }
    routes
}

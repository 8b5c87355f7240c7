//! `scaffold upgrade`: renders modules again from their recorded commands with the current
//! templates and merges the output into the files ([`crate::write::merge`]).

use std::path::Path;

use crate::generate::plan::{self, MigrationVersion, Op};
use crate::generate::spec_diff;
use crate::input::cli::Upgrade;
use crate::input::spec::TABLE_SHAPE;
use crate::write::lifecycle::{self, Workspace};
use crate::write::manifest;
use crate::write::merge::{Rules, Upgrader};

pub fn run(start: &Path, args: &Upgrade) -> anyhow::Result<()> {
    let ws = Workspace::open_locked(start)?;
    let mut modules: Vec<String> = if args.all {
        ws.manifest.modules.keys().cloned().collect()
    } else {
        args.modules
            .iter()
            .map(|name| ws.find(name))
            .collect::<anyhow::Result<_>>()?
    };
    modules.sort();
    modules.dedup();
    if modules.is_empty() {
        println!("nothing to upgrade: {} records no modules", manifest::FILE);
        return Ok(());
    }
    let renderer = ws.renderer()?;
    let fingerprint = renderer.templates().fingerprint();
    let plans = ws.render(&renderer, &modules)?;

    let rules = Rules {
        dry_run: args.dry_run,
        migrations: args.migrations,
        headers: args.all || modules.len() > 1,
        force: false,
    };
    let existing = ws.project.migration_files()?;
    let mut version = plan::next_version(&existing, MigrationVersion::at(lifecycle::now()?));
    let mut upgrade = Upgrader::new(&ws, rules);
    for module in &modules {
        let mut plan = match &plans[module] {
            Ok(plan) => plan.clone(),
            Err(error) => {
                anyhow::bail!("cannot render `{module}` again: {error}\nnothing was changed")
            }
        };
        // The templates' table shape has moved on since the module was created: the code
        // now expects the new columns, so a migration adds them.
        let old = ws
            .spec(module)
            .map_err(|error| anyhow::anyhow!("`{module}`: {error}"))?;
        let migration = spec_diff::shape_migration(&old, TABLE_SHAPE);
        if let Some(content) = migration.clone() {
            let name = format!("{}_upgrade_{module}.sql", version.0);
            version = MigrationVersion(version.0 + 1);
            plan.ops.push(Op::CreateFile {
                path: ws.project.config.paths.migrations.join(name),
                content,
            });
        }
        upgrade.module(module, &plan, &fingerprint);
        if let (Some(_), Some(record)) = (migration, upgrade.manifest.modules.get_mut(module)) {
            record.reshape(TABLE_SHAPE);
        }
    }
    upgrade.finish("upgraded")
}

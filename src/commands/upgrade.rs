//! `scaffold upgrade`: renders modules again from their recorded commands with the current
//! templates and merges the output into the files ([`crate::write::merge`]).

use std::path::Path;

use crate::input::cli::Upgrade;
use crate::write::lifecycle::Workspace;
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
    let mut upgrade = Upgrader::new(&ws, rules);
    for module in &modules {
        let plan = match &plans[module] {
            Ok(plan) => plan,
            Err(error) => {
                anyhow::bail!("cannot render `{module}` again: {error}\nnothing was changed")
            }
        };
        upgrade.module(module, plan, &fingerprint);
    }
    upgrade.finish("upgraded")
}

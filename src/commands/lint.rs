//! `scaffold lint`: the layering rules of `crate::lint` over a whole project.

use std::path::{Path, PathBuf};

use crate::lint;
use crate::project::Project;

/// Where modules live when there is no scaffold.toml to say.
const DEFAULT_MODULES: &str = "src/modules";

pub fn run(start: &Path) -> anyhow::Result<()> {
    let (root, modules) = match Project::discover(start) {
        Ok(project) => (project.root, project.config.paths.modules),
        Err(_) => (start.to_path_buf(), PathBuf::from(DEFAULT_MODULES)),
    };
    let findings = lint::check_tree(&root, &modules).map_err(anyhow::Error::msg)?;
    for finding in &findings {
        println!("{finding}");
    }
    if !findings.is_empty() {
        anyhow::bail!(
            "scaffold lint found {} violation(s) of the layering rules, listed above",
            findings.len()
        );
    }
    println!(
        "scaffold lint: ok, {} follows the layering rules",
        root.display()
    );
    Ok(())
}

//! `scaffold lint`: the layering rules of `crate::lint` over a whole project.

use std::path::{Path, PathBuf};

use crate::input::project::{CONFIG_FILE, Project, ProjectError};
use crate::lint;

/// Where modules and tenant migrations live when there is no scaffold.toml to say.
const DEFAULT_MODULES: &str = "src/modules";
const DEFAULT_MIGRATIONS: &str = "migrations/tenant";

/// Lints the project found from `start`. A folder without a project is linted only when it
/// was named with `-C` (`explicit`): otherwise `scaffold lint` typed in the wrong folder would
/// report the rules against whatever code is there, or call an empty folder clean.
pub fn run(start: &Path, explicit: bool) -> anyhow::Result<()> {
    let (root, modules, migrations) = match Project::discover(start) {
        Ok(project) => (
            project.root,
            project.config.paths.modules,
            project.config.paths.migrations,
        ),
        Err(ProjectError::NotFound(_)) if explicit => (
            start.to_path_buf(),
            PathBuf::from(DEFAULT_MODULES),
            PathBuf::from(DEFAULT_MIGRATIONS),
        ),
        Err(error) => {
            return Err(anyhow::anyhow!(
                "{error}; to lint a folder that has no {CONFIG_FILE}, name it: `scaffold -C \
                 <dir> lint`"
            ));
        }
    };
    let findings = lint::check_tree(&root, &modules, &migrations).map_err(anyhow::Error::msg)?;
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

//! The command line, declared once with clap derive. Clap exits with 2 on usage errors.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "scaffold",
    version,
    about = "Generates layered feature modules for a multi-tenant Axum + PostgreSQL server",
    after_help = "The project is found by walking up from the current folder (or -C DIR) to \
                  a scaffold.toml.\n\nExample:\n  scaffold new module projects name:string \
                  description:text?"
)]
pub struct Cli {
    /// Run as if started in DIR
    #[arg(short = 'C', value_name = "DIR", global = true)]
    pub dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate something new
    #[command(subcommand)]
    New(New),
}

#[derive(Debug, Subcommand)]
pub enum New {
    /// Generate a feature module: model, schemas, service, router, tests and migration
    #[command(after_help = NEW_MODULE_HELP)]
    Module(NewModule),
}

const NEW_MODULE_HELP: &str = "\
FIELD is name:type[?][:unique][:index]
  ?        optional (nullable)
  :unique  no two rows may share the value (a duplicate is answered with 409)
  :index   add an index for lookups and sorting

Types:
  string, string(N)  text up to N characters (default 200)
  text               text of any length
  int, bigint        32- and 64-bit integers
  float              64-bit floating point
  decimal            exact number (NUMERIC), e.g. money
  bool, uuid, date   as named
  datetime           point in time, stored as TIMESTAMPTZ
  json               any JSON document (JSONB)
  enum(a,b,c)        one of the values; a TEXT column with a CHECK and a Rust enum
  ref(module)        the id of a row of another module (or this one); field `<name>_id`

Every module also has id, created_at and updated_at.

Examples:
  scaffold new module projects name:string description:text?
  scaffold new module tasks title:string(120) done:bool 'status:enum(todo,doing,done)' \\
      'project:ref(projects)' due:date?
  scaffold new module categories name:string:unique 'parent:ref(categories)?'
  scaffold new module people --singular person name:string
  scaffold new module invoices total:decimal --dry-run

Quote fields containing ?, ( or ) so the shell leaves them alone.";

#[derive(Debug, Args)]
pub struct NewModule {
    /// Module name in any case and number: projects, Project, user-profiles, UserProfile
    pub name: String,

    /// Fields as name:type[?][:unique][:index]; asked for on a terminal if none are given
    #[arg(value_name = "FIELD")]
    pub fields: Vec<String>,

    /// Print what would be written, with diffs, and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Overwrite files that differ from the generated ones
    #[arg(long)]
    pub force: bool,

    /// Never ask: no field prompts (a single name:string field), conflicts are errors
    /// unless --force
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Singular form of the name, when the inflector gets it wrong (person)
    #[arg(long, value_name = "S")]
    pub singular: Option<String>,

    /// Plural form of the name, when the inflector gets it wrong (people)
    #[arg(long, value_name = "P")]
    pub plural: Option<String>,

    /// Do not generate the module's tests
    #[arg(long)]
    pub no_tests: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}

//! The command line, declared once with clap derive. Clap exits with 2 on usage errors.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "scaffold",
    version,
    about = "Generates layered feature modules for a multi-tenant Axum + PostgreSQL server",
    after_help = "The project is found by walking up from the current folder (or -C DIR) to \
                  a scaffold.toml.\n\nExamples:\n  scaffold new module projects name:string \
                  description:text?\n  scaffold change module projects --add \
                  priority:int=0\n  scaffold list\n  scaffold check\n  scaffold upgrade \
                  --all\n  scaffold destroy module projects"
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
    #[command(subcommand, after_help = NEW_HELP)]
    New(New),

    /// Show the generated modules: fields, and whether each is pristine, edited by hand or
    /// behind the current templates
    #[command(after_help = LIST_HELP)]
    List,

    /// Check, for CI, that the generated modules match the manifest and the current
    /// templates; exit 1 with one line per problem
    #[command(after_help = CHECK_HELP)]
    Check,

    /// Bring modules forward to the current templates, keeping hand edits (three-way merge)
    #[command(after_help = UPGRADE_HELP)]
    Upgrade(Upgrade),

    /// Change something generated: its fields, with a migration, keeping hand edits
    #[command(subcommand, after_help = CHANGE_HELP)]
    Change(Change),

    /// Remove something generated
    #[command(subcommand, after_help = DESTROY_HELP)]
    Destroy(Destroy),

    /// List the templates, or copy the built-in ones into the project to edit them
    #[command(subcommand, after_help = TEMPLATES_HELP)]
    Templates(Templates),

    /// Check the backend guide's layering rules on the project's Rust
    #[command(after_help = LINT_HELP)]
    Lint,

    /// Print a shell completion script
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum Templates {
    /// Every template, and whether the project overrides it
    #[command(after_help = "Example:\n  scaffold templates list")]
    List,
    /// Copy built-in templates into the project's template folder, where they take precedence
    #[command(after_help = TEMPLATES_EJECT_HELP)]
    Eject(Eject),
}

const NEW_HELP: &str = "\
Examples:
  scaffold new module tasks title:string done:bool
  scaffold new link projects tags
  scaffold new app billing-api";

const DESTROY_HELP: &str = "\
Example:
  scaffold destroy module tasks --dry-run";

const TEMPLATES_HELP: &str = "\
Examples:
  scaffold templates list
  scaffold templates eject module/service.rs.tera";

const TEMPLATES_EJECT_HELP: &str = "\
The folder is [templates] dir in scaffold.toml. An ejected template overrides the built-in one
of the same name file by file; delete it to go back. Templates see the context described in
scaffold's docs/onboarding.md (names, fields, permissions) and the filters snake, pascal,
kebab, plural, singular and use_lines.

Examples:
  scaffold templates eject                       # all of them
  scaffold templates eject module/router.rs.tera
  scaffold templates eject module/tests.rs.tera --force";

#[derive(Debug, Args)]
pub struct Eject {
    /// Template names as `templates list` shows them; all built-in templates when none
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Overwrite templates the project already has
    #[arg(long)]
    pub force: bool,
}

const LINT_HELP: &str = "\
Rules, each reported as `file:line: rule: message`:
  service-imports-web       a module's service.rs uses axum, tower, http or hyper
  router-bypasses-service   a module's router.rs runs SQL or calls models directly
  tenant-from-client        a deserialized schema has a `tenant` or `tenant_id` field
  route-without-permission  a #[utoipa::path] handler takes no Authorized<_> argument
  session-search-path       SQL sets search_path for the session, not the transaction

The project is the one whose scaffold.toml is found (its [paths] modules says where modules
are). A folder without one is linted only when named with -C, with modules in src/modules.
Files under target/ and hidden folders are skipped. A file that cannot be parsed is reported
as a finding, and the other files are still checked. Exit status: 0 when clean, 1 with one
line per finding.

Examples:
  scaffold lint
  scaffold -C examples/server lint";

const COMPLETIONS_HELP: &str = "\
Examples:
  scaffold completions bash > ~/.local/share/bash-completion/completions/scaffold
  scaffold completions zsh > ~/.zfunc/_scaffold
  scaffold completions fish > ~/.config/fish/completions/scaffold.fish";

const LIST_HELP: &str = "\
A module is pristine when every file and registration line is as generated, edited by hand
when a file differs from its generated version (which is fine), behind the templates when
the current templates would render it differently, and incomplete when a generated file or
line is missing.

Example:
  scaffold list";

const CHECK_HELP: &str = "\
Problems: a module behind the current templates, a generated file or registration line that
is missing, unresolved upgrade conflicts, a module folder the manifest does not know, a
recorded module whose folder is gone. Files edited by hand are not a problem.

Exit status: 0 with one summary line when all is well, 1 with one line per problem.

Example (CI):
  scaffold -C examples/server check";

const UPGRADE_HELP: &str = "\
Each module is rendered again from its recorded command with the current templates, and each
file is merged three ways: the output as generated (kept in .scaffold/pristine) is the base,
the file on disk is ours, the new output is theirs. Hand edits survive; where they overlap a
template change, the file gets git-style conflict markers, upgrade lists it and exits 1.
Resolve the markers, then run upgrade again to record the result.

Migrations are history: a database that applied one never sees later changes to it, so
upgrade leaves them alone and shows what the templates would change (see --migrations).

Examples:
  scaffold upgrade --all --dry-run
  scaffold upgrade projects
  scaffold upgrade --all";

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["modules", "all"])))]
pub struct Upgrade {
    /// Modules to upgrade, in any case and number
    #[arg(value_name = "MODULE")]
    pub modules: Vec<String>,

    /// Upgrade every module in the manifest
    #[arg(long)]
    pub all: bool,

    /// Show what would change, with diffs, and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Merge template changes into migrations too; only for migrations that no database
    /// has applied yet
    #[arg(long)]
    pub migrations: bool,
}

const CHANGE_HELP: &str = "\
Examples:
  scaffold change module tasks --add priority:int=0 --rename title:name
  scaffold change module tasks --alter 'status:enum(open,done,archived)' --dry-run";

#[derive(Debug, Subcommand)]
pub enum Change {
    /// Add, remove, rename or alter a module's fields: a new migration, and the module's files
    /// rendered again and merged with your edits
    #[command(after_help = CHANGE_MODULE_HELP)]
    Module(ChangeModule),
}

const CHANGE_MODULE_HELP: &str = "\
Every edit of one command goes into one new migration, <version>_change_<table>.sql, which
runs in each tenant's schema inside the migration runner's transaction; migrations that
exist are never edited. The module's files are rendered again from the new field list and
merged three ways with the files as they are (as `scaffold upgrade` does): hand edits stay,
overlapping ones get conflict markers, the command lists them and exits 1.

FIELD is the usual name:type[?][:unique][:index][:writeonly][=DEFAULT]. A required field added to a
table that may hold rows needs a default (=VALUE); so does making an optional field required.
Compatible type changes: string(N) to any length, string/text/enum among each other (the
rows are checked against the new rule), int to bigint, float or decimal, bigint to decimal.
Anything else is refused with what to do instead. Removing a field drops its data: it asks
on a terminal and needs --yes otherwise.

Examples:
  scaffold change module tasks --add priority:int=0 --add 'due_on:date?'
  scaffold change module tasks --rename title:name --alter 'name:string(300)'
  scaffold change module tasks --alter 'status:enum(open,doing,done)=open'
  scaffold change module tasks --add 'project:ref(projects)?' --remove legacy_code --yes
  scaffold change module tasks --alter priority:bigint --dry-run
  scaffold change module articles --key slug";

#[derive(Debug, Args)]
pub struct ChangeModule {
    /// Module name, in any case and number
    pub name: String,

    /// Add a field (name:type[?][:unique][:index][:writeonly][=DEFAULT])
    #[arg(long, value_name = "FIELD")]
    pub add: Vec<String>,

    /// Remove a field and its column (its data is dropped)
    #[arg(long, value_name = "FIELD_NAME")]
    pub remove: Vec<String>,

    /// Rename a field; its column, constraints and index follow
    #[arg(long, value_name = "OLD:NEW")]
    pub rename: Vec<String>,

    /// Give a field a new definition, in full (name:type[?][:unique][:index][:writeonly][=DEFAULT])
    #[arg(long, value_name = "FIELD")]
    pub alter: Vec<String>,

    /// Print the migration and the diffs, and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Never ask: confirms removals; conflicts are left as markers
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Where a hand edit overlaps the change, take the generated version (the edit is lost)
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub options: OptionFlags,

    /// Turn --audit off: drops created_by and updated_by
    #[arg(long, conflicts_with = "audit")]
    pub no_audit: bool,
    /// Turn --owned off: drops owner_id; every writer may change every row again
    #[arg(long, conflicts_with = "owned")]
    pub no_owned: bool,
    /// Turn --private off: every reader sees every row again
    #[arg(long, conflicts_with = "private")]
    pub no_private: bool,
    /// Turn --soft-delete off: deletes the rows it kept and drops deleted_at
    #[arg(long, conflicts_with = "soft_delete")]
    pub no_soft_delete: bool,

    /// Name rows by this field in their routes instead of by id (a required string(N):unique
    /// field); a route change, no migration
    #[arg(long, value_name = "FIELD")]
    pub key: Option<String>,
    /// Name rows by id in their routes again
    #[arg(long, conflicts_with = "key")]
    pub no_key: bool,
}

impl ChangeModule {
    /// The option flags given: those turned on, those turned off.
    pub fn option_flags(&self) -> (Vec<&'static str>, Vec<&'static str>) {
        let o = &self.options;
        let pick = |flags: [(bool, &'static str); 4]| {
            flags
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, f)| *f)
                .collect()
        };
        (
            pick([
                (o.audit, "--audit"),
                (o.owned, "--owned"),
                (o.private, "--private"),
                (o.soft_delete, "--soft-delete"),
            ]),
            pick([
                (self.no_audit, "--audit"),
                (self.no_owned, "--owned"),
                (self.no_private, "--private"),
                (self.no_soft_delete, "--soft-delete"),
            ]),
        )
    }
}

#[derive(Debug, Subcommand)]
pub enum Destroy {
    /// Remove a generated module: its files, registration lines, migration and manifest entry
    #[command(after_help = DESTROY_MODULE_HELP)]
    Module(DestroyModule),
}

const DESTROY_MODULE_HELP: &str = "\
Files edited by hand are listed and kept unless --force. A module that another module refers
to (a ref field) cannot be destroyed before that one. Databases are not touched: a database
that applied the module's migration keeps its table.

Examples:
  scaffold destroy module tasks --dry-run
  scaffold destroy module tasks
  scaffold destroy module tasks --force";

#[derive(Debug, Args)]
pub struct DestroyModule {
    /// Module name, in any case and number
    pub name: String,

    /// Show what would be removed, with diffs, and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Remove files edited by hand too
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum New {
    /// Generate a feature module: model, schemas, service, router, tests and migration
    #[command(after_help = NEW_MODULE_HELP)]
    Module(NewModule),
    /// Create a new multi-tenant server project, ready for `new module`
    #[command(after_help = NEW_APP_HELP)]
    App(NewApp),
    /// Link the rows of two modules, many to many, with fields of the link's own: a table of
    /// pairs and the routes that link, unlink and list them under each side
    #[command(after_help = NEW_LINK_HELP)]
    Link(NewLink),
}

const NEW_LINK_HELP: &str = "\
The link is a module of its own (recorded in the manifest, known to list, check, upgrade,
destroy, change module and lint). Its table holds <a>_id and <b>_id (foreign keys, ON DELETE
CASCADE both ways), the fields, and created_at; its primary key is the pair. Routes:
  PUT    /api/<a>/{id}/<b>/{b_id}   link, or change the link's fields (201, then 200)
  DELETE /api/<a>/{id}/<b>/{b_id}   unlink (204; 404 if not linked)
  GET    /api/<a>/{id}/<b>          the linked B rows with the link's fields, as a list
  GET    /api/<b>/{id}/<a>          the other direction (PUT and DELETE there too)
and ?counts=<b> on A's list and GET (?counts=<a> on B's) adds <b>_count to each row.
Permissions: <name>:read and <name>:write; a list also needs read on the side it lists.

FIELD is the usual name:type[?][:unique][:index][:writeonly][=DEFAULT] (see `scaffold new module --help`).

Examples:
  scaffold new link projects tags
  scaffold new link projects users 'role:enum(owner,member)=member' --name memberships \\
      --as members:projects
  scaffold new link people people --as followers:following
  scaffold new link articles tags --dry-run";

#[derive(Debug, Args)]
pub struct NewLink {
    /// One side: a module, in any case and number
    pub a: String,

    /// The other side (the same as A for a self link, which needs --as)
    pub b: String,

    /// The link's own fields, as name:type[?][:unique][:index][=DEFAULT]
    #[arg(value_name = "FIELD")]
    pub fields: Vec<String>,

    /// The link's name: its module, table and permissions (default: <a_singular>_<b>,
    /// `project_tags`)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// The names of the two directions, as path segments and counts: B rows under A, then A
    /// rows under B (`followers:following`)
    #[arg(long = "as", value_name = "FORWARD:BACKWARD")]
    pub directions: Option<String>,

    /// A self link may link a row to itself
    #[arg(long)]
    pub allow_self: bool,

    /// Print what would be written, with diffs, and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Overwrite files that differ from the generated ones
    #[arg(long)]
    pub force: bool,

    /// Never ask: conflicts are errors unless --force
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Do not generate the link's tests
    #[arg(long)]
    pub no_tests: bool,
}

const NEW_APP_HELP: &str = "\
The project is the reference server this scaffold was built with (examples/server): the
request pipeline, tenants, migrations, the test harness and its `projects` module with tests,
renamed to NAME throughout. It is a Cargo project of its own and builds anywhere.

Examples:
  scaffold new app billing
  scaffold new app billing --dir services/billing
  cd billing && cargo test";

#[derive(Debug, Args)]
pub struct NewApp {
    /// The crate and binary name: lower-case letters, digits, - and _, starting with a letter
    pub name: String,

    /// Where to create it (default: ./NAME); it must not exist or be empty
    // Its own id: `dir` is the global -C, and clap would merge the two.
    #[arg(long = "dir", id = "app_dir", value_name = "DIR")]
    pub into: Option<PathBuf>,
}

const NEW_MODULE_HELP: &str = "\
FIELD is name:type[?][:unique][:index][:writeonly][=DEFAULT]
  ?         optional (nullable)
  :unique   no two rows may share the value (a duplicate is answered with 409)
  :index    add an index for lookups and sorting
  :writeonly  accepted and stored, never returned, filtered or sorted on
  =DEFAULT  the value a create request that leaves the field out gets (priority:int=0,
            status:enum(open,done)=open); also the column's DEFAULT

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
  secret, secret(N)  a password: 8 to N characters (default 128), stored as an Argon2id
                     hash in `<name>_hash`, never returned; the service gets verify_<name>

Every module also has id, created_at and updated_at.

Examples:
  scaffold new module projects name:string description:text?
  scaffold new module tasks title:string(120) done:bool 'status:enum(todo,doing,done)' \\
      'project:ref(projects)' due:date?
  scaffold new module categories name:string:unique 'parent:ref(categories)?'
  scaffold new module people --singular person name:string
  scaffold new module articles 'slug:string(80):unique' title:string --key slug
  scaffold new module invoices total:decimal --dry-run

Quote fields containing ?, ( or ) so the shell leaves them alone.";

#[derive(Debug, Args)]
pub struct NewModule {
    /// Module name in any case and number: projects, Project, user-profiles, UserProfile
    pub name: String,

    /// Fields as name:type[?][:unique][:index][:writeonly][=DEFAULT]; asked for on a terminal if none are
    /// given
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

    #[command(flatten)]
    pub options: OptionFlags,

    /// Name rows by this field in their routes (/api/articles/{slug}) instead of by id: a
    /// required string(N):unique field
    #[arg(long, value_name = "FIELD")]
    pub key: Option<String>,
}

/// Who did what with a module's rows; each may be on by default in scaffold.toml's [modules].
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct OptionFlags {
    /// Record who created and last changed each row (created_by, updated_by: the token's sub)
    #[arg(long)]
    pub audit: bool,
    /// Rows belong to their creator (owner_id): only the owner or a holder of <module>:admin
    /// changes or deletes one; implies --audit
    #[arg(long)]
    pub owned: bool,
    /// As --owned, and other users do not see the row at all; implies --owned
    #[arg(long)]
    pub private: bool,
    /// DELETE marks rows (deleted_at); POST /api/<module>/{id}/restore brings them back
    #[arg(long)]
    pub soft_delete: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// docs/onboarding.md promises it: `--help` of every command, at every level, ends with
    /// examples.
    #[test]
    fn every_help_ends_with_examples() {
        fn visit(command: &mut clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", command.get_name());
            let help = command.render_long_help().to_string();
            if !help.contains("\nExample") {
                missing.push(path.clone());
            }
            for sub in command.get_subcommands_mut() {
                if sub.get_name() != "help" {
                    visit(sub, &path, missing);
                }
            }
        }
        let mut missing = Vec::new();
        let mut command = Cli::command();
        command.build();
        visit(&mut command, "", &mut missing);
        assert!(
            missing.is_empty(),
            "no examples in the help of: {missing:?}"
        );
    }
}

//! One module per subcommand; each takes its parsed arguments and returns a user-facing error.

mod change_module;
mod check;
mod destroy;
mod lint;
mod list;
mod new_app;
mod new_link;
mod new_module;
mod templates;
mod upgrade;

use std::path::PathBuf;

use crate::input::cli::{Change, Cli, Command, Destroy, New, Templates};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    crate::input::hints::init(cli.dir.as_deref());
    let explicit_dir = cli.dir.is_some();
    let start = cli.dir.unwrap_or_else(|| PathBuf::from("."));
    match cli.command {
        Command::New(New::Module(args)) => new_module::run(&start, &args),
        Command::New(New::App(args)) => new_app::run(&start, &args),
        Command::New(New::Link(args)) => new_link::run(&start, &args),
        Command::List => list::run(&start),
        Command::Check => check::run(&start),
        Command::Upgrade(args) => upgrade::run(&start, &args),
        Command::Change(Change::Module(args)) => change_module::run(&start, &args),
        Command::Destroy(Destroy::Module(args)) => destroy::run(&start, &args),
        Command::Templates(Templates::List) => templates::list(&start),
        Command::Templates(Templates::Eject(args)) => templates::eject(&start, &args),
        Command::Lint => lint::run(&start, explicit_dir),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "scaffold", &mut std::io::stdout());
            Ok(())
        }
    }
}

//! One module per subcommand; each takes its parsed arguments and returns a user-facing error.

mod new_module;

use std::path::PathBuf;

use crate::cli::{Cli, Command, New};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let start = cli.dir.unwrap_or_else(|| PathBuf::from("."));
    match cli.command {
        Command::New(New::Module(args)) => new_module::run(&start, &args),
    }
}

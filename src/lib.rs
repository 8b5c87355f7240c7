//! `scaffold`: generates layered feature modules for a multi-tenant Axum + PostgreSQL server.
//!
//! Data flows one way, each step a plain function: the command line becomes a
//! [`spec::ModuleSpec`] (parse), templates render it into a [`plan::Plan`] (plan), and
//! [`apply`] compares the plan with the disk and writes it all or nothing (apply).
//!
//! What was generated is recorded in a [`manifest`]; [`lifecycle`] compares it with the tree
//! and with what the current templates render, for `list`, `check`, `upgrade` and `destroy`.

pub mod apply;
pub mod cli;
pub mod commands;
pub mod context;
pub mod fields;
pub mod format;
pub mod hints;
pub mod idents;
pub mod lifecycle;
pub mod lint;
pub mod manifest;
pub mod names;
pub mod plan;
pub mod project;
pub mod prompt;
pub mod render;
pub mod report;
pub mod spec;
pub mod stage;
pub mod suggest;

use std::process::ExitCode;

use clap::Parser;

/// Runs the command line: 0 on success, 1 on an error the user can fix (explained on
/// stderr), 2 on a usage error (clap's own).
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let label = console::style("error:").red().bold().for_stderr();
            eprintln!("{label} {error}");
            ExitCode::from(1)
        }
    }
}

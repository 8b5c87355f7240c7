//! `scaffold`: generates layered feature modules for a multi-tenant Axum + PostgreSQL server.
//!
//! Data flows one way, each step a plain function: the command line becomes a
//! [`spec::ModuleSpec`] (parse), templates render it into a [`plan::Plan`] (plan), and
//! [`apply`] compares the plan with the disk and writes it all or nothing (apply).
//!
//! What was generated is recorded in a [`manifest`]; [`lifecycle`] compares it with the tree
//! and with what the current templates render, for `list`, `check`, `upgrade` and `destroy`.

pub mod apply;
pub mod change;
pub mod cli;
pub mod commands;
pub mod context;
pub mod ddl;
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
pub mod shell;
pub mod spec;
pub mod stage;
pub mod suggest;
pub mod template_codec;

use std::process::ExitCode;

use clap::Parser;

/// Runs the command line: 0 on success, 1 on an error the user can fix (explained on
/// stderr), 2 on a usage error (clap's own).
pub fn main() -> ExitCode {
    exit_quietly_when_output_closes();
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

/// `scaffold ... | head` must end as `git` does when the reader goes away: quietly. Rust
/// ignores SIGPIPE, which turns every later `println!` into a panic; its default action ends
/// the process without a word.
fn exit_quietly_when_output_closes() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

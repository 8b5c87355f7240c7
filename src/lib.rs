//! `scaffold`: generates layered feature modules for a multi-tenant Axum + PostgreSQL server.
//!
//! A run goes through four stages, one folder each, and each folder uses only the ones
//! before it:
//!
//! 1. [`input`]: what the user gave. The command line ([`input::cli`]) and its field and name
//!    grammar become a [`input::spec::ModuleSpec`]; the project's `scaffold.toml` becomes a
//!    [`input::project::Project`]. Pure parsing, apart from reading that file.
//! 2. [`generate`]: a spec becomes a [`generate::plan::Plan`], every file's new content:
//!    the template context, the templates, the migration SQL, rustfmt. `change module`'s
//!    difference of two specs lives here too ([`generate::spec_diff`]).
//! 3. [`write`]: the plan meets the disk. [`write::apply`] compares it with the tree and
//!    [`write::stage`] writes all or nothing; [`write::manifest`] records what was generated,
//!    [`write::lifecycle`] compares that record with the tree, and [`write::merge`] merges
//!    new output with hand edits for `upgrade` and `change module`.
//! 4. [`commands`]: one file per subcommand, each a short run through the stages above.
//!
//! [`lint`] stands beside them: it reads a module's Rust and SQL and checks the backend
//! guide's layering rules. ARCHITECTURE.md at the repository root has the whole map.

pub mod commands;
pub mod generate;
pub mod input;
pub mod lint;
pub mod write;

use std::process::ExitCode;

use clap::Parser;

/// Runs the command line: 0 on success, 1 on an error the user can fix (explained on
/// stderr), 2 on a usage error (clap's own).
pub fn main() -> ExitCode {
    exit_quietly_when_output_closes();
    let cli = input::cli::Cli::parse();
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

//! What the user gave: the command line, the module spec it parses into, the field and name
//! grammar, the project's `scaffold.toml`, and how commands are spelled back to the user.
//! Reads nothing of what scaffold generated; uses no other stage.

pub mod cli;
pub mod fields;
pub mod hints;
pub mod idents;
pub mod link;
pub mod names;
pub mod options;
pub mod project;
pub mod prompt;
pub mod shell;
pub mod spec;
pub mod suggest;

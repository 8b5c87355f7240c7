//! What a lint rule reports, and the role a file plays, which decides the rules it gets.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: PathBuf,
    pub line: usize,
    pub rule: &'static str,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.rule,
            self.message
        )
    }
}

/// The role a file plays in the layered pattern, from its name inside a module folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Service,
    Router,
    Schemas,
    /// Any other file of a module: models.rs, mod.rs, tests.rs.
    Module,
    /// A file outside the module folders.
    Other,
}

impl Role {
    pub fn of(file_name: &str) -> Role {
        match file_name {
            "service.rs" => Role::Service,
            "router.rs" => Role::Router,
            "schemas.rs" => Role::Schemas,
            _ => Role::Module,
        }
    }
}

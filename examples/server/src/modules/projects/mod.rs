//! Projects: the `projects` table of each tenant, served at `/api/projects`.

pub mod models;
pub mod router;
pub mod schemas;
pub mod service;
#[cfg(test)]
mod tests;

pub use router::router;

//! Reference multi-tenant server: Axum on PostgreSQL, one schema per tenant, feature modules in
//! the layered pattern (models, schemas, service, router) that `scaffold` generates.

pub mod app;
pub mod core;
pub mod http;
pub mod modules;
#[doc(hidden)]
pub mod testing;

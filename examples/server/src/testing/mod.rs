//! Test support, shared by every module's `tests.rs` and by `tests/`: a real PostgreSQL, a fresh
//! tenant per test (multi-tenancy gives test isolation for free), and a client that drives
//! `app()` in memory.
//!
//! The database is `DATABASE_URL` when set. Otherwise a throwaway PostgreSQL is started from
//! the machine's own binaries (through `runuser -u postgres` when running as root) and stopped
//! when the test process exits. With neither, tests fail with a message saying what to install.
//! In `DATABASE_URL`'s server, the databases and tenants a test process made are removed when
//! it exits, so that a database shared by many runs (CI's) does not grow with each.
//!
//! `postgres` starts a server; `provision` picks the database tests use and cleans up after
//! them; `locks` holds row locks and watches what waits for them; `client` is the application
//! in memory and requests to it; `proxy` stands between the server and PostgreSQL to slow it
//! down; `jwks` is an identity provider's key server; `harness` (with the `harness` feature, in
//! the package's own tests) is a resource of the harness's own for the core's tests to drive.

mod client;
#[cfg(feature = "harness")]
pub mod harness;
mod jwks;
mod locks;
mod postgres;
mod provision;
mod proxy;

pub use self::client::{
    Client, JWT_SECRET, TEST_USER, TestApp, TestResponse, ids, object, param, query,
};
pub use self::jwks::{JwksServer, Serve};
pub use self::locks::{lock_rows, lock_waiters, wait_for_waiters};
pub use self::postgres::DedicatedPostgres;
pub use self::provision::{database_url, fresh_database};
pub use self::proxy::SlowProxy;

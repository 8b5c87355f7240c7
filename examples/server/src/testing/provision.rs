//! Which database the tests use (`DATABASE_URL`, else a throwaway server of the process's
//! own), fresh databases for tests that need one to themselves, and removing what a test
//! process made when it exits.

use std::sync::OnceLock;

use super::postgres::DedicatedPostgres;
use crate::core::database;
use crate::core::registry;
use crate::core::tenant::TenantSlug;

/// The database every test in this process uses.
pub fn database_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    // Never dropped, as statics are not: its watchdog stops it when the process exits.
    static THROWAWAY: OnceLock<DedicatedPostgres> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            remove_at_exit();
            url
        }
        _ => THROWAWAY
            .get_or_init(|| {
                DedicatedPostgres::try_start().unwrap_or_else(|error| {
                    panic!(
                        "tests need PostgreSQL: {error}.\nEither set DATABASE_URL to a database \
                         the tests may create schemas in, or install PostgreSQL's server \
                         binaries (Debian/Ubuntu: apt-get install postgresql) so a throwaway one \
                         can be started."
                    )
                })
            })
            .url(),
    })
}

/// A new, empty database on the test server, for tests that run `server migrate`, which
/// touches every tenant: in the shared database those include other tests' tenants, whose
/// modules may differ. Blocking, so that plain `#[test]`s can call it too.
pub fn fresh_database() -> String {
    let base = database_url().to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let name = format!("test_{}_{}", run_tag(), uuid::Uuid::new_v4().simple());
            let pool = database::connect(&base, 1)
                .await
                .expect("connect to the test database");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&pool)
                .await
                .expect("create a test database");
            with_database(&base, &name)
        })
    })
    .join()
    .unwrap()
}

/// Eight hex digits of this process's own, in the name of every database (`test_<tag>_...`) and
/// tenant (`t_<tag>_...`) it creates: what it made can then be found and removed, and nothing
/// of another test process, running at the same time, is touched.
pub(crate) fn run_tag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| uuid::Uuid::new_v4().simple().to_string()[..8].to_owned())
}

unsafe extern "C" {
    fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
}

/// Removes this process's databases and tenants from `DATABASE_URL` when it exits. A test
/// binary has no hook that runs once every test is done, so this is the C library's `atexit`,
/// which runs when the test harness exits, whether tests failed or not (not when the process
/// is killed).
fn remove_at_exit() {
    extern "C" fn at_exit() {
        // At exit this thread's thread-locals, which tokio needs, are gone: a thread of its
        // own. A panic must not cross into C.
        let removed = std::thread::spawn(remove_what_this_process_made).join();
        match removed {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("removing this test run's databases and tenants: {error}"),
            Err(_) => eprintln!("removing this test run's databases and tenants panicked"),
        }
    }
    // SAFETY: `at_exit` is a plain function that unwinds nowhere.
    unsafe {
        atexit(at_exit);
    }
}

fn remove_what_this_process_made() -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let pool = database::connect(database_url(), 1)
            .await
            .map_err(|e| e.to_string())?;
        // The tag is hex: nothing in it needs escaping in LIKE.
        let tag = run_tag();
        let registered = sqlx::query_scalar::<_, String>(
            "SELECT slug FROM public.tenants WHERE slug LIKE 't\\_' || $1 || '\\_%'",
        )
        .bind(tag)
        .fetch_all(&pool)
        .await;
        // No registry: this process made no tenant in this database.
        for slug in registered.unwrap_or_default() {
            let slug = TenantSlug::parse(&slug)?;
            registry::delete(&pool, &slug)
                .await
                .map_err(|e| format!("tenant {slug}: {e}"))?;
        }
        // The names the deletions recorded, so that the database does not grow by them: no
        // server of this process is left to remember these schemas.
        let forgotten = sqlx::query(
            "DELETE FROM public.dropped_schemas \
             WHERE schema_name LIKE 'tenant\\_t\\_' || $1 || '\\_%'",
        )
        .bind(tag)
        .execute(&pool)
        .await;
        match forgotten {
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => {}
            other => {
                other.map_err(|e| e.to_string())?;
            }
        }
        let databases: Vec<String> = sqlx::query_scalar(
            "SELECT datname FROM pg_database WHERE datname LIKE 'test\\_' || $1 || '\\_%'",
        )
        .bind(tag)
        .fetch_all(&pool)
        .await
        .map_err(|e| e.to_string())?;
        for name in databases {
            // FORCE: connections of servers the tests started may not be gone yet.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&pool)
            .await
            .map_err(|e| format!("database {name}: {e}"))?;
        }
        pool.close().await;
        Ok(())
    })
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (rest, query) = url
        .split_once('?')
        .map_or((url, None), |(r, q)| (r, Some(q)));
    let authority_end = rest.find("://").map_or(0, |i| i + 3);
    let base = match rest[authority_end..].find('/') {
        Some(slash) => &rest[..authority_end + slash],
        None => rest,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_names_are_replaced() {
        let cases = [
            ("postgres://u:p@h:5432/app", "postgres://u:p@h:5432/x"),
            (
                "postgres://u@h/app?sslmode=disable",
                "postgres://u@h/x?sslmode=disable",
            ),
            ("postgres://h:5432", "postgres://h:5432/x"),
        ];
        for (url, expected) in cases {
            assert_eq!(super::with_database(url, "x"), expected);
        }
    }
}

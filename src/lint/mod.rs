//! `scaffold lint`: the backend guide's layering rules, checked on parsed Rust (syn), not on
//! text, so that comments, strings and formatting cannot fool them.
//!
//! | rule | where | what |
//! | --- | --- | --- |
//! | `service-imports-web` | `<module>/service.rs` | no `axum`, `tower`, `tower_http`, `http`, `hyper` or `utoipa_axum` |
//! | `router-bypasses-service` | `<module>/router.rs` | no `sqlx`, no `models` |
//! | `tenant-from-client` | `<module>/schemas.rs`, `<module>/router.rs` | no deserialized field that accepts `tenant` or `tenant_id` (by its name, `rename` or `alias`) |
//! | `route-without-permission` | `<module>/router.rs` | every `#[utoipa::path]` handler takes `Authorized<_>` |
//! | `session-search-path` | every `.rs` file, `.sql` files outside migrations | no SQL that sets `search_path` (or `SET SCHEMA`) beyond the transaction |
//! | `migration-search-path` | `.sql` files in a `migrations` folder | no SQL that changes `search_path` at all: the runner owns it |
//! | `transaction-control` | every `.rs` file of a module | no SQL that starts or ends a transaction (`BEGIN`, `COMMIT`, `ROLLBACK`, `SAVEPOINT`, ...): `ctx.begin()` and `db.commit()` own them |
//! | `session-setting` | every `.rs` file of a module | no SQL that changes the session beyond the transaction (`SET` without `LOCAL`, `RESET`, `DISCARD`, `set_config(..., false)`) |
//! | `raw-pool` | every file of a module | no pool or connection of its own: tenant data only through `Ctx::db` or `Ctx::begin` |
//!
//! A `#[serde(...)]` attribute of a request type that cannot be read is a `cannot-parse`
//! finding, never a silent pass: it may hide a `rename` or `alias`.

mod finding;
mod rust;
mod sql;

use std::path::{Path, PathBuf};

pub use finding::{Finding, Role};
pub use rust::check_source;
pub use sql::check_sql;

/// Checks every `.rs` and `.sql` file under `root` (but `target/` and hidden folders), giving
/// the files directly inside a folder of `modules` their layer's rules, and SQL files in
/// `migrations` or in any folder named `migrations` (the server's public migrations, say) the
/// migration rule. Findings name paths relative to `root`, in file order.
pub fn check_tree(root: &Path, modules: &Path, migrations: &Path) -> Result<Vec<Finding>, String> {
    let mut files = Vec::new();
    collect_files(root, &mut files)?;
    files.sort();
    let mut findings = Vec::new();
    for file in files {
        let relative = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
        let source = std::fs::read_to_string(&file)
            .map_err(|error| format!("cannot read {}: {error}", relative.display()))?;
        if relative.extension().is_some_and(|ext| ext == "sql") {
            let migration = relative.starts_with(migrations)
                || relative
                    .parent()
                    .is_some_and(|dir| dir.iter().any(|part| part == "migrations"));
            findings.extend(check_sql(&relative, migration, &source));
            continue;
        }
        let in_module = relative
            .parent()
            .and_then(Path::parent)
            .is_some_and(|dir| dir == modules);
        let role = match relative.file_name().and_then(|n| n.to_str()) {
            Some(name) if in_module => Role::of(name),
            _ => Role::Other,
        };
        findings.extend(check_source(&relative, role, &source)?);
    }
    Ok(findings)
}

fn collect_files(dir: &Path, into: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|error| format!("cannot read {}: {error}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|error| format!("cannot read {}: {error}", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                collect_files(&path, into)?;
            }
        } else if name.ends_with(".rs") || name.ends_with(".sql") {
            into.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::sql::search_path_changes;
    use super::*;

    fn rules(role: Role, source: &str) -> Vec<(&'static str, usize)> {
        check_source(Path::new("x.rs"), role, source)
            .unwrap()
            .into_iter()
            .map(|f| (f.rule, f.line))
            .collect()
    }

    #[test]
    fn the_reference_server_is_clean() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/server");
        let findings = check_tree(
            &root,
            Path::new("src/modules"),
            Path::new("migrations/tenant"),
        )
        .unwrap();
        assert!(findings.is_empty(), "{findings:#?}");
    }

    #[test]
    fn services_do_not_know_the_web_framework() {
        let source = "use uuid::Uuid;\nuse axum::Json;\nfn f() -> http::StatusCode { todo!() }\n";
        assert_eq!(
            rules(Role::Service, source),
            [("service-imports-web", 2), ("service-imports-web", 3)]
        );
        assert_eq!(rules(Role::Router, source), []);
        let twice = "use axum::{Json, extract::State};\nuse tower::{Layer, Service};\n";
        assert_eq!(
            rules(Role::Service, twice),
            [("service-imports-web", 1), ("service-imports-web", 2)]
        );
    }

    #[test]
    fn routers_go_through_the_service() {
        let source = "use super::models;\nasync fn f() { sqlx::query(\"SELECT 1\"); }\n";
        assert_eq!(
            rules(Role::Router, source),
            [
                ("router-bypasses-service", 1),
                ("router-bypasses-service", 2)
            ]
        );
        assert_eq!(rules(Role::Router, "use super::service;\n"), []);
        let qualified = "async fn f() {\n    crate::modules::x::models::list().await;\n}\n";
        assert_eq!(
            rules(Role::Router, qualified),
            [("router-bypasses-service", 2)]
        );
    }

    #[test]
    fn request_schemas_carry_no_tenant() {
        let source = "#[derive(Deserialize)]\nstruct A {\n    tenant_id: String,\n}\n\
                      #[derive(serde::Deserialize)]\nstruct B {\n    #[serde(default, rename = \"tenant\")]\n    t: String,\n}\n\
                      #[derive(Serialize)]\nstruct C {\n    tenant: String,\n}\n";
        assert_eq!(
            rules(Role::Schemas, source),
            [("tenant-from-client", 3), ("tenant-from-client", 7)]
        );
    }

    #[test]
    fn renames_and_aliases_onto_the_tenant_are_caught() {
        let field = |attr: &str| {
            format!(
                "#[derive(Deserialize)]\nstruct A {{\n    #[serde({attr})]\n    owner: String,\n}}\n"
            )
        };
        for attr in [
            "alias = \"tenant\"",
            "default, alias = \"x\", alias = \"tenant_id\"",
            "rename(deserialize = \"tenant\")",
            "rename(serialize = \"owner\", deserialize = \"tenant_id\")",
            "rename = \"tenantId\"",
            "bound(deserialize = \"T: Default\"), rename = \"tenant_id\"",
            "with = \"my::codec\", rename = \"TENANT\"",
        ] {
            assert_eq!(
                rules(Role::Schemas, &field(attr)),
                [("tenant-from-client", 3)],
                "{attr}"
            );
        }
        for attr in [
            "rename(serialize = \"tenant\")",
            "skip_deserializing, rename = \"tenant\"",
            "alias = \"tenants\"",
            "default = \"tenant\"",
        ] {
            assert_eq!(rules(Role::Schemas, &field(attr)), [], "{attr}");
        }
        let raw = "#[derive(Deserialize)]\nstruct A {\n    r#tenant: String,\n}\n";
        assert_eq!(rules(Role::Schemas, raw), [("tenant-from-client", 3)]);
    }

    #[test]
    fn a_serde_attribute_that_cannot_be_read_is_a_finding() {
        for attr in [
            "rename = tenant",
            "alias(\"tenant\")",
            "rename(deserialize)",
            "= 1",
        ] {
            let source = format!(
                "#[derive(Deserialize)]\nstruct A {{\n    #[serde({attr})]\n    owner: String,\n}}\n"
            );
            let found = check_source(Path::new("x.rs"), Role::Schemas, &source).unwrap();
            assert_eq!(found.len(), 1, "{attr}: {found:?}");
            assert_eq!(
                (found[0].rule, found[0].line),
                ("cannot-parse", 3),
                "{attr}"
            );
            assert!(found[0].message.contains("`A`"), "{}", found[0].message);
        }
    }

    #[test]
    fn every_route_declares_a_permission() {
        let source = "#[utoipa::path(get, path = \"/x\")]\nasync fn open(Path(id): Path<Uuid>) {}\n\
                      #[utoipa::path(get, path = \"/y\")]\nasync fn closed(ctx: Authorized<Read>) {}\n\
                      fn helper() {}\n";
        assert_eq!(
            rules(Role::Router, source),
            [("route-without-permission", 2)]
        );
    }

    /// Whether `sql` sets search_path beyond the transaction.
    fn session(sql: &str) -> bool {
        search_path_changes(sql).iter().any(|change| change.session)
    }

    #[test]
    fn search_path_is_only_set_per_transaction() {
        for bad in [
            "SET search_path TO tenant_a",
            "set SESSION search_path = x",
            "SELECT set_config('search_path', $1, false)",
            "SELECT set_config('search_path', $1)",
            "SET SCHEMA 'tenant_a'",
            "set session schema 'tenant_a'",
            "SELECT 1; SET search_path TO x",
            "ALTER ROLE app SET search_path = tenant_a",
            "DO $$ BEGIN PERFORM set_config('SEARCH_PATH', 'x', false); END $$",
        ] {
            assert!(session(bad), "{bad}");
        }
        for good in [
            "SET LOCAL search_path TO tenant_a",
            "SET LOCAL SCHEMA 'tenant_a'",
            "SELECT set_config('search_path', quote_ident($1), true)",
            "SELECT current_setting('search_path')",
            "ALTER TABLE a SET SCHEMA archive",
            "CREATE FUNCTION f() RETURNS INT LANGUAGE sql SET search_path = pg_catalog AS $$ SELECT 1 $$",
            "-- SET search_path TO x\nSELECT 1",
            "SELECT 'SET search_path TO x'",
            "UPDATE a SET schema = 'x'",
        ] {
            assert!(!session(good), "{good}");
        }
        let source = "fn f() { q(\"SET search_path = x\"); } // SET search_path in a comment\n\
                      const S: &str = \"SET SCHEMA 'a'\";\n";
        assert_eq!(
            rules(Role::Other, source),
            [("session-search-path", 1), ("session-search-path", 2)]
        );
    }

    #[test]
    fn modules_leave_transactions_and_the_session_to_the_pool() {
        let source = "fn f() {\n    q(\"BEGIN\");\n    q(\"select 1; COMMIT\");\n    \
                      q(\"SET statement_timeout = 0\");\n    q(\"set role admin\");\n    \
                      q(\"SELECT set_config('app.user', $1, false)\");\n    q(\"DISCARD ALL\");\n    \
                      q(\"START TRANSACTION\");\n}\n";
        let expected = [
            ("transaction-control", 2),
            ("transaction-control", 3),
            ("session-setting", 4),
            ("session-setting", 5),
            ("session-setting", 6),
            ("session-setting", 7),
            ("transaction-control", 8),
        ];
        assert_eq!(rules(Role::Service, source), expected);
        assert_eq!(rules(Role::Module, source), expected);
        // What a transaction scopes, and SQL that only mentions the words, are fine.
        let fine = "fn f() {\n    q(\"SET LOCAL statement_timeout = 0\");\n    \
                    q(\"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE\");\n    \
                    q(\"SELECT set_config('app.user', $1, true)\");\n    \
                    q(\"UPDATE t SET begin = 1 -- COMMIT\");\n    q(\"commit the change\");\n    \
                    q(\"set the title first\");\n}\n";
        assert_eq!(rules(Role::Module, fine), []);
        // The server's own code runs the transactions.
        assert_eq!(rules(Role::Other, source), []);
    }

    #[test]
    fn migrations_leave_search_path_to_the_runner() {
        let sql = "CREATE TABLE a (x INT);\n-- SET search_path TO b\nSET LOCAL search_path TO b;\n\
                   /* SET SCHEMA */ INSERT INTO a VALUES (1);\nset local schema 'b';\n\
                   SELECT set_config('search_path', 'b', true);\nRESET search_path;\n\
                   ALTER TABLE a SET SCHEMA b;\nSELECT ';SET search_path TO b';\n";
        let found: Vec<(&str, usize)> = check_sql(Path::new("m.sql"), true, sql)
            .iter()
            .map(|f| (f.rule, f.line))
            .collect();
        assert_eq!(
            found,
            [
                ("migration-search-path", 3),
                ("migration-search-path", 5),
                ("migration-search-path", 6),
                ("migration-search-path", 7)
            ]
        );
        // The same SQL outside a migration has nothing that outlives the transaction.
        assert_eq!(check_sql(Path::new("q.sql"), false, sql), []);
        let session = check_sql(Path::new("q.sql"), false, "SET SCHEMA 'b'");
        assert_eq!(session[0].rule, "session-search-path");
        assert!(
            session[0]
                .message
                .starts_with("SET SCHEMA lasts for the session")
        );
    }

    #[test]
    fn modules_open_no_connections_of_their_own() {
        let source = "use sqlx::PgPool;\n\
                      async fn f(pool: sqlx::Pool<sqlx::Postgres>) {\n\
                      let c = sqlx::PgConnection::connect(\"postgres://\").await;\n\
                      let o = PgPoolOptions::new();\n}\n";
        let expected = [
            ("raw-pool", 1),
            ("raw-pool", 2),
            ("raw-pool", 3),
            ("raw-pool", 4),
        ];
        for role in [Role::Module, Role::Service] {
            assert_eq!(rules(role, source), expected, "{role:?}");
        }
        assert_eq!(rules(Role::Other, source), []);
        // A module called `pools` has a type `Pool` of its own.
        let own = "use super::models::Pool;\nfn f(p: Pool) -> PoolResponse { todo!() }\n";
        assert_eq!(rules(Role::Module, own), []);
    }
}

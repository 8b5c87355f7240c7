//! `scaffold lint`: the backend guide's layering rules, checked on parsed Rust (syn), not on
//! text, so that comments, strings and formatting cannot fool them.
//!
//! | rule | where | what |
//! | --- | --- | --- |
//! | `service-imports-web` | `<module>/service.rs` | no `axum`, `tower`, `tower_http`, `http`, `hyper` or `utoipa_axum` |
//! | `router-bypasses-service` | `<module>/router.rs` | no `sqlx`, no `models` |
//! | `tenant-from-client` | `<module>/schemas.rs` | no deserialized field named `tenant` or `tenant_id` |
//! | `route-without-permission` | `<module>/router.rs` | every `#[utoipa::path]` handler takes `Authorized<_>` |
//! | `session-search-path` | every `.rs` file | no SQL that sets `search_path` beyond the transaction |
//! | `raw-pool` | every file of a module | no pool or connection of its own: tenant data only through `Ctx::begin` |

use std::fmt;
use std::path::{Path, PathBuf};

use syn::spanned::Spanned;
use syn::visit::{self, Visit};

/// Crates a service must not know: the web framework and its plumbing.
const WEB_CRATES: &[&str] = &[
    "axum",
    "tower",
    "tower_http",
    "http",
    "hyper",
    "utoipa_axum",
];

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

/// sqlx's ways to a database connection that is not the request's tenant transaction. Names
/// as plain as `Pool` count only after `sqlx::`, since a `pools` module has a `Pool` type.
const RAW_POOL_TYPES: &[&str] = &["PgPool", "PgPoolOptions", "PgConnectOptions", "PgListener"];
const RAW_POOL_SQLX_ITEMS: &[&str] = &["Pool", "PoolOptions", "pool", "PoolConnection"];

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

/// Checks every `.rs` file under `root` (but `target/` and hidden folders), giving the files
/// directly inside a folder of `modules` their layer's rules. Findings name paths relative
/// to `root`, in file order.
pub fn check_tree(root: &Path, modules: &Path) -> Result<Vec<Finding>, String> {
    let mut files = Vec::new();
    collect_rust_files(root, &mut files)?;
    files.sort();
    let mut findings = Vec::new();
    for file in files {
        let relative = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
        let in_module = relative
            .parent()
            .and_then(Path::parent)
            .is_some_and(|dir| dir == modules);
        let role = match relative.file_name().and_then(|n| n.to_str()) {
            Some(name) if in_module => Role::of(name),
            _ => Role::Other,
        };
        let source = std::fs::read_to_string(&file)
            .map_err(|error| format!("cannot read {}: {error}", relative.display()))?;
        findings.extend(check_source(&relative, role, &source)?);
    }
    Ok(findings)
}

fn collect_rust_files(dir: &Path, into: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|error| format!("cannot read {}: {error}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|error| format!("cannot read {}: {error}", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                collect_rust_files(&path, into)?;
            }
        } else if name.ends_with(".rs") {
            into.push(path);
        }
    }
    Ok(())
}

/// Checks one file's source. `file` only labels the findings. A file that does not parse is
/// one `cannot-parse` finding, so that the other files' findings are still shown.
pub fn check_source(file: &Path, role: Role, source: &str) -> Result<Vec<Finding>, String> {
    let syntax = match syn::parse_file(source) {
        Ok(syntax) => syntax,
        Err(error) => {
            return Ok(vec![Finding {
                file: file.to_path_buf(),
                line: error.span().start().line,
                rule: "cannot-parse",
                message: format!("{error}; the rules cannot be checked on this file"),
            }]);
        }
    };
    let mut checker = Checker {
        file,
        role,
        findings: Vec::new(),
    };
    checker.visit_file(&syntax);
    checker.findings.sort_by_key(|finding| finding.line);
    // `use axum::{Json, extract::State};` breaks one rule once, not once per path.
    checker
        .findings
        .dedup_by(|a, b| a.line == b.line && a.rule == b.rule);
    Ok(checker.findings)
}

struct Checker<'a> {
    file: &'a Path,
    role: Role,
    findings: Vec<Finding>,
}

impl Checker<'_> {
    fn report(&mut self, span: proc_macro2::Span, rule: &'static str, message: String) {
        self.findings.push(Finding {
            file: self.file.to_path_buf(),
            line: span.start().line,
            rule,
            message,
        });
    }

    /// A path's first segment names a crate (`axum::Json`, `sqlx::query`); `models` may
    /// stand anywhere in it (`models::list`, `super::models`, `crate::modules::x::models`).
    fn check_path(&mut self, span: proc_macro2::Span, segments: &[String]) {
        let first = segments.first().map(String::as_str).unwrap_or_default();
        if self.role != Role::Other && raw_pool(segments) {
            self.report(
                span,
                "raw-pool",
                format!(
                    "the module uses `{}`; a connection of its own bypasses the tenant's \
                     schema and the server's limits: use the transaction `ctx.begin()` gives",
                    segments.join("::")
                ),
            );
            return;
        }
        match self.role {
            Role::Service if WEB_CRATES.contains(&first) => self.report(
                span,
                "service-imports-web",
                format!(
                    "the service uses `{first}`; services know nothing of HTTP, so return \
                     `AppError` and leave requests and responses to the router"
                ),
            ),
            Role::Router if first == "sqlx" => self.report(
                span,
                "router-bypasses-service",
                "the router uses sqlx; database work belongs in models.rs, called through \
                 the service"
                    .to_owned(),
            ),
            Role::Router if segments.iter().any(|segment| segment == "models") => self.report(
                span,
                "router-bypasses-service",
                "the router reaches into models; call the service, which owns the \
                 transaction and the business rules"
                    .to_owned(),
            ),
            _ => {}
        }
    }
}

impl<'ast> Visit<'ast> for Checker<'_> {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        for path in use_paths(&item.tree) {
            self.check_path(item.span(), &path);
        }
        visit::visit_item_use(self, item);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.check_path(path.span(), &segments);
        visit::visit_path(self, path);
    }

    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        if self.role == Role::Schemas && derives(&item.attrs, "Deserialize") {
            for field in &item.fields {
                let name =
                    serde_name(field).or_else(|| field.ident.as_ref().map(|i| i.to_string()));
                if let Some(name) = name.filter(|n| n == "tenant" || n == "tenant_id") {
                    self.report(
                        field.span(),
                        "tenant-from-client",
                        format!(
                            "`{}` accepts `{name}` from the client; the tenant comes only from \
                             the authenticated token",
                            item.ident
                        ),
                    );
                }
            }
        }
        visit::visit_item_struct(self, item);
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        let is_route = item.attrs.iter().any(|attr| {
            let segments: Vec<String> = attr
                .path()
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            segments == ["utoipa", "path"]
        });
        let takes_permission = item.sig.inputs.iter().any(|input| match input {
            syn::FnArg::Typed(arg) => names_type(&arg.ty, "Authorized"),
            syn::FnArg::Receiver(_) => false,
        });
        if self.role == Role::Router && is_route && !takes_permission {
            self.report(
                item.sig.ident.span(),
                "route-without-permission",
                format!(
                    "handler `{}` declares no permission; take an `Authorized<Read>` or \
                     `Authorized<Write>` argument",
                    item.sig.ident
                ),
            );
        }
        visit::visit_item_fn(self, item);
    }

    fn visit_lit_str(&mut self, literal: &'ast syn::LitStr) {
        if let Some(problem) = session_search_path(&literal.value()) {
            self.report(literal.span(), "session-search-path", problem.to_owned());
        }
        visit::visit_lit_str(self, literal);
    }
}

/// `PgPool`, `sqlx::pool::PoolOptions`, `PgConnection::connect(...)` and the like.
fn raw_pool(segments: &[String]) -> bool {
    let connects = segments.windows(2).any(|pair| {
        matches!(pair[0].as_str(), "PgConnection" | "Connection") && pair[1].starts_with("connect")
    });
    let from_sqlx = segments.first().is_some_and(|first| first == "sqlx")
        && segments
            .iter()
            .any(|segment| RAW_POOL_SQLX_ITEMS.contains(&segment.as_str()));
    connects
        || from_sqlx
        || segments
            .iter()
            .any(|segment| RAW_POOL_TYPES.contains(&segment.as_str()))
}

/// Every path a `use` tree brings in, as segments: `use a::{b, c::d}` -> `[a, b]`, `[a, c, d]`.
fn use_paths(tree: &syn::UseTree) -> Vec<Vec<String>> {
    match tree {
        syn::UseTree::Path(path) => use_paths(&path.tree)
            .into_iter()
            .map(|mut rest| {
                rest.insert(0, path.ident.to_string());
                rest
            })
            .collect(),
        syn::UseTree::Name(name) => vec![vec![name.ident.to_string()]],
        syn::UseTree::Rename(rename) => vec![vec![rename.ident.to_string()]],
        syn::UseTree::Glob(_) => vec![vec!["*".to_owned()]],
        syn::UseTree::Group(group) => group.items.iter().flat_map(use_paths).collect(),
    }
}

fn derives(attrs: &[syn::Attribute], wanted: &str) -> bool {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("derive"))
        .any(|attr| {
            let mut found = false;
            let _ = attr.parse_nested_meta(|meta| {
                found |= meta.path.segments.last().is_some_and(|s| s.ident == wanted);
                Ok(())
            });
            found
        })
}

/// The name a field has in JSON when `#[serde(rename = "...")]` gives it one.
fn serde_name(field: &syn::Field) -> Option<String> {
    let mut renamed = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let value: syn::LitStr = meta.value()?.parse()?;
                renamed = Some(value.value());
            } else if meta.input.peek(syn::Token![=]) {
                // Skip other `key = value` settings.
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    renamed
}

/// Whether `ty` is `name<...>` (or a path ending in it), directly or behind a reference.
fn names_type(ty: &syn::Type, name: &str) -> bool {
    match ty {
        syn::Type::Path(path) => path.path.segments.last().is_some_and(|s| s.ident == name),
        syn::Type::Reference(reference) => names_type(&reference.elem, name),
        _ => false,
    }
}

/// SQL that changes `search_path` for the whole session, which on a pooled connection leaks
/// one tenant's schema into the next request. `SET LOCAL` and `set_config(..., true)` end
/// with the transaction and are fine.
fn session_search_path(sql: &str) -> Option<&'static str> {
    let sql = sql.to_ascii_lowercase();
    let words: Vec<&str> = sql
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let sets_session = words
        .windows(2)
        .any(|pair| pair == ["set", "search_path"] || pair == ["session", "search_path"]);
    if sets_session {
        return Some(
            "SET search_path lasts for the session and leaks to the next request on a pooled \
             connection; use set_config('search_path', ..., true) inside the transaction",
        );
    }
    let compact: String = sql.chars().filter(|c| !c.is_whitespace()).collect();
    let session_config = compact.contains("set_config('search_path'")
        && (compact.contains(",false)") || !compact.contains(",true)"));
    session_config.then_some(
        "set_config('search_path', ...) without `true` lasts for the session; pass true so it \
         ends with the transaction",
    )
}

#[cfg(test)]
mod tests {
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
        let findings = check_tree(&root, Path::new("src/modules")).unwrap();
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
    fn every_route_declares_a_permission() {
        let source = "#[utoipa::path(get, path = \"/x\")]\nasync fn open(Path(id): Path<Uuid>) {}\n\
                      #[utoipa::path(get, path = \"/y\")]\nasync fn closed(ctx: Authorized<Read>) {}\n\
                      fn helper() {}\n";
        assert_eq!(
            rules(Role::Router, source),
            [("route-without-permission", 2)]
        );
    }

    #[test]
    fn search_path_is_only_set_per_transaction() {
        for bad in [
            "SET search_path TO tenant_a",
            "set SESSION search_path = x",
            "SELECT set_config('search_path', $1, false)",
            "SELECT set_config('search_path', $1)",
        ] {
            assert!(session_search_path(bad).is_some(), "{bad}");
        }
        for good in [
            "SET LOCAL search_path TO tenant_a",
            "SELECT set_config('search_path', quote_ident($1), true)",
            "SELECT current_setting('search_path')",
        ] {
            assert!(session_search_path(good).is_none(), "{good}");
        }
        let source = "fn f() { q(\"SET search_path = x\"); } // SET search_path in a comment\n";
        assert_eq!(rules(Role::Other, source), [("session-search-path", 1)]);
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

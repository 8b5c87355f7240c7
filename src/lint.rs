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
//! | `raw-pool` | every file of a module | no pool or connection of its own: tenant data only through `Ctx::db` or `Ctx::begin` |
//!
//! A `#[serde(...)]` attribute of a request type that cannot be read is a `cannot-parse`
//! finding, never a silent pass: it may hide a `rename` or `alias`.

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

/// Checks one SQL file: a migration must leave `search_path` alone, any other SQL (queries
/// loaded with `include_str!`, say) must not set it beyond the transaction.
pub fn check_sql(file: &Path, migration: bool, sql: &str) -> Vec<Finding> {
    search_path_changes(sql)
        .into_iter()
        .filter_map(|change| {
            let (rule, message) = if migration {
                (
                    "migration-search-path",
                    format!(
                        "{} in a migration: the runner sets search_path to the schema being \
                         migrated, and a migration that changes it writes into another schema; \
                         use unqualified names",
                        change.what
                    ),
                )
            } else {
                ("session-search-path", change.session_problem()?)
            };
            Some(Finding {
                file: file.to_path_buf(),
                line: change.line,
                rule,
                message,
            })
        })
        .collect()
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
                     schema and the server's limits: use the connection `ctx.db()` or \
                     `ctx.begin()` gives",
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
        // Request types: bodies in schemas.rs, query parameters perhaps beside their handler.
        let request_types = matches!(self.role, Role::Schemas | Role::Router);
        if request_types && derives(&item.attrs, "Deserialize") {
            for field in &item.fields {
                let names = match accepted_names(field) {
                    Ok(names) => names,
                    Err(error) => {
                        self.report(
                            error.span(),
                            "cannot-parse",
                            format!(
                                "cannot read this #[serde(...)] attribute of `{}`: {error}; it \
                                 may rename the field to `tenant`, so the tenant-from-client \
                                 rule cannot pass it",
                                item.ident
                            ),
                        );
                        continue;
                    }
                };
                if let Some(name) = names.iter().find(|name| is_tenant_key(name)) {
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
        let problem = search_path_changes(&literal.value())
            .into_iter()
            .find_map(|change| change.session_problem());
        if let Some(problem) = problem {
            self.report(literal.span(), "session-search-path", problem);
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

/// The keys a field accepts in a request body: its name, or what `#[serde(rename = ...)]` or
/// `rename(deserialize = ...)` make it, and every `alias`; none when it is never deserialized
/// (`skip`, `skip_deserializing`). An attribute that cannot be read is an error, since what it
/// says about the name is unknown.
fn accepted_names(field: &syn::Field) -> syn::Result<Vec<String>> {
    use syn::ext::IdentExt;
    let mut name = field.ident.as_ref().map(|ident| ident.unraw().to_string());
    let mut aliases = Vec::new();
    let mut skipped = false;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") && meta.input.peek(syn::token::Paren) {
                meta.parse_nested_meta(|side| {
                    let value: syn::LitStr = side.value()?.parse()?;
                    if side.path.is_ident("deserialize") {
                        name = Some(value.value());
                    }
                    Ok(())
                })
            } else if meta.path.is_ident("rename") {
                name = Some(meta.value()?.parse::<syn::LitStr>()?.value());
                Ok(())
            } else if meta.path.is_ident("alias") {
                aliases.push(meta.value()?.parse::<syn::LitStr>()?.value());
                Ok(())
            } else {
                skipped |= meta.path.is_ident("skip") || meta.path.is_ident("skip_deserializing");
                skip_meta(&meta)
            }
        })?;
    }
    if skipped {
        return Ok(Vec::new());
    }
    Ok(name.into_iter().chain(aliases).collect())
}

/// Reads past a setting this lint has no use for: `key`, `key = value` or `key(...)`.
fn skip_meta(meta: &syn::meta::ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip_meta(&inner))?;
    }
    Ok(())
}

/// `tenant`, `tenant_id` and their spellings in other cases (`tenantId`, `TENANT-ID`).
fn is_tenant_key(name: &str) -> bool {
    let folded: String = name
        .chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect();
    folded == "tenant" || folded == "tenantid"
}

/// Whether `ty` is `name<...>` (or a path ending in it), directly or behind a reference.
fn names_type(ty: &syn::Type, name: &str) -> bool {
    match ty {
        syn::Type::Path(path) => path.path.segments.last().is_some_and(|s| s.ident == name),
        syn::Type::Reference(reference) => names_type(&reference.elem, name),
        _ => false,
    }
}

/// A statement (or call) of some SQL that changes `search_path`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SearchPathChange {
    /// 1-based, within the SQL.
    line: usize,
    /// What does it, as a reader would name it: `SET search_path`, `SET SCHEMA`, ...
    what: &'static str,
    /// Whether it lasts beyond the transaction.
    session: bool,
}

impl SearchPathChange {
    /// Why this change is wrong on a pooled connection, if it is.
    fn session_problem(&self) -> Option<String> {
        self.session.then(|| {
            if self.what.starts_with("set_config") {
                "set_config('search_path', ...) without `true` lasts for the session and leaks \
                 to the next request on a pooled connection; name the tenant's tables as \
                 `{schema}.table` in `db.sql(...)` instead"
                    .to_owned()
            } else {
                format!(
                    "{} lasts for the session and leaks to the next request on a pooled \
                     connection; name the tenant's tables as `{{schema}}.table` in \
                     `db.sql(...)` instead",
                    self.what
                )
            }
        })
    }
}

/// Every change of `search_path` in `sql`: `SET [SESSION | LOCAL] search_path`, `SET
/// [SESSION | LOCAL] SCHEMA` (the same setting under another name), `ALTER ROLE ... SET
/// search_path`, `RESET search_path` and `set_config('search_path', ...)`. Comments do not
/// count.
fn search_path_changes(sql: &str) -> Vec<SearchPathChange> {
    let mut changes = Vec::new();
    for statement in sql_statements(sql) {
        let words: Vec<&str> = statement.iter().map(|t| t.text.as_str()).collect();
        let first = words.first().copied().unwrap_or_default();
        let next_of = |n: usize| words.get(n).copied().unwrap_or_default();
        for (i, token) in statement.iter().enumerate() {
            let next = |n: usize| words.get(i + n).copied().unwrap_or_default();
            let change = |what, session| SearchPathChange {
                line: token.line,
                what,
                session,
            };
            match token.text.as_str() {
                // A statement of its own (in a DO block too), or `ALTER ROLE | USER | DATABASE
                // ... SET`, which changes later sessions. Not a clause: `UPDATE ... SET`,
                // `ALTER TABLE ... SET SCHEMA` (moves a table), `CREATE FUNCTION ... SET
                // search_path` (holds for the function's calls).
                "set"
                    if i == 0
                        || matches!(words[i - 1], "begin" | "then" | "else" | "loop")
                        || (first == "alter"
                            && matches!(next_of(1), "role" | "user" | "database")) =>
                {
                    let (scope, setting) = match next(1) {
                        "local" | "session" => (next(1), next(2)),
                        _ => ("", next(1)),
                    };
                    let session = scope != "local";
                    if setting == "search_path" {
                        changes.push(change("SET search_path", session));
                    } else if setting == "schema" {
                        changes.push(change("SET SCHEMA", session));
                    }
                }
                "reset" if next(1) == "search_path" => {
                    changes.push(change("RESET search_path", false));
                }
                "set_config" if next(1) == "(" && next(2) == "'search_path'" => {
                    let local = call_arguments(&words[i + 1..]).get(2) == Some(&vec!["true"]);
                    changes.push(change("set_config('search_path', ...)", !local));
                }
                _ => {}
            }
        }
    }
    changes
}

/// The arguments of a call, given the tokens from its `(`: each as its tokens.
fn call_arguments<'t>(tokens: &[&'t str]) -> Vec<Vec<&'t str>> {
    let mut arguments = vec![Vec::new()];
    let mut depth = 0;
    for &token in tokens {
        match token {
            "(" => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            ")" => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            "," if depth == 1 => {
                arguments.push(Vec::new());
                continue;
            }
            _ => {}
        }
        if let Some(argument) = arguments.last_mut() {
            argument.push(token);
        }
    }
    arguments
}

struct Token {
    text: String,
    line: usize,
}

/// The tokens of each statement of `sql`, lower-cased: words, `'quoted strings'` (quotes
/// kept), `(`, `)`, `,` and other punctuation one character at a time. Comments are left out;
/// dollar quotes are dropped but their bodies kept, so that a `DO` block's statements count.
fn sql_statements(sql: &str) -> Vec<Vec<Token>> {
    let chars: Vec<char> = sql.chars().collect();
    let mut statements = vec![Vec::new()];
    let mut line = 1;
    let mut i = 0;
    let push = |statements: &mut Vec<Vec<Token>>, text: String, line| {
        if let Some(statement) = statements.last_mut() {
            statement.push(Token { text, line });
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let at = |n: usize| chars.get(i + n).copied();
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '-' && at(1) == Some('-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(1) == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                line += usize::from(chars[i] == '\n');
                i += 1;
            }
            i += 2;
        } else if c == '\'' || c == '"' {
            let start = (i, line);
            i += 1;
            while i < chars.len() {
                if chars[i] == c && chars.get(i + 1) == Some(&c) {
                    i += 2;
                } else if chars[i] == c {
                    break;
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
            i += 1;
            let body: String = chars[start.0 + 1..(i - 1).min(chars.len())]
                .iter()
                .collect();
            let body = body.to_lowercase();
            // A quoted identifier is the name itself; a string keeps its quotes.
            let text = if c == '"' { body } else { format!("'{body}'") };
            push(&mut statements, text, start.1);
        } else if c == '$' {
            // `$1` is a parameter; `$$` and `$tag$` open or close a dollar quote.
            let end = chars[i + 1..]
                .iter()
                .position(|&d| !(d.is_alphanumeric() || d == '_'))
                .map_or(chars.len(), |n| i + 1 + n);
            if chars.get(end) == Some(&'$') && !chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                i = end + 1;
            } else {
                push(&mut statements, chars[i..end].iter().collect(), line);
                i = end;
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            push(&mut statements, word.to_lowercase(), line);
        } else if c == ';' {
            statements.push(Vec::new());
            i += 1;
        } else {
            push(&mut statements, c.to_string(), line);
            i += 1;
        }
    }
    statements.retain(|statement| !statement.is_empty());
    statements
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

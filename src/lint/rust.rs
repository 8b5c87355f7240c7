//! The rules on Rust source, checked on syn's syntax tree.

use std::path::Path;

use syn::spanned::Spanned;
use syn::visit::{self, Visit};

use super::finding::{Finding, Role};
use super::sql::{connection_state_changes, search_path_changes};

/// Crates a service must not know: the web framework and its plumbing.
const WEB_CRATES: &[&str] = &[
    "axum",
    "tower",
    "tower_http",
    "http",
    "hyper",
    "utoipa_axum",
];

/// sqlx's ways to a database connection that is not the request's tenant transaction. Names
/// as plain as `Pool` count only after `sqlx::`, since a `pools` module has a `Pool` type.
const RAW_POOL_TYPES: &[&str] = &["PgPool", "PgPoolOptions", "PgConnectOptions", "PgListener"];
const RAW_POOL_SQLX_ITEMS: &[&str] = &["Pool", "PoolOptions", "pool", "PoolConnection"];

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
        if self.role != Role::Other {
            let sql = literal.value();
            if let Some(change) = connection_state_changes(&sql).first() {
                self.report(literal.span(), change.rule, change.problem());
            }
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

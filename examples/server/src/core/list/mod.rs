//! The query parameters of every list endpoint: filters, search, sorting, keyset pagination
//! and counts. A module describes its fields once (a [`ListSpec`], generated in its
//! `models.rs`); [`ListQuery::parse`] checks a request's parameters against it, and
//! [`ListQuery::select`] and [`ListQuery::count`] turn the result into SQL.
//!
//! Nothing a client sends becomes SQL text: a column or an operator appears in a statement only
//! as the module's spec spells it, and every value is a bind parameter. Statements differ only
//! in which of these fixed clauses they hold, so each shape is planned for the filters it has
//! (a catch-all `($1 IS NULL OR col = $1)` statement would be planned once, generically, and
//! could not use an index for the filters it does have).
//!
//! Pages are keyset pages: `next` is a cursor holding the sort keys of the page's last row,
//! and the next page starts after them, so page 10,000 costs what page 1 does and rows inserted
//! meanwhile are neither repeated nor skipped. A cursor is signed (HMAC-SHA256) over the tenant,
//! the module and the sort it was made for, so a cursor from elsewhere or a tampered one is
//! refused rather than read.
//!
//! Its files, each using only those before it: `spec` (fields, their kinds, operators, values),
//! `cursor` (signing and opening cursors), `parse` (a request's parameters), `scope` (owner
//! and deletion conditions), `sql` (statements and pages), `openapi` (the parameters in the
//! API's document).

mod cursor;
mod openapi;
mod parse;
mod scope;
mod spec;
mod sql;

pub use self::cursor::{CursorKey, Cursors};
pub use self::parse::{DEFAULT_LIMIT, ListQuery, MAX_IN_VALUES, MAX_LIMIT, RESERVED};
pub use self::scope::{Deleted, RowScope};
pub use self::spec::{ListField, ListKind, ListSpec};
pub use self::sql::Listed;

/// What the unit tests of lists share: a spec with a field of each kind of behaviour, and
/// queries parsed against it.
#[cfg(test)]
pub(crate) mod fixture {
    use crate::core::error::{AppError, FieldError};
    use crate::core::list::{CursorKey, ListField, ListKind, ListQuery, ListSpec};
    use crate::core::tenant::TenantSlug;

    const STATUSES: &[&str] = &["open", "done"];
    pub static SPEC: ListSpec = ListSpec {
        table: "tasks",
        fields: &[
            ListField {
                name: "title",
                column: "title",
                kind: ListKind::String,
                optional: false,
            },
            ListField {
                name: "notes",
                column: "notes",
                kind: ListKind::Text,
                optional: true,
            },
            ListField {
                name: "order",
                column: "\"order\"",
                kind: ListKind::Integer,
                optional: true,
            },
            ListField {
                name: "status",
                column: "status",
                kind: ListKind::Enum(STATUSES),
                optional: false,
            },
            ListField {
                name: "count",
                column: "count",
                kind: ListKind::Integer,
                optional: false,
            },
            ListField {
                name: "labels",
                column: "labels",
                kind: ListKind::Array(&ListKind::String, "text[]"),
                optional: false,
            },
            ListField {
                name: "points",
                column: "points",
                kind: ListKind::Array(&ListKind::Integer, "integer[]"),
                optional: true,
            },
        ],
    };

    pub fn key() -> CursorKey {
        CursorKey::derive(b"test secret")
    }

    pub fn tenant(name: &str) -> TenantSlug {
        TenantSlug::parse(name).unwrap()
    }

    pub fn parse(query: &str) -> Result<ListQuery, Vec<FieldError>> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
        let key = key();
        let acme = tenant("acme");
        ListQuery::parse(&SPEC, &pairs, &key.for_tenant(&acme)).map_err(|error| match error {
            AppError::Validation(errors) => errors,
            other => panic!("{other:?}"),
        })
    }

    pub fn error_fields(query: &str) -> Vec<String> {
        parse(query)
            .expect_err(query)
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    pub fn sql(query: &str) -> String {
        parse(query)
            .unwrap()
            .select("s", "*")
            .sql()
            .as_str()
            .to_owned()
    }
}

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

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use hmac::{Hmac, Mac};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::Sha256;
use sqlx::{Postgres, QueryBuilder};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use uuid::Uuid;

use crate::core::error::{AppError, FieldError};
use crate::core::tenant::TenantSlug;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;
/// Values one `[in]` filter may list.
pub const MAX_IN_VALUES: usize = 100;

/// The parameters that are not filters. A field with one of these names is filtered with
/// `<field>[eq]=` instead of `<field>=`.
pub const RESERVED: [&str; 5] = ["q", "sort", "limit", "after", "count"];

/// What a field's values are, which decides the filters it takes and how they are parsed.
#[derive(Debug, Clone, Copy)]
pub enum ListKind {
    /// `string(N)`: equality, search, sorting.
    String,
    /// `text`: equality and search; not sorted (long values make poor keys).
    Text,
    /// `int` and `bigint`.
    Integer,
    Float,
    Decimal,
    Bool,
    /// `uuid` and `ref`.
    Uuid,
    Date,
    DateTime,
    /// The values an enum field may hold, as the API spells them.
    Enum(&'static [&'static str]),
    /// Neither filtered (but for `[null]`) nor sorted.
    Json,
}

impl ListKind {
    fn sortable(self) -> bool {
        !matches!(self, ListKind::Text | ListKind::Json)
    }

    fn searchable(self) -> bool {
        matches!(self, ListKind::String | ListKind::Text)
    }

    fn takes(self, op: Op) -> bool {
        use ListKind::*;
        match op {
            Op::Eq => !matches!(self, Json),
            Op::In => matches!(self, Uuid | Enum(_)),
            Op::Gt | Op::Gte | Op::Lt | Op::Lte => {
                matches!(self, Integer | Float | Decimal | Date | DateTime)
            }
            Op::Null => false, // decided by the field being optional
        }
    }

    /// `text` as a value of this kind, or what is wrong with it.
    fn parse(self, text: &str) -> Result<Value, String> {
        let wrong = |what: &str| format!("must be {what}, not {text:?}");
        match self {
            ListKind::String | ListKind::Text => Ok(Value::Text(text.to_owned())),
            ListKind::Enum(variants) => {
                if variants.contains(&text) {
                    Ok(Value::Text(text.to_owned()))
                } else {
                    Err(wrong(&format!("one of {}", variants.join(", "))))
                }
            }
            ListKind::Integer => text
                .parse()
                .map(Value::Integer)
                .map_err(|_| wrong("an integer")),
            ListKind::Float => match text.parse::<f64>() {
                Ok(number) if number.is_finite() => Ok(Value::Float(number)),
                _ => Err(wrong("a finite number")),
            },
            ListKind::Decimal => text
                .parse()
                .map(Value::Decimal)
                .map_err(|_| wrong("a decimal number such as 12.50")),
            ListKind::Bool => match text {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(wrong("true or false")),
            },
            ListKind::Uuid => Uuid::parse_str(text)
                .map(Value::Uuid)
                .map_err(|_| wrong("a UUID")),
            ListKind::Date => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Value::Date)
                .map_err(|_| wrong("a date such as 2024-03-10")),
            ListKind::DateTime => DateTime::parse_from_rfc3339(text)
                .map(|t| Value::DateTime(t.with_timezone(&Utc)))
                .map_err(|_| {
                    wrong(
                        "an RFC 3339 date and time such as 2024-03-10T12:30:00Z (a `+` in a URL \
                         is written %2B)",
                    )
                }),
            ListKind::Json => Err("json fields take only [null]".to_owned()),
        }
    }

    /// A value as the API serialised it (a cursor holds a row's values as JSON).
    fn parse_json(self, json: &serde_json::Value) -> Option<Value> {
        match (self, json) {
            (_, serde_json::Value::Null) => Some(Value::Null),
            (ListKind::Integer, json) => json.as_i64().map(Value::Integer),
            (ListKind::Float, json) => json.as_f64().map(Value::Float),
            (ListKind::Bool, json) => json.as_bool().map(Value::Bool),
            (kind, serde_json::Value::String(text)) => kind.parse(text).ok(),
            _ => None,
        }
    }
}

/// One field of a module, as lists see it.
#[derive(Debug)]
pub struct ListField {
    /// The JSON name, which query parameters use.
    pub name: &'static str,
    /// The column as SQL writes it, quoted when it is a keyword.
    pub column: &'static str,
    pub kind: ListKind,
    pub optional: bool,
}

/// Every module's own columns.
const BUILT_IN: [ListField; 3] = [
    ListField {
        name: "id",
        column: "id",
        kind: ListKind::Uuid,
        optional: false,
    },
    ListField {
        name: "created_at",
        column: "created_at",
        kind: ListKind::DateTime,
        optional: false,
    },
    ListField {
        name: "updated_at",
        column: "updated_at",
        kind: ListKind::DateTime,
        optional: false,
    },
];
const ID: &ListField = &BUILT_IN[0];

/// A module's list: its table and the fields it can filter, search and sort on.
#[derive(Debug)]
pub struct ListSpec {
    pub table: &'static str,
    /// The user's fields, without `id`, `created_at` and `updated_at`.
    pub fields: &'static [ListField],
}

impl ListSpec {
    fn field(&self, name: &str) -> Option<&'static ListField> {
        BUILT_IN
            .iter()
            .chain(self.fields)
            .find(|field| field.name == name)
    }

    fn names(&self, keep: impl Fn(&ListField) -> bool) -> Vec<&'static str> {
        BUILT_IN
            .iter()
            .chain(self.fields)
            .filter(|field| keep(field))
            .map(|field| field.name)
            .collect()
    }
}

impl ListSpec {
    /// The list's query parameters for the OpenAPI document, built from the spec so that the
    /// document and the parser cannot disagree (and a module of many fields does not compile
    /// into one enormous function).
    pub fn openapi_params(&self) -> Vec<Parameter> {
        let sortable = self.names(|f| f.kind.sortable()).join(", ");
        let mut params = vec![
            query_param(
                "sort",
                Type::String,
                format!(
                    "Sort keys separated by commas, each one of {sortable}, with - for \
                     descending; ties are broken by id. Default: created_at"
                ),
            ),
            query_param(
                "limit",
                Type::Integer,
                format!("Rows a page holds: 1 to {MAX_LIMIT}, {DEFAULT_LIMIT} if absent"),
            ),
            query_param(
                "after",
                Type::String,
                "The `next` cursor of the previous page, with the same sort".to_owned(),
            ),
            query_param(
                "count",
                Type::Boolean,
                "true: `total` counts the rows the filters match (a scan)".to_owned(),
            ),
        ];
        let searched = self.names(|f| f.kind.searchable());
        if !searched.is_empty() {
            params.push(query_param(
                "q",
                Type::String,
                format!(
                    "Rows whose {} contains this text, ignoring case; % and _ are plain \
                     characters",
                    searched.join(" or ")
                ),
            ));
        }
        for field in BUILT_IN.iter().chain(self.fields) {
            for (op_name, op) in OPS {
                let takes = match op {
                    Op::Null => field.optional,
                    op => field.kind.takes(op),
                };
                if !takes {
                    continue;
                }
                let name = match op {
                    Op::Eq if RESERVED.contains(&field.name) => format!("{}[eq]", field.name),
                    Op::Eq => field.name.to_owned(),
                    _ => format!("{}[{op_name}]", field.name),
                };
                let (ty, what) = match (op, field.kind) {
                    (Op::Null, _) => (
                        Type::Boolean,
                        "true: rows without a value; false: rows with one".to_owned(),
                    ),
                    (Op::In, _) => (
                        Type::String,
                        format!("{} is one of these, separated by commas", field.name),
                    ),
                    (op, kind) => (
                        kind.openapi_type(),
                        format!("{} {} this{}", field.name, op.words(), kind.hint()),
                    ),
                };
                params.push(query_param(&name, ty, what));
            }
        }
        params
    }
}

fn query_param(name: &str, ty: Type, description: String) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(ty)))
        .build()
}

impl ListKind {
    fn openapi_type(self) -> Type {
        match self {
            ListKind::Integer => Type::Integer,
            ListKind::Float | ListKind::Decimal => Type::Number,
            ListKind::Bool => Type::Boolean,
            _ => Type::String,
        }
    }

    /// How a value is written, where that is not plain.
    fn hint(self) -> String {
        match self {
            ListKind::Enum(variants) => format!(" (one of {})", variants.join(", ")),
            ListKind::Uuid => " (a UUID)".to_owned(),
            ListKind::Date => " (such as 2024-03-10)".to_owned(),
            ListKind::DateTime => " (RFC 3339, such as 2024-03-10T12:30:00Z)".to_owned(),
            ListKind::Decimal => " (such as 12.50)".to_owned(),
            _ => String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    In,
    Gt,
    Gte,
    Lt,
    Lte,
    Null,
}

const OPS: [(&str, Op); 7] = [
    ("eq", Op::Eq),
    ("in", Op::In),
    ("gt", Op::Gt),
    ("gte", Op::Gte),
    ("lt", Op::Lt),
    ("lte", Op::Lte),
    ("null", Op::Null),
];

/// A value to bind: what a filter compares with, or a cursor's key.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Text(String),
    Integer(i64),
    Float(f64),
    Decimal(Decimal),
    Bool(bool),
    Uuid(Uuid),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Null,
}

#[derive(Debug)]
enum Condition {
    /// `column <op> $n`, the operator one of the fixed ones in [`Op::sql`].
    Compare(&'static str, Value),
    In(Vec<Value>),
    Null(bool),
}

#[derive(Debug)]
struct Filter {
    field: &'static ListField,
    condition: Condition,
}

#[derive(Debug, Clone, Copy)]
struct SortKey {
    field: &'static ListField,
    descending: bool,
}

/// A checked list request.
#[derive(Debug)]
pub struct ListQuery {
    spec: &'static ListSpec,
    filters: Vec<Filter>,
    /// The `LIKE` pattern of `q`, its own `%`, `_` and `\` escaped.
    search: Option<String>,
    /// Ends with `id`, so that the order is total.
    sort: Vec<SortKey>,
    /// The sort keys of the row the page starts after.
    after: Option<Vec<Value>>,
    pub limit: i64,
    /// `?count=true`: the answer carries the number of rows matching the filters.
    pub count: bool,
}

/// A page of rows, the cursor of the next one (`None` on the last) and, when asked for, the
/// number of rows the filters match.
#[derive(Debug)]
pub struct Listed<T> {
    pub rows: Vec<T>,
    pub next: Option<String>,
    pub total: Option<i64>,
}

impl ListQuery {
    /// Checks a request's query parameters against `spec`; every bad one is reported, by name.
    pub fn parse(
        spec: &'static ListSpec,
        pairs: &[(String, String)],
        cursors: &Cursors,
    ) -> Result<ListQuery, AppError> {
        let mut errors = Vec::new();
        let mut error = |param: &str, message: String| {
            errors.push(FieldError {
                field: param.to_owned(),
                message,
            })
        };
        let mut query = ListQuery {
            spec,
            filters: Vec::new(),
            search: None,
            sort: Vec::new(),
            after: None,
            limit: DEFAULT_LIMIT,
            count: false,
        };
        let mut sort = None;
        let mut after = None;
        let mut seen: Vec<&str> = Vec::new();
        for (param, value) in pairs {
            if seen.contains(&param.as_str()) {
                error(param, "is given more than once".to_owned());
                continue;
            }
            seen.push(param);
            if value.contains('\0') {
                error(
                    param,
                    "must not contain the character U+0000 (NUL)".to_owned(),
                );
                continue;
            }
            match param.as_str() {
                "q" if spec.names(|f| f.kind.searchable()).is_empty() => error(
                    param,
                    "this list has no string or text field to search".to_owned(),
                ),
                "q" => query.search = (!value.is_empty()).then(|| like_pattern(value)),
                "sort" => sort = Some(value.as_str()),
                "after" => after = Some(value.as_str()),
                "limit" => match value.parse::<i64>() {
                    Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => query.limit = limit,
                    _ => error(param, format!("must be an integer from 1 to {MAX_LIMIT}")),
                },
                "count" => match value.as_str() {
                    "true" => query.count = true,
                    "false" => query.count = false,
                    _ => error(param, "must be true or false".to_owned()),
                },
                _ => match spec.filter(param, value) {
                    Ok(filter) => query.filters.push(filter),
                    Err(message) => error(param, message),
                },
            }
        }
        match spec.sort(sort.unwrap_or("created_at")) {
            Ok(keys) => query.sort = keys,
            Err(message) => error("sort", message),
        }
        if let Some(cursor) = after
            && !query.sort.is_empty()
        {
            match cursors.open(spec, &query.sort, cursor) {
                Some(values) => query.after = Some(values),
                None => error(
                    "after",
                    "is not a cursor this list gave out for this sort: pass the `next` of the \
                     previous page, with the same sort"
                        .to_owned(),
                ),
            }
        }
        if errors.is_empty() {
            Ok(query)
        } else {
            Err(AppError::Validation(errors))
        }
    }

    /// The list narrowed to the rows whose `field` is `id`: a parent's children, for the
    /// nested route of a `ref` (`/api/projects/{id}/tasks` is `/api/tasks?project_id={id}`).
    pub fn within(mut self, field: &str, id: Uuid) -> ListQuery {
        let field = self
            .spec
            .field(field)
            .expect("a field of the module's own list spec");
        self.filters.push(Filter {
            field,
            condition: Condition::Compare(Op::Eq.sql(), Value::Uuid(id)),
        });
        self
    }

    /// `SELECT columns FROM schema.table WHERE ... ORDER BY ... LIMIT ...`, for one row more
    /// than the page holds: that row only tells [`ListQuery::page`] whether there is a next
    /// page. `schema` is the tenant's, quoted (`db::Db::schema`).
    pub fn select(&self, schema: &str, columns: &str) -> QueryBuilder<Postgres> {
        let table = self.spec.table;
        let mut sql = QueryBuilder::new(format!("SELECT {columns} FROM {schema}.{table}"));
        let mut clauses = Clauses::new(&mut sql);
        self.push_filters(&mut clauses);
        if let Some(after) = &self.after {
            clauses.next();
            self.push_after(clauses.sql, after);
        }
        sql.push(" ORDER BY ");
        for (i, key) in self.sort.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push(key.field.column);
            if key.descending {
                sql.push(" DESC");
            }
        }
        sql.push(" LIMIT ").push_bind(self.limit + 1);
        sql
    }

    /// `SELECT count(*)` of the rows the filters match, on every page.
    pub fn count(&self, schema: &str) -> QueryBuilder<Postgres> {
        let table = self.spec.table;
        let mut sql = QueryBuilder::new(format!("SELECT count(*) FROM {schema}.{table}"));
        self.push_filters(&mut Clauses::new(&mut sql));
        sql
    }

    /// Keeps the page's rows (the query read one more) and signs the cursor of the next page.
    pub fn page<T: Serialize>(
        &self,
        mut rows: Vec<T>,
        total: Option<i64>,
        cursors: &Cursors,
    ) -> Listed<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next = match rows.last() {
            Some(last) if more => Some(cursors.seal(self.spec, &self.sort, last)),
            _ => None,
        };
        Listed { rows, next, total }
    }

    fn push_filters(&self, clauses: &mut Clauses) {
        for filter in &self.filters {
            let sql = clauses.next();
            let column = filter.field.column;
            match &filter.condition {
                Condition::Compare(op, value) => {
                    sql.push(format_args!("{column} {op} "));
                    bind(sql, value.clone());
                }
                Condition::In(values) => {
                    sql.push(format_args!("{column} = ANY("));
                    bind_array(sql, values);
                    sql.push(")");
                }
                Condition::Null(true) => {
                    sql.push(format_args!("{column} IS NULL"));
                }
                Condition::Null(false) => {
                    sql.push(format_args!("{column} IS NOT NULL"));
                }
            }
        }
        if let Some(pattern) = &self.search {
            let sql = clauses.next();
            sql.push("(");
            let searched = self.spec.fields.iter().filter(|f| f.kind.searchable());
            for (i, field) in searched.enumerate() {
                if i > 0 {
                    sql.push(" OR ");
                }
                sql.push(format_args!("{} ILIKE ", field.column));
                sql.push_bind(pattern.clone());
            }
            sql.push(")");
        }
    }

    /// The rows after the cursor's, in the sort's order. PostgreSQL sorts NULL after every
    /// value ascending and before every value descending; the comparisons below follow it.
    fn push_after(&self, sql: &mut QueryBuilder<Postgres>, after: &[Value]) {
        let keys = self.sort.iter().zip(after);
        let descending = self.sort[0].descending;
        // One direction and no NULLs: a row comparison, which an index on the sort's columns
        // answers by starting where the cursor points.
        if keys.clone().all(|(key, value)| {
            key.descending == descending && !key.field.optional && *value != Value::Null
        }) {
            let columns: Vec<&str> = self.sort.iter().map(|key| key.field.column).collect();
            let op = if descending { "<" } else { ">" };
            sql.push(format_args!("({}) {op} (", columns.join(", ")));
            for (i, value) in after.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                bind(sql, value.clone());
            }
            sql.push(")");
            return;
        }
        // Otherwise: after on the first key, or equal on it and after on the second, ... The
        // first key's bound is repeated on its own, so that an index on it can start there.
        let (first, first_value) = (self.sort[0], &after[0]);
        if !first.field.optional && *first_value != Value::Null {
            let op = if first.descending { "<=" } else { ">=" };
            sql.push(format_args!("{} {op} ", first.field.column));
            bind(sql, first_value.clone());
            sql.push(" AND ");
        }
        sql.push("(");
        for (i, (key, value)) in keys.clone().enumerate() {
            if i > 0 {
                sql.push(" OR ");
            }
            sql.push("(");
            for (before, before_value) in keys.clone().take(i) {
                push_equal(sql, before.field.column, before_value);
                sql.push(" AND ");
            }
            push_beyond(sql, key, value);
            sql.push(")");
        }
        sql.push(")");
    }
}

/// The clauses of a `WHERE`, joined by `AND`.
struct Clauses<'a> {
    sql: &'a mut QueryBuilder<Postgres>,
    first: bool,
}

impl<'a> Clauses<'a> {
    fn new(sql: &'a mut QueryBuilder<Postgres>) -> Self {
        Clauses { sql, first: true }
    }

    fn next(&mut self) -> &mut QueryBuilder<Postgres> {
        self.sql.push(if self.first { " WHERE " } else { " AND " });
        self.first = false;
        self.sql
    }
}

fn push_equal(sql: &mut QueryBuilder<Postgres>, column: &str, value: &Value) {
    if *value == Value::Null {
        sql.push(format_args!("{column} IS NULL"));
    } else {
        sql.push(format_args!("{column} = "));
        bind(sql, value.clone());
    }
}

/// `column` is strictly after `value` in the key's direction, NULL counting as the largest.
fn push_beyond(sql: &mut QueryBuilder<Postgres>, key: &SortKey, value: &Value) {
    let column = key.field.column;
    match (key.descending, value) {
        (false, Value::Null) => {
            sql.push("FALSE");
        }
        (true, Value::Null) => {
            sql.push(format_args!("{column} IS NOT NULL"));
        }
        (descending, value) => {
            let op = if descending { "<" } else { ">" };
            if key.field.optional && !descending {
                sql.push(format_args!("({column} {op} "));
                bind(sql, value.clone());
                sql.push(format_args!(" OR {column} IS NULL)"));
            } else {
                sql.push(format_args!("{column} {op} "));
                bind(sql, value.clone());
            }
        }
    }
}

fn bind(sql: &mut QueryBuilder<Postgres>, value: Value) {
    match value {
        Value::Text(v) => sql.push_bind(v),
        Value::Integer(v) => sql.push_bind(v),
        Value::Float(v) => sql.push_bind(v),
        Value::Decimal(v) => sql.push_bind(v),
        Value::Bool(v) => sql.push_bind(v),
        Value::Uuid(v) => sql.push_bind(v),
        Value::Date(v) => sql.push_bind(v),
        Value::DateTime(v) => sql.push_bind(v),
        Value::Null => sql.push("NULL"),
    };
}

/// `[in]` takes uuids, refs and enums only, so a list is of UUIDs or of strings.
fn bind_array(sql: &mut QueryBuilder<Postgres>, values: &[Value]) {
    let uuids: Vec<Uuid> = values
        .iter()
        .filter_map(|value| match value {
            Value::Uuid(id) => Some(*id),
            _ => None,
        })
        .collect();
    if !uuids.is_empty() {
        sql.push_bind(uuids);
        return;
    }
    let texts: Vec<String> = values
        .iter()
        .filter_map(|value| match value {
            Value::Text(text) => Some(text.clone()),
            _ => None,
        })
        .collect();
    sql.push_bind(texts);
}

/// `q` as a case-insensitive substring pattern in which `%`, `_` and `\` match themselves.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl ListSpec {
    /// One filter parameter: `field`, `field[op]`.
    fn filter(&self, param: &str, value: &str) -> Result<Filter, String> {
        let (name, op) = match param.split_once('[') {
            Some((name, rest)) => {
                let Some(op) = rest.strip_suffix(']') else {
                    return Err("must be written <field>[<operator>]".to_owned());
                };
                (name, OPS.iter().find(|(o, _)| *o == op).map(|(_, op)| *op))
            }
            None => (param, Some(Op::Eq)),
        };
        let Some(field) = self.field(name) else {
            return Err(self.unknown(name));
        };
        let takes = |op: Op| match op {
            Op::Null => field.optional,
            op => field.kind.takes(op),
        };
        let ops: Vec<&str> = OPS
            .iter()
            .filter(|(_, op)| takes(*op))
            .map(|(name, _)| *name)
            .collect();
        let op = match op {
            Some(op) if takes(op) => op,
            _ if ops.is_empty() => return Err(format!("{name} cannot be filtered")),
            _ => {
                return Err(format!(
                    "{name} takes the operators {}",
                    ops.iter()
                        .map(|op| format!("[{op}]"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        };
        let condition = match op {
            Op::Null => match value {
                "true" => Condition::Null(true),
                "false" => Condition::Null(false),
                _ => return Err("must be true or false".to_owned()),
            },
            Op::In => {
                let values: Vec<&str> = value.split(',').collect();
                if values.len() > MAX_IN_VALUES {
                    return Err(format!("takes at most {MAX_IN_VALUES} values"));
                }
                let parsed: Result<Vec<Value>, String> =
                    values.iter().map(|v| field.kind.parse(v)).collect();
                Condition::In(parsed?)
            }
            op => Condition::Compare(op.sql(), field.kind.parse(value)?),
        };
        Ok(Filter { field, condition })
    }

    fn unknown(&self, name: &str) -> String {
        if name == "offset" {
            return "lists page by cursor: pass the `next` of the previous page as `after`"
                .to_owned();
        }
        format!(
            "is not a parameter of this list; it takes {} and filters on {}",
            RESERVED.join(", "),
            self.names(|f| f.optional || f.kind.takes(Op::Eq))
                .join(", ")
        )
    }

    /// `name,-created_at` -> the keys, then `id` in the last key's direction.
    fn sort(&self, text: &str) -> Result<Vec<SortKey>, String> {
        let allowed = || self.names(|f| f.kind.sortable()).join(", ");
        let mut keys: Vec<SortKey> = Vec::new();
        for part in text.split(',') {
            let (name, descending) = match part.strip_prefix('-') {
                Some(name) => (name, true),
                None => (part, false),
            };
            let field = self.field(name).filter(|f| f.kind.sortable());
            let Some(field) = field else {
                return Err(format!(
                    "cannot sort by {part:?}; sort by one or more of {}, each with - \
                     for descending order, separated by commas",
                    allowed()
                ));
            };
            if keys.iter().any(|key| key.field.name == name) {
                return Err(format!("sorts by {name} twice"));
            }
            keys.push(SortKey { field, descending });
        }
        let last = keys[keys.len() - 1];
        if last.field.name != ID.name {
            keys.push(SortKey {
                field: ID,
                descending: last.descending,
            });
        }
        Ok(keys)
    }
}

impl Op {
    fn words(self) -> &'static str {
        match self {
            Op::Eq => "equals",
            Op::Gt => "is greater than",
            Op::Gte => "is at least",
            Op::Lt => "is less than",
            Op::Lte => "is at most",
            Op::In | Op::Null => "",
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Gt => ">",
            Op::Gte => ">=",
            Op::Lt => "<",
            Op::Lte => "<=",
            Op::In | Op::Null => unreachable!("not a comparison"),
        }
    }
}

/// The secret cursors are signed with, derived from the server's JWT secret so that there is
/// one secret to manage, but never the same key as the tokens'.
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl CursorKey {
    pub fn derive(secret: &[u8]) -> CursorKey {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
        mac.update(b"list cursors");
        CursorKey(mac.finalize().into_bytes().into())
    }

    /// Signs and opens cursors of `tenant`'s lists.
    pub fn for_tenant<'a>(&'a self, tenant: &'a TenantSlug) -> Cursors<'a> {
        Cursors { key: self, tenant }
    }
}

/// Cursors of one tenant's lists. A cursor is `<payload>.<signature>`, both base64url: the
/// payload is the JSON array of the last row's sort keys, the signature an HMAC over the
/// tenant, the table, the sort and the payload.
pub struct Cursors<'a> {
    key: &'a CursorKey,
    tenant: &'a TenantSlug,
}

impl Cursors<'_> {
    fn mac(&self, spec: &ListSpec, sort: &[SortKey], payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key.0).expect("HMAC takes any key");
        let sort: Vec<String> = sort
            .iter()
            .map(|key| {
                format!(
                    "{}{}",
                    if key.descending { "-" } else { "" },
                    key.field.name
                )
            })
            .collect();
        for part in [
            self.tenant.as_str().as_bytes(),
            spec.table.as_bytes(),
            sort.join(",").as_bytes(),
            payload,
        ] {
            // Length-prefixed, so that no two different inputs read the same.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    fn seal<T: Serialize>(&self, spec: &ListSpec, sort: &[SortKey], row: &T) -> String {
        let row = serde_json::to_value(row).expect("rows serialise to JSON");
        let keys: Vec<&serde_json::Value> = sort.iter().map(|key| &row[key.field.name]).collect();
        let payload = serde_json::to_vec(&keys).expect("JSON values serialise");
        let signature = self.mac(spec, sort, &payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    /// The sort keys a cursor holds, if this tenant's list with this sort signed it.
    fn open(&self, spec: &ListSpec, sort: &[SortKey], cursor: &str) -> Option<Vec<Value>> {
        let (payload, signature) = cursor.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        self.mac(spec, sort, &payload)
            .verify_slice(&signature)
            .ok()?;
        let values: Vec<serde_json::Value> = serde_json::from_slice(&payload).ok()?;
        if values.len() != sort.len() {
            return None;
        }
        sort.iter()
            .zip(&values)
            .map(|(key, value)| key.field.kind.parse_json(value))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUSES: &[&str] = &["open", "done"];
    static SPEC: ListSpec = ListSpec {
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
        ],
    };

    fn key() -> CursorKey {
        CursorKey::derive(b"test secret")
    }

    fn tenant(name: &str) -> TenantSlug {
        TenantSlug::parse(name).unwrap()
    }

    fn parse(query: &str) -> Result<ListQuery, Vec<FieldError>> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
        let key = key();
        let acme = tenant("acme");
        ListQuery::parse(&SPEC, &pairs, &key.for_tenant(&acme)).map_err(|error| match error {
            AppError::Validation(errors) => errors,
            other => panic!("{other:?}"),
        })
    }

    fn error_fields(query: &str) -> Vec<String> {
        parse(query)
            .expect_err(query)
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    fn sql(query: &str) -> String {
        parse(query)
            .unwrap()
            .select("s", "*")
            .sql()
            .as_str()
            .to_owned()
    }

    #[test]
    fn every_bad_parameter_is_named() {
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=201", "limit"),
            ("limit=many", "limit"),
            ("count=yes", "count"),
            ("sort=nope", "sort"),
            ("sort=notes", "sort"),
            ("sort=title,-title", "sort"),
            ("sort=", "sort"),
            ("after=garbage", "after"),
            ("title[gt]=a", "title[gt]"),
            ("title[null]=true", "title[null]"),
            ("notes[null]=maybe", "notes[null]"),
            ("status=closed", "status"),
            ("status[in]=open,closed", "status[in]"),
            ("order=1.5", "order"),
            ("order[between]=1", "order[between]"),
            ("order[gt=1", "order[gt"),
            ("created_at[gte]=yesterday", "created_at[gte]"),
            ("id=42", "id"),
            ("nope=1", "nope"),
            ("offset=10", "offset"),
            ("title=a&title=b", "title"),
            ("title=a%00", "title"),
        ] {
            assert_eq!(error_fields(query), [field], "{query}");
        }
        assert_eq!(error_fields("limit=0&sort=x&z=1"), ["limit", "z", "sort"]);
    }

    #[test]
    fn an_unknown_sort_lists_the_allowed_fields() {
        let errors = parse("sort=notes").unwrap_err();
        assert!(
            errors[0]
                .message
                .contains("id, created_at, updated_at, title, order, status, count"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_field_named_like_a_parameter_is_filtered_with_eq() {
        let query = parse("count=true&count[eq]=3").unwrap();
        assert!(query.count);
        assert!(sql("count[eq]=3").contains("WHERE count = $1"));
    }

    #[test]
    fn statements_are_fixed_text_with_bound_values() {
        assert_eq!(
            sql(""),
            "SELECT * FROM s.tasks ORDER BY created_at, id LIMIT $1"
        );
        assert_eq!(
            sql("title=x'; DROP TABLE tasks&order[gte]=2&status[in]=open,done&notes[null]=false"),
            "SELECT * FROM s.tasks WHERE title = $1 AND \"order\" >= $2 AND status = ANY($3) \
             AND notes IS NOT NULL ORDER BY created_at, id LIMIT $4"
        );
        assert_eq!(
            sql("q=50%25_off&sort=-order,title"),
            "SELECT * FROM s.tasks WHERE (title ILIKE $1 OR notes ILIKE $2) \
             ORDER BY \"order\" DESC, title, id LIMIT $3"
        );
        assert_eq!(like_pattern("50%_\\"), "%50\\%\\_\\\\%");
    }

    fn next_cursor(query: &ListQuery, row: serde_json::Value, tenant_name: &str) -> String {
        let key = key();
        let tenant = tenant(tenant_name);
        let rows = vec![row.clone(), row];
        let mut query_one = ListQuery {
            limit: 1,
            ..parse("").unwrap()
        };
        query_one.sort = query.sort.clone();
        query_one
            .page(rows, None, &key.for_tenant(&tenant))
            .next
            .unwrap()
    }

    #[test]
    fn cursors_are_bound_to_tenant_list_and_sort() {
        let row = serde_json::json!({
            "id": Uuid::nil(), "created_at": "2024-03-10T10:30:00.123456Z",
            "title": "a", "order": null,
        });
        let by_default = parse("").unwrap();
        let cursor = next_cursor(&by_default, row.clone(), "acme");
        let after = parse(&format!("after={cursor}")).unwrap();
        assert_eq!(
            after.select("s", "*").sql().as_str(),
            "SELECT * FROM s.tasks WHERE (created_at, id) > ($1, $2) ORDER BY created_at, id \
             LIMIT $3"
        );

        let elsewhere = next_cursor(&by_default, row.clone(), "other");
        assert_eq!(error_fields(&format!("after={elsewhere}")), ["after"]);
        assert_eq!(
            error_fields(&format!("after={cursor}&sort=-created_at")),
            ["after"]
        );
        let (payload, signature) = cursor.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD
            .encode(br#"["2000-01-01T00:00:00Z","00000000-0000-0000-0000-000000000000"]"#);
        for tampered in [
            format!("{forged}.{signature}"),
            format!("{payload}.{}", &signature[1..]),
            payload.to_owned(),
        ] {
            assert_eq!(error_fields(&format!("after={tampered}")), ["after"]);
        }

        // A nullable key in the sort: NULLs come last ascending.
        let by_order = parse("sort=order").unwrap();
        let cursor = next_cursor(&by_order, row, "acme");
        assert_eq!(
            parse(&format!("sort=order&after={cursor}"))
                .unwrap()
                .select("s", "*")
                .sql()
                .as_str(),
            "SELECT * FROM s.tasks WHERE ((FALSE) OR (\"order\" IS NULL AND id > $1)) \
             ORDER BY \"order\", id LIMIT $2"
        );
    }

    #[test]
    fn a_cursor_of_another_list_is_refused() {
        static NOTES: ListSpec = ListSpec {
            table: "notes",
            fields: &[],
        };
        let key = key();
        let acme = tenant("acme");
        let row = serde_json::json!({"id": Uuid::nil(), "created_at": "2024-03-10T10:30:00Z"});
        let cursor = next_cursor(&parse("").unwrap(), row, "acme");
        let pairs = vec![("after".to_owned(), cursor)];
        assert!(ListQuery::parse(&SPEC, &pairs, &key.for_tenant(&acme)).is_ok());
        match ListQuery::parse(&NOTES, &pairs, &key.for_tenant(&acme)) {
            Err(AppError::Validation(errors)) => assert_eq!(errors[0].field, "after"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_openapi_parameters_are_those_the_parser_takes() {
        let names: Vec<String> = SPEC
            .openapi_params()
            .into_iter()
            .map(|param| param.name)
            .collect();
        for name in [
            "sort",
            "limit",
            "after",
            "count",
            "q",
            "id",
            "id[in]",
            "created_at[gte]",
            "title",
            "notes[null]",
            "order[lt]",
            "status[in]",
            "count[eq]",
            "count[gt]",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
        for name in [
            "title[gt]",
            "notes[in]",
            "count",
            "status[gt]",
            "title[null]",
        ] {
            assert_eq!(
                names.iter().filter(|n| *n == name).count(),
                usize::from(name == "count")
            );
        }
    }

    #[test]
    fn cursor_keys_differ_by_secret() {
        assert_ne!(CursorKey::derive(b"one").0, CursorKey::derive(b"two").0);
    }
}

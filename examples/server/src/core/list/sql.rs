//! The statements of a checked [`ListQuery`], and the page its rows make. Every column and
//! operator is the spec's own text; every value is a bind parameter.

use serde::Serialize;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::cursor::Cursors;
use super::parse::{Condition, ListQuery};
use super::spec::{ListKind, Op, SortKey, Value};

/// A page of rows, the cursor of the next one (`None` on the last) and, when asked for, the
/// number of rows the filters match.
#[derive(Debug)]
pub struct Listed<T> {
    pub rows: Vec<T>,
    pub next: Option<String>,
    pub total: Option<i64>,
}

impl ListQuery {
    /// `SELECT columns FROM schema.table WHERE ... ORDER BY ... LIMIT ...`, for one row more
    /// than the page holds: that row only tells [`ListQuery::page`] whether there is a next
    /// page. `schema` is the tenant's, quoted (`db::Db::schema`).
    pub fn select(&self, schema: &str, columns: &str) -> QueryBuilder<Postgres> {
        let table = self.spec.table;
        self.select_from(columns, |sql| {
            sql.push(format_args!("{schema}.{table}"));
        })
    }

    /// [`ListQuery::select`] over the rows `from` pushes (a table, or a parenthesised
    /// statement with an alias and bound values of its own) instead of the spec's table: a
    /// join whose columns are the spec's fields, say. The spec's columns are written unqualified.
    pub fn select_from(
        &self,
        columns: &str,
        from: impl FnOnce(&mut QueryBuilder<Postgres>),
    ) -> QueryBuilder<Postgres> {
        let mut sql = QueryBuilder::new(format!("SELECT {columns} FROM "));
        from(&mut sql);
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
        self.count_from(|sql| {
            sql.push(format_args!("{schema}.{table}"));
        })
    }

    /// [`ListQuery::count`] over the rows `from` pushes, as [`ListQuery::select_from`].
    pub fn count_from(
        &self,
        from: impl FnOnce(&mut QueryBuilder<Postgres>),
    ) -> QueryBuilder<Postgres> {
        let mut sql = QueryBuilder::new("SELECT count(*) FROM ");
        from(&mut sql);
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
                    sql.push(format_args!("{column} {} ", op.sql()));
                    bind(sql, value.clone());
                }
                Condition::In(values) => {
                    sql.push(format_args!("{column} = ANY("));
                    bind_array(sql, values);
                    sql.push(")");
                }
                Condition::Elements(op, values) => {
                    let ListKind::Array(_, sql_type) = filter.field.kind else {
                        unreachable!("only arrays take [contains] and [overlaps]")
                    };
                    sql.push(format_args!("{column} {} CAST(", op.sql()));
                    bind_elements(sql, values);
                    sql.push(format_args!(" AS {sql_type})"));
                }
                Condition::Null(true) => {
                    sql.push(format_args!("{column} IS NULL"));
                }
                Condition::Null(false) => {
                    sql.push(format_args!("{column} IS NOT NULL"));
                }
            }
        }
        if let Some(text) = &self.search {
            let pattern = like_pattern(text);
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

/// An array filter's values, all of the element's kind, bound as one array of it.
fn bind_elements(sql: &mut QueryBuilder<Postgres>, values: &[Value]) {
    macro_rules! all {
        ($variant:ident) => {
            values
                .iter()
                .filter_map(|value| match value {
                    Value::$variant(v) => Some(v.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
    }
    match values.first() {
        Some(Value::Integer(_)) => sql.push_bind(all!(Integer)),
        Some(Value::Float(_)) => sql.push_bind(all!(Float)),
        Some(Value::Decimal(_)) => sql.push_bind(all!(Decimal)),
        Some(Value::Bool(_)) => sql.push_bind(all!(Bool)),
        Some(Value::Uuid(_)) => sql.push_bind(all!(Uuid)),
        Some(Value::Date(_)) => sql.push_bind(all!(Date)),
        Some(Value::DateTime(_)) => sql.push_bind(all!(DateTime)),
        Some(Value::Text(_) | Value::Null) | None => sql.push_bind(all!(Text)),
    };
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

impl Op {
    fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Gt => ">",
            Op::Gte => ">=",
            Op::Lt => "<",
            Op::Lte => "<=",
            Op::Contains => "@>",
            Op::Overlaps => "&&",
            Op::In | Op::Null => unreachable!("not a comparison"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;
    use crate::core::list::fixture::sql;

    #[test]
    fn statements_are_fixed_text_with_bound_values() {
        assert_eq!(
            sql(""),
            "SELECT * FROM s.tasks ORDER BY created_at, id LIMIT $1"
        );
        assert_eq!(
            sql("title=x'; DROP TABLE tasks&order[gte]=2&status[in]=open,done&notes[null]=false"),
            // Filters in the spec's field order, whatever the query's.
            "SELECT * FROM s.tasks WHERE title = $1 AND notes IS NOT NULL AND \"order\" >= $2 \
             AND status = ANY($3) ORDER BY created_at, id LIMIT $4"
        );
        assert_eq!(
            sql("q=50%25_off&sort=-order,title"),
            "SELECT * FROM s.tasks WHERE (title ILIKE $1 OR notes ILIKE $2) \
             ORDER BY \"order\" DESC, title, id LIMIT $3"
        );
        assert_eq!(like_pattern("50%_\\"), "%50\\%\\_\\\\%");
    }
}

//! A request's query parameters checked against a module's [`ListSpec`]: every bad one is
//! reported by name, and what is left is a [`ListQuery`] of known fields, operators and typed
//! values.

use uuid::Uuid;

use super::cursor::Cursors;
use super::spec::{ID, ListField, ListSpec, OPS, Op, SortKey, Value};
use crate::core::error::{AppError, FieldError};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;
/// Values one `[in]` filter may list.
pub const MAX_IN_VALUES: usize = 100;

/// The parameters that are not filters. A field with one of these names is filtered with
/// `<field>[eq]=` instead of `<field>=`.
pub const RESERVED: [&str; 5] = ["q", "sort", "limit", "after", "count"];

#[derive(Debug)]
pub(crate) enum Condition {
    /// `column <op> $n`, the operator one of the fixed ones of [`Op`].
    Compare(Op, Value),
    In(Vec<Value>),
    Null(bool),
}

#[derive(Debug)]
pub(crate) struct Filter {
    pub(crate) field: &'static ListField,
    pub(crate) condition: Condition,
}

/// A checked list request.
#[derive(Debug)]
pub struct ListQuery {
    pub(crate) spec: &'static ListSpec,
    pub(crate) filters: Vec<Filter>,
    /// The text of `q`, searched for in every string and text field.
    pub(crate) search: Option<String>,
    /// Ends with `id`, so that the order is total.
    pub(crate) sort: Vec<SortKey>,
    /// The sort keys of the row the page starts after.
    pub(crate) after: Option<Vec<Value>>,
    pub limit: i64,
    /// `?count=true`: the answer carries the number of rows matching the filters.
    pub count: bool,
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
                "q" => query.search = (!value.is_empty()).then(|| value.clone()),
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
            condition: Condition::Compare(Op::Eq, Value::Uuid(id)),
        });
        self
    }
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
            op => Condition::Compare(op, field.kind.parse(value)?),
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

#[cfg(test)]
mod tests {
    use crate::core::list::fixture::{error_fields, parse, sql};

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
}

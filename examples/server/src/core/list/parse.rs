//! A request's query parameters checked against a module's [`ListSpec`]: every bad one is
//! reported by name, and what is left is a [`ListQuery`] of known fields, operators and typed
//! values.

use std::collections::HashSet;

use uuid::Uuid;

use super::cursor::Cursors;
use super::spec::{BUILT_IN, CREATED_AT, ID, ListField, ListSpec, OPS, Op, SortKey, Value};
use crate::core::error::{AppError, FieldError};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;
/// Values one `[in]` filter may list.
pub const MAX_IN_VALUES: usize = 100;
/// Query parameters one list request may have, unless its list documents more: far more than
/// any real one needs (five of its own and one or two filters a field), few enough that a
/// request of thousands is refused before any of them is looked at.
pub const MAX_PARAMETERS: usize = 64;
/// Problems one refused request reports; past them, the answer says how many more there were.
pub const MAX_REPORTED: usize = 20;
/// Characters `q` may have. Search is a scan of every string and text column of the tenant's
/// rows (with `count=true`, of all of them): its cost grows with the text, so it is bounded.
pub const MAX_SEARCH_CHARS: usize = 200;

/// The parameters that are not filters. A field with one of these names is filtered with
/// `<field>[eq]=` instead of `<field>=`.
pub const RESERVED: [&str; 5] = ["q", "sort", "limit", "after", "count"];

#[derive(Debug)]
pub(crate) enum Condition {
    /// `column <op> $n`, the operator one of the fixed ones of [`Op`].
    Compare(Op, Value),
    In(Vec<Value>),
    /// `column @> $n` or `column && $n`, cast to the array's SQL type.
    Elements(Op, Vec<Value>),
    Null(bool),
}

#[derive(Debug)]
pub(crate) struct Filter {
    pub(crate) field: &'static ListField,
    pub(crate) condition: Condition,
}

impl Filter {
    /// Its operator's place in [`Op`].
    fn rank(&self) -> u8 {
        match &self.condition {
            Condition::Compare(op, _) => *op as u8,
            Condition::In(_) => Op::In as u8,
            Condition::Elements(op, _) => *op as u8,
            Condition::Null(_) => Op::Null as u8,
        }
    }
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
        // A client, or a tool reading the OpenAPI document, may send every parameter the
        // list documents at once, and a list of many fields documents more than the bound.
        let most = match pairs.len() > MAX_PARAMETERS {
            true => MAX_PARAMETERS.max(spec.openapi_params().len()),
            false => MAX_PARAMETERS,
        };
        if pairs.len() > most {
            return Err(AppError::Validation(vec![FieldError {
                field: "query".to_owned(),
                message: format!(
                    "has {} parameters; this list takes at most {most}",
                    pairs.len()
                ),
            }]));
        }
        let mut sort = None;
        let mut after = None;
        let mut seen = HashSet::with_capacity(pairs.len());
        for (param, value) in pairs {
            if !seen.insert(param.as_str()) {
                error(param, "is given more than once".to_owned());
                continue;
            }
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
                "q" if value.chars().count() > MAX_SEARCH_CHARS => error(
                    param,
                    format!("must be at most {MAX_SEARCH_CHARS} characters"),
                ),
                "q" => query.search = (!value.is_empty()).then(|| value.clone()),
                "sort" => sort = Some(value.as_str()),
                // Empty is the first page, for a client that sends the last `next` as it is.
                "after" => after = (!value.is_empty()).then_some(value.as_str()),
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
        match spec.sort(sort.unwrap_or(CREATED_AT.name)) {
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
            // The statement's text, and so the prepared statement it becomes, depends only on
            // which filters there are, not on the order a client wrote them in: fields in the
            // spec's order, each field's operators in `Op`'s.
            let fields = || BUILT_IN.iter().chain(spec.fields);
            let place = |field: &ListField| fields().position(|f| f.name == field.name);
            query
                .filters
                .sort_by_key(|filter| (place(filter.field), filter.rank()));
            return Ok(query);
        }
        if errors.len() > MAX_REPORTED {
            let more = errors.len() - MAX_REPORTED;
            errors.truncate(MAX_REPORTED);
            errors.push(FieldError {
                field: "query".to_owned(),
                message: format!("has {more} more problems, not listed"),
            });
        }
        Err(AppError::Validation(errors))
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
            Op::In | Op::Contains | Op::Overlaps => {
                let values: Vec<&str> = value.split(',').collect();
                if values.len() > MAX_IN_VALUES {
                    return Err(format!("takes at most {MAX_IN_VALUES} values"));
                }
                let parsed: Result<Vec<Value>, String> =
                    values.iter().map(|v| field.kind.parse(v)).collect();
                match op {
                    Op::In => Condition::In(parsed?),
                    op => Condition::Elements(op, parsed?),
                }
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
            self.names(|f| f.optional || f.kind.takes(Op::Eq) || f.kind.takes(Op::Contains))
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
            // Rows a key leaves tied are equal in that field, so a later key on the same field
            // cannot change the order: it is dropped, as the OpenAPI document's pattern allows.
            if keys.iter().any(|key| key.field.name == name) {
                continue;
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
    use super::{MAX_PARAMETERS, MAX_REPORTED, MAX_SEARCH_CHARS};
    use crate::core::error::AppError;
    use crate::core::json;
    use crate::core::list::fixture::{error_fields, key, parse, sql, tenant};
    use crate::core::list::{ListField, ListKind, ListQuery, ListSpec};

    #[test]
    fn every_bad_parameter_is_named() {
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=201", "limit"),
            ("limit=many", "limit"),
            ("count=yes", "count"),
            ("sort=nope", "sort"),
            ("sort=notes", "sort"),
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
            (
                json::pick("created_at[gte]=yesterday", "createdAt[gte]=yesterday"),
                json::pick("created_at[gte]", "createdAt[gte]"),
            ),
            ("id=42", "id"),
            ("nope=1", "nope"),
            ("offset=10", "offset"),
            ("title=a&title=b", "title"),
            ("title=a%00", "title"),
            ("labels=a", "labels"),
            ("labels[in]=a", "labels[in]"),
            ("labels[gt]=a", "labels[gt]"),
            ("title[contains]=a", "title[contains]"),
            ("sort=labels", "sort"),
            ("points[overlaps]=1,x", "points[overlaps]"),
            ("points[contains]=2147483648", "points[contains]"),
        ] {
            assert_eq!(error_fields(query), [field], "{query}");
        }
        assert_eq!(error_fields("limit=0&sort=x&z=1"), ["limit", "z", "sort"]);
    }

    #[test]
    fn a_request_of_many_parameters_gets_a_short_answer() {
        let many: Vec<String> = (0..50_000).map(|n| format!("p{n}=1")).collect();
        let errors = parse(&many.join("&")).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "query");
        assert!(errors[0].message.contains("50000 parameters"), "{errors:?}");
        // Within the limit, every bad one is checked, and the answer lists twenty of them.
        let unknown: Vec<String> = (0..MAX_PARAMETERS).map(|n| format!("p{n}=1")).collect();
        let errors = parse(&unknown.join("&")).unwrap_err();
        assert_eq!(errors.len(), MAX_REPORTED + 1);
        assert_eq!(errors[0].field, "p0");
        let more = format!("has {} more problems", MAX_PARAMETERS - MAX_REPORTED);
        assert!(
            errors[MAX_REPORTED].message.starts_with(&more),
            "{errors:?}"
        );
    }

    #[test]
    fn every_documented_parameter_may_come_at_once() {
        macro_rules! integers {
            ($($name:literal),*) => {
                &[$(ListField { name: $name, column: $name, kind: ListKind::Integer, optional: true }),*]
            };
        }
        static MANY: ListSpec = ListSpec {
            table: "many",
            fields: integers!("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"),
        };
        let params = MANY.openapi_params();
        assert!(params.len() > MAX_PARAMETERS, "{}", params.len());
        let pairs: Vec<(String, String)> = params
            .iter()
            .map(|param| {
                let value = match param.name.as_str() {
                    "sort" => "id",
                    "after" => "",
                    "id" | "id[in]" => "00000000-0000-0000-0000-000000000000",
                    name if ["created_at", "updated_at", "createdAt", "updatedAt"]
                        .iter()
                        .any(|at| name.starts_with(at)) =>
                    {
                        "2024-03-10T12:30:00Z"
                    }
                    name if name.ends_with("[null]") || name == "count" => "true",
                    _ => "1",
                };
                (param.name.clone(), value.to_owned())
            })
            .collect();
        let key = key();
        let acme = tenant("acme");
        let cursors = key.for_tenant(&acme);
        let query = ListQuery::parse(&MANY, &pairs, &cursors).unwrap();
        assert_eq!(query.filters.len(), params.len() - 4);
        let one_more: Vec<(String, String)> = (0..=params.len())
            .map(|n| (format!("p{n}"), "1".to_owned()))
            .collect();
        match ListQuery::parse(&MANY, &one_more, &cursors) {
            Err(AppError::Validation(errors)) => assert_eq!(errors[0].field, "query"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_statement_is_the_same_whatever_order_the_filters_come_in() {
        let one = sql("title=a&order[gte]=2&status[in]=open&notes[null]=false&order[lt]=9");
        let other = sql("order[lt]=9&notes[null]=false&status[in]=open&order[gte]=2&title=a");
        assert_eq!(one, other);
    }

    #[test]
    fn search_text_is_bounded() {
        let longest = "é".repeat(MAX_SEARCH_CHARS);
        assert!(parse(&format!("q={longest}")).is_ok());
        assert_eq!(error_fields(&format!("q={longest}x")), ["q"]);
    }

    #[test]
    fn an_empty_cursor_is_the_first_page() {
        assert!(parse("after=").unwrap().after.is_none());
        assert_eq!(sql("after=&limit=5"), sql("limit=5"));
    }

    #[test]
    fn a_repeated_sort_key_is_dropped() {
        // Rows the first key leaves tied are equal in that field, whatever the direction.
        assert_eq!(sql("sort=title,-title,order"), sql("sort=title,order"));
        assert_eq!(sql("sort=-id,id"), sql("sort=-id"));
    }

    #[test]
    fn an_unknown_sort_lists_the_allowed_fields() {
        let errors = parse("sort=notes").unwrap_err();
        assert!(
            errors[0].message.contains(json::pick(
                "id, created_at, updated_at, title, order, status, count",
                "id, createdAt, updatedAt, title, order, status, count"
            )),
            "{errors:?}"
        );
    }

    #[test]
    fn arrays_filter_on_all_or_any_of_their_elements() {
        assert_eq!(
            sql("labels[contains]=a,b&points[overlaps]=-2147483648,7"),
            "SELECT * FROM s.tasks WHERE labels @> CAST($1 AS text[]) \
             AND points && CAST($2 AS integer[]) ORDER BY created_at, id LIMIT $3"
        );
        let many = vec!["x"; super::MAX_IN_VALUES + 1].join(",");
        assert_eq!(
            error_fields(&format!("labels[overlaps]={many}")),
            ["labels[overlaps]"]
        );
        let problem = &parse("labels=a").unwrap_err()[0].message;
        assert_eq!(problem, "labels takes the operators [contains], [overlaps]");
    }

    #[test]
    fn a_field_named_like_a_parameter_is_filtered_with_eq() {
        let query = parse("count=true&count[eq]=3").unwrap();
        assert!(query.count);
        assert!(sql("count[eq]=3").contains("WHERE count = $1"));
    }
}

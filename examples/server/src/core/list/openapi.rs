//! A list's query parameters as the OpenAPI document describes them.

use serde_json::json;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{Required, Schema};

use super::parse::{DEFAULT_LIMIT, MAX_IN_VALUES, MAX_LIMIT, MAX_SEARCH_CHARS, RESERVED};
use super::scope::RowScope;
use super::spec::{BUILT_IN, CREATED_AT, ListKind, ListSpec, OPS, Op};
use crate::core::openapi::{DECIMAL, NO_NUL};

impl ListSpec {
    /// The list's query parameters for the OpenAPI document, built from the spec so that the
    /// document and the parser cannot disagree (and a module of many fields does not compile
    /// into one enormous function).
    pub fn openapi_params(&self) -> Vec<Parameter> {
        let sortable = self.names(|f| f.kind.sortable());
        let sort_key = format!("-?({})", sortable.join("|"));
        let mut params = vec![
            query_param(
                "sort",
                json!({"type": "string", "pattern": format!("^{sort_key}(,{sort_key})*$")}),
                format!(
                    "Sort keys separated by commas, each one of {}, with - for descending; \
                     ties are broken by id. Default: {}",
                    sortable.join(", "),
                    CREATED_AT.name
                ),
            ),
            query_param(
                "limit",
                json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
                format!("Rows a page holds: 1 to {MAX_LIMIT}, {DEFAULT_LIMIT} if absent"),
            ),
            query_param(
                "after",
                json!({"type": "string"}),
                "The `next` cursor of the previous page, with the same sort (only a cursor \
                 this list gave out is taken); empty for the first page"
                    .to_owned(),
            ),
            query_param(
                "count",
                json!({"type": "boolean"}),
                "true: `total` counts the rows the filters match (a scan)".to_owned(),
            ),
        ];
        let searched = self.names(|f| f.kind.searchable());
        if !searched.is_empty() {
            params.push(query_param(
                "q",
                json!({"type": "string", "maxLength": MAX_SEARCH_CHARS}),
                format!(
                    "Rows whose {} contains this text, ignoring case; % and _ are plain \
                     characters. At most {MAX_SEARCH_CHARS} characters",
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
                let (schema, what) = match (op, field.kind) {
                    (Op::Null, _) => (
                        json!({"type": "boolean"}),
                        "true: rows without a value; false: rows with one".to_owned(),
                    ),
                    (Op::Contains | Op::Overlaps, ListKind::Array(element, sql_type)) => (
                        {
                            let one = element.element_pattern(sql_type);
                            json!({
                                "type": "string",
                                "pattern": format!("^{one}(,{one}){{0,{}}}$", MAX_IN_VALUES - 1),
                            })
                        },
                        format!(
                            "{} holds {} of these{}, separated by commas (at most \
                             {MAX_IN_VALUES})",
                            field.name,
                            if op == Op::Contains { "all" } else { "any" },
                            element.hint()
                        ),
                    ),
                    (Op::In, kind) => {
                        let one = kind.pattern();
                        (
                            json!({
                                "type": "string",
                                "pattern": format!("^{one}(,{one}){{0,{}}}$", MAX_IN_VALUES - 1),
                            }),
                            format!(
                                "{} is one of these, separated by commas (at most \
                                 {MAX_IN_VALUES})",
                                field.name
                            ),
                        )
                    }
                    (op, kind) => (
                        kind.schema(),
                        format!("{} {} this{}", field.name, op.words(), kind.hint()),
                    ),
                };
                params.push(query_param(&name, schema, what));
            }
        }
        params
    }
}

impl RowScope {
    /// The parameters [`RowScope::take`] takes, as the OpenAPI document shows them.
    pub fn openapi_params(owned: bool, soft_delete: bool) -> Vec<Parameter> {
        let mut params = Vec::new();
        if owned {
            params.push(query_param(
                "owner",
                json!({"type": "string", "enum": ["me"]}),
                "`me`: only the caller's rows".to_owned(),
            ));
        }
        if soft_delete {
            params.push(query_param(
                "deleted",
                json!({"type": "string", "enum": ["exclude", "only", "include"]}),
                "Deleted rows: left out (`exclude`, the default), `only` them, or `include`d; \
                 other than `exclude` needs the module's admin permission"
                    .to_owned(),
            ));
        }
        params
    }
}

fn query_param(name: &str, schema: serde_json::Value, description: String) -> Parameter {
    let schema: Schema = serde_json::from_value(schema).expect("a valid schema");
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// A hyphenated UUID, the spelling the API writes.
const UUID: &str = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

impl ListKind {
    /// A filter value's schema: the type, format, range or spelling `ListKind::parse` takes.
    fn schema(self) -> serde_json::Value {
        match self {
            ListKind::Integer => json!({"type": "integer", "format": "int64"}),
            ListKind::Float => json!({
                "type": "number",
                "format": "double",
                "minimum": f64::MIN,
                "maximum": f64::MAX,
            }),
            ListKind::Decimal => {
                json!({"type": "string", "format": "decimal", "pattern": DECIMAL})
            }
            ListKind::Bool => json!({"type": "boolean"}),
            ListKind::Uuid => json!({"type": "string", "format": "uuid"}),
            ListKind::Date => json!({"type": "string", "format": "date"}),
            ListKind::DateTime => json!({"type": "string", "format": "date-time"}),
            ListKind::Enum(variants) => json!({"type": "string", "enum": variants}),
            ListKind::String
            | ListKind::Text
            | ListKind::Json
            | ListKind::UserId
            | ListKind::Array(..) => {
                json!({"type": "string", "pattern": NO_NUL})
            }
        }
    }

    /// One value of an `[in]` list, as a regular expression.
    fn pattern(self) -> String {
        match self {
            ListKind::Enum(variants) => format!("({})", variants.join("|")),
            _ => format!("({UUID})"),
        }
    }

    /// One value of an array filter, as a regular expression: what `ListKind::parse` reads,
    /// or a part of it that every generator of test data stays within (no integer beyond the
    /// column's, no 30 February).
    fn element_pattern(self, sql_type: &str) -> String {
        const DATE: &str = "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])";
        let pattern = match self {
            ListKind::Integer if sql_type == "integer[]" => "-?[0-9]{1,9}".to_owned(),
            ListKind::Integer => "-?[0-9]{1,18}".to_owned(),
            ListKind::Float => "-?[0-9]{1,15}(\\.[0-9]{1,15})?".to_owned(),
            ListKind::Decimal => "-?[0-9]{1,28}(\\.[0-9]{1,28})?".to_owned(),
            ListKind::Bool => "(true|false)".to_owned(),
            ListKind::Uuid => UUID.to_owned(),
            ListKind::Date => DATE.to_owned(),
            ListKind::DateTime => format!("{DATE}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z"),
            // Commas separate values; U+0000 is refused.
            _ => "[^,\\u0000]*".to_owned(),
        };
        format!("({pattern})")
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

impl Op {
    fn words(self) -> &'static str {
        match self {
            Op::Eq => "equals",
            Op::Gt => "is greater than",
            Op::Gte => "is at least",
            Op::Lt => "is less than",
            Op::Lte => "is at most",
            Op::In | Op::Null | Op::Contains | Op::Overlaps => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::core::json;
    use crate::core::list::RowScope;
    use crate::core::list::fixture::SPEC;

    #[test]
    fn the_scope_parameters_are_documented_for_the_modules_that_take_them() {
        let names = |owned, soft_delete| -> Vec<String> {
            let params = RowScope::openapi_params(owned, soft_delete);
            params.into_iter().map(|p| p.name).collect()
        };
        assert_eq!(names(true, true), ["owner", "deleted"]);
        assert_eq!(names(false, true), ["deleted"]);
        assert!(names(false, false).is_empty());
    }

    fn schema(name: &str) -> serde_json::Value {
        let param = SPEC
            .openapi_params()
            .into_iter()
            .find(|param| param.name == name)
            .unwrap_or_else(|| panic!("no parameter {name}"));
        serde_json::to_value(param.schema).unwrap()
    }

    #[test]
    fn each_parameter_has_the_type_and_spelling_the_parser_takes() {
        assert_eq!(schema("id")["format"], "uuid");
        let created_gte = json::pick("created_at[gte]", "createdAt[gte]");
        assert_eq!(schema(created_gte)["format"], "date-time");
        assert_eq!(schema("order[lt]")["type"], "integer");
        assert_eq!(
            schema("status")["enum"],
            serde_json::json!(["open", "done"])
        );
        assert_eq!(schema("title")["pattern"], crate::core::openapi::NO_NUL);
        assert_eq!(schema("limit")["maximum"], 200);
        assert_eq!(schema("q")["maxLength"], 200);
        assert_eq!(
            schema("status[in]")["pattern"],
            "^(open|done)(,(open|done)){0,99}$"
        );
        assert_eq!(
            schema("points[contains]")["pattern"],
            "^(-?[0-9]{1,9})(,(-?[0-9]{1,9})){0,99}$"
        );
        assert_eq!(
            schema("labels[overlaps]")["pattern"],
            "^([^,\\u0000]*)(,([^,\\u0000]*)){0,99}$"
        );
        let sort = schema("sort")["pattern"].as_str().unwrap().to_owned();
        assert!(
            sort.starts_with(json::pick(
                "^-?(id|created_at|updated_at|title|order|status|count)(,",
                "^-?(id|createdAt|updatedAt|title|order|status|count)(,"
            )),
            "{sort}"
        );
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
            json::pick("created_at[gte]", "createdAt[gte]"),
            "title",
            "notes[null]",
            "order[lt]",
            "status[in]",
            "count[eq]",
            "count[gt]",
            "labels[contains]",
            "labels[overlaps]",
            "points[overlaps]",
            "points[null]",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
        for name in [
            "title[gt]",
            "notes[in]",
            "count",
            "status[gt]",
            "title[null]",
            "labels",
            "labels[in]",
            "labels[null]",
            "points[gt]",
        ] {
            assert_eq!(
                names.iter().filter(|n| *n == name).count(),
                usize::from(name == "count")
            );
        }
    }
}

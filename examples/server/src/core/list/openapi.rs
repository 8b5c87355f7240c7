//! A list's query parameters as the OpenAPI document describes them.

use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, Type};

use super::parse::{DEFAULT_LIMIT, MAX_LIMIT, MAX_SEARCH_CHARS, RESERVED};
use super::spec::{BUILT_IN, ListKind, ListSpec, OPS, Op};

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
}

#[cfg(test)]
mod tests {
    use crate::core::list::fixture::SPEC;

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
}

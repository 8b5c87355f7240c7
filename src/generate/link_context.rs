//! What a link's templates (`templates/link/`) see beyond a module's: the key `link` of the
//! context, absent for a module.

use crate::input::project::JsonCase;
use heck::ToPascalCase;
use serde::Serialize;

use crate::input::link::{Direction, LinkSpec};
use crate::input::names::ModuleNames;
use crate::input::shell;
use crate::input::spec::ModuleSpec;

#[derive(Debug, Serialize)]
pub struct LinkView<'a> {
    /// Every name of each side (the keys of the top level).
    pub a: &'a ModuleNames,
    pub b: &'a ModuleNames,
    /// The columns holding the two ids: `project_id`, `tag_id`.
    pub a_column: &'a str,
    pub b_column: &'a str,
    /// The same as JSON keys (`projectId` in camelCase, see `[api] json_case`).
    pub a_json: String,
    pub b_json: String,
    /// B rows under A (`/api/projects/{id}/tags`), A rows under B: `name` (snake_case, for
    /// Rust names and `counts=`) and `route` (the path segment).
    pub forward: &'a Direction,
    pub backward: &'a Direction,
    /// Both sides are the same module.
    pub self_link: bool,
    /// A self link may link a row to itself.
    pub allow_self: bool,
    /// The arguments to `scaffold new link` that generate it: `projects tags role:string`.
    pub new_command: String,
    /// The names of the table's constraints and index.
    pub primary_key: String,
    pub a_foreign_key: String,
    pub b_foreign_key: String,
    pub b_index: String,
    /// The check that a self link does not link a row to itself.
    pub not_self: String,
    /// Forward, then backward, each from the side it is listed under.
    pub directions: [DirectionView<'a>; 2],
}

/// A direction as the templates write its routes, types and statements: the rows of
/// `listed` linked to a row of `owner` (`/api/<owner.route>/{id}/<route>`).
#[derive(Debug, Serialize)]
pub struct DirectionView<'a> {
    /// snake_case: `tags`, `followers`.
    pub name: &'a str,
    /// `name` in the JSON case: what `counts=` takes, and the key `<json_name>_count` (in
    /// camelCase `<json_name>Count`) it adds.
    pub json_name: String,
    /// The key `?counts=` adds to each row: `tags_count`, `tagsCount`.
    pub count_key: String,
    /// The path segment: `tags`.
    pub route: &'a str,
    /// PascalCase, for the direction's types: `TagsRow`, `TagsResponse`, `TagsPage`.
    pub pascal: String,
    pub owner: &'a ModuleNames,
    pub listed: &'a ModuleNames,
    /// The link's columns holding the owner's and the listed row's ids.
    pub owner_column: &'a str,
    pub listed_column: &'a str,
    /// The owner is side A, so (owner, listed) is (A, B); else (B, A).
    pub forward: bool,
    /// The list's label in cursors: `project_tags/tags`.
    pub label: String,
}

impl<'a> LinkView<'a> {
    pub fn new(spec: &'a ModuleSpec, link: &'a LinkSpec, case: JsonCase) -> Self {
        let table = &spec.names.module;
        let mut words = vec![link.a.module.clone(), link.b.module.clone()];
        words.extend(
            spec.fields
                .iter()
                .map(|field| shell::quote(&field.syntax())),
        );
        if *table != LinkSpec::default_name(&link.a, &link.b) {
            words.push(format!("--name {table}"));
        }
        if link.named_directions {
            words.push(format!("--as {}:{}", link.forward.name, link.backward.name));
        }
        if link.allow_self {
            words.push("--allow-self".into());
        }
        if !spec.with_tests {
            words.push("--no-tests".into());
        }
        Self {
            a: &link.a,
            b: &link.b,
            a_column: &link.a_column,
            b_column: &link.b_column,
            a_json: case.name(&link.a_column),
            b_json: case.name(&link.b_column),
            forward: &link.forward,
            backward: &link.backward,
            self_link: link.is_self(),
            allow_self: link.allow_self,
            new_command: words.join(" "),
            primary_key: format!("{table}_pkey"),
            a_foreign_key: format!("{table}_{}_fkey", link.a_column),
            b_foreign_key: format!("{table}_{}_fkey", link.b_column),
            b_index: format!("{table}_{}_idx", link.b_column),
            not_self: format!("{table}_not_self_check"),
            directions: [
                DirectionView::new(
                    table,
                    &link.forward,
                    (&link.a, &link.b),
                    (&link.a_column, &link.b_column),
                    true,
                    case,
                ),
                DirectionView::new(
                    table,
                    &link.backward,
                    (&link.b, &link.a),
                    (&link.b_column, &link.a_column),
                    false,
                    case,
                ),
            ],
        }
    }
}

impl<'a> DirectionView<'a> {
    fn new(
        table: &str,
        direction: &'a Direction,
        (owner, listed): (&'a ModuleNames, &'a ModuleNames),
        (owner_column, listed_column): (&'a str, &'a str),
        forward: bool,
        case: JsonCase,
    ) -> Self {
        Self {
            name: &direction.name,
            json_name: case.name(&direction.name),
            count_key: case.name(&format!("{}_count", direction.name)),
            route: &direction.route,
            pascal: direction.name.to_pascal_case(),
            owner,
            listed,
            owner_column,
            listed_column,
            forward,
            label: format!("{table}/{}", direction.name),
        }
    }
}

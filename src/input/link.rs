//! `scaffold new link A B`: the two modules a link joins, the names of its two directions and
//! the columns that hold the two ids. A link is a module without an `id` of its own: its rows
//! are pairs, its primary key the pair.

use heck::{ToKebabCase, ToSnakeCase};

use crate::input::idents;
use crate::input::names::{Inflections, ModuleNames, NameError};

/// PostgreSQL truncates identifiers longer than this many bytes.
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// What `new link` asked for, as the command line or the manifest spells it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkRequest<'a> {
    pub a: &'a str,
    pub b: &'a str,
    /// `--as FORWARD:BACKWARD`.
    pub directions: Option<&'a str>,
    pub allow_self: bool,
}

/// One direction of a link: the rows of one side listed under a row of the other.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Direction {
    /// snake_case: Rust names and the `counts=` key (`tags`, `followers`).
    pub name: String,
    /// kebab-case: the path segment, `/api/projects/{id}/<route>`.
    pub route: String,
}

impl Direction {
    fn of(names: &ModuleNames) -> Self {
        Self {
            name: names.module.clone(),
            route: names.route.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSpec {
    /// `/api/<a>/{id}/<forward>` lists B rows; `/api/<b>/{id}/<backward>` lists A rows.
    pub a: ModuleNames,
    pub b: ModuleNames,
    pub forward: Direction,
    pub backward: Direction,
    /// The columns holding A's and B's ids: `project_id`, `tag_id`; for a self link B's is
    /// named after the forward direction (`person_id`, `follower_id`).
    pub a_column: String,
    pub b_column: String,
    /// `--allow-self`: a row may be linked to itself (self links only).
    pub allow_self: bool,
    /// Whether `--as` was given (recorded, so the command reads back the same).
    pub named_directions: bool,
}

impl LinkSpec {
    /// `a` and `b` are the resolved sides; `link` the link's own names.
    pub fn new(
        link: &ModuleNames,
        a: ModuleNames,
        b: ModuleNames,
        request: &LinkRequest,
        inflections: &Inflections,
    ) -> Result<Self, NameError> {
        for side in [&a, &b] {
            if side.module == link.module {
                return Err(NameError(format!(
                    "a link needs a name of its own, not `{}`'s; choose another with --name",
                    side.module
                )));
            }
        }
        let self_link = a.module == b.module;
        let (forward, backward) = match request.directions {
            Some(words) => {
                let (forward, backward) = words.split_once(':').ok_or_else(|| {
                    NameError(format!(
                        "--as takes FORWARD:BACKWARD, the names of the two directions \
                         (`--as followers:following`), not `{words}`"
                    ))
                })?;
                let direction = |word: &str| {
                    let problem = if !idents::is_loose_identifier(word) {
                        Some(
                            "start with a letter and use only letters, digits, `_` or `-`"
                                .to_owned(),
                        )
                    } else {
                        let snake = word.to_snake_case();
                        idents::is_rust_keyword(&snake)
                            .then(|| format!("`{snake}` is a Rust keyword"))
                    };
                    if let Some(problem) = problem {
                        return Err(NameError(format!(
                            "--as `{word}` cannot name a direction: {problem}"
                        )));
                    }
                    let name = word.to_snake_case();
                    let singular = inflections.singularize(&name);
                    Ok((
                        Direction {
                            route: name.to_kebab_case(),
                            name,
                        },
                        singular,
                    ))
                };
                (direction(forward)?, direction(backward)?)
            }
            None if self_link => {
                return Err(NameError(format!(
                    "a link of `{0}` to itself needs names for its two directions, e.g. \
                     `--as followers:following` (GET /api/{1}/{{id}}/followers and \
                     /api/{1}/{{id}}/following)",
                    a.module, a.route
                )));
            }
            None => (
                (Direction::of(&b), b.singular.clone()),
                (Direction::of(&a), a.singular.clone()),
            ),
        };
        let ((forward, forward_singular), (backward, _)) = (forward, backward);
        if forward.name == backward.name {
            return Err(NameError(format!(
                "the two directions need different names, not both `{}`",
                forward.name
            )));
        }
        if request.allow_self && !self_link {
            return Err(NameError(
                "--allow-self is for a link of a module to itself".to_owned(),
            ));
        }
        let a_column = format!("{}_id", a.singular);
        let b_column = if self_link {
            format!("{forward_singular}_id")
        } else {
            format!("{}_id", b.singular)
        };
        if a_column == b_column {
            return Err(NameError(format!(
                "both ids would be in the column `{a_column}`; name the forward direction \
                 otherwise (--as)"
            )));
        }
        let spec = Self {
            a,
            b,
            forward,
            backward,
            a_column,
            b_column,
            allow_self: request.allow_self,
            named_directions: request.directions.is_some(),
        };
        spec.check_lengths(&link.module)?;
        Ok(spec)
    }

    pub fn is_self(&self) -> bool {
        self.a.module == self.b.module
    }

    /// The identifiers the link's table and constraints take, which PostgreSQL would cut
    /// short past 63 bytes (and two cut alike would collide).
    pub fn identifiers(&self, table: &str) -> Vec<String> {
        vec![
            table.to_owned(),
            format!("{table}_pkey"),
            format!("{table}_{}_fkey", self.a_column),
            format!("{table}_{}_fkey", self.b_column),
            format!("{table}_{}_idx", self.b_column),
            format!("{table}_not_self_check"),
        ]
    }

    fn check_lengths(&self, table: &str) -> Result<(), NameError> {
        let long = self
            .identifiers(table)
            .into_iter()
            .find(|name| name.len() > MAX_IDENTIFIER_BYTES);
        match long {
            Some(name) => Err(NameError(format!(
                "the link's table would need the identifier `{name}`, {} bytes, over \
                 PostgreSQL's limit of {MAX_IDENTIFIER_BYTES}; choose a shorter name with --name",
                name.len()
            ))),
            None => Ok(()),
        }
    }

    /// The words the manifest records after the link's name: `--link a:b`, `--as f:b`,
    /// `--allow-self`.
    pub fn words(&self) -> Vec<String> {
        let mut words = vec![
            "--link".to_owned(),
            format!("{}:{}", self.a.module, self.b.module),
        ];
        if self.named_directions {
            words.push("--as".to_owned());
            words.push(format!("{}:{}", self.forward.name, self.backward.name));
        }
        if self.allow_self {
            words.push("--allow-self".to_owned());
        }
        words
    }

    /// The link's default name: `project_tags` for projects and tags.
    pub fn default_name(a: &ModuleNames, b: &ModuleNames) -> String {
        format!("{}_{}", a.singular, b.module)
    }
}

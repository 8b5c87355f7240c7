//! From one word the user typed (`UserProfile`, `user-profiles`, `api_keys`) to every name a
//! module needs: snake plural for the module, table and permissions, Pascal singular for the
//! type, kebab plural for the route, and words for humans.
//!
//! Case comes from heck and number from [`inflect`]. No inflector is always right, so a
//! project's `[inflections]` and the `--singular`/`--plural` flags win over it.

pub mod inflect;

use std::collections::BTreeMap;

use heck::{ToKebabCase, ToPascalCase, ToSnakeCase};
use serde::Serialize;

use crate::input::idents;

/// Every spelling of a module's name. Serialised as is into the template context, both for
/// the module being generated and for the target of each `ref` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleNames {
    /// snake_case plural: the Rust module, the folder, the table and the permission prefix.
    pub module: String,
    /// snake_case singular, for variables and function names.
    pub singular: String,
    /// PascalCase singular: the model type.
    pub type_name: String,
    /// PascalCase plural.
    pub plural_type: String,
    /// kebab-case plural, the URL segment: `/api/<route>`.
    pub route: String,
    /// Lower-case words, singular, for messages and docs.
    pub human_singular: String,
    /// Lower-case words, plural.
    pub human_plural: String,
}

/// A name that cannot become a module. The message says what to type instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct NameError(pub String);

/// Project-specific `singular = plural` pairs, stored snake_case both ways round.
#[derive(Debug, Clone, Default)]
pub struct Inflections {
    plural_of: BTreeMap<String, String>,
    singular_of: BTreeMap<String, String>,
}

impl Inflections {
    pub fn new<I, S>(pairs: I) -> Result<Self, NameError>
    where
        I: IntoIterator<Item = (S, S)>,
        S: AsRef<str>,
    {
        let mut inflections = Self::default();
        for (singular, plural) in pairs {
            let (singular, plural) = (singular.as_ref(), plural.as_ref());
            let snake = |word: &str| {
                let snake = word.to_snake_case();
                if idents::is_snake_identifier(&snake) {
                    Ok(snake)
                } else {
                    Err(NameError(format!(
                        "[inflections] in scaffold.toml: `{singular} = \"{plural}\"` must pair two \
                         words, such as `person = \"people\"`"
                    )))
                }
            };
            let (singular, plural) = (snake(singular)?, snake(plural)?);
            inflections
                .plural_of
                .insert(singular.clone(), plural.clone());
            inflections.singular_of.insert(plural, singular);
        }
        Ok(inflections)
    }

    /// Plural of a snake_case name. Only the last word changes number: `user_profile` ->
    /// `user_profiles`. An override may name either the whole name or its last word.
    pub fn pluralize(&self, snake: &str) -> String {
        self.inflect(snake, &self.plural_of, &self.singular_of, inflect::plural)
    }

    pub fn singularize(&self, snake: &str) -> String {
        self.inflect(snake, &self.singular_of, &self.plural_of, inflect::singular)
    }

    fn inflect(
        &self,
        snake: &str,
        wanted: &BTreeMap<String, String>,
        already: &BTreeMap<String, String>,
        inflect: fn(&str) -> String,
    ) -> String {
        if let Some(word) = wanted.get(snake) {
            return word.clone();
        }
        if already.contains_key(snake) {
            return snake.to_string();
        }
        let (prefix, last) = match snake.rfind('_') {
            Some(at) => snake.split_at(at + 1),
            None => ("", snake),
        };
        let last = match (wanted.get(last), already.contains_key(last)) {
            (Some(word), _) => word.clone(),
            (None, true) => last.to_string(),
            (None, false) => inflect(last),
        };
        format!("{prefix}{last}")
    }
}

/// What the user asked for: the NAME argument and the two override flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct NameRequest<'a> {
    pub name: &'a str,
    pub singular: Option<&'a str>,
    pub plural: Option<&'a str>,
}

impl<'a> NameRequest<'a> {
    pub fn new(name: &'a str) -> Self {
        Self {
            name,
            ..Self::default()
        }
    }
}

/// Type names that generated code (or the prelude) already uses: a model called `Page` or
/// `Uuid` would not compile next to its own imports. Keep in step with the templates' `use`s.
pub(crate) const TAKEN_TYPE_NAMES: &[&str] = &[
    "AppError",
    "AppState",
    "Authorized",
    "Box",
    "Claims",
    "Client",
    "Ctx",
    "DateTime",
    "Decimal",
    "Deserialize",
    "Error",
    "FieldError",
    "IntoParams",
    "IntoResponse",
    "Json",
    "Keys",
    "ListField",
    "ListKind",
    "ListQuery",
    "ListSpec",
    "Listed",
    "Method",
    "NaiveDate",
    "OpenApiRouter",
    "Option",
    "Page",
    "Parameter",
    "ParameterIn",
    "Path",
    "Permission",
    "PgConnection",
    "Problem",
    "Query",
    "Read",
    "Result",
    "Router",
    "Self",
    "Serialize",
    "State",
    "StatusCode",
    "String",
    "TestApp",
    "TestResponse",
    "ToSchema",
    "Utc",
    "Uuid",
    "ValidJson",
    "Validate",
    "Value",
    "Vec",
    "Write",
];

impl ModuleNames {
    /// Derives every spelling, refusing names that cannot be Rust and SQL identifiers.
    pub fn derive(request: NameRequest, inflections: &Inflections) -> Result<Self, NameError> {
        let base = snake_word(request.name, "")?;
        let plural = match request.plural {
            Some(plural) => snake_word(plural, "--plural ")?,
            None => inflections.pluralize(&base),
        };
        let singular = match request.singular {
            Some(singular) => snake_word(singular, "--singular ")?,
            None => inflections.singularize(&base),
        };
        if plural == singular {
            return Err(NameError(format!(
                "`{plural}` has the same singular and plural form, so generated names would \
                 clash; say which is which, e.g. `--singular {singular}_item --plural {plural}`"
            )));
        }
        // The plural names the table too; the singular only ever names Rust variables.
        let problem = idents::reserved_word_problem(&plural)
            .map(|problem| (problem, "--plural"))
            .or_else(|| {
                idents::is_rust_keyword(&singular)
                    .then(|| (format!("`{singular}` is a Rust keyword"), "--singular"))
            });
        if let Some((problem, flag)) = problem {
            return Err(NameError(format!(
                "{problem}, so it cannot name a module; choose another name (or set {flag})"
            )));
        }
        let names = Self {
            type_name: singular.to_pascal_case(),
            plural_type: plural.to_pascal_case(),
            route: plural.to_kebab_case(),
            human_singular: singular.replace('_', " "),
            human_plural: plural.replace('_', " "),
            module: plural,
            singular,
        };
        for type_name in [&names.type_name, &names.plural_type] {
            if TAKEN_TYPE_NAMES.contains(&type_name.as_str()) {
                return Err(NameError(format!(
                    "the type name `{type_name}` would clash with a type generated code already \
                     uses; choose another name"
                )));
            }
        }
        Ok(names)
    }

    pub fn read_permission(&self) -> String {
        format!("{}:read", self.module)
    }

    pub fn write_permission(&self) -> String {
        format!("{}:write", self.module)
    }

    /// The types the module's own files declare besides enums.
    pub fn own_types(&self) -> [String; 5] {
        let t = &self.type_name;
        [
            t.clone(),
            format!("Create{t}"),
            format!("Update{t}"),
            format!("{t}Response"),
            format!("{t}Page"),
        ]
    }
}

/// One user-typed word, in any case, as snake_case, or why it cannot be a name. `flag`
/// prefixes the message when the word came from one.
fn snake_word(word: &str, flag: &str) -> Result<String, NameError> {
    if word.contains(['/', '\\']) || word.starts_with('.') || word.contains("..") {
        return Err(NameError(format!(
            "{flag}`{word}` looks like a path; give a plain module name such as `projects` or \
             `user_profiles` (the folder comes from scaffold.toml)"
        )));
    }
    if !idents::is_loose_identifier(word) {
        return Err(NameError(format!(
            "{flag}`{word}` is not a valid name: start with a letter and use only letters, \
             digits, `_` or `-` (e.g. `user_profiles`, `UserProfile`, `user-profiles`)"
        )));
    }
    Ok(word.to_snake_case())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn derive(name: &str) -> ModuleNames {
        ModuleNames::derive(NameRequest::new(name), &Inflections::default()).unwrap()
    }

    #[test]
    fn any_case_and_number_give_the_same_names() {
        let expected = derive("user_profiles");
        for spelling in [
            "UserProfile",
            "user-profiles",
            "userProfiles",
            "USER_PROFILES",
        ] {
            assert_eq!(derive(spelling), expected, "{spelling}");
        }
        assert_eq!(expected.type_name, "UserProfile");
        assert_eq!(expected.route, "user-profiles");
        assert_eq!(expected.human_singular, "user profile");
        assert_eq!(expected.read_permission(), "user_profiles:read");
    }

    #[test]
    fn overrides_win_over_the_inflector() {
        let inflections = Inflections::new([("Cactus", "cacti")]).unwrap();
        let names = ModuleNames::derive(NameRequest::new("cacti"), &inflections).unwrap();
        assert_eq!(
            (names.module.as_str(), names.singular.as_str()),
            ("cacti", "cactus")
        );
        let names = ModuleNames::derive(NameRequest::new("big_cactus"), &inflections).unwrap();
        assert_eq!(names.module, "big_cacti");
    }

    #[test]
    fn flags_win_over_everything() {
        let request = NameRequest {
            name: "news",
            singular: Some("NewsItem"),
            plural: None,
        };
        let names = ModuleNames::derive(request, &Inflections::default()).unwrap();
        assert_eq!(
            (names.module.as_str(), names.type_name.as_str()),
            ("news", "NewsItem")
        );
    }

    #[test]
    fn refuses_what_cannot_be_a_name() {
        let refuse = |name: &str| {
            ModuleNames::derive(NameRequest::new(name), &Inflections::default())
                .unwrap_err()
                .0
        };
        assert!(refuse("../x").contains("looks like a path"));
        assert!(refuse("a/b").contains("looks like a path"));
        assert!(refuse("9lives").contains("not a valid name"));
        assert!(refuse("types").contains("Rust keyword"));
        assert!(refuse("news").contains("--singular"));
        assert!(refuse("states").contains("`State` would clash"));
    }
}

//! The case of the API's JSON names: `[api] json_case` in the project's `scaffold.toml`,
//! `snake` (the default) or `camel`, which `build.rs` reads. Generated modules spell their
//! own fields in it; the core spells in it the names it gives itself: the columns every
//! module has (`created_at` or `createdAt`) and the `field` of errors it reports from garde
//! and PostgreSQL, which name Rust fields and columns, always snake_case.

use std::borrow::Cow;

/// True when the API spells its names in camelCase.
pub const CAMEL: bool = matches!(env!("SCAFFOLD_JSON_CASE").as_bytes(), b"camel");

/// `snake` or, in a camelCase API, `camel`: for names known when the code is written.
pub const fn pick(snake: &'static str, camel: &'static str) -> &'static str {
    if CAMEL { camel } else { snake }
}

/// The JSON name of a snake_case column or Rust field (or of a path of them, `items[0].due_at`),
/// spelt as serde's `rename_all = "camelCase"` spells a field.
pub fn name(snake: &str) -> Cow<'_, str> {
    if CAMEL {
        Cow::Owned(camel(snake))
    } else {
        Cow::Borrowed(snake)
    }
}

fn camel(snake: &str) -> String {
    let mut camel = String::with_capacity(snake.len());
    let mut upper = false;
    for ch in snake.chars() {
        if ch == '_' {
            upper = true;
        } else if upper {
            camel.extend(ch.to_uppercase());
            upper = false;
        } else {
            camel.push(ch);
        }
    }
    camel
}

#[cfg(test)]
mod tests {
    use super::camel;

    #[test]
    fn camel_case_is_serdes() {
        assert_eq!(camel("favorites_count"), "favoritesCount");
        assert_eq!(camel("items[0].due_at"), "items[0].dueAt");
        assert_eq!(camel("line_2_total"), "line2Total");
        assert_eq!(camel("name"), "name");
    }
}

//! Words that generated code cannot use as names, and what counts as an identifier.
//!
//! Every name the user gives ends up as a Rust identifier, a PostgreSQL identifier or both,
//! so both languages' reserved words are checked here, once, at parse time.

/// Strict and reserved Rust keywords of every edition up to 2024. Raw identifiers (`r#type`)
/// would compile, but generated code full of them is not code anyone wants to read.
const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// PostgreSQL keywords that cannot name a table or a column without quotes ("reserved" and
/// "reserved (can be function or type)" in the PostgreSQL keyword appendix). Templates write
/// identifiers unquoted, so `order` or `user` would break the migration.
const SQL_RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "overlaps",
    "placing",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "session_user",
    "similar",
    "some",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

/// PostgreSQL truncates longer identifiers silently, which would make constraint names (and
/// the errors mapped from them) differ from what the templates expect.
pub const MAX_SQL_IDENT_LEN: usize = 63;

pub fn is_rust_keyword(word: &str) -> bool {
    RUST_KEYWORDS.contains(&word)
}

pub fn is_sql_reserved(word: &str) -> bool {
    SQL_RESERVED.contains(&word)
}

/// An ASCII identifier as a user would type it in any case: a letter, then letters, digits,
/// `_` or `-`. A leading `_` is refused because heck would drop it silently.
pub fn is_loose_identifier(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A normalised snake_case identifier: what every name is once parsed.
pub fn is_snake_identifier(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !word.ends_with('_')
        && !word.contains("__")
}

/// The reason `word` cannot be a snake_case name, if any. Shared by module and field names.
pub fn reserved_word_problem(word: &str) -> Option<String> {
    if is_rust_keyword(word) {
        Some(format!("`{word}` is a Rust keyword"))
    } else if is_sql_reserved(word) {
        Some(format!("`{word}` is a reserved word in PostgreSQL"))
    } else if word.len() > MAX_SQL_IDENT_LEN {
        Some(format!(
            "`{word}` is longer than PostgreSQL's {MAX_SQL_IDENT_LEN}-byte identifier limit"
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_of_every_edition_are_caught() {
        for word in [
            "type", "async", "gen", "self", "super", "crate", "try", "yield",
        ] {
            assert!(is_rust_keyword(word), "{word}");
        }
        assert!(
            !is_rust_keyword("union"),
            "contextual keywords are fine as names"
        );
    }

    #[test]
    fn snake_identifiers() {
        assert!(is_snake_identifier("user_profiles"));
        assert!(is_snake_identifier("oauth2_clients"));
        for bad in ["", "User", "_x", "x_", "a__b", "1a", "a-b"] {
            assert!(!is_snake_identifier(bad), "{bad}");
        }
    }

    #[test]
    fn loose_identifiers_allow_any_case_but_no_paths() {
        for good in ["UserProfile", "user-profiles", "api_keys", "HTTPRequests"] {
            assert!(is_loose_identifier(good), "{good}");
        }
        for bad in ["../x", "a/b", "_x", "9lives", "a.b", "", "a b"] {
            assert!(!is_loose_identifier(bad), "{bad}");
        }
    }
}

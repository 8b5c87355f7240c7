//! Words that generated code cannot use as names, and what counts as an identifier.
//!
//! Every name the user gives ends up as a Rust identifier, a PostgreSQL identifier or both,
//! so both languages' reserved words are checked here, once, at parse time.

/// Strict and reserved Rust keywords of every edition up to 2024. A module name cannot be one;
/// a field name can, as a raw identifier (`r#type`), which serde, sqlx and utoipa read as `type`.
const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers either.
const NOT_RAW_KEYWORDS: &[&str] = &["crate", "self", "super"];

/// PostgreSQL keywords that cannot name a table or a column without quotes ("reserved" and
/// "reserved (can be function or type)" in the PostgreSQL keyword appendix). A module name
/// cannot be one; a field's column is quoted in every statement (see [`sql_ident`]).
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

/// The "non-reserved (cannot be function or type)" keywords: fine as column names, but
/// PostgreSQL's own `quote_ident` quotes them, and so does [`sql_ident`], to be safe in every
/// position of a statement.
const SQL_COLUMN_NAME_KEYWORDS: &[&str] = &[
    "between",
    "bigint",
    "bit",
    "boolean",
    "char",
    "character",
    "coalesce",
    "dec",
    "decimal",
    "exists",
    "extract",
    "float",
    "greatest",
    "grouping",
    "inout",
    "int",
    "integer",
    "interval",
    "least",
    "national",
    "nchar",
    "none",
    "normalize",
    "nullif",
    "numeric",
    "out",
    "overlay",
    "position",
    "precision",
    "real",
    "row",
    "setof",
    "smallint",
    "substring",
    "time",
    "timestamp",
    "treat",
    "trim",
    "values",
    "varchar",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// Columns every PostgreSQL table has already (`oid` only until PostgreSQL 12, but a table
/// that still has one may be restored into a newer server).
const SQL_SYSTEM_COLUMNS: &[&str] = &["cmax", "cmin", "ctid", "oid", "tableoid", "xmax", "xmin"];

/// PostgreSQL truncates longer identifiers silently, which would make constraint names (and
/// the errors mapped from them) differ from what the templates expect.
pub const MAX_SQL_IDENT_LEN: usize = 63;

pub fn is_rust_keyword(word: &str) -> bool {
    RUST_KEYWORDS.contains(&word)
}

pub fn is_sql_reserved(word: &str) -> bool {
    SQL_RESERVED.contains(&word)
}

/// `word` as a Rust identifier: `r#type` for a keyword.
pub fn rust_ident(word: &str) -> String {
    if is_rust_keyword(word) {
        format!("r#{word}")
    } else {
        word.to_owned()
    }
}

/// `word` (snake_case) as a PostgreSQL identifier, quoted exactly when PostgreSQL's
/// `quote_ident` would quote it: `"order"`, `title`.
pub fn sql_ident(word: &str) -> String {
    if is_sql_reserved(word) || SQL_COLUMN_NAME_KEYWORDS.contains(&word) {
        format!("\"{word}\"")
    } else {
        word.to_owned()
    }
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

/// The reason `word` cannot name a field (a column and a Rust struct field), if any. Keywords
/// of either language can; only the few words neither side can take are refused.
pub fn field_name_problem(word: &str) -> Option<String> {
    if NOT_RAW_KEYWORDS.contains(&word) {
        Some(format!(
            "`{word}` cannot name a Rust struct field, not even as the raw identifier `r#{word}`"
        ))
    } else if SQL_SYSTEM_COLUMNS.contains(&word) {
        Some(format!(
            "`{word}` is a PostgreSQL system column, which every table has already"
        ))
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
    fn keywords_become_raw_or_quoted_identifiers() {
        assert_eq!(rust_ident("type"), "r#type");
        assert_eq!(rust_ident("title"), "title");
        assert_eq!(sql_ident("order"), "\"order\"");
        assert_eq!(sql_ident("time"), "\"time\"");
        assert_eq!(sql_ident("type"), "type");
        assert!(field_name_problem("type").is_none());
        assert!(
            field_name_problem("self")
                .unwrap()
                .contains("raw identifier")
        );
        assert!(
            field_name_problem("xmin")
                .unwrap()
                .contains("system column")
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

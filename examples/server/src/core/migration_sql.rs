// Reading migration files: splitting them into statements, and refusing statements that would
// break the runner's rule of one transaction per schema. Shared by `build.rs` (through
// `include!`, which is why this file has no inner doc comment and no `use` of the crate) and by
// the runner, which executes a migration statement by statement so that an error can name the
// statement that failed.

/// One statement of a migration file: its text without the trailing `;`, and the line it
/// starts on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    pub line: usize,
    pub text: &'a str,
}

/// The statements of `sql`, split at top-level semicolons: semicolons inside quotes,
/// identifiers, dollar-quoted bodies and comments do not split. Statements that are only
/// comments are left out.
pub fn split_statements<'a>(sql: &'a str) -> Vec<Statement<'a>> {
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let push = |from: usize, to: usize, statements: &mut Vec<Statement<'a>>| {
        let untrimmed = &sql[from..to];
        let text = untrimmed.trim();
        if !code_words(text).is_empty() {
            let offset = from + (untrimmed.len() - untrimmed.trim_start().len());
            let line = 1 + sql[..offset].matches('\n').count();
            statements.push(Statement { line, text });
        }
    };
    while i < bytes.len() {
        match bytes[i] {
            b';' => {
                push(start, i, &mut statements);
                start = i + 1;
                i += 1;
            }
            _ => i = skip_token(sql, i),
        }
    }
    push(start, sql.len(), &mut statements);
    // Comments before a statement belong to it in the text, but its line is where its code
    // starts, which is what an editor should jump to.
    for statement in &mut statements {
        let code_start = first_code_offset(statement.text);
        statement.line += statement.text[..code_start].matches('\n').count();
        statement.text = &statement.text[code_start..];
    }
    statements
}

/// Why each statement of `sql` cannot run inside the runner's transaction, as
/// `(line, message)`; empty when the file is fine.
pub fn transaction_control(sql: &str) -> Vec<(usize, String)> {
    split_statements(sql)
        .into_iter()
        .filter_map(|statement| {
            refusal(&statement.text.to_ascii_lowercase()).map(|why| (statement.line, why))
        })
        .collect()
}

fn refusal(text: &str) -> Option<String> {
    let words = code_words(text);
    let word = |n: usize| words.get(n).map(String::as_str).unwrap_or_default();
    let runner_owns = "the runner wraps each schema's migrations in one transaction";
    match word(0) {
        "begin" | "start" | "commit" | "end" | "rollback" | "abort" | "savepoint" | "release" => {
            Some(format!(
                "`{}` is transaction control: {runner_owns}, and a migration that ends it \
                 would run the rest of the file outside the tenant's schema; remove it",
                word(0).to_ascii_uppercase()
            ))
        }
        "prepare" if word(1) == "transaction" => Some(format!(
            "`PREPARE TRANSACTION` is transaction control: {runner_owns}; remove it"
        )),
        // `SET SCHEMA 'x'` is `SET search_path TO 'x'` under another name.
        "set" | "reset"
            if words.iter().any(|w| w == "search_path")
                || word(1) == "schema"
                || (matches!(word(1), "local" | "session") && word(2) == "schema") =>
        {
            Some(
            "sets search_path: the runner sets it to the schema being migrated; use unqualified \
             names instead"
                .to_owned(),
            )
        }
        "set" if !matches!(word(1), "local" | "constraints" | "transaction") => Some(
            "a session-level `SET` outlives the migration on a pooled connection; use `SET \
             LOCAL`, which ends with the runner's transaction"
                .to_owned(),
        ),
        "reset" | "discard" => Some(format!(
            "`{}` changes the session, which outlives the migration; remove it",
            word(0).to_ascii_uppercase()
        )),
        "vacuum" => Some(format!(
            "`VACUUM` cannot run inside a transaction, and {runner_owns}; run it by hand"
        )),
        "create" | "drop" | "reindex" if words.iter().any(|w| w == "concurrently") => {
            Some(format!(
                "`CONCURRENTLY` cannot run inside a transaction, and {runner_owns}; leave it out"
            ))
        }
        _ if text.contains("set_config") && text.contains("search_path") => Some(
            "sets search_path: the runner sets it to the schema being migrated; use unqualified \
             names instead"
                .to_owned(),
        ),
        _ => None,
    }
}

/// The lower-cased words of `text` outside comments, quotes and dollar-quoted bodies.
fn code_words(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            words.push(text[start..i].to_ascii_lowercase());
        } else {
            i = skip_token(text, i);
        }
    }
    words
}

/// Where the first character that is not whitespace or a comment is.
fn first_code_offset(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() || is_comment_start(bytes, i) {
            i = skip_token(text, i);
        } else {
            return i;
        }
    }
    i
}

fn is_comment_start(bytes: &[u8], i: usize) -> bool {
    matches!(
        (bytes[i], bytes.get(i + 1)),
        (b'-', Some(b'-')) | (b'/', Some(b'*'))
    )
}

/// The index after the token starting at `i`: a comment, a quoted string or identifier, a
/// dollar-quoted body, or else one character.
fn skip_token(sql: &str, i: usize) -> usize {
    let bytes = sql.as_bytes();
    match (bytes[i], bytes.get(i + 1)) {
        (b'-', Some(b'-')) => sql[i..].find('\n').map_or(sql.len(), |n| i + n + 1),
        (b'/', Some(b'*')) => {
            // Block comments nest in PostgreSQL.
            let mut depth = 0;
            let mut j = i;
            while j < bytes.len() {
                if bytes[j] == b'/' && bytes.get(j + 1) == Some(&b'*') {
                    depth += 1;
                    j += 2;
                } else if bytes[j] == b'*' && bytes.get(j + 1) == Some(&b'/') {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        return j;
                    }
                } else {
                    j += 1;
                }
            }
            bytes.len()
        }
        (b'\'', _) => {
            // E'...' strings escape with backslashes, all strings with a doubled quote.
            let escapes = i > 0 && matches!(bytes[i - 1], b'e' | b'E');
            let mut j = i + 1;
            while j < bytes.len() {
                match bytes[j] {
                    b'\\' if escapes => j += 2,
                    b'\'' if bytes.get(j + 1) == Some(&b'\'') => j += 2,
                    b'\'' => return j + 1,
                    _ => j += 1,
                }
            }
            bytes.len()
        }
        (b'"', _) => sql[i + 1..].find('"').map_or(sql.len(), |n| i + n + 2),
        (b'$', _) => {
            let tag_end = sql[i + 1..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map(|n| i + 1 + n);
            match tag_end {
                // `$tag$` (or `$$`) opens a body that ends at the same tag; `$1` is a parameter.
                Some(end)
                    if bytes[end] == b'$' && !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) =>
                {
                    let tag = &sql[i..=end];
                    sql[end + 1..]
                        .find(tag)
                        .map_or(sql.len(), |n| end + 1 + n + tag.len())
                }
                _ => i + 1,
            }
        }
        _ => i + sql[i..].chars().next().map_or(1, char::len_utf8),
    }
}

#[cfg(test)]
mod tests {
    use super::{Statement, split_statements, transaction_control};

    #[test]
    fn statements_split_at_top_level_semicolons_only() {
        let sql = "-- header; with a semicolon\n\
                   CREATE TABLE a (x TEXT DEFAULT ';', \"b;c\" INT);\n\
                   /* a; /* nested; */ comment */\n\
                   CREATE FUNCTION f() RETURNS INT AS $body$ SELECT 1; $body$ LANGUAGE sql;\n\
                   INSERT INTO a VALUES (E'it\\'s;', $1)\n";
        let statements = split_statements(sql);
        let lines: Vec<usize> = statements.iter().map(|s| s.line).collect();
        assert_eq!(lines, [2, 4, 5], "{statements:#?}");
        assert!(statements[0].text.starts_with("CREATE TABLE a"));
        assert!(statements[1].text.ends_with("LANGUAGE sql"));
        assert_eq!(
            statements[2],
            Statement {
                line: 5,
                text: "INSERT INTO a VALUES (E'it\\'s;', $1)"
            }
        );
        assert!(split_statements("-- only a comment;\n  \n").is_empty());
    }

    #[test]
    fn transaction_control_is_refused_with_its_line() {
        let refused = [
            "BEGIN",
            "begin transaction",
            "START TRANSACTION",
            "COMMIT",
            "end",
            "ROLLBACK",
            "abort",
            "SAVEPOINT s",
            "RELEASE SAVEPOINT s",
            "PREPARE TRANSACTION 'x'",
            "SET SP = public",
            "SET LOCAL SP TO public",
            "set session SP to public",
            "SET LOCAL SCHEMA 'public'",
            "SELECT set_config('SP', 'public', false)",
            "SET statement_timeout = 0",
            "SET SESSION work_mem = '1GB'",
            "RESET ALL",
            "DISCARD ALL",
            "VACUUM a",
            "CREATE INDEX CONCURRENTLY a_x_idx ON a (x)",
        ];
        // `SP` stands for search_path, which `scaffold lint` would flag in a literal.
        for statement in refused.map(|s| s.replace("SP", "search_path")) {
            let sql = format!("CREATE TABLE a (x INT);\n\n{statement};\nSELECT 1;\n");
            let found = transaction_control(&sql);
            assert_eq!(found.len(), 1, "{statement}: {found:?}");
            assert_eq!(found[0].0, 3, "{statement}: {found:?}");
        }
        let allowed = [
            "CREATE TABLE begin_dates (commit TEXT, rollback INT)",
            "SET LOCAL lock_timeout = '5s'",
            "SET CONSTRAINTS ALL DEFERRED",
            "INSERT INTO notes VALUES ('BEGIN; COMMIT; ROLLBACK')",
            "-- COMMIT\nSELECT 1",
            "/* ROLLBACK */ SELECT 1",
            "CREATE FUNCTION f() RETURNS VOID AS $$ BEGIN PERFORM 1; END $$ LANGUAGE plpgsql",
            "UPDATE a SET x = 1",
            "ALTER TABLE a ADD COLUMN y INT",
        ];
        for statement in allowed {
            assert_eq!(transaction_control(statement), [], "{statement}");
        }
    }
}

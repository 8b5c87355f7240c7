//! The `search_path` rules on SQL, with a small tokenizer that knows PostgreSQL's quoting and
//! comments: enough to find statements and their words, not to parse them.

use std::path::Path;

use super::finding::Finding;

/// Checks one SQL file: a migration must leave `search_path` alone, any other SQL (queries
/// loaded with `include_str!`, say) must not set it beyond the transaction.
pub fn check_sql(file: &Path, migration: bool, sql: &str) -> Vec<Finding> {
    search_path_changes(sql)
        .into_iter()
        .filter_map(|change| {
            let (rule, message) = if migration {
                (
                    "migration-search-path",
                    format!(
                        "{} in a migration: the runner sets search_path to the schema being \
                         migrated, and a migration that changes it writes into another schema; \
                         use unqualified names",
                        change.what
                    ),
                )
            } else {
                ("session-search-path", change.session_problem()?)
            };
            Some(Finding {
                file: file.to_path_buf(),
                line: change.line,
                rule,
                message,
            })
        })
        .collect()
}

/// A statement of some SQL that ends or starts a transaction, or changes the session beyond
/// the transaction, other than `search_path` (see [`search_path_changes`]): on a pooled
/// connection, what it leaves reaches the next request, which may be another tenant's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ConnectionStateChange {
    /// 1-based, within the SQL.
    pub(super) line: usize,
    /// `transaction-control` or `session-setting`.
    pub(super) rule: &'static str,
    /// The statement as a reader would name it: `COMMIT`, `SET statement_timeout`.
    pub(super) what: String,
}

impl ConnectionStateChange {
    pub(super) fn problem(&self) -> String {
        if self.rule == "transaction-control" {
            format!(
                "{} in module code: the pool owns transactions, and one left open or ended \
                 here joins or cuts another request's; use `ctx.begin()` and `db.commit()`",
                self.what
            )
        } else {
            format!(
                "{} lasts for the session and reaches the next request on a pooled \
                 connection, maybe another tenant's; use `SET LOCAL` (or `set_config(..., \
                 true)`) inside `ctx.begin()`",
                self.what
            )
        }
    }
}

/// Every [`ConnectionStateChange`] in `sql`: `BEGIN`, `START TRANSACTION`, `COMMIT`,
/// `ROLLBACK`, `ABORT`, `SAVEPOINT`, `RELEASE`, `PREPARE TRANSACTION`; `SET` without `LOCAL`
/// (`SET ROLE` too), `RESET`, `DISCARD` and `set_config(..., false)` of any setting but
/// `search_path`, which has its own rule. Comments do not count, and neither does text that
/// only starts with such a word (`"commit the change"`): a statement must read as one.
pub(super) fn connection_state_changes(sql: &str) -> Vec<ConnectionStateChange> {
    /// What may follow `BEGIN`, `COMMIT`, `ROLLBACK` or `ABORT` in a statement.
    const TRANSACTION_WORDS: &[&str] = &[
        "transaction",
        "work",
        "and",
        "no",
        "chain",
        "isolation",
        "level",
        "read",
        "write",
        "only",
        "committed",
        "uncommitted",
        "repeatable",
        "serializable",
        "deferrable",
        "not",
        "to",
        "savepoint",
        "prepared",
    ];
    let mut changes = Vec::new();
    for statement in sql_statements(sql) {
        let words: Vec<&str> = statement.iter().map(|t| t.text.as_str()).collect();
        let word = |n: usize| words.get(n).copied().unwrap_or_default();
        let line = statement[0].line;
        let mut change = |line, rule, what: String| {
            changes.push(ConnectionStateChange { line, rule, what });
        };
        let (first, rest) = (word(0), &words[1..]);
        let transaction = |allowed: &[&str]| {
            rest.iter()
                .all(|w| allowed.contains(w) || w.starts_with('\''))
        };
        match first {
            "begin" | "commit" | "rollback" | "abort" if transaction(TRANSACTION_WORDS) => {
                change(line, "transaction-control", first.to_uppercase());
            }
            "start" | "prepare" if word(1) == "transaction" => {
                let what = format!("{} TRANSACTION", first.to_uppercase());
                change(line, "transaction-control", what);
            }
            "savepoint" | "release" if (2..=3).contains(&words.len()) => {
                change(line, "transaction-control", first.to_uppercase());
            }
            // `SET TRANSACTION` and `SET CONSTRAINTS` hold for the transaction only.
            "set" if !matches!(word(1), "local" | "transaction" | "constraints") => {
                let at = if word(1) == "session" { 2 } else { 1 };
                let setting = word(at);
                let assigns = matches!(word(at + 1), "=" | "to")
                    || matches!(setting, "role" | "authorization" | "time");
                if assigns && !matches!(setting, "search_path" | "schema") {
                    change(line, "session-setting", format!("SET {setting}"));
                }
            }
            "reset" | "discard" if words.len() == 2 && word(1) != "search_path" => {
                let what = format!("{} {}", first.to_uppercase(), word(1));
                change(line, "session-setting", what);
            }
            _ => {}
        }
        for (i, token) in statement.iter().enumerate() {
            if token.text == "set_config" && word(i + 1) == "(" && word(i + 2) != "'search_path'" {
                let local = call_arguments(&words[i + 1..]).get(2) == Some(&vec!["true"]);
                if !local {
                    let what = format!("set_config({}, ...)", word(i + 2));
                    change(token.line, "session-setting", what);
                }
            }
        }
    }
    changes
}

/// A statement (or call) of some SQL that changes `search_path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SearchPathChange {
    /// 1-based, within the SQL.
    pub(super) line: usize,
    /// What does it, as a reader would name it: `SET search_path`, `SET SCHEMA`, ...
    pub(super) what: &'static str,
    /// Whether it lasts beyond the transaction.
    pub(super) session: bool,
}

impl SearchPathChange {
    /// Why this change is wrong on a pooled connection, if it is.
    pub(super) fn session_problem(&self) -> Option<String> {
        self.session.then(|| {
            if self.what.starts_with("set_config") {
                "set_config('search_path', ...) without `true` lasts for the session and leaks \
                 to the next request on a pooled connection; name the tenant's tables as \
                 `{schema}.table` in `db.sql(...)` instead"
                    .to_owned()
            } else {
                format!(
                    "{} lasts for the session and leaks to the next request on a pooled \
                     connection; name the tenant's tables as `{{schema}}.table` in \
                     `db.sql(...)` instead",
                    self.what
                )
            }
        })
    }
}

/// Every change of `search_path` in `sql`: `SET [SESSION | LOCAL] search_path`, `SET
/// [SESSION | LOCAL] SCHEMA` (the same setting under another name), `ALTER ROLE ... SET
/// search_path`, `RESET search_path` and `set_config('search_path', ...)`. Comments do not
/// count.
pub(super) fn search_path_changes(sql: &str) -> Vec<SearchPathChange> {
    let mut changes = Vec::new();
    for statement in sql_statements(sql) {
        let words: Vec<&str> = statement.iter().map(|t| t.text.as_str()).collect();
        let first = words.first().copied().unwrap_or_default();
        let next_of = |n: usize| words.get(n).copied().unwrap_or_default();
        for (i, token) in statement.iter().enumerate() {
            let next = |n: usize| words.get(i + n).copied().unwrap_or_default();
            let change = |what, session| SearchPathChange {
                line: token.line,
                what,
                session,
            };
            match token.text.as_str() {
                // A statement of its own (in a DO block too), or `ALTER ROLE | USER | DATABASE
                // ... SET`, which changes later sessions. Not a clause: `UPDATE ... SET`,
                // `ALTER TABLE ... SET SCHEMA` (moves a table), `CREATE FUNCTION ... SET
                // search_path` (holds for the function's calls).
                "set"
                    if i == 0
                        || matches!(words[i - 1], "begin" | "then" | "else" | "loop")
                        || (first == "alter"
                            && matches!(next_of(1), "role" | "user" | "database")) =>
                {
                    let (scope, setting) = match next(1) {
                        "local" | "session" => (next(1), next(2)),
                        _ => ("", next(1)),
                    };
                    let session = scope != "local";
                    if setting == "search_path" {
                        changes.push(change("SET search_path", session));
                    } else if setting == "schema" {
                        changes.push(change("SET SCHEMA", session));
                    }
                }
                "reset" if next(1) == "search_path" => {
                    changes.push(change("RESET search_path", false));
                }
                "set_config" if next(1) == "(" && next(2) == "'search_path'" => {
                    let local = call_arguments(&words[i + 1..]).get(2) == Some(&vec!["true"]);
                    changes.push(change("set_config('search_path', ...)", !local));
                }
                _ => {}
            }
        }
    }
    changes
}

/// The arguments of a call, given the tokens from its `(`: each as its tokens.
fn call_arguments<'t>(tokens: &[&'t str]) -> Vec<Vec<&'t str>> {
    let mut arguments = vec![Vec::new()];
    let mut depth = 0;
    for &token in tokens {
        match token {
            "(" => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            ")" => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            "," if depth == 1 => {
                arguments.push(Vec::new());
                continue;
            }
            _ => {}
        }
        if let Some(argument) = arguments.last_mut() {
            argument.push(token);
        }
    }
    arguments
}

struct Token {
    text: String,
    line: usize,
}

/// The tokens of each statement of `sql`, lower-cased: words, `'quoted strings'` (quotes
/// kept), `(`, `)`, `,` and other punctuation one character at a time. Comments are left out;
/// dollar quotes are dropped but their bodies kept, so that a `DO` block's statements count.
fn sql_statements(sql: &str) -> Vec<Vec<Token>> {
    let chars: Vec<char> = sql.chars().collect();
    let mut statements = vec![Vec::new()];
    let mut line = 1;
    let mut i = 0;
    let push = |statements: &mut Vec<Vec<Token>>, text: String, line| {
        if let Some(statement) = statements.last_mut() {
            statement.push(Token { text, line });
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let at = |n: usize| chars.get(i + n).copied();
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '-' && at(1) == Some('-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(1) == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                line += usize::from(chars[i] == '\n');
                i += 1;
            }
            i += 2;
        } else if c == '\'' || c == '"' {
            let start = (i, line);
            i += 1;
            while i < chars.len() {
                if chars[i] == c && chars.get(i + 1) == Some(&c) {
                    i += 2;
                } else if chars[i] == c {
                    break;
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
            i += 1;
            let body: String = chars[start.0 + 1..(i - 1).min(chars.len())]
                .iter()
                .collect();
            let body = body.to_lowercase();
            // A quoted identifier is the name itself; a string keeps its quotes.
            let text = if c == '"' { body } else { format!("'{body}'") };
            push(&mut statements, text, start.1);
        } else if c == '$' {
            // `$1` is a parameter; `$$` and `$tag$` open or close a dollar quote.
            let end = chars[i + 1..]
                .iter()
                .position(|&d| !(d.is_alphanumeric() || d == '_'))
                .map_or(chars.len(), |n| i + 1 + n);
            if chars.get(end) == Some(&'$') && !chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                i = end + 1;
            } else {
                push(&mut statements, chars[i..end].iter().collect(), line);
                i = end;
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            push(&mut statements, word.to_lowercase(), line);
        } else if c == ';' {
            statements.push(Vec::new());
            i += 1;
        } else {
            push(&mut statements, c.to_string(), line);
            i += 1;
        }
    }
    statements.retain(|statement| !statement.is_empty());
    statements
}

//! The executor module code runs its statements on ([`Guarded`], what `Db::conn` hands out):
//! a pooled connection that refuses the statements which would leave state on it for the
//! next request, perhaps another tenant's. Transaction control belongs to `Ctx::begin` and
//! `Db::commit`, session settings to the pool; a hand-written `BEGIN`, `SET search_path` or
//! `set_config(..., false)` is an error before it reaches PostgreSQL, never a transaction
//! that the next request joins.
//!
//! The check reads each statement's leading keyword (every statement of a multi-statement
//! text), and looks for `set_config` anywhere: a few string comparisons per statement, against
//! the round trip each one costs. `scaffold lint` flags the same statements in module code.

use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_util::{TryFutureExt, TryStreamExt};
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArguments, PgQueryResult, PgRow, PgStatement, PgTypeInfo};
use sqlx::{Either, Error, Execute, Executor, PgConnection, Postgres, SqlStr};

use crate::core::error::is_connection_failure;

/// Statements that end or start transactions, or change the session, by leading keyword.
const REFUSED: &[&str] = &[
    "ABORT",
    "BEGIN",
    "COMMIT",
    "DISCARD",
    "END",
    "LISTEN",
    "PREPARE",
    "RELEASE",
    "RESET",
    "ROLLBACK",
    "SAVEPOINT",
    "SET",
    "START",
    "UNLISTEN",
];

/// A request's connection, for module code: every statement is checked by [`refusal`], and
/// one that fails because the connection did marks it broken, so that the pool drops it
/// rather than hand it to the next request.
#[derive(Debug)]
pub struct Guarded<'c> {
    conn: &'c mut PgConnection,
    broken: &'c mut bool,
}

impl<'c> Guarded<'c> {
    pub(crate) fn new(conn: &'c mut PgConnection, broken: &'c mut bool) -> Self {
        Guarded { conn, broken }
    }
}

/// Why `sql` may not run on a request's connection, if it may not.
pub fn refusal(sql: &str) -> Option<String> {
    let set_config = b"set_config";
    let bytes = sql.as_bytes();
    if bytes
        .windows(set_config.len())
        .any(|w| w.eq_ignore_ascii_case(set_config))
    {
        return Some(
            "set_config changes the connection for the requests after this one; pass \
             settings as statement parameters instead"
                .to_owned(),
        );
    }
    for statement in sql.split(';') {
        let text = skip_comments(statement);
        let end = text
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(text.len());
        let keyword = &text[..end];
        if let Some(refused) = REFUSED.iter().find(|r| r.eq_ignore_ascii_case(keyword)) {
            return Some(format!(
                "`{refused}` is not run on a request's connection: transactions come from \
                 ctx.begin() and db.commit(), and session settings from the pool; left on the \
                 connection they would reach the next request"
            ));
        }
    }
    None
}

/// `text` after leading whitespace and SQL comments.
fn skip_comments(mut text: &str) -> &str {
    loop {
        text = text.trim_start();
        if let Some(rest) = text.strip_prefix("--") {
            text = rest.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(rest) = text.strip_prefix("/*") {
            text = rest.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return text;
        }
    }
}

/// A query taken apart to read its text, then handed on as it was.
struct Checked {
    sql: SqlStr,
    statement: Option<PgStatement>,
    arguments: Result<Option<PgArguments>, Option<BoxDynError>>,
    persistent: bool,
}

impl Checked {
    fn of<'q, E: Execute<'q, Postgres>>(mut query: E) -> Result<Checked, Error> {
        let statement = query.statement().cloned();
        let arguments = query.take_arguments().map_err(Some);
        let persistent = query.persistent();
        let sql = query.sql();
        if let Some(why) = refusal(sql.as_str()) {
            return Err(Error::InvalidArgument(why));
        }
        Ok(Checked {
            sql,
            statement,
            arguments,
            persistent,
        })
    }
}

impl<'q> Execute<'q, Postgres> for Checked {
    fn sql(self) -> SqlStr {
        self.sql
    }

    fn statement(&self) -> Option<&PgStatement> {
        self.statement.as_ref()
    }

    fn take_arguments(&mut self) -> Result<Option<PgArguments>, BoxDynError> {
        match std::mem::replace(&mut self.arguments, Ok(None)) {
            Ok(arguments) => Ok(arguments),
            Err(error) => Err(error.unwrap_or_else(|| "arguments taken twice".into())),
        }
    }

    fn persistent(&self) -> bool {
        self.persistent
    }
}

impl<'c> Executor<'c> for Guarded<'c> {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        let broken = self.broken;
        match Checked::of(query) {
            Ok(checked) => Box::pin(self.conn.fetch_many(checked).inspect_err(|error| {
                *broken |= is_connection_failure(error);
            })),
            Err(error) => Box::pin(futures_util::stream::once(async { Err(error) })),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<PgRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        let broken = self.broken;
        match Checked::of(query) {
            Ok(checked) => Box::pin(self.conn.fetch_optional(checked).inspect_err(|error| {
                *broken |= is_connection_failure(error);
            })),
            Err(error) => Box::pin(async { Err(error) }),
        }
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement, Error>>
    where
        'c: 'e,
    {
        let broken = self.broken;
        match refusal(sql.as_str()) {
            None => Box::pin(
                self.conn
                    .prepare_with(sql, parameters)
                    .inspect_err(|error| {
                        *broken |= is_connection_failure(error);
                    }),
            ),
            Some(why) => Box::pin(async { Err(Error::InvalidArgument(why)) }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_control_and_session_settings_are_refused() {
        for sql in [
            "BEGIN",
            "  begin isolation level serializable",
            "COMMIT",
            "rollback",
            "END",
            "start transaction",
            "SAVEPOINT a",
            "SET statement_timeout = 0",
            "set role postgres",
            "RESET ALL",
            "DISCARD ALL",
            "-- a comment\nBEGIN",
            "/* c */ SET x = 1",
            "SELECT 1; COMMIT",
            "SELECT set_config('statement_timeout', '0', false)",
            "select SET_CONFIG('a', 'b', true)",
            "LISTEN channel",
        ] {
            assert!(refusal(sql).is_some(), "{sql}");
        }
    }

    #[test]
    fn module_statements_run() {
        for sql in [
            "SELECT id FROM \"tenant_a_1\".tasks WHERE id = $1",
            "INSERT INTO s.t (a) VALUES ($1) RETURNING id",
            "UPDATE s.t SET settings = $1, offset_begin = 2 WHERE id = $2",
            "DELETE FROM s.t WHERE id = $1",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "SELECT pg_try_advisory_xact_lock(1)",
            "LOCK TABLE s.t IN SHARE MODE",
            "-- set up\nSELECT 1",
        ] {
            assert_eq!(refusal(sql), None, "{sql}");
        }
    }

    /// Through the real path: a request's connection from `Ctx::db`, on PostgreSQL.
    #[tokio::test]
    async fn a_refused_statement_never_reaches_the_connection() {
        use axum::extract::FromRef;

        use crate::core::database::Database;
        use crate::core::db::Ctx;
        use crate::core::list::CursorKey;
        use crate::testing::TestApp;

        // One connection: the second request gets the first one's.
        let app = TestApp::with_pool_size(1).await;
        let tenant = app.new_tenant().await;
        let database = Database::from_ref(&app.state);
        let key = CursorKey::derive(b"a cursor key for this test only");
        let ctx = Ctx::new(database, key, tenant, "u".into(), Vec::new(), None);

        let mut db = ctx.db().await.unwrap();
        for sql in ["BEGIN", "SET statement_timeout TO 0"] {
            let error = sqlx::query(sql).execute(db.conn()).await.unwrap_err();
            assert!(matches!(error, Error::InvalidArgument(_)), "{sql}: {error}");
        }
        let error = sqlx::raw_sql("SELECT 1; BEGIN").execute(db.conn()).await;
        assert!(matches!(error, Err(Error::InvalidArgument(_))), "{error:?}");
        drop(db);

        // The next request's statements each run in a transaction of their own: the same
        // time for both only in a transaction's first statement.
        let mut db = ctx.db().await.unwrap();
        // (The simple protocol: one message, so one statement timestamp.)
        let row = sqlx::raw_sql("SELECT transaction_timestamp() = statement_timestamp()")
            .fetch_one(db.conn())
            .await
            .unwrap();
        let fresh: bool = sqlx::Row::get(&row, 0);
        assert!(
            fresh,
            "the connection is inside a transaction begun earlier"
        );
        let timeout: String = sqlx::query_scalar("SELECT current_setting('statement_timeout')")
            .fetch_one(db.conn())
            .await
            .unwrap();
        assert_ne!(timeout, "0", "the session setting reached the next request");
    }

    /// The query's own wish about caching its statement goes through: module code may run a
    /// one-off statement without filling the connection's statement cache.
    #[tokio::test]
    async fn a_statement_is_cached_on_the_connection_only_when_its_query_asks() {
        let url = crate::testing::database_url();
        // A throwaway database may still be starting: connect once it accepts connections.
        crate::core::database::connect(url, 1).await.unwrap();
        let mut conn = <PgConnection as sqlx::Connection>::connect(url)
            .await
            .unwrap();
        let mut broken = false;
        for (sql, persistent) in [("SELECT 41", false), ("SELECT 42", true)] {
            sqlx::query(sql)
                .persistent(persistent)
                .execute(Guarded::new(&mut conn, &mut broken))
                .await
                .unwrap();
            let prepared: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1",
            )
            .bind(sql)
            .persistent(false)
            .fetch_one(&mut conn)
            .await
            .unwrap();
            assert_eq!(prepared, i64::from(persistent), "{sql}");
        }
        assert!(!broken);
    }
}

//! What module code gets of the database: a [`Ctx`], which only hands out connections for
//! the caller's tenant ([`Db`]). The pool behind it is `database`'s.
//!
//! Isolation is in the statements, not in the connection: every statement names its tables
//! with the tenant's schema (`{schema}.projects`, see [`Db::sql`]), which only the
//! authenticated context supplies. A request connection's `search_path` holds no schema with
//! tables at all, so a table named without a schema is an error, never another tenant's rows,
//! and there is no per-connection tenant state to get wrong. It also makes most requests one
//! statement and one round trip, each tenant's statements prepared once per connection
//! (`bench/README.md` has the comparison that chose this).

use sqlx::AssertSqlSafe;

use crate::core::database::{ClientGone, Database, TenantConnection};
use crate::core::error::AppError;
use crate::core::guard::Guarded;
use crate::core::list::{CursorKey, Cursors};
use crate::core::tenant::TenantSlug;

/// A connection for one request of one tenant. Model functions take `&mut Db`: they write
/// the tenant's tables as `{schema}.table` in [`Db::sql`] and run statements on
/// [`Db::conn`]. Outside a transaction (from [`Ctx::db`]) each statement commits on its own;
/// from [`Ctx::begin`], they commit together at [`Db::commit`], and a `Db` dropped before that
/// rolls back. It holds one of its tenant's share of the pool until it is dropped.
pub struct Db {
    connection: TenantConnection,
}

impl Db {
    /// `statement` with every `{schema}` replaced by the tenant's schema, quoted. Only a
    /// literal is taken (`&'static str`): SQL built at run time, perhaps from input, does not
    /// get this treatment.
    pub fn sql(&self, statement: &'static str) -> AssertSqlSafe<String> {
        AssertSqlSafe(statement.replace("{schema}", &self.connection.schema))
    }

    /// The tenant's schema, quoted, for SQL built piece by piece (see `ListQuery::select`).
    pub fn schema(&self) -> &str {
        &self.connection.schema
    }

    /// Where model functions run their statements: this connection, refusing the statements
    /// that would outlive the request on it (see [`Guarded`]).
    pub fn conn(&mut self) -> Guarded<'_> {
        self.connection.pooled.guarded()
    }

    /// Starts a transaction on this connection: the statements after it commit together.
    async fn begin(mut self) -> Result<Db, sqlx::Error> {
        self.connection.pooled.begin().await?;
        Ok(self)
    }

    /// Commits the transaction [`Ctx::begin`] started. On a connection from [`Ctx::db`] there
    /// is none, and saying commit there is a bug, so it is an error rather than a no-op.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        self.connection.pooled.commit().await
    }
}

/// Who is asking and for which tenant: built only from a verified token (see `core::auth`),
/// passed explicitly into every service call.
#[derive(Clone)]
pub struct Ctx {
    database: Database,
    cursor_key: CursorKey,
    tenant: TenantSlug,
    user_id: String,
    permissions: Vec<String>,
    client: Option<ClientGone>,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("tenant", &self.tenant)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

impl Ctx {
    /// Only `core::auth` makes one, from a verified token.
    pub(in crate::core) fn new(
        database: Database,
        cursor_key: CursorKey,
        tenant: TenantSlug,
        user_id: String,
        permissions: Vec<String>,
        client: Option<ClientGone>,
    ) -> Ctx {
        Ctx {
            database,
            cursor_key,
            tenant,
            user_id,
            permissions,
            client,
        }
    }

    pub fn tenant(&self) -> &TenantSlug {
        &self.tenant
    }

    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// Whether the caller's token grants `permission`: for rules inside a service, such as
    /// `<plural>:admin` lifting the owner rule.
    pub fn may(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// Signs and opens the cursors of this tenant's lists.
    pub fn cursors(&self) -> Cursors<'_> {
        self.cursor_key.for_tenant(&self.tenant)
    }

    /// A connection for this tenant's statements, each committing on its own.
    pub async fn db(&self) -> Result<Db, AppError> {
        let connection = self
            .database
            .connection(&self.tenant, self.client.as_ref())
            .await?;
        Ok(Db { connection })
    }

    /// A connection for this tenant, inside a transaction that [`Db::commit`] ends: for
    /// statements that must take effect together.
    pub async fn begin(&self) -> Result<Db, AppError> {
        Ok(self.db().await?.begin().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::Limits;

    #[tokio::test]
    async fn a_context_names_its_tenant_and_user_and_nothing_else() {
        let database = Database::new("postgres://nobody@127.0.0.1/none", Limits::default());
        let tenant = TenantSlug::parse("acme").unwrap();
        let key = CursorKey::derive(b"a secret that must not be shown");
        let permissions = vec!["tasks:admin".to_owned()];
        let ctx = Ctx::new(
            database.unwrap(),
            key,
            tenant,
            "user-7".to_owned(),
            permissions,
            None,
        );
        assert_eq!((ctx.tenant().as_str(), ctx.user_id()), ("acme", "user-7"));
        assert!(ctx.may("tasks:admin") && !ctx.may("tasks:write") && !ctx.may("tasks"));
        let shown = format!("{ctx:?}");
        assert!(
            shown.contains("acme") && shown.contains("user-7"),
            "{shown}"
        );
        assert!(
            !shown.contains("secret") && !shown.contains("cursor"),
            "{shown}"
        );
    }
}

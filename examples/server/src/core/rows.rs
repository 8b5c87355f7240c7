//! Who may see and change which rows, for modules generated with `--audit`, `--owned`,
//! `--private` or `--soft-delete`. The rules run inside each statement (`owner_id = $user OR
//! $admin`, `deleted_at IS NULL`); when a statement matches no row, [`Access::missed`] reads
//! what the row is to answer why: 404, 403 naming the rule, or 412.

use crate::core::db::Ctx;
use crate::core::error::AppError;
use crate::core::list::{Deleted, ListQuery, RowScope};
use crate::core::precondition;
use crate::core::registry;

/// A module's row rules, as its generated service declares them.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// `<plural>:admin`: lifts the owner and private rules, lists deleted rows.
    pub admin: &'static str,
    pub owned: bool,
    pub private: bool,
    pub soft_delete: bool,
}

/// The rules for one caller.
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    /// The token's `sub`: the author of what the caller writes, the owner of what it creates.
    pub user: &'a str,
    /// Holds the module's admin permission.
    pub admin: bool,
    rules: Rules,
}

/// What [`Access::missed`] needs to know of a row a statement did not match.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RowState {
    pub version: i64,
    pub owner_id: Option<String>,
    pub deleted: bool,
}

impl Rules {
    pub fn access(self, ctx: &Ctx) -> Access<'_> {
        Access {
            user: ctx.user_id(),
            admin: ctx.may(self.admin),
            rules: self,
        }
    }
}

impl Access<'_> {
    /// `query` narrowed to the rows the caller may list: only theirs when the module is
    /// private (or they asked `owner=me`), only live ones unless an admin asked otherwise.
    pub fn visible(&self, query: ListQuery, scope: RowScope) -> Result<ListQuery, AppError> {
        let rules = self.rules;
        let mut query = query;
        if scope.mine || (rules.private && !self.admin) {
            query = query.owned_by(self.user);
        }
        if rules.soft_delete {
            if scope.deleted != Deleted::Exclude && !self.admin {
                return Err(AppError::PermissionDenied(format!(
                    "listing deleted rows requires the {} permission",
                    rules.admin
                )));
            }
            query = query.deleted(scope.deleted);
        }
        Ok(query)
    }

    /// Why a statement on row `id` (its id, or its `--key`) of a `what` matched nothing, from
    /// what the row is (`None`: there is none): missing or deleted, 404; another's, 403 (404
    /// when private: its existence is not the caller's to know); else at another version
    /// than `If-Match` named, 412.
    pub fn missed(
        &self,
        what: &str,
        id: impl std::fmt::Display,
        state: Option<RowState>,
    ) -> AppError {
        let Some(state) = state.filter(|state| !state.deleted) else {
            return AppError::not_found(what, id);
        };
        let mine = state.owner_id.as_deref() == Some(self.user);
        if self.rules.owned && !mine && !self.admin {
            if self.rules.private {
                return AppError::not_found(what, id);
            }
            return AppError::PermissionDenied(format!(
                "only the {what}'s owner, or a holder of the {} permission, may change or \
                 delete it",
                self.rules.admin
            ));
        }
        precondition::missed(what, id, Some(state.version))
    }
}

/// Why [`purge`] did not purge a tenant's table.
#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error("{0}")]
    NotSoftDeleted(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Removes for good the rows of `table` (a module's, in the tenant schema `schema`) that were
/// soft-deleted longer than `older_than` ago; how many. A table without soft delete is an
/// error that says so, not a silent zero.
pub async fn purge(
    conn: &mut sqlx::PgConnection,
    schema: &str,
    table: &str,
    older_than: std::time::Duration,
) -> Result<u64, PurgeError> {
    let identifier = |name: &str| {
        name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    if !identifier(table) || !identifier(schema) {
        return Err(PurgeError::NotSoftDeleted(format!(
            "{table:?} is not a module's table: give its plural in snake_case, such as tasks"
        )));
    }
    let soft: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT FROM pg_attribute
             WHERE attrelid = to_regclass(format('%I.%I', $1::text, $2::text))
             AND attname = 'deleted_at' AND NOT attisdropped)",
    )
    .bind(schema)
    .bind(table)
    .fetch_one(&mut *conn)
    .await?;
    if !soft {
        return Err(PurgeError::NotSoftDeleted(format!(
            "{table} has no soft delete (no deleted_at column in {schema}): only modules \
             generated with --soft-delete have rows to purge"
        )));
    }
    let statement = format!(
        "DELETE FROM {}.{} WHERE deleted_at IS NOT NULL AND deleted_at <= now() - $1::interval",
        registry::quote_ident(schema),
        registry::quote_ident(table)
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(statement))
        .bind(older_than)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use uuid::Uuid;

    use super::*;

    const RULES: Rules = Rules {
        admin: "tasks:admin",
        owned: true,
        private: false,
        soft_delete: true,
    };

    fn access(user: &str, admin: bool, rules: Rules) -> Access<'_> {
        Access { user, admin, rules }
    }

    fn state(owner: Option<&str>, deleted: bool) -> Option<RowState> {
        Some(RowState {
            version: 3,
            owner_id: owner.map(str::to_owned),
            deleted,
        })
    }

    #[test]
    fn a_miss_is_explained_by_the_rule_that_caused_it() {
        let id = Uuid::nil();
        let status = |access: Access, state| access.missed("task", id, state).status();
        let alice = access("alice", false, RULES);
        assert_eq!(status(alice, None), StatusCode::NOT_FOUND);
        assert_eq!(
            status(alice, state(Some("alice"), true)),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            status(alice, state(Some("bob"), false)),
            StatusCode::FORBIDDEN
        );
        // Rows from before the module was owned have no owner: only admins change them.
        assert_eq!(status(alice, state(None, false)), StatusCode::FORBIDDEN);
        assert_eq!(
            status(alice, state(Some("alice"), false)),
            StatusCode::PRECONDITION_FAILED
        );
        let admin = access("root", true, RULES);
        assert_eq!(
            status(admin, state(Some("bob"), false)),
            StatusCode::PRECONDITION_FAILED
        );
        let private = Rules {
            private: true,
            ..RULES
        };
        let hidden = access("alice", false, private).missed("task", id, state(Some("bob"), false));
        assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
        let denied = alice.missed("task", id, state(Some("bob"), false));
        assert!(denied.to_string().contains("tasks:admin"), "{denied}");
    }

    #[test]
    fn lists_show_what_the_caller_may_see() {
        let sql = |access: Access, scope: RowScope| {
            let query = crate::core::list::fixture::parse("").unwrap();
            match access.visible(query, scope) {
                Ok(query) => query.select("\"s\"", "id").sql().as_str().to_owned(),
                Err(error) => format!("{:?}", error.status()),
            }
        };
        let live = RowScope {
            mine: false,
            deleted: Deleted::Exclude,
        };
        let private = Rules {
            private: true,
            ..RULES
        };
        let everyone = sql(access("alice", false, RULES), live);
        assert!(!everyone.contains("owner_id") && everyone.contains("deleted_at IS NULL"));
        let mine = sql(
            access("alice", false, RULES),
            RowScope { mine: true, ..live },
        );
        assert!(mine.contains("owner_id ="), "{mine}");
        assert!(sql(access("alice", false, private), live).contains("owner_id ="));
        assert!(!sql(access("root", true, private), live).contains("owner_id"));
        let deleted = RowScope {
            deleted: Deleted::Only,
            ..live
        };
        assert_eq!(sql(access("alice", false, RULES), deleted), "403");
        assert!(sql(access("root", true, RULES), deleted).contains("deleted_at IS NOT NULL"));
    }
}

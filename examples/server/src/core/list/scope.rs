//! Which rows a caller's list may hold, for modules generated with `--owned`, `--private` or
//! `--soft-delete`: the parameters `owner=me` and `deleted=only|include`, and the conditions
//! the service adds for them (and for the private and soft-delete rules) to a [`ListQuery`].

use super::parse::{Condition, Filter, ListQuery};
use super::spec::{ListField, ListKind, Op, Value};
use crate::core::error::AppError;
use crate::core::json;

/// The owner column of `--owned` and `--private` modules.
static OWNER: ListField = ListField {
    name: json::pick("owner_id", "ownerId"),
    column: "owner_id",
    kind: ListKind::UserId,
    optional: true,
};

/// The deletion mark of `--soft-delete` modules.
static DELETED: ListField = ListField {
    name: json::pick("deleted_at", "deletedAt"),
    column: "deleted_at",
    kind: ListKind::DateTime,
    optional: true,
};

/// `?deleted=`: which rows of a soft-delete module a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// The default: live rows only.
    Exclude,
    Only,
    Include,
}

/// What a list request asked of its rows' owner and deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowScope {
    /// `?owner=me`.
    pub mine: bool,
    pub deleted: Deleted,
}

impl RowScope {
    /// Takes `owner` (when the module is `owned`) and `deleted` (when it soft-deletes) out of
    /// a request's parameters, which then go to [`ListQuery::parse`].
    pub fn take(
        params: &mut Vec<(String, String)>,
        owned: bool,
        soft_delete: bool,
    ) -> Result<RowScope, AppError> {
        let mut scope = RowScope {
            mine: false,
            deleted: Deleted::Exclude,
        };
        let mut error = None;
        params.retain(|(name, value)| match name.as_str() {
            "owner" if owned => {
                match value.as_str() {
                    "me" => scope.mine = true,
                    _ => error = Some(AppError::invalid("owner", "takes only `me`")),
                }
                false
            }
            "deleted" if soft_delete => {
                match value.as_str() {
                    "only" => scope.deleted = Deleted::Only,
                    "include" => scope.deleted = Deleted::Include,
                    "exclude" => scope.deleted = Deleted::Exclude,
                    _ => {
                        let message = "must be only, include or exclude";
                        error = Some(AppError::invalid("deleted", message));
                    }
                }
                false
            }
            _ => true,
        });
        match error {
            Some(error) => Err(error),
            None => Ok(scope),
        }
    }
}

impl ListQuery {
    /// Only the rows `user` owns.
    pub fn owned_by(mut self, user: &str) -> ListQuery {
        self.filters.push(Filter {
            field: &OWNER,
            condition: Condition::Compare(Op::Eq, Value::Text(user.to_owned())),
        });
        self
    }

    /// Only the deleted rows, only the live ones, or both.
    pub fn deleted(mut self, deleted: Deleted) -> ListQuery {
        let condition = match deleted {
            Deleted::Exclude => Condition::Null(true),
            Deleted::Only => Condition::Null(false),
            Deleted::Include => return self,
        };
        self.filters.push(Filter {
            field: &DELETED,
            condition,
        });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::list::fixture;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn owner_and_deleted_are_taken_only_from_modules_that_have_them() {
        let mut params = pairs(&[("owner", "me"), ("deleted", "only"), ("limit", "5")]);
        let scope = RowScope::take(&mut params, true, true).unwrap();
        assert_eq!(
            scope,
            RowScope {
                mine: true,
                deleted: Deleted::Only
            }
        );
        assert_eq!(params, pairs(&[("limit", "5")]));

        let mut params = pairs(&[("owner", "me"), ("deleted", "only")]);
        let scope = RowScope::take(&mut params, false, false).unwrap();
        assert_eq!(scope.deleted, Deleted::Exclude);
        assert_eq!(params.len(), 2, "left for the list to refuse as unknown");

        for (name, value) in [("owner", "alice"), ("deleted", "yes")] {
            let mut params = pairs(&[(name, value)]);
            let error = RowScope::take(&mut params, true, true).unwrap_err();
            assert!(format!("{error:?}").contains(name), "{error:?}");
        }
    }

    #[test]
    fn the_scope_is_a_condition_of_the_statement() {
        let query = fixture::parse("limit=5").unwrap();
        let sql = query
            .owned_by("alice")
            .deleted(Deleted::Exclude)
            .select("\"s\"", "id")
            .sql()
            .as_str()
            .to_owned();
        assert!(sql.contains("owner_id = $1"), "{sql}");
        assert!(sql.contains("deleted_at IS NULL"), "{sql}");
        let sql = fixture::parse("")
            .unwrap()
            .deleted(Deleted::Include)
            .count("\"s\"")
            .sql()
            .as_str()
            .to_owned();
        assert!(!sql.contains("deleted_at"), "{sql}");
    }
}

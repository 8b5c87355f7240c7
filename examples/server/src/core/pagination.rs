//! `?limit=&offset=` for list endpoints.

use serde::Deserialize;
use utoipa::IntoParams;

use crate::core::error::{AppError, FieldError};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// How many items to return: 1 to 200, 50 if absent.
    pub limit: Option<i64>,
    /// How many items to skip: 0 or more, 0 if absent.
    pub offset: Option<i64>,
}

/// A checked page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl TryFrom<PageParams> for Page {
    type Error = AppError;

    fn try_from(params: PageParams) -> Result<Page, AppError> {
        let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
        let offset = params.offset.unwrap_or(0);
        let mut errors = Vec::new();
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(FieldError {
                field: "limit".to_owned(),
                message: format!("must be between 1 and {MAX_LIMIT}"),
            });
        }
        if offset < 0 {
            errors.push(FieldError {
                field: "offset".to_owned(),
                message: "must be 0 or more".to_owned(),
            });
        }
        if errors.is_empty() {
            Ok(Page { limit, offset })
        } else {
            Err(AppError::Validation(errors))
        }
    }
}

//! The database side of a request: a pool, and a context that only hands out connections
//! already scoped to the caller's tenant.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::core::error::AppError;
use crate::core::tenant::{self, TenantSlug};

/// A transaction whose `search_path` is the tenant's schema. Model functions take
/// `&mut PgConnection`, which `&mut *tx` gives them.
pub type Tx = sqlx::Transaction<'static, sqlx::Postgres>;

pub async fn connect(database_url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        // No ping before every checkout: it is one of a request's round trips, and a broken
        // connection fails the request's first statement just as clearly (bench/README.md).
        .test_before_acquire(false)
        .connect(database_url)
        .await?;
    Ok(pool)
}

/// Who is asking and for which tenant: built only from a verified token (see `core::auth`),
/// passed explicitly into every service call.
#[derive(Debug, Clone)]
pub struct Ctx {
    pool: PgPool,
    tenant: TenantSlug,
    user_id: String,
}

impl Ctx {
    pub fn new(pool: PgPool, tenant: TenantSlug, user_id: String) -> Ctx {
        Ctx {
            pool,
            tenant,
            user_id,
        }
    }

    pub fn tenant(&self) -> &TenantSlug {
        &self.tenant
    }

    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// Starts the transaction every query of a request runs in. Its one first statement
    /// (`tenant::enter`) checks that the tenant is registered and migrated and sets
    /// `search_path` transaction-locally (`set_config(..., true)`), so the setting ends with the
    /// transaction and can never leak to the next request that borrows this pooled connection.
    pub async fn begin(&self) -> Result<Tx, AppError> {
        let mut tx = self.pool.begin().await?;
        tenant::enter(&mut tx, &self.tenant).await?;
        Ok(tx)
    }
}

//! Row locks held from a connection of the test's own, and the requests that wait for them:
//! tests wait on what PostgreSQL reports instead of sleeping.

use std::time::{Duration, Instant};

use sqlx::{PgPool, Postgres, Transaction};

use crate::core::tenant::TenantSlug;

/// How many backends wait for a lock that backend `holder` holds, directly or behind another
/// waiter (as a second UPDATE of a row waits): tests wait on it instead of sleeping.
pub async fn lock_waiters(pool: &PgPool, holder: i32) -> i64 {
    sqlx::query_scalar(
        "WITH RECURSIVE waiter(pid) AS ( \
             SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) \
             UNION SELECT a.pid FROM pg_stat_activity a \
             JOIN waiter w ON w.pid = ANY(pg_blocking_pids(a.pid))) \
         SELECT count(*) FROM waiter",
    )
    .bind(holder)
    .fetch_one(pool)
    .await
    .expect("pg_stat_activity answers")
}

/// Locks every row of `table` in `tenant`'s schema from a connection of `pool`, until the
/// transaction is committed or rolled back; the number is the backend that holds the lock.
pub async fn lock_rows(
    pool: &PgPool,
    tenant: &TenantSlug,
    table: &str,
) -> (Transaction<'static, Postgres>, i32) {
    let mut lock = pool.begin().await.unwrap();
    let schema: String =
        sqlx::query_scalar("SELECT quote_ident(schema_name) FROM public.tenants WHERE slug = $1")
            .bind(tenant.as_str())
            .fetch_one(&mut *lock)
            .await
            .unwrap();
    let sql = format!("SELECT id FROM {schema}.{table} FOR UPDATE");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut *lock)
        .await
        .unwrap();
    let holder = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *lock)
        .await
        .unwrap();
    (lock, holder)
}

/// Waits until `count` backends wait for the lock that backend `holder` holds, asking on a
/// connection of `pool` (so not the holder's own); fails after 20 s.
pub async fn wait_for_waiters(pool: &PgPool, holder: i32, count: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let waiting = lock_waiters(pool, holder).await;
        if waiting >= count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} of {count} requests wait for the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

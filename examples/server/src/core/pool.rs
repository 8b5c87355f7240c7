//! The request connections, in groups (see [`Pool::acquire`] for how a tenant picks one).
//!
//! Not sqlx's pool: that one pings every connection it takes back, a second round trip for a
//! request that is otherwise one statement (`bench/README.md`, "The request path's
//! mechanism"). This one checks a connection only when there is reason to: one unused for
//! `PING_AFTER_IDLE` is pinged before it is handed out (the database may have restarted
//! meanwhile), and one that comes back with a transaction left open, or after any request saw
//! a connection fail (`error::connection_failures`), is rolled back or pinged before it is
//! handed out again.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::Semaphore;

use crate::core::error::connection_failures;

/// A connection unused for this long is pinged before a request gets it. Short, because even
/// a quick restart of the database (`pg_ctl` waits in steps of 100 ms) leaves its connections
/// dead; under load, connections are reused much sooner and never pinged.
const PING_AFTER_IDLE: Duration = Duration::from_millis(100);

#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    groups: Vec<Group>,
    connect_options: PgConnectOptions,
    acquire_timeout: Duration,
    closed: AtomicBool,
}

struct Group {
    idle: Mutex<Vec<Idle>>,
    /// One permit per connection the group may still hand out: idle ones and unopened ones.
    free: Semaphore,
    size: u32,
}

struct Idle {
    connection: PgConnection,
    since: Instant,
}

impl Pool {
    /// Groups of the given sizes; connections are opened when first needed.
    pub fn new(
        sizes: &[u32],
        connect_options: PgConnectOptions,
        acquire_timeout: Duration,
    ) -> Pool {
        let groups = sizes
            .iter()
            .map(|&size| Group {
                idle: Mutex::new(Vec::new()),
                free: Semaphore::new(size as usize),
                size,
            })
            .collect();
        Pool {
            inner: Arc::new(Inner {
                groups,
                connect_options,
                acquire_timeout,
                closed: AtomicBool::new(false),
            }),
        }
    }

    #[cfg(test)]
    pub(crate) fn group_sizes(&self) -> Vec<u32> {
        self.inner.groups.iter().map(|group| group.size).collect()
    }

    /// A connection for a tenant whose home group is `home`: an idle one of its home group,
    /// else an idle one of any group, else a new one of a group (home first) that has not
    /// opened all its connections, else the next one its home group frees, waiting at most
    /// the acquire timeout.
    ///
    /// Every backend caches the catalog of every schema it has touched, and every connection
    /// prepares each tenant's statements separately. Keeping a tenant's requests on a few
    /// connections keeps both to a share of the tenants; taking any idle connection first
    /// keeps a busy tenant from waiting while others idle.
    pub async fn acquire(&self, home: usize) -> Result<Pooled, sqlx::Error> {
        let all = &self.inner.groups;
        let order = || std::iter::once(home).chain(0..all.len());
        let take = |group: usize| {
            let permit = all[group].free.try_acquire().ok()?;
            permit.forget();
            Some(group)
        };
        let idle =
            order().find(|&group| !lock(&all[group].idle).is_empty() && take(group).is_some());
        let group = match idle.or_else(|| order().find_map(take)) {
            Some(group) => group,
            None => {
                let wait = all[home].free.acquire();
                tokio::time::timeout(self.inner.acquire_timeout, wait)
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)?
                    .map_err(|_| sqlx::Error::PoolClosed)?
                    .forget();
                home
            }
        };
        match self.connection_of(group).await {
            Ok(connection) => Ok(Pooled {
                connection: Some(connection),
                group,
                pool: self.clone(),
                failures: connection_failures(),
                in_transaction: false,
            }),
            Err(error) => {
                all[group].free.add_permits(1);
                Err(error)
            }
        }
    }

    /// An idle connection of `group` that answers, else a new one. The caller holds a permit.
    async fn connection_of(&self, group: usize) -> Result<PgConnection, sqlx::Error> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(sqlx::Error::PoolClosed);
        }
        loop {
            let idle = lock(&self.inner.groups[group].idle).pop();
            let Some(mut idle) = idle else { break };
            if idle.since.elapsed() < PING_AFTER_IDLE || idle.connection.ping().await.is_ok() {
                return Ok(idle.connection);
            }
            tracing::debug!("an idle connection no longer answers; dropped");
        }
        let connect = PgConnection::connect_with(&self.inner.connect_options);
        tokio::time::timeout(self.inner.acquire_timeout, connect)
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
    }

    /// Refuses new requests, closes idle connections at once and the others as they come
    /// back, and waits at most `deadline` for those still in use.
    pub async fn close(&self, deadline: Duration) {
        self.inner.closed.store(true, Ordering::Release);
        let wait_for_all = async {
            for group in &self.inner.groups {
                if let Ok(permits) = group.free.acquire_many(group.size).await {
                    permits.forget();
                }
                let idle = std::mem::take(&mut *lock(&group.idle));
                for idle in idle {
                    let _ = idle.connection.close().await;
                }
            }
        };
        let _ = tokio::time::timeout(deadline, wait_for_all).await;
    }

    fn release(&self, group: usize, mut connection: PgConnection, check: Check) {
        let pool = self.clone();
        let back = move |connection: Option<PgConnection>| {
            let group = &pool.inner.groups[group];
            if let Some(connection) = connection {
                lock(&group.idle).push(Idle {
                    connection,
                    since: Instant::now(),
                });
            }
            group.free.add_permits(1);
        };
        let closed = self.inner.closed.load(Ordering::Acquire);
        if check == Check::None && !closed {
            return back(Some(connection));
        }
        tokio::spawn(async move {
            if closed {
                let _ = connection.close().await;
                return back(None);
            }
            let usable = match check {
                Check::None => true,
                Check::Rollback => connection.execute("ROLLBACK").await.is_ok(),
                Check::Ping => connection.ping().await.is_ok(),
            };
            back(usable.then_some(connection));
        });
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    None,
    Rollback,
    Ping,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A connection taken from a [`Pool`]; it goes back when dropped.
pub struct Pooled {
    connection: Option<PgConnection>,
    group: usize,
    pool: Pool,
    /// The count of connection failures when it was taken (see `error::connection_failures`).
    failures: u64,
    in_transaction: bool,
}

impl Pooled {
    /// Starts a transaction; one still open when this is dropped is rolled back.
    pub async fn begin(&mut self) -> Result<(), sqlx::Error> {
        self.execute("BEGIN").await?;
        self.in_transaction = true;
        Ok(())
    }

    /// Commits the transaction [`Pooled::begin`] started, if there is one.
    pub async fn commit(&mut self) -> Result<(), sqlx::Error> {
        if !self.in_transaction {
            return Ok(());
        }
        let committed = self.execute("COMMIT").await;
        // A failed COMMIT ends the transaction too (PostgreSQL rolls it back), unless the
        // connection failed, which the failure count then tells `Drop`.
        self.in_transaction = false;
        committed.map(drop)
    }

    /// Which pool group it came from.
    pub fn group(&self) -> usize {
        self.group
    }
}

impl Deref for Pooled {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.connection.as_ref().expect("present until dropped")
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.connection.as_mut().expect("present until dropped")
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(connection) = self.connection.take() else {
            return;
        };
        let check = if self.in_transaction {
            Check::Rollback
        } else if connection_failures() != self.failures {
            Check::Ping
        } else {
            Check::None
        };
        self.pool.release(self.group, connection, check);
    }
}

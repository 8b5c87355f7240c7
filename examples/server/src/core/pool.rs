//! The request connections, in groups (see [`Pool::acquire`] for how a tenant picks one).
//!
//! Each group is a `deadpool` pool, which keeps the books: permits, idle connections, a
//! waiter or a connect dropped half way (a client gone, a request timed out) gives back what
//! it held. On top of it, one fair semaphore counts the whole pool's connections, so that
//! waiters are served in the order they came, whichever group frees a connection first.
//!
//! Not sqlx's pool: that one pings every connection it takes back, a second round trip for a
//! request that is otherwise one statement (`bench/README.md`, "The request path's
//! mechanism"). Here a connection is checked only when there is reason to, as deadpool hands
//! it out again ([`Manager::recycle`]): one unused for [`PING_AFTER_IDLE`] is pinged (the
//! database may have restarted meanwhile), and one past its lifetime is closed and replaced.
//! A connection that comes back inside a transaction is rolled back before it goes back, and
//! one that failed under a statement (the pool's `BEGIN`, `COMMIT` or `ROLLBACK`, or module
//! code's through [`Pooled::guarded`]) is dropped. Every
//! wait, connect, ping and rollback has a time limit.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use deadpool::managed::{self, Metrics, Object, PoolError, RecycleError, RecycleResult, Timeouts};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::core::error::is_connection_failure;
use crate::core::guard::Guarded;

/// A connection unused for this long is pinged before a request gets it. Short, because even
/// a quick restart of the database (`pg_ctl` waits in steps of 100 ms) leaves its connections
/// dead; under load, connections are reused much sooner and never pinged.
const PING_AFTER_IDLE: Duration = Duration::from_millis(100);

/// The longest a request waits for a connection of its home group while another group has
/// one for it (see [`Pool::acquire`]): long enough for one of a busy group's connections to
/// come back (a request holds one for about a millisecond, more on a saturated machine),
/// short enough that a group held up by slow statements costs its tenants' requests little.
const HOME_WAIT: Duration = Duration::from_millis(5);

#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    groups: Vec<managed::Pool<Manager>>,
    /// One permit per connection of the whole pool. Tokio's semaphore is fair: waiters get
    /// permits in the order they asked.
    permits: Arc<Semaphore>,
    size: u32,
    acquire_timeout: Duration,
    /// [`HOME_WAIT`], but for tests.
    home_wait: Duration,
}

/// Opens and checks a group's connections for deadpool.
struct Manager {
    connect_options: PgConnectOptions,
    /// The longest a connect, a ping or a rollback may take.
    timeout: Duration,
    lifetime: Duration,
    /// Connections opened, for spreading their lifetimes.
    opened: AtomicU64,
}

/// A pooled connection with what the pool needs to know about it.
pub struct Conn {
    connection: PgConnection,
    /// When it came back, to tell how long it has been idle.
    returned: Instant,
    /// When it is closed rather than handed out again.
    expires: Instant,
}

impl managed::Manager for Manager {
    type Type = Conn;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<Conn, sqlx::Error> {
        let connection = PgConnection::connect_with(&self.connect_options);
        // A connect that takes too long is the database's trouble, not the pool's: it counts
        // as a connection failure (see `error::is_connection_failure`).
        let timed_out = || std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out");
        let connection = tokio::time::timeout(self.timeout, connection)
            .await
            .map_err(|_| sqlx::Error::Io(timed_out()))??;
        let n = self.opened.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        Ok(Conn {
            connection,
            returned: now,
            expires: now + lifetime_of(n, self.lifetime),
        })
    }

    async fn recycle(&self, conn: &mut Conn, _: &Metrics) -> RecycleResult<sqlx::Error> {
        if Instant::now() >= conn.expires {
            return Err(RecycleError::message("past its lifetime"));
        }
        if conn.returned.elapsed() >= PING_AFTER_IDLE {
            match tokio::time::timeout(self.timeout, conn.connection.ping()).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => return Err(RecycleError::Backend(error)),
                Err(_) => return Err(RecycleError::message("no answer to a ping")),
            }
        }
        Ok(())
    }
}

/// The lifetime of the `n`-th connection a group opens: `lifetime` less up to a tenth, in ten
/// steps that neighbouring connections do not share, so that connections opened together (at
/// start, after an outage) are not all replaced at once.
fn lifetime_of(n: u64, lifetime: Duration) -> Duration {
    let step = (n * 7) % 10;
    lifetime - lifetime / 100 * step as u32
}

impl Pool {
    /// Groups of the given sizes; connections are opened when first needed, and closed
    /// `lifetime` (less up to a tenth) after they were opened.
    pub fn new(
        sizes: &[u32],
        connect_options: PgConnectOptions,
        acquire_timeout: Duration,
        lifetime: Duration,
    ) -> Pool {
        let groups = sizes
            .iter()
            .map(|&size| {
                let manager = Manager {
                    connect_options: connect_options.clone(),
                    timeout: acquire_timeout,
                    lifetime,
                    opened: AtomicU64::new(0),
                };
                managed::Pool::builder(manager)
                    .max_size(size as usize)
                    // The most recently used connection first: it is the least likely to
                    // need a ping, and its backend has this group's tenants cached.
                    .queue_mode(managed::QueueMode::Lifo)
                    .runtime(deadpool::Runtime::Tokio1)
                    .build()
                    .expect("a runtime is set")
            })
            .collect();
        let size = sizes.iter().sum();
        Pool {
            inner: Arc::new(Inner {
                groups,
                permits: Arc::new(Semaphore::new(size as usize)),
                size,
                acquire_timeout,
                home_wait: HOME_WAIT,
            }),
        }
    }

    /// This pool, with requests waiting `wait` for their home group.
    #[cfg(test)]
    fn waiting_at_home(mut self, wait: Duration) -> Pool {
        Arc::get_mut(&mut self.inner)
            .expect("not shared yet")
            .home_wait = wait;
        self
    }

    #[cfg(test)]
    pub(crate) fn group_sizes(&self) -> Vec<u32> {
        let size = |group: &managed::Pool<Manager>| group.status().max_size as u32;
        self.inner.groups.iter().map(size).collect()
    }

    /// A connection for a tenant whose home group is `home`. Requests wait in line for a
    /// permit of the whole pool, at most the acquire timeout; with it, a request takes an idle
    /// connection of its home group; else, if its home group has all its connections open and
    /// in use and no other request is waiting there, the first one that group frees within
    /// [`HOME_WAIT`]; else an idle one of any group, else a new one of a group (home first)
    /// that has not opened all its connections.
    ///
    /// Every backend caches the catalog of every schema it has touched, and every connection
    /// prepares each tenant's statements separately. Keeping a tenant's requests on a few
    /// connections keeps both to a share of the tenants. Under load the connection a permit
    /// finds is the one just freed, in the request's home group only one time in as many as
    /// there are groups; the short wait at home is what keeps a tenant's requests there, and
    /// letting one request per group wait (the others go elsewhere at once) keeps a busy
    /// tenant from waiting behind its own while other groups idle.
    pub async fn acquire(&self, home: usize) -> Result<Pooled, sqlx::Error> {
        let inner = &self.inner;
        let permit =
            tokio::time::timeout(inner.acquire_timeout, inner.permits.clone().acquire_owned())
                .await
                .map_err(|_| sqlx::Error::PoolTimedOut)?
                .map_err(|_| sqlx::Error::PoolClosed)?;
        // The permit guarantees a group with an idle connection or room for a new one.
        let order = || std::iter::once(home).chain((0..inner.groups.len()).filter(|&g| g != home));
        let idle = |&group: &usize| inner.groups[group].status().available > 0;
        let waiting = |wait| Timeouts {
            wait: Some(wait),
            create: Some(inner.acquire_timeout),
            recycle: Some(inner.acquire_timeout),
        };
        let at_home = inner.groups[home].status();
        let wait_at_home =
            at_home.available == 0 && at_home.size == at_home.max_size && at_home.waiting == 0;
        let attempts = wait_at_home
            .then_some((home, inner.home_wait))
            .into_iter()
            .chain(
                order()
                    .filter(idle)
                    .chain(order())
                    .map(|g| (g, Duration::ZERO)),
            );
        for (group, wait) in attempts {
            match inner.groups[group].timeout_get(&waiting(wait)).await {
                Ok(object) => {
                    return Ok(Pooled {
                        object: Some(object),
                        permit: Some(permit),
                        group,
                        timeout: inner.acquire_timeout,
                        in_transaction: false,
                        broken: false,
                    });
                }
                Err(PoolError::Timeout(managed::TimeoutType::Wait)) => continue,
                Err(error) => return Err(sqlx_error(error)),
            }
        }
        // A permit of the whole pool leaves some group a connection: not reached.
        tracing::error!("the pool found no group with a connection for a permit");
        Err(sqlx::Error::PoolTimedOut)
    }

    /// Waits at most `deadline` for the connections in use to come back, then closes every
    /// connection. Requests that ask meanwhile wait in line behind this and are refused with
    /// `PoolClosed` once it closes (or give up at their acquire timeout).
    pub async fn close(&self, deadline: Duration) {
        let inner = &self.inner;
        let all_back = inner.permits.acquire_many(inner.size);
        if let Ok(Ok(permits)) = tokio::time::timeout(deadline, all_back).await {
            permits.forget();
        }
        inner.permits.close();
        for group in &inner.groups {
            for conn in group.retain(|_, _| false).removed {
                let _ = conn.connection.close().await;
            }
            group.close();
        }
    }
}

fn sqlx_error(error: PoolError<sqlx::Error>) -> sqlx::Error {
    match error {
        PoolError::Backend(error) => error,
        PoolError::Closed => sqlx::Error::PoolClosed,
        _ => sqlx::Error::PoolTimedOut,
    }
}

/// A connection taken from a [`Pool`]; it goes back when dropped.
pub struct Pooled {
    object: Option<Object<Manager>>,
    permit: Option<OwnedSemaphorePermit>,
    group: usize,
    /// The longest its rollback may take when it comes back inside a transaction.
    timeout: Duration,
    /// Set before `BEGIN` is sent, so that a request dropped while waiting for its answer
    /// still has the connection rolled back.
    in_transaction: bool,
    /// The connection failed under a statement, the pool's own or module code's (see
    /// [`Pooled::guarded`]): it is dropped when it comes back.
    broken: bool,
}

impl Pooled {
    /// Starts a transaction; one still open when this is dropped is rolled back.
    pub async fn begin(&mut self) -> Result<(), sqlx::Error> {
        self.in_transaction = true;
        self.run("BEGIN").await
    }

    /// Commits the transaction [`Pooled::begin`] started; without one, that is a bug in the
    /// caller, reported as an error rather than ignored.
    pub async fn commit(&mut self) -> Result<(), sqlx::Error> {
        if !self.in_transaction {
            return Err(sqlx::Error::InvalidArgument(
                "commit() on a connection without a transaction: start one with Ctx::begin".into(),
            ));
        }
        let committed = self.run("COMMIT").await;
        // A failed COMMIT ends the transaction too (PostgreSQL rolls it back); a connection
        // that failed under it is marked broken by `run`.
        self.in_transaction = false;
        committed
    }

    async fn run(&mut self, statement: &'static str) -> Result<(), sqlx::Error> {
        let result = self.execute(statement).await;
        if let Err(error) = &result {
            self.broken |= is_connection_failure(error);
        }
        result.map(drop)
    }

    /// The connection for module code's statements, which refuses those that would outlive
    /// the request and marks it broken when one fails with the connection.
    pub fn guarded(&mut self) -> Guarded<'_> {
        let object = self.object.as_mut().expect("present until dropped");
        Guarded::new(&mut object.connection, &mut self.broken)
    }

    /// Which pool group it came from.
    pub fn group(&self) -> usize {
        self.group
    }
}

impl Deref for Pooled {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self
            .object
            .as_ref()
            .expect("present until dropped")
            .connection
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self
            .object
            .as_mut()
            .expect("present until dropped")
            .connection
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let (Some(mut object), Some(permit)) = (self.object.take(), self.permit.take()) else {
            return;
        };
        object.returned = Instant::now();
        if self.broken {
            drop(Object::take(object));
            return drop(permit);
        }
        if !self.in_transaction {
            return drop((object, permit));
        }
        // Back only once rolled back; until then it stays out, and counts as out. The
        // connection goes back before the permit, so that whoever gets the permit finds it.
        let timeout = self.timeout;
        tokio::spawn(async move {
            let rollback = object.connection.execute("ROLLBACK");
            match tokio::time::timeout(timeout, rollback).await {
                Ok(Ok(_)) => {
                    object.returned = Instant::now();
                    drop(object);
                }
                _ => drop(Object::take(object)),
            }
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;
    use sqlx::SqlStr;

    use super::*;
    use crate::testing::{SlowProxy, database_url};

    const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1500);
    const LONG_AGO: Duration = Duration::from_secs(3600);

    /// The test database's options, once it accepts connections (a throwaway one may still
    /// be starting).
    async fn database() -> PgConnectOptions {
        let url = database_url();
        crate::core::database::connect(url, 1).await.unwrap();
        url.parse().unwrap()
    }

    async fn behind_a_proxy(sizes: &[u32]) -> (Pool, SlowProxy) {
        let options = database().await;
        let proxy = SlowProxy::start(&options).await;
        let pool = Pool::new(sizes, proxy.options(&options), ACQUIRE_TIMEOUT, LONG_AGO);
        (pool, proxy)
    }

    /// Every connection of the pool at once: none was lost.
    async fn take_all(pool: &Pool, count: usize) -> Vec<Pooled> {
        let mut taken = Vec::new();
        for n in 0..count {
            let connection = pool.acquire(0).await;
            taken.push(connection.unwrap_or_else(|e| panic!("connection {n} of {count}: {e}")));
        }
        taken
    }

    async fn pid(connection: &mut Pooled) -> i32 {
        sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut **connection)
            .await
            .unwrap()
    }

    /// Gives it time to be idle for long enough to be pinged when taken again.
    async fn idle(connection: Pooled) {
        drop(connection);
        tokio::time::sleep(PING_AFTER_IDLE + Duration::from_millis(50)).await;
    }

    #[tokio::test]
    async fn requests_dropped_while_connecting_give_their_place_back() {
        let (pool, proxy) = behind_a_proxy(&[2, 2]).await;
        proxy.delay_connects(Duration::from_secs(3));
        for _ in 0..3 {
            let gave_up = tokio::time::timeout(Duration::from_millis(200), pool.acquire(0)).await;
            assert!(gave_up.is_err(), "still connecting");
        }
        proxy.delay_connects(Duration::ZERO);
        take_all(&pool, 4).await;
    }

    #[tokio::test]
    async fn a_request_dropped_during_the_idle_ping_gives_its_place_back() {
        let (pool, proxy) = behind_a_proxy(&[1]).await;
        idle(pool.acquire(0).await.unwrap()).await;
        proxy.hold(true);
        let gave_up = tokio::time::timeout(Duration::from_millis(200), pool.acquire(0)).await;
        assert!(gave_up.is_err(), "still pinging");
        proxy.hold(false);
        take_all(&pool, 1).await;
    }

    #[tokio::test]
    async fn a_ping_that_gets_no_answer_ends_within_the_timeouts() {
        let (pool, proxy) = behind_a_proxy(&[1]).await;
        idle(pool.acquire(0).await.unwrap()).await;
        proxy.hold(true);
        // Far beyond the ping's and the new connection's timeouts, so never reached unless a
        // wait has none.
        let bound = ACQUIRE_TIMEOUT * 6;
        let acquired = tokio::time::timeout(bound, pool.acquire(0)).await;
        assert!(matches!(acquired, Ok(Err(_))), "an error, not a hang");
        proxy.hold(false);
        take_all(&pool, 1).await;
    }

    #[tokio::test]
    async fn a_request_dropped_between_begin_and_its_answer_leaves_no_transaction_open() {
        let (pool, proxy) = behind_a_proxy(&[1]).await;
        let mut connection = pool.acquire(0).await.unwrap();
        proxy.hold(true);
        let gave_up = tokio::time::timeout(Duration::from_millis(200), connection.begin()).await;
        assert!(gave_up.is_err(), "BEGIN held by the proxy");
        drop(connection);
        proxy.hold(false);
        let mut connection = take_all(&pool, 1).await.pop().unwrap();
        let savepoint = sqlx::query("SAVEPOINT probe")
            .execute(&mut *connection)
            .await;
        let error = savepoint.expect_err("no transaction to make a savepoint in");
        let code = error.as_database_error().and_then(|e| e.code());
        assert_eq!(code.as_deref(), Some("25P01"), "{error}");
    }

    #[tokio::test]
    async fn a_connection_whose_commit_failed_is_not_handed_out_again() {
        let options = database().await;
        let pool = Pool::new(&[1], options.clone(), ACQUIRE_TIMEOUT, LONG_AGO);
        let mut connection = pool.acquire(0).await.unwrap();
        connection.begin().await.unwrap();
        let backend = pid(&mut connection).await;
        let mut other = PgConnection::connect_with(&options).await.unwrap();
        sqlx::query("SELECT pg_terminate_backend($1)")
            .bind(backend)
            .execute(&mut other)
            .await
            .unwrap();
        connection.commit().await.expect_err("its backend is gone");
        drop(connection);
        // At once, before an idle connection would be pinged.
        let mut connection = pool.acquire(0).await.unwrap();
        assert_ne!(pid(&mut connection).await, backend);
    }

    #[tokio::test]
    async fn a_connection_that_failed_under_module_code_is_dropped_not_handed_out_again() {
        let options = database().await;
        let pool = Pool::new(&[1], options.clone(), ACQUIRE_TIMEOUT, LONG_AGO);
        let mut other = PgConnection::connect_with(&options).await.unwrap();
        // Each way module code reaches the connection: a statement's rows (`execute` streams
        // them), one optional row, and a prepared statement.
        for way in ["execute", "fetch_optional", "prepare"] {
            let mut connection = pool.acquire(0).await.unwrap();
            let backend = pid(&mut connection).await;
            sqlx::query("SELECT pg_terminate_backend($1)")
                .bind(backend)
                .execute(&mut other)
                .await
                .unwrap();
            let guarded = connection.guarded();
            let failed = match way {
                "execute" => sqlx::query("SELECT 1").execute(guarded).await.err(),
                "fetch_optional" => sqlx::query("SELECT 1").fetch_optional(guarded).await.err(),
                _ => guarded.prepare(SqlStr::from_static("SELECT 2")).await.err(),
            };
            assert!(failed.is_some_and(|e| is_connection_failure(&e)), "{way}");
            drop(connection);
            // Taken again at once, before an idle connection would be pinged: another backend.
            let mut connection = pool.acquire(0).await.unwrap();
            assert_ne!(pid(&mut connection).await, backend, "{way}");
        }
        // A statement that fails on its own (a syntax error) leaves the connection be.
        let mut connection = pool.acquire(0).await.unwrap();
        let failed = sqlx::query("SELEC 1").execute(connection.guarded()).await;
        assert!(failed.is_err());
        let backend = pid(&mut connection).await;
        drop(connection);
        let mut connection = pool.acquire(0).await.unwrap();
        assert_eq!(pid(&mut connection).await, backend);
    }

    #[tokio::test]
    async fn commit_without_a_transaction_is_an_error() {
        let pool = Pool::new(&[1], database().await, ACQUIRE_TIMEOUT, LONG_AGO);
        let mut connection = pool.acquire(0).await.unwrap();
        let error = connection.commit().await.unwrap_err();
        assert!(
            error.to_string().contains("without a transaction"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn waiters_are_served_in_order_whichever_group_frees_a_connection() {
        let pool = Pool::new(&[1, 1], database().await, ACQUIRE_TIMEOUT, LONG_AGO);
        let _home_of_the_first = pool.acquire(0).await.unwrap();
        let home_of_the_second = pool.acquire(1).await.unwrap();
        let first = tokio::spawn({
            let pool = pool.clone();
            async move { pool.acquire(0).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = tokio::spawn({
            let pool = pool.clone();
            async move { pool.acquire(1).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(home_of_the_second);
        let served = tokio::time::timeout(ACQUIRE_TIMEOUT / 2, first).await;
        let served = served
            .expect("the first waiter is served")
            .unwrap()
            .unwrap();
        assert_eq!(served.group(), 1);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!second.is_finished(), "the second waits for the next one");
    }

    #[tokio::test]
    async fn a_request_waits_briefly_for_its_home_group_while_it_is_busy() {
        let pool = Pool::new(&[1, 1], database().await, ACQUIRE_TIMEOUT, LONG_AGO);
        let mut at_home = pool.acquire(0).await.unwrap();
        let home_backend = pid(&mut at_home).await;
        drop(pool.acquire(1).await.unwrap());
        let waiting = pool.acquire(0);
        tokio::pin!(waiting);
        assert!(
            (&mut waiting).now_or_never().is_none(),
            "it waits at home rather than taking the other group's idle connection"
        );
        drop(at_home);
        let mut served = waiting.await.unwrap();
        assert_eq!((served.group(), pid(&mut served).await), (0, home_backend));
    }

    #[tokio::test]
    async fn one_request_per_group_waits_there_the_others_go_elsewhere_at_once() {
        // So long that a request that waited at home would fail the timeouts below.
        let wait = ACQUIRE_TIMEOUT * 10;
        let pool = Pool::new(&[1, 2], database().await, ACQUIRE_TIMEOUT, LONG_AGO);
        let pool = pool.waiting_at_home(wait);
        let at_home = pool.acquire(0).await.unwrap();
        drop([
            pool.acquire(1).await.unwrap(),
            pool.acquire(1).await.unwrap(),
        ]);
        let first = pool.acquire(0);
        tokio::pin!(first);
        assert!(
            (&mut first).now_or_never().is_none(),
            "the first waits at home"
        );
        let second = tokio::time::timeout(ACQUIRE_TIMEOUT, pool.acquire(0)).await;
        assert_eq!(second.expect("not behind the first").unwrap().group(), 1);
        drop(at_home);
        let first = tokio::time::timeout(ACQUIRE_TIMEOUT, first).await;
        assert_eq!(first.expect("served at home").unwrap().group(), 0);
    }

    #[test]
    fn lifetimes_spread_over_their_last_tenth() {
        let lifetime = Duration::from_secs(1000);
        let ten: Vec<Duration> = (0..10).map(|n| lifetime_of(n, lifetime)).collect();
        assert_eq!(ten[0], lifetime);
        assert!(
            ten.iter().all(|&l| l <= lifetime && l > lifetime * 9 / 10),
            "{ten:?}"
        );
        let mut distinct = ten.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 10, "{ten:?}");
        assert_ne!(
            ten[1],
            ten[0] - lifetime / 100,
            "neighbours are not one step apart"
        );
    }

    #[tokio::test]
    async fn an_idle_connection_elsewhere_comes_before_a_new_one_at_home() {
        let pool = Pool::new(&[2, 2], database().await, ACQUIRE_TIMEOUT, LONG_AGO);
        let mut first = pool.acquire(0).await.unwrap();
        let backend = pid(&mut first).await;
        drop(first);
        let mut second = pool.acquire(1).await.unwrap();
        assert_eq!((second.group(), pid(&mut second).await), (0, backend));
    }

    #[tokio::test]
    async fn close_waits_for_connections_in_use_then_refuses_requests() {
        let pool = Pool::new(&[1, 1], database().await, ACQUIRE_TIMEOUT, LONG_AGO);
        let in_use = pool.acquire(0).await.unwrap();
        let closing = tokio::spawn({
            let pool = pool.clone();
            async move { pool.close(Duration::from_secs(5)).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!closing.is_finished(), "a connection is still in use");
        drop(in_use);
        tokio::time::timeout(ACQUIRE_TIMEOUT, closing)
            .await
            .unwrap()
            .unwrap();
        let refused = pool.acquire(0).await.err().expect("closed");
        assert!(matches!(refused, sqlx::Error::PoolClosed), "{refused}");
    }

    #[tokio::test]
    async fn a_database_that_refuses_connections_is_a_connection_failure() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let nowhere = database().await.host("127.0.0.1").port(port);
        let pool = Pool::new(&[1], nowhere, ACQUIRE_TIMEOUT, LONG_AGO);
        let error = pool.acquire(0).await.err().expect("nothing listens there");
        assert!(is_connection_failure(&error), "{error}");
    }

    #[tokio::test]
    async fn connections_are_replaced_after_their_lifetime() {
        let lifetime = Duration::from_millis(300);
        let pool = Pool::new(&[1], database().await, ACQUIRE_TIMEOUT, lifetime);
        let mut connection = pool.acquire(0).await.unwrap();
        let first = pid(&mut connection).await;
        drop(connection);
        let mut connection = pool.acquire(0).await.unwrap();
        assert_eq!(
            pid(&mut connection).await,
            first,
            "reused within its lifetime"
        );
        drop(connection);
        tokio::time::sleep(lifetime).await;
        let mut connection = pool.acquire(0).await.unwrap();
        assert_ne!(pid(&mut connection).await, first);
    }
}

//! The server's database: the request pool, a connection of its own for `/readyz`, and the
//! bookkeeping that bounds waits; and [`connect`], a plain pool for commands and tests. Module
//! code reaches it only through `db::Ctx`.
//!
//! Every wait here is bounded, and one tenant's trouble stays that tenant's: PostgreSQL's own
//! statement, lock and idle-transaction timeouts end a statement or transaction; a tenant holds
//! at most half the pool while others wait; a request waits at most the acquire timeout for a
//! connection; while the database is unreachable, requests are answered 503 at once.
//!
//! The pool is split into groups of four connections, and each tenant's requests prefer one
//! group: each connection then prepares the statements of a share of the tenants, and each
//! backend caches the catalogs of that share rather than of all of them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hashlink::LinkedHashMap;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::core::config::Limits;
use crate::core::error::{AppError, is_connection_failure};
use crate::core::migrations::latest_tenant_version;
use crate::core::pool::{Pool, Pooled};
use crate::core::registry;
use crate::core::tenant::{TenantId, TenantSlug};

/// A pool for commands (`migrate`, `tenant create`) and tests; the server wraps its pool in a
/// [`Database`].
pub async fn connect(database_url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let pool = pool_options(max_connections, Duration::from_secs(5))
        .connect(database_url)
        .await?;
    Ok(pool)
}

fn pool_options(max_connections: u32, acquire_timeout: Duration) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
}

/// How request connections start: PostgreSQL's timeouts set for the whole session, so that it
/// ends a request that waits or runs too long; a `search_path` of `pg_catalog` alone, so that
/// no table resolves without a schema; and room for many tenants' prepared statements.
fn request_connect_options(options: &PgConnectOptions, limits: &Limits) -> PgConnectOptions {
    let millis = |d: Duration| format!("{}ms", d.as_millis());
    options
        .clone()
        .options([
            ("search_path", "pg_catalog".to_owned()),
            ("statement_timeout", millis(limits.statement_timeout)),
            ("lock_timeout", millis(limits.lock_timeout)),
            (
                "idle_in_transaction_session_timeout",
                millis(limits.idle_in_transaction_timeout),
            ),
        ])
        // Each tenant has its own statements; a connection serves mostly its group's tenants.
        .statement_cache_capacity(STATEMENT_CACHE)
}

/// Prepared statements kept per connection; beyond it, the least recently used is closed and
/// the next use prepares and plans it again. Under load a request takes the first connection
/// free, so every connection sees nearly every tenant, not only its group's: three modules
/// are 8 statements per tenant, 8,000 at 1,000 tenants. At 1,024 most requests re-prepared
/// and re-planned theirs: `bench/mixed.sh` at 1,000 tenants ran 1,838 requests/s against
/// 3,610 at 8,192, with 458 against 257 µs of PostgreSQL CPU per request (bench/README.md).
/// A statement costs its backend about 10 KB and the server about 1.5 KB, so this also bounds
/// what statements hold: about 80 MB per backend, and 12 MB per connection in the server.
const STATEMENT_CACHE: usize = 8192;

/// The server's database: the request pool, a separate connection for `/readyz`, and the
/// bookkeeping that bounds waits. Cloning shares it. Module code can hold one but never gets
/// the pool out of it: the only way to tenant data is `db::Ctx::db`.
#[derive(Clone)]
pub struct Database {
    inner: Arc<Inner>,
}

struct Inner {
    /// The request connections, in groups of [`GROUP_SIZE`]: each tenant has a home group
    /// (see [`Pool::acquire`]).
    pool: Pool,
    /// One connection of its own, so that readiness is answered while the request pool is
    /// busy.
    ready: PgPool,
    connect_options: PgConnectOptions,
    limits: Limits,
    tenant_share: u32,
    tenants: Mutex<Tenants>,
    /// Set while the database is unreachable: requests are answered 503 at once, and one
    /// probe task watches for the database to come back.
    down: AtomicBool,
    /// Set while a probe task runs, so that a burst of failures starts one.
    probing: AtomicBool,
}

impl Database {
    /// Connects lazily: the server starts, and answers 503, while the database is down.
    pub fn new(database_url: &str, limits: Limits) -> anyhow::Result<Database> {
        let connect_options: PgConnectOptions = database_url.parse()?;
        let group_count = (limits.pool_size / GROUP_SIZE).max(1);
        // The remainder goes to the first groups: 18 connections are 5, 5, 4, 4.
        let sizes: Vec<u32> = (0..group_count)
            .map(|i| limits.pool_size / group_count + u32::from(i < limits.pool_size % group_count))
            .collect();
        let pool = Pool::new(
            &sizes,
            request_connect_options(&connect_options, &limits),
            limits.acquire_timeout,
            limits.max_lifetime,
        );
        let ready =
            pool_options(1, Duration::from_secs(1)).connect_lazy_with(connect_options.clone());
        Ok(Database {
            inner: Arc::new(Inner {
                pool,
                ready,
                connect_options,
                // Half the pool: a tenant whose requests are slow cannot take every connection
                // while other tenants wait.
                tenant_share: (limits.pool_size / 2).max(1),
                limits,
                tenants: Mutex::new(Tenants {
                    slots: LinkedHashMap::new(),
                    per_group: vec![0; sizes.len()],
                    capacity: limits.tenant_cache,
                }),
                down: AtomicBool::new(false),
                probing: AtomicBool::new(false),
            }),
        })
    }

    /// A request connection with no tenant, for tests that look at what requests leave on
    /// their connections.
    #[doc(hidden)]
    pub async fn connection_for_tests(&self) -> Result<Pooled, sqlx::Error> {
        self.inner.pool.acquire(0).await
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Readiness: the database answers on the readiness connection, within a second.
    pub async fn ping(&self) -> Result<(), AppError> {
        if self.inner.down.load(Ordering::Relaxed) {
            return Err(AppError::unavailable());
        }
        let ping = sqlx::query("SELECT 1").execute(&self.inner.ready);
        match tokio::time::timeout(Duration::from_secs(1), ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(AppError::from(error)),
            Err(_) => Err(AppError::unavailable()),
        }
    }

    /// Closes the request pool, waiting at most `deadline` for connections still in use.
    pub async fn close(&self, deadline: Duration) {
        self.inner.pool.close(deadline).await;
        self.inner.ready.close().await;
    }

    /// The tenant's share of the pool, its home group, and its schema if a look-up found it
    /// for the incarnation `tenant` names; a tenant seen for the first time gets the group with
    /// the fewest tenants. A tenant whose look-up was refused (401) for that incarnation in the
    /// last [`REFUSAL_KEPT`] is refused again at once, without a round trip.
    fn tenant_slot(&self, tenant: &TenantSlug) -> Result<TenantSlot, AppError> {
        let Some(id) = tenant.id() else {
            return Err(AppError::Unauthorized(format!(
                "no id of tenant {tenant} was given"
            )));
        };
        let mut tenants = self.inner.tenants.lock().unwrap_or_else(|e| e.into_inner());
        let entry = tenants.entry(tenant.as_str(), self.inner.tenant_share as usize);
        if let Some(refusal) = &entry.refused
            && refusal.id == id
            && refusal.until > Instant::now()
        {
            return Err(AppError::Unauthorized(refusal.why.clone()));
        }
        Ok(TenantSlot {
            share: entry.share.clone(),
            home: entry.home,
            schema: entry
                .found
                .as_ref()
                .filter(|(found, _)| *found == id)
                .map(|(_, schema)| schema.clone()),
        })
    }

    /// A connection for `tenant`'s request, once the tenant's share of the pool and then the
    /// pool have one free, and the tenant is known to be registered and migrated.
    pub(in crate::core) async fn connection(
        &self,
        tenant: &TenantSlug,
        client: Option<&ClientGone>,
    ) -> Result<TenantConnection, AppError> {
        if self.inner.down.load(Ordering::Relaxed) {
            return Err(AppError::unavailable());
        }
        let acquire_timeout = self.inner.limits.acquire_timeout;
        let waits = async {
            let slot = self.tenant_slot(tenant)?;
            let permit = tokio::time::timeout(acquire_timeout, slot.share.acquire_owned())
                .await
                .map_err(|_| {
                    AppError::Unavailable(format!(
                        "tenant {tenant} has {} requests using the database already",
                        self.inner.tenant_share
                    ))
                })?
                .expect("tenant semaphores are never closed");
            let mut connection = self
                .inner
                .pool
                .acquire(slot.home)
                .await
                .inspect_err(|error| {
                    // Maybe the database itself is gone: worth a probe. A pool timeout is
                    // not: every connection is busy, which says nothing of the database.
                    if is_connection_failure(error) {
                        self.watch_until_reachable();
                    }
                })?;
            let schema = match slot.schema {
                Some(schema) => schema,
                None => self.look_up_schema(tenant, &mut connection).await?,
            };
            Ok(TenantConnection {
                pooled: connection,
                schema,
                _permit: permit,
            })
        };
        match client {
            // A client that has gone gives up its place in the queues; once it has a
            // connection, the request runs to its end (see `app::run_to_completion`).
            Some(client) => tokio::select! {
                biased;
                result = waits => result,
                () = client.gone() => Err(AppError::Unavailable("the client has gone".to_owned())),
            },
            None => waits.await,
        }
    }

    /// The tenant's quoted schema, looked up with [`registry::LOOKUP`] on `connection`, which
    /// refuses a tenant that is not registered, is another incarnation than the token's, is
    /// being deleted or is behind this binary's migrations; then kept in the tenant's slot with
    /// the incarnation's id. A refusal with 401 is kept too, for [`REFUSAL_KEPT`].
    async fn look_up_schema(
        &self,
        tenant: &TenantSlug,
        connection: &mut PgConnection,
    ) -> Result<Arc<str>, AppError> {
        let id = tenant.id();
        let row = sqlx::query_as(registry::LOOKUP)
            .bind(tenant.as_str())
            .bind(latest_tenant_version())
            .bind(id)
            .fetch_optional(connection)
            .await?;
        let entered = registry::entered(tenant, row).map(Arc::<str>::from);
        let mut tenants = self.inner.tenants.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some(entry), Some(id)) = (tenants.slots.get_mut(tenant.as_str()), id) {
            match &entered {
                Ok(schema) => entry.found = Some((id, schema.clone())),
                Err(AppError::Unauthorized(why)) => {
                    entry.refused = Some(Refusal {
                        id,
                        until: Instant::now() + REFUSAL_KEPT,
                        why: why.clone(),
                    });
                }
                Err(_) => {}
            }
        }
        entered
    }

    /// `slug`'s registered incarnation (None before the migration that gives tenants ids)
    /// and when it was created, in whole seconds since the epoch; None if it is not
    /// registered. For tokens that name a tenant by slug only (`auth`'s identity provider).
    pub(in crate::core) async fn registered(
        &self,
        slug: &TenantSlug,
    ) -> Result<Option<(Option<TenantId>, i64)>, AppError> {
        if self.inner.down.load(Ordering::Relaxed) {
            return Err(AppError::unavailable());
        }
        let mut connection = self.inner.pool.acquire(0).await.inspect_err(|error| {
            if is_connection_failure(error) {
                self.watch_until_reachable();
            }
        })?;
        let row = sqlx::query_as(
            "SELECT id, floor(extract(epoch FROM created_at))::bigint \
             FROM public.tenants WHERE slug = $1",
        )
        .bind(slug.as_str())
        .fetch_optional(&mut *connection)
        .await?;
        Ok(row)
    }

    /// Checks, with a connection of its own, whether the database answers; if not, answers
    /// every request 503 until a probe every 250 ms gets through.
    fn watch_until_reachable(&self) {
        if self.inner.probing.swap(true, Ordering::AcqRel) {
            return; // a probe is running
        }
        let database = self.clone();
        tokio::spawn(async move {
            if !database.probe().await {
                database.inner.down.store(true, Ordering::Release);
                tracing::error!("the database is unreachable: answering 503 until it is back");
                while !database.probe().await {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                database.inner.down.store(false, Ordering::Release);
                tracing::info!("the database is reachable again");
            }
            database.inner.probing.store(false, Ordering::Release);
        });
    }

    async fn probe(&self) -> bool {
        let probe = async {
            let mut conn = PgConnection::connect_with(&self.inner.connect_options).await?;
            sqlx::query("SELECT 1").execute(&mut conn).await?;
            conn.close().await
        };
        matches!(
            tokio::time::timeout(Duration::from_secs(1), probe).await,
            Ok(Ok(()))
        )
    }
}

/// Connections per group: a tenant's requests prefer the connections of one group.
const GROUP_SIZE: u32 = 4;

/// How long a tenant whose look-up was refused with 401 (not registered, another incarnation,
/// being deleted) is refused again without one: a token for a tenant that does not exist costs
/// a round trip this often, not on every request.
const REFUSAL_KEPT: Duration = Duration::from_secs(5);

/// The tenants this process has served, the least recently used first: at most `capacity` of
/// them, beyond which the least recently used that no request is using is forgotten (to be
/// looked up again when it comes back). An ordered map rather than an LRU cache crate, because
/// the choice of whom to forget is ours: never a tenant with requests waiting for or holding
/// its share of the pool, whose share would otherwise start over at full, and each forgotten
/// tenant leaves its home group's count.
struct Tenants {
    slots: LinkedHashMap<String, Entry>,
    /// How many tenants each group is home to.
    per_group: Vec<usize>,
    capacity: usize,
}

impl Tenants {
    /// `slug`'s entry, made if it has none, as the most recently used.
    fn entry(&mut self, slug: &str, share: usize) -> &mut Entry {
        if !self.slots.contains_key(slug) {
            if self.slots.len() >= self.capacity {
                self.forget_one();
            }
            let home = (0..self.per_group.len())
                .min_by_key(|&group| self.per_group[group])
                .expect("at least one group");
            self.per_group[home] += 1;
            let entry = Entry {
                share: Arc::new(Semaphore::new(share)),
                home,
                found: None,
                refused: None,
            };
            self.slots.insert(slug.to_owned(), entry);
        }
        self.slots
            .to_back(slug)
            .expect("the entry was there or is now")
    }

    /// Forgets the least recently used tenant that no request is using: none holds its share
    /// (a permit holds the semaphore) or is on its way to it (a `TenantSlot` holds it too).
    /// When every tenant is in use, none is, and the map stays over capacity until one is not:
    /// it is bounded by the capacity and the requests in flight.
    fn forget_one(&mut self) {
        let idle = self
            .slots
            .iter()
            .find(|(_, entry)| Arc::strong_count(&entry.share) == 1)
            .map(|(slug, _)| slug.clone());
        if let Some(entry) = idle.and_then(|slug| self.slots.remove(&slug)) {
            self.per_group[entry.home] -= 1;
        }
    }
}

/// What this process knows of one tenant.
struct Entry {
    /// The tenant's share of the pool: permits for at most half the connections.
    share: Arc<Semaphore>,
    /// The group the tenant's requests prefer.
    home: usize,
    /// The incarnation a look-up found and its quoted schema (see
    /// [`Database::look_up_schema`]), only for tokens of that incarnation. It fails closed
    /// once stale: a deleted tenant's schema is dropped and its name never used again
    /// (`registry::create`), so its statements find no schema (answered 401, see `AppError`),
    /// in this process and every other that kept it, even after the slug is created again.
    /// It is only kept once the tenant's schema is migrated.
    found: Option<(TenantId, Arc<str>)>,
    /// The last refusal with 401, for tokens of the incarnation it was for.
    refused: Option<Refusal>,
}

struct Refusal {
    id: TenantId,
    until: Instant,
    why: String,
}

/// What a request gets of its tenant's [`Entry`].
struct TenantSlot {
    share: Arc<Semaphore>,
    home: usize,
    /// The tenant's quoted schema, if looked up for the token's incarnation.
    schema: Option<Arc<str>>,
}

/// Resolves when the client that sent the request has gone (see `app::run_to_completion`).
#[derive(Clone)]
pub struct ClientGone(pub watch::Receiver<()>);

impl ClientGone {
    async fn gone(&self) {
        let mut receiver = self.0.clone();
        // `changed` fails once the sender, held for as long as someone waits for the
        // response, is dropped; nothing is ever sent on it.
        while receiver.changed().await.is_ok() {}
    }
}

/// A request connection of one tenant, with the tenant's schema; `db::Db` is what module code
/// sees of it. It holds one of its tenant's share of the pool until it is dropped.
pub struct TenantConnection {
    pub(in crate::core) pooled: Pooled,
    /// The tenant's schema, quoted.
    pub(in crate::core) schema: Arc<str>,
    _permit: OwnedSemaphorePermit,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database that accepts connections: a throwaway one (no `DATABASE_URL`) may still be
    /// starting, and the pool does not wait for it (`connect` does).
    async fn database(limits: Limits) -> Database {
        let url = crate::testing::database_url();
        connect(url, 1).await.expect("the test database starts");
        Database::new(url, limits).unwrap()
    }

    /// The test database's URL, with the tenant registry migrated, for tests that look tenants
    /// up.
    async fn with_registry() -> &'static str {
        let url = crate::testing::database_url();
        let pool = connect(url, 1).await.expect("the test database starts");
        crate::core::migrations::run_public(&pool).await.unwrap();
        url
    }

    /// `slug` bound to a new id, as a verified token names a tenant.
    fn bound(slug: &str) -> TenantSlug {
        TenantSlug::parse(slug)
            .unwrap()
            .with_id(TenantId::from(uuid::Uuid::new_v4()))
    }

    #[tokio::test]
    async fn tenants_prefer_their_home_group_and_take_any_idle_connection_before_waiting() {
        let limits = Limits {
            pool_size: 9,
            ..Limits::default()
        };
        let database = database(limits).await;
        assert_eq!(database.inner.pool.group_sizes(), [5, 4]);

        // Homes are handed out to the group with the fewest tenants, and kept.
        let homes: Vec<usize> = ["a", "b", "c", "a", "d"]
            .iter()
            .map(|slug| database.tenant_slot(&bound(slug)).unwrap().home)
            .collect();
        assert_eq!(homes, [0, 1, 0, 0, 1]);

        // Nothing open yet: a new connection of the home group.
        let first = database.inner.pool.acquire(1).await.unwrap();
        assert_eq!(first.group(), 1);
        drop(first);
        // Its home group busy, another group serves: with a new connection while it has not
        // opened all of its own, then with an idle one before the home group opens more.
        let mut held: Vec<Pooled> = Vec::new();
        for _ in 0..4 {
            held.push(database.inner.pool.acquire(1).await.unwrap());
        }
        assert!(held.iter().all(|c| c.group() == 1), "the home group first");
        let elsewhere = database.inner.pool.acquire(1).await.unwrap();
        assert_eq!(elsewhere.group(), 0);
        drop(elsewhere);
        // An idle connection of the home group is taken before any other.
        held.pop();
        assert_eq!(database.inner.pool.acquire(1).await.unwrap().group(), 1);
    }

    #[tokio::test]
    async fn a_statement_without_a_transaction_commits_and_an_unended_one_rolls_back() {
        let limits = Limits {
            pool_size: 1,
            ..Limits::default()
        };
        let database = database(limits).await;
        let mut connection = database.connection_for_tests().await.unwrap();
        sqlx::query("CREATE TEMP TABLE IF NOT EXISTS t (x int)")
            .execute(&mut *connection)
            .await
            .unwrap();
        connection.begin().await.unwrap();
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut *connection)
            .await
            .unwrap();
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *connection)
            .await
            .unwrap();
        drop(connection);
        // The pool's only idle connection comes back rolled back: no transaction, no row.
        let mut connection = database.connection_for_tests().await.unwrap();
        let (same, rows): (i32, i64) = sqlx::query_as("SELECT pg_backend_pid(), count(*) FROM t")
            .fetch_one(&mut *connection)
            .await
            .unwrap();
        assert_eq!((same, rows), (pid, 0));
    }

    /// The map of tenants is bounded: past its capacity the least recently used tenant is
    /// forgotten, unless a request is using it.
    #[tokio::test]
    async fn the_least_recently_used_tenant_not_in_use_is_forgotten() {
        let limits = Limits {
            pool_size: 8,
            tenant_cache: 3,
            ..Limits::default()
        };
        let database = database(limits).await;
        let touch = |slug: &str| database.tenant_slot(&bound(slug)).unwrap();
        let remembered = || {
            let tenants = database.inner.tenants.lock().unwrap();
            let homes: usize = tenants.per_group.iter().sum();
            assert_eq!(
                homes,
                tenants.slots.len(),
                "each tenant counted in one group"
            );
            tenants.slots.keys().cloned().collect::<Vec<_>>()
        };
        let in_use = touch("a");
        touch("b");
        touch("c");
        assert_eq!(remembered(), ["a", "b", "c"]);
        // a is the least recently used, but a request holds its slot: b goes.
        touch("d");
        assert_eq!(remembered(), ["a", "c", "d"]);
        touch("c");
        drop(in_use);
        touch("e");
        assert_eq!(remembered(), ["d", "c", "e"]);
    }

    /// A tenant whose look-up was refused is refused again at once for a while, without a
    /// connection; another incarnation of its slug is looked up.
    #[tokio::test]
    async fn a_refused_tenant_is_refused_again_without_a_round_trip() {
        let limits = Limits {
            pool_size: 1,
            acquire_timeout: Duration::from_millis(300),
            ..Limits::default()
        };
        let database = Database::new(with_registry().await, limits).unwrap();
        let unknown = bound(&format!("never_{}", uuid::Uuid::new_v4().simple()));
        let answer = |result: Result<TenantConnection, AppError>| match result {
            Ok(_) => "served".to_owned(),
            Err(AppError::Unauthorized(message)) => format!("401 {message}"),
            Err(other) => format!("{} {other}", other.status().as_u16()),
        };
        let refused = answer(database.connection(&unknown, None).await);
        assert_eq!(refused, format!("401 tenant {unknown} is not registered"));

        // The pool's one connection held: a look-up would wait for it, and then be a 503.
        let held = database.connection_for_tests().await.unwrap();
        assert_eq!(answer(database.connection(&unknown, None).await), refused);
        let reborn = TenantSlug::parse(unknown.as_str())
            .unwrap()
            .with_id(TenantId::from(uuid::Uuid::new_v4()));
        let waited = answer(database.connection(&reborn, None).await);
        assert!(waited.starts_with("503 "), "{waited}");
        // Once the refusal is old, the tenant is looked up again.
        {
            let mut tenants = database.inner.tenants.lock().unwrap();
            let entry = tenants.slots.get_mut(unknown.as_str()).unwrap();
            entry.refused.as_mut().unwrap().until = Instant::now();
        }
        let waited = answer(database.connection(&unknown, None).await);
        assert!(waited.starts_with("503 "), "{waited}");
        drop(held);
    }

    /// Every connection busy says nothing of the database: no probe, no 503s for everyone.
    #[tokio::test]
    async fn a_pool_timeout_is_not_taken_for_the_database_gone() {
        let limits = Limits {
            pool_size: 1,
            acquire_timeout: Duration::from_millis(200),
            ..Limits::default()
        };
        let database = database(limits).await;
        let held = database.connection_for_tests().await.unwrap();
        let waited = database.connection(&bound("busy"), None).await;
        assert!(matches!(waited, Err(AppError::Unavailable(_))));
        assert!(
            !database.inner.probing.load(Ordering::Acquire),
            "no probe started"
        );
        assert!(!database.inner.down.load(Ordering::Acquire));
        drop(held);
    }

    /// Polls `condition` for up to ten seconds.
    async fn eventually(condition: impl Fn() -> bool) -> bool {
        for _ in 0..200 {
            if condition() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    #[tokio::test]
    async fn while_the_database_is_unreachable_requests_are_refused_at_once_until_it_is_back() {
        let url = with_registry().await;
        let options: PgConnectOptions = url.parse().unwrap();
        let proxy = crate::testing::SlowProxy::start(&options).await;
        let limits = Limits {
            pool_size: 1,
            acquire_timeout: Duration::from_millis(500),
            ..Limits::default()
        };
        let database = Database::new(&proxy.url(url, &options), limits).unwrap();
        let down = || database.inner.down.load(Ordering::Acquire);
        let tenant = bound(&format!("never_{}", uuid::Uuid::new_v4().simple()));

        proxy.refuse(true);
        let failed = database.connection(&tenant, None).await.err().unwrap();
        assert!(matches!(failed, AppError::Unavailable(_)), "{failed:?}");
        assert!(eventually(down).await, "the probe found the database gone");
        let refused = database.connection(&tenant, None).await.err().unwrap();
        assert_eq!(refused.to_string(), AppError::unavailable().to_string());

        proxy.refuse(false);
        assert!(
            eventually(|| !down()).await,
            "the probe found the database back"
        );
        let answered = database.connection(&tenant, None).await.err().unwrap();
        assert!(
            matches!(answered, AppError::Unauthorized(_)),
            "{answered:?}"
        );

        database.close(Duration::from_secs(1)).await;
        let closed = database
            .connection(&bound("after"), None)
            .await
            .err()
            .unwrap();
        assert!(closed.to_string().contains("shutting down"), "{closed}");
    }
}

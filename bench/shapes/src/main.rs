//! Compares ways of running one tenant's GET by id against PostgreSQL, with the drivers
//! themselves and no HTTP in between, so that the request path's mechanism is chosen on
//! numbers (issue 13). Every shape runs the same primary-key read of `projects` for a random
//! tenant and id, from `WORKERS` tasks over 16 connections in 4 tenant-affine groups of 4,
//! like the server's pool.
//!
//! Shapes (arguments, run in the order given):
//! - `today`: sqlx and its pool, as the server does it: `BEGIN`, the tenant statement
//!   (registry check, `search_path` and timeouts set transaction-locally), the read, `COMMIT`;
//!   four round trips, and sqlx pings a connection when it goes back to its pool.
//! - `today-own-pool`: the same statements on sqlx connections in a pool without that ping.
//! - `pipelined`: tokio-postgres sends the same four statements at once: one round trip.
//! - `qualified`: one schema-qualified statement (`FROM "tenant_x".projects`), outside any
//!   explicit transaction, with sqlx; every connection prepares it once per tenant.
//! - `qualified-unprepared`: the same, not kept prepared: sqlx parses it (one round trip)
//!   and then runs it (another), and PostgreSQL plans it every time.
//! - `qualified-pipelined`: the same statement with tokio-postgres.
//!
//! The qualified shapes do not look the tenant up: they stand for a server that keeps the
//! registry in memory.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};
use tokio::sync::Semaphore;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Statement};
use uuid::Uuid;

const GROUPS: usize = 4;
const GROUP_SIZE: usize = 4;

const ENTER: &str = "\
    SELECT txid_current_if_assigned() IS NULL, \
           pg_try_advisory_xact_lock_shared(hashtext('scaffold.tenant.' || slug)) \
           AND set_config('search_path', quote_ident(schema_name), true) IS NOT NULL \
           AND set_config('statement_timeout', $3, true) IS NOT NULL \
           AND set_config('lock_timeout', $4, true) IS NOT NULL \
           AND set_config('idle_in_transaction_session_timeout', $5, true) IS NOT NULL, \
           schema_version >= $2 \
    FROM public.tenants WHERE slug = $1";

const FIND: &str =
    "SELECT id, name, description, created_at, updated_at FROM projects WHERE id = $1";

type Project = (Uuid, String, Option<String>, DateTime<Utc>, DateTime<Utc>);

struct Tenant {
    slug: String,
    qualified_find: Arc<str>,
    ids: Vec<Uuid>,
}

struct Setup {
    url: String,
    tenants: Vec<Tenant>,
    version: i64,
    workers: usize,
    warmup: Duration,
    duration: Duration,
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .map_or(default, |v| v.parse().expect(name))
    };
    let shapes: Vec<String> = std::env::args().skip(1).collect();
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let registry: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT slug, schema_name, schema_version FROM public.tenants ORDER BY slug",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut tenants = Vec::new();
    for (slug, schema, _) in &registry {
        let qualified_find = FIND
            .replace("FROM projects", &format!("FROM \"{schema}\".projects"))
            .into();
        let ids = format!("SELECT id FROM \"{schema}\".projects LIMIT 100");
        let ids = sqlx::query_scalar(AssertSqlSafe(ids))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        tenants.push(Tenant {
            slug: slug.clone(),
            qualified_find,
            ids,
        });
    }
    let setup = Arc::new(Setup {
        url,
        version: registry.iter().map(|t| t.2).min().unwrap(),
        tenants,
        workers: env("WORKERS", 64) as usize,
        warmup: Duration::from_secs(env("WARMUP_SECS", 3)),
        duration: Duration::from_secs(env("DURATION_SECS", 10)),
    });
    println!(
        "| shape ({} tenants) | requests/s | p50 | p99 | PostgreSQL CPU/request | bench CPU/request |",
        setup.tenants.len()
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for shape in shapes {
        let result = match shape.as_str() {
            "today" => run(&setup, SqlxPool::new(&setup.url).await).await,
            "today-own-pool" => run(&setup, OwnPool::<Sqlx>::new(&setup.url).await).await,
            "pipelined" => run(&setup, OwnPool::<Pipelined>::new(&setup.url).await).await,
            "qualified" => run(&setup, OwnPool::<SqlxQualified>::new(&setup.url).await).await,
            "qualified-unprepared" => {
                run(&setup, OwnPool::<SqlxUnprepared>::new(&setup.url).await).await
            }
            "qualified-pipelined" => {
                run(&setup, OwnPool::<PipelinedQualified>::new(&setup.url).await).await
            }
            other => panic!("unknown shape {other}"),
        };
        println!("| `{shape}` | {result} |");
    }
}

/// One way of answering a GET by id.
trait Shape: Sync + Send + 'static {
    fn get(
        &self,
        setup: &Setup,
        tenant: usize,
        id: Uuid,
    ) -> impl Future<Output = Option<Project>> + Send;
}

async fn run(setup: &Arc<Setup>, shape: impl Shape) -> String {
    let shape = Arc::new(shape);
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..setup.workers as u64)
        .map(|seed| {
            let (setup, shape) = (setup.clone(), shape.clone());
            let (stop, measuring) = (stop.clone(), measuring.clone());
            tokio::spawn(async move {
                let mut random = (seed + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let mut next = move |n: usize| {
                    random ^= random << 13;
                    random ^= random >> 7;
                    random ^= random << 17;
                    (random % n as u64) as usize
                };
                let mut latencies = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let tenant = next(setup.tenants.len());
                    let ids = &setup.tenants[tenant].ids;
                    let id = ids[next(ids.len())];
                    let start = Instant::now();
                    let row = shape.get(&setup, tenant, id).await.expect("the row");
                    assert_eq!(row.0, id);
                    if measuring.load(Ordering::Relaxed) {
                        latencies.push(start.elapsed().as_micros() as u32);
                    }
                }
                latencies
            })
        })
        .collect();
    tokio::time::sleep(setup.warmup).await;
    let before = (postgres_ticks(), own_ticks(), Instant::now());
    measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(setup.duration).await;
    measuring.store(false, Ordering::Relaxed);
    let after = (postgres_ticks(), own_ticks(), Instant::now());
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    all.sort_unstable();
    let seconds = (after.2 - before.2).as_secs_f64();
    let rate = all.len() as f64 / seconds;
    let percentile = |p: f64| all[((all.len() - 1) as f64 * p) as usize] as f64 / 1000.0;
    // Clock ticks are hundredths of a second.
    let per_request = |ticks: u64| ticks as f64 * 10_000.0 / all.len() as f64;
    format!(
        "{rate:.0} | {:.2} ms | {:.2} ms | {:.0} µs | {:.0} µs",
        percentile(0.5),
        percentile(0.99),
        per_request(after.0.saturating_sub(before.0)),
        per_request(after.1 - before.1),
    )
}

/// utime + stime of every `postgres` process, in clock ticks (100 a second).
fn postgres_ticks() -> u64 {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("stat")).ok())
        .filter(|stat| stat.contains("(postgres)"))
        .map(|stat| stat_ticks(&stat))
        .sum()
}

fn own_ticks() -> u64 {
    stat_ticks(&std::fs::read_to_string("/proc/self/stat").unwrap())
}

fn stat_ticks(stat: &str) -> u64 {
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// The server's pool: sqlx pools of four, a tenant's home group first, then any idle one.
struct SqlxPool {
    groups: Vec<PgPool>,
}

impl SqlxPool {
    async fn new(url: &str) -> SqlxPool {
        let options: PgConnectOptions = url.parse().unwrap();
        let groups = (0..GROUPS)
            .map(|_| {
                PgPoolOptions::new()
                    .max_connections(GROUP_SIZE as u32)
                    .test_before_acquire(false)
                    .connect_lazy_with(options.clone())
            })
            .collect();
        SqlxPool { groups }
    }
}

impl Shape for SqlxPool {
    async fn get(&self, setup: &Setup, tenant: usize, id: Uuid) -> Option<Project> {
        let home = &self.groups[tenant % GROUPS];
        let idle = home
            .try_acquire()
            .or_else(|| self.groups.iter().find_map(PgPool::try_acquire));
        let mut connection = match idle {
            Some(connection) => connection,
            None => home.acquire().await.unwrap(),
        };
        sqlx_today(&mut connection, setup, tenant, id).await
    }
}

/// Today's shape on one sqlx connection: `BEGIN`, the tenant statement, the read, `COMMIT`.
async fn sqlx_today(
    conn: &mut PgConnection,
    setup: &Setup,
    tenant: usize,
    id: Uuid,
) -> Option<Project> {
    let mut tx = conn.begin().await.unwrap();
    let entered: (bool, bool, bool) = sqlx::query_as(ENTER)
        .bind(&setup.tenants[tenant].slug)
        .bind(setup.version)
        .bind("5000ms")
        .bind("2000ms")
        .bind("10000ms")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(entered, (true, true, true));
    let row = sqlx::query_as(FIND)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    row
}

/// A connection of one driver, with what it has prepared.
trait Conn: Send + Sized + 'static {
    fn open(url: &str) -> impl Future<Output = Self> + Send;
    fn get(
        &mut self,
        setup: &Setup,
        tenant: usize,
        id: Uuid,
    ) -> impl Future<Output = Option<Project>> + Send;
}

/// The same affinity as [`SqlxPool`], for any connection type, and no round trip on release.
struct OwnPool<C> {
    groups: Vec<(Mutex<Vec<C>>, Semaphore)>,
}

impl<C: Conn> OwnPool<C> {
    async fn new(url: &str) -> OwnPool<C> {
        let mut groups = Vec::new();
        for _ in 0..GROUPS {
            let mut connections = Vec::new();
            for _ in 0..GROUP_SIZE {
                connections.push(C::open(url).await);
            }
            groups.push((Mutex::new(connections), Semaphore::new(GROUP_SIZE)));
        }
        OwnPool { groups }
    }

    async fn acquire(&self, home: usize) -> (usize, C) {
        let group = std::iter::once(home)
            .chain(0..GROUPS)
            .find(|&g| self.groups[g].1.try_acquire().map(|p| p.forget()).is_ok());
        let group = match group {
            Some(group) => group,
            None => {
                self.groups[home].1.acquire().await.unwrap().forget();
                home
            }
        };
        let connection = self.groups[group].0.lock().unwrap().pop().unwrap();
        (group, connection)
    }

    fn release(&self, group: usize, connection: C) {
        self.groups[group].0.lock().unwrap().push(connection);
        self.groups[group].1.add_permits(1);
    }
}

impl<C: Conn + Sync> Shape for OwnPool<C> {
    async fn get(&self, setup: &Setup, tenant: usize, id: Uuid) -> Option<Project> {
        let (group, mut connection) = self.acquire(tenant % GROUPS).await;
        let row = connection.get(setup, tenant, id).await;
        self.release(group, connection);
        row
    }
}

struct Sqlx(PgConnection);

impl Conn for Sqlx {
    async fn open(url: &str) -> Self {
        Sqlx(PgConnection::connect(url).await.unwrap())
    }

    async fn get(&mut self, setup: &Setup, tenant: usize, id: Uuid) -> Option<Project> {
        sqlx_today(&mut self.0, setup, tenant, id).await
    }
}

struct SqlxQualified(PgConnection);

impl Conn for SqlxQualified {
    async fn open(url: &str) -> Self {
        let options: PgConnectOptions = url.parse().unwrap();
        // Room for every tenant's statement: evicting one costs a round trip to close it.
        let options = options.statement_cache_capacity(4096);
        SqlxQualified(PgConnection::connect_with(&options).await.unwrap())
    }

    async fn get(&mut self, setup: &Setup, tenant: usize, id: Uuid) -> Option<Project> {
        sqlx::query_as(AssertSqlSafe(setup.tenants[tenant].qualified_find.clone()))
            .bind(id)
            .fetch_optional(&mut self.0)
            .await
            .unwrap()
    }
}

struct SqlxUnprepared(PgConnection);

impl Conn for SqlxUnprepared {
    async fn open(url: &str) -> Self {
        SqlxUnprepared(PgConnection::connect(url).await.unwrap())
    }

    async fn get(&mut self, setup: &Setup, tenant: usize, id: Uuid) -> Option<Project> {
        sqlx::query_as(AssertSqlSafe(setup.tenants[tenant].qualified_find.clone()))
            .persistent(false)
            .bind(id)
            .fetch_optional(&mut self.0)
            .await
            .unwrap()
    }
}

async fn connect_tokio_postgres(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(async move { connection.await.unwrap() });
    client
}

fn project(row: &tokio_postgres::Row) -> Project {
    (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4))
}

struct Pipelined {
    client: Client,
    enter: Statement,
    find: Statement,
}

impl Conn for Pipelined {
    async fn open(url: &str) -> Self {
        let client = connect_tokio_postgres(url).await;
        let enter = client.prepare(ENTER).await.unwrap();
        // The read names its table unqualified, so it is prepared inside some tenant's
        // schema; PostgreSQL analyses it again whenever it runs under another search_path.
        let schema: String = client
            .query_one("SELECT schema_name FROM public.tenants LIMIT 1", &[])
            .await
            .unwrap()
            .get(0);
        client
            .batch_execute(&format!("SET search_path = \"{schema}\""))
            .await
            .unwrap();
        let find = client.prepare(FIND).await.unwrap();
        client.batch_execute("RESET search_path").await.unwrap();
        Pipelined {
            client,
            enter,
            find,
        }
    }

    async fn get(&mut self, setup: &Setup, tenant: usize, id: Uuid) -> Option<Project> {
        let client = &self.client;
        let slug = &setup.tenants[tenant].slug;
        // Sent in this order, in one write: if the tenant statement fails, PostgreSQL fails
        // the read too (the transaction is aborted) and turns COMMIT into ROLLBACK.
        let enter_params: [&(dyn ToSql + Sync); 5] =
            [slug, &setup.version, &"5000ms", &"2000ms", &"10000ms"];
        let find_params: [&(dyn ToSql + Sync); 1] = [&id];
        let (begin, enter, row, commit) = tokio::join!(
            client.batch_execute("BEGIN"),
            client.query_one(&self.enter, &enter_params),
            client.query_opt(&self.find, &find_params),
            client.batch_execute("COMMIT"),
        );
        begin.unwrap();
        let enter = enter.unwrap();
        assert!(enter.get::<_, bool>(0) && enter.get::<_, bool>(1) && enter.get::<_, bool>(2));
        commit.unwrap();
        row.unwrap().as_ref().map(project)
    }
}

struct PipelinedQualified {
    client: Client,
    prepared: HashMap<usize, Statement>,
}

impl Conn for PipelinedQualified {
    async fn open(url: &str) -> Self {
        PipelinedQualified {
            client: connect_tokio_postgres(url).await,
            prepared: HashMap::new(),
        }
    }

    async fn get(&mut self, setup: &Setup, tenant: usize, id: Uuid) -> Option<Project> {
        if !self.prepared.contains_key(&tenant) {
            let statement = self
                .client
                .prepare(&setup.tenants[tenant].qualified_find)
                .await
                .unwrap();
            self.prepared.insert(tenant, statement);
        }
        let row = self.client.query_opt(&self.prepared[&tenant], &[&id]).await;
        row.unwrap().as_ref().map(project)
    }
}

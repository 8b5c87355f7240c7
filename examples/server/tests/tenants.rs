//! Operating many tenants with the real binary: `migrate` in parallel and concurrently, a
//! failing tenant, drift, `--status`, tracking tables from before checksums, `tenant list` and
//! `tenant delete`. Each test has a database of its own, since `migrate` touches every tenant.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use sqlx::{AssertSqlSafe, PgPool};

use server::core::database;
use server::core::migrate::{self, Outcome};
use server::core::migrations::{TENANT, latest_tenant_version};
use server::core::registry;
use server::core::tenant::TenantSlug;
use server::testing::{JWT_SECRET, fresh_database, lock_waiters};

struct Db {
    url: String,
    pool: PgPool,
}

impl Db {
    /// A new database with the public migrations applied by `server migrate`.
    async fn new() -> Db {
        let url = fresh_database();
        let pool = database::connect(&url, 2).await.unwrap();
        let db = Db { url, pool };
        let migrated = db.run(&["migrate"]);
        assert!(migrated.status.success(), "{}", stderr(&migrated));
        db
    }

    fn server(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
        command
            .env("DATABASE_URL", &self.url)
            .env("JWT_SECRET", JWT_SECRET)
            .env("RUST_LOG", "warn")
            .env_remove("APP_ENV")
            .stdin(Stdio::null());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.server().args(args).output().unwrap()
    }

    async fn exec(&self, sql: &str) {
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
            .execute(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Registers tenants with empty schemas, as a binary with fewer migrations would have
    /// left them: every tenant migration is pending.
    async fn empty_tenants(&self, slugs: &[String]) {
        for slug in slugs {
            self.exec(&format!(
                "INSERT INTO public.tenants (slug, schema_name) VALUES ('{slug}', 'tenant_{slug}');
                 CREATE SCHEMA tenant_{slug};"
            ))
            .await;
        }
    }

    /// Applied versions of a tenant, with whether each has a checksum.
    async fn applied(&self, slug: &str) -> Vec<(i64, bool)> {
        sqlx::query_as(AssertSqlSafe(format!(
            "SELECT version, checksum IS NOT NULL FROM tenant_{slug}.schema_migrations \
             ORDER BY version"
        )))
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    async fn schema_version(&self, slug: &str) -> i64 {
        sqlx::query_scalar("SELECT schema_version FROM public.tenants WHERE slug = $1")
            .bind(slug)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    async fn exists(&self, sql: &str) -> bool {
        sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn slugs(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:02}")).collect()
}

fn every_migration() -> Vec<(i64, bool)> {
    TENANT.iter().map(|m| (m.version, true)).collect()
}

#[tokio::test]
async fn two_parallel_migrate_runs_apply_every_migration_to_every_tenant_once() {
    let db = Db::new().await;
    let tenants = slugs("par", 40);
    db.empty_tenants(&tenants).await;

    let start = |jobs: &str| {
        db.server()
            .args(["migrate", "--jobs", jobs])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (start("4"), start("3"));
    let outputs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    let mut applied_lines = 0;
    for output in &outputs {
        assert!(output.status.success(), "{}", stderr(output));
        applied_lines += stdout(output)
            .lines()
            .filter(|l| l.contains(": applied "))
            .count();
    }
    // Each tenant was migrated by exactly one of the two runs; the other found it current.
    assert_eq!(applied_lines, tenants.len(), "{outputs:?}");
    for slug in &tenants {
        assert_eq!(db.applied(slug).await, every_migration(), "{slug}");
        assert_eq!(db.schema_version(slug).await, latest_tenant_version());
    }

    let again = db.run(&["migrate"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("40 tenants")
            && stdout(&again).contains("0 migrated, 40 up to date"),
        "{}",
        stdout(&again)
    );
    let status = db.run(&["migrate", "--status"]);
    assert!(status.status.success(), "{}", stdout(&status));
    assert!(stdout(&status).contains("40 tenants: 40 current, 0 behind"));
}

#[tokio::test]
async fn a_failing_tenant_is_left_untouched_while_the_others_are_migrated() {
    let db = Db::new().await;
    let tenants = slugs("ok", 5);
    db.empty_tenants(&tenants).await;
    db.empty_tenants(&["broken".to_owned()]).await;
    // The server's own migration, which every app has whatever modules it has (or none).
    let first = TENANT
        .iter()
        .find(|m| m.name.ends_with("_idempotency_keys.sql"))
        .expect("the server's idempotency_keys migration");
    let table = "idempotency_keys";
    db.exec(&format!(
        "CREATE TABLE tenant_broken.{table} (conflicting INT)"
    ))
    .await;

    // `serve` says at start-up that tenants are behind.
    let mut serve = db
        .server()
        .arg("serve")
        .env("RUST_LOG", "info")
        .env("BIND_ADDR", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = String::new();
    for line in BufReader::new(serve.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        log += &line;
        if line.contains("listening") {
            break;
        }
    }
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(log.contains("6 of 6 tenants are behind"), "{log}");

    let failed = db.run(&["migrate", "--jobs", "3"]);
    assert_eq!(failed.status.code(), Some(1), "{}", stdout(&failed));
    let report = stderr(&failed);
    for expected in [
        "broken (tenant_broken)",
        first.name,
        &format!("CREATE TABLE {table}"),
        "already exists",
        "1 of 6 tenants failed",
        "migrate --tenant broken",
    ] {
        assert!(
            report.contains(expected),
            "{expected:?} missing from:\n{report}"
        );
    }
    assert!(stdout(&failed).contains("5 migrated, 0 up to date, 1 failed"));
    for slug in &tenants {
        assert_eq!(db.applied(slug).await, every_migration(), "{slug}");
    }
    // Untouched: not even the tracking table was left behind.
    assert!(
        !db.exists("SELECT to_regclass('tenant_broken.schema_migrations') IS NOT NULL")
            .await
    );
    assert_eq!(db.schema_version("broken").await, 0);
    let status = db.run(&["migrate", "--status"]);
    assert_eq!(status.status.code(), Some(1));
    assert!(
        stdout(&status).contains(&format!(
            "6 tenants: 5 current, 1 behind ({} migrations pending)",
            TENANT.len()
        )),
        "{}",
        stdout(&status)
    );

    db.exec(&format!("DROP TABLE tenant_broken.{table}")).await;
    let canary = db.run(&["migrate", "--tenant", "broken"]);
    assert!(canary.status.success(), "{}", stderr(&canary));
    assert!(stdout(&canary).contains("broken: applied"));
    assert!(
        stdout(&canary).contains("1 tenant in"),
        "{}",
        stdout(&canary)
    );
    assert_eq!(db.applied("broken").await, every_migration());
    assert_eq!(db.schema_version("broken").await, latest_tenant_version());

    let unknown = db.run(&["migrate", "--tenant", "nobody"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no tenant nobody"),
        "{}",
        stderr(&unknown)
    );
}

#[tokio::test]
async fn a_changed_or_unknown_applied_migration_is_drift_and_refused() {
    let db = Db::new().await;
    for slug in ["edited", "newer", "fine"] {
        let created = db.run(&["tenant", "create", slug]);
        assert!(created.status.success(), "{}", stderr(&created));
    }
    assert!(db.run(&["migrate", "--status"]).status.success());

    // What a changed file looks like from the database: the recorded checksum differs.
    db.exec(&format!(
        "UPDATE tenant_edited.schema_migrations SET checksum = 'c0ffee' || checksum \
         WHERE version = {}",
        TENANT[0].version
    ))
    .await;
    db.exec(
        "INSERT INTO tenant_newer.schema_migrations (version, name, checksum) \
         VALUES (99990101000000, '99990101000000_from_the_future.sql', 'x')",
    )
    .await;

    let status = db.run(&["migrate", "--status"]);
    assert_eq!(status.status.code(), Some(1));
    let table = stdout(&status);
    assert!(
        table.contains(&format!("{} changed after it was applied", TENANT[0].name)),
        "{table}"
    );
    assert!(
        table.contains("99990101000000 (99990101000000_from_the_future.sql) is not in this binary")
    );
    assert!(table.contains("3 tenants: 1 current, 0 behind (0 migrations pending), 2 drifted"));

    let refused = db.run(&["migrate"]);
    assert_eq!(refused.status.code(), Some(1));
    let report = stderr(&refused);
    assert!(
        report.contains("edited (tenant_edited): drift, refused"),
        "{report}"
    );
    assert!(
        report.contains("newer (tenant_newer): drift, refused"),
        "{report}"
    );
    assert!(report.contains("restore it and put the change in a new migration"));
    assert!(!report.contains("fine"), "{report}");
}

#[tokio::test]
async fn tracking_tables_from_before_checksums_are_upgraded() {
    let db = Db::new().await;
    assert!(db.run(&["tenant", "create", "old"]).status.success());
    // The database as the previous release left it.
    db.exec(
        "ALTER TABLE public.schema_migrations DROP COLUMN checksum;
         DELETE FROM public.schema_migrations WHERE version = 2;
         ALTER TABLE public.tenants DROP COLUMN schema_version;
         ALTER TABLE tenant_old.schema_migrations DROP COLUMN checksum;",
    )
    .await;

    let status = db.run(&["migrate", "--status"]);
    assert_eq!(
        status.status.code(),
        Some(1),
        "public has a migration pending"
    );
    assert!(stdout(&status).contains("applied before checksums were recorded"));

    let migrated = db.run(&["migrate"]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    assert_eq!(db.applied("old").await, every_migration());
    assert_eq!(db.schema_version("old").await, latest_tenant_version());
    assert!(
        db.exists("SELECT bool_and(checksum IS NOT NULL) FROM public.schema_migrations")
            .await
    );
    let status = db.run(&["migrate", "--status"]);
    assert!(status.status.success(), "{}", stdout(&status));
}

#[tokio::test]
async fn tenant_list_and_delete() {
    let db = Db::new().await;
    for slug in ["acme", "globex"] {
        assert!(db.run(&["tenant", "create", slug]).status.success());
    }
    let list = stdout(&db.run(&["tenant", "list"]));
    let acme = list.lines().find(|l| l.starts_with("acme ")).unwrap();
    assert!(acme.contains("tenant_acme"), "{list}");
    assert!(
        acme.ends_with(&latest_tenant_version().to_string()),
        "{list}"
    );
    assert!(list.lines().any(|l| l.starts_with("globex ")));

    let unconfirmed = db.run(&["tenant", "delete", "acme"]);
    assert_eq!(unconfirmed.status.code(), Some(1));
    assert!(
        stderr(&unconfirmed).contains("pass --yes"),
        "{}",
        stderr(&unconfirmed)
    );
    assert!(
        db.exists("SELECT to_regnamespace('tenant_acme') IS NOT NULL")
            .await
    );

    let unknown = db.run(&["tenant", "delete", "initech", "--yes"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no tenant initech"),
        "{}",
        stderr(&unknown)
    );

    let deleted = db.run(&["tenant", "delete", "acme", "--yes"]);
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    assert!(
        !db.exists("SELECT to_regnamespace('tenant_acme') IS NOT NULL")
            .await
    );
    assert!(
        !db.exists("SELECT EXISTS (SELECT FROM public.tenants WHERE slug = 'acme')")
            .await
    );
    let list = stdout(&db.run(&["tenant", "list"]));
    assert!(!list.contains("acme") && list.contains("globex"), "{list}");
    let again = db.run(&["tenant", "delete", "acme", "--yes"]);
    assert_eq!(again.status.code(), Some(1));
}

#[tokio::test]
async fn tenants_behind_the_migrations_are_counted() {
    let db = Db::new().await;
    for slug in ["ahead", "behind", "current"] {
        registry::create(&db.pool, &TenantSlug::parse(slug).unwrap())
            .await
            .unwrap();
    }
    db.exec("UPDATE public.tenants SET schema_version = schema_version - 1 WHERE slug = 'behind'")
        .await;
    assert_eq!(registry::count_behind(&db.pool).await.unwrap(), (3, 1));
}

#[tokio::test]
async fn a_registry_that_cannot_be_read_is_an_error_not_an_empty_list() {
    let url = fresh_database();
    let pool = database::connect(&url, 1).await.unwrap();
    // Before the first `migrate` there is no registry, and so no tenant.
    assert!(registry::select(&pool, &[]).await.unwrap().is_empty());
    sqlx::raw_sql("CREATE TABLE public.tenants (slug text)")
        .execute(&pool)
        .await
        .unwrap();
    let broken = registry::select(&pool, &[]).await;
    assert!(broken.is_err(), "{broken:?}");
}

#[tokio::test]
async fn a_tenant_deleted_while_migrate_waits_for_it_is_skipped() {
    let db = Db::new().await;
    registry::create(&db.pool, &TenantSlug::parse("doomed").unwrap())
        .await
        .unwrap();
    // What `tenant delete` does, held open: `migrate` lists the tenant, then waits for it.
    let mut deleting = db.pool.begin().await.unwrap();
    let holder: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *deleting)
        .await
        .unwrap();
    for sql in [
        "SELECT pg_advisory_xact_lock(hashtext('scaffold.tenant.doomed'))",
        "DELETE FROM public.tenants WHERE slug = 'doomed'",
        "DROP SCHEMA tenant_doomed CASCADE",
    ] {
        sqlx::raw_sql(sql).execute(&mut *deleting).await.unwrap();
    }
    let migrating = database::connect(&db.url, 2).await.unwrap();
    let run = tokio::spawn(async move { migrate::run(&migrating, &[], 1, |_, _, _| {}).await });
    while lock_waiters(&db.pool, holder).await == 0 {
        assert!(!run.is_finished(), "migrate did not wait for the deletion");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    deleting.commit().await.unwrap();
    let reports = run.await.unwrap().unwrap();
    assert_eq!(reports.len(), 1);
    assert!(
        matches!(reports[0].outcome, Outcome::Gone),
        "{:?}",
        reports[0].outcome
    );
}

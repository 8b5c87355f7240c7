//! The operator's commands over many tenants: `migrate`, `migrate --status`, `tenant list`,
//! `tenant delete`, `purge`, `purge-keys`. Results go to stdout, progress and failures to stderr.

use std::io::{BufRead, IsTerminal, Write};

use futures_util::StreamExt;
use std::time::{Duration, Instant};

use anyhow::bail;

use server::core::idempotency;
use server::core::migrate::{self, Outcome, Report};
use server::core::migrations::{self, MigrateError, Plan};
use server::core::registry::{self, TenantRow};
use server::core::rows;
use server::core::tenant::TenantSlug;
use server::core::{database, error::AppError};

use crate::MigrateArgs;

const BIN: &str = env!("CARGO_BIN_NAME");

/// `purge-keys`: every tenant, `jobs` at a time, one statement each; a tenant that fails is
/// reported and the others go on.
pub async fn purge_keys(database_url: &str, retention: Duration, jobs: u16) -> anyhow::Result<()> {
    let pool = database::connect(database_url, u32::from(jobs)).await?;
    let results = purge_each_tenant(&pool, jobs, async |conn, schema| {
        idempotency::purge(conn, schema, retention).await
    })
    .await?;
    report_purge(&results, "expired idempotency keys deleted", "purge-keys")
}

/// `purge <table> --older-than`: every tenant, `jobs` at a time, one statement each; a tenant
/// that fails is reported and the others go on.
pub async fn purge(
    database_url: &str,
    table: &str,
    older_than: Duration,
    jobs: u16,
) -> anyhow::Result<()> {
    let pool = database::connect(database_url, u32::from(jobs)).await?;
    let results = purge_each_tenant(&pool, jobs, async |conn, schema| {
        rows::purge(conn, schema, table, older_than).await
    })
    .await?;
    report_purge(
        &results,
        &format!("deleted {table} purged"),
        &format!("purge {table}"),
    )
}

/// One purge statement in each tenant, on a connection of its own.
async fn purge_each_tenant<E: From<sqlx::Error>>(
    pool: &sqlx::PgPool,
    jobs: u16,
    purge: impl AsyncFn(&mut sqlx::PgConnection, &str) -> Result<u64, E>,
) -> anyhow::Result<Vec<(TenantRow, Result<u64, E>)>> {
    let tenants = registry::select(pool, &[]).await?;
    let purge = &purge;
    let results = migrate::each_tenant(tenants, usize::from(jobs), |tenant| async move {
        let result = match pool.acquire().await {
            Ok(mut conn) => purge(&mut conn, &tenant.schema).await,
            Err(error) => Err(error.into()),
        };
        (tenant, result)
    });
    Ok(results.collect().await)
}

/// The purged count on stdout; failed tenants on stderr, and an error saying how to retry.
fn report_purge<E: std::fmt::Display>(
    results: &[(TenantRow, Result<u64, E>)],
    purged_what: &str,
    retry: &str,
) -> anyhow::Result<()> {
    let purged: u64 = results
        .iter()
        .filter_map(|(_, result)| result.as_ref().ok())
        .sum();
    let mut failed: Vec<String> = results
        .iter()
        .filter_map(|(tenant, result)| {
            let error = result.as_ref().err()?;
            Some(format!("  {} ({}): {error}", tenant.slug, tenant.schema))
        })
        .collect();
    println!("{}: {purged} {purged_what}", tenants(results.len()));
    if failed.is_empty() {
        return Ok(());
    }
    failed.sort();
    eprintln!("failed tenants:\n{}", failed.join("\n"));
    bail!(
        "{} of {} failed; fix them, then run `{BIN} {retry}` again",
        failed.len(),
        results.len()
    )
}

pub async fn migrate(database_url: &str, args: MigrateArgs) -> anyhow::Result<()> {
    let only = args
        .tenants
        .iter()
        .map(|slug| TenantSlug::parse(slug).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let jobs = usize::from(args.jobs);
    let pool = database::connect(database_url, u32::from(args.jobs) + 1).await?;
    if args.status {
        return status(&pool, &only, jobs).await;
    }
    let started = Instant::now();
    let mut progress = Progress::new();
    let reports = migrate::run(&pool, &only, jobs, |report, done, total| {
        progress.update(report, done, total);
    })
    .await?;
    progress.finish();

    let count = |f: fn(&Outcome) -> bool| reports.iter().filter(|r| f(&r.outcome)).count();
    let migrated = count(|o| matches!(o, Outcome::Applied(_)));
    let current = count(|o| matches!(o, Outcome::UpToDate));
    let gone = count(|o| matches!(o, Outcome::Gone));
    let failed: Vec<&Report> = reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
        .collect();
    let mut summary = format!(
        "{} in {:.1}s: {migrated} migrated, {current} up to date",
        tenants(reports.len()),
        started.elapsed().as_secs_f64()
    );
    if gone > 0 {
        summary += &format!(", {gone} deleted meanwhile");
    }
    if failed.is_empty() {
        println!("{summary}");
        return Ok(());
    }
    println!("{summary}, {} failed", failed.len());
    eprintln!("\nfailed tenants (each left as it was before this run):");
    for report in &failed {
        if let Outcome::Failed(error) = &report.outcome {
            eprintln!("  {} ({}): {error}", report.slug, report.schema);
        }
    }
    let drifted = failed
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Failed(MigrateError::Drift(_))));
    if drifted {
        eprintln!(
            "\nA migration that has been applied must not change: restore it and put the \
             change in a new migration."
        );
    }
    let retry = failed
        .iter()
        .map(|r| format!(" --tenant {}", r.slug))
        .collect::<String>();
    bail!(
        "{} of {} failed; fix them, then run `{BIN} migrate{}`",
        failed.len(),
        tenants(reports.len()),
        if failed.len() <= 5 {
            retry
        } else {
            String::new()
        }
    )
}

/// Per-tenant lines on stdout for tenants that changed or failed (up-to-date ones are counted,
/// not listed: with thousands of tenants they would drown the rest). On a terminal, a line of
/// counts on stderr, redrawn at most ten times a second.
struct Progress {
    terminal: bool,
    drawn: Option<Instant>,
    failed: usize,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            drawn: None,
            failed: 0,
        }
    }

    fn update(&mut self, report: &Report, done: usize, total: usize) {
        let line = match &report.outcome {
            Outcome::Applied(names) => {
                Some(format!("{}: applied {}", report.slug, names.join(", ")))
            }
            Outcome::Failed(error) => {
                self.failed += 1;
                Some(format!("{}: FAILED: {error}", report.slug))
            }
            Outcome::Gone => Some(format!("{}: deleted meanwhile, skipped", report.slug)),
            Outcome::UpToDate => None,
        };
        if let Some(line) = line {
            self.clear();
            println!("{line}");
        }
        let due = self
            .drawn
            .is_none_or(|at| at.elapsed() >= Duration::from_millis(100));
        if self.terminal && (due || done == total) {
            eprint!(
                "\r\x1b[2Kmigrating tenants: {done}/{total} done, {} failed",
                self.failed
            );
            let _ = std::io::stderr().flush();
            self.drawn = Some(Instant::now());
        }
    }

    fn clear(&self) {
        if self.terminal && self.drawn.is_some() {
            eprint!("\r\x1b[2K");
        }
    }

    fn finish(&self) {
        self.clear();
    }
}

async fn status(pool: &sqlx::PgPool, only: &[TenantSlug], jobs: usize) -> anyhow::Result<()> {
    let (public, tenants) = migrate::status(pool, only, jobs).await?;
    let latest = migrations::latest_tenant_version();
    println!(
        "{:<24} {:<31} {:>16} {:>8}  drift",
        "tenant", "schema", "version", "pending"
    );
    let version = |v: Option<i64>| v.map_or("-".to_owned(), |v| v.to_string());
    let drift = |plan: &Plan| match plan.drift.len() {
        0 => "-".to_owned(),
        _ => plan.drift.join("; "),
    };
    println!(
        "{:<24} {:<31} {:>16} {:>8}  {}",
        "(shared)",
        "public",
        version(public.applied_version),
        public.pending.len(),
        drift(&public)
    );
    for tenant in &tenants {
        println!(
            "{:<24} {:<31} {:>16} {:>8}  {}",
            tenant.slug,
            tenant.schema,
            version(tenant.plan.applied_version),
            tenant.plan.pending.len(),
            drift(&tenant.plan)
        );
    }
    let behind = tenants
        .iter()
        .filter(|t| !t.plan.pending.is_empty())
        .count();
    let drifted = tenants.iter().filter(|t| !t.plan.drift.is_empty()).count();
    let unrecorded = tenants.iter().filter(|t| t.plan.unrecorded > 0).count();
    let pending: usize = tenants.iter().map(|t| t.plan.pending.len()).sum();
    let current = tenants
        .iter()
        .filter(|t| t.plan.pending.is_empty() && t.plan.drift.is_empty())
        .count();
    println!(
        "\n{}: {current} current, {behind} behind ({pending} migrations pending), {drifted} \
         drifted; this binary's tenant migrations end at {latest}",
        self::tenants(tenants.len()),
    );
    if unrecorded > 0 || public.unrecorded > 0 {
        println!(
            "{} schemas have migrations applied before checksums were recorded; `{BIN} \
             migrate` records them",
            unrecorded + usize::from(public.unrecorded > 0)
        );
    }
    let public_problem = !public.pending.is_empty() || !public.drift.is_empty();
    if public_problem || behind > 0 || drifted > 0 {
        bail!("migrations are pending or drifted: run `{BIN} migrate`, which refuses drift");
    }
    Ok(())
}

pub async fn tenant_list(database_url: &str) -> anyhow::Result<()> {
    let pool = database::connect(database_url, 1).await?;
    let latest = migrations::latest_tenant_version();
    let tenants = registry::select(&pool, &[]).await?;
    println!(
        "{:<24} {:<31} {:<20} {:<36} version",
        "slug", "schema", "created", "id"
    );
    for row in &tenants {
        let version = match row.schema_version {
            Some(v) if v >= latest => v.to_string(),
            Some(v) => format!("{v} (behind: run `{BIN} migrate`)"),
            None => format!("unknown (run `{BIN} migrate`)"),
        };
        let id = row.id.map_or("-".to_owned(), |id| id.to_string());
        println!(
            "{:<24} {:<31} {:<20} {id:<36} {version}",
            row.slug,
            row.schema,
            row.created_at.format("%Y-%m-%d %H:%M:%S")
        );
    }
    eprintln!("{}", self::tenants(tenants.len()));
    Ok(())
}

pub async fn tenant_delete(database_url: &str, slug: &str, yes: bool) -> anyhow::Result<()> {
    let slug = TenantSlug::parse(slug).map_err(anyhow::Error::msg)?;
    let pool = database::connect(database_url, 1).await?;
    // Checked before asking, so that a typo is not answered with a question.
    let rows = registry::select(&pool, std::slice::from_ref(&slug)).await?;
    let schema = &rows[0].schema;
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!(
                "deleting tenant {slug} drops schema {schema} and all its data: pass --yes to \
                 confirm"
            );
        }
        eprint!(
            "Delete tenant {slug} and drop schema {schema} with all its data? Type the slug \
             to confirm: "
        );
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != slug.as_str() {
            bail!("not confirmed; nothing was deleted");
        }
    }
    match registry::delete(&pool, &slug).await {
        Ok(schema) => {
            println!("deleted tenant {slug} (schema {schema} dropped)");
            Ok(())
        }
        Err(AppError::NotFound(message)) => bail!(message),
        Err(error) => Err(anyhow::Error::new(error).context(format!("deleting tenant {slug}"))),
    }
}

/// "1 tenant", "2 tenants".
fn tenants(count: usize) -> String {
    match count {
        1 => "1 tenant".to_owned(),
        n => format!("{n} tenants"),
    }
}

/// Logged once at start-up: requests for tenants that are behind get 503 until they are
/// migrated, so the operator should hear about it before the first one arrives.
pub async fn warn_if_tenants_behind(pool: &sqlx::PgPool) {
    match registry::count_behind(pool).await {
        Ok((_, 0)) => {}
        Ok((total, behind)) => tracing::warn!(
            "{behind} of {total} tenants are behind this binary's migrations: requests for them \
             get 503 until `{BIN} migrate` has run"
        ),
        Err(error) => tracing::warn!(
            "could not check the tenants' schema versions ({error}); run `{BIN} migrate`"
        ),
    }
}

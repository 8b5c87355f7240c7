//! `server migrate`: the public migrations, then every tenant's (see `migrations`), tenants in
//! parallel; a failing tenant does not stop the others. And `migrate --status`, where each
//! schema stands.

use futures_util::{Stream, StreamExt, TryStreamExt};
use sqlx::PgPool;

use crate::core::error::AppError;
use crate::core::migrations::{
    MigrateError, PUBLIC, Plan, TENANT, apply_pending, latest_tenant_version, run_public,
};
use crate::core::registry::{self, TenantRow};
use crate::core::tenant::TenantSlug;

/// What `migrate` did to one tenant.
#[derive(Debug)]
pub enum Outcome {
    UpToDate,
    Applied(Vec<&'static str>),
    /// Deleted while the run was under way.
    Gone,
    Failed(MigrateError),
}

#[derive(Debug)]
pub struct Report {
    pub slug: String,
    pub schema: String,
    pub outcome: Outcome,
}

/// Applies the public migrations, then the tenant migrations to the tenants in `only` (every
/// tenant when empty), `jobs` at a time. `on_report` sees each tenant's report as it finishes.
/// An error is returned only when the run could not start; a failing tenant is in its report.
pub async fn run(
    pool: &PgPool,
    only: &[TenantSlug],
    jobs: usize,
    mut on_report: impl FnMut(&Report, usize, usize),
) -> Result<Vec<Report>, AppError> {
    run_public(pool).await?;
    let tenants = registry::select(pool, only).await?;
    let total = tenants.len();
    let mut reports = Vec::with_capacity(total);
    let mut done = each_tenant(tenants, jobs, |tenant| async move {
        let outcome = migrate_tenant(pool, &tenant).await;
        Report {
            slug: tenant.slug,
            schema: tenant.schema,
            outcome,
        }
    });
    while let Some(report) = done.next().await {
        on_report(&report, reports.len() + 1, total);
        reports.push(report);
    }
    reports.sort_by(|a, b| a.slug.cmp(&b.slug));
    Ok(reports)
}

/// `work` for each tenant, `jobs` at a time, each result as it finishes: how every command
/// over all tenants (`migrate`, its `--status`, the purges) goes through them. The work waits
/// on PostgreSQL, so one task polling `jobs` futures keeps `jobs` connections busy.
pub fn each_tenant<F, Work>(
    tenants: Vec<TenantRow>,
    jobs: usize,
    work: F,
) -> impl Stream<Item = Work::Output>
where
    F: FnMut(TenantRow) -> Work,
    Work: Future,
{
    futures_util::stream::iter(tenants)
        .map(work)
        .buffer_unordered(jobs.max(1))
}

async fn migrate_tenant(pool: &PgPool, tenant: &TenantRow) -> Outcome {
    // Most runs find most tenants current: one query each, outside any transaction, settles
    // that, and only tenants with something to do take a transaction and the lock.
    if let Ok(plan) = Plan::read(pool, &tenant.schema, TENANT).await {
        if !plan.drift.is_empty() {
            return Outcome::Failed(MigrateError::Drift(plan.drift));
        }
        if plan.is_current() {
            if tenant.schema_version == Some(latest_tenant_version()) {
                return Outcome::UpToDate;
            }
            return match record_version(pool, &tenant.slug).await {
                Ok(_) => Outcome::UpToDate,
                Err(error) => Outcome::Failed(error.into()),
            };
        }
    }
    let result = async {
        let mut tx = pool.begin().await?;
        // Shared with requests, exclusive for `tenant delete`: a tenant being deleted waits
        // for its migration, and one deleted meanwhile (and perhaps created again, with
        // another schema) is no longer registered.
        sqlx::query(registry::LOCK_SHARED)
            .bind(&tenant.slug)
            .execute(&mut *tx)
            .await?;
        if !registry::is_registered(&mut tx, tenant).await? {
            return Ok(None);
        }
        let applied = apply_pending(&mut tx, &tenant.schema, TENANT).await?;
        record_version(&mut *tx, &tenant.slug).await?;
        tx.commit().await?;
        Ok::<_, MigrateError>(Some(applied))
    }
    .await;
    match result {
        Ok(None) => Outcome::Gone,
        Ok(Some(applied)) if applied.is_empty() => Outcome::UpToDate,
        Ok(Some(applied)) => Outcome::Applied(applied),
        Err(error) => Outcome::Failed(error),
    }
}

async fn record_version<'c>(
    executor: impl sqlx::PgExecutor<'c>,
    slug: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE public.tenants SET schema_version = $2 WHERE slug = $1")
        .bind(slug)
        .bind(latest_tenant_version())
        .execute(executor)
        .await?;
    Ok(())
}

/// Where one schema stands against this binary's migrations.
#[derive(Debug)]
pub struct SchemaStatus {
    pub slug: String,
    pub schema: String,
    pub plan: Plan,
}

/// The public schema's status, then each selected tenant's (every tenant when `only` is
/// empty), read `jobs` at a time without locking anything.
pub async fn status(
    pool: &PgPool,
    only: &[TenantSlug],
    jobs: usize,
) -> Result<(Plan, Vec<SchemaStatus>), AppError> {
    let public = Plan::read(pool, "public", PUBLIC).await?;
    let tenants = registry::select(pool, only).await?;
    let mut statuses: Vec<SchemaStatus> = each_tenant(tenants, jobs, |tenant| async move {
        Ok::<_, sqlx::Error>(SchemaStatus {
            plan: Plan::read(pool, &tenant.schema, TENANT).await?,
            slug: tenant.slug,
            schema: tenant.schema,
        })
    })
    .try_collect()
    .await?;
    statuses.sort_by(|a, b| a.slug.cmp(&b.slug));
    Ok((public, statuses))
}

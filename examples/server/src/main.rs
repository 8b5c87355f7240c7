use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use server::app::{AppState, app, openapi_document};
use server::core::auth::Keys;
use server::core::config::{self, Config};
use server::core::database::{self, Database};
use server::core::registry;
use server::core::tenant::TenantSlug;
use server::http;
#[cfg(feature = "harness")]
use server::testing::harness;

mod commands;

/// A multi-tenant API server: one PostgreSQL schema per tenant, the tenant taken from the
/// bearer token.
///
/// Configuration comes from the environment: DATABASE_URL (required), JWT_SECRET (required, at
/// least 32 bytes; only APP_ENV=development falls back to a development secret), JWT_ISSUER and
/// JWT_AUDIENCE (optional), AUTH_JWKS_URL or AUTH_ISSUER (tokens from an identity provider;
/// then JWT_SECRET is optional and CURSOR_SECRET signs list cursors), BIND_ADDR (default
/// 127.0.0.1:8080), RUST_LOG (default info), DATABASE_POOL_SIZE (default 16) and the timeouts
/// in the README's "Operations" section.
#[derive(Parser)]
#[command(
    version,
    after_help = concat!(
        "Examples:\n  ",
        env!("CARGO_BIN_NAME"), " migrate\n  ",
        env!("CARGO_BIN_NAME"), " migrate --status\n  ",
        env!("CARGO_BIN_NAME"), " tenant create acme\n  ",
        env!("CARGO_BIN_NAME"), " tenant list\n  ",
        env!("CARGO_BIN_NAME"),
        " token --tenant acme --user alice --permissions projects:read,projects:write\n  ",
        env!("CARGO_BIN_NAME"), " serve",
    )
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default): graceful shutdown on Ctrl-C or SIGTERM.
    Serve,
    /// Apply the public migrations, then the tenant migrations to every tenant, in parallel.
    ///
    /// Each tenant is migrated in its own transaction: all its pending migrations or none. A
    /// failing tenant does not stop the others; the run ends with a report and exits 1 when
    /// any tenant failed or drifted. Safe to rerun, and to run twice at once.
    Migrate(MigrateArgs),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Print the OpenAPI document the server serves at /openapi.json.
    ///
    /// openapi.json beside Cargo.toml is this output, and a test fails when they differ:
    /// after changing a route, run `cargo run -q -- openapi > openapi.json` and commit it.
    Openapi,
    /// Delete the stored responses of `Idempotency-Key`s older than IDEMPOTENCY_RETENTION
    /// (24h by default), in every tenant. Requests ignore them already; this frees the space.
    PurgeKeys {
        /// How many tenants to purge at once.
        #[arg(long, short, default_value_t = default_jobs(), value_parser = clap::value_parser!(u16).range(1..=64))]
        jobs: u16,
    },
    /// Delete for good the rows of a `--soft-delete` module deleted longer ago than
    /// --older-than, in every tenant, and report how many.
    Purge {
        /// The module's table: its plural, as in /api/<plural> (snake_case).
        table: String,
        /// Only rows deleted at least this long ago: a number with s, m, h or d, such as 30d.
        #[arg(long, value_parser = config::parse_period)]
        older_than: Duration,
        /// How many tenants to purge at once.
        #[arg(long, short, default_value_t = default_jobs(), value_parser = clap::value_parser!(u16).range(1..=64))]
        jobs: u16,
    },
    /// Print a signed token (HS256 JWT) for local use and tests.
    ///
    /// The token carries the tenant's id from the registry (`tid`): it is refused once the
    /// tenant is deleted, even if a tenant of the same slug is created again. Beside an
    /// identity provider (AUTH_JWKS_URL or AUTH_ISSUER), the server accepts it only when
    /// JWT_SECRET is set.
    Token {
        /// The tenant slug the token is for.
        #[arg(long)]
        tenant: String,
        /// The user id (the token's `sub`).
        #[arg(long)]
        user: String,
        /// Comma-separated permissions, such as projects:read,projects:write.
        #[arg(long, value_delimiter = ',')]
        permissions: Vec<String>,
        /// How long the token is valid: a number with s, m, h or d, such as 30m or 1h; at most
        /// 365d (a longer one is a standing key, not a session).
        #[arg(long, default_value = "1h", value_parser = config::parse_period)]
        ttl: Duration,
    },
}

#[derive(clap::Args)]
struct MigrateArgs {
    /// Report, per tenant, the applied version, pending migrations and drift, and change
    /// nothing. Exits 1 when anything is pending or drifted.
    #[arg(long)]
    status: bool,
    /// Only this tenant (repeatable), for a canary before the rest.
    #[arg(long = "tenant", value_name = "SLUG")]
    tenants: Vec<String>,
    /// How many tenants to migrate at once.
    #[arg(long, short, default_value_t = default_jobs(), value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Register a tenant and create and migrate its schema `tenant_<slug>`.
    Create {
        /// Lower-case letters, digits and underscores, starting with a letter.
        slug: String,
    },
    /// List the tenants: slug, schema, creation time, id and schema version.
    List,
    /// Drop a tenant's schema with all its data and remove it from the registry.
    Delete {
        slug: String,
        /// Do not ask for confirmation (required when not on a terminal).
        #[arg(long, short)]
        yes: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = tokio::runtime::Runtime::new().expect("start the tokio runtime");
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    // The document describes the routes, not a deployment: it needs no configuration.
    if matches!(command, Command::Openapi) {
        let document = openapi_document();
        println!("{}", serde_json::to_string_pretty(&document)?);
        return Ok(());
    }
    let config = Config::from_env()?;
    match command {
        Command::Serve => serve(config).await,
        Command::Openapi => unreachable!("handled before the configuration is read"),
        Command::Migrate(args) => commands::migrate(config.database_url()?, args).await,
        Command::Purge {
            table,
            older_than,
            jobs,
        } => commands::purge(config.database_url()?, &table, older_than, jobs).await,
        Command::PurgeKeys { jobs } => {
            let retention = config.writes.idempotency_retention;
            commands::purge_keys(config.database_url()?, retention, jobs).await
        }
        Command::Tenant(TenantCommand::Create { slug }) => {
            let slug = TenantSlug::parse(&slug).map_err(anyhow::Error::msg)?;
            let pool = database::connect(config.database_url()?, 2).await?;
            let row = registry::create(&pool, &slug)
                .await
                .with_context(|| format!("creating tenant {slug}"))?;
            // A test build's tenants get the test harness's table (src/testing/harness/).
            #[cfg(feature = "harness")]
            harness::create_table(&pool, &row.schema).await?;
            let id = row.id.map(|id| id.to_string()).unwrap_or_default();
            println!("created tenant {slug} (schema {}, id {id})", row.schema);
            Ok(())
        }
        Command::Tenant(TenantCommand::List) => commands::tenant_list(config.database_url()?).await,
        Command::Tenant(TenantCommand::Delete { slug, yes }) => {
            commands::tenant_delete(config.database_url()?, &slug, yes).await
        }
        Command::Token {
            tenant,
            user,
            permissions,
            ttl,
        } => {
            let tenant = TenantSlug::parse(&tenant).map_err(anyhow::Error::msg)?;
            let keys = Keys::for_minting(&config)?;
            let pool = database::connect(config.database_url()?, 1).await?;
            let rows = registry::select(&pool, std::slice::from_ref(&tenant)).await?;
            let tenant = rows[0].tenant()?;
            println!("{}", keys.mint(&tenant, &user, &permissions, ttl));
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let keys = Arc::new(Keys::for_server(&config).await?);
    config.check_bind_addr()?;
    let limits = config.limits;
    // Connects on first use: the server starts, and answers 503, while the database is down.
    let database = Database::new(config.database_url()?, limits)?;
    if let Err(error) = database.ping().await {
        tracing::warn!(%error, "the database does not answer yet; /readyz says so until it does");
    } else if let Ok(pool) = database::connect(config.database_url()?, 1).await {
        commands::warn_if_tenants_behind(&pool).await;
        pool.close().await;
    }
    let state =
        AppState::new(database.clone(), keys, limits.max_in_flight).with_writes(config.writes);
    let listener = tokio::net::TcpListener::bind(config.bind_addr)
        .await
        .with_context(|| format!("binding {}", config.bind_addr))?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    http::serve(listener, app(state), &limits, shutdown_signal()).await;
    // Requests abandoned at the deadline still hold connections: closing them makes
    // PostgreSQL roll their transactions back.
    database.close(Duration::from_secs(1)).await;
    tracing::info!("stopped");
    Ok(())
}

/// Tenants migrated at once: PostgreSQL does the work, so more than it has cores to spare
/// only queues on its locks and disk (see bench/README.md).
fn default_jobs() -> u16 {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8) as u16)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

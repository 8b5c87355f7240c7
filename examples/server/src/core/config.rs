//! Configuration from the environment, read once at start-up.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};

mod provider;

pub use self::provider::{KeySource, ProviderConfig, checked_url};

/// Used only when development mode is asked for (`APP_ENV=development`) and `JWT_SECRET` is
/// unset. `scaffold new app` replaces it with a random value, so no two apps share it.
const DEVELOPMENT_JWT_SECRET: &str =
    "development-only-secret-do-not-use-in-production-000000000000000";

/// HS256 with a shorter key can be brute-forced offline from a single token.
pub const MIN_SECRET_BYTES: usize = 32;

const SET_SECRET_HINT: &str = "set one of at least 32 bytes, for example: \
     export JWT_SECRET=$(openssl rand -hex 32); \
     or, on a developer machine only, export APP_ENV=development";

#[derive(Clone)]
pub struct Config {
    pub bind_addr: SocketAddr,
    database_url: Option<String>,
    jwt_secret: Option<String>,
    /// `JWT_ISSUER`: the `iss` tokens carry and must carry.
    pub jwt_issuer: Option<String>,
    /// `JWT_AUDIENCE`: the `aud` tokens carry and must carry.
    pub jwt_audience: Option<String>,
    /// Tokens from an identity provider, when `AUTH_JWKS_URL` or `AUTH_ISSUER` is set.
    pub provider: Option<ProviderConfig>,
    /// `CURSOR_SECRET`: signs list cursors when there is no `JWT_SECRET` to derive their key
    /// from (tokens come only from an identity provider).
    cursor_secret: Option<String>,
    development: bool,
    pub limits: Limits,
    pub writes: WritePolicy,
}

/// How changes are guarded: optimistic concurrency and idempotent creates (see
/// `core::precondition` and `core::idempotency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WritePolicy {
    /// `REQUIRE_IF_MATCH=true`: PATCH and DELETE without `If-Match` are answered 428.
    pub require_if_match: bool,
    /// `IDEMPOTENCY_RETENTION`: how long a create's `Idempotency-Key` replays its response.
    pub idempotency_retention: Duration,
}

impl Default for WritePolicy {
    fn default() -> Self {
        WritePolicy {
            require_if_match: false,
            idempotency_retention: Duration::from_secs(24 * 3600),
        }
    }
}

/// The bounds on every wait, each from its own environment variable (see the README's
/// "Operations" section).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `DATABASE_POOL_SIZE`
    pub pool_size: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT`: how long a request waits for a pooled connection.
    pub acquire_timeout: Duration,
    /// `DATABASE_MAX_LIFETIME`: how long a request connection is used before it is replaced
    /// (less up to a tenth, so that connections opened together are not replaced together),
    /// which gives back what its backend cached.
    pub max_lifetime: Duration,
    /// `DATABASE_STATEMENT_TIMEOUT`: PostgreSQL's `statement_timeout` on request connections.
    pub statement_timeout: Duration,
    /// `DATABASE_LOCK_TIMEOUT`: PostgreSQL's `lock_timeout` on request connections.
    pub lock_timeout: Duration,
    /// `DATABASE_IDLE_IN_TRANSACTION_TIMEOUT`: `idle_in_transaction_session_timeout`.
    pub idle_in_transaction_timeout: Duration,
    /// `HTTP_MAX_REQUESTS_IN_FLIGHT`: more requests at once are answered 503.
    pub max_in_flight: usize,
    /// `HTTP_MAX_CONNECTIONS`: open client connections; beyond them, new ones wait unaccepted.
    pub max_connections: usize,
    /// `HTTP_HEADER_READ_TIMEOUT`: how long a client may take to send a request's head.
    pub header_read_timeout: Duration,
    /// `SHUTDOWN_TIMEOUT`: how long requests in flight may finish after SIGTERM.
    pub shutdown_timeout: Duration,
    /// `TENANT_CACHE_SIZE`: tenants a server process remembers (their share of the pool and
    /// what their look-up found); the least recently used is forgotten first.
    pub tenant_cache: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            pool_size: 16,
            acquire_timeout: Duration::from_secs(2),
            max_lifetime: Duration::from_secs(30 * 60),
            statement_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(2),
            idle_in_transaction_timeout: Duration::from_secs(10),
            max_in_flight: 512,
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(20),
            tenant_cache: 10_000,
        }
    }
}

/// The secret and the database password never reach a log line.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("bind_addr", &self.bind_addr)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_password),
            )
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("provider", &self.provider)
            .field(
                "cursor_secret",
                &self.cursor_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("development", &self.development)
            .field("limits", &self.limits)
            .field("writes", &self.writes)
            .finish()
    }
}

impl Config {
    pub fn from_env() -> anyhow::Result<Config> {
        Config::from_vars(|name| std::env::var(name).ok().filter(|s| !s.is_empty()))
    }

    /// `var` looks a variable up; tests pass a map instead of the process environment.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Config> {
        let bind_addr = var("BIND_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
            .parse()
            .context("BIND_ADDR must be an address like 127.0.0.1:8080")?;
        let defaults = Limits::default();
        let seconds = |name: &str, default: Duration| -> anyhow::Result<Duration> {
            match var(name) {
                None => Ok(default),
                Some(text) => parse_duration(&text).with_context(|| {
                    format!("{name}={text:?}: expected a duration such as 500ms, 5s or 1m")
                }),
            }
        };
        let count = |name: &str, default: usize, max: usize| -> anyhow::Result<usize> {
            match var(name) {
                None => Ok(default),
                Some(text) => text
                    .parse()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .with_context(|| format!("{name}={text:?}: expected a number from 1 to {max}")),
            }
        };
        let pool_size = count("DATABASE_POOL_SIZE", defaults.pool_size as usize, 1000)? as u32;
        let limits = Limits {
            pool_size,
            acquire_timeout: seconds("DATABASE_ACQUIRE_TIMEOUT", defaults.acquire_timeout)?,
            max_lifetime: seconds("DATABASE_MAX_LIFETIME", defaults.max_lifetime)?,
            statement_timeout: seconds("DATABASE_STATEMENT_TIMEOUT", defaults.statement_timeout)?,
            lock_timeout: seconds("DATABASE_LOCK_TIMEOUT", defaults.lock_timeout)?,
            idle_in_transaction_timeout: seconds(
                "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT",
                defaults.idle_in_transaction_timeout,
            )?,
            max_in_flight: count(
                "HTTP_MAX_REQUESTS_IN_FLIGHT",
                defaults.max_in_flight,
                1 << 20,
            )?,
            max_connections: count("HTTP_MAX_CONNECTIONS", defaults.max_connections, 1 << 20)?,
            header_read_timeout: seconds("HTTP_HEADER_READ_TIMEOUT", defaults.header_read_timeout)?,
            shutdown_timeout: seconds("SHUTDOWN_TIMEOUT", defaults.shutdown_timeout)?,
            tenant_cache: count("TENANT_CACHE_SIZE", defaults.tenant_cache, 1 << 24)?,
        };
        Ok(Config {
            bind_addr,
            database_url: var("DATABASE_URL"),
            jwt_secret: var("JWT_SECRET"),
            jwt_issuer: var("JWT_ISSUER"),
            jwt_audience: var("JWT_AUDIENCE"),
            provider: provider::from_vars(&var, &seconds)?,
            cursor_secret: var("CURSOR_SECRET"),
            development: var("APP_ENV").is_some_and(|env| env == "development"),
            limits,
            writes: WritePolicy {
                require_if_match: match var("REQUIRE_IF_MATCH").as_deref() {
                    None | Some("false") => false,
                    Some("true") => true,
                    Some(other) => bail!("REQUIRE_IF_MATCH={other:?}: expected true or false"),
                },
                idempotency_retention: match var("IDEMPOTENCY_RETENTION") {
                    None => WritePolicy::default().idempotency_retention,
                    Some(text) => parse_period(&text).with_context(|| {
                        format!(
                            "IDEMPOTENCY_RETENTION={text:?}: expected a period such as 24h or 7d"
                        )
                    })?,
                },
            },
        })
    }

    /// Whether HS256 tokens signed with `JWT_SECRET` are accepted: always without an identity
    /// provider; beside one, only when `JWT_SECRET` is set, for development.
    pub fn accepts_hs256(&self) -> bool {
        self.provider.is_none() || self.jwt_secret.is_some()
    }

    /// The secret list cursors are signed with: `JWT_SECRET` when HS256 tokens are accepted,
    /// else `CURSOR_SECRET`.
    pub fn cursor_secret(&self) -> anyhow::Result<&str> {
        if self.accepts_hs256() {
            return self.jwt_secret();
        }
        match &self.cursor_secret {
            Some(secret) if secret.len() < MIN_SECRET_BYTES => bail!(
                "CURSOR_SECRET is {} bytes long; it must be at least {MIN_SECRET_BYTES}: \
                 export CURSOR_SECRET=$(openssl rand -hex 32)",
                secret.len()
            ),
            Some(secret) => Ok(secret),
            None if self.development => Ok(DEVELOPMENT_JWT_SECRET),
            None => bail!(
                "CURSOR_SECRET is not set: tokens come from an identity provider and JWT_SECRET \
                 is unset, so list cursors need a secret of their own, the same on every \
                 instance: export CURSOR_SECRET=$(openssl rand -hex 32)"
            ),
        }
    }

    pub fn database_url(&self) -> anyhow::Result<&str> {
        self.database_url.as_deref().context(
            "DATABASE_URL is not set; for example: \
             export DATABASE_URL=postgres://scaffold:scaffold@127.0.0.1:5432/scaffold",
        )
    }

    /// `JWT_SECRET`, which must be long enough to resist brute force. Without it, only
    /// development mode (`APP_ENV=development`, asked for explicitly) falls back to the
    /// development secret, loudly: failing closed is the default. Only the commands that sign
    /// or verify tokens ask.
    pub fn jwt_secret(&self) -> anyhow::Result<&str> {
        match &self.jwt_secret {
            Some(secret) if secret.len() < MIN_SECRET_BYTES => bail!(
                "JWT_SECRET is {} bytes long; it must be at least {MIN_SECRET_BYTES}: {SET_SECRET_HINT}",
                secret.len()
            ),
            Some(secret) => Ok(secret),
            None if self.development => {
                tracing::warn!(
                    "JWT_SECRET is not set: APP_ENV=development, so the built-in development \
                     secret is used. Anyone who has this code can mint tokens for this server."
                );
                Ok(DEVELOPMENT_JWT_SECRET)
            }
            None => bail!("JWT_SECRET is not set: {SET_SECRET_HINT}"),
        }
    }

    /// Development mode's secret is public, so a server using it listens on loopback only.
    pub fn check_bind_addr(&self) -> anyhow::Result<()> {
        if self.bind_addr.ip().is_loopback() || self.jwt_secret.is_some() {
            return Ok(());
        }
        if self.provider.is_some() && self.cursor_secret.is_none() {
            bail!(
                "BIND_ADDR={} is not a loopback address, and without CURSOR_SECRET list cursors \
                 are signed with the development secret, which is public: export \
                 CURSOR_SECRET=$(openssl rand -hex 32)",
                self.bind_addr
            );
        }
        if self.provider.is_none() {
            bail!(
                "BIND_ADDR={} is not a loopback address, and without JWT_SECRET anyone could \
                 mint tokens for it: {SET_SECRET_HINT}",
                self.bind_addr
            );
        }
        Ok(())
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:[redacted]@host/db`.
fn redact_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return "[redacted]".to_owned();
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?'])
        .map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    match authority[..at].split_once(':') {
        Some((user, _password)) => format!(
            "{}{user}:[redacted]{}",
            &url[..scheme_end],
            &url[scheme_end + at..]
        ),
        None => url.to_owned(),
    }
}

/// `250ms`, `5s`, `2m`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    let (number, millis_per_unit) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1_000)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000)
    } else {
        (text, 1_000)
    };
    let number: u64 = number.parse().context("not a whole number")?;
    let millis = number
        .checked_mul(millis_per_unit)
        .filter(|ms| *ms <= 24 * 3_600_000)
        .context("longer than a day")?;
    Ok(Duration::from_millis(millis))
}

/// `30s`, `30m`, `24h`, `7d`: a period of up to a year (token lifetimes, retention, purges).
pub fn parse_period(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    let unit = text.chars().last().unwrap_or_default();
    let Ok(number) = text[..text.len().saturating_sub(unit.len_utf8())].parse::<u64>() else {
        bail!("expected a number followed by s, m, h or d, such as 30m or 24h");
    };
    let seconds_per_unit = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => bail!("unknown unit {unit:?}: use s, m, h or d, such as 30m or 24h"),
    };
    match number.checked_mul(seconds_per_unit) {
        Some(seconds) if (1..=365 * 86_400).contains(&seconds) => Ok(Duration::from_secs(seconds)),
        _ => bail!("expected from 1s to the maximum of 365d"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_vars(|name| vars.get(name).cloned())
    }

    const GOOD_SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn write_policy_from_the_environment() {
        assert_eq!(config(&[]).unwrap().writes, WritePolicy::default());
        let set = config(&[
            ("REQUIRE_IF_MATCH", "true"),
            ("IDEMPOTENCY_RETENTION", "7d"),
        ])
        .unwrap()
        .writes;
        assert!(set.require_if_match);
        assert_eq!(set.idempotency_retention, Duration::from_secs(7 * 86_400));
        let error = config(&[("REQUIRE_IF_MATCH", "yes")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("expected true or false"), "{error}");
        for bad in ["24", "0m", "2y", "366d", "-1h"] {
            let error = format!(
                "{:#}",
                config(&[("IDEMPOTENCY_RETENTION", bad)]).unwrap_err()
            );
            assert!(error.contains("IDEMPOTENCY_RETENTION"), "{bad}: {error}");
        }
        assert_eq!(parse_period("90m").unwrap(), Duration::from_secs(5_400));
        assert_eq!(
            parse_period("365d").unwrap(),
            Duration::from_secs(365 * 86_400)
        );
    }

    #[test]
    fn without_a_secret_only_explicit_development_mode_starts() {
        for app_env in [None, Some("production"), Some("prod"), Some("Production")] {
            let mut vars = vec![];
            if let Some(env) = app_env {
                vars.push(("APP_ENV", env));
            }
            let error = config(&vars).unwrap().jwt_secret().unwrap_err().to_string();
            assert!(
                error.contains("JWT_SECRET is not set"),
                "{app_env:?}: {error}"
            );
            assert!(error.contains("openssl rand -hex 32"), "{error}");
        }
        let development = config(&[("APP_ENV", "development")]).unwrap();
        assert_eq!(development.jwt_secret().unwrap(), DEVELOPMENT_JWT_SECRET);
    }

    #[test]
    fn short_secrets_are_refused_even_in_development() {
        for env in ["production", "development"] {
            let short = config(&[("APP_ENV", env), ("JWT_SECRET", "too-short-a-secret")]).unwrap();
            let error = short.jwt_secret().unwrap_err().to_string();
            assert!(error.contains("at least 32"), "{error}");
        }
        let good = config(&[("JWT_SECRET", GOOD_SECRET)]).unwrap();
        assert_eq!(good.jwt_secret().unwrap(), GOOD_SECRET);
    }

    #[test]
    fn the_development_secret_serves_only_loopback() {
        let open = config(&[("APP_ENV", "development"), ("BIND_ADDR", "0.0.0.0:8080")]).unwrap();
        assert!(open.check_bind_addr().is_err());
        let local = config(&[("APP_ENV", "development")]).unwrap();
        assert!(local.check_bind_addr().is_ok());
        let secret = config(&[("JWT_SECRET", GOOD_SECRET), ("BIND_ADDR", "0.0.0.0:8080")]).unwrap();
        assert!(secret.check_bind_addr().is_ok());
    }

    /// Beside a provider, HS256 tokens need `JWT_SECRET`; without it, cursors need a secret
    /// of their own, which also lets the server listen beyond loopback.
    #[test]
    fn beside_a_provider_jwt_secret_is_for_development_and_cursors_need_a_secret() {
        let config = |vars: &[(&str, &str)]| config(vars).unwrap();
        const SECRET: &str = "0123456789abcdef0123456789abcdef";
        let source = ("AUTH_JWKS_URL", "https://id.example/jwks");
        let public = ("BIND_ADDR", "0.0.0.0:8080");
        let alone = config(&[source, public]);
        assert!(!alone.accepts_hs256());
        let error = alone.cursor_secret().unwrap_err().to_string();
        assert!(error.contains("CURSOR_SECRET is not set"), "{error}");
        let error = alone.check_bind_addr().unwrap_err().to_string();
        assert!(error.contains("without CURSOR_SECRET"), "{error}");

        let cursors = config(&[source, public, ("CURSOR_SECRET", SECRET)]);
        assert_eq!(cursors.cursor_secret().unwrap(), SECRET);
        assert!(cursors.check_bind_addr().is_ok());
        assert!(!format!("{cursors:?}").contains(SECRET));
        let short = config(&[source, ("CURSOR_SECRET", "short")]);
        let error = short.cursor_secret().unwrap_err().to_string();
        assert!(error.contains("at least 32"), "{error}");

        let development = config(&[source, ("JWT_SECRET", SECRET), ("CURSOR_SECRET", "x")]);
        assert!(development.accepts_hs256());
        assert_eq!(development.cursor_secret().unwrap(), SECRET);
        assert!(config(&[]).accepts_hs256());
    }

    #[test]
    fn the_issuer_and_audience_are_optional() {
        let none = config(&[]).unwrap();
        assert_eq!((none.jwt_issuer, none.jwt_audience), (None, None));
        let both = config(&[
            ("JWT_ISSUER", "https://auth.example"),
            ("JWT_AUDIENCE", "projects"),
        ])
        .unwrap();
        assert_eq!(both.jwt_issuer.as_deref(), Some("https://auth.example"));
        assert_eq!(both.jwt_audience.as_deref(), Some("projects"));
    }

    #[test]
    fn debug_output_hides_the_secret_and_the_database_password() {
        let config = config(&[
            ("JWT_SECRET", GOOD_SECRET),
            (
                "DATABASE_URL",
                "postgres://app:hunter2-pw@db.internal:5432/app?sslmode=require",
            ),
        ])
        .unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains(GOOD_SECRET), "{debug}");
        assert!(!debug.contains("hunter2-pw"), "{debug}");
        assert!(
            debug.contains("postgres://app:[redacted]@db.internal:5432/app"),
            "{debug}"
        );
    }

    #[test]
    fn passwords_are_redacted_from_urls() {
        let cases = [
            ("postgres://u:p@h/db", "postgres://u:[redacted]@h/db"),
            ("postgres://u:p:q@h:1/db", "postgres://u:[redacted]@h:1/db"),
            ("postgres://u@h/db", "postgres://u@h/db"),
            ("postgres://h/db?password=x", "postgres://h/db?password=x"),
            ("nonsense", "[redacted]"),
        ];
        for (url, expected) in cases {
            assert_eq!(redact_password(url), expected, "{url}");
        }
    }

    #[test]
    fn limits_come_from_the_environment_and_bad_values_are_named() {
        let config = config(&[
            ("DATABASE_POOL_SIZE", "8"),
            ("DATABASE_STATEMENT_TIMEOUT", "250ms"),
            ("DATABASE_LOCK_TIMEOUT", "3"),
            ("TENANT_CACHE_SIZE", "500"),
        ])
        .unwrap();
        assert_eq!(config.limits.pool_size, 8);
        assert_eq!(config.limits.tenant_cache, 500);
        assert_eq!(config.limits.statement_timeout, Duration::from_millis(250));
        assert_eq!(config.limits.lock_timeout, Duration::from_secs(3));
        assert_eq!(
            config.limits.acquire_timeout,
            Limits::default().acquire_timeout
        );
        for (name, value) in [
            ("DATABASE_POOL_SIZE", "0"),
            ("DATABASE_POOL_SIZE", "many"),
            ("DATABASE_STATEMENT_TIMEOUT", "5 minutes"),
            ("DATABASE_LOCK_TIMEOUT", "99999999999999999999s"),
            ("TENANT_CACHE_SIZE", "0"),
        ] {
            let error = format!("{:#}", super::tests::config(&[(name, value)]).unwrap_err());
            assert!(error.contains(name), "{error}");
        }
    }
}

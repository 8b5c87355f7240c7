//! Configuration from the environment, read once at start-up.

use std::net::SocketAddr;

use anyhow::{Context, bail};

/// Lets `server token` and local runs work out of the box; refused in production.
const DEVELOPMENT_JWT_SECRET: &str = "development-only-secret-do-not-use-in-production";

#[derive(Debug, Clone)]
pub struct Config {
    pub bind_addr: SocketAddr,
    database_url: Option<String>,
    jwt_secret: Option<String>,
    production: bool,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Config> {
        let bind_addr = std::env::var("BIND_ADDR")
            .unwrap_or_else(|_| "127.0.0.1:8080".to_owned())
            .parse()
            .context("BIND_ADDR must be an address like 127.0.0.1:8080")?;
        Ok(Config {
            bind_addr,
            database_url: std::env::var("DATABASE_URL").ok().filter(|s| !s.is_empty()),
            jwt_secret: std::env::var("JWT_SECRET").ok().filter(|s| !s.is_empty()),
            production: std::env::var("APP_ENV").is_ok_and(|env| env == "production"),
        })
    }

    pub fn database_url(&self) -> anyhow::Result<&str> {
        self.database_url.as_deref().context(
            "DATABASE_URL is not set; for example: \
             export DATABASE_URL=postgres://scaffold:scaffold@127.0.0.1:5432/scaffold",
        )
    }

    /// `JWT_SECRET`, or the development secret with a loud warning outside production. Only
    /// the commands that sign or verify tokens ask, so only they warn.
    pub fn jwt_secret(&self) -> anyhow::Result<&str> {
        match &self.jwt_secret {
            Some(secret) => Ok(secret),
            None if self.production => bail!("JWT_SECRET must be set when APP_ENV=production"),
            None => {
                tracing::warn!(
                    "JWT_SECRET is not set: using the built-in development secret. \
                     Anyone can mint tokens for this server. Never do this in production."
                );
                Ok(DEVELOPMENT_JWT_SECRET)
            }
        }
    }
}

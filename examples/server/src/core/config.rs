//! Configuration from the environment, read once at start-up.

use std::net::SocketAddr;

use anyhow::{Context, bail};

/// Lets `server token` and local runs work out of the box; refused in production.
const DEVELOPMENT_JWT_SECRET: &str = "development-only-secret-do-not-use-in-production";

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub jwt_secret: String,
    pub bind_addr: SocketAddr,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Config> {
        let database_url = std::env::var("DATABASE_URL").context(
            "DATABASE_URL is not set; for example: \
             export DATABASE_URL=postgres://scaffold:scaffold@127.0.0.1:5432/scaffold",
        )?;
        let production = std::env::var("APP_ENV").is_ok_and(|env| env == "production");
        let jwt_secret = match std::env::var("JWT_SECRET") {
            Ok(secret) if !secret.is_empty() => secret,
            _ if production => bail!("JWT_SECRET must be set when APP_ENV=production"),
            _ => {
                tracing::warn!(
                    "JWT_SECRET is not set: using the built-in development secret. \
                     Anyone can mint tokens for this server. Never do this in production."
                );
                DEVELOPMENT_JWT_SECRET.to_owned()
            }
        };
        let bind_addr = std::env::var("BIND_ADDR")
            .unwrap_or_else(|_| "127.0.0.1:8080".to_owned())
            .parse()
            .context("BIND_ADDR must be an address like 127.0.0.1:8080")?;
        Ok(Config {
            database_url,
            jwt_secret,
            bind_addr,
        })
    }
}

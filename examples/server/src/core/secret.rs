//! Secrets: values a client sets and never reads back (a module's `:secret` fields, such as a
//! password). In memory a secret is a [`Secret`], whose `Debug` prints a redaction, so a
//! request type that derives `Debug` never logs one; in the database it is an Argon2id hash
//! in PHC form (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), which carries its own salt
//! and parameters, so raising them later still verifies the hashes stored before.
//!
//! The parameters are the `argon2` crate's defaults, OWASP's recommendation for Argon2id:
//! 19 MiB of memory, 2 passes, 1 lane, a 16-byte random salt and a 32-byte hash. One hash
//! takes tens of milliseconds of CPU, so [`hash`] and [`verify`] run on tokio's blocking
//! threads, never on the workers that serve requests.

use std::fmt;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::{Deserialize, Serialize};

use crate::core::error::AppError;

/// A secret as a request carries it. `Debug` shows `Secret(***)`; `Serialize` gives the value
/// itself, for a create's `Idempotency-Key` fingerprint only (`core::idempotency`), which keeps
/// a SHA-256 of the body, never the body.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// `#[garde(length(chars, ...))]` counts the secret's characters, as it does a `String`'s.
impl garde::rules::length::chars::HasChars for Secret {
    fn num_chars(&self) -> usize {
        self.0.chars().count()
    }
}

/// The Argon2id hash of `secret`, with a fresh salt, in PHC form.
pub async fn hash(secret: Secret) -> Result<String, AppError> {
    blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(secret.expose().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing a secret: {e}")))
    })
    .await
}

/// [`hash`] for a secret that may be absent (an optional field, or a PATCH that leaves the
/// secret out).
pub async fn hash_some(secret: Option<Secret>) -> Result<Option<String>, AppError> {
    match secret {
        Some(secret) => Ok(Some(hash(secret).await?)),
        None => Ok(None),
    }
}

/// [`hash`] for an optional secret in a PATCH: absent stays absent (the hash is kept), `null`
/// clears it.
pub async fn hash_patch(
    secret: Option<Option<Secret>>,
) -> Result<Option<Option<String>>, AppError> {
    match secret {
        Some(secret) => Ok(Some(hash_some(secret).await?)),
        None => Ok(None),
    }
}

/// Whether `candidate` is the secret `stored` (a PHC string from [`hash`]) was made from; the
/// comparison takes the same time however much of it matches. No stored hash never matches.
pub async fn verify(stored: Option<String>, candidate: Secret) -> Result<bool, AppError> {
    let Some(stored) = stored else {
        return Ok(false);
    };
    blocking(move || {
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("a stored secret hash: {e}")))?;
        Ok(Argon2::default()
            .verify_password(candidate.expose().as_bytes(), &parsed)
            .is_ok())
    })
    .await
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("a hashing task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter22");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(Secret(***))");
    }

    #[tokio::test]
    async fn a_hash_verifies_its_secret_and_nothing_else() {
        let stored = hash(Secret::new("correct horse")).await.unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(!stored.contains("correct horse"));
        let again = hash(Secret::new("correct horse")).await.unwrap();
        assert_ne!(stored, again, "every hash has its own salt");

        assert!(
            verify(Some(stored.clone()), Secret::new("correct horse"))
                .await
                .unwrap()
        );
        assert!(
            !verify(Some(stored), Secret::new("correct horsE"))
                .await
                .unwrap()
        );
        assert!(!verify(None, Secret::new("correct horse")).await.unwrap());
    }
}

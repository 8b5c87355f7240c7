//! Idempotent creates: a client that retries a `POST` with the same `Idempotency-Key` (the
//! IETF httpapi draft's header) gets the first response again instead of a second row.
//!
//! The first request's response is stored in the tenant's `idempotency_keys` table (a server
//! table, created by the tenant migration `..._idempotency_keys.sql`) in the same transaction as
//! the row it created: both commit, or neither. Keys belong to one user of one tenant; a
//! request with a known key and the same body within `IDEMPOTENCY_RETENTION` replays the
//! stored response, with another body it is a 422, and while the first is still running a 409
//! (a transaction-scoped advisory lock on the key, so the second never waits on the first).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::core::config::WritePolicy;
use crate::core::db::{Ctx, Db};
use crate::core::error::AppError;
use crate::core::registry;

pub const HEADER: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on a replayed response.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

const MAX_KEY_LEN: usize = 255;

/// The request's `Idempotency-Key`, if any, with what makes two requests "the same".
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    key: Option<String>,
    /// Method and path: a key reused on another route is another request.
    route: String,
    retention: std::time::Duration,
}

impl<S> FromRequestParts<S> for IdempotencyKey
where
    S: Send + Sync,
    WritePolicy: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let mut values = parts.headers.get_all(&HEADER).iter();
        let key = match (values.next(), values.next()) {
            (None, _) => None,
            (Some(value), None) => Some(parse_key(value)?),
            (Some(_), Some(_)) => return Err(bad_key("it is sent more than once")),
        };
        Ok(IdempotencyKey {
            key,
            route: format!("{} {}", parts.method, parts.uri.path()),
            retention: WritePolicy::from_ref(state).idempotency_retention,
        })
    }
}

fn parse_key(value: &HeaderValue) -> Result<String, AppError> {
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_KEY_LEN {
        return Err(bad_key(&format!("it is {} characters long", bytes.len())));
    }
    if !bytes.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return Err(bad_key("it holds a character that is not visible ASCII"));
    }
    Ok(String::from_utf8(bytes.to_vec()).expect("ASCII"))
}

fn bad_key(why: &str) -> AppError {
    AppError::Request(
        StatusCode::BAD_REQUEST,
        format!(
            "the Idempotency-Key header is invalid: {why}; send one key of 1 to {MAX_KEY_LEN} \
             visible ASCII characters, such as a UUID"
        ),
    )
}

/// A create's response, as sent and as stored: `201 Created`, `Location`, a JSON body.
pub struct Created {
    location: String,
    body: Vec<u8>,
}

impl Created {
    pub fn new(location: String, body: &impl Serialize) -> Result<Created, AppError> {
        let body = serde_json::to_vec(body).map_err(|e| AppError::Internal(e.into()))?;
        Ok(Created { location, body })
    }

    fn response(self, replayed: bool) -> Response {
        let mut response = (
            StatusCode::CREATED,
            [
                (header::LOCATION, self.location),
                (header::CONTENT_TYPE, "application/json".to_owned()),
            ],
            self.body,
        )
            .into_response();
        if replayed {
            let headers = response.headers_mut();
            headers.insert(REPLAYED, HeaderValue::from_static("true"));
        }
        response
    }
}

/// Runs `create` in a transaction, once per `key`: see the module's comment. `input` is the
/// validated body; its JSON (fields in declaration order, defaults applied) is what two
/// requests compare, so a client that re-encodes the same body differently still matches.
pub async fn create<I: Serialize>(
    ctx: &Ctx,
    key: IdempotencyKey,
    input: I,
    create: impl AsyncFnOnce(&mut Db, I) -> Result<Created, AppError>,
) -> Result<Response, AppError> {
    let mut db = ctx.begin().await?;
    let Some(name) = key.key else {
        let created = create(&mut db, input).await?;
        db.commit().await?;
        return Ok(created.response(false));
    };
    let fingerprint = fingerprint(&key.route, &input)?;
    let user = ctx.user_id();
    let locked: bool = sqlx::query_scalar(db.sql(
        "SELECT pg_try_advisory_xact_lock(
             hashtextextended('{schema}' || length($1) || ':' || $1 || $2, 0))",
    ))
    .bind(user)
    .bind(&name)
    .fetch_one(db.conn())
    .await?;
    if !locked {
        return Err(AppError::Conflict(
            "a request with this Idempotency-Key is still being processed; retry once it has \
             finished"
                .to_owned(),
        ));
    }
    let stored: Option<(Vec<u8>, String, Vec<u8>)> = sqlx::query_as(db.sql(
        "SELECT fingerprint, location, body FROM {schema}.idempotency_keys
         WHERE user_id = $1 AND key = $2 AND created_at > now() - $3::interval",
    ))
    .bind(user)
    .bind(&name)
    .bind(key.retention)
    .fetch_optional(db.conn())
    .await?;
    if let Some((earlier, location, body)) = stored {
        db.commit().await?;
        if earlier != fingerprint {
            return Err(AppError::invalid(
                "",
                "this Idempotency-Key was used with another request; use a new key for a \
                 new request",
            ));
        }
        return Ok(Created { location, body }.response(true));
    }
    let created = create(&mut db, input).await?;
    sqlx::query(db.sql(
        "INSERT INTO {schema}.idempotency_keys (user_id, key, fingerprint, location, body)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,
             location = EXCLUDED.location, body = EXCLUDED.body, created_at = now()",
    ))
    .bind(user)
    .bind(&name)
    .bind(&fingerprint)
    .bind(&created.location)
    .bind(&created.body)
    .execute(db.conn())
    .await?;
    db.commit().await?;
    Ok(created.response(false))
}

fn fingerprint(route: &str, input: &impl Serialize) -> Result<Vec<u8>, AppError> {
    let body = serde_json::to_vec(input).map_err(|e| AppError::Internal(e.into()))?;
    let mut hash = Sha256::new();
    hash.update(route.as_bytes());
    hash.update([0]);
    hash.update(&body);
    Ok(hash.finalize().to_vec())
}

/// Removes the keys older than `retention` in one tenant's schema; how many.
pub async fn purge(
    conn: &mut sqlx::PgConnection,
    schema: &str,
    retention: std::time::Duration,
) -> sqlx::Result<u64> {
    let statement = format!(
        "DELETE FROM {}.idempotency_keys WHERE created_at <= now() - $1::interval",
        registry::quote_ident(schema)
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(statement))
        .bind(retention)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_visible_ascii_characters() {
        for good in [
            "a",
            "0b9e6c1e-3f5e-4a51-9f0e-1f6f2c8d9a10",
            &"k".repeat(255),
            "~!#",
        ] {
            assert_eq!(
                parse_key(&HeaderValue::from_str(good).unwrap()).unwrap(),
                good
            );
        }
        for bad in ["", "has space", "tab\there", &"k".repeat(256)] {
            let error = parse_key(&HeaderValue::from_str(bad).unwrap()).unwrap_err();
            assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{bad:?}");
            assert!(error.to_string().contains("Idempotency-Key"), "{error}");
        }
        let latin1 = HeaderValue::from_bytes(b"caf\xe9").unwrap();
        assert!(parse_key(&latin1).is_err());
    }

    #[test]
    fn the_fingerprint_covers_route_and_body() {
        let a = fingerprint("POST /api/projects", &("x", 1)).unwrap();
        assert_eq!(a, fingerprint("POST /api/projects", &("x", 1)).unwrap());
        assert_ne!(a, fingerprint("POST /api/projects", &("x", 2)).unwrap());
        assert_ne!(a, fingerprint("POST /api/tasks", &("x", 1)).unwrap());
    }
}

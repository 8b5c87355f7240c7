-- The server's own table, not a module's: the responses of creates sent with an
-- `Idempotency-Key` (see `core::idempotency`), kept for IDEMPOTENCY_RETENTION and removed by
-- `server purge-keys`.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint BYTEA NOT NULL,
    location TEXT NOT NULL,
    body BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- `purge-keys` deletes by age.
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- The tenant migration version each tenant's schema is at, written by `server migrate` and
-- `server tenant create`. Requests compare it with the version the running binary needs, in
-- the statement that already looks the tenant up, so a tenant whose schema is behind gets a
-- clear 503 instead of an error from a missing column. 0 until `server migrate` has run.
ALTER TABLE tenants ADD COLUMN schema_version BIGINT NOT NULL DEFAULT 0;

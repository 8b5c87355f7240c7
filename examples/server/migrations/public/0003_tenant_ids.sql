-- Each creation of a tenant gets an id of its own, and the tokens minted for it carry that id
-- (`tid`): a token for a tenant that was deleted is refused, even once its slug is created
-- again for someone else. Tenants created before this migration get one here; their old tokens,
-- which carry none, are refused.
ALTER TABLE tenants ADD COLUMN id UUID NOT NULL UNIQUE DEFAULT gen_random_uuid();
-- The schemas of deleted tenants. `server tenant create` never uses one of these names again,
-- so a server process that still remembers a deleted tenant's schema finds it gone (401)
-- instead of finding the next tenant of that slug in it.
CREATE TABLE dropped_schemas (
    schema_name TEXT PRIMARY KEY,
    dropped_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The test harness's own table (src/testing/harness/mod.rs), made in every tenant that a server
-- built with the `harness` feature (its own tests) creates, and in no other.
CREATE TABLE {schema}.harness_items (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name TEXT NOT NULL CONSTRAINT harness_items_name_check CHECK (char_length(name) BETWEEN 1 AND 200),
    description TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    version BIGINT NOT NULL DEFAULT 1
);

CREATE INDEX harness_items_created_at_id_idx ON {schema}.harness_items (created_at, id);

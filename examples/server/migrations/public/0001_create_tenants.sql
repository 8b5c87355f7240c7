-- The tenant registry. Each tenant's own tables live in its schema, never here.
CREATE TABLE tenants (
    slug TEXT PRIMARY KEY CHECK (slug ~ '^[a-z][a-z0-9_]{0,55}$'),
    schema_name TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

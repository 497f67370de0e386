-- Webhook subscriptions: the target, the event types, and the signing secrets sealed under the
-- operator's key (the previous one signs beside the current one until previous_until). Deleted
-- ones are kept, so their delivery history stays readable.
CREATE TABLE webhooks (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    url             TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    events          TEXT NOT NULL CHECK (json_valid(events)),
    description     TEXT,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    rate_limit      INTEGER CHECK (rate_limit > 0),
    secret          BLOB NOT NULL,
    previous_secret BLOB,
    previous_until  INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    deleted_at      INTEGER
);
CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id, seq DESC);

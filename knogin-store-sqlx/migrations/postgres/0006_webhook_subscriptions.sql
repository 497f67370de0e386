-- Webhook subscriptions: the target, the event types, and the signing secrets sealed under the
-- operator's key (the previous one signs beside the current one until previous_until). Deleted
-- ones are kept, so their delivery history stays readable.
CREATE TABLE webhooks (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    url             TEXT NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
    events          TEXT NOT NULL,
    description     TEXT,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    rate_limit      BIGINT CHECK (rate_limit > 0),
    secret          BYTEA NOT NULL,
    previous_secret BYTEA,
    previous_until  BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    deleted_at      BIGINT
);
CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id, seq DESC);

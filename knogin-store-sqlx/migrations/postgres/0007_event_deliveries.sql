-- Event delivery: published events and one delivery per event and subscription, written in the
-- publishing transaction (an outbox). Workers claim due deliveries by time and lease, never by
-- sequence; seq only orders the history.
CREATE TABLE events (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    event_type TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE deliveries (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    tenant_id       TEXT NOT NULL,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id),
    event_id        TEXT NOT NULL REFERENCES events (id),
    event_type      TEXT NOT NULL,
    status          TEXT NOT NULL
        CHECK (status IN ('queued', 'retrying', 'succeeded', 'failed', 'cancelled')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT,
    lease_id        TEXT,
    lease_until     BIGINT,
    attempted_at    BIGINT,
    response_status BIGINT,
    duration_ms     BIGINT,
    response_body   TEXT
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, seq DESC);
CREATE INDEX deliveries_by_lease ON deliveries (lease_id) WHERE lease_id IS NOT NULL;

-- Retention and erasure of webhook events: purges pick a tenant's or everyone's oldest events
-- and delete each with its deliveries, so both lookups need an index (the foreign key from
-- deliveries to events is checked through the second one too).
CREATE INDEX events_by_created ON events (created_at);
CREATE INDEX events_by_tenant ON events (tenant_id, created_at);
CREATE INDEX deliveries_by_event ON deliveries (event_id);

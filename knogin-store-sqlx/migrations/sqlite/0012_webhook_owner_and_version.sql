-- A subscription belongs to the app (client) whose token created it: other apps of the tenant
-- do not see it. Subscriptions made before owners were recorded have none, and only a token
-- with webhooks:admin manages them. `version` counts changes, so two concurrent updates cannot
-- both win (the second is refused and can try again on what the first wrote).
ALTER TABLE webhooks ADD COLUMN owner_client_id TEXT;
ALTER TABLE webhooks ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX webhooks_by_owner ON webhooks (tenant_id, owner_client_id, seq DESC);

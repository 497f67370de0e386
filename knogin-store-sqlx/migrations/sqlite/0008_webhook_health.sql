-- Why the server disabled a subscription (its endpoint answered 410 Gone, or failed for too
-- long), and since when every delivery to it has failed.
ALTER TABLE webhooks ADD COLUMN disabled_reason TEXT;
ALTER TABLE webhooks ADD COLUMN failing_since INTEGER;

-- Deliveries sent per subscription in the current second, so a subscription's rate_limit holds
-- across every instance on the database.
CREATE TABLE webhook_send_windows (
    webhook_id   TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    sends        INTEGER NOT NULL CHECK (sends > 0)
);

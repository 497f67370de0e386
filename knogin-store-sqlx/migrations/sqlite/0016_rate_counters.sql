-- Fixed-window counters for rate limits every instance shares (test sends and recoveries of a
-- webhook subscription), keyed as the core spells them.
CREATE TABLE rate_counters (
    key          TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 300),
    window_start INTEGER NOT NULL,
    failures     INTEGER NOT NULL CHECK (failures > 0)
);
CREATE INDEX rate_counters_by_window ON rate_counters (window_start);

-- Fixed-window counters for rate limits every instance shares (test sends and recoveries of a
-- webhook subscription), keyed as the core spells them.
CREATE TABLE rate_counters (
    key          TEXT PRIMARY KEY CHECK (char_length(key) BETWEEN 1 AND 300),
    window_start BIGINT NOT NULL,
    failures     BIGINT NOT NULL CHECK (failures > 0)
);
CREATE INDEX rate_counters_by_window ON rate_counters (window_start);

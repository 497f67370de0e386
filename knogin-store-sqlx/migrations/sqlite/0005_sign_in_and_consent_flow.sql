-- The authorization endpoint's browser flow: sessions and the login and consent forms waiting
-- to be submitted, each keyed by the hash of a token only the browser holds, and failed sign-ins
-- counted per user and per client address so the limit holds across instances.
CREATE TABLE flow_states (
    kind       TEXT NOT NULL CHECK (kind IN ('session', 'login_form', 'consent')),
    key_hash   BLOB NOT NULL CHECK (length(key_hash) = 32),
    value      TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (kind, key_hash)
);
CREATE INDEX flow_states_by_expiry ON flow_states (expires_at);

CREATE TABLE sign_in_failures (
    key          TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 300),
    window_start INTEGER NOT NULL,
    failures     INTEGER NOT NULL CHECK (failures > 0)
);
CREATE INDEX sign_in_failures_by_window ON sign_in_failures (window_start);

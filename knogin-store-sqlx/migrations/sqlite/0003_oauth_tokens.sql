-- OAuth tokens: an app may have its own access-token lifetime, and failed client
-- authentications are counted per client id so the limit holds across instances.
ALTER TABLE apps ADD COLUMN access_token_ttl INTEGER CHECK (access_token_ttl > 0);

CREATE TABLE client_auth_failures (
    client_id    TEXT PRIMARY KEY CHECK (length(client_id) BETWEEN 1 AND 128),
    window_start INTEGER NOT NULL,
    failures     INTEGER NOT NULL CHECK (failures > 0)
);
CREATE INDEX client_auth_failures_by_window ON client_auth_failures (window_start);

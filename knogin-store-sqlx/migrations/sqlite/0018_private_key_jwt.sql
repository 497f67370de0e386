-- private_key_jwt client authentication (RFC 7523): how each app authenticates, and the
-- public keys of those that sign assertions (a JWK Set as registered). Such apps have no secret.
ALTER TABLE apps ADD COLUMN token_endpoint_auth_method TEXT NOT NULL DEFAULT 'client_secret_basic'
    CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt'));
ALTER TABLE apps ADD COLUMN jwks TEXT;

-- Flow state also records the JWT ids a client may use once (DPoP proofs, client assertions),
-- and will hold more kinds of short-lived state: the kinds are the core's to name. SQLite
-- cannot change a CHECK constraint, so the table is copied.
CREATE TABLE flow_states_new (
    kind       TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 32),
    key_hash   BLOB NOT NULL CHECK (length(key_hash) = 32),
    value      TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (kind, key_hash)
);
INSERT INTO flow_states_new SELECT kind, key_hash, value, expires_at FROM flow_states;
DROP TABLE flow_states;
ALTER TABLE flow_states_new RENAME TO flow_states;
CREATE INDEX flow_states_by_expiry ON flow_states (expires_at);

-- OAuth tokens: keys of three algorithms, an app may have its own access-token lifetime, and
-- failed client authentications are counted per client id so the limit holds across instances.
ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_algorithm;
ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_algorithm
    CHECK (algorithm IN ('RS256', 'ES256', 'EdDSA'));

ALTER TABLE apps ADD COLUMN access_token_ttl BIGINT CHECK (access_token_ttl > 0);

CREATE TABLE client_auth_failures (
    client_id    TEXT PRIMARY KEY CHECK (char_length(client_id) BETWEEN 1 AND 128),
    window_start BIGINT NOT NULL,
    failures     BIGINT NOT NULL CHECK (failures > 0)
);
CREATE INDEX client_auth_failures_by_window ON client_auth_failures (window_start);

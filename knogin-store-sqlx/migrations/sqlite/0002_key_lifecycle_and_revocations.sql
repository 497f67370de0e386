-- Signing keys get a lifecycle (published → signing → retired → removed), the first key is
-- created once per database whatever the instances' clocks say, and revoked tokens are listed
-- for every instance to reload.
ALTER TABLE signing_keys ADD COLUMN activates_at INTEGER NOT NULL DEFAULT 0;
UPDATE signing_keys SET activates_at = created_at;
ALTER TABLE signing_keys ADD COLUMN retires_at INTEGER;
ALTER TABLE signing_keys ADD COLUMN removed_at INTEGER;

-- One row, ever: the key the issuer started with. Its primary key lets one first key in.
CREATE TABLE signing_key_genesis (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    kid TEXT NOT NULL REFERENCES signing_keys (kid)
);
INSERT INTO signing_key_genesis (id, kid)
    SELECT 1, kid FROM signing_keys ORDER BY seq LIMIT 1;

CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY CHECK (length(jti) BETWEEN 1 AND 256),
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL
);
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);

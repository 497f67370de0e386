-- Signing keys get a lifecycle (published → signing → retired → removed), the first key is
-- created once per database whatever the instances' clocks say, and revoked tokens are listed
-- for every instance to reload.
ALTER TABLE signing_keys ADD COLUMN activates_at BIGINT;
UPDATE signing_keys SET activates_at = created_at;
ALTER TABLE signing_keys ALTER COLUMN activates_at SET NOT NULL;
ALTER TABLE signing_keys ADD COLUMN retires_at BIGINT;
ALTER TABLE signing_keys ADD COLUMN removed_at BIGINT;
ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_algorithm CHECK (algorithm IN ('RS256'));

-- One row, ever: the key the issuer started with. Its primary key lets one first key in.
CREATE TABLE signing_key_genesis (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    kid TEXT NOT NULL REFERENCES signing_keys (kid)
);
INSERT INTO signing_key_genesis (id, kid)
    SELECT 1, kid FROM signing_keys ORDER BY seq LIMIT 1;

CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY CHECK (char_length(jti) BETWEEN 1 AND 256),
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);

-- The JSON lists were unchecked text here while SQLite checked them.
ALTER TABLE apps ADD CONSTRAINT apps_grant_types_json CHECK ((grant_types::jsonb) IS NOT NULL);
ALTER TABLE apps ADD CONSTRAINT apps_redirect_uris_json CHECK ((redirect_uris::jsonb) IS NOT NULL);
ALTER TABLE apps ADD CONSTRAINT apps_requested_scopes_json CHECK ((requested_scopes::jsonb) IS NOT NULL);

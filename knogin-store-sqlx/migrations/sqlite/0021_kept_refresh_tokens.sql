-- An app's governance may keep its refresh tokens across uses instead of rotating them (FAPI
-- 2.0). The access tokens issued from a kept refresh token are recorded with its family, so
-- revoking the family revokes them too.
ALTER TABLE apps ADD COLUMN rotate_refresh_tokens BOOLEAN NOT NULL DEFAULT TRUE;
CREATE TABLE family_access_tokens (
    jti        TEXT PRIMARY KEY,
    family     TEXT NOT NULL REFERENCES token_families (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX family_access_tokens_by_family ON family_access_tokens (family);

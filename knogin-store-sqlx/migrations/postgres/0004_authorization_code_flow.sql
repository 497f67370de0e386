-- The authorization-code flow: a family per authorization (its code, refresh tokens and the
-- access tokens issued beside them, revoked together on a replay), and remembered consents.
CREATE TABLE token_families (
    id         TEXT PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 128),
    client_id  TEXT NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX token_families_by_expiry ON token_families (expires_at);

CREATE TABLE authorization_codes (
    code_hash      BYTEA PRIMARY KEY CHECK (octet_length(code_hash) = 32),
    family         TEXT NOT NULL UNIQUE REFERENCES token_families (id) ON DELETE CASCADE,
    client_id      TEXT NOT NULL,
    tenant_id      TEXT NOT NULL,
    subject        TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT,
    expires_at     BIGINT NOT NULL,
    family_expires_at BIGINT NOT NULL,
    redeemed_at    BIGINT
);

CREATE TABLE refresh_tokens (
    token_hash        BYTEA PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    family            TEXT NOT NULL REFERENCES token_families (id) ON DELETE CASCADE,
    client_id         TEXT NOT NULL,
    tenant_id         TEXT NOT NULL,
    subject           TEXT NOT NULL,
    scopes            TEXT NOT NULL,
    access_jti        TEXT NOT NULL,
    access_expires_at BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    family_expires_at BIGINT NOT NULL,
    rotated_at        BIGINT
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family);

CREATE TABLE consents (
    client_id  TEXT NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
    subject    TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, subject)
);

-- Tenants, apps with their client secrets, and sealed signing keys.
CREATE TABLE tenants (
    id         TEXT PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
    created_at BIGINT NOT NULL
);

CREATE TABLE apps (
    seq                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id            TEXT NOT NULL UNIQUE,
    tenant_id            TEXT NOT NULL REFERENCES tenants (id),
    name                 TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    grant_types          TEXT NOT NULL,
    redirect_uris        TEXT NOT NULL,
    requested_scopes     TEXT NOT NULL,
    allow_service_tokens BOOLEAN NOT NULL DEFAULT FALSE,
    enforce_pkce         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at           BIGINT NOT NULL,
    secret_rotated_at    BIGINT
);
CREATE INDEX apps_by_tenant ON apps (tenant_id, seq DESC);

CREATE TABLE app_secrets (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
    secret_hash BYTEA NOT NULL CHECK (octet_length(secret_hash) = 32),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT
);
CREATE INDEX app_secrets_by_client ON app_secrets (client_id);

CREATE TABLE signing_keys (
    seq                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kid                TEXT NOT NULL UNIQUE,
    algorithm          TEXT NOT NULL,
    sealed_private_key BYTEA NOT NULL,
    created_at         BIGINT NOT NULL
);

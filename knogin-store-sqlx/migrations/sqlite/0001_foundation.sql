-- Tenants, apps with their client secrets, and sealed signing keys.
CREATE TABLE tenants (
    id         TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    created_at INTEGER NOT NULL
);

CREATE TABLE apps (
    seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id            TEXT NOT NULL UNIQUE,
    tenant_id            TEXT NOT NULL REFERENCES tenants (id),
    name                 TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    grant_types          TEXT NOT NULL CHECK (json_valid(grant_types)),
    redirect_uris        TEXT NOT NULL CHECK (json_valid(redirect_uris)),
    requested_scopes     TEXT NOT NULL CHECK (json_valid(requested_scopes)),
    allow_service_tokens BOOLEAN NOT NULL DEFAULT FALSE,
    enforce_pkce         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at           INTEGER NOT NULL,
    secret_rotated_at    INTEGER
);
CREATE INDEX apps_by_tenant ON apps (tenant_id, seq DESC);

CREATE TABLE app_secrets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id   TEXT NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
    secret_hash BLOB NOT NULL CHECK (length(secret_hash) = 32),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER
);
CREATE INDEX app_secrets_by_client ON app_secrets (client_id);

CREATE TABLE signing_keys (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    kid                TEXT NOT NULL UNIQUE,
    algorithm          TEXT NOT NULL,
    sealed_private_key BLOB NOT NULL,
    created_at         INTEGER NOT NULL
);

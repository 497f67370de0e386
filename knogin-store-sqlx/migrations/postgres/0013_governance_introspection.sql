-- Governance: whether an app is a resource server that may introspect every access token of
-- its tenant (RFC 7662 section 4). Without it, an app introspects only its own tokens.
ALTER TABLE apps ADD COLUMN allow_token_introspection BOOLEAN NOT NULL DEFAULT FALSE;

-- private_key_jwt client authentication (RFC 7523): how each app authenticates, and the
-- public keys of those that sign assertions (a JWK Set as registered). Such apps have no secret.
ALTER TABLE apps ADD COLUMN token_endpoint_auth_method TEXT NOT NULL DEFAULT 'client_secret_basic'
    CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt'));
ALTER TABLE apps ADD COLUMN jwks TEXT;

-- Flow state also records the JWT ids a client may use once (DPoP proofs, client assertions),
-- and will hold more kinds of short-lived state: the kinds are the core's to name.
ALTER TABLE flow_states DROP CONSTRAINT flow_states_kind_check;
ALTER TABLE flow_states ADD CONSTRAINT flow_states_kind_check
    CHECK (char_length(kind) BETWEEN 1 AND 32);

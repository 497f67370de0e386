-- A private_key_jwt app may register the URL of its JWK Set (RFC 7591 jwks_uri) instead of the
-- set itself.
ALTER TABLE apps ADD COLUMN jwks_uri TEXT;

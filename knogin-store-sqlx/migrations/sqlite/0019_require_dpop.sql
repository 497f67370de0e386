-- DPoP (RFC 9449): an app's governance may require its access tokens to be sender-constrained.
ALTER TABLE apps ADD COLUMN require_dpop BOOLEAN NOT NULL DEFAULT FALSE;

-- DPoP (RFC 9449) and pushed authorization requests (RFC 9126): an app's governance may
-- require its access tokens to be sender-constrained, and its authorization requests pushed,
-- or select a security profile (FAPI 2.0) that requires both and more.
ALTER TABLE apps ADD COLUMN require_dpop BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE apps ADD COLUMN require_pushed_authorization_requests BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE apps ADD COLUMN security_profile TEXT CHECK (security_profile IN ('fapi2'));

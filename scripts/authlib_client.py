"""Drives the reference server with an off-the-shelf OAuth client (authlib): client-credentials
tokens with client_secret_basic and client_secret_post, each verified against the published JWKS
with authlib's own JOSE code, then introspected and revoked.

Usage: python3 scripts/authlib_client.py BASE_URL CLIENT_ID CLIENT_SECRET
"""

import sys

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken


def main(base, client_id, secret):
    metadata = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=10).json()
    assert metadata["issuer"] == base, metadata
    keys = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
    jwt = JsonWebToken(["RS256", "ES256", "EdDSA"])
    for method in ("client_secret_basic", "client_secret_post"):
        session = OAuth2Session(client_id, secret, token_endpoint_auth_method=method, scope="webhooks:write")
        token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
        assert token["token_type"] == "Bearer" and token["scope"] == "webhooks:write", token
        claims = jwt.decode(
            token["access_token"],
            keys,
            claims_options={"iss": {"essential": True, "value": base}, "aud": {"essential": True, "value": base}},
        )
        claims.validate()
        assert claims["client_id"] == client_id and claims["sub"] == client_id, claims
        seen = session.introspect_token(metadata["introspection_endpoint"], token=token["access_token"]).json()
        assert seen["active"] is True and seen["client_id"] == client_id, seen
        revoked = session.revoke_token(metadata["revocation_endpoint"], token=token["access_token"])
        assert revoked.status_code == 200, revoked.text
        seen = session.introspect_token(metadata["introspection_endpoint"], token=token["access_token"]).json()
        assert seen == {"active": False}, seen
        print(f"authlib: {method} token for {client_id} verified, introspected and revoked")


if __name__ == "__main__":
    main(*sys.argv[1:4])

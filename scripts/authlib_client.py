"""Drives the reference server with an off-the-shelf OAuth client (authlib).

client-credentials (the default): tokens with client_secret_basic and client_secret_post, each
verified against the published JWKS with authlib's own JOSE code, then introspected and revoked.

code-flow: the authorization code flow with PKCE (S256), a person's login and consent played by a
plain HTTP session reading the built-in pages' forms, the code exchanged by authlib, the token
verified against the JWKS, then refreshed (rotation) by authlib.

private-key-jwt: an app registered (with the admin token) with the public half of a P-256 key
authlib generates, and no secret; authlib's PrivateKeyJWT signs an assertion for each request
(ES256, expiring within a minute, as knogin wants assertions short-lived) to get a token, to
introspect and to revoke it; a replayed assertion is refused.

Usage: python3 scripts/authlib_client.py BASE_URL CLIENT_ID CLIENT_SECRET
       python3 scripts/authlib_client.py code-flow BASE_URL CLIENT_ID CLIENT_SECRET REDIRECT_URI USER PASSWORD
       python3 scripts/authlib_client.py private-key-jwt BASE_URL ADMIN_TOKEN
"""

import html
import re
import sys
import time
from urllib.parse import parse_qs, urljoin, urlparse

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.common.security import generate_token
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import ECKey


def discover(base):
    """The server's RFC 8414 metadata, and a checker of its access tokens against its JWKS."""
    metadata = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=10).json()
    assert metadata["issuer"] == base, metadata
    keys = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
    jwt = JsonWebToken(["RS256", "ES256", "EdDSA"])

    def verified(access_token):
        claims = jwt.decode(
            access_token,
            keys,
            claims_options={"iss": {"essential": True, "value": base}, "aud": {"essential": True, "value": base}},
        )
        claims.validate()
        return claims

    return metadata, verified


def main(base, client_id, secret):
    metadata, verified = discover(base)
    for method in ("client_secret_basic", "client_secret_post"):
        session = OAuth2Session(client_id, secret, token_endpoint_auth_method=method, scope="webhooks:write")
        token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
        assert token["token_type"] == "Bearer" and token["scope"] == "webhooks:write", token
        claims = verified(token["access_token"])
        assert claims["client_id"] == client_id and claims["sub"] == client_id, claims
        seen = session.introspect_token(metadata["introspection_endpoint"], token=token["access_token"]).json()
        assert seen["active"] is True and seen["client_id"] == client_id, seen
        revoked = session.revoke_token(metadata["revocation_endpoint"], token=token["access_token"])
        assert revoked.status_code == 200, revoked.text
        seen = session.introspect_token(metadata["introspection_endpoint"], token=token["access_token"]).json()
        assert seen == {"active": False}, seen
        print(f"authlib: {method} token for {client_id} verified, introspected and revoked")


def csrf_token(page):
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def return_to(page):
    """The authorization request a login page returns to (its hidden field, unescaped)."""
    found = re.search(r'name="return_to" value="([^"]*)"', page.text)
    assert found, page.text
    return html.unescape(found.group(1))


def code_flow(base, client_id, secret, redirect_uri, user, password):
    metadata, verified = discover(base)
    assert "S256" in metadata["code_challenge_methods_supported"], metadata
    assert metadata["authorization_response_iss_parameter_supported"] is True, metadata
    client = OAuth2Session(
        client_id, secret, redirect_uri=redirect_uri, scope="webhooks:read", code_challenge_method="S256"
    )
    verifier = generate_token(64)
    url, state = client.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier)

    # The person: a plain HTTP session with cookies, reading the built-in pages' forms.
    person = requests.Session()
    login = person.get(url, allow_redirects=False, timeout=10)
    assert login.status_code == 200 and 'name="password"' in login.text, login.text
    back = person.post(
        urljoin(url, "login"),
        data={
            "csrf_token": csrf_token(login),
            "return_to": return_to(login),
            "username": user,
            "password": password,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert back.status_code == 303, back.text
    consent = person.get(urljoin(url, back.headers["location"]), allow_redirects=False, timeout=10)
    assert consent.status_code == 200 and 'value="approve"' in consent.text, consent.text
    answer = person.post(
        urljoin(url, "authorize"),
        data={"csrf_token": csrf_token(consent), "decision": "approve"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303, answer.text
    callback = answer.headers["location"]
    params = parse_qs(urlparse(callback).query)
    assert params["iss"] == [base] and params["state"] == [state], params

    token = client.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    claims = verified(token["access_token"])
    assert claims["sub"] == user and claims["client_id"] == client_id, claims
    assert token["refresh_token"].startswith("kr_"), token
    refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"], refreshed
    print(f"authlib: code flow with PKCE for {user} at {client_id}: token verified, refresh token rotated")


class ShortLivedAssertion(PrivateKeyJWT):
    """authlib's PrivateKeyJWT with a fresh one-minute `exp` and `jti` for each assertion (its
    default lives an hour, longer than knogin takes)."""

    def sign(self, auth, token_endpoint):
        self.claims = {"exp": int(time.time()) + 60, "jti": generate_token(24)}
        return super().sign(auth, token_endpoint)


def private_key_jwt(base, admin_token):
    metadata, verified = discover(base)
    assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"], metadata
    assert "ES256" in metadata["token_endpoint_auth_signing_alg_values_supported"], metadata
    key = ECKey.generate_key("P-256", parameters={"kid": "signing-1"})
    public = key.as_dict(private=False)
    registered = requests.post(
        f"{base}/v1/platform/apps",
        headers={"Authorization": f"Bearer {admin_token}"},
        json={
            "name": "Signed connector",
            "grant_types": ["client_credentials"],
            "redirect_uris": [],
            "requested_scopes": ["webhooks:write"],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [public]},
        },
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    app = registered.json()
    assert "client_secret" not in app and app["token_endpoint_auth_method"] == "private_key_jwt", app
    client_id = app["client_id"]
    assertion = ShortLivedAssertion(metadata["token_endpoint"], headers={"kid": public["kid"]}, alg="ES256")
    session = OAuth2Session(
        client_id,
        key,
        token_endpoint_auth_method="private_key_jwt",
        revocation_endpoint_auth_method="private_key_jwt",
        scope="webhooks:write",
    )
    session.register_client_auth_method(assertion)
    token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    claims = verified(token["access_token"])
    assert claims["client_id"] == client_id, claims
    seen = session.introspect_token(metadata["introspection_endpoint"], token=token["access_token"]).json()
    assert seen["active"] is True and seen["client_id"] == client_id, seen
    revoked = session.revoke_token(metadata["revocation_endpoint"], token=token["access_token"])
    assert revoked.status_code == 200, revoked.text
    # The same assertion twice: the second is refused.
    signed = assertion.sign(session.client_auth("private_key_jwt"), metadata["token_endpoint"])
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": signed,
    }
    first = requests.post(metadata["token_endpoint"], data=form, timeout=10)
    again = requests.post(metadata["token_endpoint"], data=form, timeout=10)
    assert first.status_code == 200, first.text
    assert again.status_code == 401 and again.json()["error"] == "invalid_client", again.text
    print(f"authlib: private_key_jwt token for {client_id} verified, introspected and revoked; a replay refused")


if __name__ == "__main__":
    if sys.argv[1] == "code-flow":
        code_flow(*sys.argv[2:8])
    elif sys.argv[1] == "private-key-jwt":
        private_key_jwt(*sys.argv[2:4])
    else:
        main(*sys.argv[1:4])

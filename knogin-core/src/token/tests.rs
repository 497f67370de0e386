use std::time::Duration;

use super::*;
use crate::clock::Timestamp;
use crate::id::{KeyId, TenantId};
use crate::keys::{KeyRing, SigningKey};
use crate::testing::{FIXTURE_KEY, OTHER_FIXTURE_KEY};

const ISSUER: &str = "https://auth.knogin.test";
const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

fn ring(der: &[u8]) -> KeyRing {
    KeyRing::from_keys(vec![
        SigningKey::from_pkcs8(KeyId::new("2026-03-signing-key"), der).unwrap(),
    ])
}

fn grant(ttl: u64) -> TokenGrant {
    TokenGrant {
        tenant: TenantId::parse("t1").unwrap(),
        subject: "user-1".into(),
        client_id: "app_1".into(),
        scopes: vec!["webhooks:read".into(), "webhooks:write".into()],
        ttl: Duration::from_secs(ttl),
    }
}

#[test]
fn a_minted_token_verifies_with_its_claims() {
    let ring = ring(FIXTURE_KEY);
    let token = mint(ring.signer(), ISSUER, T0, &grant(60));
    assert_eq!(token.expires_at(), T0.plus(Duration::from_secs(60)));
    let claims = verify(&ring, ISSUER, T0, token.expose()).unwrap();
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.aud, ISSUER);
    assert_eq!(claims.tenant, "t1");
    assert_eq!(claims.exp - claims.iat, 60);
    assert!(claims.has_scope("webhooks:write") && !claims.has_scope("webhooks"));
    let header = jsonwebtoken::decode_header(token.expose()).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.kid.as_deref(), Some("2026-03-signing-key"));
}

#[test]
fn expiry_allows_five_seconds_of_skew_and_no_more() {
    let ring = ring(FIXTURE_KEY);
    let token = mint(ring.signer(), ISSUER, T0, &grant(60));
    let at = |s: i64| Timestamp::from_unix(T0.unix() + s);
    assert!(verify(&ring, ISSUER, at(64), token.expose()).is_ok());
    assert_eq!(
        verify(&ring, ISSUER, at(65), token.expose()),
        Err(TokenError::Expired)
    );
    assert!(verify(&ring, ISSUER, at(-5), token.expose()).is_ok());
    assert_eq!(
        verify(&ring, ISSUER, at(-6), token.expose()),
        Err(TokenError::NotYetValid)
    );
}

#[test]
fn another_issuer_key_or_tampering_is_refused() {
    let ring = ring(FIXTURE_KEY);
    let token = mint(ring.signer(), ISSUER, T0, &grant(60));
    assert_eq!(
        verify(&ring, "https://other.test", T0, token.expose()),
        Err(TokenError::WrongIssuer)
    );

    let forged = mint(
        self::ring(OTHER_FIXTURE_KEY).signer(),
        ISSUER,
        T0,
        &grant(60),
    );
    assert_eq!(
        verify(&ring, ISSUER, T0, forged.expose()),
        Err(TokenError::BadSignature)
    );

    let mut parts: Vec<String> = token.expose().split('.').map(str::to_owned).collect();
    parts[1] = forged.expose().split('.').nth(1).unwrap().to_owned();
    assert_eq!(
        verify(&ring, ISSUER, T0, &parts.join(".")),
        Err(TokenError::BadSignature)
    );

    assert_eq!(
        verify(&ring, ISSUER, T0, "not.a.jwt"),
        Err(TokenError::Malformed)
    );
    assert_eq!(verify(&ring, ISSUER, T0, ""), Err(TokenError::Malformed));
}

#[test]
fn algorithm_is_pinned_to_the_key() {
    let ring = ring(FIXTURE_KEY);
    let token = mint(ring.signer(), ISSUER, T0, &grant(60));
    let b64 =
        |s: &str| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, s);
    let rest = token.expose().split_once('.').unwrap().1;
    for alg in ["none", "HS256", "RS512"] {
        let header = b64(&format!(
            r#"{{"alg":"{alg}","typ":"at+jwt","kid":"2026-03-signing-key"}}"#
        ));
        let err = verify(&ring, ISSUER, T0, &format!("{header}.{rest}")).unwrap_err();
        assert!(
            matches!(err, TokenError::UnknownKey | TokenError::Malformed),
            "{alg}: {err:?}"
        );
    }
    let header = b64(r#"{"alg":"RS256","typ":"JWT","kid":"2026-03-signing-key"}"#);
    assert_eq!(
        verify(&ring, ISSUER, T0, &format!("{header}.{rest}")),
        Err(TokenError::WrongType)
    );
}

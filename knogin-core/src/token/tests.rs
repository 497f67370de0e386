use std::time::Duration;

use super::*;
use crate::clock::Timestamp;
use crate::id::{KeyId, TenantId};
use crate::keys::{KeyRing, SigningKey};
use crate::scope::ScopeSet;
use crate::testing::{FIXTURE_KEY, OTHER_FIXTURE_KEY};

const ISSUER: &str = "https://auth.knogin.test";
const ADMIN_AUD: &str = "https://auth.knogin.test/v1/platform";
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
        scopes: ScopeSet::new(["webhooks:read", "webhooks:write"]).unwrap(),
        ttl: Duration::from_secs(ttl),
        resource: None,
        dpop_jkt: None,
        actor: None,
    }
}

fn audiences() -> Vec<String> {
    vec![ISSUER.to_owned()]
}

fn access(ring: &KeyRing, ttl: u64) -> AccessToken {
    mint(
        ring.signer(T0),
        ISSUER,
        Audience::One(ISSUER.to_owned()),
        T0,
        &grant(ttl),
        TokenKind::Access,
    )
}

fn check(ring: &KeyRing, at: Timestamp, token: &str) -> Result<AccessClaims, TokenError> {
    verify(ring, ISSUER, &audiences(), ADMIN_AUD, at, token).map(|(claims, _)| claims)
}

#[test]
fn a_minted_token_verifies_with_its_claims() {
    let ring = ring(FIXTURE_KEY);
    let token = access(&ring, 60);
    assert_eq!(token.expires_at(), T0.plus(Duration::from_secs(60)));
    let (claims, kind) =
        verify(&ring, ISSUER, &audiences(), ADMIN_AUD, T0, token.expose()).unwrap();
    assert_eq!(kind, TokenKind::Access);
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.aud, Audience::One(ISSUER.into()));
    assert_eq!(claims.tenant, "t1");
    assert_eq!(claims.exp - claims.iat, 60);
    assert_eq!(claims.scope, "webhooks:read webhooks:write");
    assert!(claims.has_scope("webhooks:write") && !claims.has_scope("webhooks"));
    let header = jsonwebtoken::decode_header(token.expose()).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.kid.as_deref(), Some("2026-03-signing-key"));
}

#[test]
fn several_audiences_are_an_array_and_each_is_accepted() {
    let ring = ring(FIXTURE_KEY);
    let both = vec!["https://api.knogin.test".to_owned(), ISSUER.to_owned()];
    let token = mint(
        ring.signer(T0),
        ISSUER,
        Audience::Many(both.clone()),
        T0,
        &grant(60),
        TokenKind::Access,
    );
    let payload = token.expose().split('.').nth(1).unwrap();
    let raw =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(json["aud"], serde_json::json!(both));
    assert!(check(&ring, T0, token.expose()).is_ok());
    let other = vec!["https://elsewhere.test".to_owned()];
    assert_eq!(
        verify(&ring, ISSUER, &other, ADMIN_AUD, T0, token.expose()).map(|_| ()),
        Err(TokenError::WrongIssuer)
    );
}

#[test]
fn admin_tokens_are_typed_apart_and_for_the_platform_audience() {
    let ring = ring(FIXTURE_KEY);
    let admin = mint(
        ring.signer(T0),
        ISSUER,
        Audience::One(ADMIN_AUD.into()),
        T0,
        &grant(60),
        TokenKind::Admin,
    );
    let (_, kind) = verify(&ring, ISSUER, &audiences(), ADMIN_AUD, T0, admin.expose()).unwrap();
    assert_eq!(kind, TokenKind::Admin);
    let header = jsonwebtoken::decode_header(admin.expose()).unwrap();
    assert_eq!(header.typ.as_deref(), Some("knogin-admin+jwt"));
    // An admin token with the issuer as audience (or an access token for the platform) is refused.
    let wrong = mint(
        ring.signer(T0),
        ISSUER,
        Audience::One(ISSUER.into()),
        T0,
        &grant(60),
        TokenKind::Admin,
    );
    assert_eq!(
        check(&ring, T0, wrong.expose()),
        Err(TokenError::WrongIssuer)
    );
}

#[test]
fn expiry_allows_five_seconds_of_skew_and_no_more() {
    let ring = ring(FIXTURE_KEY);
    let token = access(&ring, 60);
    let at = |s: i64| Timestamp::from_unix(T0.unix() + s);
    assert!(check(&ring, at(64), token.expose()).is_ok());
    assert_eq!(
        check(&ring, at(65), token.expose()),
        Err(TokenError::Expired)
    );
    assert!(check(&ring, at(-5), token.expose()).is_ok());
    assert_eq!(
        check(&ring, at(-6), token.expose()),
        Err(TokenError::NotYetValid)
    );
}

#[test]
fn another_issuer_key_or_tampering_is_refused() {
    let ring = ring(FIXTURE_KEY);
    let token = access(&ring, 60);
    assert_eq!(
        verify(
            &ring,
            "https://other.test",
            &audiences(),
            ADMIN_AUD,
            T0,
            token.expose()
        )
        .map(|_| ()),
        Err(TokenError::WrongIssuer)
    );

    let forged = access(&self::ring(OTHER_FIXTURE_KEY), 60);
    assert_eq!(
        check(&ring, T0, forged.expose()),
        Err(TokenError::BadSignature)
    );

    let mut parts: Vec<String> = token.expose().split('.').map(str::to_owned).collect();
    parts[1] = forged.expose().split('.').nth(1).unwrap().to_owned();
    assert_eq!(
        check(&ring, T0, &parts.join(".")),
        Err(TokenError::BadSignature)
    );

    assert_eq!(check(&ring, T0, "not.a.jwt"), Err(TokenError::Malformed));
    assert_eq!(check(&ring, T0, ""), Err(TokenError::Malformed));
    let huge = format!("{}.{}", token.expose(), "a".repeat(MAX_TOKEN_BYTES));
    assert_eq!(check(&ring, T0, &huge), Err(TokenError::TooLarge));
}

#[test]
fn algorithm_is_pinned_to_the_key() {
    let ring = ring(FIXTURE_KEY);
    let token = access(&ring, 60);
    let b64 =
        |s: &str| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, s);
    let rest = token.expose().split_once('.').unwrap().1;
    for alg in ["none", "HS256", "RS512"] {
        let header = b64(&format!(
            r#"{{"alg":"{alg}","typ":"at+jwt","kid":"2026-03-signing-key"}}"#
        ));
        let err = check(&ring, T0, &format!("{header}.{rest}")).unwrap_err();
        assert!(
            matches!(err, TokenError::UnknownKey | TokenError::Malformed),
            "{alg}: {err:?}"
        );
    }
    let header = b64(r#"{"alg":"RS256","typ":"JWT","kid":"2026-03-signing-key"}"#);
    assert_eq!(
        check(&ring, T0, &format!("{header}.{rest}")),
        Err(TokenError::WrongType)
    );
}

#[test]
fn minted_parts_are_the_bytes_serde_gives_the_claims() {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let ring = ring(FIXTURE_KEY);
    let mut delegated = grant(60);
    delegated.subject = "a \"quoted\" user\\ é".into();
    delegated.dpop_jkt = Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into());
    delegated.actor = Some(knogin_verifier::ActorClaim {
        sub: "app_2".into(),
        act: Some(Box::new(knogin_verifier::ActorClaim {
            sub: "app_3".into(),
            act: None,
        })),
    });
    for (audience, grant) in [
        (Audience::One(ISSUER.to_owned()), grant(60)),
        (
            Audience::Many(vec![ISSUER.to_owned(), "https://api.test".into()]),
            delegated,
        ),
    ] {
        let token = mint(
            ring.signer(T0),
            ISSUER,
            audience,
            T0,
            &grant,
            TokenKind::Access,
        );
        let mut parts = token.expose().split('.');
        let header = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
        let payload = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
        let claims: AccessClaims = serde_json::from_slice(&payload).unwrap();
        assert_eq!(payload, serde_json::to_vec(&claims).unwrap());
        assert_eq!(claims.sub, grant.subject);
        assert_eq!(claims.act, grant.actor);
        assert_eq!(claims.dpop_jkt(), grant.dpop_jkt.as_deref());
        assert_eq!(
            String::from_utf8(header).unwrap(),
            r#"{"alg":"RS256","typ":"at+jwt","kid":"2026-03-signing-key"}"#
        );
    }
}

//! `private_key_jwt` client authentication (RFC 7523 §2.2 and §3, OpenID Connect Core §9): a JWT
//! the client signs with one of its registered keys, naming itself as `iss` and `sub` and this
//! server as `aud`, short-lived, and used once across every instance.

use std::net::IpAddr;
use std::time::Duration;

use knogin_verifier::jose::{Jws, PublicJwkSet};
use serde::Deserialize;

use super::ClientAuthError;
use crate::apps::{App, ClientKeys, TokenEndpointAuthMethod};
use crate::clock::Timestamp;
use crate::id::AppId;
use crate::secret::SecretHash;
use crate::token::LEEWAY;

/// The `client_assertion_type` of a JWT client assertion.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The longest a client assertion may still be valid when it arrives: `exp` at most this far
/// ahead. Assertions are made for one request; a long one is a replay waiting to happen.
pub const MAX_ASSERTION_LIFETIME: Duration = Duration::from_secs(300);

/// The longest client assertion read, in bytes.
pub const MAX_ASSERTION_BYTES: usize = 8 * 1024;

/// The longest `jti` taken.
const MAX_JTI_CHARS: usize = 256;

/// An `aud` claim: one string or several.
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, wanted: &str) -> bool {
        match self {
            Self::One(aud) => aud == wanted,
            Self::Many(auds) => auds.iter().any(|aud| aud == wanted),
        }
    }
}

/// The claims a client assertion must carry.
#[derive(Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: i64,
    jti: String,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    nbf: Option<i64>,
}

/// Why an assertion was refused, as the audit trail names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not a JWT with the claims an assertion needs, or its `iss`, `sub` and `client_id` differ.
    Malformed,
    /// The app does not authenticate with `private_key_jwt`.
    NotKeyApp,
    /// For another audience.
    WrongAudience,
    /// Expired, not valid yet, or valid for longer than [`MAX_ASSERTION_LIFETIME`].
    Times,
    /// No registered key verifies it.
    Signature,
    /// Its `jti` was used before.
    Replayed,
}

impl Refusal {
    /// The `reason` of the audit event.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed_client_assertion",
            Self::NotKeyApp => "client_assertion_for_secret_client",
            Self::WrongAudience => "client_assertion_audience",
            Self::Times => "client_assertion_expired_or_too_long",
            Self::Signature => "client_assertion_signature",
            Self::Replayed => "client_assertion_replayed",
        }
    }
}

/// Reads the assertion's claims without checking the signature: who it says it is from.
fn claims_of(jws: &Jws<'_>) -> Option<AssertionClaims> {
    // The payload is only trusted once a key verified it; this reads the issuer to find the key.
    let payload = jws.unverified_payload();
    serde_json::from_slice(payload).ok()
}

/// Judges the assertion's audience and times at `now`.
fn judge(claims: &AssertionClaims, audiences: [&str; 2], now: Timestamp) -> Result<(), Refusal> {
    if !audiences.iter().any(|aud| claims.aud.contains(aud)) {
        return Err(Refusal::WrongAudience);
    }
    let exp = Timestamp::from_unix(claims.exp);
    let ahead = now.plus(LEEWAY);
    let expired = exp <= crate::clock::before(now, LEEWAY);
    let too_long = exp > now.plus(MAX_ASSERTION_LIFETIME + LEEWAY);
    let early = [claims.nbf, claims.iat]
        .into_iter()
        .flatten()
        .any(|at| Timestamp::from_unix(at) > ahead);
    if expired || too_long || early {
        return Err(Refusal::Times);
    }
    Ok(())
}

impl crate::apps::Apps<'_> {
    /// The app that signed `assertion` (a `private_key_jwt` client assertion), if it is valid:
    /// `iss` and `sub` its client id (and `client_id`, when the request names one), `aud` this
    /// issuer or its token endpoint, `exp` within [`MAX_ASSERTION_LIFETIME`], signed by one of
    /// its registered keys with that key's algorithm, and its `jti` not used before on any
    /// instance. A refusal counts toward the client's rate limit like a wrong secret.
    pub async fn authenticate_assertion(
        &self,
        client_id: Option<&str>,
        assertion: &str,
        from: Option<IpAddr>,
    ) -> Result<App, ClientAuthError> {
        let core = self.knogin;
        let now = core.0.clock.now();
        let jws = Jws::parse(assertion, MAX_ASSERTION_BYTES).ok();
        let claims = jws.as_ref().and_then(claims_of);
        let (Some(jws), Some(claims)) = (jws, claims) else {
            let id = client_id.unwrap_or_default();
            return core
                .refuse(id, from, now, Refusal::Malformed.as_str())
                .await;
        };
        let id = claims.sub.as_str();
        let consistent = claims.iss == claims.sub
            && client_id.is_none_or(|named| named == id)
            && claims.jti.len() <= MAX_JTI_CHARS
            && !claims.jti.is_empty();
        if !consistent || !AppId::is_well_formed(id) {
            return core
                .refuse(id, from, now, Refusal::Malformed.as_str())
                .await;
        }
        match self.check_assertion(&jws, &claims, now).await? {
            Ok(app) => Ok(app),
            Err(refusal) => core.refuse(id, from, now, refusal.as_str()).await,
        }
    }

    /// The checks after the claims were read: the app, its keys, audience, times, single use.
    async fn check_assertion(
        &self,
        jws: &Jws<'_>,
        claims: &AssertionClaims,
        now: Timestamp,
    ) -> Result<Result<App, Refusal>, ClientAuthError> {
        let core = self.knogin;
        let lookup = core.0.store.client_lookup(&claims.sub, now).await?;
        let Some(app) = lookup.app else {
            return Ok(Err(Refusal::Signature));
        };
        let Some(keys) = app
            .client_keys
            .as_ref()
            .filter(|_| app.token_endpoint_auth_method == TokenEndpointAuthMethod::PrivateKeyJwt)
        else {
            return Ok(Err(Refusal::NotKeyApp));
        };
        let issuer = core.issuer();
        let token_endpoint = format!("{}/v1/oauth/token", issuer.trim_end_matches('/'));
        if let Err(refusal) = judge(claims, [issuer, &token_endpoint], now) {
            return Ok(Err(refusal));
        }
        let verifies = |keys: &PublicJwkSet| {
            keys.candidates(jws.alg(), jws.kid())
                .any(|key| jws.verify(key).is_ok())
        };
        let signed_by_app = match keys {
            ClientKeys::Jwks(registered) => verifies(registered.keys()),
            ClientKeys::JwksUri(uri) => {
                let clock = &*core.0.clock;
                core.0
                    .client_jwks
                    .verify(&app.client_id, uri, clock, verifies)
                    .await
            }
        };
        if !signed_by_app {
            return Ok(Err(Refusal::Signature));
        }
        let until = Timestamp::from_unix(claims.exp).plus(LEEWAY);
        let used = SecretHash::of(&format!("{}\0{}", app.client_id, claims.jti));
        if !core.first_use(used, until, now).await? {
            return Ok(Err(Refusal::Replayed));
        }
        Ok(Ok(app))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::*;
    use crate::Knogin;
    use crate::apps::Registration;
    use crate::clock::{Clock as _, ManualClock};
    use crate::store::memory::MemoryStore;
    use crate::testing::{ClientKey, TEST_ISSUER, builder};
    use crate::{TenantId, oauth::ClientAuthError};

    const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

    struct Fixture {
        clock: Arc<ManualClock>,
        store: Arc<MemoryStore>,
        knogin: Knogin,
        key: ClientKey,
        app: App,
    }

    async fn handle(store: Arc<MemoryStore>, clock: Arc<ManualClock>) -> Knogin {
        builder(store, crate::testing::shared_master_key(), clock)
            .client_auth_limit(5, Duration::from_secs(60))
            .build()
            .await
            .unwrap()
    }

    async fn fixture() -> Fixture {
        let clock = Arc::new(ManualClock::new(T0));
        let store = Arc::new(MemoryStore::new());
        let knogin = handle(store.clone(), clock.clone()).await;
        let key = ClientKey::es256("k1");
        let registration = Registration {
            name: "Signed".into(),
            grant_types: vec!["client_credentials".into()],
            requested_scopes: vec!["webhooks:write".into()],
            token_endpoint_auth_method: Some("private_key_jwt".into()),
            jwks: Some(key.jwks()),
            ..Registration::default()
        };
        let tenant = TenantId::parse("t1").unwrap();
        let (app, secret) = knogin.apps().register(&tenant, registration).await.unwrap();
        assert!(secret.is_none(), "a private_key_jwt app has no secret");
        Fixture {
            clock,
            store,
            knogin,
            key,
            app,
        }
    }

    impl Fixture {
        fn claims(&self, jti: &str) -> Value {
            let id = self.app.client_id.as_str();
            let now = self.clock.now().unix();
            json!({"iss": id, "sub": id, "aud": TEST_ISSUER, "jti": jti, "iat": now, "exp": now + 60})
        }

        async fn present(&self, assertion: &str) -> Result<App, ClientAuthError> {
            self.knogin
                .apps()
                .authenticate_assertion(None, assertion, None)
                .await
        }
    }

    #[tokio::test]
    async fn a_signed_assertion_authenticates_once() {
        let f = fixture().await;
        let assertion = f.key.sign(&f.claims("a-1"));
        assert_eq!(f.present(&assertion).await.unwrap(), f.app);
        assert!(matches!(
            f.present(&assertion).await,
            Err(ClientAuthError::Failed)
        ));
        // The token endpoint's URL is an audience too, in an array; client_id may name it.
        let mut claims = f.claims("a-2");
        claims["aud"] = json!([
            "https://elsewhere.example",
            format!("{TEST_ISSUER}/v1/oauth/token")
        ]);
        let id = f.app.client_id.as_str();
        let named = f
            .knogin
            .apps()
            .authenticate_assertion(Some(id), &f.key.sign(&claims), None)
            .await;
        assert_eq!(named.unwrap(), f.app);
    }

    #[tokio::test]
    async fn a_replay_on_another_instance_is_refused() {
        let f = fixture().await;
        let other = handle(f.store.clone(), f.clock.clone()).await;
        let assertion = f.key.sign(&f.claims("shared"));
        assert!(f.present(&assertion).await.is_ok());
        let again = other
            .apps()
            .authenticate_assertion(None, &assertion, None)
            .await;
        assert!(matches!(again, Err(ClientAuthError::Failed)));
    }

    #[tokio::test]
    async fn every_broken_rule_is_refused() {
        let f = fixture().await;
        let now = T0.unix();
        let with = |change: &dyn Fn(&mut Value)| {
            let mut claims = f.claims(&format!("j-{}", rand_suffix()));
            change(&mut claims);
            f.key.sign(&claims)
        };
        let stranger = ClientKey::es256("k1");
        let cases: Vec<(&str, String)> = vec![
            (
                "another audience",
                with(&|c| c["aud"] = json!("https://other.example")),
            ),
            ("expired", with(&|c| c["exp"] = json!(now - 10))),
            (
                "valid for too long",
                with(&|c| c["exp"] = json!(now + 3600)),
            ),
            (
                "issued in the future",
                with(&|c| c["iat"] = json!(now + 60)),
            ),
            ("not valid yet", with(&|c| c["nbf"] = json!(now + 60))),
            (
                "iss is not sub",
                with(&|c| c["iss"] = json!("app_someoneelse")),
            ),
            ("no jti", with(&|c| c["jti"] = json!(""))),
            (
                "no exp",
                with(&|c| {
                    c.as_object_mut().unwrap().remove("exp");
                }),
            ),
            ("another key", stranger.sign(&f.claims("j-stranger"))),
            (
                "unknown kid",
                f.key
                    .sign_as(&json!({"alg": "ES256", "kid": "k2"}), &f.claims("j-kid")),
            ),
            (
                "alg none",
                f.key
                    .sign_as(&json!({"alg": "none", "kid": "k1"}), &f.claims("j-none")),
            ),
            (
                "alg of another type",
                f.key
                    .sign_as(&json!({"alg": "RS256", "kid": "k1"}), &f.claims("j-rs")),
            ),
            ("not a JWT", "not.a.jwt".to_owned()),
            ("oversized", "a".repeat(MAX_ASSERTION_BYTES + 1)),
        ];
        for (why, assertion) in cases {
            assert!(
                matches!(
                    f.present(&assertion).await,
                    Err(ClientAuthError::Failed | ClientAuthError::Limited { .. })
                ),
                "{why}"
            );
        }
        let named = f
            .knogin
            .apps()
            .authenticate_assertion(Some("app_other"), &f.key.sign(&f.claims("j-named")), None)
            .await;
        assert!(named.is_err(), "client_id names another app");
    }

    #[tokio::test]
    async fn a_secret_app_cannot_use_an_assertion_and_failures_count() {
        let f = fixture().await;
        let tenant = TenantId::parse("t1").unwrap();
        let (secret_app, _) = f
            .knogin
            .apps()
            .register(&tenant, crate::testing::registration())
            .await
            .unwrap();
        let id = secret_app.client_id.as_str();
        let claims =
            json!({"iss": id, "sub": id, "aud": TEST_ISSUER, "jti": "x", "exp": T0.unix() + 60});
        assert!(f.present(&f.key.sign(&claims)).await.is_err());
        // Five failures of the key app from one address: limited, yet a good assertion passes.
        let from = Some("192.0.2.9".parse().unwrap());
        for n in 0..5 {
            let bad = f.key.sign(&json!({"iss": f.app.client_id.as_str(), "sub": f.app.client_id.as_str(), "aud": "nope", "jti": format!("b{n}"), "exp": T0.unix() + 60}));
            let _ = f
                .knogin
                .apps()
                .authenticate_assertion(None, &bad, from)
                .await;
        }
        let bad = f.key.sign(&json!({"iss": f.app.client_id.as_str(), "sub": f.app.client_id.as_str(), "aud": "nope", "jti": "b9", "exp": T0.unix() + 60}));
        assert!(matches!(
            f.knogin
                .apps()
                .authenticate_assertion(None, &bad, from)
                .await,
            Err(ClientAuthError::Limited { .. })
        ));
        let good = f.key.sign(&f.claims("good"));
        assert!(
            f.knogin
                .apps()
                .authenticate_assertion(None, &good, from)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn an_ed25519_key_signs_as_eddsa_or_ed25519() {
        let clock = Arc::new(ManualClock::new(T0));
        let knogin = handle(Arc::new(MemoryStore::new()), clock).await;
        let key = ClientKey::ed25519("ed");
        let registration = Registration {
            name: "Ed".into(),
            grant_types: vec!["client_credentials".into()],
            token_endpoint_auth_method: Some("private_key_jwt".into()),
            jwks: Some(key.jwks()),
            ..Registration::default()
        };
        let tenant = TenantId::parse("t1").unwrap();
        let (app, _) = knogin.apps().register(&tenant, registration).await.unwrap();
        let id = app.client_id.as_str();
        for (jti, alg) in [("e1", "EdDSA"), ("e2", "Ed25519")] {
            let claims = json!({"iss": id, "sub": id, "aud": TEST_ISSUER, "jti": jti, "exp": T0.unix() + 30});
            let assertion = key.sign_as(&json!({"alg": alg, "kid": "ed"}), &claims);
            let app = knogin
                .apps()
                .authenticate_assertion(None, &assertion, None)
                .await;
            assert!(app.is_ok(), "{alg}");
        }
    }

    /// A distinct suffix for each jti of one test.
    fn rand_suffix() -> String {
        crate::random::hex(8)
    }
}

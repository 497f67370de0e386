//! [`VerifyLayer`]: a tower layer that lets through only requests with a verified token, for any
//! `http::Request<B>` (hyper, tonic, axum).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body_util::Either;
use tower_layer::Layer;
use tower_service::Service;

use crate::{ResponseBody, Verifier};

/// The scope a typed guard requires (the `axum` feature's `axum::Verified`,
/// and `knogin-axum`'s `Bearer` on the issuer's side). Implement it on a marker type per scope.
///
/// ```
/// struct IncidentsRead;
/// impl knogin_verifier::RequiredScope for IncidentsRead {
///     const SCOPE: &'static str = "incidents:read";
/// }
/// ```
pub trait RequiredScope {
    /// The scope a token must carry.
    const SCOPE: &'static str;
}

/// Lets through only requests whose `Authorization: Bearer` token the [`Verifier`] accepts
/// (carrying `scope`, when given), with its [`AccessClaims`](crate::AccessClaims) in the
/// request's extensions; anything else is answered with the verifier's RFC 6750 refusal. The
/// answer's body is an [`Either`]: the inner service's, or the refusal's problem body.
///
/// ```
/// use std::convert::Infallible;
/// use std::sync::Arc;
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use knogin_verifier::{AccessClaims, Verifier, VerifyLayer};
/// use tower::ServiceBuilder;
///
/// fn service(verifier: Arc<Verifier>) -> impl tower::Service<http::Request<Full<Bytes>>> {
///     ServiceBuilder::new()
///         .layer(VerifyLayer::new(verifier, Some("incidents:read")))
///         .service_fn(|request: http::Request<Full<Bytes>>| async move {
///             let tenant = request.extensions().get::<AccessClaims>().map(|c| c.tenant.clone());
///             Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from(tenant.unwrap_or_default()))))
///         })
/// }
/// ```
#[derive(Debug, Clone)]
pub struct VerifyLayer {
    verifier: Arc<Verifier>,
    scope: Option<&'static str>,
}

impl VerifyLayer {
    /// Requires a token `verifier` accepts, carrying `scope` when given.
    pub fn new(verifier: Arc<Verifier>, scope: Option<&'static str>) -> Self {
        Self { verifier, scope }
    }
}

impl<S> Layer<S> for VerifyLayer {
    type Service = VerifyService<S>;

    fn layer(&self, inner: S) -> VerifyService<S> {
        VerifyService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`VerifyLayer`] makes.
#[derive(Debug, Clone)]
pub struct VerifyService<S> {
    inner: S,
    layer: VerifyLayer,
}

impl<S, B, ResBody> Service<Request<B>> for VerifyService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = Response<Either<ResBody, ResponseBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The service that was polled ready handles this request; a fresh clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            // The head alone is checked: the body need not be `Sync` to be held across it.
            let (mut parts, body) = request.into_parts();
            let verified = layer.verifier.verify_request(&parts, layer.scope).await;
            match verified {
                Ok(claims) => {
                    parts.extensions.insert(claims);
                    let response = inner.call(Request::from_parts(parts, body)).await?;
                    Ok(response.map(Either::Left))
                }
                Err(refusal) => Ok(layer.verifier.refusal(refusal).map(Either::Right)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use async_trait::async_trait;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
    use bytes::Bytes;
    use http::StatusCode;
    use http_body_util::{BodyExt as _, Full};
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
    use knogin_time::{Clock as _, SystemClock};
    use tower::{ServiceBuilder, ServiceExt as _};

    use super::*;
    use crate::{AccessClaims, Audience, KeySource, VerifyingKey};

    const ISSUER: &str = "https://auth.example";

    /// One Ed25519 key, its verifier and a token it signed with `scope`.
    struct Issuer {
        signing: EncodingKey,
        verifying: VerifyingKey,
    }

    #[async_trait]
    impl KeySource for Issuer {
        async fn key(&self, kid: &str) -> Option<VerifyingKey> {
            (kid == "k1").then(|| self.verifying.clone())
        }
    }

    fn issuer() -> Arc<Issuer> {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        Arc::new(Issuer {
            signing: EncodingKey::from_ed_der(pkcs8.as_ref()),
            verifying: VerifyingKey::new(
                DecodingKey::from_ed_der(pair.public_key().as_ref()),
                Algorithm::EdDSA,
            ),
        })
    }

    fn token(issuer: &Issuer, scope: &str) -> String {
        bound_token(issuer, scope, None)
    }

    fn bound_token(issuer: &Issuer, scope: &str, jkt: Option<&str>) -> String {
        let now = SystemClock.now().unix();
        let mut header = jsonwebtoken::Header::new(Algorithm::EdDSA);
        header.typ = Some("at+jwt".into());
        header.kid = Some("k1".into());
        let claims = AccessClaims {
            iss: ISSUER.into(),
            sub: "app_1".into(),
            aud: Audience::One(ISSUER.into()),
            exp: now + 600,
            nbf: now,
            iat: now,
            jti: "j1".into(),
            client_id: "app_1".into(),
            scope: scope.into(),
            tenant: "acme".into(),
            cnf: jkt.map(|jkt| crate::Confirmation { jkt: jkt.into() }),
            act: None,
        };
        jsonwebtoken::encode(&header, &claims, &issuer.signing).unwrap()
    }

    async fn call(layer: &VerifyLayer, authorization: Option<String>) -> (StatusCode, String) {
        call_with(layer, authorization, None).await.0
    }

    /// Calls `GET https://rs.example/incidents` through `layer`: the status, the body, and the
    /// `WWW-Authenticate` challenges.
    async fn call_with(
        layer: &VerifyLayer,
        authorization: Option<String>,
        proof: Option<&str>,
    ) -> ((StatusCode, String), Vec<String>) {
        let service = ServiceBuilder::new().layer(layer.clone()).service_fn(
            |request: http::Request<Full<Bytes>>| async move {
                let tenant = request
                    .extensions()
                    .get::<AccessClaims>()
                    .unwrap()
                    .tenant
                    .clone();
                Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from(tenant))))
            },
        );
        let mut request = http::Request::builder()
            .uri("/incidents")
            .header(http::header::HOST, "rs.example")
            .body(Full::new(Bytes::new()))
            .unwrap();
        if let Some(value) = authorization {
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, value.parse().unwrap());
        }
        if let Some(proof) = proof {
            request.headers_mut().insert("dpop", proof.parse().unwrap());
        }
        let response = service.oneshot(request).await.unwrap();
        let status = response.status();
        let challenges = response
            .headers()
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .map(|c| c.to_str().unwrap().to_owned())
            .collect();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (
            (status, String::from_utf8(body.to_vec()).unwrap()),
            challenges,
        )
    }

    /// A client's P-256 key: it signs DPoP proofs, and its thumbprint binds tokens.
    struct ClientKey {
        pair: aws_lc_rs::signature::EcdsaKeyPair,
        jwk: serde_json::Value,
    }

    impl ClientKey {
        fn new() -> Self {
            use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
            use base64::Engine as _;
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
            let point = pair.public_key().as_ref();
            let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
            let jwk = serde_json::json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])});
            Self { pair, jwk }
        }

        fn jkt(&self) -> String {
            crate::jose::PublicJwk::from_json(&self.jwk)
                .unwrap()
                .thumbprint()
                .to_owned()
        }

        fn proof(&self, htu: &str, token: &str, jti: &str) -> String {
            use base64::Engine as _;
            let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
            let header = serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
            let claims = serde_json::json!({
                "jti": jti, "htm": "GET", "htu": htu, "iat": SystemClock.now().unix(),
                "ath": crate::jose::access_token_hash(token),
            });
            let input = format!(
                "{}.{}",
                b64(header.to_string().as_bytes()),
                b64(claims.to_string().as_bytes())
            );
            let signature = self
                .pair
                .sign(&SystemRandom::new(), input.as_bytes())
                .unwrap();
            format!("{input}.{}", b64(signature.as_ref()))
        }
    }

    #[tokio::test]
    async fn a_bound_token_passes_with_a_fresh_proof_of_its_key_only() {
        let issuer = issuer();
        let verifier = Verifier::new(ISSUER, issuer.clone()).dpop_origins(["https://api.example"]);
        let layer = VerifyLayer::new(Arc::new(verifier), Some("incidents:read"));
        let key = ClientKey::new();
        let bound = bound_token(&issuer, "incidents:read", Some(&key.jkt()));
        let authorization = || Some(format!("DPoP {bound}"));
        let url = "https://rs.example/incidents";

        let proof = key.proof(url, &bound, "p1");
        let (ok, _) = call_with(&layer, authorization(), Some(&proof)).await;
        assert_eq!(ok, (StatusCode::OK, "acme".into()));
        // A configured origin is as good as the request's own.
        let elsewhere = key.proof("https://api.example/incidents", &bound, "p2");
        assert_eq!(
            call_with(&layer, authorization(), Some(&elsewhere))
                .await
                .0
                .0,
            StatusCode::OK
        );

        let refusals = [
            (
                "a replay",
                authorization(),
                Some(proof.clone()),
                "invalid_dpop_proof",
            ),
            ("no proof", authorization(), None, "invalid_dpop_proof"),
            (
                "another key",
                authorization(),
                Some(ClientKey::new().proof(url, &bound, "p3")),
                "invalid_dpop_proof",
            ),
            (
                "another URL",
                authorization(),
                Some(key.proof("https://rs.example/other", &bound, "p4")),
                "invalid_dpop_proof",
            ),
            (
                "as a bearer",
                Some(format!("Bearer {bound}")),
                None,
                "invalid_token",
            ),
        ];
        for (case, authorization, proof, error) in refusals {
            let ((status, body), challenges) =
                call_with(&layer, authorization, proof.as_deref()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
            assert!(challenges[0].starts_with("DPoP "), "{case}: {challenges:?}");
            assert!(
                challenges[0].contains(&format!(r#"error="{error}""#)),
                "{case}: {challenges:?}"
            );
            assert!(challenges[0].contains("algs="), "{case}: {challenges:?}");
        }
        // An unbound token is a bearer, not DPoP.
        let plain = token(&issuer, "incidents:read");
        let proof = key.proof(url, &plain, "p5");
        let ((status, _), _) = call_with(&layer, Some(format!("DPoP {plain}")), Some(&proof)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // Without a token, both schemes are offered.
        let (_, challenges) = call_with(&layer, None, None).await;
        assert_eq!(challenges.len(), 2, "{challenges:?}");
        assert!(challenges[1].starts_with("DPoP algs="), "{challenges:?}");
    }

    #[tokio::test]
    async fn the_layer_passes_verified_requests_with_their_claims_and_refuses_the_rest() {
        let issuer = issuer();
        let verifier = Arc::new(Verifier::new(ISSUER, issuer.clone()));
        let layer = VerifyLayer::new(verifier, Some("incidents:read"));

        let good = token(&issuer, "incidents:read");
        assert_eq!(
            call(&layer, Some(format!("Bearer {good}"))).await,
            (StatusCode::OK, "acme".into())
        );
        let (status, body) = call(&layer, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body.contains("urn:knogin:problem:unauthorized"), "{body}");
        let narrow = token(&issuer, "incidents:write");
        let (status, body) = call(&layer, Some(format!("Bearer {narrow}"))).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body.contains("insufficient-scope"), "{body}");
        let (status, _) = call(&layer, Some(format!("Basic {good}"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, body) = call(&layer, Some("Bearer x.y.z".into())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body.contains("invalid-token"), "{body}");
    }
}

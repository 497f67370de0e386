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

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The service that was polled ready handles this request; a fresh clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let verified = layer
                .verifier
                .verify_request(request.headers(), layer.scope)
                .await;
            match verified {
                Ok(claims) => {
                    request.extensions_mut().insert(claims);
                    let response = inner.call(request).await?;
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
            cnf: None,
        };
        jsonwebtoken::encode(&header, &claims, &issuer.signing).unwrap()
    }

    async fn call(layer: &VerifyLayer, authorization: Option<String>) -> (StatusCode, String) {
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
        let mut request = http::Request::new(Full::new(Bytes::new()));
        if let Some(value) = authorization {
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, value.parse().unwrap());
        }
        let response = service.oneshot(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
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

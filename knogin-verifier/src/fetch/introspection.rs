//! Revocations for a resource server: the issuer's introspection endpoint (RFC 7662), asked
//! about each token that verified locally, with a short, bounded cache.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{AccessClaims, RevocationCheck};
use async_trait::async_trait;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

use super::jwks::{DEFAULT_FETCH_TIMEOUT, FetchError, client, secure_url};

/// How long an answer is reused unless told otherwise: a revocation shows within this.
pub const DEFAULT_INTROSPECTION_CACHE: Duration = Duration::from_secs(30);

/// How many answers are kept at most unless told otherwise.
pub const DEFAULT_INTROSPECTION_CAPACITY: usize = 10_000;

/// The largest introspection answer read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A [`RevocationCheck`] that asks the issuer's `POST /v1/oauth/introspect` (RFC 7662) as an
/// app of the tenant whose governance allows `allow_token_introspection` (a resource server).
/// Each answer is kept for [`DEFAULT_INTROSPECTION_CACHE`] per token `jti`, for at most
/// [`DEFAULT_INTROSPECTION_CAPACITY`] tokens, so a revocation shows within that time and the
/// issuer sees at most one request per token per interval.
///
/// ```no_run
/// # fn example(verifier: knogin_verifier::Verifier) -> Result<(), knogin_verifier::FetchError> {
/// use std::sync::Arc;
/// let check = knogin_verifier::IntrospectionCheck::new(
///     "https://auth.example.com/v1/oauth/introspect",
///     "app_0123456789abcdef0123456789abcdef",
///     "ks_…",
/// )?;
/// let verifier = verifier.revocation_check(Arc::new(check));
/// # Ok(()) }
/// ```
pub struct IntrospectionCheck {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    url: Uri,
    authorization: HeaderValue,
    timeout: Duration,
    cache_for: Duration,
    capacity: usize,
    answers: Mutex<HashMap<String, (bool, Instant)>>,
}

impl std::fmt::Debug for IntrospectionCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectionCheck")
            .field("url", &self.url)
            .field("cache_for", &self.cache_for)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl IntrospectionCheck {
    /// Asks `url` (https, or http to a loopback host), authenticating as `client_id` with
    /// `client_secret` (HTTP Basic, RFC 6749 §2.3.1).
    pub fn new(url: &str, client_id: &str, client_secret: &str) -> Result<Self, FetchError> {
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let credentials = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", encode(client_id), encode(client_secret)),
        );
        let mut authorization = HeaderValue::from_str(&format!("Basic {credentials}"))
            .map_err(|_| FetchError::InsecureUrl(url.to_owned()))?;
        authorization.set_sensitive(true);
        Ok(Self {
            client: client(),
            url: secure_url(url)?,
            authorization,
            timeout: DEFAULT_FETCH_TIMEOUT,
            cache_for: DEFAULT_INTROSPECTION_CACHE,
            capacity: DEFAULT_INTROSPECTION_CAPACITY,
            answers: Mutex::new(HashMap::new()),
        })
    }

    /// How long an answer is reused (default [`DEFAULT_INTROSPECTION_CACHE`]; zero asks every
    /// time).
    #[must_use]
    pub fn cache_for(mut self, duration: Duration) -> Self {
        self.cache_for = duration;
        self
    }

    /// How many answers are kept at most (default [`DEFAULT_INTROSPECTION_CAPACITY`]).
    #[must_use]
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// The answer kept for `jti`, if still fresh.
    fn cached(&self, jti: &str) -> Option<bool> {
        let answers = self
            .answers
            .lock()
            .expect("the answer cache is never poisoned");
        answers
            .get(jti)
            .filter(|(_, at)| at.elapsed() < self.cache_for)
            .map(|(active, _)| *active)
    }

    /// Keeps `active` for `jti`, making room first: stale answers go, then the oldest.
    fn keep(&self, jti: &str, active: bool) {
        let mut answers = self
            .answers
            .lock()
            .expect("the answer cache is never poisoned");
        if answers.len() >= self.capacity {
            answers.retain(|_, (_, at)| at.elapsed() < self.cache_for);
        }
        while answers.len() >= self.capacity {
            let Some(oldest) = answers
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            answers.remove(&oldest);
        }
        answers.insert(jti.to_owned(), (active, Instant::now()));
    }

    /// `POST`s `token` to the endpoint: whether it says `active`.
    async fn ask(&self, token: &str) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("token", token)
            .append_pair("token_type_hint", "access_token")
            .finish();
        let request = Request::post(self.url.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body)))?;
        let exchange = async {
            let response = self.client.request(request).await?;
            if response.status() != StatusCode::OK {
                return Err(format!("{} answered {}", self.url, response.status()).into());
            }
            let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await?
                .to_bytes();
            let answer: serde_json::Value = serde_json::from_slice(&body)?;
            answer["active"]
                .as_bool()
                .ok_or_else(|| format!("{} answered no `active` member", self.url).into())
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| format!("{} did not answer within {:?}", self.url, self.timeout))?
    }
}

#[async_trait]
impl RevocationCheck for IntrospectionCheck {
    async fn is_active(
        &self,
        token: &str,
        claims: &AccessClaims,
    ) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
        if let Some(active) = self.cached(&claims.jti) {
            return Ok(active);
        }
        let active = self.ask(token).await?;
        self.keep(&claims.jti, active);
        Ok(active)
    }
}

//! The verifier's JWKS fetch over HTTP(S), on hyper's client with rustls: timeouts, a response
//! size cap, no redirects, and RFC 8414 discovery of the `jwks_uri`.

use std::error::Error as StdError;
use std::time::Duration;

use crate::{FetchedJwks, JwksFetcher};
use async_trait::async_trait;
use bytes::Bytes;
use http::header::{ACCEPT, CACHE_CONTROL};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The default limit on one fetch, connection included.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The default largest JWKS or metadata document read.
pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// Why a JWKS or metadata document could not be fetched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL is not https (or http to a loopback host).
    #[error("{0} is not an https URL (http is allowed to loopback hosts only)")]
    InsecureUrl(String),
    /// The fetch took longer than its timeout.
    #[error("fetching {0} timed out")]
    Timeout(String),
    /// The server answered another status than 200 (redirects are not followed).
    #[error("{url} answered {status}")]
    Status {
        /// The URL fetched.
        url: String,
        /// The status it answered.
        status: StatusCode,
    },
    /// The document is larger than the cap.
    #[error("the document at {0} is larger than the limit")]
    TooLarge(String),
    /// The authorization server metadata is not JSON with an `issuer` equal to the one asked
    /// for (RFC 8414 §3.3) and a `jwks_uri`.
    #[error("the metadata at {0} does not describe this issuer with a jwks_uri")]
    BadMetadata(String),
    /// The connection or the request failed.
    #[error("fetching {url} failed: {source}")]
    Http {
        /// The URL fetched.
        url: String,
        /// Why.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

/// Fetches a JWKS over HTTP(S) for a [`JwksCache`](crate::JwksCache).
///
/// ```no_run
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use knogin_verifier::{CacheSettings, HttpJwksFetcher, JwksCache, Verifier};
///
/// let issuer = "https://auth.example.com";
/// let fetcher = HttpJwksFetcher::discover(issuer).await?;
/// let cache = JwksCache::new(Arc::new(fetcher), Arc::new(knogin_time::SystemClock), CacheSettings::default());
/// let verifier = Verifier::new(issuer, Arc::new(cache));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct HttpJwksFetcher {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    url: Uri,
    timeout: Duration,
    max_bytes: usize,
}

/// `url` parsed, if it is https or http to a loopback host.
pub(crate) fn secure_url(url: &str) -> Result<Uri, FetchError> {
    let insecure = || FetchError::InsecureUrl(url.to_owned());
    let uri: Uri = url.parse().map_err(|_| insecure())?;
    let host = uri.host().ok_or_else(insecure)?;
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if loopback => Ok(uri),
        _ => Err(insecure()),
    }
}

/// A client for https (web PKI roots, aws-lc-rs) and loopback http, sending bodies of type `B`.
pub(crate) fn client<B>() -> Client<HttpsConnector<HttpConnector>, B>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
{
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    Client::builder(TokioExecutor::new()).build(super::tls::https_connector(http))
}

impl HttpJwksFetcher {
    /// Fetches the JWKS at `url` (https, or http to a loopback host).
    pub fn new(url: &str) -> Result<Self, FetchError> {
        Ok(Self {
            client: client(),
            url: secure_url(url)?,
            timeout: DEFAULT_FETCH_TIMEOUT,
            max_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
        })
    }

    /// Reads `issuer`'s RFC 8414 metadata (`{issuer}/.well-known/oauth-authorization-server`),
    /// checks that it names `issuer`, and fetches its `jwks_uri`.
    pub async fn discover(issuer: &str) -> Result<Self, FetchError> {
        let metadata_url = format!(
            "{}/.well-known/oauth-authorization-server",
            issuer.trim_end_matches('/')
        );
        let mut fetcher = Self::new(&metadata_url)?;
        let (body, _) = fetcher.get().await?;
        let metadata: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|_| FetchError::BadMetadata(metadata_url.clone()))?;
        if metadata["issuer"] != issuer {
            return Err(FetchError::BadMetadata(metadata_url));
        }
        let jwks_uri = metadata["jwks_uri"]
            .as_str()
            .ok_or(FetchError::BadMetadata(metadata_url))?;
        fetcher.url = secure_url(jwks_uri)?;
        Ok(fetcher)
    }

    /// The limit on one fetch, connection included (default [`DEFAULT_FETCH_TIMEOUT`]).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest document read (default [`DEFAULT_MAX_DOCUMENT_BYTES`]).
    #[must_use]
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// The JWKS URL.
    pub fn url(&self) -> &Uri {
        &self.url
    }

    /// `GET` the URL: its body (within the cap) and `Cache-Control`.
    async fn get(&self) -> Result<(Bytes, Option<String>), FetchError> {
        let url = self.url.to_string();
        let request = Request::get(self.url.clone())
            .header(ACCEPT, "application/jwk-set+json, application/json")
            .body(Empty::new())
            .map_err(|e| FetchError::Http {
                url: url.clone(),
                source: Box::new(e),
            })?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| FetchError::Http {
                    url: url.clone(),
                    source: Box::new(e),
                })?;
            if response.status() != StatusCode::OK {
                return Err(FetchError::Status {
                    url: url.clone(),
                    status: response.status(),
                });
            }
            let cache_control = response
                .headers()
                .get(CACHE_CONTROL)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = Limited::new(response.into_body(), self.max_bytes)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        FetchError::TooLarge(url.clone())
                    } else {
                        FetchError::Http {
                            url: url.clone(),
                            source: e,
                        }
                    }
                })?
                .to_bytes();
            Ok((body, cache_control))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| FetchError::Timeout(url.clone()))?
    }
}

#[async_trait]
impl JwksFetcher for HttpJwksFetcher {
    async fn fetch(&self) -> Result<FetchedJwks, Box<dyn StdError + Send + Sync>> {
        let (body, cache_control) = self.get().await?;
        tracing::debug!(url = %self.url, bytes = body.len(), "fetched the JWKS");
        Ok(FetchedJwks {
            body,
            cache_control,
        })
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// A one-shot HTTP server on loopback answering every connection with `response` (after
    /// `delay`); its URL.
    async fn server(response: Vec<u8>, delay: Duration) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let response = response.clone();
                tokio::spawn(async move {
                    let mut request = [0u8; 1024];
                    let _ = stream.read(&mut request).await;
                    tokio::time::sleep(delay).await;
                    let _ = stream.write_all(&response).await;
                });
            }
        });
        format!("http://{addr}/jwks.json")
    }

    fn answer(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
        let mut response = format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\n{headers}\r\n",
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(body);
        response
    }

    #[tokio::test]
    async fn fetches_with_cache_control_and_refuses_redirects_big_bodies_and_slowness() {
        let ok = server(
            answer(
                "200 OK",
                "cache-control: max-age=120\r\n",
                br#"{"keys":[]}"#,
            ),
            Duration::ZERO,
        )
        .await;
        let fetched = HttpJwksFetcher::new(&ok).unwrap().fetch().await.unwrap();
        assert_eq!(&fetched.body[..], br#"{"keys":[]}"#);
        assert_eq!(fetched.cache_control.as_deref(), Some("max-age=120"));

        let redirect = server(
            answer("302 Found", "location: http://127.0.0.1:1/\r\n", b""),
            Duration::ZERO,
        )
        .await;
        let refused = HttpJwksFetcher::new(&redirect).unwrap().get().await;
        assert!(
            matches!(refused, Err(FetchError::Status { .. })),
            "{refused:?}"
        );

        let big = server(answer("200 OK", "", &vec![b' '; 2048]), Duration::ZERO).await;
        let refused = HttpJwksFetcher::new(&big)
            .unwrap()
            .max_bytes(1024)
            .get()
            .await;
        assert!(
            matches!(refused, Err(FetchError::TooLarge(_))),
            "{refused:?}"
        );

        let slow = server(answer("200 OK", "", b"{}"), Duration::from_secs(5)).await;
        let refused = HttpJwksFetcher::new(&slow)
            .unwrap()
            .timeout(Duration::from_millis(200))
            .get()
            .await;
        assert!(
            matches!(refused, Err(FetchError::Timeout(_))),
            "{refused:?}"
        );
    }

    #[test]
    fn only_https_or_loopback_http() {
        for ok in [
            "https://auth.example/.well-known/jwks.json",
            "http://127.0.0.1:8080/.well-known/jwks.json",
            "http://localhost/jwks",
            "http://[::1]:8080/jwks",
        ] {
            assert!(secure_url(ok).is_ok(), "{ok}");
        }
        for bad in ["http://auth.example/jwks", "ftp://127.0.0.1/x", "jwks.json"] {
            assert!(secure_url(bad).is_err(), "{bad}");
        }
    }
}

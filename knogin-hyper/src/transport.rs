//! The webhook transport over HTTP(S): hyper's client with rustls, connecting only to addresses
//! that pass the target check after DNS resolution (a DNS answer cannot point a delivery at a
//! private network), and never following a redirect. The delivery worker itself is the core's
//! ([`knogin_core::webhooks::DeliveryWorker`]).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt as _, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use knogin_core::Knogin;
use knogin_core::webhooks::{Transport, TransportError, is_public};

/// The delivery worker over HTTP: the core's worker with [`HttpTransport`].
pub type DeliveryWorker = knogin_core::webhooks::DeliveryWorker<HttpTransport>;

/// A delivery worker for `knogin` over [`HttpTransport`], checking targets as its settings say.
///
/// ```no_run
/// # async fn example(knogin: knogin_core::Knogin) {
/// let worker = knogin_hyper::delivery_worker(knogin);
/// tokio::spawn(worker.run(std::future::pending()));
/// # }
/// ```
pub fn delivery_worker(knogin: Knogin) -> DeliveryWorker {
    let transport = HttpTransport::new(knogin.allows_private_webhook_targets());
    knogin.webhooks().worker(transport)
}

/// Resolves names with the system resolver, keeping only public addresses unless private
/// targets are allowed.
#[derive(Debug, Clone, Copy)]
struct GuardedResolver {
    allow_private: bool,
}

impl tower::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(std::io::Error::other(format!(
                    "{name} resolves to no public address"
                )));
            }
            Ok(found.into_iter())
        })
    }
}

/// Sends webhook requests over HTTP(S) (see the module docs): one pooled client, rustls on
/// aws-lc-rs with the web PKI roots (the TLS configuration the verifier's fetchers share), a
/// 10 s connect timeout.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: Client<HttpsConnector<HttpConnector<GuardedResolver>>, Full<Bytes>>,
}

impl HttpTransport {
    /// A transport that connects to public addresses only, or to any when `allow_private`
    /// (for development against local receivers).
    pub fn new(allow_private: bool) -> Self {
        let mut http = HttpConnector::new_with_resolver(GuardedResolver { allow_private });
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        http.set_nodelay(true);
        Self {
            client: Client::builder(TokioExecutor::new())
                .build(knogin_verifier::https_connector(http)),
        }
    }
}

#[async_trait]
impl Transport for HttpTransport {
    async fn send(
        &self,
        request: Request<Bytes>,
        max_body: usize,
    ) -> Result<Response<Bytes>, TransportError> {
        let response = self.client.request(request.map(Full::new)).await?;
        let (parts, mut body) = response.into_parts();
        let mut kept = Vec::new();
        while kept.len() < max_body {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        kept.extend_from_slice(data);
                    }
                }
                _ => break,
            }
        }
        kept.truncate(max_body);
        Ok(Response::from_parts(parts, Bytes::from(kept)))
    }
}

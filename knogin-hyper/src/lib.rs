//! Serve the Knogin integration contract from a hyper 1 server, falling through to your own
//! service for every other path.
//!
//! ```no_run
//! # async fn example(knogin: knogin_core::Knogin) {
//! use hyper_util::rt::TokioIo;
//! use knogin_hyper::{KnoginService, NotFound};
//!
//! let service = KnoginService::new(knogin, NotFound);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await.unwrap();
//! loop {
//!     let (stream, peer) = listener.accept().await.unwrap();
//!     // The peer address feeds the built-in login's per-address limit.
//!     let service = service.clone().with_client_addr(peer.ip());
//!     tokio::spawn(async move {
//!         let _ = hyper::server::conn::http1::Builder::new()
//!             .serve_connection(TokioIo::new(stream), service)
//!             .await;
//!     });
//! }
//! # }
//! ```
#![forbid(unsafe_code)]

mod transport;

pub use self::transport::{DeliveryWorker, HttpTransport, delivery_worker};

use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::net::IpAddr;
use std::pin::Pin;

use http::{Request, Response};
use http_body::Body;
use http_body_util::Either;
use hyper::service::Service;
use knogin_core::Knogin;
use knogin_core::http::{BoxError, ClientAddr, ResponseBody};

/// Answers the contract's paths with `knogin` and passes every other request to `fallback`.
#[derive(Debug, Clone)]
pub struct KnoginService<F> {
    knogin: Knogin,
    fallback: F,
    client_addr: Option<IpAddr>,
}

impl<F> KnoginService<F> {
    /// A service in front of `fallback`, your own hyper service. Use [`NotFound`] when there is
    /// none.
    pub fn new(knogin: Knogin, fallback: F) -> Self {
        Self {
            knogin,
            fallback,
            client_addr: None,
        }
    }

    /// The same service for one connection from `addr`: each request reaches the core with it
    /// as [`ClientAddr`] (the built-in login limits failed sign-ins per address).
    #[must_use]
    pub fn with_client_addr(mut self, addr: IpAddr) -> Self {
        self.client_addr = Some(addr);
        self
    }
}

impl<B, F, FB> Service<Request<B>> for KnoginService<F>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    F: Service<Request<B>, Response = Response<FB>>,
    F::Future: Send + 'static,
{
    type Response = Response<Either<ResponseBody, FB>>;
    type Error = F::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, F::Error>> + Send>>;

    fn call(&self, mut request: Request<B>) -> Self::Future {
        if self.knogin.serves_path(request.uri().path()) {
            if let Some(addr) = self.client_addr {
                request.extensions_mut().insert(ClientAddr(addr));
            }
            let knogin = self.knogin.clone();
            Box::pin(async move { Ok(knogin.handle(request).await.map(Either::Left)) })
        } else {
            let fallback = self.fallback.call(request);
            Box::pin(async move { Ok(fallback.await?.map(Either::Right)) })
        }
    }
}

/// A fallback that answers the core's fixed 404 to everything: unknown and withheld paths then
/// answer byte for byte alike.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotFound;

impl<B> Service<Request<B>> for NotFound {
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn call(&self, _request: Request<B>) -> Self::Future {
        ready(Ok(knogin_core::http::not_found()))
    }
}

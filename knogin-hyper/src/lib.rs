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
//!     let (stream, _) = listener.accept().await.unwrap();
//!     let service = service.clone();
//!     tokio::spawn(async move {
//!         let _ = hyper::server::conn::http1::Builder::new()
//!             .serve_connection(TokioIo::new(stream), service)
//!             .await;
//!     });
//! }
//! # }
//! ```
#![forbid(unsafe_code)]

use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::pin::Pin;

use http::{Request, Response};
use http_body::Body;
use http_body_util::Either;
use hyper::service::Service;
use knogin_core::Knogin;
use knogin_core::http::{BoxError, ResponseBody, serves_path};

/// Answers the contract's paths with `knogin` and passes every other request to `fallback`.
#[derive(Debug, Clone)]
pub struct KnoginService<F> {
    knogin: Knogin,
    fallback: F,
}

impl<F> KnoginService<F> {
    /// A service in front of `fallback`, your own hyper service. Use [`NotFound`] when there is
    /// none.
    pub fn new(knogin: Knogin, fallback: F) -> Self {
        Self { knogin, fallback }
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

    fn call(&self, request: Request<B>) -> Self::Future {
        if serves_path(request.uri().path()) {
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

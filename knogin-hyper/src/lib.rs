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
use knogin_core::http::{BoxError, ClientAddr, ResponseBody, Surfaces};

/// Answers the contract's paths with `knogin` and passes every other request to `fallback`.
#[derive(Debug, Clone)]
pub struct KnoginService<F> {
    knogin: Knogin,
    fallback: F,
    client_addr: Option<IpAddr>,
    surfaces: Surfaces,
}

impl<F> KnoginService<F> {
    /// A service in front of `fallback`, your own hyper service. Use [`NotFound`] when there is
    /// none.
    pub fn new(knogin: Knogin, fallback: F) -> Self {
        Self {
            knogin,
            fallback,
            client_addr: None,
            surfaces: Surfaces::ALL,
        }
    }

    /// Serves only the contract's routes of `surfaces`; the others' paths go to the fallback
    /// (say your service has its own `/api/docs`: `Surfaces::ALL.without(Surface::Docs)`).
    #[must_use]
    pub fn surfaces(mut self, surfaces: Surfaces) -> Self {
        self.surfaces = surfaces;
        self
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
        if self.knogin.serves_path(request.uri().path(), self.surfaces) {
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use http::StatusCode;
    use http_body_util::{BodyExt as _, Empty};
    use knogin_core::clock::{ManualClock, Timestamp};
    use knogin_core::http::Surface;

    use super::*;

    /// The embedder's own service: answers 200 "ours" to everything.
    #[derive(Clone, Copy)]
    struct Ours;

    impl<B> Service<Request<B>> for Ours {
        type Response = Response<ResponseBody>;
        type Error = Infallible;
        type Future = Ready<Result<Self::Response, Infallible>>;

        fn call(&self, _request: Request<B>) -> Self::Future {
            ready(Ok(Response::new(ResponseBody::from("ours"))))
        }
    }

    async fn answer(service: &KnoginService<Ours>, path: &str) -> (StatusCode, String) {
        let request = Request::get(path)
            .body(Empty::<bytes::Bytes>::new())
            .unwrap();
        let response = service.call(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn the_contracts_paths_go_to_the_core_and_a_surface_left_out_to_the_fallback() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
        let knogin = knogin_core::testing::test_knogin_with(clock, Duration::ZERO).await;
        let all = KnoginService::new(knogin.clone(), Ours);
        assert_eq!(answer(&all, "/api/docs").await.0, StatusCode::OK);
        assert_ne!(answer(&all, "/api/docs").await.1, "ours");
        assert_eq!(answer(&all, "/elsewhere").await.1, "ours");

        let ours = KnoginService::new(knogin, Ours).surfaces(Surfaces::ALL.without(Surface::Docs));
        assert_eq!(answer(&ours, "/api/docs").await.1, "ours");
        assert_eq!(answer(&ours, "/llms.txt").await.1, "ours");
        assert_eq!(
            answer(&ours, "/.well-known/jwks.json").await.0,
            StatusCode::OK
        );
        assert_ne!(answer(&ours, "/.well-known/jwks.json").await.1, "ours");
    }
}

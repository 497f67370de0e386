//! The request timeout: an answer not ready within the time becomes `408 Request Timeout`.
//!
//! The timer is armed only when the request first waits. Most answers are ready on their first
//! poll (the JWKS document, a token for a client held in memory), and registering a timer in
//! Tokio's wheel and taking it out again was about 600 of the 20,000 instructions of such a
//! request (callgrind, `docs/benchmarks.md`). The deadline still counts from the request's
//! arrival.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response, StatusCode};
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

/// Answers `408 Request Timeout` (with an empty body) for a request not answered within
/// `after` of its arrival.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeoutLayer {
    after: Duration,
}

impl TimeoutLayer {
    /// A timeout of `after`.
    pub(crate) fn new(after: Duration) -> Self {
        Self { after }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            after: self.after,
        }
    }
}

/// The service [`TimeoutLayer`] makes.
#[derive(Debug, Clone)]
pub(crate) struct Timeout<S> {
    inner: S,
    after: Duration,
}

impl<S, B, RB> Service<Request<B>> for Timeout<S>
where
    S: Service<Request<B>, Response = Response<RB>, Error = Infallible>,
    RB: Default,
{
    type Response = Response<RB>;
    type Error = Infallible;
    type Future = Timed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        Timed {
            deadline: Instant::now() + self.after,
            timer: None,
            answer: self.inner.call(request),
        }
    }
}

pin_project_lite::pin_project! {
    /// An answer with a deadline.
    pub(crate) struct Timed<F> {
        deadline: Instant,
        #[pin]
        timer: Option<Sleep>,
        #[pin]
        answer: F,
    }
}

impl<F, RB> Future for Timed<F>
where
    F: Future<Output = Result<Response<RB>, Infallible>>,
    RB: Default,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        if let Poll::Ready(answer) = this.answer.poll(cx) {
            return Poll::Ready(answer);
        }
        if this.timer.is_none() {
            this.timer
                .set(Some(tokio::time::sleep_until(*this.deadline)));
        }
        match this.timer.as_pin_mut().map(|timer| timer.poll(cx)) {
            Some(Poll::Ready(())) => {
                let mut timed_out = Response::new(RB::default());
                *timed_out.status_mut() = StatusCode::REQUEST_TIMEOUT;
                Poll::Ready(Ok(timed_out))
            }
            _ => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::{pending, ready};

    use tower::{ServiceExt as _, service_fn};

    use super::*;

    fn ok() -> Response<String> {
        Response::new("answer".to_owned())
    }

    async fn answer<F>(after: Duration, service: impl Fn() -> F) -> Response<String>
    where
        F: Future<Output = Result<Response<String>, Infallible>>,
    {
        TimeoutLayer::new(after)
            .layer(service_fn(|_: Request<()>| service()))
            .oneshot(Request::new(()))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_answer_ready_at_once_passes() {
        let response = answer(Duration::from_secs(30), || ready(Ok(ok()))).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.body(), "answer");
    }

    #[tokio::test]
    async fn an_answer_that_waits_but_comes_in_time_passes() {
        let response = answer(Duration::from_secs(30), || async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            Ok(ok())
        })
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.body(), "answer");
    }

    #[tokio::test]
    async fn an_answer_that_never_comes_is_a_408_with_an_empty_body() {
        let response = answer(Duration::from_millis(10), pending).await;
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(response.body(), "");
    }

    #[tokio::test]
    async fn the_deadline_counts_from_the_arrival_not_the_first_wait() {
        let mut service =
            TimeoutLayer::new(Duration::from_millis(20)).layer(service_fn(|_: Request<()>| {
                pending::<Result<Response<String>, Infallible>>()
            }));
        let timed = service.call(Request::new(()));
        tokio::time::sleep(Duration::from_millis(30)).await;
        // The deadline passed before the first poll: the first wait ends at once.
        let response = tokio::time::timeout(Duration::from_secs(5), timed)
            .await
            .expect("the deadline had passed")
            .unwrap();
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    }
}

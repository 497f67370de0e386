//! How long a connection may wait for a request head: a client that holds a connection open
//! without completing a request's head (a slowloris sending a byte now and then, or a keep-alive
//! connection left idle) is disconnected once it has waited the whole window.
//!
//! hyper's `header_read_timeout` does the same, but it boxes a new Tokio timer for every request
//! on a keep-alive connection, registers it in Tokio's wheel while the next head is awaited and
//! takes it out again when the head arrives: 1,400 of the 19,000 instructions of a JWKS request
//! (callgrind, `docs/benchmarks.md`). Here each connection has one timer, which looks every fifth
//! of the window whether a request came or went since its last look, and a request costs two
//! counter increments. So a connection is closed after waiting for between the window and the
//! window plus a fifth of it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::time::Sleep;
use tower::Service;

/// Looks a connection takes per window.
const LOOKS: u32 = 5;

/// The requests one connection has started and finished.
#[derive(Debug, Default)]
struct Activity {
    started: AtomicU64,
    finished: AtomicU64,
}

impl Activity {
    fn now(&self) -> (u64, u64) {
        (
            self.started.load(Ordering::Relaxed),
            self.finished.load(Ordering::Relaxed),
        )
    }
}

/// One connection's deadline for its next request head: [`count`](Self::count) the service
/// the connection calls, then [`guard`](Self::guard) the connection.
#[derive(Debug)]
pub(crate) struct HeadDeadline {
    activity: Arc<Activity>,
    window: Duration,
}

impl HeadDeadline {
    /// A deadline of `window` for each head, counted from the connection's start and from the
    /// end of each answer.
    pub(crate) fn new(window: Duration) -> Self {
        Self {
            activity: Arc::default(),
            window,
        }
    }

    /// `service`, counting the requests it starts and finishes for this deadline.
    pub(crate) fn count<S>(&self, service: S) -> Counted<S> {
        Counted {
            inner: service,
            activity: Arc::clone(&self.activity),
        }
    }

    /// `connection`, ended when it has waited the whole window for a request head. Call it in
    /// a Tokio runtime: the look's timer starts now.
    pub(crate) fn guard<C: Future>(self, connection: C) -> Guarded<C> {
        let every = self.window / LOOKS;
        Guarded {
            connection,
            look: tokio::time::sleep(every),
            every,
            seen: self.activity.now(),
            activity: self.activity,
            quiet: 0,
            registered: None,
        }
    }
}

/// A connection that waited its whole window for a request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeadTimedOut;

pin_project_lite::pin_project! {
    /// A connection under its [`HeadDeadline`]: its own output, or [`HeadTimedOut`] when it was
    /// dropped for waiting too long.
    pub(crate) struct Guarded<C> {
        #[pin]
        connection: C,
        #[pin]
        look: Sleep,
        every: Duration,
        activity: Arc<Activity>,
        seen: (u64, u64),
        // Consecutive looks that found the connection waiting for a head since the look before.
        quiet: u32,
        // The waker the look's timer holds. The timer is polled again only when it fired or the
        // task's waker changed, not on every poll of the connection (each poll of a Tokio timer
        // was 120 instructions a request).
        registered: Option<Waker>,
    }
}

impl<C: Future> Future for Guarded<C> {
    type Output = Result<C::Output, HeadTimedOut>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(output) = this.connection.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let current = this
            .registered
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()));
        if current && !this.look.is_elapsed() {
            return Poll::Pending;
        }
        while this.look.as_mut().poll(cx).is_ready() {
            let now = this.activity.now();
            let waiting = now.0 == now.1;
            *this.quiet = if waiting && now == *this.seen {
                *this.quiet + 1
            } else {
                0
            };
            *this.seen = now;
            if *this.quiet >= LOOKS {
                return Poll::Ready(Err(HeadTimedOut));
            }
            let next = this.look.deadline() + *this.every;
            this.look.as_mut().reset(next);
        }
        if !current {
            *this.registered = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// A connection's service, counting for its [`HeadDeadline`].
#[derive(Debug, Clone)]
pub(crate) struct Counted<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: Service<R>, R> Service<R> for Counted<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = Counting<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        self.activity.started.fetch_add(1, Ordering::Relaxed);
        Counting {
            answer: self.inner.call(request),
            finish: Some(Finish(Arc::clone(&self.activity))),
        }
    }
}

/// Counts a request finished when dropped: when its answer is ready, or when the request is
/// given up unanswered.
struct Finish(Arc<Activity>);

impl Drop for Finish {
    fn drop(&mut self) {
        self.0.finished.fetch_add(1, Ordering::Relaxed);
    }
}

pin_project_lite::pin_project! {
    /// An answer being counted.
    pub(crate) struct Counting<F> {
        #[pin]
        answer: F,
        finish: Option<Finish>,
    }
}

impl<F: Future> Future for Counting<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let answer = std::task::ready!(this.answer.poll(cx));
        this.finish.take();
        Poll::Ready(answer)
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http::{Request, Response};
    use hyper::body::Incoming;
    use hyper::server::conn::http1;
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream};
    use tokio::time::Instant;
    use tower::service_fn;

    use super::*;

    // Real time: the tests' runtime cannot pause its clock without tokio's `test-util`, which
    // would make every clock read of the release server take a lock.
    const WINDOW: Duration = Duration::from_secs(1);
    const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nhost: x\r\n\r\n";

    /// A connection served over an in-memory stream, answering each request after `answer_in`;
    /// the client's end.
    fn connect(answer_in: Duration) -> DuplexStream {
        let (client, server) = tokio::io::duplex(4096);
        let service = service_fn(move |_: Request<Incoming>| async move {
            tokio::time::sleep(answer_in).await;
            Ok::<_, Infallible>(Response::new("answer".to_owned()))
        });
        let deadline = HeadDeadline::new(WINDOW);
        let connection = http1::Builder::new().serve_connection(
            TokioIo::new(server),
            TowerToHyperService::new(deadline.count(service)),
        );
        tokio::spawn(deadline.guard(connection));
        client
    }

    /// Reads one answer, or `None` when the server closed the connection.
    async fn read_answer(client: &mut DuplexStream) -> Option<String> {
        let mut buf = vec![0; 1024];
        let n = client.read(&mut buf).await.unwrap_or(0);
        (n > 0).then(|| String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Waits until the server closes the connection, and checks that it was at least
    /// `at_least` after `since` (and, with room for a busy machine, not long after).
    async fn closed(client: &mut DuplexStream, since: Instant, at_least: Duration) {
        let mut buf = [0; 64];
        assert_eq!(
            client.read(&mut buf).await.unwrap_or(0),
            0,
            "the server answered"
        );
        let waited = since.elapsed();
        assert!(
            waited >= at_least && waited < at_least + WINDOW * 3,
            "closed after {waited:?}"
        );
    }

    #[tokio::test]
    async fn a_connection_that_sends_nothing_is_closed_after_the_window() {
        let start = Instant::now();
        let mut client = connect(Duration::ZERO);
        closed(&mut client, start, WINDOW).await;
    }

    #[tokio::test]
    async fn a_head_sent_a_byte_at_a_time_is_closed_after_the_window() {
        let start = Instant::now();
        let mut client = connect(Duration::ZERO);
        // A head whose one header never ends, a byte every tenth of the window.
        let mut head = b"GET / HTTP/1.1\r\nx-slow: ".to_vec();
        let mut buf = [0; 64];
        loop {
            if client.write_all(&head).await.is_err() {
                break;
            }
            head = b"a".to_vec();
            tokio::select! {
                read = client.read(&mut buf) => {
                    assert_eq!(read.unwrap_or(0), 0, "the server answered a partial head");
                    break;
                }
                () = tokio::time::sleep(WINDOW / 10) => {}
            }
        }
        let waited = start.elapsed();
        assert!(
            waited >= WINDOW && waited < WINDOW * 4,
            "closed after {waited:?}"
        );
    }

    #[tokio::test]
    async fn requests_keep_a_connection_open_and_each_answer_restarts_the_window() {
        let mut client = connect(Duration::ZERO);
        let mut sent = Instant::now();
        for _ in 0..8 {
            tokio::time::sleep(WINDOW / 5).await;
            sent = Instant::now();
            client.write_all(REQUEST).await.unwrap();
            let answer = read_answer(&mut client)
                .await
                .expect("the connection was open");
            assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        }
        closed(&mut client, sent, WINDOW).await;
    }

    #[tokio::test]
    async fn a_slow_answer_is_not_a_slow_head() {
        let mut client = connect(WINDOW * 2);
        let sent = Instant::now();
        client.write_all(REQUEST).await.unwrap();
        let answer = read_answer(&mut client)
            .await
            .expect("the request was answered");
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(sent.elapsed() >= WINDOW * 2);
        closed(&mut client, sent, WINDOW * 3).await;
    }
}

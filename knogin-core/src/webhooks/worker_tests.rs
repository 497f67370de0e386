//! The delivery worker's policies with a `ManualClock` and a scripted transport: no sockets and
//! no real waiting, except where a spawned worker must be given a turn.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, Response};

use super::{DeliveryWorker, NewWebhook, Transport, TransportError, WebhookCaller, WebhookSecret};
use crate::clock::{Clock, ManualClock, Timestamp};
use crate::keys::MasterKey;
use crate::shared::Core;
use crate::store::memory::MemoryStore;
use crate::store::{Delivery, DeliveryStatus, TenantStore as _};
use crate::{AppId, TenantId, WebhookId};

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

/// What the fake receiver does with the next request.
enum Answer {
    Status(u16, Option<&'static str>),
    Refused,
    Hang,
    /// Answers 200 once the gate is opened.
    Gate(Arc<tokio::sync::Notify>),
}

/// Answers requests as scripted (200 once the script runs out), keeping each request.
#[derive(Default)]
struct Scripted {
    script: Mutex<VecDeque<Answer>>,
    seen: Mutex<Vec<Request<Bytes>>>,
}

impl Scripted {
    fn then(self: &Arc<Self>, answer: Answer) -> &Arc<Self> {
        self.script.lock().unwrap().push_back(answer);
        self
    }

    fn sent(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

#[async_trait]
impl Transport for Arc<Scripted> {
    async fn send(
        &self,
        request: Request<Bytes>,
        max_body: usize,
    ) -> Result<Response<Bytes>, TransportError> {
        self.seen.lock().unwrap().push(request);
        let next = self.script.lock().unwrap().pop_front();
        let (status, retry_after) = match next {
            None => (200, None),
            Some(Answer::Status(status, retry_after)) => (status, retry_after),
            Some(Answer::Refused) => return Err("connection refused".into()),
            Some(Answer::Hang) => std::future::pending().await,
            Some(Answer::Gate(gate)) => {
                gate.notified().await;
                (200, None)
            }
        };
        let mut response = Response::builder().status(status);
        if let Some(wait) = retry_after {
            response = response.header(http::header::RETRY_AFTER, wait);
        }
        let body = Bytes::from(vec![b'x'; 2 * max_body]);
        Ok(response.body(body)?)
    }
}

struct Setup {
    clock: Arc<ManualClock>,
    knogin: Core,
    caller: WebhookCaller,
    webhook: WebhookId,
    secret: WebhookSecret,
    transport: Arc<Scripted>,
    worker: DeliveryWorker<Arc<Scripted>>,
}

async fn setup() -> Setup {
    let clock = Arc::new(ManualClock::new(T0));
    let store = Arc::new(MemoryStore::new());
    let tenant = TenantId::parse("acme").unwrap();
    store.ensure_tenant(&tenant, T0).await.unwrap();
    let knogin = crate::testing::builder(store, MasterKey::generate(), clock.clone())
        .webhooks(super::WebhookSettings::default().attempt_timeout(Duration::from_secs(15)))
        .build()
        .await
        .unwrap()
        .core()
        .clone();
    let caller = WebhookCaller::app(tenant, AppId::generate());
    let (webhook, secret) = knogin
        .webhooks()
        .create(
            &caller,
            NewWebhook {
                url: "https://integrator.example/hooks".into(),
                events: vec!["incident.updated".into()],
                secret: None,
                description: None,
                rate_limit: None,
            },
        )
        .await
        .unwrap();
    let transport = Arc::new(Scripted::default());
    let worker = DeliveryWorker::new(knogin.clone(), transport.clone());
    Setup {
        clock,
        knogin,
        caller,
        webhook: webhook.id,
        secret: secret.unwrap(),
        transport,
        worker,
    }
}

impl Setup {
    async fn publish(&self) {
        self.knogin
            .webhooks()
            .publish(
                self.caller.tenant(),
                "incident.updated",
                &serde_json::json!({"id": "inc_1"}),
            )
            .await
            .unwrap();
    }

    async fn delivery(&self) -> Delivery {
        let page = self
            .knogin
            .webhooks()
            .deliveries(&self.caller, &self.webhook, None, None, 10)
            .await
            .unwrap();
        page.deliveries.into_iter().next().unwrap()
    }

    async fn disabled(&self) -> bool {
        let webhook = self
            .knogin
            .webhooks()
            .get(&self.caller, &self.webhook)
            .await;
        webhook.unwrap().disabled
    }
}

/// Gives spawned tasks turns until `done` holds (or fails after many).
async fn until(done: impl Fn() -> bool) {
    for _ in 0..2_000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("the worker did not get there");
}

#[tokio::test]
async fn a_delivery_goes_out_as_a_signed_standard_webhooks_post_and_succeeds() {
    let s = setup().await;
    s.publish().await;
    assert_eq!(s.worker.run_once().await.unwrap(), 1);
    let delivery = s.delivery().await;
    assert_eq!(delivery.status, DeliveryStatus::Succeeded);
    assert_eq!(
        delivery.response_body.map(|b| b.len()),
        Some(super::KEPT_ANSWER_BYTES),
        "the kept answer is capped"
    );

    let seen = s.transport.seen.lock().unwrap();
    let request = &seen[0];
    assert_eq!(request.method(), http::Method::POST);
    assert_eq!(request.uri(), "https://integrator.example/hooks");
    assert_eq!(request.headers()["content-type"], "application/json");
    assert_eq!(request.headers()["webhook-id"], delivery.id.as_str());
    assert_eq!(request.headers()["webhook-timestamp"], "1800000000");
    let receiver = knogin_verifier::webhooks::Receiver::new(&s.secret.expose())
        .unwrap()
        .clock(s.clock.clone());
    receiver.verify(request.headers(), request.body()).unwrap();
    let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(body["type"], "incident.updated");
    assert_eq!(body["data"], serde_json::json!({"id": "inc_1"}));
}

#[tokio::test]
async fn failures_follow_the_retry_schedule_and_retry_after_overrides_it() {
    let s = setup().await;
    s.transport
        .then(Answer::Status(500, None))
        .then(Answer::Status(503, Some("120")))
        .then(Answer::Refused);
    s.publish().await;
    s.worker.run_once().await.unwrap();
    let first = s.delivery().await;
    assert_eq!(first.status, DeliveryStatus::Retrying);
    let due = first.next_attempt_at.unwrap().unix() - T0.unix();
    assert!((4..=6).contains(&due), "5 s ± 20%: {due}");

    // Not due yet: nothing is claimed.
    assert_eq!(s.worker.run_once().await.unwrap(), 0);
    s.clock.advance(Duration::from_secs(7));
    assert_eq!(s.worker.run_once().await.unwrap(), 1);
    let second = s.delivery().await;
    assert_eq!(second.response_status, Some(503));
    assert_eq!(
        second.next_attempt_at,
        Some(s.clock.now().plus(Duration::from_secs(120)))
    );

    s.clock.advance(Duration::from_secs(120));
    assert_eq!(s.worker.run_once().await.unwrap(), 1);
    let third = s.delivery().await;
    assert_eq!(
        (third.status, third.attempts, third.response_status),
        (DeliveryStatus::Retrying, 3, None)
    );
    assert_eq!(third.response_body.as_deref(), Some("connection refused"));
}

#[tokio::test]
async fn a_gone_endpoint_fails_its_delivery_and_disables_its_subscription() {
    let s = setup().await;
    s.transport.then(Answer::Status(410, None));
    s.publish().await;
    s.worker.run_once().await.unwrap();
    assert_eq!(s.delivery().await.status, DeliveryStatus::Failed);
    assert!(s.disabled().await);
}

#[tokio::test]
async fn an_attempt_outliving_the_timeout_is_recorded_as_no_answer() {
    let s = setup().await;
    s.transport.then(Answer::Hang);
    s.publish().await;
    let worker = s.worker.clone();
    let attempt = tokio::spawn(async move { worker.run_once().await });
    until(|| s.transport.sent() == 1).await;
    assert!(!attempt.is_finished());
    s.clock.advance(Duration::from_secs(15));
    assert_eq!(attempt.await.unwrap().unwrap(), 1);
    let delivery = s.delivery().await;
    assert_eq!(delivery.status, DeliveryStatus::Retrying);
    assert_eq!(delivery.response_body.as_deref(), Some("timed out"));
}

#[tokio::test]
async fn a_claim_whose_worker_died_is_due_again_when_its_lease_ends() {
    let s = setup().await;
    s.publish().await;
    // A worker claims and dies without recording: the lease is four times the timeout.
    assert_eq!(s.knogin.claim_deliveries(10).await.unwrap().len(), 1);
    assert_eq!(s.worker.run_once().await.unwrap(), 0);
    s.clock.advance(Duration::from_secs(59));
    assert_eq!(s.worker.run_once().await.unwrap(), 0);
    s.clock.advance(Duration::from_secs(1));
    assert_eq!(s.worker.run_once().await.unwrap(), 1);
    assert_eq!(s.delivery().await.status, DeliveryStatus::Succeeded);
}

#[tokio::test]
async fn a_running_worker_wakes_on_publication_and_lingers_on_the_clock() {
    let s = setup().await;
    let worker = s
        .worker
        .clone()
        .linger(Duration::from_millis(10))
        .idle_poll(Duration::from_secs(3600));
    let (stop, task) = running(worker);
    // Idle: a publication wakes it at once, with no time passing on the clock.
    s.publish().await;
    until(|| s.transport.sent() == 1).await;
    // After a batch that was not full it lingers: the next event waits for the clock.
    s.publish().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(s.transport.sent(), 1, "sent during the linger");
    s.clock.advance(Duration::from_millis(10));
    until(|| s.transport.sent() == 2).await;
    stop.send(()).unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn while_the_first_lane_waits_on_a_receiver_another_lane_sends_what_comes_due() {
    let s = setup().await;
    s.transport.then(Answer::Hang);
    let worker = s.worker.clone().idle_poll(Duration::from_secs(1));
    let (stop, task) = running(worker.shutdown_grace(Duration::ZERO));
    s.publish().await;
    until(|| s.transport.sent() == 1).await;
    // The first lane waits on its receiver; the other lanes look when their interval ends.
    s.publish().await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(s.transport.sent(), 1, "sent before any lane looked");
    s.clock.advance(Duration::from_secs(1));
    until(|| s.transport.sent() == 2).await;
    stop.send(()).unwrap();
    task.await.unwrap();
}

/// Runs `worker` until the returned sender is used.
fn running(
    worker: DeliveryWorker<Arc<Scripted>>,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));
    (stop, task)
}

#[tokio::test]
async fn a_stopping_worker_finishes_the_sends_in_flight_and_records_them() {
    let s = setup().await;
    let gate = Arc::new(tokio::sync::Notify::new());
    s.transport.then(Answer::Gate(gate.clone()));
    let (stop, task) = running(s.worker.clone().idle_poll(Duration::from_secs(3600)));
    s.publish().await;
    until(|| s.transport.sent() == 1).await;
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!task.is_finished(), "stopped before its send finished");
    gate.notify_one();
    task.await.unwrap();
    assert_eq!(s.delivery().await.status, DeliveryStatus::Succeeded);
}

#[tokio::test]
async fn after_the_grace_period_a_stopping_worker_gives_back_what_it_has_not_delivered() {
    let s = setup().await;
    s.transport.then(Answer::Hang);
    let worker = s
        .worker
        .clone()
        .idle_poll(Duration::from_secs(3600))
        .shutdown_grace(Duration::from_secs(5));
    let (stop, task) = running(worker);
    s.publish().await;
    until(|| s.transport.sent() == 1).await;
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!task.is_finished(), "stopped before the grace period ended");
    s.clock.advance(Duration::from_secs(5));
    task.await.unwrap();
    let delivery = s.delivery().await;
    assert_eq!(delivery.status, DeliveryStatus::Queued);
    assert_eq!(delivery.attempts, 0);
    // Given back, not leased: another worker takes it at once, without waiting a minute.
    assert_eq!(s.worker.run_once().await.unwrap(), 1);
    assert_eq!(s.delivery().await.status, DeliveryStatus::Succeeded);
    assert_eq!(s.transport.sent(), 2);
}

#[tokio::test]
async fn a_stopped_worker_claims_nothing_more() {
    let s = setup().await;
    let (stop, task) = running(s.worker.clone().idle_poll(Duration::from_secs(3600)));
    stop.send(()).unwrap();
    task.await.unwrap();
    s.publish().await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(s.transport.sent(), 0);
    assert_eq!(s.delivery().await.status, DeliveryStatus::Queued);
}

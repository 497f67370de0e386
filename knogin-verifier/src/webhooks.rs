//! Checking a Standard Webhooks delivery in a Rust receiver: the `webhook-id`,
//! `webhook-timestamp` and `webhook-signature` headers against the subscription's `whsec_`
//! secret.
//!
//! The signature is `v1,` and the base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}`. The
//! header may hold several, space-separated (while a replaced secret still signs, knogin sends
//! one per secret); one that matches is enough, and the comparison is constant-time. Signatures
//! of another version are skipped. A timestamp further than the tolerance (default five minutes,
//! either way) from the receiver's clock is refused, so a captured delivery cannot be replayed
//! later; keep the ids you have processed to refuse replays within the window.
//!
//! ```
//! use http::HeaderMap;
//! use knogin_verifier::time::{ManualClock, Timestamp};
//! use knogin_verifier::webhooks::{Receiver, WebhookError};
//! use std::sync::Arc;
//!
//! // The Standard Webhooks specification's test vector.
//! let receiver = Receiver::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?
//!     .clock(Arc::new(ManualClock::new(Timestamp::from_unix(1_614_265_330))));
//! let mut headers = HeaderMap::new();
//! headers.insert("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek".parse()?);
//! headers.insert("webhook-timestamp", "1614265330".parse()?);
//! headers.insert("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".parse()?);
//! receiver.verify(&headers, br#"{"test": 2432232314}"#)?;
//! assert_eq!(receiver.verify(&headers, b"{}"), Err(WebhookError::NoMatchingSignature));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use knogin_time::{Clock, SystemClock};

/// How far a delivery's timestamp may be from the receiver's clock, by default.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// The header naming the message (the same on every retry of one delivery).
pub const ID_HEADER: &str = "webhook-id";
/// The header with the Unix time the delivery was signed at.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The header with the space-separated signatures.
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The secret is not `whsec_` (or nothing) followed by base64.
    #[error("the webhook secret is not whsec_ followed by base64")]
    InvalidSecret,
    /// A required header is absent or not text.
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    /// `webhook-timestamp` is not a whole number of seconds.
    #[error("the webhook-timestamp header is not a Unix time")]
    InvalidTimestamp,
    /// The timestamp is further in the past than the tolerance.
    #[error("the delivery's timestamp is too old")]
    TooOld,
    /// The timestamp is further in the future than the tolerance.
    #[error("the delivery's timestamp is in the future")]
    TooNew,
    /// No `v1` signature in the header matches the body with this secret.
    #[error("no signature matches")]
    NoMatchingSignature,
}

/// Checks deliveries signed with one subscription's secret. `Debug` does not show the secret.
#[derive(Clone)]
pub struct Receiver {
    key: hmac::Key,
    tolerance: Duration,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("secret", &"[redacted]")
            .field("tolerance", &self.tolerance)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// A receiver for deliveries signed with `secret` (`whsec_…`, as the subscription showed it;
    /// the bare base64 is taken too), with [`DEFAULT_TOLERANCE`] and the system clock.
    pub fn new(secret: &str) -> Result<Self, WebhookError> {
        let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| WebhookError::InvalidSecret)?;
        if bytes.is_empty() {
            return Err(WebhookError::InvalidSecret);
        }
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &bytes),
            tolerance: DEFAULT_TOLERANCE,
            clock: Arc::new(SystemClock),
        })
    }

    /// How far a timestamp may be from now, either way.
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The clock timestamps are judged against (default: the system's).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks a delivery by its headers and its body exactly as received (before any parsing).
    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), WebhookError> {
        let header = |name: &'static str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .ok_or(WebhookError::MissingHeader(name))
        };
        self.verify_parts(
            header(ID_HEADER)?,
            header(TIMESTAMP_HEADER)?,
            header(SIGNATURE_HEADER)?,
            body,
        )
    }

    /// Checks a delivery from the three header values, for receivers that do not hold an
    /// [`http::HeaderMap`].
    pub fn verify_parts(
        &self,
        id: &str,
        timestamp: &str,
        signatures: &str,
        body: &[u8],
    ) -> Result<(), WebhookError> {
        let signed_at: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| WebhookError::InvalidTimestamp)?;
        let now = self.clock.now().unix();
        let tolerance = i64::try_from(self.tolerance.as_secs()).unwrap_or(i64::MAX);
        if signed_at < now.saturating_sub(tolerance) {
            return Err(WebhookError::TooOld);
        }
        if signed_at > now.saturating_add(tolerance) {
            return Err(WebhookError::TooNew);
        }
        let mut context = hmac::Context::with_key(&self.key);
        context.update(id.as_bytes());
        context.update(b".");
        context.update(timestamp.trim().as_bytes());
        context.update(b".");
        context.update(body);
        let expected = context.sign();
        let matches = signatures
            .split(' ')
            .filter_map(|s| s.strip_prefix("v1,"))
            .filter_map(|s| STANDARD.decode(s).ok())
            .any(|given| {
                aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_ref(), &given).is_ok()
            });
        if matches {
            Ok(())
        } else {
            Err(WebhookError::NoMatchingSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use knogin_time::{ManualClock, Timestamp};

    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const AT: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn receiver_at(now: i64) -> Receiver {
        Receiver::new(SECRET)
            .unwrap()
            .clock(Arc::new(ManualClock::new(Timestamp::from_unix(now))))
    }

    #[test]
    fn the_specification_vector_verifies_and_any_change_does_not() {
        let receiver = receiver_at(AT);
        let at = AT.to_string();
        assert_eq!(receiver.verify_parts(ID, &at, SIGNATURE, BODY), Ok(()));
        let refused = Err(WebhookError::NoMatchingSignature);
        assert_eq!(
            receiver.verify_parts("msg_other", &at, SIGNATURE, BODY),
            refused
        );
        assert_eq!(receiver.verify_parts(ID, &at, SIGNATURE, b"{}"), refused);
        assert_eq!(
            receiver.verify_parts(
                ID,
                &at,
                "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=",
                BODY
            ),
            refused
        );
        assert_eq!(receiver.verify_parts(ID, &at, "v2,abc", BODY), refused);
        assert_eq!(receiver.verify_parts(ID, &at, "", BODY), refused);
        let other = Receiver::new("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .unwrap()
            .clock(Arc::new(ManualClock::new(Timestamp::from_unix(AT))));
        assert_eq!(other.verify_parts(ID, &at, SIGNATURE, BODY), refused);
    }

    #[test]
    fn one_matching_signature_among_several_is_enough() {
        let receiver = receiver_at(AT);
        let at = AT.to_string();
        for header in [
            format!("v1,bm90IGl0 {SIGNATURE}"),
            format!("v1a,xyz {SIGNATURE} v2,abc"),
            format!("{SIGNATURE} v1,!!notbase64"),
        ] {
            assert_eq!(
                receiver.verify_parts(ID, &at, &header, BODY),
                Ok(()),
                "{header}"
            );
        }
    }

    #[test]
    fn timestamps_outside_the_tolerance_are_refused() {
        let at = AT.to_string();
        let tolerance = i64::try_from(DEFAULT_TOLERANCE.as_secs()).unwrap();
        assert_eq!(
            receiver_at(AT + tolerance).verify_parts(ID, &at, SIGNATURE, BODY),
            Ok(())
        );
        assert_eq!(
            receiver_at(AT + tolerance + 1).verify_parts(ID, &at, SIGNATURE, BODY),
            Err(WebhookError::TooOld)
        );
        assert_eq!(
            receiver_at(AT - tolerance - 1).verify_parts(ID, &at, SIGNATURE, BODY),
            Err(WebhookError::TooNew)
        );
        assert_eq!(
            receiver_at(AT).verify_parts(ID, "soon", SIGNATURE, BODY),
            Err(WebhookError::InvalidTimestamp)
        );
        let wide = receiver_at(AT + 3600).tolerance(Duration::from_secs(7200));
        assert_eq!(wide.verify_parts(ID, &at, SIGNATURE, BODY), Ok(()));
    }

    #[test]
    fn headers_are_read_and_a_missing_one_is_named() {
        let receiver = receiver_at(AT);
        let mut headers = HeaderMap::new();
        headers.insert(ID_HEADER, ID.parse().unwrap());
        headers.insert(TIMESTAMP_HEADER, AT.to_string().parse().unwrap());
        assert_eq!(
            receiver.verify(&headers, BODY),
            Err(WebhookError::MissingHeader(SIGNATURE_HEADER))
        );
        headers.insert(SIGNATURE_HEADER, SIGNATURE.parse().unwrap());
        assert_eq!(receiver.verify(&headers, BODY), Ok(()));
    }

    #[test]
    fn secrets_must_be_base64_and_are_not_shown() {
        assert_eq!(
            Receiver::new("whsec_!!").unwrap_err(),
            WebhookError::InvalidSecret
        );
        assert_eq!(
            Receiver::new("whsec_").unwrap_err(),
            WebhookError::InvalidSecret
        );
        assert!(Receiver::new("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
        let shown = format!("{:?}", Receiver::new(SECRET).unwrap());
        assert!(
            !shown.contains("MfKQ") && shown.contains("redacted"),
            "{shown}"
        );
    }
}

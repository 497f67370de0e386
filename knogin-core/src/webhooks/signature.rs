//! Standard Webhooks signatures: `v1,` and the base64 of HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the secret's bytes. While a replaced
//! secret still signs, both signatures go in the one header, space-separated, so a receiver
//! holding either verifies.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::WebhookSecret;

/// The `webhook-signature` value for one message, signed with each of `secrets` in order.
///
/// ```
/// use knogin_core::webhooks::{WebhookSecret, signature};
///
/// // The Standard Webhooks specification's test vector.
/// let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
/// assert_eq!(
///     signature(&[&secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#),
///     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
/// );
/// ```
pub fn signature(secrets: &[&WebhookSecret], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut header = String::new();
    for secret in secrets {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.bytes());
        let mut context = hmac::Context::with_key(&key);
        context.update(id.as_bytes());
        context.update(b".");
        context.update(timestamp.to_string().as_bytes());
        context.update(b".");
        context.update(body);
        if !header.is_empty() {
            header.push(' ');
        }
        header.push_str("v1,");
        STANDARD.encode_string(context.sign().as_ref(), &mut header);
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_secrets_give_two_space_separated_signatures() {
        let old = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let new = WebhookSecret::generate();
        let both = signature(
            &[&new, &old],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        let (first, second) = both.split_once(' ').unwrap();
        assert!(first.starts_with("v1,") && first != second);
        assert_eq!(second, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_receiver_holding_either_secret_verifies_what_is_sent() {
        use std::sync::Arc;

        use knogin_verifier::webhooks::Receiver;

        use crate::clock::{ManualClock, Timestamp};

        let (old, new) = (WebhookSecret::generate(), WebhookSecret::generate());
        let body = br#"{"type":"case.updated"}"#;
        let header = signature(&[&new, &old], "msg_1", 1_800_000_000, body);
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_010)));
        for secret in [&old, &new] {
            let receiver = Receiver::new(&secret.expose())
                .unwrap()
                .clock(clock.clone());
            assert_eq!(
                receiver.verify_parts("msg_1", "1800000000", &header, body),
                Ok(())
            );
        }
        let stranger = Receiver::new(&WebhookSecret::generate().expose()).unwrap();
        assert!(
            stranger
                .clock(clock)
                .verify_parts("msg_1", "1800000000", &header, body)
                .is_err()
        );
    }
}

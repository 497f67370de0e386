//! Pushed authorization requests (RFC 9126): a client posts its authorization request, checked
//! as the authorization endpoint checks it, and sends the browser with a `request_uri` naming
//! it. The request then comes from the client, authenticated, rather than from the browser's
//! address bar.

use std::time::Duration;

use crate::ScopeCatalog;
use crate::apps::App;
use crate::oauth::authorize::{MAX_AUTHORIZATION_QUERY, Params, check_request};
use crate::secret::{FlowToken, SecretHash};
use crate::shared::Core;
use crate::store::{FlowKind, FlowState, StoreError};

/// How every `request_uri` this server issues begins.
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// How long a pushed request may wait for the browser (RFC 9126 §2.2: short, under 600 s).
pub const PUSHED_REQUEST_TTL: Duration = Duration::from_secs(90);

/// The form parameters that authenticate the client at the endpoint, not part of the request.
const CLIENT_AUTHENTICATION: [&str; 3] =
    ["client_secret", "client_assertion", "client_assertion_type"];

/// A stored pushed request: the `request_uri` to send the browser with, and its lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRequest {
    /// `urn:ietf:params:oauth:request_uri:` and a random token.
    pub request_uri: String,
    /// How long it is good for.
    pub expires_in: Duration,
}

/// Why a pushed request is refused: the RFC 6749 §4.1.2.1 error the authorization endpoint
/// would have redirected with, answered as JSON (RFC 9126 §2.3). Safe to show the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{description}")]
pub struct PushRefusal {
    /// The error code: `invalid_request`, `invalid_scope`, `unauthorized_client`, …
    pub error: &'static str,
    /// What went wrong, for the client's developer.
    pub description: String,
}

impl PushRefusal {
    fn invalid(description: impl Into<String>) -> Self {
        Self {
            error: "invalid_request",
            description: description.into(),
        }
    }
}

/// Why pushing a request could not finish.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PushFailure {
    #[error(transparent)]
    Refused(#[from] PushRefusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The hash a pushed request is stored under, if `request_uri` is one this server could have
/// issued.
pub(crate) fn pushed_key(request_uri: &str) -> Option<SecretHash> {
    request_uri
        .strip_prefix(REQUEST_URI_PREFIX)
        .filter(|token| !token.is_empty())
        .map(SecretHash::of)
}

/// The query `app`'s pushed `params` stand for, checked as the authorization endpoint checks a
/// request, without the client's authentication and with its `client_id`.
fn pushed_query(
    app: &App,
    params: &[(&str, &str)],
    catalog: &ScopeCatalog,
    audiences: &[String],
) -> Result<String, PushRefusal> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        match *name {
            "request_uri" => {
                return Err(PushRefusal::invalid(
                    "a pushed request cannot name a request_uri",
                ));
            }
            "request" => {
                return Err(PushRefusal {
                    error: "request_not_supported",
                    description: "request objects (JAR) are not supported: push the parameters"
                        .into(),
                });
            }
            "client_id" if *value != app.client_id.as_str() => {
                return Err(PushRefusal::invalid(
                    "client_id is not the authenticated client",
                ));
            }
            name if CLIENT_AUTHENTICATION.contains(&name) => {}
            name => {
                query.append_pair(name, value);
            }
        }
    }
    if !params.iter().any(|(name, _)| *name == "client_id") {
        query.append_pair("client_id", app.client_id.as_str());
    }
    let query = query.finish();
    if query.len() > MAX_AUTHORIZATION_QUERY {
        return Err(PushRefusal::invalid(format!(
            "the request is longer than {MAX_AUTHORIZATION_QUERY} bytes"
        )));
    }
    let parsed = Params::parse(&query);
    let redirect_uri = parsed
        .get("redirect_uri")
        .map_err(PushRefusal::invalid)?
        .ok_or_else(|| PushRefusal::invalid("the redirect_uri parameter is required"))?;
    if !app.redirects_to(redirect_uri) {
        return Err(PushRefusal::invalid(
            "the redirect_uri is not one this client registered",
        ));
    }
    check_request(app, &parsed, redirect_uri, catalog, audiences).map_err(|e| PushRefusal {
        error: e.error,
        description: e.description,
    })?;
    Ok(query)
}

impl Core {
    /// Checks `app`'s authorization request (the endpoint's form `params`, in order) as the
    /// authorization endpoint would, and stores it for [`PUSHED_REQUEST_TTL`].
    pub(crate) async fn push_authorization_request(
        &self,
        app: &App,
        params: &[(&str, &str)],
    ) -> Result<PushedRequest, PushFailure> {
        let query = pushed_query(app, params, &self.0.scopes, &self.0.audiences)?;
        let token = FlowToken::generate();
        let now = self.0.clock.now();
        let request_uri = format!("{REQUEST_URI_PREFIX}{}", token.expose());
        let state = FlowState {
            kind: FlowKind::PushedRequest,
            key: SecretHash::of(token.expose()),
            value: query,
            expires_at: now.plus(PUSHED_REQUEST_TTL),
        };
        self.0.store.put_state(&state, now).await?;
        Ok(PushedRequest {
            request_uri,
            expires_in: PUSHED_REQUEST_TTL,
        })
    }

    /// The query of the pushed request stored under `key`, if it is still waiting.
    pub(crate) async fn pushed_request(
        &self,
        key: &SecretHash,
    ) -> Result<Option<String>, StoreError> {
        let now = self.0.clock.now();
        self.0.store.state(FlowKind::PushedRequest, key, now).await
    }

    /// Uses up the pushed request under `key` once the user is signed in (reloading the login
    /// step reads it again; the decision comes once): `false` if it was used or expired.
    pub(crate) async fn use_pushed_request(&self, key: &SecretHash) -> Result<bool, StoreError> {
        let now = self.0.clock.now();
        let taken = self
            .0
            .store
            .take_state(FlowKind::PushedRequest, key, now)
            .await?;
        Ok(taken.is_some())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::apps::GovernancePatch;
    use crate::clock::{ManualClock, Timestamp};
    use crate::oauth::AuthorizeError;
    use crate::testing::{DELEGATED_CALLBACK, delegated_registration, test_knogin_with};
    use crate::{Knogin, TenantId};

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    async fn fixture() -> (Arc<ManualClock>, Knogin, App) {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
        let knogin = test_knogin_with(clock.clone(), Duration::ZERO).await;
        let tenant = TenantId::parse("t1").unwrap();
        let (app, _) = knogin
            .apps()
            .register(&tenant, delegated_registration())
            .await
            .unwrap();
        (clock, knogin, app)
    }

    fn params(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut params = vec![
            ("response_type", "code"),
            ("redirect_uri", DELEGATED_CALLBACK),
            ("scope", "webhooks:read"),
            ("state", "s1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("client_secret", "ks_not_part_of_it"),
        ];
        params.extend_from_slice(extra);
        params
    }

    fn query(app: &App, request_uri: &str) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", app.client_id.as_str())
            .append_pair("request_uri", request_uri)
            .finish()
    }

    #[tokio::test]
    async fn a_pushed_request_continues_at_the_authorization_endpoint_and_is_used_once() {
        let (_, knogin, app) = fixture().await;
        let core = knogin.core();
        let pushed = core
            .push_authorization_request(&app, &params(&[]))
            .await
            .unwrap();
        assert!(pushed.request_uri.starts_with(REQUEST_URI_PREFIX));
        assert_eq!(pushed.expires_in, PUSHED_REQUEST_TTL);
        let request = core
            .authorization_request(&query(&app, &pushed.request_uri))
            .await
            .unwrap();
        assert_eq!(request.state.as_deref(), Some("s1"));
        assert_eq!(request.scopes.to_string(), "webhooks:read");
        assert_eq!(request.redirect_uri, DELEGATED_CALLBACK);
        let key = request.pushed.clone().expect("it came pushed");
        // Read again (a reloaded login step), then used up once.
        core.authorization_request(&query(&app, &pushed.request_uri))
            .await
            .unwrap();
        assert!(core.use_pushed_request(&key).await.unwrap());
        assert!(!core.use_pushed_request(&key).await.unwrap());
        assert!(matches!(
            core.authorization_request(&query(&app, &pushed.request_uri))
                .await,
            Err(AuthorizeError::Page(_))
        ));
    }

    #[tokio::test]
    async fn a_request_uri_of_another_client_or_expired_or_made_up_is_a_page() {
        let (clock, knogin, app) = fixture().await;
        let core = knogin.core();
        let tenant = TenantId::parse("t1").unwrap();
        let (other, _) = knogin
            .apps()
            .register(&tenant, delegated_registration())
            .await
            .unwrap();
        let pushed = core
            .push_authorization_request(&app, &params(&[]))
            .await
            .unwrap();
        for query in [
            query(&other, &pushed.request_uri),
            query(&app, "urn:ietf:params:oauth:request_uri:kf_made_up"),
            query(&app, "https://elsewhere.example/request"),
        ] {
            assert!(
                matches!(
                    core.authorization_request(&query).await,
                    Err(AuthorizeError::Page(_))
                ),
                "{query}"
            );
        }
        clock.advance(PUSHED_REQUEST_TTL);
        assert!(matches!(
            core.authorization_request(&query(&app, &pushed.request_uri))
                .await,
            Err(AuthorizeError::Page(_))
        ));
    }

    #[tokio::test]
    async fn a_pushed_request_is_checked_as_the_authorization_endpoint_checks() {
        let (_, knogin, app) = fixture().await;
        let core = knogin.core();
        let cases: [(&[(&'static str, &'static str)], &str); 5] = [
            (&[("request_uri", "urn:x")], "invalid_request"),
            (&[("request", "eyJ.x.y")], "request_not_supported"),
            (
                &[("client_id", "app_00000000000000000000000000000000")],
                "invalid_request",
            ),
            (
                &[("resource", "https://elsewhere.example")],
                "invalid_target",
            ),
            (&[("response_type", "token")], "invalid_request"),
        ];
        for (extra, error) in cases {
            match core.push_authorization_request(&app, &params(extra)).await {
                Err(PushFailure::Refused(e)) => assert_eq!(e.error, error, "{extra:?}: {e}"),
                other => panic!("{extra:?}: {other:?}"),
            }
        }
        let wrong_uri = [
            ("response_type", "code"),
            ("redirect_uri", "https://evil.example/cb"),
        ];
        let scope = [
            ("response_type", "code"),
            ("redirect_uri", DELEGATED_CALLBACK),
            ("scope", "platform:admin"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        for (params, error) in [
            (&wrong_uri[..], "invalid_request"),
            (&scope[..], "invalid_scope"),
        ] {
            match core.push_authorization_request(&app, params).await {
                Err(PushFailure::Refused(e)) => assert_eq!(e.error, error, "{e}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn an_app_that_must_push_is_refused_a_direct_request() {
        let (_, knogin, app) = fixture().await;
        let tenant = TenantId::parse("t1").unwrap();
        let patch = GovernancePatch {
            require_pushed_authorization_requests: Some(true),
            ..GovernancePatch::default()
        };
        knogin
            .apps()
            .update_governance(&tenant, &app.client_id, patch)
            .await
            .unwrap();
        let core = knogin.core();
        let direct = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", app.client_id.as_str())
            .extend_pairs(
                params(&[])
                    .into_iter()
                    .filter(|(n, _)| *n != "client_secret"),
            )
            .finish();
        match core.authorization_request(&direct).await {
            Err(AuthorizeError::Redirect(to)) => assert_eq!(to.error, "invalid_request"),
            other => panic!("{other:?}"),
        }
        let pushed = core
            .push_authorization_request(&app, &params(&[]))
            .await
            .unwrap();
        core.authorization_request(&query(&app, &pushed.request_uri))
            .await
            .unwrap();
    }
}

//! The authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3): which client asks, where the
//! answer goes, for what, and with which PKCE challenge; and the redirects that answer it, each
//! with `iss` (RFC 9207).
//!
//! Until the client and its redirect URI are known good, an error is shown to the user and never
//! redirected (RFC 6749 §4.1.2.1): a redirect to an unverified URI would make this server an open
//! redirector. Every later error goes back to the client.

use std::collections::HashMap;

use crate::apps::{App, GrantType};
use crate::id::{AppId, TenantId};
use crate::oauth::par::pushed_key;
use crate::oauth::{CodeChallenge, GrantError, error_description, granted_scopes};
use crate::scope::ScopeSet;
use crate::secret::SecretHash;
use crate::shared::Core;
use crate::store::StoreError;

/// The longest authorization request query accepted, in bytes: far above any real one, and a
/// bound on what a pending login form stores.
pub const MAX_AUTHORIZATION_QUERY: usize = 8 * 1024;

/// An authorization request whose every parameter checked out: what the consent page shows and
/// what a code is then issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// The client.
    pub(crate) client_id: AppId,
    /// The client's tenant, which the tokens act in.
    pub(crate) tenant: TenantId,
    /// The client's name, for the consent page.
    pub(crate) client_name: String,
    /// The redirect URI, byte for byte one the client registered.
    pub(crate) redirect_uri: String,
    /// The scopes asked for (or, without `scope`, every scope the app was approved for).
    pub(crate) scopes: ScopeSet,
    /// The client's `state`, returned unchanged.
    pub(crate) state: Option<String>,
    /// The PKCE challenge (S256), if sent.
    pub(crate) challenge: Option<CodeChallenge>,
    /// The resource server the tokens are for (RFC 8707), one of the issuer's audiences, if
    /// the request named one.
    pub(crate) resource: Option<String>,
    /// The key of the pushed request (RFC 9126) it came from, used up once the user is signed
    /// in.
    pub(crate) pushed: Option<SecretHash>,
}

/// Why an authorization request is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizeError {
    /// The client or its redirect URI cannot be trusted: say so to the user on a page (400),
    /// and send nothing to the client.
    #[error("{0}")]
    Page(String),
    /// Send the error back to the client at its redirect URI.
    #[error("{}: {}", .0.error, .0.description)]
    Redirect(ErrorRedirect),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An error answered to the client at its redirect URI (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRedirect {
    /// The request's (verified) redirect URI.
    pub redirect_uri: String,
    /// The error code, e.g. `invalid_scope`.
    pub error: &'static str,
    /// A sentence for the client's developer.
    pub description: String,
    /// The request's `state`, returned unchanged.
    pub state: Option<String>,
}

impl ErrorRedirect {
    /// The error `error` for `request`.
    pub fn to(request: &AuthorizationRequest, error: &'static str, description: &str) -> Self {
        Self {
            redirect_uri: request.redirect_uri.clone(),
            error,
            description: description.to_owned(),
            state: request.state.clone(),
        }
    }

    /// The `Location` to send the browser to, with `error`, `error_description` (in the
    /// characters RFC 6749 §4.1.2.1 allows), `state` and `iss`.
    pub fn location(&self, issuer: &str) -> String {
        redirect_location(
            &self.redirect_uri,
            &[
                ("error", self.error),
                ("error_description", &error_description(&self.description)),
            ],
            self.state.as_deref(),
            issuer,
        )
    }
}

/// `redirect_uri` with `params`, `state` (when there is one) and `iss` added to its query, the
/// registered URI otherwise kept byte for byte.
pub(crate) fn redirect_location(
    redirect_uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(params);
    if let Some(state) = state {
        query.append_pair("state", state);
    }
    query.append_pair("iss", issuer);
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{separator}{}", query.finish())
}

/// The request's parameters; each name counted, since none may be repeated (RFC 6749 §3.1).
pub(crate) struct Params(HashMap<String, (String, usize)>);

impl Params {
    pub(crate) fn parse(query: &str) -> Self {
        let mut params: HashMap<String, (String, usize)> = HashMap::new();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            params
                .entry(name.into_owned())
                .and_modify(|(_, n)| *n += 1)
                .or_insert((value.into_owned(), 1));
        }
        Self(params)
    }

    /// The value of `name`: `Ok(None)` when absent, `Err` naming it when repeated. An empty
    /// value counts as absent (RFC 6749 §3.1).
    pub(crate) fn get(&self, name: &str) -> Result<Option<&str>, String> {
        match self.0.get(name) {
            Some((_, n)) if *n > 1 => Err(format!("the {name} parameter is repeated")),
            Some((value, _)) if !value.is_empty() => Ok(Some(value)),
            _ => Ok(None),
        }
    }

    /// The first repeated parameter, if any.
    fn repeated(&self) -> Option<&str> {
        let mut names: Vec<&str> = self
            .0
            .iter()
            .filter(|(_, (_, n))| *n > 1)
            .map(|(name, _)| name.as_str())
            .collect();
        names.sort_unstable();
        names.first().copied()
    }
}

/// The client named by `client_id`, or the page saying why there is none.
fn page(message: impl Into<String>) -> AuthorizeError {
    AuthorizeError::Page(message.into())
}

/// Checks the parameters that follow a verified client and redirect URI: every failure here is
/// redirected back.
pub(crate) fn check_request(
    app: &App,
    params: &Params,
    redirect_uri: &str,
    catalog: &crate::ScopeCatalog,
    audiences: &[String],
) -> Result<AuthorizationRequest, ErrorRedirect> {
    // `state` goes back with every error, so it is read first (repeated, it is not trusted).
    let state = params.get("state").ok().flatten().map(str::to_owned);
    let refuse = |error: &'static str, description: String| ErrorRedirect {
        redirect_uri: redirect_uri.to_owned(),
        error,
        description,
        state: state.clone(),
    };
    if let Some(name) = params.repeated() {
        return Err(refuse(
            "invalid_request",
            format!("the {name} parameter is repeated"),
        ));
    }
    let get = |name| params.get(name).expect("no parameter is repeated");
    match get("response_type") {
        None => {
            return Err(refuse(
                "invalid_request",
                "the response_type parameter is required".into(),
            ));
        }
        Some("code") => {}
        Some(other) => {
            return Err(refuse(
                "unsupported_response_type",
                format!("the response type '{other}' is not supported: use code"),
            ));
        }
    }
    if !app.grant_types.contains(&GrantType::AuthorizationCode) {
        return Err(refuse(
            "unauthorized_client",
            GrantError::UnauthorizedClient(GrantType::AuthorizationCode).to_string(),
        ));
    }
    let scopes = granted_scopes(app, get("scope"), catalog)
        .map_err(|e| refuse("invalid_scope", e.to_string()))?;
    let challenge = match (get("code_challenge"), get("code_challenge_method")) {
        (Some(challenge), method) => Some(
            CodeChallenge::parse(challenge, method)
                .map_err(|e| refuse("invalid_request", e.to_string()))?,
        ),
        (None, Some(_)) => {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method was sent without a code_challenge".into(),
            ));
        }
        (None, None) if app.governance.requires_pkce() => {
            return Err(refuse(
                "invalid_request",
                "this client must use PKCE: send a code_challenge with code_challenge_method=S256"
                    .into(),
            ));
        }
        (None, None) => None,
    };
    let resource = match get("resource") {
        Some(r) if audiences.iter().any(|a| a == r) => Some(r.to_owned()),
        Some(r) => {
            return Err(refuse(
                "invalid_target",
                format!("the resource {r} is not one this server issues tokens for"),
            ));
        }
        None => None,
    };
    Ok(AuthorizationRequest {
        client_id: app.client_id.clone(),
        tenant: app.tenant_id.clone(),
        client_name: app.name.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        state,
        challenge,
        resource,
        pushed: None,
    })
}

impl Core {
    /// Checks an authorization request, given its query string: the client must exist and the
    /// `redirect_uri` must be, byte for byte, one it registered (else
    /// [`AuthorizeError::Page`]); then `response_type=code`, the client's grant, `scope`
    /// within the app's approved scopes, and PKCE (S256 only; required when the app's
    /// governance `enforce_pkce` is on) (else [`AuthorizeError::Redirect`]). No parameter may be
    /// repeated; unknown ones are ignored.
    pub(crate) async fn authorization_request(
        &self,
        query: &str,
    ) -> Result<AuthorizationRequest, AuthorizeError> {
        if query.len() > MAX_AUTHORIZATION_QUERY {
            return Err(page(format!(
                "The request is longer than {MAX_AUTHORIZATION_QUERY} bytes."
            )));
        }
        let params = Params::parse(query);
        let client_id = params
            .get("client_id")
            .map_err(page)?
            .ok_or_else(|| page("The request names no client (client_id is missing)."))?;
        match params.get("request_uri").map_err(page)? {
            Some(request_uri) => self.pushed(client_id, request_uri).await,
            None => self.checked(client_id, &params, None).await,
        }
    }

    /// The pushed request `request_uri` of `client_id`, checked again (its client may have
    /// changed meanwhile). Its other parameters are the pushed ones only (RFC 9126 §4).
    async fn pushed(
        &self,
        client_id: &str,
        request_uri: &str,
    ) -> Result<AuthorizationRequest, AuthorizeError> {
        let gone = || {
            page(
                "This sign-in link has expired or was already used. Go back to the application \
                 and start again.",
            )
        };
        let key = pushed_key(request_uri).ok_or_else(gone)?;
        let stored = self.pushed_request(&key).await?.ok_or_else(gone)?;
        let params = Params::parse(&stored);
        if params.get("client_id").ok().flatten() != Some(client_id) {
            return Err(gone());
        }
        self.checked(client_id, &params, Some(key)).await
    }

    /// The request of `client_id` with `params`: the client, its redirect URI, then the rest.
    async fn checked(
        &self,
        client_id: &str,
        params: &Params,
        pushed: Option<SecretHash>,
    ) -> Result<AuthorizationRequest, AuthorizeError> {
        let unknown =
            || page("The application that sent you here is not registered with this server.");
        if !AppId::is_well_formed(client_id) {
            return Err(unknown());
        }
        let now = self.0.clock.now();
        let lookup = self.0.store.client_lookup(client_id, now).await?;
        let app = lookup.app.ok_or_else(unknown)?;
        let redirect_uri = params.get("redirect_uri").map_err(page)?.ok_or_else(|| {
            page("The request does not say where to send the answer (redirect_uri is missing).")
        })?;
        if !app.redirects_to(redirect_uri) {
            return Err(page(
                "The address the application asked to return to is not one it registered, so this \
                 server will not send you there.",
            ));
        }
        let mut request = check_request(
            &app,
            params,
            redirect_uri,
            &self.0.scopes,
            &self.0.audiences,
        )
        .map_err(AuthorizeError::Redirect)?;
        if pushed.is_none() && app.governance.requires_pushed_requests() {
            return Err(AuthorizeError::Redirect(ErrorRedirect::to(
                &request,
                "invalid_request",
                "this client must push its authorization requests first (RFC 9126): send \
                 client_id and the request_uri it got",
            )));
        }
        request.pushed = pushed;
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_keep_the_registered_uri_and_add_state_and_iss() {
        assert_eq!(
            redirect_location(
                "https://client.example/cb?tenant=a%20b",
                &[("code", "kc_1")],
                Some("s t&x"),
                "https://auth.example"
            ),
            "https://client.example/cb?tenant=a%20b&code=kc_1&state=s+t%26x&iss=https%3A%2F%2Fauth.example"
        );
        assert_eq!(
            redirect_location(
                "https://client.example/cb",
                &[("error", "access_denied")],
                None,
                "https://a"
            ),
            "https://client.example/cb?error=access_denied&iss=https%3A%2F%2Fa"
        );
    }

    #[tokio::test]
    async fn an_overlong_request_is_refused_on_a_page() {
        let knogin = crate::testing::test_core_with(
            std::sync::Arc::new(crate::ManualClock::new(crate::Timestamp::from_unix(0))),
            std::time::Duration::ZERO,
        )
        .await;
        let query = format!("state={}", "x".repeat(MAX_AUTHORIZATION_QUERY));
        assert!(matches!(
            knogin.authorization_request(&query).await,
            Err(AuthorizeError::Page(_))
        ));
    }

    #[test]
    fn an_error_redirect_s_description_is_in_the_characters_rfc_6749_allows() {
        let to = ErrorRedirect {
            redirect_uri: "https://client.example/cb".into(),
            error: "invalid_scope",
            description: "'\"§x\\' is not a scope token é".into(),
            state: None,
        };
        let location = url::Url::parse(&to.location("https://a.example")).unwrap();
        let (_, description) = location
            .query_pairs()
            .find(|(name, _)| name == "error_description")
            .unwrap();
        assert!(
            crate::oauth::is_valid_error_description(&description),
            "{description}"
        );
    }

    #[test]
    fn repeated_and_empty_parameters() {
        let params = Params::parse("a=1&b=&c=2&c=3&d=4&a=5");
        assert_eq!(params.get("b"), Ok(None));
        assert_eq!(params.get("d"), Ok(Some("4")));
        assert_eq!(params.get("c"), Err("the c parameter is repeated".into()));
        assert_eq!(params.repeated(), Some("a"));
    }
}

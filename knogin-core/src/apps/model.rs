//! The app record and its parts.

use std::fmt;

use serde::Serialize;

use crate::clock::Timestamp;
use crate::id::{AppId, TenantId};

/// An OAuth grant an app may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// RFC 6749 §4.1, for integrations acting for a signed-in user.
    AuthorizationCode,
    /// RFC 6749 §4.4, for headless integrations.
    ClientCredentials,
}

impl GrantType {
    /// The grant's name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::ClientCredentials => "client_credentials",
        }
    }

    /// Parses a grant name; `None` for anything not supported.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "authorization_code" => Some(Self::AuthorizationCode),
            "client_credentials" => Some(Self::ClientCredentials),
            _ => None,
        }
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A redirect URI that passed the registration rules: absolute, `https` (or `http` to a loopback
/// host), no fragment, no credentials. Build one with [`RedirectUri::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// The longest redirect URI accepted, in bytes.
    pub const MAX_LEN: usize = 2048;

    /// Checks `s` against the registration rules; the error says which one it breaks.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        if s.len() > Self::MAX_LEN {
            return Err("is longer than 2048 characters");
        }
        let url = url::Url::parse(s).map_err(|_| "is not an absolute URI")?;
        if url.fragment().is_some() {
            return Err("must not contain a fragment");
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain credentials");
        }
        match url.scheme() {
            "https" if url.host().is_some() => Ok(Self(s.to_owned())),
            "http" if is_loopback(&url) => Ok(Self(s.to_owned())),
            "http" => Err("must use https unless the host is a loopback address"),
            _ => Err("must use the https scheme"),
        }
    }

    /// The URI as registered, byte for byte.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Tenant-approved behaviour of an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Governance {
    /// Whether an admin may mint service tokens for the app. Default `false`.
    pub allow_service_tokens: bool,
    /// Whether authorization requests must carry a PKCE challenge. Default `true`.
    pub enforce_pkce: bool,
}

impl Default for Governance {
    fn default() -> Self {
        Self {
            allow_service_tokens: false,
            enforce_pkce: true,
        }
    }
}

/// A change to [`Governance`]: each `Some` field replaces the current value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GovernancePatch {
    /// New value of [`Governance::allow_service_tokens`].
    pub allow_service_tokens: Option<bool>,
    /// New value of [`Governance::enforce_pkce`].
    pub enforce_pkce: Option<bool>,
}

impl GovernancePatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.allow_service_tokens.is_none() && self.enforce_pkce.is_none()
    }

    /// `current` with this patch applied.
    #[must_use]
    pub fn apply(&self, current: Governance) -> Governance {
        Governance {
            allow_service_tokens: self
                .allow_service_tokens
                .unwrap_or(current.allow_service_tokens),
            enforce_pkce: self.enforce_pkce.unwrap_or(current.enforce_pkce),
        }
    }
}

/// A registered app, as stored and as shown to admins (never with a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// Its client id.
    pub client_id: AppId,
    /// The tenant that owns it.
    pub tenant_id: TenantId,
    /// Its display name.
    pub name: String,
    /// The grants it may use.
    pub grant_types: Vec<GrantType>,
    /// Where authorization responses may be sent.
    pub redirect_uris: Vec<RedirectUri>,
    /// The catalog scopes it may ask for.
    pub requested_scopes: Vec<String>,
    /// When it was registered.
    pub created_at: Timestamp,
    /// Its governance flags.
    pub governance: Governance,
}

/// The JSON shape of an app on the platform routes.
#[derive(Serialize)]
pub(crate) struct AppView<'a> {
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
    name: &'a str,
    grant_types: &'a [GrantType],
    redirect_uris: &'a [RedirectUri],
    requested_scopes: &'a [String],
    tenant_id: &'a str,
    created_at: String,
    governance: Governance,
}

impl<'a> AppView<'a> {
    /// The view with the write-once secret, for the one answer that shows it.
    pub(crate) fn with_secret(mut self, secret: &'a str) -> Self {
        self.client_secret = Some(secret);
        self
    }
}

impl<'a> From<&'a App> for AppView<'a> {
    fn from(app: &'a App) -> Self {
        Self {
            client_id: app.client_id.as_str(),
            client_secret: None,
            name: &app.name,
            grant_types: &app.grant_types,
            redirect_uris: &app.redirect_uris,
            requested_scopes: &app.requested_scopes,
            tenant_id: app.tenant_id.as_str(),
            created_at: app.created_at.to_rfc3339(),
            governance: app.governance,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        for ok in [
            "https://integrator.example/callback",
            "https://integrator.example:8443/cb?x=1",
            "http://127.0.0.1:9000/cb",
            "http://[::1]/cb",
            "http://localhost/cb",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("/callback", "is not an absolute URI"),
            ("https://a.example/cb#frag", "must not contain a fragment"),
            (
                "http://integrator.example/cb",
                "must use https unless the host is a loopback address",
            ),
            ("ftp://a.example/cb", "must use the https scheme"),
            (
                "https://user:pw@a.example/cb",
                "must not contain credentials",
            ),
        ] {
            assert_eq!(RedirectUri::parse(bad), Err(why), "{bad}");
        }
    }

    #[test]
    fn governance_defaults_and_patch() {
        let g = Governance::default();
        assert!(!g.allow_service_tokens);
        assert!(g.enforce_pkce);
        let p = GovernancePatch {
            allow_service_tokens: Some(true),
            enforce_pkce: None,
        };
        assert_eq!(
            p.apply(g),
            Governance {
                allow_service_tokens: true,
                enforce_pkce: true
            }
        );
        assert!(GovernancePatch::default().is_empty());
    }
}

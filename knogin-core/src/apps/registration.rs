//! The registration policy: which app registrations are accepted.

use crate::apps::model::{
    App, ClientJwks, ClientJwksUri, ClientKeys, Governance, GrantType, RedirectUri,
    TokenEndpointAuthMethod,
};
use crate::clock::Timestamp;
use crate::id::{AppId, TenantId};
use crate::scope::{ScopeCatalog, ScopeSet, ScopeToken};
use crate::validation::ValidationErrors;

/// The longest app name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// The most redirect URIs one app may register.
pub const MAX_REDIRECT_URIS: usize = 20;

/// Whether `c` may appear in a name people read (on consent pages and in admin lists): no
/// control, format (bidi overrides, zero-width), private-use or line/paragraph separator
/// characters, which can hide or reorder what a person sees.
pub(crate) fn is_visible_text(c: char) -> bool {
    use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory as _};
    !matches!(
        c.general_category(),
        G::Control
            | G::Format
            | G::PrivateUse
            | G::Surrogate
            | G::LineSeparator
            | G::ParagraphSeparator
    )
}

/// An app registration as the caller sent it, before any rule is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = AppRegistration)]
pub struct Registration {
    /// Display name: 1 to 200 characters, not only whitespace.
    pub name: String,
    /// A non-empty set of `authorization_code` and `client_credentials`.
    pub grant_types: Vec<String>,
    /// Redirect URIs; required (non-empty) with `authorization_code`.
    pub redirect_uris: Vec<String>,
    /// Scopes from the catalog.
    pub requested_scopes: Vec<String>,
    /// How it will authenticate: `client_secret_basic` (when absent), `client_secret_post` or
    /// `private_key_jwt`.
    pub token_endpoint_auth_method: Option<String>,
    /// Its public keys as a JWK Set: with `private_key_jwt`, this or `jwks_uri` is required;
    /// refused otherwise.
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    /// Where it publishes its public keys as a JWK Set (an `https` URL), fetched when they are
    /// first needed: the alternative to `jwks` for `private_key_jwt`.
    pub jwks_uri: Option<String>,
}

impl Registration {
    /// Checks every rule and returns the app to store, or every broken rule at once.
    ///
    /// ```
    /// use knogin_core::apps::Registration;
    /// use knogin_core::{AppId, ScopeCatalog, TenantId, clock::Timestamp};
    ///
    /// let registration = Registration {
    ///     name: "Case sync connector".into(),
    ///     grant_types: vec!["authorization_code".into()],
    ///     redirect_uris: vec![],
    ///     requested_scopes: vec!["webhooks:write".into()],
    ///     ..Registration::default()
    /// };
    /// let errors = registration
    ///     .validate(&ScopeCatalog::reference(), AppId::generate(), TenantId::parse("t1").unwrap(), Timestamp::from_unix(0))
    ///     .unwrap_err();
    /// assert_eq!(errors.0[0].field, "redirect_uris");
    /// ```
    pub fn validate(
        self,
        catalog: &ScopeCatalog,
        client_id: AppId,
        tenant_id: TenantId,
        now: Timestamp,
    ) -> Result<App, ValidationErrors> {
        let mut errors = ValidationErrors::default();

        let name: String = {
            use unicode_normalization::UnicodeNormalization as _;
            self.name.trim().nfc().collect()
        };
        let chars = name.chars().count();
        if name.is_empty() {
            errors.push("name", "must not be empty");
        } else if chars > MAX_NAME_CHARS {
            errors.push(
                "name",
                format!("must be at most {MAX_NAME_CHARS} characters, not {chars}"),
            );
        } else if !name.chars().all(is_visible_text) {
            errors.push(
                "name",
                "must not contain control, format (such as bidi overrides or zero-width), private-use or separator characters",
            );
        }

        let grant_types = grant_types(&self.grant_types, &mut errors);

        let mut redirect_uris = Vec::new();
        if self.redirect_uris.len() > MAX_REDIRECT_URIS {
            errors.push(
                "redirect_uris",
                format!("must list at most {MAX_REDIRECT_URIS} redirect URIs"),
            );
        }
        for (i, raw) in self
            .redirect_uris
            .iter()
            .take(MAX_REDIRECT_URIS)
            .enumerate()
        {
            match RedirectUri::parse(raw) {
                Ok(uri) if redirect_uris.contains(&uri) => {
                    errors.push(format!("redirect_uris[{i}]"), "is listed twice");
                }
                Ok(uri) => redirect_uris.push(uri),
                Err(why) => errors.push(format!("redirect_uris[{i}]"), why),
            }
        }
        if self.redirect_uris.is_empty() && grant_types.contains(&GrantType::AuthorizationCode) {
            errors.push(
                "redirect_uris",
                "must list at least one redirect URI when authorization_code is requested",
            );
        }

        let mut requested_scopes = ScopeSet::default();
        for (i, raw) in self.requested_scopes.into_iter().enumerate() {
            let token = ScopeToken::parse(&raw).filter(|t| catalog.contains(t.as_str()));
            let Some(token) = token else {
                errors.push(
                    format!("requested_scopes[{i}]"),
                    format!("{raw:?} is not in the scope catalog (GET /v1/platform/scopes)"),
                );
                continue;
            };
            if requested_scopes.contains(token.as_str()) {
                errors.push(
                    format!("requested_scopes[{i}]"),
                    format!("{raw:?} is listed twice"),
                );
            } else {
                requested_scopes.insert(token);
            }
        }

        let (token_endpoint_auth_method, client_keys) = client_authentication(
            self.token_endpoint_auth_method,
            self.jwks,
            self.jwks_uri,
            &mut errors,
        );

        errors.into_result(App {
            client_id,
            tenant_id,
            name,
            grant_types,
            redirect_uris,
            requested_scopes,
            created_at: now,
            governance: Governance::default(),
            token_endpoint_auth_method,
            client_keys,
        })
    }
}

/// The authentication method asked for and the keys it needs: `jwks` or `jwks_uri` with
/// `private_key_jwt`, and only then. A `jwks_uri` is checked for its form here; whether this
/// handle fetches from it, and from which addresses, is the handle's rule (`check_registration`).
fn client_authentication(
    method: Option<String>,
    jwks: Option<serde_json::Value>,
    jwks_uri: Option<String>,
    errors: &mut ValidationErrors,
) -> (TokenEndpointAuthMethod, Option<ClientKeys>) {
    let method = match method.as_deref().map(TokenEndpointAuthMethod::parse) {
        None => TokenEndpointAuthMethod::default(),
        Some(Some(method)) => method,
        Some(None) => {
            errors.push(
                "token_endpoint_auth_method",
                "must be client_secret_basic, client_secret_post or private_key_jwt",
            );
            TokenEndpointAuthMethod::default()
        }
    };
    if method != TokenEndpointAuthMethod::PrivateKeyJwt {
        for (field, given) in [("jwks", jwks.is_some()), ("jwks_uri", jwks_uri.is_some())] {
            if given {
                errors.push(
                    field,
                    "is only for apps whose token_endpoint_auth_method is private_key_jwt",
                );
            }
        }
        return (method, None);
    }
    let keys = match (jwks, jwks_uri) {
        (None, None) => {
            errors.push(
                "jwks",
                "is required with private_key_jwt: the app's public keys as a JWK Set, or their URL as jwks_uri",
            );
            None
        }
        (Some(_), Some(_)) => {
            errors.push("jwks_uri", "must not be given together with jwks");
            None
        }
        (Some(document), None) => match ClientJwks::parse(document) {
            Ok(jwks) => Some(ClientKeys::Jwks(jwks)),
            Err(why) => {
                errors.push("jwks", why.to_string());
                None
            }
        },
        (None, Some(uri)) => match ClientJwksUri::parse(&uri, true) {
            Ok(uri) => Some(ClientKeys::JwksUri(uri)),
            Err(why) => {
                errors.push("jwks_uri", why.to_string());
                None
            }
        },
    };
    (method, keys)
}

/// The grants `raw` names, each once; every name that is not a grant, or repeated, is an error.
fn grant_types(raw: &[String], errors: &mut ValidationErrors) -> Vec<GrantType> {
    const SUPPORTED: &str =
        "authorization_code, client_credentials, urn:ietf:params:oauth:grant-type:token-exchange";
    let mut grant_types = Vec::new();
    if raw.is_empty() {
        errors.push(
            "grant_types",
            format!("must name at least one of {SUPPORTED}"),
        );
    }
    for (i, name) in raw.iter().enumerate() {
        match GrantType::parse(name) {
            Some(g) if grant_types.contains(&g) => {
                errors.push(
                    format!("grant_types[{i}]"),
                    format!("{name:?} is listed twice"),
                );
            }
            Some(g) => grant_types.push(g),
            None => errors.push(
                format!("grant_types[{i}]"),
                format!("{name:?} is not a supported grant; use one of {SUPPORTED}"),
            ),
        }
    }
    grant_types
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Registration {
        crate::testing::registration()
    }

    fn check(r: Registration) -> Result<App, ValidationErrors> {
        r.validate(
            &ScopeCatalog::reference(),
            AppId::generate(),
            TenantId::parse("t1").unwrap(),
            Timestamp::from_unix(1_800_000_000),
        )
    }

    fn fields(r: Registration) -> Vec<String> {
        check(r)
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn accepts_a_valid_registration_with_default_governance() {
        let app = check(valid()).unwrap();
        assert_eq!(app.name, "Case sync connector");
        assert_eq!(app.grant_types, [GrantType::ClientCredentials]);
        assert_eq!(app.governance, Governance::default());
        assert_eq!(app.created_at.unix(), 1_800_000_000);
    }

    #[test]
    fn name_must_be_1_to_200_characters() {
        assert_eq!(
            fields(Registration {
                name: "  ".into(),
                ..valid()
            }),
            ["name"]
        );
        assert_eq!(
            fields(Registration {
                name: "é".repeat(201),
                ..valid()
            }),
            ["name"]
        );
        assert!(
            check(Registration {
                name: "é".repeat(200),
                ..valid()
            })
            .is_ok()
        );
    }

    #[test]
    fn names_are_nfc_trimmed_and_free_of_invisible_characters() {
        let app = check(Registration {
            name: "  Cafe\u{301}  ".into(),
            ..valid()
        })
        .unwrap();
        assert_eq!(app.name, "Caf\u{e9}");
        assert!(
            check(Registration {
                name: format!(" {} ", "é".repeat(200)),
                ..valid()
            })
            .is_ok(),
            "the length counts the trimmed name"
        );
        for bad in [
            "evil\u{202e}gpj.exe",
            "a\u{200b}b",
            "a\u{2066}b",
            "a\u{2028}b",
            "a\u{e000}b",
            "a\u{7}b",
        ] {
            assert_eq!(
                fields(Registration {
                    name: bad.into(),
                    ..valid()
                }),
                ["name"],
                "{bad:?}"
            );
        }
    }

    #[test]
    fn redirect_uris_are_capped() {
        let many = (0..21)
            .map(|i| format!("https://a.example/cb{i}"))
            .collect();
        let r = Registration {
            grant_types: vec!["authorization_code".into()],
            redirect_uris: many,
            ..valid()
        };
        assert_eq!(fields(r), ["redirect_uris"]);
    }

    #[test]
    fn grant_types_must_be_a_non_empty_known_set() {
        assert_eq!(
            fields(Registration {
                grant_types: vec![],
                ..valid()
            }),
            ["grant_types"]
        );
        assert_eq!(
            fields(Registration {
                grant_types: vec!["password".into()],
                ..valid()
            }),
            ["grant_types[0]"]
        );
        assert_eq!(
            fields(Registration {
                grant_types: vec!["client_credentials".into(), "client_credentials".into()],
                ..valid()
            }),
            ["grant_types[1]"]
        );
    }

    #[test]
    fn authorization_code_needs_redirect_uris() {
        let r = Registration {
            grant_types: vec!["authorization_code".into()],
            ..valid()
        };
        assert_eq!(fields(r.clone()), ["redirect_uris"]);
        let ok = Registration {
            redirect_uris: vec!["https://integrator.example/cb".into()],
            ..r
        };
        assert!(check(ok).is_ok());
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let r = Registration {
            name: String::new(),
            grant_types: vec!["implicit".into()],
            redirect_uris: vec!["http://evil.example/cb".into()],
            requested_scopes: vec!["platform:admin".into()],
            ..Registration::default()
        };
        assert_eq!(
            fields(r),
            [
                "name",
                "grant_types[0]",
                "redirect_uris[0]",
                "requested_scopes[0]"
            ]
        );
    }

    #[test]
    fn private_key_jwt_needs_a_jwks_and_only_it_takes_one() {
        let jwks = crate::testing::ClientKey::es256("k1").jwks();
        let app = check(Registration {
            token_endpoint_auth_method: Some("private_key_jwt".into()),
            jwks: Some(jwks.clone()),
            ..valid()
        })
        .unwrap();
        assert_eq!(
            app.token_endpoint_auth_method,
            TokenEndpointAuthMethod::PrivateKeyJwt
        );
        assert!(matches!(app.client_keys, Some(ClientKeys::Jwks(_))));
        let post = check(Registration {
            token_endpoint_auth_method: Some("client_secret_post".into()),
            ..valid()
        })
        .unwrap();
        assert_eq!(post.client_keys, None);
        let keyless = Registration {
            token_endpoint_auth_method: Some("private_key_jwt".into()),
            ..valid()
        };
        assert_eq!(fields(keyless), ["jwks"]);
        let secret_with_keys = Registration {
            jwks: Some(jwks.clone()),
            ..valid()
        };
        assert_eq!(fields(secret_with_keys), ["jwks"]);
        let unknown = Registration {
            token_endpoint_auth_method: Some("tls_client_auth".into()),
            ..valid()
        };
        assert_eq!(fields(unknown), ["token_endpoint_auth_method"]);
        let mut private = jwks;
        private["keys"][0]["d"] = serde_json::json!("AAAA");
        let leaked = Registration {
            token_endpoint_auth_method: Some("private_key_jwt".into()),
            jwks: Some(private),
            ..valid()
        };
        assert_eq!(fields(leaked), ["jwks"]);
    }
}

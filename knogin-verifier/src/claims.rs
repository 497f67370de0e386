//! The claims of a knogin access token, and the checks every holder of one shares: the issuer's
//! own bearer routes and a resource server's [`Verifier`](crate::Verifier) read a token through
//! [`UnverifiedToken`] and judge its times with [`check_times`], so the two cannot drift apart.

use std::time::Duration;

use jsonwebtoken::{Header, Validation};
use knogin_time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{VerifyError, VerifyingKey};

/// The `aud` claim: one audience (a string) or several (an array), RFC 7519 §4.1.3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Audience {
    /// One audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl Audience {
    /// Whether the token is meant for `audience`.
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Self::One(a) => a == audience,
            Self::Many(all) => all.iter().any(|a| a == audience),
        }
    }
}

/// The claims of an access token, in the RFC 9068 shape plus the `tenant` it acts in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct AccessClaims {
    /// The issuer URL, verbatim.
    pub iss: String,
    /// Who the token acts for: a user, or the client itself for machine tokens.
    pub sub: String,
    /// The resource servers the token is for: the issuer's configured audiences (default the
    /// issuer); for admin tokens, the issuer's platform API.
    pub aud: Audience,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Not before, seconds since the epoch.
    pub nbf: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// A unique id for this token.
    pub jti: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// Space-separated scopes.
    pub scope: String,
    /// The tenant the token acts in.
    pub tenant: String,
    /// The key the token is bound to, for a DPoP-bound token (RFC 9449 §6): whoever presents
    /// it must prove possession of that key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// Who acts for the subject, for a token issued by token exchange (RFC 8693 §4.1): the
    /// current actor, with the earlier ones nested in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<ActorClaim>,
}

/// The `act` claim of a delegated token (RFC 8693 §4.1): the party acting for the token's
/// subject, and before it the earlier actors of a chain of delegation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ActorClaim {
    /// The actor: a client id, or the subject of the actor token it presented.
    pub sub: String,
    /// The actor before this one, if the subject token was itself delegated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<Object>))]
    pub act: Option<Box<ActorClaim>>,
}

/// The `cnf` claim of a sender-constrained token (RFC 7800 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Confirmation {
    /// The RFC 7638 SHA-256 thumbprint of the DPoP key, base64url (RFC 9449 §6.1).
    pub jkt: String,
}

impl AccessClaims {
    /// The thumbprint of the DPoP key the token is bound to, if it is bound.
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.cnf.as_ref().map(|cnf| cnf.jkt.as_str())
    }

    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }
}

/// A compact JWS whose header has been read but whose signature is not checked yet: the first
/// step of every token check.
///
/// [`parse`](Self::parse) refuses a token over the size cap unread, one whose header is not
/// JSON, and one that marks an extension critical (RFC 7515 §4.1.11: none is understood here).
/// The caller then picks the key the `kid` names and calls [`verify`](Self::verify), which
/// accepts only that key's own algorithm (RFC 8725 §3.1: the header names it, it does not
/// choose it).
#[derive(Debug)]
pub struct UnverifiedToken<'a> {
    token: &'a str,
    header: Header,
}

impl<'a> UnverifiedToken<'a> {
    /// Reads `token`'s header, if the token is at most `max_bytes` long.
    pub fn parse(token: &'a str, max_bytes: usize) -> Result<Self, VerifyError> {
        if token.len() > max_bytes {
            return Err(VerifyError::TooLarge(max_bytes));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
        if header.crit.is_some() {
            return Err(VerifyError::Malformed);
        }
        Ok(Self { token, header })
    }

    /// The header's `typ`, as written.
    pub fn typ(&self) -> Option<&str> {
        self.header.typ.as_deref()
    }

    /// The header's `kid`: which key the token says signed it.
    pub fn kid(&self) -> Option<&str> {
        self.header.kid.as_deref()
    }

    /// The claims, if the header names `key`'s algorithm and the signature verifies with it.
    /// Times, issuer and audience are not judged here (see [`check_times`]).
    pub fn verify(self, key: &VerifyingKey) -> Result<AccessClaims, VerifyError> {
        if self.header.alg != key.algorithm {
            return Err(VerifyError::AlgorithmMismatch);
        }
        let mut validation = Validation::new(key.algorithm);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<AccessClaims>(self.token, &key.key, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => VerifyError::BadSignature,
                _ => VerifyError::Malformed,
            })
    }
}

/// Whether `typ` names an access token (RFC 9068 §2.1; the media-type form too, RFC 8725
/// §3.11).
pub fn is_access_token_type(typ: Option<&str>) -> bool {
    typ.is_some_and(|t| {
        t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
    })
}

/// Judges `claims`' times at `now`, tolerating `leeway` of clock skew: refused once `exp` has
/// passed, and while `nbf` or `iat` is still ahead.
pub fn check_times(
    claims: &AccessClaims,
    now: Timestamp,
    leeway: Duration,
) -> Result<(), VerifyError> {
    let now = now.unix();
    let leeway = i64::try_from(leeway.as_secs()).unwrap_or(i64::MAX);
    if claims.exp <= now.saturating_sub(leeway) {
        return Err(VerifyError::Expired);
    }
    if claims.nbf > now.saturating_add(leeway) || claims.iat > now.saturating_add(leeway) {
        return Err(VerifyError::NotYetValid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(iat: i64, nbf: i64, exp: i64) -> AccessClaims {
        AccessClaims {
            iss: "https://auth.example".into(),
            sub: "app_1".into(),
            aud: Audience::One("https://auth.example".into()),
            exp,
            nbf,
            iat,
            jti: "j".into(),
            client_id: "app_1".into(),
            scope: "a:read b:write".into(),
            tenant: "acme".into(),
            cnf: None,
            act: None,
        }
    }

    #[test]
    fn times_are_judged_with_the_leeway_on_each_side() {
        let now = Timestamp::from_unix(1_000);
        let leeway = Duration::from_secs(5);
        assert_eq!(
            check_times(&claims(1_000, 1_000, 1_600), now, leeway),
            Ok(())
        );
        assert_eq!(check_times(&claims(1_000, 1_000, 996), now, leeway), Ok(()));
        assert_eq!(
            check_times(&claims(900, 900, 995), now, leeway),
            Err(VerifyError::Expired)
        );
        assert_eq!(
            check_times(&claims(1_005, 1_005, 1_600), now, leeway),
            Ok(())
        );
        assert_eq!(
            check_times(&claims(1_000, 1_006, 1_600), now, leeway),
            Err(VerifyError::NotYetValid)
        );
        assert_eq!(
            check_times(&claims(1_006, 1_000, 1_600), now, leeway),
            Err(VerifyError::NotYetValid)
        );
        assert_eq!(
            check_times(
                &claims(0, 0, i64::MIN),
                Timestamp::from_unix(i64::MIN),
                Duration::MAX
            ),
            Err(VerifyError::Expired)
        );
    }

    #[test]
    fn the_header_is_read_within_the_cap_and_crit_is_refused() {
        assert_eq!(
            UnverifiedToken::parse(&"x".repeat(9), 8).unwrap_err(),
            VerifyError::TooLarge(8)
        );
        assert_eq!(
            UnverifiedToken::parse("not a token", 64).unwrap_err(),
            VerifyError::Malformed
        );
        let header = |json: &str| {
            use base64::Engine as _;
            format!(
                "{}.e30.c2ln",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
            )
        };
        let token = header(r#"{"alg":"ES256","typ":"at+jwt","kid":"k1"}"#);
        let read = UnverifiedToken::parse(&token, 1024).unwrap();
        assert_eq!((read.typ(), read.kid()), (Some("at+jwt"), Some("k1")));
        let critical = header(r#"{"alg":"ES256","typ":"at+jwt","crit":["exp"]}"#);
        assert_eq!(
            UnverifiedToken::parse(&critical, 1024).unwrap_err(),
            VerifyError::Malformed
        );
    }

    #[test]
    fn scopes_match_whole_names() {
        let c = claims(0, 0, 1);
        assert!(c.has_scope("a:read") && c.has_scope("b:write"));
        assert!(!c.has_scope("a") && !c.has_scope("read"));
    }
}

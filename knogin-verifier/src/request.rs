//! What a token check reads of a request: its head, and the token its `Authorization` header
//! presents (RFC 6750 `Bearer`, RFC 9449 `DPoP`).

use http::header::AUTHORIZATION;
use http::{HeaderMap, Method, Uri};

mod sealed {
    pub trait Sealed {}
    impl<B> Sealed for http::Request<B> {}
    impl Sealed for http::request::Parts {}
}

/// What a token check reads of a request: its headers and, for a DPoP proof, its method and
/// URI. Implemented for [`http::Request`] and [`http::request::Parts`], so a route passes
/// whichever it holds.
pub trait RequestHead: sealed::Sealed {
    /// The request's headers.
    fn headers(&self) -> &HeaderMap;
    /// The request's method.
    fn method(&self) -> &Method;
    /// The request's URI.
    fn uri(&self) -> &Uri;
}

impl<B> RequestHead for http::Request<B> {
    fn headers(&self) -> &HeaderMap {
        self.headers()
    }
    fn method(&self) -> &Method {
        self.method()
    }
    fn uri(&self) -> &Uri {
        self.uri()
    }
}

impl RequestHead for http::request::Parts {
    fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    fn method(&self) -> &Method {
        &self.method
    }
    fn uri(&self) -> &Uri {
        &self.uri
    }
}

/// How a request presents its access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenScheme {
    /// `Authorization: Bearer <token>` (RFC 6750 §2.1).
    Bearer,
    /// `Authorization: DPoP <token>` with a `DPoP` proof (RFC 9449 §7.1).
    Dpop,
}

/// Why a request's `Authorization` header presents no token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoToken {
    /// There is no `Authorization` header.
    Missing,
    /// The header is not `Bearer <token>` or `DPoP <token>`.
    Malformed,
}

/// The scheme and token of `headers`' `Authorization` header.
///
/// ```
/// use knogin_verifier::{NoToken, TokenScheme, presented_token};
///
/// let mut headers = http::HeaderMap::new();
/// assert_eq!(presented_token(&headers), Err(NoToken::Missing));
/// headers.insert("authorization", "dpop eyJ.x.y".parse().unwrap());
/// assert_eq!(presented_token(&headers), Ok((TokenScheme::Dpop, "eyJ.x.y")));
/// headers.insert("authorization", "Basic dTpw".parse().unwrap());
/// assert_eq!(presented_token(&headers), Err(NoToken::Malformed));
/// ```
pub fn presented_token(headers: &HeaderMap) -> Result<(TokenScheme, &str), NoToken> {
    let header = headers.get(AUTHORIZATION).ok_or(NoToken::Missing)?;
    let (scheme, token) = header
        .to_str()
        .ok()
        .and_then(|h| h.split_once(' '))
        .map(|(scheme, token)| (scheme, token.trim()))
        .filter(|(_, token)| !token.is_empty())
        .ok_or(NoToken::Malformed)?;
    if scheme.eq_ignore_ascii_case("bearer") {
        Ok((TokenScheme::Bearer, token))
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Ok((TokenScheme::Dpop, token))
    } else {
        Err(NoToken::Malformed)
    }
}

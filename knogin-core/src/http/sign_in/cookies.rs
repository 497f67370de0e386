//! The cookies of the browser flow: `HttpOnly`, `SameSite=Lax`, scoped to the OAuth routes, and
//! `Secure` unless the issuer is plain http on a loopback host (a developer's machine).

use cookie::{Cookie, SameSite};
use http::header::{COOKIE, HeaderValue};
use http::request::Parts;

/// How this server's cookies are set.
#[derive(Debug, Clone)]
pub(crate) struct CookieJar {
    secure: bool,
    path: String,
}

impl CookieJar {
    /// The cookies of `issuer`'s OAuth routes: `{issuer path}/v1/oauth/`.
    pub(crate) fn for_issuer(issuer: &str) -> Self {
        let url = url::Url::parse(issuer).expect("the builder checked the issuer");
        Self {
            secure: url.scheme() == "https",
            path: format!("{}/v1/oauth/", url.path().trim_end_matches('/')),
        }
    }

    /// A `Set-Cookie` value setting `name` to `value` for `max_age`.
    pub(crate) fn set(&self, name: &str, value: &str, max_age: std::time::Duration) -> HeaderValue {
        let seconds = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        self.header(Cookie::build((name, value)).max_age(cookie::time::Duration::seconds(seconds)))
    }

    /// A `Set-Cookie` value deleting `name`.
    pub(crate) fn clear(&self, name: &str) -> HeaderValue {
        self.header(Cookie::build((name, "")).max_age(cookie::time::Duration::ZERO))
    }

    fn header(&self, cookie: cookie::CookieBuilder<'_>) -> HeaderValue {
        let cookie = cookie
            .path(self.path.as_str())
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .build();
        HeaderValue::from_str(&cookie.to_string())
            .expect("cookie names and values here are header-safe")
    }
}

/// The value of the cookie `name` the request carries, if any.
pub(crate) fn read(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_secure_except_on_loopback_http() {
        let local = CookieJar::for_issuer("http://127.0.0.1:8080");
        let set = local.set("knogin_session", "kf_1", std::time::Duration::from_secs(60));
        assert_eq!(
            set,
            "knogin_session=kf_1; HttpOnly; SameSite=Lax; Path=/v1/oauth/; Max-Age=60"
        );
        let public = CookieJar::for_issuer("https://auth.example/knogin/");
        let set = public.set("knogin_session", "kf_1", std::time::Duration::from_secs(60));
        assert_eq!(
            set,
            "knogin_session=kf_1; HttpOnly; SameSite=Lax; Secure; Path=/knogin/v1/oauth/; Max-Age=60"
        );
        assert!(
            public
                .clear("knogin_login")
                .to_str()
                .unwrap()
                .contains("Max-Age=0")
        );
    }

    #[test]
    fn reads_a_cookie_among_others() {
        let (parts, ()) = http::Request::get("/")
            .header(COOKIE, "a=1; knogin_login=kf_x")
            .header(COOKIE, "b=2")
            .body(())
            .unwrap()
            .into_parts();
        assert_eq!(read(&parts, "knogin_login").as_deref(), Some("kf_x"));
        assert_eq!(read(&parts, "b").as_deref(), Some("2"));
        assert_eq!(read(&parts, "c"), None);
    }
}

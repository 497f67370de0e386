//! The cookies of the browser flow: `HttpOnly`, `SameSite=Lax`, scoped to the OAuth routes, and
//! `Secure` with the `__Secure-` name prefix unless the issuer is plain http on a loopback host
//! (a developer's machine). A request carrying one of them twice (a sibling domain planting its
//! own) is treated as carrying none.

use cookie::{Cookie, SameSite};
use http::header::{COOKIE, HeaderValue};
use http::request::Parts;

/// How this server's cookies are set.
#[derive(Debug, Clone)]
pub(crate) struct CookieJar {
    secure: bool,
    path: String,
}

/// The name prefix browsers keep for cookies set over https with `Secure` (RFC 6265bis §4.1.3.1).
const SECURE_PREFIX: &str = "__Secure-";

impl CookieJar {
    /// The cookies of `issuer`'s OAuth routes: `{issuer path}/v1/oauth/`.
    pub(crate) fn for_issuer(issuer: &str) -> Self {
        let url = url::Url::parse(issuer).expect("the builder checked the issuer");
        Self {
            secure: url.scheme() == "https",
            path: format!("{}/v1/oauth/", url.path().trim_end_matches('/')),
        }
    }

    /// The cookie's name as set: `name`, with the `__Secure-` prefix when secure.
    fn name(&self, name: &str) -> String {
        if self.secure {
            format!("{SECURE_PREFIX}{name}")
        } else {
            name.to_owned()
        }
    }

    /// A `Set-Cookie` value setting `name` to `value` for `max_age`.
    pub(crate) fn set(&self, name: &str, value: &str, max_age: std::time::Duration) -> HeaderValue {
        let seconds = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        self.header(
            Cookie::build((self.name(name), value.to_owned()))
                .max_age(cookie::time::Duration::seconds(seconds)),
        )
    }

    /// A `Set-Cookie` value deleting `name`.
    pub(crate) fn clear(&self, name: &str) -> HeaderValue {
        self.header(
            Cookie::build((self.name(name), String::new())).max_age(cookie::time::Duration::ZERO),
        )
    }

    /// The value of the cookie `name` the request carries: `None` without one, and when it
    /// carries several (which one is this server's cannot be told).
    pub(crate) fn read(&self, parts: &Parts, name: &str) -> Option<String> {
        let name = self.name(name);
        let mut found = parts
            .headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|header| header.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .filter(|cookie| cookie.name() == name)
            .map(|cookie| cookie.value().to_owned());
        let first = found.next()?;
        found.next().is_none().then_some(first)
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
            "__Secure-knogin_session=kf_1; HttpOnly; SameSite=Lax; Secure; Path=/knogin/v1/oauth/; Max-Age=60"
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
    fn reads_a_cookie_among_others_but_not_a_doubled_one() {
        let request = |cookies: &[&str]| {
            let mut builder = http::Request::get("/");
            for c in cookies {
                builder = builder.header(COOKIE, *c);
            }
            builder.body(()).unwrap().into_parts().0
        };
        let local = CookieJar::for_issuer("http://127.0.0.1:8080");
        let parts = request(&["a=1; knogin_login=kf_x", "b=2"]);
        assert_eq!(local.read(&parts, "knogin_login").as_deref(), Some("kf_x"));
        assert_eq!(local.read(&parts, "b").as_deref(), Some("2"));
        assert_eq!(local.read(&parts, "c"), None);
        // A second cookie of the name (planted by a sibling domain) makes it unreadable.
        let planted = request(&["knogin_session=kf_mine", "knogin_session=kf_theirs"]);
        assert_eq!(local.read(&planted, "knogin_session"), None);
        // Over https only the prefixed name counts.
        let public = CookieJar::for_issuer("https://auth.example");
        let parts = request(&["knogin_session=kf_plain; __Secure-knogin_session=kf_secure"]);
        assert_eq!(
            public.read(&parts, "knogin_session").as_deref(),
            Some("kf_secure")
        );
    }
}

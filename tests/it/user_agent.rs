//! A browser as the authorization endpoint sees one: it keeps the cookies it is given (for the
//! paths they are scoped to) and follows the server's relative redirects by hand.

use std::collections::HashMap;

use bytes::Bytes;
use http::{Method, StatusCode};

use crate::support::{TestResponse, TestServer};

/// One browser: its cookies by name.
#[derive(Clone, Default)]
pub struct UserAgent {
    cookies: HashMap<String, String>,
}

impl UserAgent {
    /// Keeps the cookies `answer` sets (a `Max-Age=0` one is deleted), checking their flags.
    fn keep(&mut self, answer: &TestResponse) {
        for set in answer.headers.get_all("set-cookie") {
            let set = set.to_str().unwrap();
            assert!(
                set.contains("; HttpOnly") && set.contains("; SameSite=Lax"),
                "{set}"
            );
            assert!(set.contains("; Path=/v1/oauth/"), "{set}");
            // Secure, since the test issuer is https (loopback http would leave it out).
            assert!(set.contains("; Secure"), "{set}");
            let (pair, _) = set.split_once(';').unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    /// The `Cookie` header this browser sends.
    fn cookie_header(&self) -> String {
        let mut pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        pairs.sort();
        pairs.join("; ")
    }

    /// Forgets the cookie `name` (as another browser would not have it).
    pub fn drop_cookie(&mut self, name: &str) {
        self.cookies.remove(name);
    }

    /// `GET path`.
    pub async fn get(&mut self, server: &TestServer, path: &str) -> TestResponse {
        let cookie = self.cookie_header();
        let answer = server
            .send(Method::GET, path, &[("cookie", &cookie)], Bytes::new())
            .await;
        self.keep(&answer);
        answer
    }

    /// Posts the form `body` to `path`.
    pub async fn post(&mut self, server: &TestServer, path: &str, body: &str) -> TestResponse {
        self.post_with(server, path, &[], body).await
    }

    /// Posts the form `body` to `path` with `extra` headers (as a proxy in between adds them).
    pub async fn post_with(
        &mut self,
        server: &TestServer,
        path: &str,
        extra: &[(&str, &str)],
        body: &str,
    ) -> TestResponse {
        let cookie = self.cookie_header();
        let mut headers = vec![
            ("cookie", cookie.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
        ];
        headers.extend_from_slice(extra);
        let answer = server
            .send(Method::POST, path, &headers, Bytes::from(body.to_owned()))
            .await;
        self.keep(&answer);
        answer
    }

    /// Signs in through the login page `login_page` answered: posts the credentials with the
    /// page's form token, and follows the redirect back to the authorization request.
    pub async fn sign_in(
        &mut self,
        server: &TestServer,
        login_page: &TestResponse,
        user: &str,
        password: &str,
    ) -> TestResponse {
        let body = format!(
            "{}&username={user}&password={}",
            login_fields(login_page),
            crate::code_flow::form_encode(password)
        );
        let answer = self.post(server, "/v1/oauth/login", &body).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
        let back = answer.header("location").to_owned();
        assert!(back.starts_with("authorize?"), "{back}");
        self.get(server, &format!("/v1/oauth/{back}")).await
    }
}

/// The form token of a login or consent page.
pub fn csrf_token(page: &TestResponse) -> String {
    let text = page.text();
    let (_, rest) = text
        .split_once(r#"name="csrf_token" value=""#)
        .unwrap_or_else(|| panic!("no form token on the page: {text}"));
    rest.split('"').next().unwrap().to_owned()
}

/// The hidden fields of a login page, form-encoded: its token and the authorization request it
/// returns to (for a body that adds `username` and `password`).
pub fn login_fields(page: &TestResponse) -> String {
    let text = page.text();
    let (_, rest) = text
        .split_once(r#"name="return_to" value=""#)
        .unwrap_or_else(|| panic!("no return_to on the page: {text}"));
    let escaped = rest.split('"').next().unwrap();
    let return_to = escaped
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf_token", &csrf_token(page))
        .append_pair("return_to", &return_to)
        .finish()
}

/// The query parameters of a redirect's `Location`.
pub fn redirect_params(answer: &TestResponse) -> HashMap<String, String> {
    let location = answer.header("location");
    let (_, query) = location
        .split_once('?')
        .unwrap_or_else(|| panic!("no query in {location:?}"));
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

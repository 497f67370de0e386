//! The built-in login page.

use maud::{Markup, html};

use super::layout;

/// The login form: `username` and `password`, with the form's CSRF token and the authorization
/// request it returns to. `error`, when set, is announced and tied to both fields; `username`
/// refills the name after a failed attempt.
pub(crate) fn page(
    csrf_token: &str,
    return_to: &str,
    username: &str,
    error: Option<&str>,
) -> Markup {
    let invalid = error.map(|_| "true");
    let described = error.map(|_| "login-error");
    layout(
        "Sign in",
        html! {
            p.muted { "Sign in to continue to the application that sent you here." }
            @if let Some(error) = error {
                p #login-error .alert role="alert" { (error) }
            }
            form method="post" action="login" {
                input type="hidden" name="csrf_token" value=(csrf_token);
                input type="hidden" name="return_to" value=(return_to);
                label for="username" { "Username" }
                input #username type="text" name="username" value=(username)
                    autocomplete="username" autocapitalize="none" spellcheck="false" required
                    autofocus[error.is_none()] aria-invalid=[invalid] aria-describedby=[described];
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password"
                    required autofocus[error.is_some()] aria-invalid=[invalid]
                    aria-describedby=[described];
                div.actions {
                    button.primary type="submit" { "Sign in" }
                }
            }
        },
    )
}

/// The page after signing out.
pub(crate) fn signed_out() -> Markup {
    layout(
        "Signed out",
        html! {
            p { "You are signed out. Close this window, or go back to the application to sign in again." }
        },
    )
}

//! The consent page: which application asks for what, and the user's two answers.

use maud::{Markup, html};

use super::layout;
use crate::oauth::AuthorizationRequest;
use crate::scope::ScopeCatalog;

/// The consent form for `request`, shown to `subject`, carrying the pending request's token.
/// Each scope is listed with its description from `catalog`.
pub(crate) fn page(
    request: &AuthorizationRequest,
    catalog: &ScopeCatalog,
    subject: &str,
    csrf_token: &str,
) -> Markup {
    let title = format!("Allow {} to access your account?", request.client_name);
    layout(
        &title,
        html! {
            p {
                "You are signed in as " strong { (subject) } ". "
                strong { (request.client_name) } " asks for permission to:"
            }
            ul.scopes aria-label="Requested permissions" {
                @for scope in &request.scopes {
                    li {
                        code { (scope.as_str()) }
                        @if let Some(found) = catalog.scopes().iter().find(|s| s.name == scope.as_str()) {
                            ": " (found.description)
                        }
                    }
                }
            }
            p.muted {
                "Allowing sends you back to " code { (request.redirect_uri) } "."
            }
            form method="post" action="authorize" {
                input type="hidden" name="csrf_token" value=(csrf_token);
                div.actions {
                    button.primary type="submit" name="decision" value="approve" { "Allow" }
                    button.secondary type="submit" name="decision" value="deny" { "Deny" }
                }
            }
        },
    )
}

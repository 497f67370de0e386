//! The docs' locales: English (canonical) and Dutch, and the prose each translates.
//!
//! Only prose is translated: topic titles and introductions, labels, the quick start and the
//! boundary sections. Routes, payloads, field names and code examples stay in canonical English
//! in every locale, as the contract's Dutch page keeps them.

use http::HeaderMap;
use http::header::ACCEPT_LANGUAGE;

/// A locale of the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Locale {
    /// English, the canonical text.
    En,
    /// Dutch.
    Nl,
}

impl Locale {
    /// Both, English first.
    pub(crate) const ALL: [Self; 2] = [Self::En, Self::Nl];

    /// The language tag (`Content-Language`).
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Nl => "nl",
        }
    }

    /// `?locale=` when given (an unknown one is English), else the best of `Accept-Language`
    /// (RFC 9110 §12.5.4: by q-value, `nl-BE` matching `nl`), else English.
    pub(crate) fn negotiate(query: Option<&str>, headers: &HeaderMap) -> Self {
        if let Some(asked) = query {
            return Self::parse(asked).unwrap_or(Self::En);
        }
        let mut best = (Self::En, 0.0_f32);
        for (tag, q) in crate::http::weighted::weighted(headers, &ACCEPT_LANGUAGE) {
            if let Some(locale) = Self::parse(tag)
                && q > best.1
            {
                best = (locale, q);
            }
        }
        best.0
    }

    /// `en`, `nl`, or a tag with one of them as primary subtag (`nl-NL`).
    fn parse(tag: &str) -> Option<Self> {
        let primary = tag.split('-').next().unwrap_or("");
        if primary.eq_ignore_ascii_case("en") {
            Some(Self::En)
        } else if primary.eq_ignore_ascii_case("nl") {
            Some(Self::Nl)
        } else {
            None
        }
    }

    /// This locale's prose.
    pub(crate) fn text(self) -> &'static Text {
        match self {
            Self::En => &EN,
            Self::Nl => &NL,
        }
    }
}

/// The prose of one locale.
#[derive(Debug)]
pub(crate) struct Text {
    /// The index's `description`.
    pub(crate) index_description: &'static str,
    /// Each topic's `(title, description)`, in the order of [`TOPICS`](crate::http::TOPICS).
    pub(crate) topics: [(&'static str, &'static str); 6],
    /// The quick start's steps.
    pub(crate) quick_start: [&'static str; 5],
    /// The api-reference topic's prose sections: `(id, title, content)`; `{auth}`, `{api}` and
    /// `{docs}` are the configured base URLs.
    pub(crate) reference_sections: [(&'static str, &'static str, &'static str); 4],
    pub(crate) route: &'static str,
    pub(crate) host: &'static str,
    pub(crate) auth: &'static str,
    pub(crate) audience: &'static str,
    pub(crate) stability: &'static str,
    pub(crate) stable: &'static str,
    pub(crate) integrators: &'static str,
    pub(crate) admins: &'static str,
    pub(crate) notes: &'static str,
    pub(crate) request_example: &'static str,
    pub(crate) response_example: &'static str,
    pub(crate) related: &'static str,
    /// The llms.txt summary line.
    pub(crate) summary: &'static str,
}

const EN: Text = Text {
    index_description: "Knogin external integration documentation for app registration, OAuth, JWKS verification, webhook delivery, and GraphQL transport.",
    topics: [
        (
            "Knogin External Integration API",
            "Stable public integration documentation for external integrators. This surface covers app registration, OAuth, JWKS verification, webhooks, and GraphQL transport only.",
        ),
        (
            "Identity and app registration",
            "Register an integration, inspect allowed scopes, and manage governance settings for an external app.",
        ),
        (
            "OAuth and service tokens",
            "Use OAuth 2.0 authorization code or client credentials flows, then rotate credentials without exposing internal auth flows.",
        ),
        (
            "JWKS and token verification",
            "Verify Knogin-issued JWTs against public JWKS endpoints rather than relying on private signing details.",
        ),
        (
            "Event delivery and webhooks",
            "Create, test, and observe webhook deliveries for approved outbound integrations.",
        ),
        (
            "GraphQL transport contract",
            "Connect to the shared GraphQL transport with bearer authentication and tenant scoping, without publishing the full schema or operation inventory.",
        ),
    ],
    quick_start: [
        "Register an external app with the auth service.",
        "Request only approved scopes for your tenant.",
        "Obtain OAuth or service tokens for your workflow.",
        "Verify JWTs against the public JWKS endpoints.",
        "Use webhooks or request access for advanced platform capabilities.",
    ],
    reference_sections: [
        (
            "contract-boundary",
            "Contract Boundary",
            "This documentation covers the stable external integration contract only. Platform internals, administrative routes, schema-level discovery, and partner-only capabilities are intentionally withheld from the public surface.\n\nRoute names, token examples, and transport details remain in canonical English so they stay aligned with the public contract exactly.",
        ),
        (
            "base-urls",
            "Base URLs",
            "- Auth service: {auth}\n- GraphQL transport: {api}/graphql\n- Machine-readable docs: {docs}/api/docs",
        ),
        (
            "quick-start",
            "Quick Start",
            "1. Register an external app with the auth service.\n2. Request only approved scopes for your tenant.\n3. Obtain OAuth or service tokens for your workflow.\n4. Verify JWTs against the public JWKS endpoints.\n5. Use webhooks or request access for advanced platform capabilities.",
        ),
        (
            "capabilities-by-request",
            "Capabilities Available By Request",
            "Expanded control-plane APIs, curated GraphQL bundles, and enterprise federation stay behind reviewed access.\n\n- Platform control-plane APIs (/api/v1/platform/*): expanded control-plane workflows are available only through approved partner or customer programs.\n- Curated GraphQL operation bundles: approved integrations can receive a narrow set of GraphQL operations derived from vetted workflows instead of full schema discovery.\n- Enterprise federation and SAML (/v1/saml/*): federation setup and SAML onboarding are handled through guided implementation rather than a self-serve public blueprint.\n\nDetailed documentation for these capabilities is available only through the vendor integration process.",
        ),
    ],
    route: "Route",
    host: "Host",
    auth: "Auth",
    audience: "Audience",
    stability: "Stability",
    stable: "Stable",
    integrators: "External integrators",
    admins: "Customer administrators",
    notes: "Integration notes:",
    request_example: "Request example",
    response_example: "Response example",
    related: "Related Topics",
    summary: "Stable public integration documentation for external integrators: app registration, OAuth, JWKS verification, webhooks, and GraphQL transport.",
};

const NL: Text = Text {
    index_description: "Knogin-documentatie voor externe integratie: app-registratie, OAuth, JWKS-validatie, webhookleveringen en GraphQL-transport.",
    topics: [
        (
            "Externe Integratie-API van Knogin",
            "Stabiele publieke integratiedocumentatie voor externe integrators. Dit oppervlak beslaat alleen app-registratie, OAuth, JWKS-validatie, webhooks en GraphQL-transport.",
        ),
        (
            "Identiteit en app-registratie",
            "Registreer een integratie, bekijk goedgekeurde scopes en beheer governance voor een externe app.",
        ),
        (
            "OAuth en service tokens",
            "Gebruik goedgekeurde tokenflows voor user-delegated of machine-to-machine integraties.",
        ),
        (
            "JWKS en tokenvalidatie",
            "Valideer door Knogin uitgegeven JWT’s tegen publieke signing keys.",
        ),
        (
            "Event delivery en webhooks",
            "Maak, test en observeer uitgaande webhookleveringen voor goedgekeurde integraties.",
        ),
        (
            "GraphQL-transportcontract",
            "Verbind met het gedeelde GraphQL-transport zonder schema of operatie-inventaris te publiceren.",
        ),
    ],
    quick_start: [
        "Registreer een externe app bij de auth-service.",
        "Vraag alleen goedgekeurde scopes aan voor je tenant.",
        "Haal OAuth- of service tokens op voor je workflow.",
        "Valideer JWT’s tegen de publieke JWKS-endpoints.",
        "Gebruik webhooks of vraag toegang aan voor geavanceerde platformmogelijkheden.",
    ],
    reference_sections: [
        (
            "contract-boundary",
            "Securitygrens",
            "Deze documentatie beslaat alleen het stabiele contract voor externe integratie. Platforminterne onderdelen, beheerroutes, schema-discovery en mogelijkheden voor partners blijven bewust buiten het publieke oppervlak.\n\nRoutenamen, tokenvoorbeelden en transportdetails blijven in canoniek Engels zodat ze exact overeenkomen met het publieke contract.",
        ),
        (
            "base-urls",
            "Basis-URL’s",
            "- Auth-service: {auth}\n- GraphQL-transport: {api}/graphql\n- Machineleesbare docs: {docs}/api/docs",
        ),
        (
            "quick-start",
            "Snelstart",
            "1. Registreer een externe app bij de auth-service.\n2. Vraag alleen goedgekeurde scopes aan voor je tenant.\n3. Haal OAuth- of service tokens op voor je workflow.\n4. Valideer JWT’s tegen de publieke JWKS-endpoints.\n5. Gebruik webhooks of vraag toegang aan voor geavanceerde platformmogelijkheden.",
        ),
        (
            "capabilities-by-request",
            "Beschikbaar op aanvraag",
            "Uitgebreide platform-API’s, gecureerde GraphQL-bundels en federation blijven achter beoordeelde toegang.\n\n- Platform control-plane API’s (/api/v1/platform/*): alleen beschikbaar via goedgekeurde partner- of klantprogramma’s.\n- Gecureerde GraphQL-bundels: goedgekeurde integraties kunnen een smalle set GraphQL-operaties ontvangen in plaats van volledige schema-discovery.\n- Enterprise federation en SAML (/v1/saml/*): begeleide implementatie in plaats van een publieke self-service blauwdruk.\n\nGedetailleerde documentatie voor deze capaciteiten is alleen beschikbaar via het beoordeelde integratieproces.",
        ),
    ],
    route: "Route",
    host: "Host",
    auth: "Auth",
    audience: "Doelgroep",
    stability: "Stabiliteit",
    stable: "Stabiel",
    integrators: "Externe integrators",
    admins: "Klantadmins",
    notes: "Integratie-opmerkingen:",
    request_example: "Voorbeeld van request",
    response_example: "Voorbeeld van response",
    related: "Gerelateerde onderwerpen",
    summary: "Stabiele publieke integratiedocumentatie voor externe integrators: app-registratie, OAuth, JWKS-validatie, webhooks en GraphQL-transport.",
};

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn negotiate(query: Option<&str>, accept: Option<&str>) -> Locale {
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept {
            headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_str(accept).unwrap());
        }
        Locale::negotiate(query, &headers)
    }

    #[test]
    fn the_query_wins_then_the_best_accepted_language() {
        assert_eq!(negotiate(None, None), Locale::En);
        assert_eq!(negotiate(Some("nl"), Some("en")), Locale::Nl);
        assert_eq!(negotiate(Some("fr"), Some("nl")), Locale::En);
        assert_eq!(negotiate(None, Some("nl-BE, en;q=0.5")), Locale::Nl);
        assert_eq!(negotiate(None, Some("en;q=0.4, nl;q=0.8")), Locale::Nl);
        assert_eq!(negotiate(None, Some("fr, de;q=0.9")), Locale::En);
    }
}

//! The one TLS client configuration of every outbound connection: rustls on aws-lc-rs with the
//! web PKI roots, HTTP/1.1. The JWKS fetch, the introspection check and the webhook transport
//! (`knogin-hyper`) all build their connectors here, so they share one root store and one TLS
//! session cache.

use std::sync::LazyLock;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;

/// Built once per process; each connector holds a clone, which shares its root store, its
/// certificate verifier and its session cache.
static CONFIG: LazyLock<rustls::ClientConfig> = LazyLock::new(|| {
    rustls::ClientConfig::builder_with_provider(
        rustls::crypto::aws_lc_rs::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .expect("aws-lc-rs supports rustls' default protocol versions")
    .with_root_certificates(rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    })
    .with_no_client_auth()
});

/// hyper's HTTPS connector over `http` (whatever resolves its names) with the shared TLS
/// configuration. It also speaks plain http: the caller decides where that is allowed (the
/// fetchers to loopback hosts only, the webhook transport only when private targets are).
///
/// ```
/// use hyper_util::client::legacy::connect::HttpConnector;
///
/// let mut http = HttpConnector::new();
/// http.enforce_http(false);
/// let connector = knogin_verifier::https_connector(http);
/// # let _ = connector;
/// ```
pub fn https_connector<R>(http: HttpConnector<R>) -> HttpsConnector<HttpConnector<R>> {
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(CONFIG.clone())
        .https_or_http()
        .enable_http1()
        .wrap_connector(http)
}

//! Where deliveries may go: an SSRF guard. Targets are https URLs without credentials or a
//! fragment whose addresses are public; plain http and private addresses only when the operator
//! allows private targets (local testing). The same address check runs again at delivery time on
//! the resolved addresses, so a DNS answer cannot smuggle a private target in.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether deliveries may go to `ip`: not loopback, private, link-local, shared (CGNAT),
/// multicast, broadcast, documentation or unspecified, for IPv4 and IPv6, IPv4-mapped and
/// IPv4-compatible addresses included.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let segments = v6.segments();
            // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::/96) embed an IPv4.
            if segments[..6] == [0; 6] || segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let o = v6.octets();
                let v4 = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
                return !v6.is_unspecified() && !v6.is_loopback() && is_public_v4(v4);
            }
            is_public_v6(v6)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space, RFC 6598
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 192 && b == 88 && ip.octets()[2] == 99) // 6to4 relay anycast, RFC 7526
        || (a == 198 && (b == 18 || b == 19)) // benchmarking, RFC 2544
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let first = s[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || s[..3] == [0x64, 0xff9b, 1] // local-use NAT64, 64:ff9b:1::/48 (RFC 8215)
        || s[..4] == [0x100, 0, 0, 0] // discard-only, 100::/64 (RFC 6666)
        || first == 0x2002 // 6to4, 2002::/16: embeds an IPv4 address
        || (first == 0x2001 && s[1] == 0) // Teredo, 2001::/32: embeds an IPv4 address
        || (first & 0xfe00) == 0xfc00 // unique local, fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local, fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated), fec0::/10
        || first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
}

/// Why a target URL is refused; the message is safe to show the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// Not an absolute URL.
    #[error("must be an absolute URL")]
    NotAUrl,
    /// Longer than 2048 bytes.
    #[error("must be at most 2048 characters")]
    TooLong,
    /// Not https (or http where private targets are allowed).
    #[error("must use https")]
    NotHttps,
    /// It carries a user name or password.
    #[error("must not contain credentials")]
    Credentials,
    /// It has a fragment.
    #[error("must not contain a fragment")]
    Fragment,
    /// Its host is a loopback, private or otherwise non-public address (or `localhost`).
    #[error("must not point to a loopback, private, link-local or otherwise non-public address")]
    PrivateAddress,
}

/// Checks a delivery target (see the module docs). With `allow_private`, http and non-public
/// addresses pass (the operator's local testing); credentials and fragments never do.
///
/// ```
/// use knogin_core::webhooks::check_target;
///
/// assert!(check_target("https://integrator.example/hooks", false).is_ok());
/// assert!(check_target("https://10.0.0.7/hooks", false).is_err());
/// assert!(check_target("http://127.0.0.1:9000/hooks", true).is_ok());
/// ```
pub fn check_target(url: &str, allow_private: bool) -> Result<url::Url, TargetError> {
    if url.len() > 2048 {
        return Err(TargetError::TooLong);
    }
    let parsed = url::Url::parse(url).map_err(|_| TargetError::NotAUrl)?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err(TargetError::NotHttps),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(TargetError::Credentials);
    }
    if parsed.fragment().is_some() {
        return Err(TargetError::Fragment);
    }
    let private = match parsed.host() {
        Some(url::Host::Ipv4(v4)) => !is_public(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => !is_public(IpAddr::V6(v6)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.');
            name == "localhost" || name.ends_with(".localhost")
        }
        None => return Err(TargetError::NotAUrl),
    };
    if private && !allow_private {
        return Err(TargetError::PrivateAddress);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_addresses_are_refused_in_every_spelling() {
        for bad in [
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://224.0.0.1/",
            "https://255.255.255.255/",
            "https://[::1]/",
            "https://[::]/",
            "https://[fe80::1]/",
            "https://[fd00::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://[::127.0.0.1]/",
            "https://[64:ff9b::a00:1]/",
            // Local-use NAT64 reaching 169.254.169.254; 6to4 and Teredo embed IPv4 addresses.
            "https://[64:ff9b:1::a9fe:a9fe]/",
            "https://[2002:a9fe:a9fe::1]/",
            "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
            "https://[100::1]/",
            "https://192.88.99.1/",
            "https://localhost/",
            "https://api.localhost./",
            "https://2130706433/",
            "https://0x7f.1/",
        ] {
            assert_eq!(
                check_target(bad, false),
                Err(TargetError::PrivateAddress),
                "{bad}"
            );
        }
        for ok in [
            "https://integrator.example/hooks?x=1",
            "https://8.8.8.8/",
            "https://[2606:4700::1]/",
        ] {
            assert!(check_target(ok, false).is_ok(), "{ok}");
        }
    }

    #[test]
    fn scheme_credentials_and_fragments() {
        assert_eq!(
            check_target("http://integrator.example/", false),
            Err(TargetError::NotHttps)
        );
        assert_eq!(
            check_target("ftp://integrator.example/", true),
            Err(TargetError::NotHttps)
        );
        assert_eq!(
            check_target("https://u:p@integrator.example/", false),
            Err(TargetError::Credentials)
        );
        assert_eq!(
            check_target("https://integrator.example/#f", false),
            Err(TargetError::Fragment)
        );
        assert_eq!(check_target("not a url", false), Err(TargetError::NotAUrl));
        assert!(check_target("http://127.0.0.1:9000/", true).is_ok());
    }
}

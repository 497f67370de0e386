//! Whose address a request comes from behind a reverse proxy: the peer's, unless the peer is a
//! proxy the embedder trusts, then the nearest address in `X-Forwarded-For` that is not one.

use std::net::IpAddr;

use http::HeaderMap;

/// The reverse proxies (address ranges) whose `X-Forwarded-For` the server believes. The
/// address a request counts under (the built-in login's per-address limit, client
/// authentication failures) is then the rightmost forwarded address that is not a trusted
/// proxy: a client cannot spoof it by sending its own header, since every trusted hop appends.
///
/// ```
/// use knogin_core::http::TrustedProxies;
///
/// let proxies = TrustedProxies::parse(["10.0.0.0/8", "::1"]).unwrap();
/// assert!(proxies.contains("10.1.2.3".parse().unwrap()));
/// assert!(!proxies.contains("192.0.2.1".parse().unwrap()));
/// assert!(TrustedProxies::parse(["10.0.0.0/33"]).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

/// A range that is not `ADDRESS` or `ADDRESS/PREFIX`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IP address or range (ADDRESS or ADDRESS/PREFIX)")]
pub struct InvalidProxyRange(pub String);

impl TrustedProxies {
    /// The ranges `ranges`, each an address or `ADDRESS/PREFIX` (CIDR).
    pub fn parse<S: AsRef<str>>(
        ranges: impl IntoIterator<Item = S>,
    ) -> Result<Self, InvalidProxyRange> {
        ranges
            .into_iter()
            .map(|range| {
                let range = range.as_ref();
                let invalid = || InvalidProxyRange(range.to_owned());
                let (addr, prefix) = match range.split_once('/') {
                    Some((addr, prefix)) => (addr, Some(prefix)),
                    None => (range, None),
                };
                let addr: IpAddr = addr.trim().parse().map_err(|_| invalid())?;
                let max = if addr.is_ipv4() { 32 } else { 128 };
                let prefix = match prefix {
                    Some(p) => p
                        .trim()
                        .parse::<u8>()
                        .ok()
                        .filter(|p| *p <= max)
                        .ok_or_else(invalid)?,
                    None => max,
                };
                Ok((addr, prefix))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether `ip` is in one of the ranges.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 @ IpAddr::V4(_) => v4,
        };
        self.0.iter().any(|(net, prefix)| match (net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
                u32::from(*net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*prefix)).unwrap_or(0);
                u128::from(*net) & mask == u128::from(ip) & mask
            }
            _ => false,
        })
    }

    /// The address a request from `peer` with `headers` comes from (see the type's docs).
    pub(crate) fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let mut hops: Vec<IpAddr> = Vec::new();
        for value in headers.get_all("x-forwarded-for") {
            let Ok(value) = value.to_str() else {
                return peer;
            };
            for hop in value.split(',') {
                match hop.trim().parse::<IpAddr>() {
                    Ok(ip) => hops.push(ip),
                    // A hop that is no address: believe nothing of the header.
                    Err(_) => return peer,
                }
            }
        }
        hops.into_iter()
            .rev()
            .find(|hop| !self.contains(*hop))
            .unwrap_or(peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_untrusted_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let proxies = TrustedProxies::parse(["10.0.0.0/8", "2001:db8::/32"]).unwrap();
        let headers = |xff: &[&str]| {
            let mut h = HeaderMap::new();
            for v in xff {
                h.append("x-forwarded-for", v.parse().unwrap());
            }
            h
        };
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let spoofed = headers(&["198.51.100.9, 192.0.2.7", "10.0.0.2"]);
        // From a trusted proxy: the rightmost address that is not a proxy.
        assert_eq!(proxies.client_of(ip("10.0.0.1"), &spoofed), ip("192.0.2.7"));
        assert_eq!(
            proxies.client_of(ip("2001:db8::1"), &headers(&["203.0.113.5"])),
            ip("203.0.113.5")
        );
        // From anyone else, or without a usable header: the peer.
        assert_eq!(
            proxies.client_of(ip("192.0.2.99"), &spoofed),
            ip("192.0.2.99")
        );
        assert_eq!(
            proxies.client_of(ip("10.0.0.1"), &headers(&[])),
            ip("10.0.0.1")
        );
        assert_eq!(
            proxies.client_of(ip("10.0.0.1"), &headers(&["garbage, 192.0.2.7"])),
            ip("10.0.0.1")
        );
        assert_eq!(
            proxies.client_of(ip("::ffff:10.0.0.1"), &headers(&["192.0.2.7"])),
            ip("192.0.2.7")
        );
        assert!(TrustedProxies::parse(["nope"]).is_err());
        assert!(TrustedProxies::parse(["::/129"]).is_err());
    }
}

/// The address of the peer that sent a request, as a request extension. The per-address limits
/// (the built-in login's, client authentication failures) read it: `knogin-axum` inserts it from
/// axum's `ConnectInfo`, `knogin-hyper` from the connection, and an embedder serving the core
/// itself inserts it. Behind a reverse proxy named in
/// [`Builder::trusted_proxies`](crate::Builder::trusted_proxies), the core replaces it with the
/// client address the proxy forwards. Without it, only the per-user limits apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

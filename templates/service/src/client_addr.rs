//! Who a request comes from: the TCP peer, or, when the peer is a proxy listed in
//! `TRUSTED_PROXIES`, the client that proxy forwarded.
//!
//! Every per-address rule (connection caps, the failed-authentication throttle,
//! channels per address) keys on [`client_ip`], on every path: hyper's requests carry
//! the peer as a [`Peer`] extension, the direct socket path hands it over with the
//! request's headers. The Origin check reads the scheme and host the client used
//! through [`ServedAs`].

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use ipnet::IpNet;

use crate::AppState;
pub use crate::engine::events::Peer;

/// The proxies whose forwarding headers are believed (`TRUSTED_PROXIES`). Empty by
/// default: then `X-Forwarded-*` headers are the client's own claims and ignored.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Comma-separated CIDRs (`10.0.0.0/8, fd00::/8`); a bare address is its own /32
    /// or /128.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| {
                        format!(
                            "TRUSTED_PROXIES: {entry:?} is not an address or a CIDR such as \
                             172.28.0.0/16; list the addresses of the proxies in front of \
                             this service, comma-separated"
                        )
                    })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The client's address. From a trusted proxy, the rightmost `X-Forwarded-For` entry
/// that is not itself a trusted proxy: each proxy appends the address it received the
/// request from, so entries to the right of that one were written by our proxies and
/// entries to its left are whatever the client claimed. Anything else: the peer.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    // The nearest hop known so far: an entry that does not parse (which our own
    // proxies never write) stops the walk there, rather than trusting what is left of it.
    let mut nearest = peer;
    let entries = headers
        .get_all("x-forwarded-for")
        .iter()
        .rev()
        .flat_map(|value| value.as_bytes().rsplit(|&b| b == b','));
    for entry in entries {
        let Some(ip) = std::str::from_utf8(entry)
            .ok()
            .and_then(|text| text.trim().parse::<IpAddr>().ok())
        else {
            return nearest;
        };
        let ip = ip.to_canonical();
        if !trusted.contains(ip) {
            return ip;
        }
        nearest = ip;
    }
    nearest
}

/// The client's address ([`client_ip`]) as a handler argument. A request that did not
/// come through the engine (a router called directly, as in a unit test) has no
/// [`Peer`] and counts as `0.0.0.0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let trusted = &state.config.trusted_proxies;
        Ok(Self(client_ip(peer_ip(parts), &parts.headers, trusted)))
    }
}

/// The TCP peer of a request through the router; `0.0.0.0` without a [`Peer`].
fn peer_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<Peer>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |peer| peer.addr.ip())
}

/// The address that per-address limits count: IPv4 addresses as they are, IPv6 ones
/// by their /64, which is what one subscriber line is usually given (one client can
/// use every address in it).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// The scheme and host (with port) the client addressed: what the request says, or,
/// from a trusted proxy, what the proxy forwarded (`X-Forwarded-Proto`,
/// `X-Forwarded-Host`, falling back to `Host`). Also a handler argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedAs {
    pub scheme: String,
    /// `host[:port]` as sent; `None` without a `Host` header.
    pub host: Option<String>,
}

impl FromRequestParts<AppState> for ServedAs {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let trusted = &state.config.trusted_proxies;
        Ok(Self::of(peer_ip(parts), &parts.headers, trusted))
    }
}

impl ServedAs {
    pub fn of(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> Self {
        let host = || {
            headers
                .get(header::HOST)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        if !trusted.contains(peer) {
            // The service itself speaks plain HTTP; TLS ends at a proxy.
            return Self {
                scheme: "http".to_owned(),
                host: host(),
            };
        }
        // Proxies that append instead of replacing write a list: its first entry is what
        // the proxy facing the client saw.
        let forwarded = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .and_then(|text| text.split(',').next())
                .map(|first| first.trim().to_owned())
                .filter(|first| !first.is_empty())
        };
        Self {
            scheme: forwarded("x-forwarded-proto")
                .map(|scheme| scheme.to_ascii_lowercase())
                .unwrap_or_else(|| "http".to_owned()),
            host: forwarded("x-forwarded-host").or_else(host),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn forwarded_headers_count_only_from_a_trusted_proxy() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.168.1.1").unwrap();
        let spoofed = headers(&[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(client_ip(ip("8.8.8.8"), &spoofed, &trusted), ip("8.8.8.8"));
        assert_eq!(client_ip(ip("10.1.2.3"), &spoofed, &trusted), ip("1.2.3.4"));
        let none = TrustedProxies::default();
        assert_eq!(client_ip(ip("10.1.2.3"), &spoofed, &none), ip("10.1.2.3"));
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        // The client claimed 6.6.6.6; our proxies appended 5.5.5.5 and 10.0.0.2.
        let chain = headers(&[
            ("x-forwarded-for", "6.6.6.6, 5.5.5.5"),
            ("x-forwarded-for", "10.0.0.2"),
        ]);
        assert_eq!(client_ip(ip("10.0.0.1"), &chain, &trusted), ip("5.5.5.5"));
        // Only our proxies: the leftmost of them.
        let inside = headers(&[("x-forwarded-for", "10.0.0.9,10.0.0.2")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &inside, &trusted), ip("10.0.0.9"));
        // Junk stops the walk at the nearest hop.
        let junk = headers(&[("x-forwarded-for", "5.5.5.5, junk, 10.0.0.2")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &junk, &trusted), ip("10.0.0.2"));
        // No header: the proxy itself.
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &trusted),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn mapped_and_v6_addresses_are_canonical() {
        let trusted = TrustedProxies::parse("127.0.0.1").unwrap();
        let mapped = ip("::ffff:127.0.0.1");
        let forwarded = headers(&[("x-forwarded-for", "::ffff:1.2.3.4")]);
        assert_eq!(client_ip(mapped, &forwarded, &trusted), ip("1.2.3.4"));
        assert_eq!(
            limit_key(ip("2001:db8:1:2:aaaa::1")),
            limit_key(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            limit_key(ip("2001:db8:1:2::1")),
            limit_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(limit_key(ip("127.0.0.2")), ip("127.0.0.2"));
    }

    #[test]
    fn a_bad_entry_names_the_variable() {
        let error = TrustedProxies::parse("10.0.0.0/8,nginx").unwrap_err();
        assert!(
            error.contains("TRUSTED_PROXIES") && error.contains("nginx"),
            "{error}"
        );
        assert!(TrustedProxies::parse(" ").unwrap().is_empty());
    }

    #[test]
    fn served_as_follows_the_forwarded_scheme_and_host_only_from_a_proxy() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let request = headers(&[
            ("host", "internal:3000"),
            ("x-forwarded-proto", "HTTPS"),
            ("x-forwarded-host", "app.example"),
        ]);
        let direct = ServedAs::of(ip("8.8.8.8"), &request, &trusted);
        assert_eq!(direct.scheme, "http");
        assert_eq!(direct.host.as_deref(), Some("internal:3000"));
        let proxied = ServedAs::of(ip("10.0.0.1"), &request, &trusted);
        assert_eq!(proxied.scheme, "https");
        assert_eq!(proxied.host.as_deref(), Some("app.example"));
    }
}

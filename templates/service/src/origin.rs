//! Whether a browser's `Origin` may act here. Browsers attach the user's cookies to a
//! WebSocket handshake from any page but, unlike `fetch`, enforce no CORS on it:
//! without this check any site the user visits could open a socket in the user's name
//! (cross-site WebSocket hijacking).
//!
//! An origin passes when its scheme, host and port are those of an entry in
//! `ALLOWED_ORIGINS` or of `PUBLIC_URL` (the service's own). With neither set, the
//! service's origin is taken from the request: the scheme and host it was addressed to
//! (as forwarded, from a trusted proxy). That rule only trusts hosts a DNS answer cannot
//! redirect (an IP address or `localhost`): otherwise a page on `evil.example` whose
//! name is rebound to this service's address would be "the same host". A service
//! reached by a name sets `PUBLIC_URL`. Clients other than browsers send no `Origin`
//! and pass.

use std::net::IpAddr;

use axum::http::uri::{Authority, Scheme};
use axum::http::{HeaderMap, StatusCode, Uri, header};

use crate::client_addr::ServedAs;
use crate::error::ApiError;

/// A web origin: scheme, host and port, compared without regard to case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// `scheme://host[:port]`, a path allowed and ignored (for `PUBLIC_URL`). Only
    /// `http` and `https`: what browsers send for pages this service talks to.
    pub fn parse(text: &str) -> Option<Self> {
        let uri: Uri = text.trim().parse().ok()?;
        let scheme = uri.scheme()?;
        Self::new(scheme.as_str(), uri.authority()?)
    }

    fn new(scheme: &str, authority: &Authority) -> Option<Self> {
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        // An origin has no user information.
        if authority.as_str().contains('@') {
            return None;
        }
        Some(Self {
            host: authority.host().to_ascii_lowercase(),
            port: authority.port_u16().unwrap_or(default_port),
            scheme,
        })
    }

    /// A host that no DNS answer can point elsewhere.
    fn is_fixed(&self) -> bool {
        let bare = self.host.trim_start_matches('[').trim_end_matches(']');
        self.host == "localhost" || bare.parse::<IpAddr>().is_ok()
    }
}

/// The origins this service accepts, from the configuration.
#[derive(Clone, Debug, Default)]
pub struct Origins {
    /// `ALLOWED_ORIGINS`.
    pub allowed: Vec<Origin>,
    /// `PUBLIC_URL`: the service's own origin, when it is known.
    pub public: Option<Origin>,
}

impl Origins {
    /// Checks the request's `Origin` (see the module's documentation): `403` when it
    /// may not, or when there is more than one.
    pub fn check(&self, headers: &HeaderMap, served: &ServedAs) -> Result<(), ApiError> {
        let mut sent = headers.get_all(header::ORIGIN).iter();
        let Some(origin) = sent.next() else {
            return Ok(());
        };
        let refused = |why: &str| ApiError {
            status: StatusCode::FORBIDDEN,
            message: format!("Origin {why}"),
        };
        if sent.next().is_some() {
            return Err(refused("sent more than once"));
        }
        let origin = origin
            .to_str()
            .ok()
            .and_then(Origin::parse)
            .ok_or_else(|| refused("is not a scheme://host[:port] origin"))?;
        if self.allowed.contains(&origin) || self.own(served) == Some(origin) {
            return Ok(());
        }
        Err(refused(
            "not allowed; list it in ALLOWED_ORIGINS, or set PUBLIC_URL to the address \
             this service is reached at",
        ))
    }

    /// The service's own origin: `PUBLIC_URL`; with no origin configured, the one the
    /// request was sent to if its host is an address or `localhost`.
    fn own(&self, served: &ServedAs) -> Option<Origin> {
        if self.public.is_some() || !self.allowed.is_empty() {
            return self.public.clone();
        }
        let scheme = Scheme::try_from(served.scheme.as_str()).ok()?;
        let authority: Authority = served.host.as_deref()?.parse().ok()?;
        Origin::new(scheme.as_str(), &authority).filter(Origin::is_fixed)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;
    use crate::client_addr::TrustedProxies;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn status(origins: &Origins, peer: &str, pairs: &[(&'static str, &'static str)]) -> u16 {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let headers = headers(pairs);
        let served = ServedAs::of(peer.parse().unwrap(), &headers, &trusted);
        match origins.check(&headers, &served) {
            Ok(()) => 200,
            Err(error) => error.status.as_u16(),
        }
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let a = Origin::parse("http://App.Example").unwrap();
        assert_eq!(Some(a.clone()), Origin::parse("http://app.example:80/"));
        assert_ne!(Some(a.clone()), Origin::parse("https://app.example"));
        assert_ne!(Some(a), Origin::parse("http://app.example:8080"));
        assert_eq!(Origin::parse("ftp://app.example"), None);
        assert_eq!(Origin::parse("null"), None);
    }

    #[test]
    fn the_same_host_passes_only_with_its_scheme_and_a_fixed_name() {
        let none = Origins::default();
        let me = "127.0.0.1";
        assert_eq!(status(&none, me, &[]), 200);
        let same = [
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
        ];
        assert_eq!(status(&none, me, &same), 200);
        let local = [
            ("host", "localhost:3000"),
            ("origin", "http://localhost:3000"),
        ];
        assert_eq!(status(&none, me, &local), 200);
        let v6 = [("host", "[::1]:3000"), ("origin", "http://[::1]:3000")];
        assert_eq!(status(&none, me, &v6), 200);
        let scheme = [
            ("host", "127.0.0.1:3000"),
            ("origin", "https://127.0.0.1:3000"),
        ];
        assert_eq!(status(&none, me, &scheme), 403);
        let ftp = [
            ("host", "127.0.0.1:3000"),
            ("origin", "ftp://127.0.0.1:3000"),
        ];
        assert_eq!(status(&none, me, &ftp), 403);
        // DNS rebinding: the attacker's name, pointed at this service.
        let rebound = [
            ("host", "evil.example:3000"),
            ("origin", "http://evil.example:3000"),
        ];
        assert_eq!(status(&none, me, &rebound), 403);
        let twice = [
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
            ("origin", "http://evil.example"),
        ];
        assert_eq!(status(&none, me, &twice), 403);
    }

    #[test]
    fn public_url_and_allowed_origins_name_the_rest() {
        let origins = Origins {
            allowed: vec![Origin::parse("https://app.example").unwrap()],
            public: Origin::parse("https://rt.example/"),
        };
        let me = "8.8.8.8";
        let own = [("host", "rt.example"), ("origin", "https://rt.example")];
        assert_eq!(status(&origins, me, &own), 200);
        let listed = [("host", "rt.example"), ("origin", "https://app.example")];
        assert_eq!(status(&origins, me, &listed), 200);
        // With PUBLIC_URL set the Host header decides nothing.
        let rebound = [
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
        ];
        assert_eq!(status(&origins, me, &rebound), 403);
    }

    #[test]
    fn behind_a_trusted_proxy_the_forwarded_scheme_and_host_count() {
        let none = Origins::default();
        let proxied = [
            ("host", "app:3000"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "localhost:8443"),
            ("origin", "https://localhost:8443"),
        ];
        assert_eq!(status(&none, "10.0.0.1", &proxied), 200);
        // The same headers from anyone else are the client's claims.
        assert_eq!(status(&none, "8.8.8.8", &proxied), 403);
    }
}

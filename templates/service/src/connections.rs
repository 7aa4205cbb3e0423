//! Connection caps: `MAX_CONNECTIONS` in all and `MAX_CONNECTIONS_PER_ADDR` from one
//! client address (IPv6 by its /64). The engine asks [`Caps`] about every accepted
//! connection before reading from it ([`Gate`]).
//!
//! A connection over a cap is not dropped unanswered: it gets one request, which the
//! router answers `503` with `Retry-After` (`/healthz` still answers `200`, so an
//! orchestrator does not restart a service that is merely full), and is closed. Those
//! answers have a reserve of their own beside `MAX_CONNECTIONS`; past it, new
//! connections are closed unread, so a flood never runs the process out of file
//! descriptors.
//!
//! Connections from a trusted proxy (`TRUSTED_PROXIES`) carry many clients: they count
//! against `MAX_CONNECTIONS` only. Behind a proxy, bounding connections per client is
//! the proxy's job (nginx: `limit_conn`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::client_addr::{self, TrustedProxies};
use crate::engine::events::{Admission, Gate};

/// The caps, from the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once (`MAX_CONNECTIONS`).
    pub max: usize,
    /// Connections open at once from one client address (`MAX_CONNECTIONS_PER_ADDR`).
    pub per_addr: usize,
}

impl Limits {
    /// Refused connections being answered at once, beside [`max`](Self::max): a
    /// sixteenth of it, within 16 and 1024. With the default `MAX_CONNECTIONS` (90% of
    /// the open-file limit) that stays inside the remaining 10%, which also holds the
    /// listener, Redis connections and files.
    pub fn reserve(&self) -> usize {
        (self.max / 16).clamp(16, 1024)
    }
}

/// Open connections, counted against [`Limits`].
pub struct Caps {
    limits: Limits,
    trusted: TrustedProxies,
    open: AtomicUsize,
    refusing: AtomicUsize,
    /// Open connections per client address (see [`client_addr::limit_key`]); an
    /// address leaves the map with its last connection.
    by_addr: Mutex<HashMap<IpAddr, usize>>,
}

impl Caps {
    pub fn new(limits: Limits, trusted: TrustedProxies) -> Arc<Self> {
        Arc::new(Self {
            limits,
            trusted,
            open: AtomicUsize::new(0),
            refusing: AtomicUsize::new(0),
            by_addr: Mutex::new(HashMap::new()),
        })
    }

    /// Takes a place for a connection from `peer`, if both caps allow it.
    fn take(self: &Arc<Self>, peer: IpAddr) -> Option<Place> {
        if self.open.fetch_add(1, Ordering::Relaxed) >= self.limits.max {
            self.open.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        // A place is handed out now, so dropping it on any return below gives back
        // what was taken.
        let mut place = Place {
            caps: Arc::clone(self),
            holds: Holds::Open(None),
        };
        if self.trusted.contains(peer) {
            return Some(place);
        }
        let key = client_addr::limit_key(peer);
        let mut by_addr = self.by_addr.lock().unwrap_or_else(|e| e.into_inner());
        let count = by_addr.entry(key).or_default();
        if *count >= self.limits.per_addr {
            return None;
        }
        *count += 1;
        place.holds = Holds::Open(Some(key));
        Some(place)
    }
}

impl Gate for Arc<Caps> {
    type Place = Place;

    fn admit(&self, peer: SocketAddr) -> Admission<Place> {
        if let Some(place) = self.take(peer.ip()) {
            return Admission::Admitted(place);
        }
        if self.refusing.fetch_add(1, Ordering::Relaxed) >= self.limits.reserve() {
            self.refusing.fetch_sub(1, Ordering::Relaxed);
            return Admission::Dropped;
        }
        Admission::Refused(Place {
            caps: Arc::clone(self),
            holds: Holds::Refusing,
        })
    }
}

/// A connection's place under the caps, given back when the connection ends.
pub struct Place {
    caps: Arc<Caps>,
    holds: Holds,
}

enum Holds {
    /// One of `MAX_CONNECTIONS`, and one of its address's, unless from a trusted proxy.
    Open(Option<IpAddr>),
    /// One of the reserve for refusals.
    Refusing,
}

impl Drop for Place {
    fn drop(&mut self) {
        match self.holds {
            Holds::Open(key) => {
                self.caps.open.fetch_sub(1, Ordering::Relaxed);
                if let Some(key) = key {
                    let mut by_addr = self.caps.by_addr.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(count) = by_addr.get_mut(&key) {
                        *count -= 1;
                        if *count == 0 {
                            by_addr.remove(&key);
                        }
                    }
                }
            }
            Holds::Refusing => {
                self.caps.refusing.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(text: &str) -> SocketAddr {
        SocketAddr::new(text.parse().unwrap(), 4000)
    }

    fn caps(max: usize, per_addr: usize, trusted: &str) -> Arc<Caps> {
        Caps::new(
            Limits { max, per_addr },
            TrustedProxies::parse(trusted).unwrap(),
        )
    }

    #[test]
    fn one_address_is_capped_and_others_still_get_in() {
        let caps = caps(100, 2, "");
        let a: Vec<_> = (0..2).map(|_| caps.admit(peer("127.0.0.2"))).collect();
        assert!(a.iter().all(|p| matches!(p, Admission::Admitted(_))));
        assert!(matches!(
            caps.admit(peer("127.0.0.2")),
            Admission::Refused(_)
        ));
        assert!(matches!(
            caps.admit(peer("127.0.0.3")),
            Admission::Admitted(_)
        ));
        // A connection that closes gives its place back.
        drop(a);
        assert!(matches!(
            caps.admit(peer("127.0.0.2")),
            Admission::Admitted(_)
        ));
        assert!(caps.by_addr.lock().unwrap().is_empty());
    }

    #[test]
    fn ipv6_addresses_share_their_64() {
        let caps = caps(100, 1, "");
        let _one = caps.admit(peer("2001:db8::1"));
        assert!(matches!(
            caps.admit(peer("2001:db8::2")),
            Admission::Refused(_)
        ));
        assert!(matches!(
            caps.admit(peer("2001:db8:0:1::2")),
            Admission::Admitted(_)
        ));
    }

    #[test]
    fn the_total_cap_refuses_then_drops_past_the_reserve() {
        let caps = caps(3, 100, "");
        let open: Vec<_> = (0..3)
            .map(|i| caps.admit(peer(&format!("127.0.0.{}", i + 2))))
            .collect();
        assert!(open.iter().all(|p| matches!(p, Admission::Admitted(_))));
        let reserve = caps.limits.reserve();
        let refused: Vec<_> = (0..reserve)
            .map(|_| caps.admit(peer("127.0.0.9")))
            .collect();
        assert!(refused.iter().all(|p| matches!(p, Admission::Refused(_))));
        assert!(matches!(caps.admit(peer("127.0.0.9")), Admission::Dropped));
        drop(refused);
        assert!(matches!(
            caps.admit(peer("127.0.0.9")),
            Admission::Refused(_)
        ));
        drop(open);
        assert!(matches!(
            caps.admit(peer("127.0.0.9")),
            Admission::Admitted(_)
        ));
    }

    #[test]
    fn a_trusted_proxy_counts_against_the_total_only() {
        let caps = caps(10, 1, "10.0.0.0/8");
        let held: Vec<_> = (0..5).map(|_| caps.admit(peer("10.0.0.1"))).collect();
        assert!(held.iter().all(|p| matches!(p, Admission::Admitted(_))));
        assert_eq!(caps.open.load(Ordering::Relaxed), 5);
    }
}

//! Failed authentications per client address. Each token that fails verification
//! costs its address one of `AUTH_FAILURE_BURST` tries (default 10), and one try comes
//! back every [`RETRY_AFTER_SECS`] seconds. An address with none left is answered `429`
//! with `Retry-After` before its token is even looked at, so guessing a
//! `PUBLISH_TOKEN` or a JWT secret goes at that pace, while a client that sends valid
//! tokens is never slowed. Requests without a token are not authenticating and never
//! throttled.
//!
//! Hand-written rather than `governor`'s keyed limiter: refusing before verifying needs
//! a look at an address's allowance without spending it, and only failures spend it;
//! `governor` only offers checks that spend a cell. This is its algorithm (GCRA: one
//! instant per address) in a few lines.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::StatusCode;

use crate::auth::Auth;
use crate::client_addr;
use crate::error::ApiError;
use crate::policy::{Identity, Refusal};

/// How often a try comes back, and the `Retry-After` of a `429`: a throttled address
/// waits at most this long for its next try.
pub const RETRY_AFTER_SECS: u64 = 6;
const REFILL: Duration = Duration::from_secs(RETRY_AFTER_SECS);
/// Addresses remembered at once. Past it, addresses whose tries are all back are
/// forgotten; if that is not enough (failures from more addresses than this within a
/// minute), new addresses go uncounted until some are.
const MAX_TRACKED: usize = 65_536;

pub struct Throttle {
    /// Tries a fresh address has.
    burst: u32,
    /// Per address (IPv6 by /64): when all its tries are back. An address whose
    /// instant is in the past has all of them.
    full_at: Mutex<HashMap<IpAddr, Instant>>,
}

impl Throttle {
    pub fn new(burst: u32) -> Self {
        Self {
            burst,
            full_at: Mutex::new(HashMap::new()),
        }
    }

    /// `auth.identify(token)` for a request from `client`. A token that fails counts
    /// against the address; an address with no tries left gets a `429` instead.
    pub fn identify(
        &self,
        auth: &Auth,
        client: IpAddr,
        token: Option<&str>,
    ) -> Result<Result<Option<Identity>, Refusal>, ApiError> {
        if token.is_none() {
            return Ok(auth.identify(None));
        }
        let key = client_addr::limit_key(client);
        if self.exhausted(key, Instant::now()) {
            return Err(ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: "too many failed authentications from this address; try again \
                          later"
                    .into(),
            });
        }
        let identity = auth.identify(token);
        if identity.is_err() {
            self.failed(key, Instant::now());
        }
        Ok(identity)
    }

    /// Whether `key` has no try left at `now`.
    fn exhausted(&self, key: IpAddr, now: Instant) -> bool {
        let full_at = self.full_at.lock().unwrap_or_else(|e| e.into_inner());
        // Another try is allowed while the debt leaves room for one more failure.
        let room = REFILL * self.burst.saturating_sub(1);
        full_at
            .get(&key)
            .is_some_and(|at| at.saturating_duration_since(now) > room)
    }

    /// Spends one of `key`'s tries.
    fn failed(&self, key: IpAddr, now: Instant) {
        let mut full_at = self.full_at.lock().unwrap_or_else(|e| e.into_inner());
        if full_at.len() >= MAX_TRACKED && !full_at.contains_key(&key) {
            full_at.retain(|_, at| *at > now);
            if full_at.len() >= MAX_TRACKED {
                return;
            }
        }
        let at = full_at.entry(key).or_insert(now);
        *at = (*at).max(now) + REFILL;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_failures_then_one_try_per_refill() {
        let throttle = Throttle::new(3);
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        let start = Instant::now();
        for _ in 0..3 {
            assert!(!throttle.exhausted(a, start));
            throttle.failed(a, start);
        }
        assert!(throttle.exhausted(a, start));
        // Other addresses are not affected.
        assert!(!throttle.exhausted(b, start));
        // One try comes back per refill.
        let later = start + REFILL;
        assert!(!throttle.exhausted(a, later));
        throttle.failed(a, later);
        assert!(throttle.exhausted(a, later));
        // All of them, given time.
        let much_later = later + REFILL * 3;
        for _ in 0..3 {
            assert!(!throttle.exhausted(a, much_later));
            throttle.failed(a, much_later);
        }
        assert!(throttle.exhausted(a, much_later));
    }
}

//! When a long-lived connection must end because its token expires.
//!
//! Decided once, when the connection subscribes: the transports arm one timer per
//! connection and check nothing per message.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use crate::policy::Identity;

/// The moment `who`'s token expires, on the runtime's clock; `None` without a token
/// or for a credential that does not expire (the `PUBLISH_TOKEN`).
pub fn deadline(who: Option<&Identity>) -> Option<Instant> {
    let expires = who?.expires()?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    Some(Instant::now() + Duration::from_secs(expires.saturating_sub(now)))
}

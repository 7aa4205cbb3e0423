//! What subscribers record: connection counts, and per measured phase the latency
//! histogram and which sequence numbers each subscriber received.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use hdrhistogram::Histogram;

/// One shard's record; shared with the controller, which only looks at phase edges,
/// so the lock is almost never contended.
pub type Shared = Arc<Mutex<Stats>>;

pub fn lock(stats: &Shared) -> MutexGuard<'_, Stats> {
    stats.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Default)]
pub struct Stats {
    /// Subscriptions established (SSE headers, WebSocket 101, first poll answered).
    pub connected: usize,
    /// Subscriptions that could not be established.
    pub failed: usize,
    /// Established subscriptions that ended (server closed, dropped as slow).
    pub closed: usize,
    /// The first few errors, for the report.
    pub errors: Vec<String>,
    /// Poll requests answered, and how many of them were 304.
    pub requests: u64,
    pub not_modified: u64,
    /// Resets received (SSE `reset` event, `"reset": true`, reset frame).
    pub resets: u64,
    pub phase: Option<Phase>,
}

impl Stats {
    pub fn error(&mut self, error: String) {
        if self.errors.len() < 5 {
            self.errors.push(error);
        }
    }
}

/// Receipts of messages with sequence numbers from `base` on.
pub struct Phase {
    pub base: u64,
    /// Publish -> receive latency in microseconds, first receipt of each message.
    pub latency: Histogram<u64>,
    /// Per local subscriber, a bitset of `seq - base`.
    pub seen: Vec<Vec<u64>>,
    pub distinct: u64,
    pub duplicates: u64,
    /// Messages from before this phase (late stragglers of an earlier one).
    pub stray: u64,
    /// Subscribers that received at least one message of this phase.
    pub reached: usize,
    got_any: Vec<bool>,
}

impl Phase {
    pub fn new(base: u64, subscribers: usize) -> Self {
        Self {
            base,
            latency: new_histogram(),
            seen: vec![Vec::new(); subscribers],
            distinct: 0,
            duplicates: 0,
            stray: 0,
            reached: 0,
            got_any: vec![false; subscribers],
        }
    }

    pub fn record(&mut self, subscriber: usize, seq: u64, sent_ns: u64, now_ns: u64) {
        let Some(rel) = seq.checked_sub(self.base) else {
            self.stray += 1;
            return;
        };
        let Some(bits) = self.seen.get_mut(subscriber) else {
            return;
        };
        let (word, mask) = ((rel / 64) as usize, 1u64 << (rel % 64));
        if bits.len() <= word {
            bits.resize(word + 1, 0);
        }
        if bits[word] & mask != 0 {
            self.duplicates += 1;
            return;
        }
        if !self.got_any[subscriber] {
            self.got_any[subscriber] = true;
            self.reached += 1;
        }
        bits[word] |= mask;
        self.distinct += 1;
        let micros = now_ns.saturating_sub(sent_ns) / 1000;
        self.latency.saturating_record(micros.max(1));
    }

    /// Messages among `expected` (indexed by `seq - base`) that `subscriber` lacks.
    pub fn missing(&self, subscriber: usize, expected: &[bool]) -> u64 {
        let bits = &self.seen[subscriber];
        expected
            .iter()
            .enumerate()
            .filter(|(rel, ok)| {
                **ok && bits
                    .get(rel / 64)
                    .is_none_or(|w| w & (1 << (rel % 64)) == 0)
            })
            .count() as u64
    }
}

pub fn new_histogram() -> Histogram<u64> {
    // 1 µs to 10 min at 3 significant digits.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// Finds every `"seq":N` in `payload` with the `"t":T` that follows it, calling
/// `found(seq, t)`: one scan serves SSE events, WebSocket frames, Socket.IO packets
/// and poll responses alike, without a JSON parser on the hot path.
pub fn scan(payload: &[u8], mut found: impl FnMut(u64, u64)) {
    let mut rest = payload;
    while let Some(at) = crate::http::find(rest, b"\"seq\":") {
        rest = &rest[at + 6..];
        let (seq, after) = number(rest);
        rest = after;
        let Some(at) = crate::http::find(rest, b"\"t\":") else {
            return;
        };
        rest = &rest[at + 4..];
        let (t, after) = number(rest);
        rest = after;
        if let (Some(seq), Some(t)) = (seq, t) {
            found(seq, t);
        }
    }
}

fn number(text: &[u8]) -> (Option<u64>, &[u8]) {
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    let value = std::str::from_utf8(&text[..digits])
        .ok()
        .and_then(|d| d.parse().ok());
    (value, &text[digits..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_every_message_of_a_payload() {
        let mut found = Vec::new();
        scan(
            br#"{"messages":[{"channel":"b","id":"7","data":{"seq":3,"t":99}},{"data":{"seq":4,"t":100,"pad":"x"}}]}"#,
            |s, t| found.push((s, t)),
        );
        assert_eq!(found, [(3, 99), (4, 100)]);
    }

    #[test]
    fn counts_duplicates_and_missing() {
        let mut phase = Phase::new(10, 2);
        phase.record(0, 10, 0, 5_000);
        phase.record(0, 10, 0, 5_000);
        phase.record(0, 12, 0, 5_000);
        phase.record(1, 9, 0, 5_000);
        assert_eq!((phase.distinct, phase.duplicates, phase.stray), (2, 1, 1));
        assert_eq!(phase.reached, 1);
        assert_eq!(phase.missing(0, &[true, true, true]), 1);
        assert_eq!(phase.missing(1, &[true, false, true]), 2);
    }
}

//! Message ids and client cursors.
//!
//! An id is a decimal `u64` rendered as a string. The first id of a run is the
//! wall-clock time in microseconds at start-up, and ids grow by one per publish, so
//! ids are strictly increasing across all channels within a run and, as long as the
//! clock does not jump back, across restarts too. A cursor from an earlier run is
//! therefore older than anything this run holds and is answered with a reset.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// The id of a published message; also a client's cursor ("the last id I saw").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(pub u64);

impl Id {
    /// The id just before this run's first message.
    pub fn run_start() -> Self {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_micros());
        Self(u64::try_from(micros).unwrap_or(u64::MAX / 2))
    }

    /// Parses a client-supplied cursor. Ids are never signed, padded or empty.
    pub fn parse(text: &str) -> Result<Self, String> {
        let valid =
            !text.is_empty() && text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit());
        match text.parse() {
            Ok(value) if valid => Ok(Self(value)),
            _ => Err(format!(
                "{:?} is not a message id; pass the id of the last message received",
                truncate(text)
            )),
        }
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl serde::Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Keeps error messages short when a client sends a huge bogus cursor.
fn truncate(text: &str) -> &str {
    text.char_indices()
        .nth(32)
        .map_or(text, |(end, _)| &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text() {
        assert_eq!(Id::parse("1732867200000001"), Ok(Id(1_732_867_200_000_001)));
        assert_eq!(Id(42).to_string(), "42");
    }

    #[test]
    fn rejects_anything_but_plain_digits() {
        for text in [
            "",
            "-1",
            "+1",
            "1.0",
            "abc",
            " 1",
            "99999999999999999999999",
        ] {
            assert!(Id::parse(text).is_err(), "{text:?}");
        }
    }
}

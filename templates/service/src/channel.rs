//! Channel names: the unit of subscription (`news`, `user:42`, `room.lobby`).

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer};

/// Longest accepted channel name, in bytes.
pub const MAX_LEN: usize = 128;

/// A validated channel name: 1-128 characters of `[A-Za-z0-9_:.-]`.
///
/// Cheap to clone, because the hub keeps one copy per subscriber and history entry.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelName(Arc<str>);

impl ChannelName {
    pub fn parse(name: &str) -> Result<Self, String> {
        if name.is_empty() || name.len() > MAX_LEN {
            return Err(format!("channel name must be 1-{MAX_LEN} characters long"));
        }
        if let Some(bad) = name
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-')))
        {
            return Err(format!(
                "channel name contains {bad:?}; allowed are letters, digits and _ : . -"
            ));
        }
        Ok(Self(name.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChannelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ChannelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl<'de> Deserialize<'de> for ChannelName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        for name in ["a", "user:42", "room.lobby", "A-Z_09", &"x".repeat(MAX_LEN)] {
            assert!(ChannelName::parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn rejects_empty_long_and_foreign_characters() {
        for name in ["", &"x".repeat(MAX_LEN + 1), "a b", "a/b", "é", "a\n"] {
            assert!(ChannelName::parse(name).is_err(), "{name:?}");
        }
    }
}

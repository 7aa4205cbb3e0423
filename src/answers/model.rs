//! The vocabulary of the answers file: every enum here is spelled in kebab-case
//! exactly as users write it in TOML, `--set` and JSON output.

use serde::{Deserialize, Serialize};

/// Which way the live data flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    ServerToClient,
    Bidirectional,
}

/// What the live data is for. Each use case belongs to exactly one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UseCase {
    Chat,
    Game,
    Collaboration,
    NewsFeed,
    Notifications,
    StatusUpdates,
    StockTicker,
    Dashboard,
    Other,
}

/// How stale a client's view may get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Freshness {
    Instant,
    Seconds,
    Minutes,
}

/// The four ways to push data to a client.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    ShortPolling,
    LongPolling,
    Sse,
    Websocket,
}

/// How a published message reaches the servers that hold the subscribers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fanout {
    Memory,
    Redis,
}

/// How a client sends data to the server in a bidirectional application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Upstream {
    Websocket,
    HttpPost,
    None,
}

/// Who may read what in the generated service: nobody is asked (`none`), or every
/// subscriber and publisher shows a JSON Web Token (`jwt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Auth {
    None,
    Jwt,
}

/// Spelling of enum values exactly as users type them; serde, `--set`, the prompts and
/// error messages all go through these tables so they cannot drift apart.
pub trait Named: Sized + Copy + 'static {
    /// Every value, in the order prompts and help list them.
    const ALL: &'static [Self];
    fn name(self) -> &'static str;

    fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|v| v.name()).collect()
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }
}

macro_rules! named {
    ($ty:ty { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl Named for $ty {
            const ALL: &'static [Self] = &[$(<$ty>::$variant),+];
            fn name(self) -> &'static str {
                match self { $(<$ty>::$variant => $name),+ }
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

named!(Direction { ServerToClient => "server-to-client", Bidirectional => "bidirectional" });
named!(UseCase {
    Chat => "chat",
    Game => "game",
    Collaboration => "collaboration",
    NewsFeed => "news-feed",
    Notifications => "notifications",
    StatusUpdates => "status-updates",
    StockTicker => "stock-ticker",
    Dashboard => "dashboard",
    Other => "other",
});
named!(Freshness { Instant => "instant", Seconds => "seconds", Minutes => "minutes" });
named!(Strategy {
    ShortPolling => "short-polling",
    LongPolling => "long-polling",
    Sse => "sse",
    Websocket => "websocket",
});
named!(Fanout { Memory => "memory", Redis => "redis" });
named!(Upstream { Websocket => "websocket", HttpPost => "http-post", None => "none" });
named!(Auth { None => "none", Jwt => "jwt" });

impl UseCase {
    /// Whether a service for this use case usually serves people who must not read each
    /// other's channels: the default of `access.auth` for a new answer set.
    pub fn private_by_default(self) -> bool {
        match self {
            UseCase::Chat | UseCase::Game | UseCase::Collaboration | UseCase::Notifications => true,
            UseCase::NewsFeed
            | UseCase::StatusUpdates
            | UseCase::StockTicker
            | UseCase::Dashboard
            | UseCase::Other => false,
        }
    }
}

impl Direction {
    /// The use cases that belong to this direction, in prompt order (`other` last).
    pub fn use_cases(self) -> &'static [UseCase] {
        match self {
            Direction::Bidirectional => &[
                UseCase::Chat,
                UseCase::Game,
                UseCase::Collaboration,
                UseCase::Other,
            ],
            Direction::ServerToClient => &[
                UseCase::NewsFeed,
                UseCase::Notifications,
                UseCase::StatusUpdates,
                UseCase::StockTicker,
                UseCase::Dashboard,
                UseCase::Other,
            ],
        }
    }
}

/// A rate per second: finite and greater than 0, so it is never NaN and `Eq` holds.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct PerSecond(f64);

impl Eq for PerSecond {}

impl PerSecond {
    /// `None` unless `value` is finite and greater than 0.
    pub fn new(value: f64) -> Option<Self> {
        (value.is_finite() && value > 0.0).then_some(PerSecond(value))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl std::fmt::Display for PerSecond {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A `[generate]` value as written: `auto` leaves the choice to the advisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Override<T> {
    Auto,
    Fixed(T),
}

impl<T: Named> Override<T> {
    pub fn names() -> Vec<&'static str> {
        std::iter::once("auto")
            .chain(T::ALL.iter().map(|v| v.name()))
            .collect()
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "auto" => Some(Override::Auto),
            other => T::from_name(other).map(Override::Fixed),
        }
    }

    pub fn fixed(self) -> Option<T> {
        match self {
            Override::Auto => None,
            Override::Fixed(v) => Some(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written names must be exactly what serde reads and writes.
    fn agrees_with_serde<
        T: Named + Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    >() {
        for &value in T::ALL {
            let json = serde_json::to_string(&value).unwrap();
            assert_eq!(json, format!("\"{}\"", value.name()));
            let back: T = serde_json::from_str(&json).unwrap();
            assert_eq!(back, value);
        }
    }

    #[test]
    fn names_match_serde() {
        agrees_with_serde::<Direction>();
        agrees_with_serde::<UseCase>();
        agrees_with_serde::<Freshness>();
        agrees_with_serde::<Strategy>();
        agrees_with_serde::<Fanout>();
        agrees_with_serde::<Upstream>();
        agrees_with_serde::<Auth>();
    }

    #[test]
    fn every_use_case_belongs_to_a_direction() {
        for &use_case in UseCase::ALL {
            let owners = Direction::ALL
                .iter()
                .filter(|d| d.use_cases().contains(&use_case))
                .count();
            let expected = if use_case == UseCase::Other { 2 } else { 1 };
            assert_eq!(owners, expected, "{use_case}");
        }
    }
}

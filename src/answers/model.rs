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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

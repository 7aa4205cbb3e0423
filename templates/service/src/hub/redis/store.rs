//! Redis commands: the key layout, the two Lua scripts and their timeouts.
//!
//! Keys, all under the configured prefix: `id` (the newest id), `epoch` (the first id of
//! the data Redis holds), and per channel `history:<channel>` (a stream of messages,
//! capped in count and bytes), `last:<channel>` (its newest id), `bytes:<channel>` (the
//! bytes of data published on it, which `publish.lua` bounds the stream with) and the
//! pub/sub channel `live:<channel>`.

use std::future::Future;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisError, Script};
use serde_json::value::RawValue;

use super::HubError;
use crate::channel::ChannelName;
use crate::engine::events::SharedEvents;
use crate::id::Id;
use crate::replay::channel_budget;

/// Longest any Redis command may take before the caller gets a 503.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
const PUBSUB_PREFIX: &str = "live:";

pub struct Store {
    connection: ConnectionManager,
    prefix: String,
    history_len: usize,
    /// Bytes of message data a channel's stream keeps (`CHANNEL_HISTORY_BYTES`).
    history_bytes: usize,
    history_ttl_ms: u128,
    publish: Script,
    read: Script,
    /// Told how long each command took.
    events: SharedEvents,
}

/// The next piece of what a set of channels holds after a cursor, read atomically.
pub struct Snapshot {
    /// The newest id of the whole service at the time of the read.
    pub newest: Id,
    /// The first id of the data Redis holds; older cursors predate it.
    pub epoch: Id,
    /// Whether the cursor lies within what Redis knows (else everything is a gap).
    pub valid: bool,
    /// Channels whose history no longer reaches back to the cursor, each with the id
    /// after which it is complete again.
    pub gaps: Vec<(ChannelName, Id)>,
    /// The next messages after the cursor (for a channel with a gap: after the gap),
    /// in id order, at most about one piece (see [`crate::replay`]).
    pub entries: Vec<Entry>,
    /// More messages follow the entries, up to the id read through.
    pub more: bool,
}

impl Snapshot {
    /// Where a reset puts a client: the newest point after which every channel read
    /// is complete. `None` when the cursor itself is.
    pub fn reset(&self) -> Option<Id> {
        let floors = self.gaps.iter().map(|(_, floor)| *floor);
        if self.valid {
            floors.max()
        } else {
            Some(floors.fold(self.epoch, Id::max))
        }
    }
}

pub struct Entry {
    pub channel: ChannelName,
    pub id: Id,
    pub data: String,
}

impl Store {
    pub fn new(
        client: Client,
        prefix: &str,
        history_len: usize,
        history_bytes: usize,
        history_ttl: Duration,
        events: SharedEvents,
    ) -> Result<Self, RedisError> {
        // Fail fast while Redis is down (the caller answers 503) instead of queueing
        // requests behind long reconnect attempts; the manager keeps reconnecting.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        Ok(Self {
            connection: ConnectionManager::new_lazy_with_config(client, config)?,
            prefix: prefix.to_owned(),
            history_len,
            history_bytes,
            history_ttl_ms: history_ttl.as_millis().max(1),
            publish: Script::new(include_str!("publish.lua")),
            read: Script::new(include_str!("read.lua")),
            events,
        })
    }

    /// Assigns the next id to `data`, appends it to `channel`'s history and publishes it.
    pub async fn publish(&self, channel: &ChannelName, data: &RawValue) -> Result<Id, HubError> {
        let mut invocation = self.publish.prepare_invoke();
        invocation
            .key(self.key("id"))
            .key(self.key("epoch"))
            .key(self.channel_key("last:", channel))
            .key(self.channel_key("history:", channel))
            .key(self.channel_key("bytes:", channel))
            .arg(data.get())
            .arg(self.history_len)
            .arg(self.history_ttl_ms.to_string())
            .arg(self.pubsub_channel(channel))
            .arg(self.history_bytes);
        let mut connection = self.connection.clone();
        let id: String = self
            .bounded(invocation.invoke_async(&mut connection))
            .await?;
        parse_id(&id)
    }

    /// The next piece of what `channels` hold after `cursor`, up to `through` (else up
    /// to the newest id); without a cursor, only the newest id.
    pub async fn read(
        &self,
        channels: &[ChannelName],
        cursor: Option<Id>,
        through: Option<Id>,
    ) -> Result<Snapshot, HubError> {
        let mut invocation = self.read.prepare_invoke();
        invocation.key(self.key("id")).key(self.key("epoch"));
        for channel in channels {
            invocation
                .key(self.channel_key("last:", channel))
                .key(self.channel_key("history:", channel));
        }
        invocation
            .arg(cursor.map(|id| id.to_string()).unwrap_or_default())
            .arg(through.map(|id| id.to_string()).unwrap_or_default())
            .arg(channel_budget(channels.len()))
            .arg(self.history_len)
            .arg(self.history_ttl_ms.to_string());
        let mut connection = self.connection.clone();
        type Reply = (
            String,
            String,
            u8,
            Vec<(usize, String)>,
            Vec<(usize, String, String)>,
            Vec<usize>,
        );
        let (newest, epoch, valid, gaps, entries, cut): Reply = self
            .bounded(invocation.invoke_async(&mut connection))
            .await?;
        let channel = |n: usize| channels.get(n.wrapping_sub(1)).cloned();
        let mut entries = entries
            .into_iter()
            .filter_map(|(n, id, data)| {
                Some(Entry {
                    channel: channel(n)?,
                    id: Id::parse(&id).ok()?,
                    data,
                })
            })
            .collect::<Vec<_>>();
        // Each channel's run is in id order. A run that was cut ends the piece at its
        // last id, so the piece never skips a message of that channel (see
        // `crate::replay::merge`, which this mirrors for entries not yet encoded).
        let cutoff = cut
            .iter()
            .filter_map(|&n| {
                let name = channel(n)?;
                entries
                    .iter()
                    .rev()
                    .find(|e| e.channel == name)
                    .map(|e| e.id)
            })
            .min();
        if let Some(cutoff) = cutoff {
            entries.retain(|entry| entry.id <= cutoff);
        }
        if channels.len() > 1 {
            entries.sort_unstable_by_key(|entry| entry.id);
        }
        Ok(Snapshot {
            newest: parse_id(&newest)?,
            epoch: parse_id(&epoch)?,
            valid: valid == 1,
            gaps: gaps
                .into_iter()
                .filter_map(|(n, floor)| Some((channel(n)?, Id::parse(&floor).ok()?)))
                .collect(),
            entries,
            more: !cut.is_empty(),
        })
    }

    /// The newest id of the service.
    pub async fn newest(&self) -> Result<Id, HubError> {
        Ok(self.read(&[], None, None).await?.newest)
    }

    pub async fn ping(&self) -> Result<(), HubError> {
        let mut connection = self.connection.clone();
        self.bounded(redis::cmd("PING").query_async::<()>(&mut connection))
            .await
    }

    pub fn pubsub_channel(&self, channel: &ChannelName) -> String {
        self.channel_key(PUBSUB_PREFIX, channel)
    }

    /// The service channel behind a pub/sub channel name, if it is one of ours.
    pub fn channel_of(&self, pubsub_channel: &str) -> Option<ChannelName> {
        let name = pubsub_channel
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix(PUBSUB_PREFIX)?;
        ChannelName::parse(name).ok()
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn channel_key(&self, kind: &str, channel: &ChannelName) -> String {
        format!("{}{kind}{channel}", self.prefix)
    }

    /// Runs one command with [`COMMAND_TIMEOUT`] and reports how long it took,
    /// answered or not.
    async fn bounded<T>(
        &self,
        request: impl Future<Output = Result<T, RedisError>>,
    ) -> Result<T, HubError> {
        let started = Instant::now();
        let result = timed(request).await;
        self.events.redis_command(started.elapsed());
        result.map_err(HubError::Unavailable)
    }
}

/// Runs one Redis request with [`COMMAND_TIMEOUT`]; the error says what went wrong.
pub async fn timed<T>(request: impl Future<Output = Result<T, RedisError>>) -> Result<T, String> {
    match tokio::time::timeout(COMMAND_TIMEOUT, request).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {COMMAND_TIMEOUT:?}")),
    }
}

fn parse_id(text: &str) -> Result<Id, HubError> {
    Id::parse(text).map_err(|e| HubError::Unavailable(format!("unexpected reply: {e}")))
}

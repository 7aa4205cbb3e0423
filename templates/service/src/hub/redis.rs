//! The Redis hub: ids and history live in Redis and are shared by every instance; each
//! instance fans messages out to its own clients' bounded queues (`engine/outbox.rs`).
//!
//! Publishing runs one Lua script that assigns the next id, appends the message to the
//! channel's capped stream and PUBLISHes it, so every instance receives messages in id
//! order (`store.rs`). Each instance subscribes in Redis only to the channels its clients
//! follow and comes back by itself after an outage (`link.rs`). A client that resumes
//! is registered first, then waits for Redis to confirm the subscription, then reads
//! history: live copies of replayed messages are dropped by id, so it neither misses nor
//! repeats a message, whichever instance it lands on.

mod link;
mod store;

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use tokio::sync::{Notify, watch};

use self::store::{Snapshot, Store};
pub use crate::replay::{Batch, Piece, Replay};

use crate::channel::ChannelName;
use crate::engine::events::SharedEvents;
use crate::engine::outbox::{Fanout, Outbox};
use crate::holdings::{Holdings, Over};
use crate::id::Id;
use crate::message::{Encoder, Envelope, Message};
use crate::shutdown::Shutdown;

/// How long a new subscriber waits for Redis to confirm its subscription.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Bounds on what the hub keeps, and how it hands messages on.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Messages kept per channel for resume.
    pub history_len: usize,
    /// Bytes of message data kept per channel for resume (the newest message always).
    pub channel_history_bytes: usize,
    /// Channels this instance follows at once, shared fairly between client addresses
    /// when full (channels nobody follows any more do not count).
    pub max_channels: usize,
    /// Distinct channels one client address follows through all its connections.
    pub max_channels_per_addr: usize,
    /// Messages queued per connection before it counts as a slow consumer.
    pub queue_len: usize,
    /// Encoded bytes queued per connection before it counts as a slow consumer.
    pub queue_bytes: usize,
    /// A channel's history expires this long after its last publish.
    pub channel_idle: Duration,
    /// How long a fan-out waits before handing a message to the connections, so that
    /// messages published meanwhile leave with it in one write each; zero: at once.
    pub write_delay: Duration,
}

/// Why the hub refused a request.
#[derive(Debug)]
pub enum HubError {
    /// The client's address follows `MAX_CHANNELS_PER_ADDR` channels already.
    AddressLimit(usize),
    /// This instance follows `MAX_CHANNELS` channels and the client's address holds
    /// its share of them.
    TableShare(usize),
    /// Redis did not answer; nothing was published or read.
    Unavailable(String),
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AddressLimit(max) => write!(
                f,
                "this client address already follows {max} channels across its connections; \
                 unsubscribe from some first (MAX_CHANNELS_PER_ADDR)"
            ),
            Self::TableShare(max) => write!(
                f,
                "this instance follows {max} channels and this client address holds its \
                 share of them; unsubscribe from some or retry later (MAX_CHANNELS)"
            ),
            Self::Unavailable(reason) => write!(
                f,
                "Redis is unavailable ({reason}); nothing was changed, retry shortly"
            ),
        }
    }
}

impl std::error::Error for HubError {}

impl HubError {
    /// Whether the client itself is over a bound (429) rather than the server failing
    /// (503).
    pub fn is_client_limit(&self) -> bool {
        matches!(self, Self::AddressLimit(_) | Self::TableShare(_))
    }
}

pub struct Hub {
    local: Mutex<Local>,
    store: Store,
    limits: Limits,
    encode: Encoder,
    /// Handed to every fan-out, which reports what it delivers and whom it cuts.
    events: SharedEvents,
    /// Wakes the link when a channel needs a Redis subscription.
    wake: Notify,
    /// Bumped whenever Redis confirms subscriptions, so waiting subscribers re-check.
    confirmed: watch::Sender<u64>,
}

/// This instance's clients and the channels they follow.
struct Local {
    channels: HashMap<ChannelName, LocalChannel>,
    subscribers: HashMap<u64, SubscriberEntry>,
    next_subscriber: u64,
    /// The newest id fanned out. Redis delivers in id order, so anything at or below it
    /// is a repeat.
    delivered: Id,
    /// The channels each client address follows.
    holdings: Holdings,
}

struct LocalChannel {
    subscribers: Vec<u64>,
    /// Redis confirmed this instance's subscription on the current connection.
    subscribed: bool,
    /// Was subscribed when the connection was lost: its gap needs filling.
    interrupted: bool,
    /// Since when nobody follows it; the Redis subscription ends after a grace period.
    idle_since: Option<Instant>,
}

struct SubscriberEntry {
    outbox: Arc<Outbox>,
    channels: Vec<ChannelName>,
    /// The client address, as `client_addr::limit_key` gives it.
    addr: IpAddr,
}

impl Hub {
    /// Connects lazily to Redis at `url` (the service starts while Redis is down, and
    /// `ready` tells when it is reachable) and starts following subscriptions there.
    pub fn start(
        url: &str,
        prefix: &str,
        limits: Limits,
        encode: Encoder,
        events: SharedEvents,
        shutdown: Shutdown,
    ) -> Result<Arc<Self>, String> {
        let client =
            redis::Client::open(url).map_err(|e| format!("REDIS_URL {url:?} is invalid: {e}"))?;
        let store = Store::new(
            client.clone(),
            prefix,
            limits.history_len,
            limits.channel_history_bytes,
            limits.channel_idle,
            Arc::clone(&events),
        )
        .map_err(|e| format!("cannot use Redis at {url}: {e}"))?;
        let hub = Arc::new(Self {
            local: Mutex::new(Local {
                channels: HashMap::new(),
                subscribers: HashMap::new(),
                next_subscriber: 0,
                delivered: Id(0),
                holdings: Holdings::default(),
            }),
            store,
            limits,
            encode,
            events,
            wake: Notify::new(),
            confirmed: watch::Sender::new(0),
        });
        tokio::spawn(link::run(Arc::clone(&hub), client, shutdown));
        Ok(hub)
    }

    fn local(&self) -> MutexGuard<'_, Local> {
        // Every update completes before the guard is released, so the state stays
        // consistent even if a holder panicked.
        self.local.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where the engine reports what happens.
    pub fn events(&self) -> &SharedEvents {
        &self.events
    }

    /// Stores `data` on `channel` in Redis; every instance following it delivers it.
    pub async fn publish(&self, channel: ChannelName, data: &RawValue) -> Result<Id, HubError> {
        self.store.publish(&channel, data).await
    }

    /// Whether Redis answers, for `GET /readyz`.
    pub async fn ready(&self) -> Result<(), HubError> {
        self.store.ping().await
    }

    /// A new connection's queue, not yet subscribed to anything. `addr` is the client's
    /// address (`client_addr::limit_key`), which `MAX_CHANNELS_PER_ADDR` bounds.
    pub fn subscriber(self: &Arc<Self>, addr: IpAddr) -> Subscriber {
        let outbox = Arc::new(Outbox::new(self.limits.queue_len, self.limits.queue_bytes));
        let mut local = self.local();
        let id = local.next_subscriber;
        local.next_subscriber += 1;
        local.subscribers.insert(
            id,
            SubscriberEntry {
                outbox: Arc::clone(&outbox),
                channels: Vec::new(),
                addr,
            },
        );
        Subscriber {
            id,
            hub: Arc::clone(self),
            outbox,
            rest: None,
        }
    }

    /// Messages after `cursor` on `channels`, from Redis history, without waiting, at
    /// most one piece (see [`crate::replay`]): the client continues from the batch's
    /// cursor. With no cursor: none, and the cursor of the newest message so far. When
    /// nothing changed, Redis answers from one small key per channel without touching
    /// history.
    pub async fn read(
        &self,
        channels: &[ChannelName],
        cursor: Option<Id>,
    ) -> Result<Batch, HubError> {
        let snapshot = self.store.read(channels, cursor, None).await?;
        let Some(cursor) = cursor else {
            return Ok(Batch::empty(snapshot.newest));
        };
        let newest = snapshot.newest;
        let more = snapshot.more;
        let mut batch = Batch::new(cursor, self.replay(snapshot).0);
        // A quiet channel's cursor would fall behind the history's lifetime, and the
        // store, which keeps no key for a channel nobody published to, would then
        // answer a reset. The channels hold nothing up to the newest id (the read was
        // atomic), so a cursor half a lifetime old moves up to it.
        let age = Duration::from_micros(newest.0.saturating_sub(batch.cursor.0));
        if batch.messages.is_empty() && !batch.reset && !more && age > self.limits.channel_idle / 2
        {
            batch.cursor = newest;
        }
        Ok(batch)
    }

    /// A snapshot's messages as a replay, and the id after which its rest follows,
    /// when it holds more than the snapshot.
    fn replay(&self, snapshot: Snapshot) -> (Replay, Option<Id>) {
        let reset = snapshot.reset();
        let after = reset.unwrap_or(Id(0));
        let messages: Vec<_> = snapshot
            .entries
            .into_iter()
            .filter(|entry| entry.id > after)
            .filter_map(|entry| self.message(entry.channel, entry.id, &entry.data))
            .collect();
        let rest = snapshot
            .more
            .then(|| messages.last().map_or(after, |m| m.id));
        let replay = match reset {
            Some(cursor) => Replay::Reset { cursor, messages },
            None => Replay::Messages(messages),
        };
        (replay, rest)
    }

    /// Encodes a message from Redis for this instance's transport, once.
    fn message(&self, channel: ChannelName, id: Id, data: &str) -> Option<Arc<Message>> {
        let Ok(data) = serde_json::from_str::<&RawValue>(data) else {
            tracing::warn!("skipping message {id} on {channel}: its data is not JSON");
            return None;
        };
        let wire = (self.encode)(&Envelope {
            channel: channel.as_str(),
            id,
            data,
        });
        Some(Arc::new(Message::new(id, channel, wire)))
    }

    /// Queues `message` for every local subscriber of its channel, once.
    fn deliver(&self, message: Arc<Message>) {
        let mut fanout = Fanout::new(self.limits.write_delay, Arc::clone(&self.events));
        self.local().queue(&message, &mut fanout);
        fanout.finish();
    }

    /// Closes the queues of everyone following `channels`: they reconnect and get a reset.
    fn interrupt(&self, channels: &[ChannelName]) {
        let mut local = self.local();
        for name in channels {
            let subscribers = local
                .channels
                .get(name)
                .map(|c| c.subscribers.clone())
                .unwrap_or_default();
            for subscriber in subscribers {
                local.remove_subscriber(subscriber);
            }
        }
    }
}

impl Local {
    /// Channels with subscribers.
    fn followed(&self) -> usize {
        self.channels
            .values()
            .filter(|channel| !channel.subscribers.is_empty())
            .count()
    }

    /// Queues `message` for every local subscriber of its channel, under the lock.
    fn queue(&mut self, message: &Arc<Message>, fanout: &mut Fanout) {
        if message.id <= self.delivered {
            return;
        }
        self.delivered = message.id;
        let Some(channel) = self.channels.get(&message.channel) else {
            return;
        };
        let mut too_slow = Vec::new();
        for subscriber in &channel.subscribers {
            if let Some(entry) = self.subscribers.get(subscriber)
                && !fanout.push(&entry.outbox, message)
            {
                too_slow.push(*subscriber);
            }
        }
        for subscriber in too_slow {
            // Closing the queue (rather than skipping the message) keeps the stream
            // gap-free: the client reconnects and resumes from history.
            self.remove_subscriber(subscriber);
        }
    }

    fn remove_subscriber(&mut self, subscriber: u64) {
        let Some(entry) = self.subscribers.remove(&subscriber) else {
            return;
        };
        entry.outbox.close();
        for name in entry.channels {
            self.holdings.remove(entry.addr, &name);
            self.detach(&name, subscriber);
        }
    }

    fn detach(&mut self, name: &ChannelName, subscriber: u64) {
        if let Some(channel) = self.channels.get_mut(name) {
            channel.subscribers.retain(|s| *s != subscriber);
            if channel.subscribers.is_empty() {
                channel.idle_since = Some(Instant::now());
            }
        }
    }
}

impl LocalChannel {
    fn new() -> Self {
        Self {
            subscribers: Vec::new(),
            subscribed: false,
            interrupted: false,
            idle_since: None,
        }
    }
}

/// One connection's subscriptions and its bounded queue. Dropping it unsubscribes.
pub struct Subscriber {
    id: u64,
    hub: Arc<Hub>,
    outbox: Arc<Outbox>,
    /// The rest of the last subscription's replay, until the transport takes it.
    rest: Option<Box<Rest>>,
}

/// The rest of a replay, read from Redis a piece at a time as the transport asks (see
/// [`crate::replay`]): a stalled client holds one piece, and each read is a short
/// script call.
pub struct Rest {
    hub: Arc<Hub>,
    channels: Vec<ChannelName>,
    /// The last id sent.
    after: Id,
    /// The newest id when the replay began; newer messages are queued live.
    through: Id,
    done: bool,
}

impl Rest {
    /// The next piece from Redis.
    pub async fn next(&mut self) -> Piece {
        if self.done {
            return Piece::Done;
        }
        let read = self
            .hub
            .store
            .read(&self.channels, Some(self.after), Some(self.through));
        let snapshot = match read.await {
            Ok(snapshot) => snapshot,
            Err(e) => {
                self.done = true;
                return Piece::Broken(e.to_string());
            }
        };
        if !snapshot.valid || !snapshot.gaps.is_empty() {
            self.done = true;
            return Piece::Broken("history was trimmed during the replay".into());
        }
        self.done = !snapshot.more;
        let messages: Vec<_> = snapshot
            .entries
            .into_iter()
            .filter_map(|entry| self.hub.message(entry.channel, entry.id, &entry.data))
            .collect();
        match messages.last() {
            Some(last) => {
                self.after = last.id;
                Piece::Messages(messages)
            }
            None => Piece::Done,
        }
    }
}

impl Subscriber {
    /// Subscribes to `channels` and returns what the client missed since `since`
    /// (nothing when `None`). The subscription is registered and confirmed by Redis
    /// before history is read, so no message falls between the replay and the live
    /// stream.
    pub async fn subscribe(
        &mut self,
        channels: &[ChannelName],
        since: Option<Id>,
    ) -> Result<Replay, HubError> {
        let result = self.try_subscribe(channels, since).await;
        if result.is_err() {
            let mut local = self.hub.local();
            let local = &mut *local;
            for name in channels {
                if let Some(entry) = local.subscribers.get_mut(&self.id)
                    && entry.channels.contains(name)
                {
                    entry.channels.retain(|c| c != name);
                    local.holdings.remove(entry.addr, name);
                }
                local.detach(name, self.id);
            }
        }
        result
    }

    async fn try_subscribe(
        &mut self,
        channels: &[ChannelName],
        since: Option<Id>,
    ) -> Result<Replay, HubError> {
        self.register(channels)?;
        self.wait_until_subscribed(channels).await?;
        let Some(cursor) = since else {
            return Ok(Replay::Messages(Vec::new()));
        };
        let snapshot = self.hub.store.read(channels, Some(cursor), None).await?;
        let newest = snapshot.newest;
        for name in channels {
            // Live copies of replayed messages may be queued already, or still on
            // their way from Redis.
            self.outbox.replayed(name, newest);
        }
        let (replay, rest) = self.hub.replay(snapshot);
        self.rest = rest.map(|after| {
            Box::new(Rest {
                hub: Arc::clone(&self.hub),
                channels: channels.to_vec(),
                after,
                through: newest,
                done: false,
            })
        });
        Ok(replay)
    }

    /// The rest of the last [`subscribe`](Self::subscribe)'s replay, when its first
    /// piece did not hold all of it: the transport sends its pieces before any live
    /// message, each once the socket took the previous one.
    pub fn rest(&mut self) -> Option<Rest> {
        self.rest.take().map(|rest| *rest)
    }

    fn register(&self, channels: &[ChannelName]) -> Result<(), HubError> {
        let mut local = self.hub.local();
        let local = &mut *local;
        // Without an entry, the hub already closed this queue because the client fell
        // behind; the transport notices on its next receive and disconnects.
        let Some(entry) = local.subscribers.get(&self.id) else {
            return Ok(());
        };
        let addr = entry.addr;
        let new: Vec<ChannelName> = channels
            .iter()
            .filter(|c| !entry.channels.contains(c))
            .cloned()
            .collect();
        let limits = &self.hub.limits;
        let unknown = new
            .iter()
            .filter(|c| !local.channels.contains_key(*c))
            .count();
        // Channels nobody follows any more (waiting out their grace period) do not
        // count: only those with subscribers fill the table.
        let full = unknown > 0
            && local.channels.len() + unknown > limits.max_channels
            && local.followed() + unknown > limits.max_channels;
        let per_addr = limits.max_channels_per_addr;
        match local
            .holdings
            .admits(addr, &new, per_addr, limits.max_channels, full)
        {
            Ok(()) => {}
            Err(Over::Address) => return Err(HubError::AddressLimit(per_addr)),
            Err(Over::Share) => return Err(HubError::TableShare(limits.max_channels)),
        }
        for name in &new {
            local.holdings.add(addr, name);
        }
        let mut wake = false;
        for name in channels {
            if !local.channels.contains_key(name) {
                wake = true;
            }
            let channel = local
                .channels
                .entry(name.clone())
                .or_insert_with(LocalChannel::new);
            if !channel.subscribers.contains(&self.id) {
                channel.subscribers.push(self.id);
            }
            channel.idle_since = None;
            if let Some(entry) = local.subscribers.get_mut(&self.id)
                && !entry.channels.contains(name)
            {
                entry.channels.push(name.clone());
            }
        }
        if wake {
            self.hub.wake.notify_one();
        }
        Ok(())
    }

    async fn wait_until_subscribed(&self, channels: &[ChannelName]) -> Result<(), HubError> {
        let mut confirmations = self.hub.confirmed.subscribe();
        let deadline = tokio::time::Instant::now() + SUBSCRIBE_TIMEOUT;
        loop {
            let pending = {
                let local = self.hub.local();
                channels.iter().any(|name| {
                    local
                        .channels
                        .get(name)
                        .is_some_and(|channel| !channel.subscribed)
                })
            };
            if !pending {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, confirmations.changed()).await {
                Ok(Ok(())) => {}
                _ => {
                    return Err(HubError::Unavailable(format!(
                        "no subscription confirmed within {SUBSCRIBE_TIMEOUT:?}"
                    )));
                }
            }
        }
    }

    pub async fn unsubscribe(&mut self, channel: &ChannelName) {
        self.outbox.forget_replay(channel);
        let mut local = self.hub.local();
        let local = &mut *local;
        if let Some(entry) = local.subscribers.get_mut(&self.id)
            && entry.channels.contains(channel)
        {
            entry.channels.retain(|c| c != channel);
            local.holdings.remove(entry.addr, channel);
        }
        local.detach(channel, self.id);
    }

    /// Waits for at least one message and moves up to `limit` queued ones into
    /// `batch`, so a transport can write them with one syscall. Returns `false` once
    /// the hub has closed the queue because this subscriber fell too far behind or
    /// Redis lost messages it was owed.
    pub async fn recv(&mut self, batch: &mut Vec<Arc<Message>>, limit: usize) -> bool {
        std::future::poll_fn(|cx| self.poll_recv(cx, batch, limit)).await
    }

    /// [`recv`](Self::recv) for a hand-written future or body: `Pending` schedules a
    /// wake-up for the next message.
    pub fn poll_recv(
        &mut self,
        cx: &mut Context<'_>,
        batch: &mut Vec<Arc<Message>>,
        limit: usize,
    ) -> Poll<bool> {
        self.outbox.poll_recv(cx, batch, limit)
    }

    /// The queue itself, for a transport that writes from it directly.
    pub fn outbox(&self) -> &Arc<Outbox> {
        &self.outbox
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.hub.local().remove_subscriber(self.id);
        // Also when the hub dropped it already: nothing is written for it any more.
        self.outbox.close();
    }
}

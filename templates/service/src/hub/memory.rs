//! The in-process hub: assigns ids, keeps bounded per-channel history and fans each
//! published message out to the local subscribers' bounded queues (`engine/outbox.rs`).
//!
//! One mutex guards everything. It is never held across an `.await`, and the work
//! under it is a few pointer copies per subscriber, so publishing to thousands of
//! subscribers stays in the tens of microseconds; anything written to sockets is
//! written after it is released. Assigning the id and queueing the
//! message under the same lock is what makes every subscriber see ids in order, which
//! lets one cursor resume several channels.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use serde_json::value::RawValue;

pub use crate::replay::{Batch, Piece, Replay};

use crate::channel::ChannelName;
use crate::engine::events::SharedEvents;
use crate::engine::outbox::{Fanout, Outbox};
use crate::holdings::{Holdings, Over};
use crate::id::Id;
use crate::message::{Encoder, Envelope, Message};
use crate::replay::{channel_budget, merge, take_budget};

/// Bounds on what the hub keeps in memory, and how it hands messages on.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Messages kept per channel for resume.
    pub history_len: usize,
    /// Encoded bytes kept across all channels; the oldest messages go first.
    pub history_bytes: usize,
    /// Encoded bytes kept per channel; its oldest messages go first.
    pub channel_history_bytes: usize,
    /// Channels with history at once: a publish to a new channel evicts the history
    /// of the one published to least recently. Channels that only have subscribers
    /// are held up to this many as well, shared fairly between client addresses.
    pub max_channels: usize,
    /// Distinct channels one client address holds through all its connections.
    pub max_channels_per_addr: usize,
    /// Messages queued per connection before it counts as a slow consumer.
    pub queue_len: usize,
    /// Encoded bytes queued per connection before it counts as a slow consumer.
    pub queue_bytes: usize,
    /// A channel without subscribers or publishes for this long is forgotten.
    pub channel_idle: Duration,
    /// How long a fan-out waits before handing a message to the connections, so that
    /// messages published meanwhile leave with it in one write each; zero: at once.
    pub write_delay: Duration,
}

/// Why the hub refused a request.
#[derive(Debug)]
pub enum HubError {
    /// The client's address holds `MAX_CHANNELS_PER_ADDR` channels already.
    AddressLimit(usize),
    /// The table of subscribed channels is full and the client's address holds its
    /// share of it.
    TableShare(usize),
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AddressLimit(max) => write!(
                f,
                "this client address already holds {max} channels across its connections; \
                 unsubscribe from some first (MAX_CHANNELS_PER_ADDR)"
            ),
            Self::TableShare(max) => write!(
                f,
                "the server holds {max} subscribed channels and this client address holds \
                 its share of them; unsubscribe from some or retry later (MAX_CHANNELS)"
            ),
        }
    }
}

impl HubError {
    /// Whether the client itself is over a bound (429) rather than the server failing
    /// (503): with this hub, always.
    pub fn is_client_limit(&self) -> bool {
        matches!(self, Self::AddressLimit(_) | Self::TableShare(_))
    }
}

impl std::error::Error for HubError {}

pub struct Hub {
    state: Mutex<State>,
    limits: Limits,
    encode: Encoder,
    /// Handed to every fan-out, which reports what it delivers and whom it cuts.
    events: SharedEvents,
}

struct State {
    /// Ids of this run are greater than this.
    run_start: Id,
    last_id: Id,
    /// The newest id that may have lived in a channel evicted since start-up; a channel
    /// created now cannot vouch for anything at or before it.
    evicted_through: Id,
    channels: HashMap<ChannelName, Channel>,
    /// The oldest message of each non-empty channel, to trim the globally oldest first
    /// when the byte budget is exceeded.
    oldest: BTreeMap<Id, ChannelName>,
    history_bytes: usize,
    subscribers: HashMap<u64, SubscriberEntry>,
    next_subscriber: u64,
    /// The channels each client address holds.
    holdings: Holdings,
}

struct Channel {
    history: VecDeque<Arc<Message>>,
    /// Encoded bytes in `history`.
    bytes: usize,
    /// The newest id trimmed from this channel's history; cursors before it get a reset.
    floor: Id,
    last_id: Id,
    /// Each subscriber's queue, keyed by subscriber: a publish walks this map alone,
    /// and leaving costs O(1) even with thousands of subscribers.
    subscribers: HashMap<u64, Arc<Outbox>>,
    last_active: Instant,
}

struct SubscriberEntry {
    outbox: Arc<Outbox>,
    channels: Vec<ChannelName>,
    /// The client address, as `client_addr::limit_key` gives it.
    addr: IpAddr,
}

impl Hub {
    pub fn new(limits: Limits, encode: Encoder, events: SharedEvents) -> Self {
        let run_start = Id::run_start();
        Self {
            state: Mutex::new(State {
                run_start,
                last_id: run_start,
                evicted_through: run_start,
                channels: HashMap::new(),
                oldest: BTreeMap::new(),
                history_bytes: 0,
                subscribers: HashMap::new(),
                next_subscriber: 0,
                holdings: Holdings::default(),
            }),
            limits,
            encode,
            events,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: every update is
        // completed before the guard is released or cannot fail halfway.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where the engine reports what happens.
    pub fn events(&self) -> &SharedEvents {
        &self.events
    }

    /// Stores `data` on `channel` and queues it for every subscriber.
    pub async fn publish(&self, channel: ChannelName, data: &RawValue) -> Result<Id, HubError> {
        let mut fanout = Fanout::new(self.limits.write_delay, Arc::clone(&self.events));
        let id = self.store(channel, data, &mut fanout)?;
        fanout.finish();
        Ok(id)
    }

    /// Stores the message and queues it, under the lock.
    fn store(
        &self,
        channel: ChannelName,
        data: &RawValue,
        fanout: &mut Fanout,
    ) -> Result<Id, HubError> {
        let mut state = self.state();
        let state = &mut *state;
        state.make_room_for(&channel, &self.limits);
        let id = Id(state.last_id.0 + 1);
        state.last_id = id;
        let wire = (self.encode)(&Envelope {
            channel: channel.as_str(),
            id,
            data,
        });
        let message = Arc::new(Message::new(id, channel.clone(), wire));

        let entry = state
            .channels
            .entry(channel.clone())
            .or_insert_with(|| Channel::new(state.evicted_through));
        entry.last_id = id;
        entry.last_active = Instant::now();
        let mut too_slow = Vec::new();
        for (subscriber, outbox) in &entry.subscribers {
            if !fanout.push(outbox, &message) {
                too_slow.push(*subscriber);
            }
        }
        if entry.history.is_empty() {
            state.oldest.insert(id, channel.clone());
        }
        state.history_bytes += message.wire.len();
        entry.bytes += message.wire.len();
        entry.history.push_back(message);
        // The newest message always stays, whatever its size.
        while entry.history.len() > self.limits.history_len
            || (entry.bytes > self.limits.channel_history_bytes && entry.history.len() > 1)
        {
            let Some(trimmed) = entry.history.pop_front() else {
                break;
            };
            entry.floor = trimmed.id;
            entry.bytes -= trimmed.wire.len();
            state.history_bytes -= trimmed.wire.len();
            state.oldest.remove(&trimmed.id);
            if let Some(next) = entry.history.front() {
                state.oldest.insert(next.id, channel.clone());
            }
        }
        while state.history_bytes > self.limits.history_bytes {
            let Some((_, oldest)) = state.oldest.first_key_value() else {
                break;
            };
            let oldest = oldest.clone();
            state.trim_oldest_of(&oldest);
        }
        for subscriber in too_slow {
            // Closing the queue (rather than skipping the message) keeps the stream
            // gap-free: the client reconnects and resumes from history.
            state.remove_subscriber(subscriber);
        }
        Ok(id)
    }

    /// A new connection's queue, not yet subscribed to anything. `addr` is the client's
    /// address (`client_addr::limit_key`), which `MAX_CHANNELS_PER_ADDR` bounds.
    pub fn subscriber(self: &Arc<Self>, addr: IpAddr) -> Subscriber {
        let outbox = Arc::new(Outbox::new(self.limits.queue_len, self.limits.queue_bytes));
        let mut state = self.state();
        let id = state.next_subscriber;
        state.next_subscriber += 1;
        state.subscribers.insert(
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

    /// Messages after `cursor` on `channels`, without waiting, at most one piece (see
    /// [`crate::replay`]): the client continues from the batch's cursor. With no
    /// cursor: none, and the cursor of the newest message so far.
    pub async fn read(
        &self,
        channels: &[ChannelName],
        cursor: Option<Id>,
    ) -> Result<Batch, HubError> {
        let mut state = self.state();
        let Some(cursor) = cursor else {
            return Ok(Batch::empty(state.last_id));
        };
        Ok(Batch::new(cursor, state.replay(channels, cursor).0))
    }

    /// Forgets channels nobody has used for `channel_idle`.
    pub fn evict_idle(&self) {
        let mut state = self.state();
        let now = Instant::now();
        let idle: Vec<ChannelName> = state
            .channels
            .iter()
            .filter(|(_, c)| {
                c.subscribers.is_empty() && now - c.last_active >= self.limits.channel_idle
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in idle {
            state.evict(&name);
        }
    }
}

impl State {
    /// Makes room for one more channel with history when a publish starts one: at
    /// `max_channels`, the history published to least recently goes (with its channel,
    /// unless someone subscribes to it). Only publishes evict history; subscribing,
    /// however often, never does.
    fn make_room_for(&mut self, channel: &ChannelName, limits: &Limits) {
        let has_history = |c: &Channel| !c.history.is_empty();
        if self.channels.get(channel).is_some_and(has_history)
            || self.oldest.len() < limits.max_channels
        {
            return;
        }
        let least_recent = self
            .channels
            .iter()
            .filter(|(_, c)| has_history(c))
            .min_by_key(|(_, c)| c.last_id)
            .map(|(name, c)| (name.clone(), c.subscribers.is_empty()));
        match least_recent {
            Some((name, true)) => self.evict(&name),
            Some((name, false)) => self.drop_history(&name),
            None => {}
        }
    }

    /// Whether `addr` may subscribe to `channels`, making room in the table of
    /// subscribed channels if needed: unused channels without history go first; when
    /// none is left, the addresses holding the most are refused.
    fn admit(
        &mut self,
        addr: IpAddr,
        channels: &[ChannelName],
        limits: &Limits,
    ) -> Result<(), HubError> {
        let new = channels
            .iter()
            .filter(|c| !self.channels.contains_key(*c))
            .count();
        // Channels without history: those only subscribers keep.
        let subscribed_only = |state: &Self| state.channels.len() - state.oldest.len();
        while new > 0 && subscribed_only(self) + new > limits.max_channels {
            let unused = self
                .channels
                .iter()
                .find(|(_, c)| c.subscribers.is_empty() && c.history.is_empty())
                .map(|(name, _)| name.clone());
            let Some(unused) = unused else {
                break;
            };
            self.evict(&unused);
        }
        let full = new > 0 && subscribed_only(self) + new > limits.max_channels;
        let per_addr = limits.max_channels_per_addr;
        match self
            .holdings
            .admits(addr, channels, per_addr, limits.max_channels, full)
        {
            Ok(()) => Ok(()),
            Err(Over::Address) => Err(HubError::AddressLimit(per_addr)),
            Err(Over::Share) => Err(HubError::TableShare(limits.max_channels)),
        }
    }

    /// Drops a channel's history but keeps its subscribers: a cursor before it now
    /// gets a reset.
    fn drop_history(&mut self, name: &ChannelName) {
        let Some(channel) = self.channels.get_mut(name) else {
            return;
        };
        if let Some(first) = channel.history.front() {
            self.oldest.remove(&first.id);
        }
        self.history_bytes -= channel.bytes;
        channel.history.clear();
        channel.bytes = 0;
        channel.floor = channel.last_id;
    }

    fn evict(&mut self, name: &ChannelName) {
        if let Some(channel) = self.channels.remove(name) {
            self.evicted_through = self.evicted_through.max(channel.last_id);
            if let Some(first) = channel.history.front() {
                self.oldest.remove(&first.id);
            }
            self.history_bytes -= channel.history.iter().map(|m| m.wire.len()).sum::<usize>();
        }
    }

    fn trim_oldest_of(&mut self, name: &ChannelName) {
        let Some(channel) = self.channels.get_mut(name) else {
            return;
        };
        let Some(trimmed) = channel.history.pop_front() else {
            return;
        };
        channel.floor = trimmed.id;
        channel.bytes -= trimmed.wire.len();
        self.history_bytes -= trimmed.wire.len();
        self.oldest.remove(&trimmed.id);
        if let Some(next) = channel.history.front() {
            self.oldest.insert(next.id, name.clone());
        }
    }

    /// The first piece of history after `cursor` across `channels`, merged in id order,
    /// or a reset when some message after `cursor` is no longer held. With it, when
    /// more follows, the rest of the replay: after the piece, up to the newest id now
    /// (newer messages reach the subscriber's queue).
    fn replay(&mut self, channels: &[ChannelName], cursor: Id) -> (Replay, Option<(Id, Id)>) {
        let known = self.run_start <= cursor && cursor <= self.last_id;
        // The newest point after which every requested channel's history is complete:
        // the cursor itself when nothing after it was trimmed or evicted.
        let mut complete_after = if known { cursor } else { self.run_start };
        for name in channels {
            let floor = self
                .channels
                .get(name)
                .map_or(self.evicted_through, |channel| channel.floor);
            complete_after = complete_after.max(floor);
        }
        let now = Instant::now();
        for name in channels {
            if let Some(channel) = self.channels.get_mut(name) {
                channel.last_active = now;
            }
        }
        let (messages, more) = self.piece(channels, complete_after, self.last_id);
        let rest = more
            .then(|| messages.last().map(|m| (m.id, self.last_id)))
            .flatten();
        let replay = if known && complete_after == cursor {
            Replay::Messages(messages)
        } else {
            Replay::Reset {
                cursor: complete_after,
                messages,
            }
        };
        (replay, rest)
    }

    /// The next piece of `channels`' history after `after` and up to `through`, and
    /// whether more follows.
    fn piece(&self, channels: &[ChannelName], after: Id, through: Id) -> (Vec<Arc<Message>>, bool) {
        let budget = channel_budget(channels.len());
        let runs = channels
            .iter()
            .filter_map(|name| self.channels.get(name))
            .filter(|channel| channel.last_id > after)
            .map(|channel| {
                let start = channel.history.partition_point(|m| m.id <= after);
                let messages = channel.history.range(start..);
                take_budget(messages.take_while(|m| m.id <= through), budget)
            })
            .collect();
        merge(runs)
    }

    /// Whether `channels` still hold everything after `after`.
    fn complete_after(&self, channels: &[ChannelName], after: Id) -> bool {
        channels.iter().all(|name| {
            let floor = self
                .channels
                .get(name)
                .map_or(self.evicted_through, |channel| channel.floor);
            floor <= after
        })
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
            channel.subscribers.remove(&subscriber);
            channel.last_active = Instant::now();
        }
    }
}

impl Channel {
    fn new(floor: Id) -> Self {
        Self {
            history: VecDeque::new(),
            bytes: 0,
            floor,
            last_id: floor,
            subscribers: HashMap::new(),
            last_active: Instant::now(),
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

/// The rest of a replay, read from history a piece at a time as the transport asks
/// (see [`crate::replay`]): a stalled client holds one piece, not a history.
pub struct Rest {
    hub: Arc<Hub>,
    channels: Vec<ChannelName>,
    /// The last id sent.
    after: Id,
    /// The newest id when the subscription was registered; newer messages are queued.
    through: Id,
    done: bool,
}

impl Rest {
    /// The next piece, read under the hub's lock.
    pub async fn next(&mut self) -> Piece {
        if self.done {
            return Piece::Done;
        }
        let state = self.hub.state();
        if !state.complete_after(&self.channels, self.after) {
            self.done = true;
            return Piece::Broken("history was trimmed during the replay".into());
        }
        let (messages, more) = state.piece(&self.channels, self.after, self.through);
        drop(state);
        self.done = !more;
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
    /// (nothing when `None`). History is read and the subscription registered under
    /// one lock, so no message falls between the replay and the live stream.
    pub async fn subscribe(
        &mut self,
        channels: &[ChannelName],
        since: Option<Id>,
    ) -> Result<Replay, HubError> {
        let mut state = self.hub.state();
        let state = &mut *state;
        let Some(entry) = state.subscribers.get(&self.id) else {
            // The hub already closed this queue because the client fell behind; the
            // transport notices on its next receive and disconnects, and the client
            // resumes from its own cursor.
            return Ok(Replay::Messages(Vec::new()));
        };
        let (outbox, addr) = (Arc::clone(&entry.outbox), entry.addr);
        let new: Vec<ChannelName> = channels
            .iter()
            .filter(|c| !entry.channels.contains(c))
            .cloned()
            .collect();
        state.admit(addr, &new, &self.hub.limits)?;
        for name in &new {
            state.holdings.add(addr, name);
        }
        for name in channels {
            let channel = state
                .channels
                .entry(name.clone())
                .or_insert_with(|| Channel::new(state.evicted_through));
            channel
                .subscribers
                .entry(self.id)
                .or_insert_with(|| Arc::clone(&outbox));
            channel.last_active = Instant::now();
            if let Some(entry) = state.subscribers.get_mut(&self.id)
                && !entry.channels.contains(name)
            {
                entry.channels.push(name.clone());
            }
        }
        let Some(cursor) = since else {
            return Ok(Replay::Messages(Vec::new()));
        };
        let (replay, rest) = state.replay(channels, cursor);
        self.rest = rest.map(|(after, through)| {
            Box::new(Rest {
                hub: Arc::clone(&self.hub),
                channels: channels.to_vec(),
                after,
                through,
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

    pub async fn unsubscribe(&mut self, channel: &ChannelName) {
        let mut state = self.hub.state();
        let state = &mut *state;
        if let Some(entry) = state.subscribers.get_mut(&self.id)
            && entry.channels.contains(channel)
        {
            entry.channels.retain(|c| c != channel);
            state.holdings.remove(entry.addr, channel);
        }
        state.detach(channel, self.id);
    }

    /// Waits for at least one message and moves up to `limit` queued ones into
    /// `batch`, so a transport can write them with one syscall. Returns `false` once
    /// the hub has closed the queue because this subscriber fell too far behind.
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
        self.hub.state().remove_subscriber(self.id);
        // Also when the hub dropped it already: nothing is written for it any more.
        self.outbox.close();
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use serde_json::value::RawValue;

    use super::*;
    use crate::engine::events::tests::Counted;

    fn hub(limits: impl FnOnce(&mut Limits)) -> Arc<Hub> {
        let mut defaults = Limits {
            history_len: 1000,
            history_bytes: 64 << 20,
            channel_history_bytes: 8 << 20,
            max_channels: 10_000,
            max_channels_per_addr: 4096,
            queue_len: 256,
            queue_bytes: 1 << 20,
            channel_idle: Duration::from_secs(600),
            write_delay: Duration::ZERO,
        };
        limits(&mut defaults);
        let encode: Encoder = |envelope| serde_json::to_vec(envelope).unwrap().into();
        Arc::new(Hub::new(defaults, encode, Arc::new(Counted::default())))
    }

    fn name(name: &str) -> ChannelName {
        ChannelName::parse(name).unwrap()
    }

    fn addr(last: u8) -> IpAddr {
        [127, 0, 0, last].into()
    }

    async fn publish(hub: &Hub, channel: &str, data: &str) -> Id {
        let data = RawValue::from_string(data.into()).unwrap();
        hub.publish(name(channel), &data).await.unwrap()
    }

    fn ids(replay: &Replay) -> Vec<Id> {
        match replay {
            Replay::Messages(messages) => messages.iter().map(|m| m.id).collect(),
            Replay::Reset { .. } => panic!("a reset: {replay:?}"),
        }
    }

    #[tokio::test]
    async fn a_replay_past_one_piece_continues_from_its_rest_in_order() {
        let hub = hub(|_| {});
        let start = publish(&hub, "a", "0").await;
        let big = format!("\"{}\"", "x".repeat(20 * 1024));
        let mut published = Vec::new();
        for n in 0..40 {
            published.push(publish(&hub, if n % 2 == 0 { "a" } else { "b" }, &big).await);
        }
        let mut subscriber = hub.subscriber(addr(1));
        let replay = subscriber
            .subscribe(&[name("a"), name("b")], Some(start))
            .await
            .unwrap();
        let mut received = ids(&replay);
        assert!(
            received.len() < published.len(),
            "the first piece is bounded"
        );
        let mut rest = subscriber.rest().expect("the rest of the replay");
        let mut pieces = 1;
        while let Piece::Messages(messages) = rest.next().await {
            pieces += 1;
            received.extend(messages.iter().map(|m| m.id));
        }
        println!("800 KiB of history in {pieces} pieces");
        assert_eq!(received, published);
    }

    #[tokio::test]
    async fn a_channel_cap_per_address_refuses_that_address_only() {
        let hub = hub(|limits| limits.max_channels_per_addr = 2);
        let mut first = hub.subscriber(addr(1));
        first
            .subscribe(&[name("a"), name("b")], None)
            .await
            .unwrap();
        // Another connection of the same address holds the same channels once.
        let mut second = hub.subscriber(addr(1));
        second.subscribe(&[name("a")], None).await.unwrap();
        let refused = second.subscribe(&[name("c")], None).await;
        assert!(
            matches!(refused, Err(HubError::AddressLimit(2))),
            "{refused:?}"
        );
        let mut other = hub.subscriber(addr(2));
        other
            .subscribe(&[name("c"), name("d")], None)
            .await
            .unwrap();
        // Leaving frees the address's channels.
        drop(first);
        second.unsubscribe(&name("a")).await;
        second
            .subscribe(&[name("c"), name("e")], None)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn channels_only_subscribed_to_never_make_a_publish_fail() {
        let hub = hub(|limits| limits.max_channels = 4);
        let mut flood = hub.subscriber(addr(1));
        let mut held = 0;
        for n in 0..10 {
            if flood
                .subscribe(&[name(&format!("junk{n}"))], None)
                .await
                .is_ok()
            {
                held += 1;
            }
        }
        assert_eq!(held, 4, "the table holds MAX_CHANNELS subscribed channels");
        for n in 0..10 {
            publish(&hub, &format!("news{n}"), "1").await;
        }
        let mut victim = hub.subscriber(addr(2));
        victim
            .subscribe(&[name("fresh")], None)
            .await
            .expect("another address still subscribes to a new channel");
    }

    #[tokio::test]
    async fn subscription_churn_never_evicts_history() {
        let hub = hub(|limits| limits.max_channels = 4);
        let kept = publish(&hub, "victim", "1").await;
        let before = Id(kept.0 - 1);
        let mut churn = hub.subscriber(addr(1));
        for n in 0..1000 {
            let channel = name(&format!("churn{n}"));
            churn
                .subscribe(std::slice::from_ref(&channel), None)
                .await
                .unwrap();
            churn.unsubscribe(&channel).await;
        }
        let mut reader = hub.subscriber(addr(2));
        let replay = reader
            .subscribe(&[name("victim")], Some(before))
            .await
            .unwrap();
        assert_eq!(ids(&replay), [kept], "no reset: the history is still there");
    }

    #[tokio::test]
    async fn a_channel_keeps_at_most_its_history_bytes() {
        let hub = hub(|limits| limits.channel_history_bytes = 64 * 1024);
        let start = publish(&hub, "a", "0").await;
        let big = format!("\"{}\"", "x".repeat(10 * 1024));
        for _ in 0..20 {
            publish(&hub, "a", &big).await;
        }
        let small = publish(&hub, "b", "1").await;
        let batch = hub.read(&[name("a")], Some(start)).await.unwrap();
        let bytes: usize = batch.messages.iter().map(|m| m.wire.len()).sum();
        assert!(batch.reset, "the oldest messages of `a` went");
        assert!(bytes <= 64 * 1024, "{bytes} bytes kept");
        let other = hub.read(&[name("b")], Some(start)).await.unwrap();
        assert_eq!(
            other.messages.last().map(|m| m.id),
            Some(small),
            "`b` is untouched"
        );
    }
}

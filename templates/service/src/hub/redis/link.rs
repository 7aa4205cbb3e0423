//! The instance's Redis pub/sub connection. It subscribes to exactly the channels local
//! clients follow, hands what arrives to the hub, and unsubscribes a few seconds after
//! the last local client of a channel leaves. When the connection breaks it reconnects
//! with backoff, resubscribes and fills the gap from history, while clients stay
//! connected.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use redis::aio::PubSubSink;
use redis::{Client, Msg};

use super::Hub;
use super::store::timed;
use crate::channel::ChannelName;
use crate::id::Id;
use crate::shutdown::Shutdown;

/// How long a channel nobody follows stays subscribed, so back-to-back polls and quick
/// reconnects do not churn subscriptions.
const GRACE: Duration = Duration::from_secs(5);
/// How often idle subscriptions are ended and the connection is checked.
const TICK: Duration = Duration::from_secs(1);
/// Every this many ticks a PING proves the connection is still alive.
const PING_TICKS: u32 = 10;
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub async fn run(hub: Arc<Hub>, client: Client, mut shutdown: Shutdown) {
    let mut backoff = MIN_BACKOFF;
    // Where the next connection fills the gap from: what the lost one had covered.
    let mut resume: Option<Id> = None;
    // Failed attempts since the link was last up.
    let mut failures = 0u32;
    loop {
        let mut covered = None;
        let mut up = false;
        let error = tokio::select! {
            error = session(&hub, &client, &mut resume, &mut covered, &mut up) => error,
            () = shutdown.wait() => return,
        };
        hub.connection_lost();
        hub.events.redis_link(false);
        if let Some(covered) = covered {
            resume = Some(covered.max(hub.local().delivered));
        }
        // Once the link was up, an outage starts over from the shortest delay, whether
        // or not it followed channels: an idle instance keeps no grown delay from an
        // old outage that would keep its first subscriber waiting after the next one.
        if up {
            backoff = MIN_BACKOFF;
            failures = 0;
        }
        failures += 1;
        let delay = jittered(backoff);
        if failures == 1 {
            tracing::warn!(
                "Redis subscriptions lost ({error}); reconnecting in {delay:?}, sooner if a \
                 client subscribes"
            );
        } else {
            // Subscribing clients make attempts frequent during an outage: one warning
            // for the outage, the attempts at debug level.
            tracing::debug!("Redis still unreachable ({error}); retrying in {delay:?}");
        }
        // A client waiting for a subscription cuts the wait short (no sooner than
        // MIN_BACKOFF, so waiting clients cannot make the link retry in a loop): when
        // Redis is back it is followed at once rather than at the end of a long delay.
        let asked = async {
            tokio::time::sleep(MIN_BACKOFF).await;
            hub.wake.notified().await;
        };
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = asked => {}
            () = shutdown.wait() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Half of `delay` plus a random share of the other half, so that instances which lost
/// Redis together do not all come back in the same instant.
fn jittered(delay: Duration) -> Duration {
    let share = u32::try_from(RandomState::new().hash_one(Instant::now()) % 1000).unwrap_or(0);
    delay / 2 + delay / 2 * share / 1000
}

/// One connection's life; returns why it ended. `covered` becomes the id through which
/// every message of the followed channels has been delivered once subscriptions run;
/// `up` becomes true once Redis has answered on the connection and every channel
/// pending then is subscribed.
async fn session(
    hub: &Hub,
    client: &Client,
    resume: &mut Option<Id>,
    covered: &mut Option<Id>,
    up: &mut bool,
) -> String {
    let pubsub = match timed(client.get_async_pubsub()).await {
        Ok(pubsub) => pubsub,
        Err(e) => return e,
    };
    hub.events.redis_link(true);
    let (mut sink, mut stream) = pubsub.split();
    // A round trip proves the link before it counts as up.
    if let Err(e) = timed(sink.ping::<redis::Value>()).await {
        return e;
    }
    let mut tick = tokio::time::interval(TICK);
    let mut ticks = 0u32;
    loop {
        if let Err(e) = subscribe_pending(hub, &mut sink, resume, covered).await {
            return e;
        }
        *up = true;
        tokio::select! {
            message = stream.next() => match message {
                Some(message) => hub.receive(&message),
                None => return "the connection closed".into(),
            },
            () = hub.wake.notified() => {}
            _ = tick.tick() => {
                ticks = ticks.wrapping_add(1);
                let idle = hub.take_idle();
                if !idle.is_empty() {
                    let names: Vec<String> = idle.iter().map(|c| hub.store.pubsub_channel(c)).collect();
                    if let Err(e) = timed(sink.unsubscribe(&names)).await {
                        return e;
                    }
                }
                if ticks.is_multiple_of(PING_TICKS)
                    && let Err(e) = timed(sink.ping::<redis::Value>()).await
                {
                    return e;
                }
            }
        }
    }
}

/// Subscribes to the channels local clients follow that have no confirmed subscription.
async fn subscribe_pending(
    hub: &Hub,
    sink: &mut PubSubSink,
    resume: &mut Option<Id>,
    covered: &mut Option<Id>,
) -> Result<(), String> {
    let pending = hub.pending();
    if pending.is_empty() {
        return Ok(());
    }
    // Everything published after this is delivered live once the subscription runs.
    let before = match (*covered, *resume) {
        (None, None) => Some(newest(hub).await?),
        _ => None,
    };
    let names: Vec<String> = pending
        .iter()
        .map(|c| hub.store.pubsub_channel(c))
        .collect();
    timed(sink.subscribe(&names)).await?;
    if covered.is_none() {
        *covered = match *resume {
            Some(from) => {
                let through = fill_gap(hub, from).await?;
                *resume = None;
                Some(through)
            }
            None => before,
        };
    }
    // Only now may the waiting clients go on. Filling the gap raises the delivered
    // mark to the newest id in Redis, over every channel; a client told earlier could
    // have a message published on a channel new to this connection below that mark,
    // which the live stream would then drop as a repeat.
    hub.confirm(&pending);
    Ok(())
}

/// The newest id of the service. After Redis restarts, the first command on the
/// store's connection fails (the connection is gone) while the manager reconnects; a
/// read changes nothing, so it is tried once more rather than failing the link, whose
/// subscribers would then wait out a reconnect delay.
async fn newest(hub: &Hub) -> Result<Id, String> {
    match hub.store.newest().await {
        Ok(id) => Ok(id),
        Err(_) => hub.store.newest().await.map_err(|e| e.to_string()),
    }
}

/// Delivers what the channels followed before the connection broke missed meanwhile,
/// and returns the id through which they are now complete.
async fn fill_gap(hub: &Hub, from: Id) -> Result<Id, String> {
    let channels = &hub.interrupted();
    let mut snapshot = hub
        .store
        .read(channels, Some(from), None)
        .await
        .map_err(|e| e.to_string())?;
    let newest = snapshot.newest;
    if !snapshot.valid {
        // Redis restarted without its data. Nothing could be published while it was
        // down, so continue with everything published since it came back (the
        // snapshot holds what followed the epoch).
        tracing::warn!("Redis lost its data; continuing with the messages published since");
        hub.local().delivered = snapshot.epoch;
    }
    let gaps: Vec<ChannelName> = snapshot.gaps.into_iter().map(|(name, _)| name).collect();
    if !gaps.is_empty() {
        tracing::warn!(
            "history no longer covers the outage on {} channel(s); their clients reconnect and get a reset",
            gaps.len()
        );
        hub.interrupt(&gaps);
    }
    let mut missed = 0;
    // Read a piece per script call, so a long outage never makes one call that holds
    // Redis up for every instance.
    loop {
        let next = snapshot.entries.last().map(|entry| entry.id);
        // Channels with a gap are left to their clients' resets.
        for entry in std::mem::take(&mut snapshot.entries) {
            if !gaps.contains(&entry.channel)
                && let Some(message) = hub.message(entry.channel, entry.id, &entry.data)
            {
                hub.deliver(message);
                missed += 1;
            }
        }
        let Some(next) = next.filter(|_| snapshot.more) else {
            break;
        };
        snapshot = hub
            .store
            .read(channels, Some(next), Some(newest))
            .await
            .map_err(|e| e.to_string())?;
    }
    if missed > 0 {
        tracing::info!("delivered {missed} message(s) published while the subscription was down");
    }
    let mut local = hub.local();
    local.delivered = local.delivered.max(newest);
    for channel in local.channels.values_mut() {
        channel.interrupted = false;
    }
    Ok(newest)
}

impl Hub {
    /// Fans out one message from Redis pub/sub.
    fn receive(&self, message: &Msg) {
        let Some(channel) = self.store.channel_of(message.get_channel_name()) else {
            return;
        };
        let parsed = std::str::from_utf8(message.get_payload_bytes())
            .ok()
            .and_then(|payload| payload.split_once(' '))
            .and_then(|(id, data)| Some((Id::parse(id).ok()?, data)));
        let Some((id, data)) = parsed else {
            tracing::warn!("ignoring a malformed message on {channel}");
            return;
        };
        if let Some(message) = self.message(channel, id, data) {
            self.deliver(message);
        }
    }

    /// Channels local clients follow without a confirmed Redis subscription.
    fn pending(&self) -> Vec<ChannelName> {
        self.local()
            .channels
            .iter()
            .filter(|(_, channel)| !channel.subscribed)
            .map(|(name, _)| name.clone())
            .collect()
    }

    fn confirm(&self, channels: &[ChannelName]) {
        let mut local = self.local();
        for name in channels {
            if let Some(channel) = local.channels.get_mut(name) {
                channel.subscribed = true;
            }
        }
        drop(local);
        self.confirmed.send_modify(|generation| *generation += 1);
    }

    /// Channels that lost their subscription with the connection and still have clients.
    fn interrupted(&self) -> Vec<ChannelName> {
        self.local()
            .channels
            .iter()
            .filter(|(_, channel)| channel.interrupted && !channel.subscribers.is_empty())
            .map(|(name, _)| name.clone())
            .collect()
    }

    fn connection_lost(&self) {
        let mut local = self.local();
        local
            .channels
            .retain(|_, channel| !channel.subscribers.is_empty());
        for channel in local.channels.values_mut() {
            channel.interrupted |= channel.subscribed;
            channel.subscribed = false;
        }
    }

    /// Forgets channels nobody has followed for the grace period and returns those
    /// subscribed in Redis.
    fn take_idle(&self) -> Vec<ChannelName> {
        let mut idle = Vec::new();
        self.local().channels.retain(|name, channel| {
            let expired = channel
                .idle_since
                .is_some_and(|since| since.elapsed() >= GRACE);
            if expired && channel.subscribed {
                idle.push(name.clone());
            }
            !expired
        });
        idle
    }
}

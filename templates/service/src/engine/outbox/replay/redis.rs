//! Live copies of replayed messages, skipped.
//!
//! With Redis, a subscription's replay is read from the store while live messages
//! already reach the queue through the instance's link, so the same message can come
//! both ways. The replay records the newest id it sent per channel; queued copies up
//! to it are repeats.

use crate::channel::ChannelName;
use crate::id::Id;
use crate::message::Message;

use super::Outbox;

/// Per channel, the newest id a replay already sent. A channel's entry goes once a
/// newer message passes.
#[derive(Default)]
pub struct Replayed(Vec<(ChannelName, Id)>);

impl Replayed {
    pub fn is_repeat(&mut self, message: &Message) -> bool {
        let Some(at) = self
            .0
            .iter()
            .position(|(channel, _)| *channel == message.channel)
        else {
            return false;
        };
        if message.id <= self.0[at].1 {
            return true;
        }
        self.0.swap_remove(at);
        false
    }
}

impl Outbox {
    /// A replay sent everything on `channel` up to `id`: queued and future copies of
    /// those messages are dropped.
    pub fn replayed(&self, channel: &ChannelName, id: Id) {
        let mut state = self.state();
        state.replayed.0.retain(|(c, _)| c != channel);
        state.replayed.0.push((channel.clone(), id));
    }

    /// Forgets the replay of a channel the connection unsubscribed from.
    pub fn forget_replay(&self, channel: &ChannelName) {
        self.state().replayed.0.retain(|(c, _)| c != channel);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::super::tests::{message, receive};
    use super::*;
    use crate::engine::events::tests::Counted;
    use crate::engine::outbox::Fanout;

    #[test]
    fn live_copies_of_a_replay_are_dropped_until_a_newer_message_passes() {
        let outbox = Arc::new(Outbox::new(16, usize::MAX));
        let mut fanout = Fanout::new(Duration::ZERO, Arc::new(Counted::default()));
        for (channel, id) in [("a", 4), ("b", 5), ("a", 6)] {
            fanout.push(&outbox, &message(channel, id));
        }
        // The replay covered "a" up to 6: 4 and 6 were queued already, 6 comes again.
        outbox.replayed(&ChannelName::parse("a").unwrap(), Id(6));
        assert_eq!(receive(&outbox), (vec![5], true));
        for (channel, id) in [("a", 6), ("a", 7), ("b", 8)] {
            fanout.push(&outbox, &message(channel, id));
        }
        assert_eq!(receive(&outbox), (vec![7, 8], true));
    }
}

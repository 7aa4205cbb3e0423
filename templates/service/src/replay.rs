//! What a subscriber or a poll gets back from the hub, whichever hub it is.
//!
//! History is handed out in pieces of about [`PIECE_BYTES`]: a poll answers one piece
//! and the client polls on from its cursor; a stream writes the first piece, then asks
//! for the next ([`Piece`]) only once the socket took the previous one. So a client
//! that stops reading pins one piece, never a whole history.

use std::sync::Arc;

use crate::id::Id;
use crate::message::Message;

/// About how many message bytes one piece of a replay or one poll holds (one message
/// more when the budget ends inside it).
pub const PIECE_BYTES: usize = 256 * 1024;

/// The least budget per channel when a piece is split between many channels, so a
/// piece always moves by a useful amount.
const MIN_CHANNEL_BYTES: usize = 4 * 1024;

/// What a subscriber gets before live messages: the first piece of its replay. The
/// rest, if any, comes from the subscriber's `rest()`.
#[derive(Debug)]
pub enum Replay {
    /// Messages after the cursor still in history, oldest first (empty when live only).
    Messages(Vec<Arc<Message>>),
    /// The cursor cannot be served without a gap (too old, from an earlier run or from
    /// before a history loss, or unknown): the client must reload its state. History is
    /// complete after `cursor`, and `messages` is the first piece of it, oldest first;
    /// live delivery follows.
    Reset {
        cursor: Id,
        messages: Vec<Arc<Message>>,
    },
}

/// The next piece of a replay that did not fit in the first.
#[derive(Debug)]
pub enum Piece {
    /// The next messages in id order.
    Messages(Vec<Arc<Message>>),
    /// The replay is complete; live messages follow.
    Done,
    /// History lost messages the replay still owed (trimmed meanwhile, or the store is
    /// unreachable): the connection ends and the client resumes from the last id it
    /// got, which answers with a reset if needed.
    Broken(String),
}

/// The answer to a poll.
#[derive(Debug)]
pub struct Batch {
    pub messages: Vec<Arc<Message>>,
    /// Where the next poll continues from.
    pub cursor: Id,
    pub reset: bool,
}

impl Batch {
    pub(crate) fn empty(cursor: Id) -> Self {
        Self {
            messages: Vec::new(),
            cursor,
            reset: false,
        }
    }

    /// The answer to a poll from `cursor`: it continues after the last message, or
    /// after the reset's cursor when history had nothing more.
    pub(crate) fn new(cursor: Id, replay: Replay) -> Self {
        let (cursor, messages, reset) = match replay {
            Replay::Messages(messages) => (cursor, messages, false),
            Replay::Reset { cursor, messages } => (cursor, messages, true),
        };
        Self {
            cursor: messages.last().map_or(cursor, |m| m.id),
            messages,
            reset,
        }
    }
}

/// How many bytes each of `channels` channels may contribute to one piece.
pub(crate) fn channel_budget(channels: usize) -> usize {
    (PIECE_BYTES / channels.max(1)).max(MIN_CHANNEL_BYTES)
}

/// Takes messages from `messages` (one channel's, in id order) until `budget` bytes
/// are reached. Returns them and whether more were left.
pub(crate) fn take_budget<'a>(
    messages: impl IntoIterator<Item = &'a Arc<Message>>,
    budget: usize,
) -> (Vec<Arc<Message>>, bool) {
    let mut taken = Vec::new();
    let mut bytes = 0;
    for message in messages {
        if bytes >= budget {
            return (taken, true);
        }
        bytes += message.wire.len();
        taken.push(Arc::clone(message));
    }
    (taken, false)
}

/// Merges per-channel runs into one piece in id order. Each run holds one channel's
/// next messages, and whether that channel has more after them. The piece stops at the
/// earliest point where some channel's run was cut, so it never skips a message: every
/// message up to its last id is in it. Returns the piece and whether more follow.
pub(crate) fn merge(runs: Vec<(Vec<Arc<Message>>, bool)>) -> (Vec<Arc<Message>>, bool) {
    let cutoff = runs
        .iter()
        .filter(|(_, cut)| *cut)
        .filter_map(|(run, _)| run.last().map(|m| m.id))
        .min();
    let several = runs.iter().filter(|(run, _)| !run.is_empty()).count() > 1;
    let mut piece: Vec<Arc<Message>> = runs
        .into_iter()
        .flat_map(|(run, _)| run)
        .filter(|m| cutoff.is_none_or(|cutoff| m.id <= cutoff))
        .collect();
    if several {
        piece.sort_unstable_by_key(|m| m.id);
    }
    (piece, cutoff.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::ChannelName;

    fn message(channel: &str, id: u64, len: usize) -> Arc<Message> {
        Arc::new(Message {
            id: Id(id),
            channel: ChannelName::parse(channel).unwrap(),
            wire: vec![b'x'; len].into(),
        })
    }

    fn ids(messages: &[Arc<Message>]) -> Vec<u64> {
        messages.iter().map(|m| m.id.0).collect()
    }

    #[test]
    fn a_run_stops_once_its_budget_is_reached() {
        let history: Vec<_> = (1..=5).map(|id| message("a", id, 100)).collect();
        let (taken, more) = take_budget(&history, 250);
        assert_eq!((ids(&taken), more), (vec![1, 2, 3], true));
        let (taken, more) = take_budget(&history, 500);
        assert_eq!((ids(&taken), more), (vec![1, 2, 3, 4, 5], false));
    }

    #[test]
    fn a_merged_piece_never_skips_past_a_cut_channel() {
        // "a" was cut after 3: "b"'s 4 and 6 must wait for the next piece.
        let a = (vec![message("a", 1, 10), message("a", 3, 10)], true);
        let b = (
            vec![
                message("b", 2, 10),
                message("b", 4, 10),
                message("b", 6, 10),
            ],
            false,
        );
        let (piece, more) = merge(vec![a, b]);
        assert_eq!((ids(&piece), more), (vec![1, 2, 3], true));
        let (piece, more) = merge(vec![(vec![message("a", 5, 10)], false)]);
        assert_eq!((ids(&piece), more), (vec![5], false));
    }
}

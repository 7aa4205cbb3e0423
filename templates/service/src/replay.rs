//! What a subscriber or a poll gets back from the hub, whichever hub it is.

use std::sync::Arc;

use crate::id::Id;
use crate::message::Message;

/// What a subscriber gets before live messages.
#[derive(Debug)]
pub enum Replay {
    /// Every message after the cursor still in history, oldest first (empty when live only).
    Messages(Vec<Arc<Message>>),
    /// The cursor cannot be served without a gap (too old, from an earlier run or from
    /// before a history loss, or unknown): the client must reload its state. History is
    /// complete after `cursor`, and `messages` is all of it, oldest first; live delivery
    /// follows.
    Reset {
        cursor: Id,
        messages: Vec<Arc<Message>>,
    },
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

//! Live copies of replayed messages: none to skip with the in-memory hub.
//!
//! The hub reads a subscription's history and registers its queue under one lock, so
//! a message is either in the replay or queued live, never both.

use crate::message::Message;

#[derive(Default)]
pub struct Replayed;

impl Replayed {
    /// Never a repeat: see the module's comment.
    pub fn is_repeat(&mut self, _message: &Message) -> bool {
        false
    }
}

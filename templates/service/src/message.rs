//! What the hub stores and fans out: a message already encoded for the wire.

use std::time::Instant;

use bytes::Bytes;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::channel::ChannelName;
use crate::id::Id;

/// The envelope every client receives: `{"channel": "...", "id": "...", "data": <json>}`.
#[derive(Serialize)]
pub struct Envelope<'a> {
    pub channel: &'a str,
    pub id: Id,
    pub data: &'a RawValue,
}

/// Turns an envelope into the exact bytes the transport writes to clients.
pub type Encoder = fn(&Envelope<'_>) -> Bytes;

/// A published message. It is encoded once, at publish time, and shared by every
/// subscriber and the history through an `Arc`: fan-out never re-serializes.
#[derive(Debug)]
pub struct Message {
    pub id: Id,
    pub channel: ChannelName,
    pub wire: Bytes,
    /// When this instance accepted it, or received it from Redis: where
    /// `realtime_publish_to_write_seconds` starts.
    pub received: Instant,
}

impl Message {
    /// A message that reaches this instance now.
    pub fn new(id: Id, channel: ChannelName, wire: Bytes) -> Self {
        Self {
            id,
            channel,
            wire,
            received: Instant::now(),
        }
    }
}

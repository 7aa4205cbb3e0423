//! What the hub stores and fans out: a message already encoded for the wire.

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
}

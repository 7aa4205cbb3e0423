//! Long polling: `GET /poll?channel=A&channel=B&cursor=<id>&timeout=<seconds>`.
//!
//! A poll is answered at once when messages newer than the cursor exist; otherwise it
//! is held until one arrives or the timeout passes. The cursor the client sends is
//! all the state there is: nothing about a client outlives its request, so any
//! instance can answer any poll.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::{BufMut, Bytes, BytesMut};

use crate::AppState;
use crate::channel::ChannelName;
use crate::error::ApiError;
use crate::hub::Replay;
use crate::id::Id;
use crate::message::{Envelope, Message};
use crate::params;

/// Seconds a poll is held by default: under the 30-60 s after which proxies commonly
/// cut a quiet request.
const DEFAULT_TIMEOUT: u64 = 25;
const MAX_TIMEOUT: u64 = 60;
/// Messages per response: a client far behind catches up over several polls instead
/// of in one unbounded body.
const MAX_MESSAGES: usize = 1000;

pub fn routes() -> Router<AppState> {
    Router::new().route("/poll", get(poll))
}

/// Encodes a message as its JSON envelope; responses join these with commas.
pub fn encode(envelope: &Envelope<'_>) -> Bytes {
    serde_json::to_vec(envelope)
        .map(Bytes::from)
        .unwrap_or_default()
}

async fn poll(
    State(state): State<AppState>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let channels = params::channels(&query)?;
    let cursor = params::id(&query, "cursor")?;
    let timeout = timeout_param(&query)?;

    // Answer from history when it holds anything newer. Without a cursor this only
    // learns the current one, and the poll waits for the next message.
    let batch = state.hub.read(&channels, cursor).await?;
    if batch.reset || !batch.messages.is_empty() {
        return Ok(reply(batch.messages, batch.cursor, batch.reset));
    }

    // Nothing new: wait on a subscription, until a message, the timeout or shutdown
    // (held polls are answered at once then, so the drain finishes fast).
    let mut shutdown = state.shutdown.clone();
    tokio::select! {
        waited = wait_for_messages(&state, &channels, batch.cursor, timeout) => waited,
        () = shutdown.wait() => Ok(reply(Vec::new(), batch.cursor, false)),
    }
}

/// Holds the poll until a message newer than `cursor` arrives or `timeout` passes.
async fn wait_for_messages(
    state: &AppState,
    channels: &[ChannelName],
    cursor: Id,
    timeout: Duration,
) -> Result<Response, ApiError> {
    let deadline = tokio::time::Instant::now() + timeout;
    // Subscribing replays what was published since the read atomically with
    // registering, so nothing falls in between.
    let mut subscriber = state.hub.subscriber();
    let mut messages = match subscriber.subscribe(channels, Some(cursor)).await? {
        // History was trimmed since the read: answer at once, with what it still holds.
        Replay::Reset { cursor, messages } => return Ok(reply(messages, cursor, true)),
        Replay::Messages(messages) => messages,
    };
    if messages.is_empty() {
        // One wake-up takes everything queued by then into the same response. A closed
        // queue or the deadline leave `messages` empty: the client simply polls again.
        let _ =
            tokio::time::timeout_at(deadline, subscriber.recv(&mut messages, MAX_MESSAGES)).await;
    }
    Ok(reply(messages, cursor, false))
}

/// The `timeout` parameter: whole seconds from 1 to [`MAX_TIMEOUT`].
fn timeout_param(query: &[(String, String)]) -> Result<Duration, ApiError> {
    let Some((_, text)) = query.iter().rev().find(|(key, _)| key == "timeout") else {
        return Ok(Duration::from_secs(DEFAULT_TIMEOUT));
    };
    match text.parse() {
        Ok(seconds @ 1..=MAX_TIMEOUT) => Ok(Duration::from_secs(seconds)),
        _ => Err(ApiError::bad_request(format!(
            "timeout must be whole seconds from 1 to {MAX_TIMEOUT}"
        ))),
    }
}

/// `{"messages": [...], "cursor": "<id>"}`, plus `"reset": true` when history could
/// not cover the cursor, joined from the envelopes encoded at publish time. `cursor`
/// is where the client stands before `messages`.
fn reply(mut messages: Vec<Arc<Message>>, cursor: Id, reset: bool) -> Response {
    // Ids are in order, so the cursor of a truncated batch resumes right after it.
    messages.truncate(MAX_MESSAGES);
    let cursor = messages.last().map_or(cursor, |message| message.id);
    let size = messages.iter().map(|m| m.wire.len() + 1).sum::<usize>();
    let mut body = BytesMut::with_capacity(size + 64);
    body.put_slice(b"{\"messages\":[");
    for (i, message) in messages.iter().enumerate() {
        if i > 0 {
            body.put_u8(b',');
        }
        body.put_slice(&message.wire);
    }
    body.put_slice(format!("],\"cursor\":\"{cursor}\"").as_bytes());
    if reset {
        body.put_slice(b",\"reset\":true");
    }
    body.put_u8(b'}');
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.freeze(),
    )
        .into_response()
}

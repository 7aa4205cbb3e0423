//! Server-Sent Events: `GET /events?channel=A&channel=B`.
//!
//! Each message is one event, `id: <id>` plus `data: <envelope>`. Browsers reconnect on
//! their own and send the last id they saw as `Last-Event-ID`, which resumes from
//! history without loss.

use std::convert::Infallible;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::stream;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::AppState;
use crate::error::ApiError;
use crate::hub::{Replay, Subscriber};
use crate::id::Id;
use crate::message::{Envelope, Message};
use crate::params;
use crate::shutdown::Shutdown;

/// Comment lines keep idle connections alive through proxies that cut them at 30-60 s.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Messages written per chunk: queued messages leave in one write instead of one each.
const BATCH: usize = 64;

pub fn routes() -> Router<AppState> {
    Router::new().route("/events", get(events))
}

/// Encodes a message as one SSE event.
pub fn encode(envelope: &Envelope<'_>) -> Bytes {
    let json = serde_json::to_string(envelope).unwrap_or_default();
    Bytes::from(format!("id: {}\ndata: {json}\n\n", envelope.id))
}

async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let channels = params::channels(&query)?;
    // Browsers only ever echo an id we sent, so a Last-Event-ID that does not parse
    // comes from somewhere else (an older deployment, a proxy): answer with a reset
    // rather than an error, which EventSource would treat as fatal.
    let since = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| Id::parse(v).ok())
                .unwrap_or(Id(0)),
        ),
        None => params::id(&query, "last_event_id")?,
    };
    let mut subscriber = state.hub.subscriber();
    let replay = subscriber.subscribe(&channels, since).await?;

    let mut first = BytesMut::new();
    // Spread reconnects of many clients over 1-3 s instead of all at once.
    let retry_ms = 1000 + RandomState::new().hash_one(Instant::now()) % 2000;
    first.put_slice(format!("retry: {retry_ms}\n\n").as_bytes());
    let messages = match replay {
        Replay::Reset { cursor, messages } => {
            // What follows the reset event is everything history holds after `cursor`.
            first.put_slice(
                format!("id: {cursor}\nevent: reset\ndata: {{\"cursor\":\"{cursor}\"}}\n\n")
                    .as_bytes(),
            );
            messages
        }
        Replay::Messages(messages) => messages,
    };
    append(&mut first, &messages);

    let mut keep_alive = tokio::time::interval_at(Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
    keep_alive.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let stream = Stream {
        first: Some(first.freeze()),
        subscriber,
        keep_alive,
        shutdown: state.shutdown.clone(),
        batch: Vec::with_capacity(BATCH),
    };
    let body = Body::from_stream(stream::unfold(stream, Stream::next));

    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Stops nginx from buffering the stream.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

struct Stream {
    first: Option<Bytes>,
    subscriber: Subscriber,
    keep_alive: Interval,
    shutdown: Shutdown,
    batch: Vec<Arc<Message>>,
}

impl Stream {
    /// The next chunk of the response body; `None` ends the response.
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        if let Some(first) = self.first.take() {
            return Some((Ok(first), self));
        }
        let chunk = tokio::select! {
            received = self.subscriber.recv(&mut self.batch, BATCH) => {
                if !received {
                    // The queue overflowed: end the stream so the client reconnects
                    // and resumes from history instead of silently missing messages.
                    tracing::debug!("dropping a slow SSE client");
                    return None;
                }
                let mut chunk = BytesMut::new();
                append(&mut chunk, &self.batch);
                self.batch.clear();
                self.keep_alive.reset();
                chunk.freeze()
            }
            _ = self.keep_alive.tick() => Bytes::from_static(b": keep-alive\n\n"),
            () = self.shutdown.wait() => return None,
        };
        Some((Ok(chunk), self))
    }
}

fn append(chunk: &mut BytesMut, messages: &[Arc<Message>]) {
    chunk.reserve(messages.iter().map(|m| m.wire.len()).sum());
    for message in messages {
        chunk.put_slice(&message.wire);
    }
}

//! Server-Sent Events: `GET /events?channel=A&channel=B`.
//!
//! Each message is one event, `id: <id>` plus `data: <envelope>`. Browsers reconnect on
//! their own and send the last id they saw as `Last-Event-ID`, which resumes from
//! history without loss.

use std::convert::Infallible;
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::{BufMut, Bytes, BytesMut};
use hyper::body::{Body as HttpBody, Frame};
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::AppState;
use crate::error::ApiError;
use crate::hub::{Replay, Subscriber};
use crate::id::Id;
use crate::message::{Envelope, Message};
use crate::params;

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
    let mut shutdown = state.shutdown.clone();
    let body = Body::new(Stream {
        first: Some(first.freeze()),
        subscriber,
        keep_alive,
        stopping: Some(Box::pin(async move { shutdown.wait().await })),
        batch: Vec::new(),
    });

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

/// The response body: the first chunk, then queued messages as they arrive, with a
/// keep-alive comment when nothing was sent for a while.
struct Stream {
    first: Option<Bytes>,
    subscriber: Subscriber,
    keep_alive: Interval,
    /// Resolves on shutdown; `None` once the stream has ended.
    stopping: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    /// Grows to the largest burst seen, not to [`BATCH`] up front.
    batch: Vec<Arc<Message>>,
}

impl HttpBody for Stream {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        let Some(stopping) = &mut this.stopping else {
            return Poll::Ready(None);
        };
        if stopping.as_mut().poll(cx).is_ready() {
            this.stopping = None;
            return Poll::Ready(None);
        }
        match this.subscriber.poll_recv(cx, &mut this.batch, BATCH) {
            Poll::Ready(true) => {
                this.keep_alive.reset();
                return Poll::Ready(Some(Ok(Frame::data(chunk(&mut this.batch)))));
            }
            Poll::Ready(false) => {
                // The queue overflowed: end the stream so the client reconnects and
                // resumes from history instead of silently missing messages.
                tracing::debug!("dropping a slow SSE client");
                this.stopping = None;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if this.keep_alive.poll_tick(cx).is_ready() {
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
                b": keep-alive\n\n",
            )))));
        }
        Poll::Pending
    }
}

/// Takes the received messages as one chunk. A lone message, the usual case unless
/// messages queue up, goes out as the hub's encoded bytes without a copy.
fn chunk(batch: &mut Vec<Arc<Message>>) -> Bytes {
    let chunk = match batch.as_slice() {
        [message] => message.wire.clone(),
        messages => {
            let mut chunk = BytesMut::new();
            append(&mut chunk, messages);
            chunk.freeze()
        }
    };
    batch.clear();
    chunk
}

fn append(chunk: &mut BytesMut, messages: &[Arc<Message>]) {
    chunk.reserve(messages.iter().map(|m| m.wire.len()).sum());
    for message in messages {
        chunk.put_slice(&message.wire);
    }
}

//! Server-Sent Events: `GET /events?channel=A&channel=B`.
//!
//! Each message is one event, `id: <id>` plus `data: <envelope>`. Browsers reconnect on
//! their own and send the last id they saw as `Last-Event-ID`, which resumes from
//! history without loss.

use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::{BufMut, Bytes, BytesMut};
use hyper::body::{Body as HttpBody, Frame};
use tokio::net::TcpStream;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::AppState;
use crate::direct::{self, Answered};
use crate::error::ApiError;
use crate::hub::{Replay, Subscriber};
use crate::id::Id;
use crate::message::{Envelope, Message};
use crate::params;
use crate::shutdown::Shutdown;

/// Comment lines keep idle connections alive through proxies that cut them at 30-60 s:
/// the stream is never quiet for longer than this.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Messages written per chunk: queued messages leave in one write instead of one each.
const BATCH: usize = 64;
/// The response headers of an event stream.
const HEADERS: [(&str, &str); 3] = [
    ("content-type", "text/event-stream"),
    ("cache-control", "no-cache"),
    // Stops nginx from buffering the stream.
    ("x-accel-buffering", "no"),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/events", get(events))
}

/// Encodes a message as one SSE event.
pub fn encode(envelope: &Envelope<'_>) -> Bytes {
    let json = serde_json::to_string(envelope).unwrap_or_default();
    Bytes::from(format!("id: {}\ndata: {json}\n\n", envelope.id))
}

/// `GET /events` on a connection hyper serves (see [`crate::direct`] for the others).
async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let last_event_id = headers.get("last-event-id").map(HeaderValue::as_bytes);
    let (first, feed) = open(&state, &query, last_event_id).await?;
    let body = Body::new(Stream {
        first: Some(first),
        feed,
    });
    Ok((HEADERS, body).into_response())
}

/// `GET /events` on the socket itself: the stream's headers and first chunk, then the
/// feed, until the client leaves, falls behind or the server shuts down. The response
/// is delimited by closing the connection, so it needs no chunked framing.
pub async fn answer(
    stream: &mut TcpStream,
    state: &AppState,
    request: direct::Request,
) -> Answered {
    let Some(query) = request.query("/events") else {
        return Answered::ToHyper;
    };
    let (first, feed) = match open(state, &query, request.last_event_id.as_deref()).await {
        Ok(opened) => opened,
        Err(error) => {
            let mut shutdown = state.shutdown.clone();
            return direct::refuse(stream, &request, &error, &mut shutdown).await;
        }
    };
    if request.take(stream).await.is_err() {
        return Answered::Close;
    }
    tracing::debug!(uri = %request.uri, "event stream opened");
    let mut head = direct::ok_head(&HEADERS, None, true);
    head.put_slice(&first);
    if let Err(e) = pump(stream, head.freeze(), feed, state.shutdown.clone()).await {
        tracing::debug!("event stream ended: {e}");
    }
    Answered::Close
}

/// Subscribes a client and builds what it is sent first: the reconnect delay, then
/// the reset event if there is one, then the messages it missed since its last id.
async fn open(
    state: &AppState,
    query: &[(String, String)],
    last_event_id: Option<&[u8]>,
) -> Result<(Bytes, Feed), ApiError> {
    let channels = params::channels(query)?;
    // Browsers only ever echo an id we sent, so a Last-Event-ID that does not parse
    // comes from somewhere else (an older deployment, a proxy): answer with a reset
    // rather than an error, which EventSource would treat as fatal.
    let since = match last_event_id {
        Some(value) => Some(
            std::str::from_utf8(value)
                .ok()
                .and_then(|v| Id::parse(v).ok())
                .unwrap_or(Id(0)),
        ),
        None => params::id(query, "last_event_id")?,
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
    Ok((
        first.freeze(),
        Feed::new(subscriber, state.shutdown.clone()),
    ))
}

/// What a stream sends after its first chunk: queued messages as they arrive, a
/// keep-alive comment when the line was quiet, and its end on shutdown or when the
/// client fell too far behind.
struct Feed {
    subscriber: Subscriber,
    /// Ticks at half of [`KEEP_ALIVE`]; a tick that finds the line quiet since the
    /// previous one sends a comment. Cheaper than resetting a timer on every message.
    keep_alive: Interval,
    quiet: bool,
    /// Resolves on shutdown; `None` once the stream has ended.
    stopping: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    /// Grows to the largest burst seen, not to [`BATCH`] up front.
    batch: Vec<Arc<Message>>,
}

impl Feed {
    fn new(subscriber: Subscriber, mut shutdown: Shutdown) -> Self {
        let period = KEEP_ALIVE / 2;
        let mut keep_alive = tokio::time::interval_at(Instant::now() + period, period);
        keep_alive.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self {
            subscriber,
            keep_alive,
            quiet: false,
            stopping: Some(Box::pin(async move { shutdown.wait().await })),
            batch: Vec::new(),
        }
    }

    /// The next bytes to send, or `None` when the stream is over.
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let Some(stopping) = &mut self.stopping else {
            return Poll::Ready(None);
        };
        if stopping.as_mut().poll(cx).is_ready() {
            self.stopping = None;
            return Poll::Ready(None);
        }
        match self.subscriber.poll_recv(cx, &mut self.batch, BATCH) {
            Poll::Ready(true) => {
                self.quiet = false;
                return Poll::Ready(Some(chunk(&mut self.batch)));
            }
            Poll::Ready(false) => {
                // The queue overflowed: end the stream so the client reconnects and
                // resumes from history instead of silently missing messages.
                tracing::debug!("dropping a slow SSE client");
                self.stopping = None;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        // Polled until pending, so the timer always holds this task's waker.
        while self.keep_alive.poll_tick(cx).is_ready() {
            if std::mem::replace(&mut self.quiet, true) {
                return Poll::Ready(Some(Bytes::from_static(b": keep-alive\n\n")));
            }
        }
        Poll::Pending
    }
}

/// The response body on a connection hyper serves: the first chunk, then the feed.
struct Stream {
    first: Option<Bytes>,
    feed: Feed,
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
        this.feed
            .poll_next(cx)
            .map(|next| next.map(|bytes| Ok(Frame::data(bytes))))
    }
}

/// What wakes a stream served on the socket itself.
enum Step {
    Send(Bytes),
    /// The client sent something or closed its side.
    Readable,
    End,
}

/// Writes `first`, then the feed, straight to the socket.
async fn pump(
    stream: &mut TcpStream,
    first: Bytes,
    mut feed: Feed,
    mut shutdown: Shutdown,
) -> io::Result<()> {
    direct::write_all(stream, &first, &mut shutdown).await?;
    loop {
        let step = poll_fn(|cx| {
            if let Poll::Ready(next) = feed.poll_next(cx) {
                return Poll::Ready(next.map_or(Step::End, Step::Send));
            }
            // A client sends nothing after its request, so readiness means it closed.
            if stream.poll_read_ready(cx).is_ready() {
                return Poll::Ready(Step::Readable);
            }
            Poll::Pending
        })
        .await;
        match step {
            Step::Send(bytes) => direct::write_all(stream, &bytes, &mut shutdown).await?,
            Step::Readable => match stream.try_read(&mut [0; 64]) {
                Ok(0) => return Ok(()),
                // Anything else it sends is ignored, as hyper would.
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            },
            Step::End => return Ok(()),
        }
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

//! Server-Sent Events: `GET /events?channel=A&channel=B`.
//!
//! Each message is one event, `id: <id>` plus `data: <envelope>`. Browsers reconnect on
//! their own and send the last id they saw as `Last-Event-ID`, which resumes from
//! history without loss.
//!
//! Who may subscribe is decided once, in [`open`], which both paths call: the token
//! (`Authorization: Bearer`, the `rt_token` cookie, or `?token=`) and
//! [`Policy::may_subscribe`](crate::policy::Policy::may_subscribe). When the token
//! expires the stream sends an `expired` event and ends; the client reconnects with a
//! fresh token and resumes from its last id.

use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::net::IpAddr;
use std::pin::{Pin, pin};
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
use futures_util::future::OptionFuture;
use hyper::body::{Body as HttpBody, Frame};
use tokio::net::TcpStream;
use tokio::time::{Instant, Interval, MissedTickBehavior, Sleep};

use crate::AppState;
use crate::auth::{self, Cookie};
use crate::client_addr::{self, ClientIp};
use crate::engine::direct::{self, Answer, Answered};
use crate::engine::events::{Delivery, Open, SharedEvents, Transport};
use crate::engine::outbox::{self, BATCH, StreamStep};
use crate::error::ApiError;
use crate::expiry;
use crate::hub::{Piece, Replay, Rest, Subscriber};
use crate::id::Id;
use crate::message::{Envelope, Message};
use crate::params;
use crate::rules;
use crate::shutdown::Shutdown;

/// Comment lines keep idle connections alive through proxies that cut them at 30-60 s:
/// the stream is never quiet for longer than this.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// What a stream whose token expired sends last. The client renews its token and
/// resumes from its last id.
const EXPIRED_EVENT: &[u8] = b"event: expired\ndata: {}\n\n";
/// What a quiet line sends: a comment, which `EventSource` ignores.
const KEEP_ALIVE_COMMENT: &[u8] = b": keep-alive\n\n";
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

/// `GET /events` on a connection hyper serves (see [`Answer`] for the others).
async fn events(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let last_event_id = headers.get("last-event-id").map(HeaderValue::as_bytes);
    let token = auth::presented_in(&headers, &query, Cookie::Accepted);
    let opened = open(&state, client, &query, last_event_id, token).await?;
    let stream = Stream::new(opened, &state);
    Ok((HEADERS, Body::new(stream)).into_response())
}

impl Answer for AppState {
    fn allowed_origins(&self) -> &[String] {
        &self.config.allowed_origins
    }

    /// `GET /events` on the socket itself: the stream's headers and first chunk, then
    /// live messages, until the client leaves, falls behind or the server shuts down.
    /// The response is delimited by closing the connection, so it needs no chunked
    /// framing.
    async fn answer(&self, stream: &Arc<TcpStream>, request: direct::Request) -> Answered {
        let Some(query) = request.query("/events") else {
            return Answered::ToHyper;
        };
        let mut shutdown = self.shutdown.clone();
        let headers = &request.headers;
        let token = auth::presented_in(headers, &query, Cookie::Accepted);
        let last_event_id = headers.get("last-event-id").map(HeaderValue::as_bytes);
        let trusted = &self.config.trusted_proxies;
        let client = client_addr::client_ip(request.peer.addr.ip(), headers, trusted);
        let opened = match rules::check(headers) {
            Ok(()) => open(self, client, &query, last_event_id, token).await,
            Err(error) => Err(error),
        };
        let committed = request
            .commit(stream, opened, &mut shutdown, &self.events)
            .await;
        let Some(mut opened) = committed else {
            return Answered::Close;
        };
        // The path only: the query may hold `?token=`, which no log may show.
        tracing::debug!(path = request.uri.path(), "event stream opened");
        let _open = Open::new(&self.events, Transport::EventStream);
        let mut head = request.ok_head(&HEADERS, None, true);
        // Its headers are not needed for the rest of what can be a days-long stream.
        drop(request);
        // Taken, so the stream does not keep its first piece for as long as it lasts.
        head.put_slice(&std::mem::take(&mut opened.first));
        let pumped = pump(
            stream,
            head.freeze(),
            &mut opened,
            &self.events,
            &mut shutdown,
        );
        if let Err(e) = pumped.await {
            tracing::debug!("event stream ended: {e}");
        }
        Answered::Close
    }
}

/// A subscribed stream, before its first byte is sent.
struct Opened {
    /// The reconnect delay, a reset event if there is one, the replay's first piece.
    first: Bytes,
    /// The rest of the replay, sent a piece at a time before live messages.
    rest: Option<Rest>,
    subscriber: Subscriber,
    /// When the token expires and the stream must end.
    expires: Option<Instant>,
}

/// Checks `token` against the policy for every channel asked for, subscribes, and
/// builds what the client is sent first: the reconnect delay, then the reset event if
/// there is one, then the first piece of the messages it missed since its last id.
async fn open(
    state: &AppState,
    client: IpAddr,
    query: &[(String, String)],
    last_event_id: Option<&[u8]>,
    token: Option<&str>,
) -> Result<Opened, ApiError> {
    let channels = params::channels(query)?;
    // A token that fails verification counts as none: public channels still open.
    let caller = state.throttle.identify(&state.config.auth, client, token)?;
    let policy = &state.config.policy;
    auth::decide(&caller, |who| policy.may_subscribe_all(&channels, who))?;
    let who = caller.ok().flatten();
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
    let mut subscriber = state.hub.subscriber(client_addr::limit_key(client));
    let replay = subscriber.subscribe(&channels, since).await?;

    let mut first = BytesMut::new();
    // Spread reconnects of many clients over 1-3 s instead of all at once.
    let retry_ms = 1000 + RandomState::new().hash_one(Instant::now()) % 2000;
    first.put_slice(format!("retry: {retry_ms}\n\n").as_bytes());
    let messages = match replay {
        Replay::Reset { cursor, messages } => {
            state.events.reset_sent(Transport::EventStream);
            // What follows the reset event is everything history holds after `cursor`.
            first.put_slice(
                format!("id: {cursor}\nevent: reset\ndata: {{\"cursor\":\"{cursor}\"}}\n\n")
                    .as_bytes(),
            );
            messages
        }
        Replay::Messages(messages) => messages,
    };
    if !messages.is_empty() {
        let bytes = append(&mut first, &messages);
        state
            .events
            .delivered(Delivery::one_write(messages.len(), bytes));
    }
    Ok(Opened {
        first: first.freeze(),
        rest: subscriber.rest(),
        subscriber,
        expires: expiry::deadline(who.as_ref()),
    })
}

/// Ticks at half of [`KEEP_ALIVE`]: a tick that finds the line quiet since the previous
/// one sends a comment. Cheaper than resetting a timer on every message.
fn keep_alive_ticks() -> Interval {
    let period = KEEP_ALIVE / 2;
    let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticks
}

/// The next piece of a replay being read, with the rest it came from.
type NextPiece = Pin<Box<dyn Future<Output = (Rest, Piece)> + Send>>;

fn next_piece(mut rest: Rest) -> NextPiece {
    Box::pin(async move {
        let piece = rest.next().await;
        (rest, piece)
    })
}

/// The response body on a connection hyper serves: the first chunk, the rest of the
/// replay a piece at a time, then queued messages as they arrive, a keep-alive comment
/// when the line was quiet, and its end on shutdown or when the client fell too far
/// behind.
struct Stream {
    first: Option<Bytes>,
    /// The replay's next piece. hyper asks for the next chunk once it has written the
    /// previous one (its write buffer holds one piece), so a client that stops reading
    /// holds one piece, and the write deadline of `engine/serve.rs` ends it.
    more: Option<NextPiece>,
    subscriber: Subscriber,
    keep_alive: Interval,
    /// Set by each keep-alive tick and cleared by each message: a tick that finds it
    /// still set sends a comment.
    quiet: bool,
    /// Resolves on shutdown; `None` once the stream has ended.
    stopping: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    /// Grows to the largest burst seen, not to [`BATCH`] up front.
    batch: Vec<Arc<Message>>,
    /// Fires when the token expires; `None` without one.
    expiry: Option<Pin<Box<Sleep>>>,
    events: SharedEvents,
    /// Reports the stream closed when hyper drops the body.
    _open: Open,
}

impl Stream {
    fn new(opened: Opened, state: &AppState) -> Self {
        let mut shutdown = state.shutdown.clone();
        Self {
            first: Some(opened.first),
            more: opened.rest.map(next_piece),
            subscriber: opened.subscriber,
            expiry: opened
                .expires
                .map(|at| Box::pin(tokio::time::sleep_until(at))),
            keep_alive: keep_alive_ticks(),
            quiet: false,
            stopping: Some(Box::pin(async move { shutdown.wait().await })),
            batch: Vec::new(),
            events: Arc::clone(&state.events),
            _open: Open::new(&state.events, Transport::EventStream),
        }
    }

    /// The next bytes to send, or `None` when the stream is over.
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(first));
        }
        let Some(stopping) = &mut self.stopping else {
            return Poll::Ready(None);
        };
        if stopping.as_mut().poll(cx).is_ready() {
            self.stopping = None;
            return Poll::Ready(None);
        }
        if let Some(expiry) = &mut self.expiry
            && expiry.as_mut().poll(cx).is_ready()
        {
            // Chunks are whole events, so this one starts on an event boundary.
            self.stopping = None;
            return Poll::Ready(Some(Bytes::from_static(EXPIRED_EVENT)));
        }
        // The replay goes first; live messages wait in the queue meanwhile.
        if let Some(more) = &mut self.more {
            let Poll::Ready((rest, piece)) = more.as_mut().poll(cx) else {
                return Poll::Pending;
            };
            self.more = None;
            match piece {
                Piece::Messages(messages) => {
                    self.more = Some(next_piece(rest));
                    let chunk = outbox::concat(&messages);
                    self.events
                        .delivered(Delivery::one_write(messages.len(), chunk.len()));
                    return Poll::Ready(Some(chunk));
                }
                Piece::Done => {}
                Piece::Broken(reason) => {
                    tracing::debug!("ending an event stream mid-replay: {reason}");
                    self.stopping = None;
                    return Poll::Ready(None);
                }
            }
        }
        match self.subscriber.poll_recv(cx, &mut self.batch, BATCH) {
            Poll::Ready(true) => {
                self.quiet = false;
                let messages = self.batch.len();
                // Taken from the queue: live, the oldest first.
                let published = self.batch.first().map(|m| m.received);
                let chunk = chunk(&mut self.batch);
                self.events.delivered(Delivery {
                    published,
                    ..Delivery::one_write(messages, chunk.len())
                });
                return Poll::Ready(Some(chunk));
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
                return Poll::Ready(Some(Bytes::from_static(KEEP_ALIVE_COMMENT)));
            }
        }
        Poll::Pending
    }
}

impl HttpBody for Stream {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.poll_next(cx)
            .map(|next| next.map(|bytes| Ok(Frame::data(bytes))))
    }
}

/// What wakes the task of a stream served on the socket itself.
enum Step {
    /// The socket was full; the rest waits for room.
    Stalled,
    KeepAlive,
    /// The client sent something or closed its side.
    Readable,
    /// The token expired.
    Expired,
    End,
}

/// Hands the socket to the subscriber's queue with `first` ahead of everything, after
/// which the fan-out writes each message itself (see [`crate::engine::outbox`]). This
/// task only finishes writes that found the socket full, sends keep-alive comments,
/// and notices the client leaving, a closed queue or shutdown.
async fn pump(
    stream: &Arc<TcpStream>,
    mut first: Bytes,
    opened: &mut Opened,
    events: &SharedEvents,
    shutdown: &mut Shutdown,
) -> io::Result<()> {
    if let Some(mut rest) = opened.rest.take() {
        // The replay's pieces are written here, each read once the socket took the
        // one before, so a client that stops reading holds one piece until the write
        // deadline drops it. Live messages wait in the queue meanwhile.
        direct::write_all(stream, &first, shutdown).await?;
        loop {
            match rest.next().await {
                Piece::Messages(messages) => {
                    let chunk = outbox::concat(&messages);
                    direct::write_all(stream, &chunk, shutdown).await?;
                    events.delivered(Delivery::one_write(messages.len(), chunk.len()));
                }
                Piece::Done => break,
                Piece::Broken(reason) => return Err(io::Error::other(reason)),
            }
        }
        first = Bytes::new();
    }
    let opened = &*opened;
    let outbox = opened.subscriber.outbox();
    let mut expiry = pin!(OptionFuture::from(
        opened.expires.map(tokio::time::sleep_until)
    ));
    // For the last write, while `stopping` holds `shutdown`.
    let mut ending = shutdown.clone();
    let report = |delivered: Delivery| {
        if !delivered.is_empty() {
            events.delivered(delivered);
        }
    };
    report(outbox.attach(Arc::clone(stream), first));
    let mut keep_alive = keep_alive_ticks();
    let mut stopping = pin!(shutdown.wait());
    loop {
        let step = poll_fn(|cx| {
            if stopping.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Step::End);
            }
            if let Poll::Ready(Some(())) = expiry.as_mut().poll(cx) {
                return Poll::Ready(Step::Expired);
            }
            match outbox.poll_stream(cx) {
                Poll::Ready(StreamStep::Stalled) => return Poll::Ready(Step::Stalled),
                Poll::Ready(StreamStep::Closed) => {
                    // The client fell behind (or a write failed): it reconnects and
                    // resumes from history instead of silently missing messages.
                    tracing::debug!("dropping a slow SSE client");
                    return Poll::Ready(Step::End);
                }
                Poll::Pending => {}
            }
            // A client sends nothing after its request, so readiness means it closed.
            if stream.poll_read_ready(cx).is_ready() {
                return Poll::Ready(Step::Readable);
            }
            // Polled until pending, so the timer always holds this task's waker.
            while keep_alive.poll_tick(cx).is_ready() {
                if !outbox.take_written() {
                    return Poll::Ready(Step::KeepAlive);
                }
            }
            Poll::Pending
        })
        .await;
        match step {
            Step::Stalled => {
                tokio::select! {
                    room = direct::writable(stream) => room?,
                    () = &mut stopping => return Ok(()),
                }
                report(outbox.flush());
            }
            Step::KeepAlive => outbox.write_idle(Bytes::from_static(KEEP_ALIVE_COMMENT)),
            // A client sends nothing after its request: bytes now are a body or junk,
            // and reading them would cost CPU for as long as it keeps sending, so
            // the stream ends at the first (a real client reconnects). One byte is
            // read to tell them from a close, or from stale readiness (`WouldBlock`).
            Step::Readable => match stream.try_read(&mut [0; 1]) {
                Ok(0) => return Ok(()),
                Ok(_) => {
                    tracing::debug!("an event stream's client sent bytes; closing");
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            },
            Step::Expired => {
                // The fan-out lets go of the socket; a write it left half done goes
                // first, so the event starts on an event boundary.
                let mut last = BytesMut::new();
                if let Some(rest) = outbox.close_taking_unsent() {
                    last.put_slice(&rest);
                }
                last.put_slice(EXPIRED_EVENT);
                return direct::write_all(stream, &last, &mut ending).await;
            }
            Step::End => return Ok(()),
        }
    }
}

/// Takes the received messages as one chunk.
fn chunk(batch: &mut Vec<Arc<Message>>) -> Bytes {
    let chunk = outbox::concat(batch);
    batch.clear();
    chunk
}

/// Appends the messages' bytes; returns how many.
fn append(chunk: &mut BytesMut, messages: &[Arc<Message>]) -> usize {
    let bytes = messages.iter().map(|m| m.wire.len()).sum();
    chunk.reserve(bytes);
    for message in messages {
        chunk.put_slice(&message.wire);
    }
    bytes
}

//! Long polling: `GET /poll?channel=A&channel=B&cursor=<id>&timeout=<seconds>`.
//!
//! A poll is answered at once when messages newer than the cursor exist; otherwise it
//! is held until one arrives or the timeout passes. The cursor the client sends is
//! all the state there is: nothing about a client outlives its request, so any
//! instance can answer any poll.
//!
//! Who may poll which channels is decided in [`start`], which both paths call: the
//! token (`Authorization: Bearer`, the `rt_token` cookie, or `?token=`) and
//! [`Policy::may_subscribe`](crate::policy::Policy::may_subscribe). A held poll whose
//! token expires is answered 401; the client polls again with a fresh token from the
//! same cursor.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::{BufMut, Bytes, BytesMut};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::AppState;
use crate::auth::{self, Cookie};
use crate::client_addr::{self, ClientIp};
use crate::engine::direct::{self, Answer, Answered};
use crate::engine::events::{Delivery, Open, SharedEvents, Transport};
use crate::error::ApiError;
use crate::expiry;
use crate::hub::{Replay, Subscriber};
use crate::id::Id;
use crate::message::{Envelope, Message};
use crate::params;
use crate::rules;
use crate::shutdown::Shutdown;

/// Seconds a poll is held by default: under the 30-60 s after which proxies commonly
/// cut a quiet request.
const DEFAULT_TIMEOUT: u64 = 25;
const MAX_TIMEOUT: u64 = 60;
/// Messages per response: a client far behind catches up over several polls instead
/// of in one unbounded body.
const MAX_MESSAGES: usize = 1000;
/// The response headers of a poll.
const HEADERS: [(&str, &str); 2] = [
    ("content-type", "application/json"),
    ("cache-control", "no-store"),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/poll", get(poll))
}

/// Encodes a message as its JSON envelope; responses join these with commas.
pub fn encode(envelope: &Envelope<'_>) -> Bytes {
    serde_json::to_vec(envelope)
        .map(Bytes::from)
        .unwrap_or_default()
}

/// `GET /poll` on a connection hyper serves (see [`Answer`] for the others).
async fn poll(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let token = auth::presented_in(&headers, &query, Cookie::Accepted);
    let reply = match start(&state, client, &query, token).await? {
        Start::Now(reply) => reply,
        Start::Held(held) => {
            let _open = Open::new(&state.events, Transport::LongPoll);
            held.wait(&mut state.shutdown.clone()).await?
        }
    };
    Ok((HEADERS, reply.body(&state.events)).into_response())
}

impl Answer for AppState {
    fn allowed_origins(&self) -> &[String] {
        &self.config.allowed_origins
    }

    /// `GET /poll` on the socket itself, so a held poll costs no more than its
    /// subscription. The connection stays open for the client's next poll.
    async fn answer(&self, stream: &mut TcpStream, request: direct::Request) -> Answered {
        let Some(query) = request.query("/poll") else {
            return Answered::ToHyper;
        };
        let mut shutdown = self.shutdown.clone();
        let headers = &request.headers;
        let token = auth::presented_in(headers, &query, Cookie::Accepted);
        let trusted = &self.config.trusted_proxies;
        let client = client_addr::client_ip(request.peer.addr.ip(), headers, trusted);
        let started = match rules::check(headers) {
            Ok(()) => start(self, client, &query, token).await,
            Err(error) => Err(error),
        };
        let committed = request
            .commit(stream, started, &mut shutdown, &self.events)
            .await;
        let Some(start) = committed else {
            return Answered::Close;
        };
        // The path only: the query may hold `?token=`, which no log may show.
        tracing::debug!(path = request.uri.path(), "poll");
        let reply = match start {
            Start::Now(reply) => reply,
            Start::Held(held) => {
                let _open = Open::new(&self.events, Transport::LongPoll);
                let waited = tokio::select! {
                    waited = held.wait(&mut shutdown) => waited,
                    // A client that gives up frees its subscription at once.
                    () = closed(stream) => return Answered::Close,
                };
                match waited {
                    Ok(reply) => reply,
                    Err(expired) => {
                        let events = &self.events;
                        request
                            .refuse_committed(stream, &expired, &mut shutdown, events)
                            .await;
                        return Answered::Close;
                    }
                }
            }
        };
        let body = reply.body(&self.events);
        let close = request.close || shutdown.has_begun();
        let mut response = request.ok_head(&HEADERS, Some(body.len()), close);
        response.put_slice(&body);
        // One copy is enough to hold while a slow client reads.
        drop(body);
        match direct::write_all(stream, &response, &mut shutdown).await {
            Ok(()) if !close => Answered::KeepAlive,
            _ => Answered::Close,
        }
    }
}

/// Where a poll stands once history has been read.
enum Start {
    /// There is something to answer at once.
    Now(Reply),
    /// Nothing newer than the cursor yet.
    Held(Held),
}

/// Reads history after the client's cursor and, when it holds nothing newer,
/// subscribes. Without a cursor the poll only learns the current one and waits for
/// the next message.
async fn start(
    state: &AppState,
    client: IpAddr,
    query: &[(String, String)],
    token: Option<&str>,
) -> Result<Start, ApiError> {
    let channels = params::channels(query)?;
    // A token that fails verification counts as none: public channels still open.
    let caller = state.throttle.identify(&state.config.auth, client, token)?;
    let policy = &state.config.policy;
    auth::decide(&caller, |who| policy.may_subscribe_all(&channels, who))?;
    let who = caller.ok().flatten();
    let cursor = params::id(query, "cursor")?;
    let deadline = Instant::now() + timeout_param(query)?;

    let batch = state.hub.read(&channels, cursor).await?;
    if batch.reset || !batch.messages.is_empty() {
        return Ok(Start::Now(Reply {
            messages: batch.messages,
            cursor: batch.cursor,
            reset: batch.reset,
            live: false,
        }));
    }
    // Subscribing replays what was published since the read atomically with
    // registering, so nothing falls in between.
    let mut subscriber = state.hub.subscriber(client_addr::limit_key(client));
    let mut shutdown = state.shutdown.clone();
    let replay = tokio::select! {
        replay = subscriber.subscribe(&channels, Some(batch.cursor)) => replay?,
        // Polls are answered at once on shutdown, even one still subscribing.
        () = shutdown.wait() => Replay::Messages(Vec::new()),
    };
    Ok(match replay {
        // History was trimmed since the read: answer at once, with what it still holds.
        Replay::Reset { cursor, messages } => Start::Now(Reply {
            messages,
            cursor,
            reset: true,
            live: false,
        }),
        Replay::Messages(messages) if !messages.is_empty() || shutdown.has_begun() => {
            Start::Now(Reply {
                messages,
                cursor: batch.cursor,
                reset: false,
                live: false,
            })
        }
        Replay::Messages(_) => Start::Held(Held {
            subscriber,
            cursor: batch.cursor,
            deadline,
            expires: expiry::deadline(who.as_ref()),
        }),
    })
}

/// A poll waiting on its subscription.
struct Held {
    subscriber: Subscriber,
    cursor: Id,
    deadline: Instant,
    /// When the token expires: the poll is answered 401 then.
    expires: Option<Instant>,
}

impl Held {
    /// Waits for the next message until the deadline or shutdown (held polls are
    /// answered at once then, so the drain finishes fast). A token that expires first
    /// ends the wait with a 401.
    async fn wait(mut self, shutdown: &mut Shutdown) -> Result<Reply, ApiError> {
        let mut messages = Vec::new();
        let expires = self.expires;
        let expired = async move {
            match expires {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        // One wake-up takes everything queued by then into the same response. A closed
        // queue, the deadline or shutdown leave `messages` empty: the client simply
        // polls again.
        tokio::select! {
            _ = tokio::time::timeout_at(
                self.deadline,
                self.subscriber.recv(&mut messages, MAX_MESSAGES),
            ) => {}
            () = shutdown.wait() => {}
            () = expired => {
                return Err(ApiError {
                    status: StatusCode::UNAUTHORIZED,
                    message: "the token expired; poll again with a fresh one from the same \
                              cursor"
                        .into(),
                });
            }
        }
        Ok(Reply {
            messages,
            cursor: self.cursor,
            reset: false,
            live: true,
        })
    }
}

/// Resolves when the client closes its side. A client that sends its next request
/// early keeps this pending: its poll is answered when it is due.
async fn closed(stream: &TcpStream) {
    match stream.peek(&mut [0; 1]).await {
        Ok(0) | Err(_) => {}
        Ok(_) => std::future::pending().await,
    }
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

/// What a poll answers: the messages after `cursor`, and `reset` when history could
/// not cover the client's cursor.
struct Reply {
    messages: Vec<Arc<Message>>,
    /// Where the client stands before `messages`.
    cursor: Id,
    reset: bool,
    /// Whether `messages` came from the poll's queue while it was held (the fan-out's
    /// doing) rather than from history: only those count in publish-to-write time.
    live: bool,
}

impl Reply {
    /// `{"messages": [...], "cursor": "<id>"}`, plus `"reset": true`, joined from the
    /// envelopes encoded at publish time. What it answers is reported to `events`.
    fn body(mut self, events: &SharedEvents) -> Bytes {
        // Ids are in order, so the cursor of a truncated batch resumes right after it.
        self.messages.truncate(MAX_MESSAGES);
        if self.reset {
            events.reset_sent(Transport::LongPoll);
        }
        let cursor = self
            .messages
            .last()
            .map_or(self.cursor, |message| message.id);
        let size = self
            .messages
            .iter()
            .map(|m| m.wire.len() + 1)
            .sum::<usize>();
        let mut body = BytesMut::with_capacity(size + 64);
        body.put_slice(b"{\"messages\":[");
        for (i, message) in self.messages.iter().enumerate() {
            if i > 0 {
                body.put_u8(b',');
            }
            body.put_slice(&message.wire);
        }
        body.put_slice(format!("],\"cursor\":\"{cursor}\"").as_bytes());
        if self.reset {
            body.put_u8(b',');
            body.put_slice(b"\"reset\":true");
        }
        body.put_u8(b'}');
        if !self.messages.is_empty() {
            let published = self
                .live
                .then(|| self.messages.first().map(|m| m.received))
                .flatten();
            events.delivered(Delivery {
                published,
                ..Delivery::one_write(self.messages.len(), size)
            });
        }
        body.freeze()
    }
}

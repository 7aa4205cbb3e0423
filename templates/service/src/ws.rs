//! WebSocket: `GET /ws`, or `/ws?channel=A&channel=B&since=<id>` to subscribe at connect.
//!
//! Client frames are JSON text:
//! `{"type":"subscribe","channel":"x","since":"<id>"}` (`since` optional),
//! `{"type":"unsubscribe","channel":"x"}` and `{"type":"publish","channel":"x","data":<json>}`.
//! The server sends `message` (the envelope with `"type":"message"`), `subscribed`,
//! `unsubscribed`, `published` (`channel`, `id`), `reset` (`channel`, `cursor`: the
//! history no longer covers `since`; it is complete after `cursor`, and the messages
//! that follow are all of it) and `error` (`message`). A malformed frame gets an
//! `error` frame; the connection stays.
//!
//! Close codes: 1001 when the server shuts down, 1007 for invalid UTF-8, 1009 for a
//! frame over 64 KiB, 1013 when the client fell too far behind (reconnect with `since`).
//!
//! With `PUBLISH_TOKEN` set, publish frames are accepted only on connections that
//! presented the token at the upgrade: `Authorization: Bearer <token>`, or `?token=`
//! for browsers, which cannot set headers on a WebSocket (prefer the header elsewhere:
//! query strings end up in access logs). A wrong token is refused with 401.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{
    CloseFrame, Message as Frame, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code,
};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use futures_util::{FutureExt, SinkExt};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, timeout};

use crate::AppState;
use crate::channel::ChannelName;
use crate::error::ApiError;
use crate::hub::{Hub, Replay, Subscriber};
use crate::id::Id;
use crate::message::{Envelope, Message};
use crate::params::{self, MAX_CHANNELS_PER_CLIENT};
use crate::publish;
use crate::shutdown::Shutdown;

/// Largest frame or message a client may send; the same bound as a publish body.
const MAX_FRAME: usize = publish::MAX_BODY;
/// Messages written per flush: a burst leaves in one write instead of one each.
const BATCH: usize = 64;
/// Shown with every malformed frame.
const EXAMPLE: &str = r#"{"type":"subscribe","channel":"news","since":"<last id>"}"#;
/// The answer to a publish frame on a connection that did not present the token.
const NEEDS_TOKEN: &str = "publishing needs the PUBLISH_TOKEN, presented when connecting \
                           as `Authorization: Bearer <token>` or `?token=<token>`";
/// How long a closing peer gets to answer our close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

pub fn routes() -> Router<AppState> {
    Router::new().route("/ws", get(connect))
}

/// Encodes a message as one `message` frame's text.
pub fn encode(envelope: &Envelope<'_>) -> Bytes {
    server_frame(&ServerFrame::Message {
        channel: envelope.channel,
        id: envelope.id,
        data: envelope.data,
    })
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum ServerFrame<'a> {
    Message {
        channel: &'a str,
        id: Id,
        data: &'a RawValue,
    },
    Subscribed {
        channel: &'a str,
    },
    Unsubscribed {
        channel: &'a str,
    },
    Published {
        channel: &'a str,
        id: Id,
    },
    Reset {
        channel: &'a str,
        cursor: Id,
    },
    Error {
        message: &'a str,
    },
}

fn server_frame(frame: &ServerFrame<'_>) -> Bytes {
    serde_json::to_vec(frame)
        .map(Bytes::from)
        .unwrap_or_default()
}

/// One frame from the client. A flat struct rather than a tagged enum, because serde
/// cannot borrow a `RawValue` through a tagged enum's buffering.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFrame<'a> {
    #[serde(rename = "type")]
    kind: Kind,
    channel: Option<ChannelName>,
    #[serde(borrow)]
    since: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "present")]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Subscribe,
    Unsubscribe,
    Publish,
}

/// Keeps `"data": null` as JSON `null` instead of "no data".
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

async fn connect(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    if !origin_allowed(&headers, &state.config.allowed_origins) {
        return Err(ApiError {
            status: StatusCode::FORBIDDEN,
            message: "Origin not allowed; list it in ALLOWED_ORIGINS".into(),
        });
    }
    let upgrade = upgrade.map_err(|rejection| ApiError {
        status: rejection.status(),
        message: rejection.body_text(),
    })?;
    let may_publish = match &state.config.publish_token {
        None => true,
        Some(token) => {
            let presented = publish::bearer(&headers).or_else(|| {
                query
                    .iter()
                    .find(|(k, _)| k == "token")
                    .map(|(_, v)| v.as_str())
            });
            match presented {
                None => false,
                Some(presented) if publish::token_matches(presented, token) => true,
                Some(_) => {
                    return Err(ApiError {
                        status: StatusCode::UNAUTHORIZED,
                        message: "the publish token presented is wrong".into(),
                    });
                }
            }
        }
    };
    let channels = if query.iter().any(|(key, _)| key == "channel") {
        params::channels(&query)?
    } else {
        Vec::new()
    };
    let since = params::id(&query, "since")?;
    let Some(open) = state.sockets.upgrade() else {
        return Err(ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "the server is shutting down".into(),
        });
    };

    // Subscribing before the upgrade answers hub errors with a status, and nothing
    // published after the handshake can be missed.
    let mut subscriber = state.hub.subscriber();
    let replay = if channels.is_empty() {
        Replay::Messages(Vec::new())
    } else {
        subscriber.subscribe(&channels, since).await?
    };
    let mut connection = Connection {
        subscriber,
        channels: Vec::new(),
        hub: Arc::clone(&state.hub),
        may_publish,
        ping_interval: state.config.ping_interval,
        queue_len: state.config.limits.queue_len,
        batch: Vec::new(),
        _open: open,
    };
    let first = connection.subscribed(channels, replay);
    let shutdown = state.shutdown.clone();
    Ok(upgrade
        // tungstenite's 128 KiB read buffer would dominate an idle connection. Client
        // frames are small; a large one still arrives whole, in more reads. With 1 KiB
        // an idle connection costs about 5 KiB in all (4 KiB: about 8).
        .read_buffer_size(1024)
        // Frames of one batch collect up to this before a write, then flush once.
        .write_buffer_size(8 * 1024)
        .max_write_buffer_size(2 * MAX_FRAME + 8 * 1024)
        .max_frame_size(MAX_FRAME)
        .max_message_size(MAX_FRAME)
        .on_upgrade(move |socket| connection.run(socket, first, shutdown)))
}

/// Browsers send `Origin` with every WebSocket handshake and attach the user's cookies,
/// but, unlike `fetch`, do not enforce CORS on it: without this check any site the user
/// visits could open a socket in the user's name (cross-site WebSocket hijacking).
/// Clients other than browsers send no `Origin` and pass.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if !allowed.is_empty() {
        return allowed.iter().any(|a| a.eq_ignore_ascii_case(origin));
    }
    // Same host: the Origin's host and port are the ones this request was sent to.
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (origin.split_once("://"), host) {
        (Some((_, authority)), Some(host)) => authority.eq_ignore_ascii_case(host),
        _ => false,
    }
}

/// How a connection ends.
enum End {
    /// Send a close frame, then give the peer a moment to answer it.
    Close(u16, &'static str),
    /// The peer is gone or unresponsive: drop the socket.
    Drop,
}

/// One connection's state; a single task serves both directions.
struct Connection {
    subscriber: Subscriber,
    channels: Vec<ChannelName>,
    hub: Arc<Hub>,
    may_publish: bool,
    ping_interval: Duration,
    queue_len: usize,
    batch: Vec<Arc<Message>>,
    /// Keeps `serve` waiting until this connection has closed.
    _open: mpsc::Sender<()>,
}

impl Connection {
    async fn run(mut self, mut socket: WebSocket, first: Vec<Frame>, mut shutdown: Shutdown) {
        let end = match send(&mut socket, first, self.stall_limit()).await {
            Ok(()) => self.serve(&mut socket, &mut shutdown).await,
            Err(end) => end,
        };
        if let End::Close(code, reason) = end {
            let close = Frame::Close(Some(CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            }));
            // Reading until the peer's answer lets the server end the TCP connection
            // cleanly (RFC 6455 7.1.1) instead of resetting it on unread data.
            let _ = timeout(CLOSE_TIMEOUT, async {
                if socket.send(close).await.is_ok() {
                    while let Some(Ok(_)) = socket.recv().await {}
                }
            })
            .await;
        }
    }

    async fn serve(&mut self, socket: &mut WebSocket, shutdown: &mut Shutdown) -> End {
        let mut ping =
            tokio::time::interval_at(Instant::now() + self.ping_interval, self.ping_interval);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        let stall = self.stall_limit();
        // One future for the whole connection: a new one on every message would join
        // and leave the watch's waiter list, a lock every connection shares.
        let mut stopping = std::pin::pin!(shutdown.wait());
        loop {
            let result = tokio::select! {
                open = self.subscriber.recv(&mut self.batch, BATCH) => {
                    if !open {
                        // The hub closed the queue rather than skip messages; the
                        // client resumes from history without a gap.
                        tracing::debug!("dropping a slow WebSocket client");
                        return End::Close(close_code::AGAIN, "too slow; reconnect and resume");
                    }
                    let frames = self
                        .batch
                        .drain(..)
                        // Queued before an unsubscribe.
                        .filter(|m| self.channels.contains(&m.channel))
                        .filter_map(|m| text(&m.wire));
                    send(socket, frames, stall).await
                }
                received = socket.recv() => {
                    last_heard = Instant::now();
                    match received {
                        Some(Ok(Frame::Text(text))) => {
                            let reply = self.command(&text).await;
                            send(socket, reply, stall).await
                        }
                        Some(Ok(Frame::Binary(_))) => {
                            let reply = error("binary frames are not supported; send JSON text");
                            send(socket, [reply], stall).await
                        }
                        Some(Ok(Frame::Ping(_) | Frame::Pong(_))) => Ok(()),
                        // Flushing sends tungstenite's answer to the peer's close.
                        Some(Ok(Frame::Close(_))) => {
                            let _ = send(socket, [], stall).await;
                            return End::Drop;
                        }
                        Some(Err(e)) => return closing(e),
                        None => return End::Drop,
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() >= 2 * self.ping_interval {
                        tracing::debug!("dropping a WebSocket peer that stopped answering pings");
                        return End::Drop;
                    }
                    send(socket, [Frame::Ping(Bytes::new())], stall).await
                }
                () = &mut stopping => return End::Close(close_code::AWAY, "server shutting down"),
            };
            if let Err(end) = result {
                return end;
            }
        }
    }

    /// How long a write may stall on a peer that stopped reading: as long as a
    /// missing pong is tolerated.
    fn stall_limit(&self) -> Duration {
        2 * self.ping_interval
    }

    async fn command(&mut self, text: &str) -> Vec<Frame> {
        match self.try_command(text).await {
            Ok(frames) => frames,
            Err(message) => vec![error(&message)],
        }
    }

    async fn try_command(&mut self, text: &str) -> Result<Vec<Frame>, String> {
        let frame: ClientFrame<'_> = serde_json::from_str(text)
            .map_err(|e| format!("invalid frame: {e}; expected e.g. {EXAMPLE}"))?;
        let channel = frame.channel.ok_or("the frame needs a \"channel\"")?;
        match frame.kind {
            Kind::Subscribe => {
                let since = frame.since.as_deref().map(Id::parse).transpose()?;
                if !self.channels.contains(&channel)
                    && self.channels.len() >= MAX_CHANNELS_PER_CLIENT
                {
                    return Err(format!(
                        "at most {MAX_CHANNELS_PER_CLIENT} channels per connection; unsubscribe first"
                    ));
                }
                let channels = vec![channel];
                let replay = self
                    .subscriber
                    .subscribe(&channels, since)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(self.subscribed(channels, replay))
            }
            Kind::Unsubscribe => {
                self.subscriber.unsubscribe(&channel).await;
                self.channels.retain(|c| *c != channel);
                Ok(vec![control(&ServerFrame::Unsubscribed {
                    channel: channel.as_str(),
                })])
            }
            Kind::Publish => {
                if !self.may_publish {
                    return Err(NEEDS_TOKEN.into());
                }
                let data = frame.data.ok_or("a publish frame needs \"data\"")?;
                let id = publish::submit(&self.hub, channel.clone(), data)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(vec![control(&ServerFrame::Published {
                    channel: channel.as_str(),
                    id,
                })])
            }
        }
    }

    /// Records new subscriptions and returns the frames that confirm them: a
    /// `subscribed` per channel, then a `reset` per channel if history has a gap, then
    /// the replay.
    fn subscribed(&mut self, channels: Vec<ChannelName>, replay: Replay) -> Vec<Frame> {
        let mut frames: Vec<Frame> = channels
            .iter()
            .map(|channel| {
                control(&ServerFrame::Subscribed {
                    channel: channel.as_str(),
                })
            })
            .collect();
        for channel in &channels {
            if !self.channels.contains(channel) {
                self.channels.push(channel.clone());
            }
        }
        let mut messages = match replay {
            Replay::Reset { cursor, messages } => {
                frames.extend(channels.iter().map(|channel| {
                    control(&ServerFrame::Reset {
                        channel: channel.as_str(),
                        cursor,
                    })
                }));
                messages
            }
            Replay::Messages(messages) => messages,
        };
        if !messages.is_empty() {
            // Messages already queued for the other channels may be older than the
            // replay: merge them in, so ids reach the client in order and its
            // cursor never skips one. Whatever arrives later is newer than both.
            let mut queued = Vec::new();
            if let Some(true) = self
                .subscriber
                .recv(&mut queued, self.queue_len)
                .now_or_never()
            {
                queued.retain(|m| self.channels.contains(&m.channel));
                messages.append(&mut queued);
                messages.sort_unstable_by_key(|m| m.id);
                messages.dedup_by_key(|m| m.id);
            }
            frames.extend(messages.iter().filter_map(|m| text(&m.wire)));
        }
        frames
    }
}

/// Feeds `frames` and flushes once, so a burst costs one write. A peer that stops
/// reading stalls the write; after `stall` it is dropped.
async fn send(
    socket: &mut WebSocket,
    frames: impl IntoIterator<Item = Frame>,
    stall: Duration,
) -> Result<(), End> {
    let write = async {
        for frame in frames {
            socket.feed(frame).await?;
        }
        socket.flush().await
    };
    match timeout(stall, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) | Err(_) => Err(End::Drop),
    }
}

/// The close code for a failed read, per RFC 6455 7.4.1.
fn closing(error: axum::Error) -> End {
    match error
        .into_inner()
        .downcast::<tungstenite::Error>()
        .map(|e| *e)
    {
        Ok(tungstenite::Error::Capacity(_)) => {
            End::Close(close_code::SIZE, "frame too large; the limit is 64 KiB")
        }
        Ok(tungstenite::Error::Utf8(_)) => End::Close(close_code::INVALID, "invalid UTF-8"),
        Ok(tungstenite::Error::Protocol(_)) => End::Close(close_code::PROTOCOL, "protocol error"),
        _ => End::Drop,
    }
}

/// A hub message as a text frame. The hub's bytes are JSON from [`encode`], so this
/// never fails; axum checks the UTF-8 again, which is cheap next to the write.
fn text(wire: &Bytes) -> Option<Frame> {
    Utf8Bytes::try_from(wire.clone()).ok().map(Frame::Text)
}

fn control(frame: &ServerFrame<'_>) -> Frame {
    text(&server_frame(frame)).unwrap_or_else(|| Frame::Text(Utf8Bytes::default()))
}

fn error(message: &str) -> Frame {
    control(&ServerFrame::Error { message })
}

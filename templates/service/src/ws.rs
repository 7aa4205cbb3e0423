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
//!
//! The handshake is answered here rather than by axum's extractor so that the connection
//! gets its `TcpStream` back from hyper: the fan-out then writes each message to it
//! directly, as a frame encoded once for all subscribers (see [`crate::outbox`]).

use std::borrow::Cow;
use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use base64::Engine;
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{FutureExt, SinkExt, StreamExt};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use sha1::{Digest, Sha1};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message as Frame, Utf8Bytes};

use crate::AppState;
use crate::channel::ChannelName;
use crate::error::ApiError;
use crate::hub::{Hub, Replay, Subscriber};
use crate::id::Id;
use crate::message::{Envelope, Message};
use crate::outbox::{Outbox, Shared, StreamStep};
use crate::params::{self, MAX_CHANNELS_PER_CLIENT};
use crate::publish;
use crate::shutdown::Shutdown;

/// Largest frame or message a client may send; the same bound as a publish body.
const MAX_FRAME: usize = publish::MAX_BODY;
/// Shown with every malformed frame.
const EXAMPLE: &str = r#"{"type":"subscribe","channel":"news","since":"<last id>"}"#;
/// The answer to a publish frame on a connection that did not present the token.
const NEEDS_TOKEN: &str = "publishing needs the PUBLISH_TOKEN, presented when connecting \
                           as `Authorization: Bearer <token>` or `?token=<token>`";
/// How long a closing peer gets to answer our close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// Appended to a client's key to prove the server speaks WebSocket (RFC 6455 1.3).
const HANDSHAKE_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

pub fn routes() -> Router<AppState> {
    Router::new().route("/ws", get(connect))
}

/// Encodes a message as a complete `message` text frame, header included: the fan-out
/// writes these bytes to every subscriber's socket as they are.
pub fn encode(envelope: &Envelope<'_>) -> Bytes {
    text_frame(&server_frame(&ServerFrame::Message {
        channel: envelope.channel,
        id: envelope.id,
        data: envelope.data,
    }))
}

/// A final, unmasked text frame around `payload` (RFC 6455 5.2): what a server sends.
fn text_frame(payload: &[u8]) -> Bytes {
    let mut frame = BytesMut::with_capacity(payload.len() + 10);
    // FIN and the text opcode.
    frame.put_u8(0x81);
    match payload.len() {
        len @ 0..=125 => frame.put_u8(len as u8),
        len @ 126..=0xffff => {
            frame.put_u8(126);
            frame.put_u16(len as u16);
        }
        len => {
            frame.put_u8(127);
            frame.put_u64(len as u64);
        }
    }
    frame.put_slice(payload);
    frame.freeze()
}

/// The payload of a frame from [`text_frame`], without a copy.
fn payload(frame: &Bytes) -> Bytes {
    let header = match frame.get(1) {
        Some(126) => 4,
        Some(127) => 10,
        _ => 2,
    };
    frame.slice(header.min(frame.len())..)
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

/// Checks the handshake and the query, subscribes, and answers `101 Switching
/// Protocols`; the connection's task takes over once hyper hands the socket back.
async fn connect(
    State(state): State<AppState>,
    Query(query): Query<Vec<(String, String)>>,
    mut request: Request,
) -> Result<Response, ApiError> {
    let headers = request.headers();
    if !origin_allowed(headers, &state.config.allowed_origins) {
        return Err(ApiError {
            status: StatusCode::FORBIDDEN,
            message: "Origin not allowed; list it in ALLOWED_ORIGINS".into(),
        });
    }
    let accept = accept_key(headers)?;
    let may_publish = match &state.config.publish_token {
        None => true,
        Some(token) => {
            let presented = publish::bearer(headers).or_else(|| {
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
        _open: open,
    };
    let first = connection.subscribed(channels, replay);
    let upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(connection.run(upgrade, first, state.shutdown.clone()));

    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    Ok(response)
}

/// Checks an opening handshake (RFC 6455 4.2.1) and computes its
/// `Sec-WebSocket-Accept` answer.
fn accept_key(headers: &HeaderMap) -> Result<HeaderValue, ApiError> {
    let has = |name: HeaderName, token: &str| {
        headers.get_all(name).iter().any(|value| {
            value
                .as_bytes()
                .split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
        })
    };
    let refuse = |message: &str| ApiError {
        status: StatusCode::BAD_REQUEST,
        message: message.into(),
    };
    if !has(header::CONNECTION, "upgrade") || !has(header::UPGRADE, "websocket") {
        return Err(refuse(
            "not a WebSocket handshake: send `Connection: Upgrade` and `Upgrade: websocket`",
        ));
    }
    if !has(header::SEC_WEBSOCKET_VERSION, "13") {
        return Err(refuse(
            "send `Sec-WebSocket-Version: 13`: no other version is spoken",
        ));
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return Err(refuse("the handshake needs a `Sec-WebSocket-Key`"));
    };
    let digest = Sha1::new()
        .chain_update(key.as_bytes())
        .chain_update(HANDSHAKE_GUID)
        .finalize();
    let accept = base64::engine::general_purpose::STANDARD.encode(digest);
    // Base64 is always a valid header value.
    HeaderValue::try_from(accept).map_err(|e| ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: format!("cannot answer the handshake: {e}"),
    })
}

/// tokio-tungstenite's settings for every connection.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        // tungstenite's 128 KiB read buffer would dominate an idle connection. Client
        // frames are small; a large one still arrives whole, in more reads. With 1 KiB
        // an idle connection costs about 5 KiB in all (4 KiB: about 8).
        .read_buffer_size(1024)
        // Frames of one batch collect up to this before a write, then flush once.
        .write_buffer_size(8 * 1024)
        .max_write_buffer_size(2 * MAX_FRAME + 8 * 1024)
        .max_frame_size(Some(MAX_FRAME))
        .max_message_size(Some(MAX_FRAME))
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
    Close(CloseCode, &'static str),
    /// The peer is gone or unresponsive: drop the socket.
    Drop,
}

/// One connection's state; a single task serves both directions, except for the
/// messages the fan-out writes to the attached socket itself.
struct Connection {
    subscriber: Subscriber,
    channels: Vec<ChannelName>,
    hub: Arc<Hub>,
    may_publish: bool,
    ping_interval: Duration,
    queue_len: usize,
    /// Keeps `serve` waiting until this connection has closed.
    _open: mpsc::Sender<()>,
}

impl Connection {
    async fn run(mut self, upgrade: OnUpgrade, first: Vec<Frame>, mut shutdown: Shutdown) {
        let Some((mut socket, stream)) = self.open(upgrade).await else {
            return;
        };
        let outbox = Arc::clone(self.subscriber.outbox());
        let end = match send(&mut socket, first, self.stall_limit()).await {
            Ok(()) => {
                outbox.attach(Arc::clone(&stream));
                self.serve(&mut socket, &stream, &outbox, &mut shutdown)
                    .await
            }
            Err(end) => end,
        };
        // Nothing from the fan-out may follow the close frame.
        outbox.detach();
        if let End::Close(code, reason) = end {
            let close = Frame::Close(Some(CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            }));
            // Reading until the peer's answer lets the server end the TCP connection
            // cleanly (RFC 6455 7.1.1) instead of resetting it on unread data.
            let _ = timeout(CLOSE_TIMEOUT, async {
                if socket.send(close).await.is_ok() {
                    while let Some(Ok(_)) = socket.next().await {}
                }
            })
            .await;
        }
    }

    /// Takes the socket back from hyper once the handshake is answered.
    async fn open(&self, upgrade: OnUpgrade) -> Option<(WebSocketStream<Shared>, Arc<TcpStream>)> {
        let upgraded = upgrade
            .await
            .inspect_err(|e| tracing::debug!("WebSocket upgrade failed: {e}"))
            .ok()?;
        // `serve` in lib.rs gives hyper every connection as a `TokioIo<TcpStream>`.
        let Ok(parts) = upgraded.downcast::<TokioIo<TcpStream>>() else {
            tracing::error!("an upgraded connection is not a TcpStream; see `serve` in lib.rs");
            return None;
        };
        let stream = Arc::new(parts.io.into_inner());
        let io = Shared::new(Arc::clone(&stream), Arc::clone(self.subscriber.outbox()));
        // What hyper read past the handshake is the start of the client's frames.
        let read = parts.read_buf.to_vec();
        let socket =
            WebSocketStream::from_partially_read(io, read, Role::Server, Some(config())).await;
        Some((socket, stream))
    }

    async fn serve(
        &mut self,
        socket: &mut WebSocketStream<Shared>,
        stream: &Arc<TcpStream>,
        outbox: &Outbox,
        shutdown: &mut Shutdown,
    ) -> End {
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
                step = poll_fn(|cx| outbox.poll_stream(cx)) => match step {
                    StreamStep::Stalled => match timeout(stall, stream.writable()).await {
                        Ok(Ok(())) => {
                            outbox.flush();
                            Ok(())
                        }
                        // A peer that stopped reading: it resumes when it comes back.
                        Ok(Err(_)) | Err(_) => Err(End::Drop),
                    },
                    StreamStep::Closed => {
                        // The hub closed the queue rather than skip messages: what it
                        // holds goes out, then the client resumes from history without
                        // a gap.
                        tracing::debug!("dropping a slow WebSocket client");
                        let queued = self.queued();
                        let reason = "too slow; reconnect and resume";
                        return match send(socket, queued, stall).await {
                            Ok(()) => End::Close(CloseCode::Again, reason),
                            Err(end) => end,
                        };
                    }
                },
                received = socket.next() => {
                    last_heard = Instant::now();
                    match received {
                        Some(Ok(Frame::Text(text))) => {
                            // Detached while the command runs, so that its answer and
                            // the messages around it keep their order.
                            outbox.detach();
                            let mut reply = self.command(&text).await;
                            reply.extend(self.queued());
                            let sent = send(socket, reply, stall).await;
                            outbox.attach(Arc::clone(stream));
                            sent
                        }
                        Some(Ok(Frame::Binary(_))) => {
                            let reply = error("binary frames are not supported; send JSON text");
                            send(socket, [reply], stall).await
                        }
                        Some(Ok(Frame::Ping(_) | Frame::Pong(_) | Frame::Frame(_))) => Ok(()),
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
                () = &mut stopping => return End::Close(CloseCode::Away, "server shutting down"),
            };
            if let Err(end) = result {
                return end;
            }
        }
    }

    /// What the queue holds, as frames. The queue only fills up while the fan-out's
    /// writes are detached, or closed.
    fn queued(&mut self) -> Vec<Frame> {
        self.take_queued()
            .iter()
            .filter_map(|m| message_frame(m))
            .collect()
    }

    /// Takes what the queue holds, leaving out channels unsubscribed since.
    fn take_queued(&mut self) -> Vec<Arc<Message>> {
        let mut queued = Vec::new();
        // Ready at once: it only moves what is queued.
        let _ = self
            .subscriber
            .recv(&mut queued, self.queue_len)
            .now_or_never();
        queued.retain(|m| self.channels.contains(&m.channel));
        queued
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
            let mut queued = self.take_queued();
            if !queued.is_empty() {
                messages.append(&mut queued);
                messages.sort_unstable_by_key(|m| m.id);
                messages.dedup_by_key(|m| m.id);
            }
            frames.extend(messages.iter().filter_map(|m| message_frame(m)));
        }
        frames
    }
}

/// Feeds `frames` and flushes once, so a burst costs one write. A peer that stops
/// reading stalls the write; after `stall` it is dropped.
async fn send(
    socket: &mut WebSocketStream<Shared>,
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
fn closing(error: tungstenite::Error) -> End {
    match error {
        tungstenite::Error::Capacity(_) => {
            End::Close(CloseCode::Size, "frame too large; the limit is 64 KiB")
        }
        tungstenite::Error::Utf8(_) => End::Close(CloseCode::Invalid, "invalid UTF-8"),
        tungstenite::Error::Protocol(_) => End::Close(CloseCode::Protocol, "protocol error"),
        _ => End::Drop,
    }
}

/// A hub message as tungstenite's text frame, for what the connection's task sends
/// itself (replays): the payload of the pre-encoded frame, without a copy.
fn message_frame(message: &Message) -> Option<Frame> {
    text(payload(&message.wire))
}

/// JSON as a text frame. Everything sent is JSON from `serde_json`, so this never
/// fails; tungstenite checks the UTF-8 again, which is cheap next to the write.
fn text(json: Bytes) -> Option<Frame> {
    Utf8Bytes::try_from(json).ok().map(Frame::Text)
}

fn control(frame: &ServerFrame<'_>) -> Frame {
    text(server_frame(frame)).unwrap_or_else(|| Frame::Text(Utf8Bytes::default()))
}

fn error(message: &str) -> Frame {
    control(&ServerFrame::Error { message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_frames_carry_their_length_in_the_shortest_form() {
        for (len, header) in [
            (0, &[0x81, 0][..]),
            (125, &[0x81, 125]),
            (126, &[0x81, 126, 0, 126]),
            (0xffff, &[0x81, 126, 0xff, 0xff]),
            (0x1_0000, &[0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]),
        ] {
            let body = vec![b'x'; len];
            let frame = text_frame(&body);
            assert_eq!(&frame[..header.len()], header, "{len} bytes");
            assert_eq!(frame.len(), header.len() + len);
            assert_eq!(payload(&frame), body, "{len} bytes");
        }
    }
}

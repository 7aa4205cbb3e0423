//! WebSocket machinery: the opening handshake, frame encoding, and the connection loop
//! that shares the socket with the fan-out.
//!
//! The handshake is answered by hand rather than by axum's extractor so that the
//! connection gets its `TcpStream` back from hyper: the fan-out then writes each message
//! to it directly, as a frame encoded once for all subscribers (see [`super::outbox`]).
//! What the client's frames mean is not decided here: the loop hands every text frame
//! to a [`Session`] (`src/commands.rs`) and sends what it answers.
//!
//! Close codes: 1001 when the server shuts down, 1007 for invalid UTF-8, 1009 for a
//! frame over 64 KiB, 1013 when the client fell too far behind (reconnect with `since`),
//! 4001 when the client's token expired (reconnect with a fresh one and `since`).

use std::future::{Future, poll_fn};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Version, header};
use axum::response::Response;
use base64::Engine;
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use sha1::{Digest, Sha1};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message as Frame, Utf8Bytes};

use crate::engine::deadline::WriteDeadline;
use crate::engine::events::{Open, SharedEvents, Transport};
use crate::engine::outbox::{Outbox, Shared, StreamStep};
use crate::engine::serve::Held;
use crate::error::ApiError;
use crate::message::Message;
use crate::shutdown::Shutdown;

/// The close code for an expired token: 4000-4999 are for applications (RFC 6455 7.4.2).
const EXPIRED: u16 = 4001;
/// How long a closing peer gets to answer our close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// Appended to a client's key to prove the server speaks WebSocket (RFC 6455 1.3).
const HANDSHAKE_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// What the connection loop asks of the layer that gives frames their meaning.
pub trait Session: Send + Sync + 'static {
    /// The queue the fan-out writes this connection's messages from.
    fn outbox(&self) -> &Arc<Outbox>;

    /// Answers one text frame from the client with the frames to send back.
    fn command(&mut self, text: &str) -> impl Future<Output = Vec<Frame>> + Send;

    /// The next piece of a replay a command began whose first piece did not hold all of
    /// it (see `crate::replay`), or `None` once it is complete. The loop sends each
    /// piece once the one before is written, before any live message, so a peer that
    /// stops reading holds one piece until the write stalls it out.
    fn more(&mut self) -> impl Future<Output = Option<Vec<Frame>>> + Send;

    /// Messages queued while the fan-out's writes were detached (or since the queue
    /// closed), as frames, for the loop to send itself.
    fn queued(&mut self) -> Vec<Frame>;

    /// When the connection's credential expires: the loop closes it then, with code
    /// 4001. Asked again after every command, which may extend it.
    fn expires(&self) -> Option<Instant>;
}

/// Upgraded connections, which hyper no longer tracks: each one's task holds a
/// sender from [`tracker`](Self::tracker), and the drain waits for the last.
pub struct Upgraded {
    open: mpsc::Sender<()>,
    closed: mpsc::Receiver<()>,
}

impl Upgraded {
    pub fn new() -> Self {
        let (open, closed) = mpsc::channel(1);
        Self { open, closed }
    }

    /// What a connection upgrades to a sender for as long as it runs; upgrading fails
    /// once the drain has begun.
    pub fn tracker(&self) -> mpsc::WeakSender<()> {
        self.open.downgrade()
    }

    /// Resolves once every upgraded connection has closed.
    pub async fn closed(mut self) {
        drop(self.open);
        self.closed.recv().await;
    }
}

impl Default for Upgraded {
    fn default() -> Self {
        Self::new()
    }
}

/// What every connection loop needs besides its session.
pub struct Settings {
    /// A ping goes out this often; a peer silent for twice as long is dropped.
    pub ping_interval: Duration,
    pub events: SharedEvents,
    /// Keeps the drain waiting until this connection has closed; see [`Upgraded`].
    pub open: mpsc::Sender<()>,
}

/// Answers `101 Switching Protocols` and spawns the connection's loop, which sends
/// `first` (confirmations and replays decided before the upgrade) and then serves
/// `session` once hyper hands the socket back.
pub fn upgrade(
    request: &mut axum::extract::Request,
    accept: HeaderValue,
    session: impl Session,
    first: Vec<Frame>,
    settings: Settings,
    shutdown: Shutdown,
) -> Response {
    let upgrade = hyper::upgrade::on(&mut *request);
    // The connection's place under the connection caps leaves hyper with it.
    let held = request.extensions_mut().remove::<Held>();
    tokio::spawn(async move {
        let _held = held;
        run(session, upgrade, first, settings, shutdown).await;
    });
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    response
}

/// Checks an opening handshake (RFC 6455 4.2.1): a `GET` over HTTP/1.1 with the
/// upgrade headers and a key of 16 bytes in base64. Computes its
/// `Sec-WebSocket-Accept` answer.
pub fn accept_key(request: &axum::extract::Request) -> Result<HeaderValue, ApiError> {
    if request.method() != Method::GET || request.version() != Version::HTTP_11 {
        return Err(ApiError::bad_request(
            "a WebSocket opens with a GET over HTTP/1.1",
        ));
    }
    let headers = request.headers();
    let has = |name: HeaderName, token: &str| {
        headers.get_all(name).iter().any(|value| {
            value
                .as_bytes()
                .split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
        })
    };
    if !has(header::CONNECTION, "upgrade") || !has(header::UPGRADE, "websocket") {
        return Err(ApiError::bad_request(
            "not a WebSocket handshake: send `Connection: Upgrade` and `Upgrade: websocket`",
        ));
    }
    if !has(header::SEC_WEBSOCKET_VERSION, "13") {
        return Err(ApiError::bad_request(
            "send `Sec-WebSocket-Version: 13`: no other version is spoken",
        ));
    }
    let mut keys = headers.get_all(header::SEC_WEBSOCKET_KEY).iter();
    let key = match (keys.next(), keys.next()) {
        (Some(key), None)
            if base64::engine::general_purpose::STANDARD
                .decode(key.as_bytes())
                .is_ok_and(|nonce| nonce.len() == 16) =>
        {
            key
        }
        _ => {
            return Err(ApiError::bad_request(
                "the handshake needs one `Sec-WebSocket-Key`: 16 random bytes in base64",
            ));
        }
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

/// A final, unmasked text frame around `payload` (RFC 6455 5.2): what a server sends.
pub fn text_frame(payload: &[u8]) -> Bytes {
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

/// A hub message as tungstenite's text frame, for what the connection's task sends
/// itself (replays): the payload of the pre-encoded frame, without a copy.
pub fn message_frame(message: &Message) -> Option<Frame> {
    text(payload(&message.wire))
}

/// JSON as a text frame. Everything sent is JSON from `serde_json`, so this never
/// fails; tungstenite checks the UTF-8 again, which is cheap next to the write.
pub fn text(json: Bytes) -> Option<Frame> {
    Utf8Bytes::try_from(json).ok().map(Frame::Text)
}

/// tokio-tungstenite's settings for every connection.
fn config(max_frame: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        // tungstenite's 128 KiB read buffer would dominate an idle connection. Client
        // frames are small; a large one still arrives whole, in more reads. With 1 KiB
        // an idle connection costs about 5 KiB in all (4 KiB: about 8).
        .read_buffer_size(1024)
        // Frames of one batch collect up to this before a write, then flush once.
        .write_buffer_size(8 * 1024)
        .max_write_buffer_size(2 * max_frame + 8 * 1024)
        .max_frame_size(Some(max_frame))
        .max_message_size(Some(max_frame))
}

/// Largest frame or message a client may send; the same bound as a publish body.
pub const MAX_FRAME: usize = crate::publish::MAX_BODY;

/// How a connection ends.
enum End {
    /// Send a close frame, then give the peer a moment to answer it.
    Close(CloseCode, &'static str),
    /// The peer is gone or unresponsive: drop the socket.
    Drop,
}

async fn run(
    mut session: impl Session,
    upgrade: OnUpgrade,
    first: Vec<Frame>,
    settings: Settings,
    mut shutdown: Shutdown,
) {
    let Some((mut socket, stream)) = open(&session, upgrade, &settings.events).await else {
        return;
    };
    let _open = Open::new(&settings.events, Transport::WebSocket);
    let outbox = Arc::clone(session.outbox());
    let stall = stall_limit(&settings);
    let end = match reply(&mut session, &mut socket, first, stall).await {
        Ok(()) => {
            attach(&outbox, &stream, &settings.events);
            serve(&mut session, &mut socket, &stream, &settings, &mut shutdown).await
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
async fn open(
    session: &impl Session,
    upgrade: OnUpgrade,
    events: &SharedEvents,
) -> Option<(WebSocketStream<Shared>, Arc<TcpStream>)> {
    let upgraded = upgrade
        .await
        .inspect_err(|e| tracing::debug!("WebSocket upgrade failed: {e}"))
        .ok()?;
    // The accept loop (`engine/serve.rs`) gives hyper every connection as a
    // `TokioIo<WriteDeadline>`; the WebSocket loop keeps its own write deadline.
    let Ok(parts) = upgraded.downcast::<TokioIo<WriteDeadline>>() else {
        tracing::error!("an upgraded connection is not a TcpStream; see engine/serve.rs");
        return None;
    };
    let stream = Arc::new(parts.io.into_inner().into_inner());
    let io = Shared::new(
        Arc::clone(&stream),
        Arc::clone(session.outbox()),
        Arc::clone(events),
    );
    // What hyper read past the handshake is the start of the client's frames.
    let read = parts.read_buf.to_vec();
    let socket =
        WebSocketStream::from_partially_read(io, read, Role::Server, Some(config(MAX_FRAME))).await;
    Some((socket, stream))
}

/// Lets the fan-out write to the socket again, reporting what was queued meanwhile.
fn attach(outbox: &Outbox, stream: &Arc<TcpStream>, events: &SharedEvents) {
    let delivered = outbox.attach(Arc::clone(stream));
    if !delivered.is_empty() {
        events.delivered(delivered);
    }
}

async fn serve(
    session: &mut impl Session,
    socket: &mut WebSocketStream<Shared>,
    stream: &Arc<TcpStream>,
    settings: &Settings,
    shutdown: &mut Shutdown,
) -> End {
    let outbox = Arc::clone(session.outbox());
    let ping_interval = settings.ping_interval;
    let mut ping = tokio::time::interval_at(Instant::now() + ping_interval, ping_interval);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let stall = stall_limit(settings);
    // One future for the whole connection: a new one on every message would join
    // and leave the watch's waiter list, a lock every connection shares.
    let mut stopping = std::pin::pin!(shutdown.wait());
    // One timer for the whole connection, moved when a command changes the expiry.
    let mut expires = session.expires();
    let mut expiry = std::pin::pin!(tokio::time::sleep_until(expires.unwrap_or_else(far_future)));
    loop {
        let result = tokio::select! {
            step = poll_fn(|cx| outbox.poll_stream(cx)) => match step {
                StreamStep::Stalled => match timeout(stall, stream.writable()).await {
                    Ok(Ok(())) => {
                        let delivered = outbox.flush();
                        if !delivered.is_empty() {
                            settings.events.delivered(delivered);
                        }
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
                    let queued = session.queued();
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
                        let answer = session.command(&text).await;
                        let sent = reply(session, socket, answer, stall).await;
                        attach(&outbox, stream, &settings.events);
                        if session.expires() != expires {
                            expires = session.expires();
                            expiry.as_mut().reset(expires.unwrap_or_else(far_future));
                        }
                        sent
                    }
                    Some(Ok(Frame::Binary(_))) => {
                        let reply = Frame::text(
                            r#"{"type":"error","code":"bad_request","message":"binary frames are not supported; send JSON text"}"#,
                        );
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
                if last_heard.elapsed() >= 2 * ping_interval {
                    tracing::debug!("dropping a WebSocket peer that stopped answering pings");
                    return End::Drop;
                }
                send(socket, [Frame::Ping(Bytes::new())], stall).await
            }
            () = &mut stopping => return End::Close(CloseCode::Away, "server shutting down"),
            () = &mut expiry, if expires.is_some() => {
                return End::Close(CloseCode::Library(EXPIRED), "token expired");
            }
        };
        if let Err(end) = result {
            return end;
        }
    }
}

/// A deadline that never comes, for a connection whose credential does not expire.
fn far_future() -> Instant {
    // About 30 years: far enough, and well within what the timer can hold.
    Instant::now() + Duration::from_secs(86400 * 365 * 30)
}

/// How long a write may stall on a peer that stopped reading: as long as a missing
/// pong is tolerated.
fn stall_limit(settings: &Settings) -> Duration {
    2 * settings.ping_interval
}

/// Sends a command's answer, the rest of a replay it began, a piece at a time, then
/// the messages queued meanwhile (with the last piece when there is one, so a burst
/// still costs one write).
async fn reply(
    session: &mut impl Session,
    socket: &mut WebSocketStream<Shared>,
    mut frames: Vec<Frame>,
    stall: Duration,
) -> Result<(), End> {
    while let Some(piece) = session.more().await {
        send(socket, std::mem::replace(&mut frames, piece), stall).await?;
    }
    frames.extend(session.queued());
    send(socket, frames, stall).await
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

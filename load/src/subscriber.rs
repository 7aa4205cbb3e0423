//! One subscriber per connection, for each transport: connect, subscribe to one
//! channel, and record every message received until the connection ends.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::ValueEnum;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::http::{self, Chunked, Reader, Target, find};
use crate::stats::{Shared, lock, scan};
use crate::sys::monotonic_ns;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    /// `GET /events?channel=C` (text/event-stream).
    Sse,
    /// `GET /ws?channel=C`, frames `{"type":"message",...}`.
    Websocket,
    /// `GET /poll?channel=C&cursor=ID&timeout=60`, re-polled on every answer.
    LongPolling,
    /// `GET /messages?channel=C&cursor=ID` every poll interval, with `If-None-Match`.
    ShortPolling,
    /// Socket.IO (Engine.IO v4 over WebSocket), event `message`; for the peer servers.
    Socketio,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sse => "sse",
            Self::Websocket => "websocket",
            Self::LongPolling => "long-polling",
            Self::ShortPolling => "short-polling",
            Self::Socketio => "socketio",
        }
    }
}

pub struct Subscriber {
    pub transport: Transport,
    pub target: Target,
    pub channel: String,
    pub source: Ipv4Addr,
    /// Index within the shard's stats.
    pub index: usize,
    pub stats: Shared,
    /// Limits how many connections are being set up at once.
    pub gate: Arc<Semaphore>,
    /// Short polling: overrides the server's `poll_interval_ms`.
    pub poll_interval: Option<Duration>,
}

impl Subscriber {
    pub async fn run(self) {
        let mut established = false;
        let result = match self.transport {
            Transport::Sse => self.sse(&mut established).await,
            Transport::Websocket | Transport::Socketio => self.websocket(&mut established).await,
            Transport::LongPolling => self.long_poll(&mut established).await,
            Transport::ShortPolling => self.short_poll(&mut established).await,
        };
        let mut stats = lock(&self.stats);
        if established {
            stats.closed += 1;
        } else {
            stats.failed += 1;
        }
        if let Err(e) = result {
            stats.error(format!("{}: {e:#}", self.target.url));
        }
    }

    fn established(&self, established: &mut bool) {
        if !*established {
            *established = true;
            lock(&self.stats).connected += 1;
        }
    }

    /// Records the messages in `payload`; `reset` when it carried a reset.
    fn deliver(&self, payload: &[u8], reset: bool) {
        let now = monotonic_ns();
        let mut stats = lock(&self.stats);
        if reset {
            stats.resets += 1;
        }
        if let Some(phase) = stats.phase.as_mut() {
            scan(payload, |seq, sent| {
                phase.record(self.index, seq, sent, now)
            });
        }
    }

    async fn open(&self, request: String) -> Result<(TcpStream, Reader, http::Head)> {
        let _permit = self.gate.acquire().await?;
        let mut stream = http::connect(&self.target, self.source).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut reader = Reader::new();
        let head = reader.read_head(&mut stream).await?;
        Ok((stream, reader, head))
    }

    async fn sse(&self, established: &mut bool) -> Result<()> {
        let request = format!(
            "GET /events?channel={} HTTP/1.1\r\nHost: {}\r\n{}Accept: text/event-stream\r\n\r\n",
            self.channel, self.target.host, self.target.credential
        );
        let (mut stream, mut reader, head) = self.open(request).await?;
        if head.status != 200 {
            bail!("GET /events answered {}", head.status);
        }
        self.established(established);
        let mut chunks = Chunked::default();
        let mut events = Vec::new();
        loop {
            if head.chunked {
                if chunks.decode(&mut reader, &mut events)? {
                    bail!("the event stream ended");
                }
            } else {
                events.extend_from_slice(reader.pending());
                reader.consume(reader.pending().len());
            }
            if let Some(end) = events.windows(2).rposition(|w| w == b"\n\n") {
                let complete = &events[..end + 2];
                self.deliver(complete, find(complete, b"event: reset").is_some());
                events.drain(..end + 2);
            }
            reader.fill(&mut stream).await?;
        }
    }

    async fn websocket(&self, established: &mut bool) -> Result<()> {
        let socketio = self.transport == Transport::Socketio;
        let path = if socketio {
            format!(
                "/socket.io/?EIO=4&transport=websocket&channel={}",
                self.channel
            )
        } else {
            format!("/ws?channel={}", self.channel)
        };
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n{credential}Upgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            host = self.target.host,
            credential = self.target.credential
        );
        let (mut stream, mut reader, head) = self.open(request).await?;
        if head.status != 101 {
            bail!("GET {path} answered {} instead of 101", head.status);
        }
        if !socketio {
            self.established(established);
        }
        let mut fragments = Vec::new();
        loop {
            while let Some(frame) = parse_frame(reader.pending())? {
                let payload = &reader.pending()[frame.header..frame.header + frame.len];
                match frame.opcode {
                    0..=2 => {
                        // Text or binary, possibly fragmented.
                        let message = if frame.fin && fragments.is_empty() {
                            payload
                        } else {
                            fragments.extend_from_slice(payload);
                            if !frame.fin {
                                reader.consume(frame.header + frame.len);
                                continue;
                            }
                            &fragments[..]
                        };
                        let reply = if socketio {
                            match message {
                                [b'0', ..] => Some(&b"40"[..]), // Engine.IO open: join namespace "/"
                                [b'2'] => Some(&b"3"[..]),      // Engine.IO ping -> pong
                                [b'4', b'0', ..] => {
                                    self.established(established);
                                    None
                                }
                                [b'4', b'2', ..] => {
                                    self.deliver(message, false);
                                    None
                                }
                                _ => None,
                            }
                        } else {
                            self.deliver(message, find(message, b"\"type\":\"reset\"").is_some());
                            None
                        };
                        if let Some(reply) = reply {
                            stream.write_all(&client_frame(1, reply)).await?;
                        }
                        fragments.clear();
                    }
                    8 => bail!("the server closed the WebSocket"),
                    9 => stream.write_all(&client_frame(10, payload)).await?,
                    _ => {}
                }
                reader.consume(frame.header + frame.len);
            }
            reader.fill(&mut stream).await?;
        }
    }

    async fn long_poll(&self, established: &mut bool) -> Result<()> {
        let mut cursor = String::new();
        let mut stream: Option<(TcpStream, Reader)> = None;
        loop {
            let request = format!(
                "GET /poll?channel={}{}{cursor}&timeout=60 HTTP/1.1\r\nHost: {}\r\n{}\r\n",
                self.channel,
                if cursor.is_empty() { "" } else { "&cursor=" },
                self.target.host,
                self.target.credential
            );
            let (mut conn, mut reader, head) = match stream.take() {
                Some((mut conn, mut reader)) => {
                    conn.write_all(request.as_bytes()).await?;
                    let head = reader.read_head(&mut conn).await?;
                    (conn, reader, head)
                }
                None => {
                    // The first request is held by the server: count it as established
                    // once sent (the warm-up message of a broadcast confirms it).
                    let permit = self.gate.acquire().await?;
                    let mut conn = http::connect(&self.target, self.source).await?;
                    conn.write_all(request.as_bytes()).await?;
                    drop(permit);
                    self.established(established);
                    let mut reader = Reader::new();
                    let head = reader.read_head(&mut conn).await?;
                    (conn, reader, head)
                }
            };
            let body = reader.read_body(&mut conn, &head).await?;
            lock(&self.stats).requests += 1;
            if head.status != 200 {
                bail!("GET /poll answered {}", head.status);
            }
            if let Some(next) = string_field(&body, b"\"cursor\":\"") {
                cursor = next;
            }
            self.deliver(&body, find(&body, b"\"reset\":true").is_some());
            stream = Some((conn, reader));
        }
    }

    async fn short_poll(&self, established: &mut bool) -> Result<()> {
        let mut cursor = String::new();
        let mut etag = None;
        let mut interval = self.poll_interval;
        let permit = self.gate.acquire().await?;
        let mut conn = http::connect(&self.target, self.source).await?;
        drop(permit);
        let mut reader = Reader::new();
        loop {
            let request = format!(
                "GET /messages?channel={}{}{cursor} HTTP/1.1\r\nHost: {}\r\n{}{}\r\n",
                self.channel,
                if cursor.is_empty() { "" } else { "&cursor=" },
                self.target.host,
                self.target.credential,
                etag.as_ref()
                    .map(|tag| format!("If-None-Match: {tag}\r\n"))
                    .unwrap_or_default(),
            );
            conn.write_all(request.as_bytes()).await?;
            let head = reader.read_head(&mut conn).await?;
            let body = reader.read_body(&mut conn, &head).await?;
            let first = !*established;
            {
                let mut stats = lock(&self.stats);
                stats.requests += 1;
                if head.status == 304 {
                    stats.not_modified += 1;
                }
            }
            match head.status {
                304 => {}
                200 => {
                    self.established(established);
                    if let Some(next) = string_field(&body, b"\"cursor\":\"") {
                        cursor = next;
                    }
                    etag = head.etag;
                    if interval.is_none() {
                        let ms = number_field(&body, b"\"poll_interval_ms\":").unwrap_or(1000);
                        interval = Some(Duration::from_millis(ms));
                    }
                    self.deliver(&body, find(&body, b"\"reset\":true").is_some());
                }
                status => bail!("GET /messages answered {status}"),
            }
            let every = interval.unwrap_or(Duration::from_secs(1));
            // Spread the clients' polls over the interval instead of polling in step.
            let wait = if first {
                every.mul_f64((self.index % 1000) as f64 / 1000.0)
            } else {
                every
            };
            tokio::time::sleep(wait).await;
        }
    }
}

struct Frame {
    fin: bool,
    opcode: u8,
    header: usize,
    len: usize,
}

/// A complete server frame at the start of `buf`, or `None` if more bytes are needed.
fn parse_frame(buf: &[u8]) -> Result<Option<Frame>> {
    if buf.len() < 2 {
        return Ok(None);
    }
    if buf[1] & 0x80 != 0 {
        bail!("the server sent a masked frame");
    }
    let (len, header) = match buf[1] & 0x7f {
        126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
        127 if buf.len() >= 10 => {
            let mut bytes = [0; 8];
            bytes.copy_from_slice(&buf[2..10]);
            (u64::from_be_bytes(bytes) as usize, 10)
        }
        126 | 127 => return Ok(None),
        n => (n as usize, 2),
    };
    if len > 16 << 20 {
        bail!("frame of {len} bytes");
    }
    if buf.len() < header + len {
        return Ok(None);
    }
    Ok(Some(Frame {
        fin: buf[0] & 0x80 != 0,
        opcode: buf[0] & 0x0f,
        header,
        len,
    }))
}

/// A masked client frame; the all-zero mask leaves the payload as is.
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 8);
    frame.push(0x80 | opcode);
    frame.push(0x80 | payload.len().min(125) as u8);
    frame.extend_from_slice(&[0; 4]);
    frame.extend_from_slice(&payload[..payload.len().min(125)]);
    frame
}

fn string_field(body: &[u8], key: &[u8]) -> Option<String> {
    let start = find(body, key)? + key.len();
    let len = body[start..].iter().position(|b| *b == b'"')?;
    String::from_utf8(body[start..start + len].to_vec()).ok()
}

fn number_field(body: &[u8], key: &[u8]) -> Option<u64> {
    let start = find(body, key)? + key.len();
    let digits = body[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    std::str::from_utf8(&body[start..start + digits])
        .ok()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_frames_of_every_length_encoding() {
        let mut long = vec![0x81, 126, 0x01, 0x00];
        long.extend(std::iter::repeat_n(b'x', 256));
        let frame = parse_frame(&long).unwrap().unwrap();
        assert_eq!(
            (frame.fin, frame.opcode, frame.header, frame.len),
            (true, 1, 4, 256)
        );
        assert!(parse_frame(&long[..100]).unwrap().is_none());
        let ping = parse_frame(&[0x89, 0]).unwrap().unwrap();
        assert_eq!((ping.opcode, ping.len), (9, 0));
        assert!(parse_frame(&[0x81, 0x85, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn reads_cursor_and_interval_fields() {
        let body = br#"{"messages":[],"cursor":"1234","poll_interval_ms":2000}"#;
        assert_eq!(
            string_field(body, b"\"cursor\":\"").as_deref(),
            Some("1234")
        );
        assert_eq!(number_field(body, b"\"poll_interval_ms\":"), Some(2000));
    }
}

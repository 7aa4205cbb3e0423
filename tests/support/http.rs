//! A deliberately small HTTP/1.1 client over raw TCP: it sends exactly the bytes a test
//! asks for (garbage included), can stop reading at will (a slow consumer), and reads
//! Server-Sent Events incrementally, chunked or delimited by the connection's close.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {:?}", self.status, self.text()))
    }
}

/// Sends one request (`Connection: close`) and reads the whole response.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut raw = head.into_bytes();
    raw.extend_from_slice(body);
    send_raw(addr, &raw).await
}

/// Writes `raw` as it is and parses whatever comes back.
pub async fn send_raw(addr: SocketAddr, raw: &[u8]) -> std::io::Result<Response> {
    let stream = TcpStream::connect(addr).await?;
    exchange(stream, raw).await
}

/// A connection from the loopback address `127.0.0.{last}`: distinct addresses play
/// distinct clients.
pub async fn connect_from(last: u8, addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from(([127, 0, 0, last], 0)))?;
    socket.connect(addr).await
}

/// [`send_raw`] from `127.0.0.{last}`.
pub async fn send_raw_from(last: u8, addr: SocketAddr, raw: &[u8]) -> std::io::Result<Response> {
    exchange(connect_from(last, addr).await?, raw).await
}

async fn exchange(mut stream: TcpStream, raw: &[u8]) -> std::io::Result<Response> {
    stream.write_all(raw).await?;
    let mut reply = Vec::new();
    // The server may answer before reading a body it refuses (413) and then reset
    // the connection; what arrived before the reset is the answer.
    if let Err(e) = stream.read_to_end(&mut reply).await
        && reply.is_empty()
    {
        return Err(e);
    }
    parse(&reply)
}

fn parse(reply: &[u8]) -> std::io::Result<Response> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let end = find(reply, b"\r\n\r\n").ok_or_else(|| bad("no complete response head"))?;
    let head = std::str::from_utf8(&reply[..end]).map_err(|_| bad("head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = reply[end + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body).ok_or_else(|| bad("malformed chunked body"))?;
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = find(raw, b"\r\n")?;
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).ok()?.trim(), 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub async fn get(addr: SocketAddr, target: &str) -> Response {
    request(addr, "GET", target, &[], b"")
        .await
        .unwrap_or_else(|e| panic!("GET {target}: {e}"))
}

/// `POST /publish`; returns the response whatever its status.
pub async fn try_publish(
    addr: SocketAddr,
    channel: &str,
    data: &Value,
) -> std::io::Result<Response> {
    let body = serde_json::json!({ "channel": channel, "data": data }).to_string();
    request(
        addr,
        "POST",
        "/publish",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .await
}

/// Publishes and returns the new id; any other answer than 200 fails the test.
pub async fn publish(addr: SocketAddr, channel: &str, data: &Value) -> String {
    let response = try_publish(addr, channel, data)
        .await
        .unwrap_or_else(|e| panic!("POST /publish: {e}"));
    assert_eq!(response.status, 200, "publish: {}", response.text());
    response.json()["id"]
        .as_str()
        .expect("an id string")
        .to_owned()
}

/// One Server-Sent Event.
#[derive(Debug, Default, Clone)]
pub struct Event {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

/// An open `text/event-stream` response, read event by event.
pub struct EventStream {
    reader: BufReader<TcpStream>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Decoded body bytes not yet parsed into events.
    pending: Vec<u8>,
    /// Whether the body is in chunks; otherwise it runs until the server closes the
    /// connection (the service answers streams on new connections that way).
    chunked: bool,
    /// Bytes left in the current chunk.
    chunk_left: usize,
    ended: bool,
}

impl EventStream {
    /// Opens `GET target` and reads the response head.
    pub async fn open(
        addr: SocketAddr,
        target: &str,
        headers: &[(&str, &str)],
    ) -> std::io::Result<Self> {
        Self::open_on(TcpStream::connect(addr).await?, addr, target, headers).await
    }

    /// Like [`open`](Self::open) on an already connected socket (e.g. one with a
    /// tiny receive buffer).
    pub async fn open_on(
        mut stream: TcpStream,
        addr: SocketAddr,
        target: &str,
        headers: &[(&str, &str)],
    ) -> std::io::Result<Self> {
        let mut head =
            format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await?;
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).await?;
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            if line.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let chunked = headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
        });
        Ok(Self {
            reader,
            status,
            headers,
            pending: Vec::new(),
            chunked,
            chunk_left: 0,
            ended: false,
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The connection, for a test that goes on with it by hand (what was read ahead of
    /// the body is dropped).
    pub fn into_inner(self) -> TcpStream {
        self.reader.into_inner()
    }

    /// The next event (comments and `retry:` skipped); `None` when the response ended.
    pub async fn next(&mut self) -> std::io::Result<Option<Event>> {
        loop {
            if let Some(end) = find(&self.pending, b"\n\n") {
                let block: Vec<u8> = self.pending.drain(..end + 2).collect();
                if let Some(event) = parse_event(&String::from_utf8_lossy(&block)) {
                    return Ok(Some(event));
                }
                continue;
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    /// Like [`next`](Self::next), failing after `limit`.
    pub async fn next_within(&mut self, limit: Duration) -> Option<Event> {
        tokio::time::timeout(limit, self.next())
            .await
            .expect("an event within the time limit")
            .expect("a readable stream")
    }

    /// Reads more of the body into `pending`; false at the end of the response.
    async fn fill(&mut self) -> std::io::Result<bool> {
        if self.ended {
            return Ok(false);
        }
        if !self.chunked {
            let mut buf = vec![0; 64 * 1024];
            let n = self.reader.read(&mut buf).await?;
            self.ended = n == 0;
            self.pending.extend_from_slice(&buf[..n]);
            return Ok(n > 0);
        }
        if self.chunk_left == 0 {
            let mut line = String::new();
            if self.reader.read_line(&mut line).await? == 0 {
                self.ended = true;
                return Ok(false);
            }
            if line.trim().is_empty() {
                // The CRLF that closes the previous chunk.
                line.clear();
                if self.reader.read_line(&mut line).await? == 0 {
                    self.ended = true;
                    return Ok(false);
                }
            }
            let size = usize::from_str_radix(line.trim(), 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {line:?}")))?;
            if size == 0 {
                self.ended = true;
                return Ok(false);
            }
            self.chunk_left = size;
        }
        let mut buf = vec![0; self.chunk_left.min(64 * 1024)];
        let n = self.reader.read(&mut buf).await?;
        if n == 0 {
            self.ended = true;
            return Ok(false);
        }
        self.chunk_left -= n;
        self.pending.extend_from_slice(&buf[..n]);
        Ok(true)
    }
}

/// Parses one event block per the SSE spec's field rules; `None` for comment- or
/// retry-only blocks.
pub fn parse_event(block: &str) -> Option<Event> {
    let mut event = Event::default();
    let mut has_data = false;
    for line in block.lines() {
        if line.is_empty() || line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => event.id = Some(value.to_owned()),
            "event" => event.event = Some(value.to_owned()),
            "data" => {
                if has_data {
                    event.data.push('\n');
                }
                event.data.push_str(value);
                has_data = true;
            }
            _ => {}
        }
    }
    has_data.then_some(event)
}

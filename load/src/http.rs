//! A deliberately minimal HTTP/1.1 client over tokio's `TcpStream`: just enough to
//! publish, hold an SSE stream, long-poll and upgrade to a WebSocket. Every
//! connection owns one small growable buffer and nothing else, so tens of thousands
//! of them cost the client little.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Where a server listens: `http://HOST:PORT`.
#[derive(Clone, Debug)]
pub struct Target {
    pub url: String,
    pub addr: SocketAddr,
    /// The `Host` header value.
    pub host: String,
    /// `Authorization: Bearer <token>` and its line end, or nothing: sent with every
    /// request (`--token`).
    pub credential: String,
}

impl Target {
    pub fn parse(url: &str) -> Result<Self> {
        let rest = url
            .strip_prefix("http://")
            .with_context(|| format!("{url:?}: only http:// URLs are supported"))?;
        let host = rest.split('/').next().unwrap_or_default().to_owned();
        let addr = host
            .to_socket_addrs()
            .with_context(|| format!("{url:?}: cannot resolve {host:?} (expected HOST:PORT)"))?
            .find(SocketAddr::is_ipv4)
            .with_context(|| format!("{url:?}: no IPv4 address"))?;
        Ok(Self {
            url: url.to_owned(),
            addr,
            host,
            credential: String::new(),
        })
    }

    /// Presents `token` as `Authorization: Bearer` on every request.
    pub fn with_token(mut self, token: Option<&str>) -> Self {
        self.credential =
            token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
        self
    }
}

/// The i-th of `count` loopback source addresses, 127.0.0.1 upwards: spreading client
/// sockets over several addresses multiplies the ephemeral ports available.
pub fn source_address(i: usize, count: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 1 + (i % count.clamp(1, 250)) as u8)
}

pub async fn connect(target: &Target, source: Ipv4Addr) -> io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    if target.addr.ip().is_loopback() {
        socket.bind(SocketAddr::new(source.into(), 0))?;
    }
    let stream = socket.connect(target.addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A response's status line and the headers the client needs.
#[derive(Debug)]
pub struct Head {
    pub status: u16,
    pub content_length: Option<usize>,
    pub chunked: bool,
    pub etag: Option<String>,
}

/// Buffered reading of one connection: `buf[start..]` holds bytes not yet consumed.
pub struct Reader {
    pub buf: Vec<u8>,
    pub start: usize,
}

impl Reader {
    pub fn new() -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
        }
    }

    pub fn pending(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    pub fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }

    /// Reads more bytes; errors on end of stream.
    pub async fn fill(&mut self, stream: &mut TcpStream) -> Result<()> {
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(4096.max(self.buf.len()));
        }
        let n = stream.read_buf(&mut self.buf).await?;
        if n == 0 {
            bail!("connection closed by the server");
        }
        Ok(())
    }

    pub async fn read_head(&mut self, stream: &mut TcpStream) -> Result<Head> {
        loop {
            if let Some(end) = find(self.pending(), b"\r\n\r\n") {
                let head = parse_head(&self.pending()[..end])?;
                self.consume(end + 4);
                return Ok(head);
            }
            if self.pending().len() > 64 * 1024 {
                bail!("response head over 64 KiB");
            }
            self.fill(stream).await?;
        }
    }

    /// Reads a whole body (Content-Length or chunked).
    pub async fn read_body(&mut self, stream: &mut TcpStream, head: &Head) -> Result<Vec<u8>> {
        if head.chunked {
            let mut body = Vec::new();
            let mut chunks = Chunked::default();
            loop {
                let done = chunks.decode(self, &mut body)?;
                if done {
                    return Ok(body);
                }
                self.fill(stream).await?;
            }
        }
        let len = head.content_length.unwrap_or(0);
        while self.pending().len() < len {
            self.fill(stream).await?;
        }
        let body = self.pending()[..len].to_vec();
        self.consume(len);
        Ok(body)
    }
}

fn parse_head(head: &[u8]) -> Result<Head> {
    let text = std::str::from_utf8(head).context("response head is not UTF-8")?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let mut parsed = Head {
        status,
        content_length: None,
        chunked: false,
        etag: None,
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            parsed.content_length = value.parse().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            parsed.chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("etag") {
            parsed.etag = Some(value.to_owned());
        }
    }
    Ok(parsed)
}

/// Incremental decoder of a chunked body.
#[derive(Default)]
pub struct Chunked {
    /// Data bytes left in the current chunk.
    remaining: usize,
    /// The CRLF after a chunk's data is still to be skipped.
    after_data: bool,
    /// The last chunk was seen; its closing CRLF (no trailers) remains.
    last: bool,
}

impl Chunked {
    /// Moves decoded bytes from `reader` into `out`; true at the terminating chunk.
    pub fn decode(&mut self, reader: &mut Reader, out: &mut Vec<u8>) -> Result<bool> {
        loop {
            if self.remaining > 0 {
                let pending = reader.pending();
                let n = pending.len().min(self.remaining);
                if n == 0 {
                    return Ok(false);
                }
                out.extend_from_slice(&pending[..n]);
                reader.consume(n);
                self.remaining -= n;
                if self.remaining > 0 {
                    return Ok(false);
                }
                self.after_data = true;
            }
            if self.after_data {
                if reader.pending().len() < 2 {
                    return Ok(false);
                }
                reader.consume(2);
                self.after_data = false;
            }
            if self.last {
                if reader.pending().len() < 2 {
                    return Ok(false);
                }
                reader.consume(2);
                return Ok(true);
            }
            let Some(end) = find(reader.pending(), b"\r\n") else {
                return Ok(false);
            };
            let line = std::str::from_utf8(&reader.pending()[..end]).unwrap_or_default();
            let size = line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16)
                .with_context(|| format!("bad chunk size line {line:?}"))?;
            reader.consume(end + 2);
            if size == 0 {
                self.last = true;
            }
            self.remaining = size;
        }
    }
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One keep-alive connection for `POST /publish`.
pub struct Publisher {
    stream: TcpStream,
    reader: Reader,
    host: String,
    credential: String,
}

impl Publisher {
    pub async fn connect(target: &Target) -> Result<Self> {
        Ok(Self {
            stream: connect(target, Ipv4Addr::LOCALHOST).await?,
            reader: Reader::new(),
            host: target.host.clone(),
            credential: target.credential.clone(),
        })
    }

    /// Publishes `body` (a JSON object); returns the status.
    pub async fn publish(&mut self, body: &str) -> Result<u16> {
        let request = format!(
            "POST /publish HTTP/1.1\r\nHost: {}\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            self.credential,
            body.len()
        );
        self.stream.write_all(request.as_bytes()).await?;
        let head = self.reader.read_head(&mut self.stream).await?;
        self.reader.read_body(&mut self.stream, &head).await?;
        Ok(head.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_chunks_split_anywhere() {
        let wire = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";
        for split in 0..wire.len() - 1 {
            let mut reader = Reader::new();
            let mut chunks = Chunked::default();
            let mut out = Vec::new();
            reader.buf.extend_from_slice(&wire[..split]);
            assert!(!chunks.decode(&mut reader, &mut out).unwrap());
            reader.buf.extend_from_slice(&wire[split..]);
            assert!(chunks.decode(&mut reader, &mut out).unwrap());
            assert_eq!(out, b"hello, world", "split at {split}");
            assert!(reader.pending().is_empty());
        }
    }

    #[test]
    fn parses_a_response_head() {
        let head =
            parse_head(b"HTTP/1.1 304 Not Modified\r\nETag: \"42\"\r\ncontent-length: 0").unwrap();
        assert_eq!(head.status, 304);
        assert_eq!(head.content_length, Some(0));
        assert_eq!(head.etag.as_deref(), Some("\"42\""));
        assert!(!head.chunked);
    }
}

//! A write deadline for the connections hyper serves.
//!
//! hyper writes a response as fast as the socket takes it and waits without limit when
//! it takes nothing: a client that stops reading would hold its connection, and what
//! hyper buffered for it, for ever. [`WriteDeadline`] fails a write that has made no
//! progress for [`WRITE_STALL`], which ends the connection; the client resumes when it
//! comes back. The timer exists only while a write is stalled, so an idle connection
//! pays one pointer for it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

/// A client that accepts no bytes for this long is cut (it resumes when it comes back).
pub const WRITE_STALL: Duration = Duration::from_secs(30);

/// A `TcpStream` whose writes fail after [`WRITE_STALL`] without progress.
pub struct WriteDeadline {
    stream: TcpStream,
    /// Started when a write found the socket full; cleared by any progress.
    stalled: Option<Pin<Box<Sleep>>>,
    /// [`WRITE_STALL`], shorter in tests.
    stall: Duration,
}

impl WriteDeadline {
    pub fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            stalled: None,
            stall: WRITE_STALL,
        }
    }

    /// The socket, for a connection that leaves hyper (a WebSocket upgrade).
    pub fn into_inner(self) -> TcpStream {
        self.stream
    }

    /// Turns a write's result into progress (clearing the timer) or a wait that ends
    /// in an error once the timer fires.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        written: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if written.is_ready() {
            self.stalled = None;
            return written;
        }
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(self.stall)));
        ready!(stalled.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("the client accepted no bytes for {:?}", self.stall),
        )))
    }
}

impl AsyncRead for WriteDeadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteDeadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.watch(cx, written)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.watch(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::time::Instant;

    use tokio::net::TcpListener;

    use super::*;

    #[tokio::test]
    async fn a_write_the_client_never_reads_fails_after_the_stall() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let stall = Duration::from_millis(300);
        let mut server = WriteDeadline {
            stall,
            ..WriteDeadline::new(server)
        };
        // The client reads nothing: the socket buffers fill, then a write waits.
        let chunk = vec![0; 64 * 1024];
        let mut written = 0;
        let mut stalled_at = Instant::now();
        let error = loop {
            match poll_fn(|cx| Pin::new(&mut server).poll_write(cx, &chunk)).await {
                Ok(n) => {
                    written += n;
                    stalled_at = Instant::now();
                }
                Err(e) => break e,
            }
        };
        let waited = stalled_at.elapsed();
        println!("{written} bytes taken, then a write failed after {waited:?}");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(waited >= stall, "failed after {waited:?}, before the stall");
        drop(client);
    }
}

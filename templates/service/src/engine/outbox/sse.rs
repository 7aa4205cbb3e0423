//! A connection's bounded queue of messages.
//!
//! The hub queues each message for every subscriber of its channel while it holds its
//! lock, so every queue receives messages in id order. A connection that falls
//! `capacity` messages behind is a slow consumer: its queue is closed, the transport
//! ends the connection after what is queued, and the client resumes from history.
//!
//! An event stream served on the socket itself ([`crate::engine::direct`]) attaches its socket
//! to its queue once its first chunk is written. From then on the fan-out writes each
//! message to that socket right after the hub releases its lock: one `write` per
//! subscriber and no task to wake, schedule and poll, which is most of what a delivery
//! otherwise costs in user space. The stream's own task only steps in when a socket is
//! full ([`Outbox::poll_stream`]). Whoever writes holds the queue's lock and writes
//! from its front, so concurrent fan-outs never reorder or interleave a stream.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use tokio::net::TcpStream;

use crate::engine::events::{Delivery, Events};
use crate::message::Message;

mod replay;

use replay::Replayed;

pub struct Outbox {
    /// Messages queued at most (`QUEUE_LEN`).
    capacity: usize,
    /// Encoded bytes queued at most (`QUEUE_BYTES`): a few large messages fill a queue
    /// as surely as many small ones.
    max_bytes: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Arc<Message>>,
    /// Encoded bytes in `queue`.
    bytes: usize,
    /// No more messages will come: the hub dropped this subscriber, or a write
    /// to its socket failed.
    closed: bool,
    /// The connection's task, waiting for messages (or, with a socket attached, for
    /// something only it can handle).
    waker: Option<Waker>,
    /// What a replay already sent, where live copies can follow it.
    replayed: Replayed,
    /// The connection's socket while the fan-out may write to it.
    socket: Option<Arc<TcpStream>>,
    /// The rest of a write the socket did not take whole. Everything else waits until
    /// it is sent.
    unsent: Option<Bytes>,
    /// Something was written since [`Outbox::take_written`] last looked.
    written: bool,
}

impl Outbox {
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        Self {
            capacity,
            max_bytes,
            state: Mutex::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every update completes before the guard is released, so the state stays
        // consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Closes the queue: the connection takes what is queued, then ends.
    pub fn close(&self) {
        let mut state = self.state();
        state.closed = true;
        // Nothing more is written from outside; the socket closes with its task.
        state.socket = None;
        state.wake();
    }

    /// Moves up to `limit` queued messages into `batch`, so a transport can write them
    /// with one syscall. `Pending` schedules a wake-up for the next message; `false`
    /// once the queue is closed and empty.
    pub fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        batch: &mut Vec<Arc<Message>>,
        limit: usize,
    ) -> Poll<bool> {
        let mut state = self.state();
        if state.take(batch, limit) > 0 {
            return Poll::Ready(true);
        }
        if state.closed {
            return Poll::Ready(false);
        }
        state.register(cx);
        Poll::Pending
    }
}

impl State {
    fn register(&mut self, cx: &Context<'_>) {
        if !self
            .waker
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            self.waker = Some(cx.waker().clone());
        }
    }

    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    /// Moves up to `limit` messages into `batch`; returns how many.
    fn take(&mut self, batch: &mut Vec<Arc<Message>>, limit: usize) -> usize {
        let start = batch.len();
        while batch.len() - start < limit {
            let Some(message) = self.next() else {
                break;
            };
            batch.push(message);
        }
        batch.len() - start
    }

    /// The next message to send, skipping repeats of a replay (see [`replay`]).
    fn next(&mut self) -> Option<Arc<Message>> {
        while let Some(message) = self.queue.pop_front() {
            self.bytes -= message.wire.len();
            if !self.replayed.is_repeat(&message) {
                return Some(message);
            }
        }
        None
    }
}

/// One message's fan-out: [`push`](Fanout::push) for every subscriber while holding the
/// hub's lock, then [`finish`](Fanout::finish) after releasing it.
///
/// With a write delay ([`Limits::write_delay`](crate::hub::Limits::write_delay)) the
/// message is handed on only once the delay has passed. Messages published meanwhile
/// join the same queues, and each connection sends them all in one write: fewer
/// syscalls per message, for up to that much latency. A queue that already holds a
/// message is due with it, so every connection writes at most once per delay. (What
/// queued while a connection was starting leaves with its first write, sooner.)
pub struct Fanout {
    delay: Duration,
    events: Arc<dyn Events>,
    /// Subscribers cut as too slow by this fan-out.
    cut: usize,
    /// Connection tasks to wake once the delay has passed.
    wake: Vec<Waker>,
    /// Outboxes with an attached socket that this fan-out must write to.
    due: Vec<Arc<Outbox>>,
}

impl Fanout {
    pub fn new(delay: Duration, events: Arc<dyn Events>) -> Self {
        Self {
            delay,
            events,
            cut: 0,
            wake: Vec::new(),
            due: Vec::new(),
        }
    }

    /// Queues `message` in `outbox`. `false` when the queue was full: it is closed now,
    /// and the hub drops the subscriber.
    pub fn push(&mut self, outbox: &Arc<Outbox>, message: &Arc<Message>) -> bool {
        let mut state = outbox.state();
        if state.closed {
            return true;
        }
        if state.queue.len() >= outbox.capacity
            || state.bytes + message.wire.len() > outbox.max_bytes
        {
            drop(state);
            outbox.close();
            self.cut += 1;
            return false;
        }
        state.bytes += message.wire.len();
        state.queue.push_back(Arc::clone(message));
        if state.socket.is_some() {
            // An empty queue means no fan-out is about to write to this socket and its
            // task is not waiting for room: this one writes. Otherwise the message
            // leaves with the ones ahead of it.
            if state.queue.len() == 1 && state.unsent.is_none() {
                drop(state);
                self.due.push(Arc::clone(outbox));
            }
            return true;
        }
        if self.delay.is_zero() {
            state.wake();
        } else if let Some(waker) = state.waker.take() {
            self.wake.push(waker);
        }
        true
    }

    /// Hands the message on: at once, or from a timer task once the delay has passed.
    pub fn finish(mut self) {
        if self.cut > 0 {
            self.events
                .slow_consumers_cut(std::mem::take(&mut self.cut));
        }
        if self.delay.is_zero() {
            self.hand_on();
        } else if !self.is_empty() {
            tokio::spawn(async move {
                tokio::time::sleep(self.delay).await;
                self.hand_on();
            });
        }
    }

    fn is_empty(&self) -> bool {
        self.wake.is_empty() && self.due.is_empty()
    }

    /// Wakes the waiting tasks and writes to the attached sockets. The writes are split
    /// into tasks of [`WRITES_PER_TASK`] sockets, so a fan-out to thousands spreads over
    /// the runtime's workers and never holds one for long.
    fn hand_on(self) {
        /// About a millisecond of `write`s.
        const WRITES_PER_TASK: usize = 256;
        for waker in self.wake {
            waker.wake();
        }
        let mut due = self.due;
        while !due.is_empty() {
            let rest = due.split_off(due.len().min(WRITES_PER_TASK));
            let part = std::mem::replace(&mut due, rest);
            let events = Arc::clone(&self.events);
            tokio::spawn(async move {
                // One report per task, not one per socket.
                let mut delivered = Delivery::default();
                for outbox in part {
                    delivered += outbox.flush();
                }
                if !delivered.is_empty() {
                    events.delivered(delivered);
                }
            });
        }
    }
}

/// What a stream's task must do, from [`Outbox::poll_stream`].
pub enum StreamStep {
    /// The socket is full: wait until it has room, then [`Outbox::flush`].
    Stalled,
    /// The queue is closed (the client fell behind, or a write failed): end the stream.
    Closed,
}

impl Outbox {
    /// Writes `first` (the head and the replay, sent before any live message) and from
    /// then on lets the fan-out write to `socket` itself. A queue closed meanwhile
    /// still sends what it holds; [`poll_stream`](Self::poll_stream) then ends the
    /// stream. Returns the queued messages written after `first`.
    pub fn attach(&self, socket: Arc<TcpStream>, first: Bytes) -> Delivery {
        let mut state = self.state();
        state.unsent = (!first.is_empty()).then_some(first);
        state.socket = Some(socket);
        let delivered = state.write_queued();
        if state.closed {
            state.socket = None;
        }
        delivered
    }

    /// Writes queued messages to the attached socket until none are left or the socket
    /// is full. Returns the messages taken from the queue for it.
    pub fn flush(&self) -> Delivery {
        self.state().write_queued()
    }

    /// Writes `bytes` (a keep-alive comment) unless something else is on its way.
    pub fn write_idle(&self, bytes: Bytes) {
        let mut state = self.state();
        if state.queue.is_empty() && state.unsent.is_none() {
            state.unsent = Some(bytes);
            state.write_queued();
        }
    }

    /// Closes the queue and lets go of the socket, for a stream that ends now (its
    /// token expired): queued messages are dropped, as the client resumes from its last
    /// id. Returns the rest of a write the socket did not take whole, which must go
    /// out before anything else.
    pub fn close_taking_unsent(&self) -> Option<Bytes> {
        let mut state = self.state();
        state.closed = true;
        state.socket = None;
        state.queue.clear();
        state.bytes = 0;
        state.unsent.take()
    }

    /// Whether anything was written since the last call.
    pub fn take_written(&self) -> bool {
        std::mem::take(&mut self.state().written)
    }

    /// Ready when the stream's task has to act; otherwise it is woken when it has to.
    pub fn poll_stream(&self, cx: &mut Context<'_>) -> Poll<StreamStep> {
        let mut state = self.state();
        if state.closed {
            return Poll::Ready(StreamStep::Closed);
        }
        if state.unsent.is_some() {
            return Poll::Ready(StreamStep::Stalled);
        }
        state.register(cx);
        Poll::Pending
    }
}

impl State {
    /// Writes to the attached socket, if any: see [`write_to`](Self::write_to). A
    /// write error closes the queue. Returns the messages taken from the queue.
    fn write_queued(&mut self) -> Delivery {
        let mut delivered = Delivery::default();
        let Some(socket) = self.socket.take() else {
            return delivered;
        };
        match self.write_to(&socket, true, &mut delivered) {
            Ok(()) => self.socket = Some(socket),
            Err(e) => {
                tracing::debug!("event stream ended: {e}");
                self.closed = true;
                self.wake();
            }
        }
        delivered
    }

    /// Writes what is unsent, then, with `queued`, queued messages, up to [`BATCH`] per
    /// `write`, until everything is written or the socket is full. Messages taken from
    /// the queue count in `delivered` once handed to the socket, the rest of a partial
    /// write included: it leaves before anything else does.
    fn write_to(
        &mut self,
        socket: &TcpStream,
        queued: bool,
        delivered: &mut Delivery,
    ) -> io::Result<()> {
        loop {
            let bytes = match self.unsent.take() {
                Some(bytes) => bytes,
                None if queued => match self.chunk() {
                    Some((bytes, messages, oldest)) => {
                        *delivered += Delivery::one_write(messages, bytes.len()).live_since(oldest);
                        bytes
                    }
                    None => return Ok(()),
                },
                None => return Ok(()),
            };
            match socket.try_write(&bytes) {
                Ok(written) => {
                    self.written = true;
                    if written < bytes.len() {
                        self.stall(bytes.slice(written..));
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.stall(bytes);
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Up to [`BATCH`] queued messages as one chunk, how many, and when the first (the
    /// oldest) reached this instance. A lone message, the usual case unless messages
    /// queue up, is the hub's encoded bytes without a copy.
    fn chunk(&mut self) -> Option<(Bytes, usize, Instant)> {
        let first = self.next()?;
        let Some(second) = self.next() else {
            return Some((first.wire.clone(), 1, first.received));
        };
        let oldest = first.received;
        let mut batch = vec![first, second];
        self.take(&mut batch, BATCH - 2);
        Some((concat(&batch), batch.len(), oldest))
    }

    /// Keeps `unsent` for the connection's task, which waits until the socket has room.
    fn stall(&mut self, unsent: Bytes) {
        self.unsent = Some(unsent);
        self.wake();
    }
}

/// Messages written per chunk: queued messages leave in one write instead of one each.
pub const BATCH: usize = 64;

/// The messages' encoded bytes, back to back: events need no other separator.
/// A lone message, the usual case unless messages queue up, is its bytes without a copy.
pub fn concat(messages: &[Arc<Message>]) -> Bytes {
    if let [message] = messages {
        return message.wire.clone();
    }
    let mut chunk = BytesMut::with_capacity(messages.iter().map(|m| m.wire.len()).sum());
    for message in messages {
        chunk.put_slice(&message.wire);
    }
    chunk.freeze()
}

#[cfg(test)]
mod tests {
    use std::task::{Context, Poll, Waker};
    use std::time::Instant;

    use bytes::Bytes;

    use super::*;
    use crate::channel::ChannelName;
    use crate::engine::events::tests::Counted;
    use crate::id::Id;

    fn events() -> Arc<dyn Events> {
        Arc::new(Counted::default())
    }

    pub(super) fn message(channel: &str, id: u64) -> Arc<Message> {
        message_with(channel, id, format!("{id};"))
    }

    fn message_with(channel: &str, id: u64, wire: String) -> Arc<Message> {
        Arc::new(Message::new(
            Id(id),
            ChannelName::parse(channel).unwrap(),
            Bytes::from(wire),
        ))
    }

    /// The ids `poll_recv` hands out now, and whether the queue is still open.
    pub(super) fn receive(outbox: &Outbox) -> (Vec<u64>, bool) {
        let mut batch = Vec::new();
        let mut cx = Context::from_waker(Waker::noop());
        let open = match outbox.poll_recv(&mut cx, &mut batch, 64) {
            Poll::Ready(open) => open,
            Poll::Pending => true,
        };
        (batch.iter().map(|m| m.id.0).collect(), open)
    }

    #[test]
    fn messages_leave_in_order_and_a_full_queue_closes_after_them() {
        let outbox = Arc::new(Outbox::new(2, usize::MAX));
        let counted = Arc::new(Counted::default());
        let mut fanout = Fanout::new(Duration::ZERO, counted.clone());
        assert!(fanout.push(&outbox, &message("a", 1)));
        assert!(fanout.push(&outbox, &message("a", 2)));
        assert!(!fanout.push(&outbox, &message("a", 3)), "over capacity");
        fanout.finish();
        assert_eq!(*counted.cut.lock().unwrap(), 1, "reported once");
        assert_eq!(receive(&outbox), (vec![1, 2], true));
        assert_eq!(receive(&outbox), (vec![], false));
    }

    /// A waker that records when it was first woken.
    #[derive(Default)]
    struct Alarm {
        rang: Mutex<Option<Instant>>,
        notify: tokio::sync::Notify,
    }

    impl std::task::Wake for Alarm {
        fn wake(self: Arc<Self>) {
            self.rang.lock().unwrap().get_or_insert_with(Instant::now);
            self.notify.notify_one();
        }
    }

    #[test]
    fn a_queue_over_its_bytes_closes_whatever_its_length() {
        // Room for 100 messages but 10 bytes: five 2-byte messages fill it.
        let outbox = Arc::new(Outbox::new(100, 10));
        let mut fanout = Fanout::new(Duration::ZERO, Arc::new(Counted::default()));
        for id in 1..=5 {
            assert!(
                fanout.push(&outbox, &message("a", id)),
                "{id} fits in 10 bytes"
            );
        }
        assert!(!fanout.push(&outbox, &message("a", 6)), "over QUEUE_BYTES");
        fanout.finish();
        assert_eq!(receive(&outbox), (vec![1, 2, 3, 4, 5], true));
        assert_eq!(receive(&outbox), (vec![], false));
    }

    #[tokio::test]
    async fn a_write_delay_wakes_the_task_once_for_what_it_gathered() {
        let delay = Duration::from_millis(50);
        let outbox = Arc::new(Outbox::new(16, usize::MAX));
        let alarm = Arc::new(Alarm::default());
        let waker = Waker::from(Arc::clone(&alarm));
        let mut batch = Vec::new();
        let poll = outbox.poll_recv(&mut Context::from_waker(&waker), &mut batch, 64);
        assert!(poll.is_pending(), "nothing queued yet");
        let published = Instant::now();
        let mut fanout = Fanout::new(delay, events());
        fanout.push(&outbox, &message("a", 1));
        fanout.finish();
        let mut fanout = Fanout::new(delay, events());
        fanout.push(&outbox, &message("a", 2));
        assert!(fanout.is_empty(), "woken by the first fan-out");
        fanout.finish();
        tokio::time::timeout(Duration::from_secs(10), alarm.notify.notified())
            .await
            .expect("the task is woken");
        let rang = alarm.rang.lock().unwrap().expect("woken");
        let waited = rang - published;
        assert!(waited >= delay, "woken after {waited:?}");
        assert_eq!(receive(&outbox), (vec![1, 2], true));
    }

    /// A connected pair of loopback sockets: the server's side and the client's.
    async fn sockets() -> (Arc<TcpStream>, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = tokio::join!(client, listener.accept());
        (Arc::new(accepted.unwrap().0), client.unwrap())
    }

    /// The first `len` bytes the client receives.
    async fn read_exactly(client: &TcpStream, len: usize) -> Vec<u8> {
        let mut received = Vec::with_capacity(len);
        let read = async {
            let mut buffer = vec![0; 64 * 1024];
            while received.len() < len {
                client.readable().await.unwrap();
                match client.try_read(&mut buffer[..(len - received.len()).min(64 * 1024)]) {
                    Ok(0) => panic!("closed after {} bytes", received.len()),
                    Ok(n) => received.extend_from_slice(&buffer[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("{e}"),
                }
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(10), read)
            .await
            .expect("the bytes arrive within 10 s");
        received
    }

    #[tokio::test]
    async fn the_fanout_writes_to_an_attached_socket_after_the_first_chunk() {
        let (socket, client) = sockets().await;
        let outbox = Arc::new(Outbox::new(16, usize::MAX));
        let mut fanout = Fanout::new(Duration::ZERO, events());
        let first = message("a", 1);
        fanout.push(&outbox, &first);
        fanout.finish();
        let queued = outbox.attach(socket, Bytes::from_static(b"first;"));
        assert_eq!(
            queued,
            Delivery::one_write(1, 2).live_since(first.received),
            "the queued message, not the first chunk"
        );
        let mut fanout = Fanout::new(Duration::ZERO, events());
        fanout.push(&outbox, &message("a", 2));
        fanout.push(&outbox, &message("a", 3));
        assert_eq!(fanout.due.len(), 1, "one write for both");
        fanout.finish();
        assert_eq!(read_exactly(&client, 12).await, b"first;1;2;3;");
    }

    #[tokio::test]
    async fn a_write_delay_sends_what_it_gathered_in_one_write() {
        let delay = Duration::from_millis(50);
        let (socket, client) = sockets().await;
        let outbox = Arc::new(Outbox::new(16, usize::MAX));
        outbox.attach(socket, Bytes::from_static(b"first;"));
        assert_eq!(read_exactly(&client, 6).await, b"first;");
        let published = Instant::now();
        let mut fanout = Fanout::new(delay, events());
        fanout.push(&outbox, &message("a", 1));
        fanout.finish();
        let mut fanout = Fanout::new(delay, events());
        fanout.push(&outbox, &message("a", 2));
        assert!(fanout.is_empty(), "written by the first fan-out");
        fanout.finish();
        assert_eq!(read_exactly(&client, 4).await, b"1;2;");
        assert!(published.elapsed() >= delay);
    }

    #[tokio::test]
    async fn a_keep_alive_goes_out_only_on_a_quiet_line() {
        let (socket, client) = sockets().await;
        let outbox = Arc::new(Outbox::new(16, usize::MAX));
        outbox.attach(socket, Bytes::from_static(b"first;"));
        assert!(outbox.take_written(), "the first chunk counts");
        assert!(!outbox.take_written());
        let mut fanout = Fanout::new(Duration::ZERO, events());
        fanout.push(&outbox, &message("a", 1));
        // A message is on its way: the line is not quiet.
        outbox.write_idle(Bytes::from_static(b":;"));
        fanout.finish();
        assert_eq!(read_exactly(&client, 8).await, b"first;1;");
        assert!(outbox.take_written());
        outbox.write_idle(Bytes::from_static(b":;"));
        assert_eq!(read_exactly(&client, 2).await, b":;");
    }

    #[tokio::test]
    async fn a_full_socket_leaves_the_rest_to_the_stream_task_in_order() {
        let (socket, client) = sockets().await;
        let outbox = Arc::new(Outbox::new(1024, usize::MAX));
        outbox.attach(Arc::clone(&socket), Bytes::new());
        let mut sent = Vec::new();
        let mut fanout = Fanout::new(Duration::ZERO, events());
        let mut cx = Context::from_waker(Waker::noop());
        // Nobody reads yet: the socket buffers fill up and the write stalls.
        let mut id = 0;
        while outbox.poll_stream(&mut cx).is_pending() {
            id += 1;
            let big = message_with("a", id, format!("{id}:{};", "x".repeat(64 * 1024)));
            sent.extend_from_slice(&big.wire);
            fanout.push(&outbox, &big);
            std::mem::replace(&mut fanout, Fanout::new(Duration::ZERO, events())).finish();
            tokio::task::yield_now().await;
            assert!(id < 1000, "the socket never filled up");
        }
        // Queued behind the stalled write, not written around it.
        let last = message("a", id + 1);
        sent.extend_from_slice(&last.wire);
        let mut fanout = Fanout::new(Duration::ZERO, events());
        fanout.push(&outbox, &last);
        assert!(fanout.due.is_empty());
        let reader = tokio::spawn(async move { read_exactly(&client, sent.len()).await == sent });
        // What the stream's task does.
        while let Poll::Ready(StreamStep::Stalled) = outbox.poll_stream(&mut cx) {
            socket.writable().await.unwrap();
            outbox.flush();
        }
        assert!(reader.await.unwrap(), "every byte, in order");
    }

    #[tokio::test]
    async fn closing_to_end_hands_back_the_rest_of_a_partial_write() {
        let (socket, _client) = sockets().await;
        let outbox = Arc::new(Outbox::new(16, usize::MAX));
        // More than the socket buffers take while nobody reads.
        outbox.attach(socket, Bytes::from(vec![b'x'; 64 << 20]));
        let mut fanout = Fanout::new(Duration::ZERO, events());
        fanout.push(&outbox, &message("a", 1));
        let rest = outbox.close_taking_unsent().expect("a partial write");
        assert!(!rest.is_empty() && rest.len() < 64 << 20);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(
            outbox.poll_stream(&mut cx),
            Poll::Ready(StreamStep::Closed)
        ));
        assert!(
            fanout.push(&outbox, &message("a", 2)),
            "nothing is queued any more"
        );
        assert_eq!(receive(&outbox), (vec![], false));
    }

    #[tokio::test]
    async fn a_stalled_stream_that_falls_too_far_behind_is_closed() {
        let (socket, _client) = sockets().await;
        let outbox = Arc::new(Outbox::new(4, usize::MAX));
        outbox.attach(socket, Bytes::from(vec![b'x'; 64 << 20]));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(
            outbox.poll_stream(&mut cx),
            Poll::Ready(StreamStep::Stalled)
        ));
        let mut fanout = Fanout::new(Duration::ZERO, events());
        for id in 1..=4 {
            assert!(fanout.push(&outbox, &message("a", id)));
        }
        assert!(!fanout.push(&outbox, &message("a", 5)));
        assert!(matches!(
            outbox.poll_stream(&mut cx),
            Poll::Ready(StreamStep::Closed)
        ));
        assert!(
            outbox.state().socket.is_none(),
            "the fan-out lets go of the socket"
        );
    }
}

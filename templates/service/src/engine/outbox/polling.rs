//! A connection's bounded queue of messages.
//!
//! The hub queues each message for every subscriber of its channel while it holds its
//! lock, so every queue receives messages in id order. A connection that falls
//! `capacity` messages behind is a slow consumer: its queue is closed, the transport
//! ends the connection after what is queued, and the client resumes from history.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::engine::events::Events;
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
    /// No more messages will come: the hub dropped this subscriber.
    closed: bool,
    /// The connection's task, waiting for messages (or, with a socket attached, for
    /// something only it can handle).
    waker: Option<Waker>,
    /// What a replay already sent, where live copies can follow it.
    replayed: Replayed,
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
}

impl Fanout {
    pub fn new(delay: Duration, events: Arc<dyn Events>) -> Self {
        Self {
            delay,
            events,
            cut: 0,
            wake: Vec::new(),
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
        self.wake.is_empty()
    }

    /// Wakes the waiting tasks: this transport's connections take their messages from
    /// their queues themselves.
    fn hand_on(self) {
        for waker in self.wake {
            waker.wake();
        }
    }
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
}

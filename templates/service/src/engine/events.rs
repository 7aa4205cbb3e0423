//! What the engine reports, through one small interface: [`Events`].
//!
//! The engine calls it wherever something worth counting happens, on every path: the
//! direct socket path and hyper alike, and the fan-out's own socket writes. The
//! team's layer implements it (`src/events.rs`), so logs, metrics and a team's own
//! counters hang there and never need an edit inside the engine.
//!
//! Deliveries are reported per batch, never per message and never under the hub's
//! lock: a fan-out task that writes one message to 256 sockets reports once, with the
//! totals. Implementations run on the hot path all the same: keep them to atomic
//! counters or a disabled-by-default log line.

use std::net::SocketAddr;
use std::ops::AddAssign;
use std::sync::Arc;

use axum::http::StatusCode;

/// The engine's report of what happens. Every method is called from the engine's
/// tasks and must not block.
pub trait Events: Send + Sync + 'static {
    /// A client connection started to be served: an event stream, a held long poll,
    /// a WebSocket.
    fn connection_opened(&self, transport: Transport);
    /// A connection reported by [`connection_opened`](Self::connection_opened) ended.
    fn connection_closed(&self, transport: Transport);
    /// Messages went out, in one or more writes counted together.
    fn delivered(&self, delivery: Delivery);
    /// A fan-out closed the queues of `count` subscribers that fell too far behind;
    /// their connections end after what they hold and the clients resume.
    fn slow_consumers_cut(&self, count: usize);
    /// A client was told that history no longer covers its cursor.
    fn reset_sent(&self, transport: Transport);
    /// A request, an upgrade or a WebSocket frame was refused.
    fn refused(&self, refusal: Refusal);
    /// A message was accepted for publishing, over HTTP or a WebSocket frame.
    fn publish_accepted(&self);
}

/// The connection a request arrived on. The engine puts it in the extensions of every
/// request hyper serves, and hands it to the direct socket path with the request, so
/// that the team's layer can tell who is asking (`src/client_addr.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer {
    /// The TCP peer: the client itself, or a proxy in front of it.
    pub addr: SocketAddr,
    /// Whether the [`Gate`] admitted the connection. One it did not is served a single
    /// request through the router, which refuses it (or answers a health check), and
    /// then closed.
    pub admitted: bool,
}

/// Decides, once per accepted connection and before anything is read from it, whether
/// it is served: the team's connection caps (`src/connections.rs`).
pub trait Gate: Send + Sync + 'static {
    /// What an admitted or refused connection holds while it is open; dropping it
    /// gives the place back.
    type Place: Send + Sync + 'static;

    fn admit(&self, peer: SocketAddr) -> Admission<Self::Place>;
}

/// What a [`Gate`] decided about a new connection.
pub enum Admission<P> {
    /// Served as usual.
    Admitted(P),
    /// Over a cap: one request, answered by the router with `admitted: false` in its
    /// [`Peer`], with a short deadline for its head; then the connection is closed.
    Refused(P),
    /// Closed at once, unread: even refusing it would cost more than the gate allows.
    Dropped,
}

/// The shared handle every part of the engine reports through.
pub type SharedEvents = Arc<dyn Events>;

/// How a client receives messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    EventStream,
    LongPoll,
    ShortPoll,
    WebSocket,
}

impl Transport {
    /// A stable lowercase name, for log fields and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EventStream => "sse",
            Self::LongPoll => "long_poll",
            Self::ShortPoll => "short_poll",
            Self::WebSocket => "websocket",
        }
    }
}

/// Messages that went out together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Connections written to.
    pub connections: usize,
    /// Messages, summed over the connections.
    pub messages: usize,
    /// Bytes of those messages as encoded on the wire, without HTTP heads.
    pub bytes: usize,
}

impl Delivery {
    /// `messages` messages, `bytes` long in all, to one connection.
    pub fn one_write(messages: usize, bytes: usize) -> Self {
        Self {
            connections: 1,
            messages,
            bytes,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.messages == 0
    }
}

impl AddAssign for Delivery {
    /// Totals of two deliveries; a connection written to in both counts twice.
    fn add_assign(&mut self, other: Self) {
        self.connections += other.connections;
        self.messages += other.messages;
        self.bytes += other.bytes;
    }
}

/// Why something was refused. The same reasons on every path: an HTTP status, a
/// WebSocket `error` frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// No valid credential where one is needed (401).
    Unauthorized,
    /// A valid credential that does not grant what was asked (403).
    Forbidden,
    /// A bound was hit: too many channels, a server shutting down or short of
    /// capacity (429, 503).
    Limit,
    /// The request or frame itself is wrong (any other 4xx).
    BadRequest,
}

impl Refusal {
    /// The reason behind an error status; `None` for statuses that refuse nothing.
    pub fn of_status(status: StatusCode) -> Option<Self> {
        match status {
            StatusCode::UNAUTHORIZED => Some(Self::Unauthorized),
            StatusCode::FORBIDDEN => Some(Self::Forbidden),
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => Some(Self::Limit),
            status if status.is_client_error() => Some(Self::BadRequest),
            _ => None,
        }
    }

    /// A stable lowercase name, for log fields and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::Limit => "limit",
            Self::BadRequest => "bad_request",
        }
    }
}

/// Reports [`Events::connection_closed`] when dropped, so that every way a
/// connection ends (an error, a panic, a cancelled future) is counted once.
pub struct Open {
    events: SharedEvents,
    transport: Transport,
}

impl Open {
    /// Reports the connection opened now.
    pub fn new(events: &SharedEvents, transport: Transport) -> Self {
        events.connection_opened(transport);
        Self {
            events: Arc::clone(events),
            transport,
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.events.connection_closed(self.transport);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Records what the engine reports, for tests that check it.
    #[derive(Default)]
    pub struct Counted {
        pub open: Mutex<i64>,
        pub delivered: Mutex<Delivery>,
        pub cut: Mutex<usize>,
    }

    impl Events for Counted {
        fn connection_opened(&self, _: Transport) {
            *self.open.lock().unwrap() += 1;
        }
        fn connection_closed(&self, _: Transport) {
            *self.open.lock().unwrap() -= 1;
        }
        fn delivered(&self, delivery: Delivery) {
            *self.delivered.lock().unwrap() += delivery;
        }
        fn slow_consumers_cut(&self, count: usize) {
            *self.cut.lock().unwrap() += count;
        }
        fn reset_sent(&self, _: Transport) {}
        fn refused(&self, _: Refusal) {}
        fn publish_accepted(&self) {}
    }

    #[test]
    fn statuses_map_to_the_reasons_every_path_shares() {
        for (status, reason) in [
            (StatusCode::UNAUTHORIZED, Some(Refusal::Unauthorized)),
            (StatusCode::FORBIDDEN, Some(Refusal::Forbidden)),
            (StatusCode::SERVICE_UNAVAILABLE, Some(Refusal::Limit)),
            (StatusCode::BAD_REQUEST, Some(Refusal::BadRequest)),
            (StatusCode::PAYLOAD_TOO_LARGE, Some(Refusal::BadRequest)),
            (StatusCode::OK, None),
            (StatusCode::INTERNAL_SERVER_ERROR, None),
        ] {
            assert_eq!(Refusal::of_status(status), reason, "{status}");
        }
    }

    #[test]
    fn deliveries_add_up() {
        let counted = Counted::default();
        counted.delivered(Delivery::one_write(2, 10));
        counted.delivered(Delivery::one_write(1, 5));
        let total = *counted.delivered.lock().unwrap();
        assert_eq!(
            total,
            Delivery {
                connections: 2,
                messages: 3,
                bytes: 15
            }
        );
        assert!(!total.is_empty());
        assert!(Delivery::default().is_empty());
    }

    #[test]
    fn an_open_connection_is_reported_closed_once_when_dropped() {
        let counted = Arc::new(Counted::default());
        let events: SharedEvents = counted.clone();
        let open = Open::new(&events, Transport::WebSocket);
        assert_eq!(*counted.open.lock().unwrap(), 1);
        drop(open);
        assert_eq!(*counted.open.lock().unwrap(), 0);
    }
}

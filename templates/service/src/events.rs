//! What this service does with what the engine reports (see `engine/events.rs`).
//!
//! [`Log`]: a `trace`-level log line per event, off unless `RUST_LOG` asks for it
//! (`RUST_LOG=info,<crate name>=trace`). With `METRICS_BIND`, `metrics::Metrics`
//! counts the same events for Prometheus and logs them through `Log`. Your own
//! counters go in either: every method is called from every path, the direct socket
//! path and the fan-out's own writes included, so nothing inside `engine/` needs an
//! edit for them. Deliveries arrive per batch: keep what is done per call cheap (an
//! atomic add, not a lock).

use crate::engine::events::{Delivery, Events, Refusal, Transport};

/// Logs each event at `trace` level.
pub struct Log;

impl Events for Log {
    fn connection_opened(&self, transport: Transport) {
        tracing::trace!(transport = transport.as_str(), "connection opened");
    }

    fn connection_closed(&self, transport: Transport) {
        tracing::trace!(transport = transport.as_str(), "connection closed");
    }

    fn delivered(&self, delivery: Delivery) {
        tracing::trace!(
            connections = delivery.connections,
            messages = delivery.messages,
            bytes = delivery.bytes,
            "delivered"
        );
    }

    fn slow_consumers_cut(&self, count: usize) {
        tracing::debug!(count, "slow consumers cut");
    }

    fn reset_sent(&self, transport: Transport) {
        tracing::trace!(transport = transport.as_str(), "reset sent");
    }

    fn refused(&self, refusal: Refusal) {
        tracing::trace!(reason = refusal.as_str(), "refused");
    }

    fn publish_accepted(&self) {
        tracing::trace!("publish accepted");
    }
}

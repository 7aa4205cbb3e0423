//! The benchmark figures the sizing stands on, in one place with where they come from.
//!
//! Every figure is a measurement of the generated services by this project's own benchmark
//! (`bench/`, one full run: [`MEASURED`]). `bench/run` ends by printing this block from the
//! run's `results.json` (`bench/sizing_figures.py`); the block below changes only by pasting
//! that output here in a reviewed commit, never as a side effect of a run.
//! `tests/sizing_figures.rs` recomputes the block from the committed `results.json`, and
//! the sizing table in `tests/advise_table.rs` shows what new figures change.
//!
//! What stands for what:
//! - `idle_kib_per_connection`: S1, server RSS per idle connection at 10,000 connections.
//!   Short polling has no S1 case: its clients are counted at the held-poll (long-polling)
//!   figure of the same accept loop, a stand-in until S1 measures them. Kernel socket
//!   buffers are not in RSS (bench/README.md), which the 50% headroom leaves room for.
//! - `cpu`: server CPU (user + system) per delivery in S2 at 10,000 subscribers, the costlier
//!   of 1 and 10 msg/s (fewer messages batch less, so each costs more); for short polling,
//!   per poll request (S2, 1,000 clients), since a poll costs the same with or without news.
//! - `redis_cpu_us_per_delivery`: the Redis hop, S4 (two instances through Redis) at 10,000
//!   subscribers, per delivery; `None` where S4 has no case (polling). The sizing charges
//!   the larger of this and `cpu` once there is more than one instance.

use crate::answers::Strategy;

/// The benchmark run the figures come from.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// Short commit hash the run measured.
    pub commit: &'static str,
    pub date: &'static str,
    pub machine: &'static str,
    /// `BENCH_SCALE` of the run.
    pub scale: &'static str,
    /// The largest number of connections one generated service held in the run (S1). The
    /// sizing plans no instance beyond it: past it the figures would be extrapolated, and
    /// per-delivery costs grow once sockets' state no longer stays in cache (bench/README.md).
    pub most_connections: u32,
}

/// What the server spends CPU on under load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cpu {
    /// Microseconds per message delivered to one client.
    PerDelivery(f64),
    /// Microseconds per poll request (short polling: clients ask whether or not there is news).
    PerRequest(f64),
}

/// One strategy's measured costs.
#[derive(Debug, Clone, Copy)]
pub struct Figures {
    pub strategy: Strategy,
    pub idle_kib_per_connection: f64,
    pub cpu: Cpu,
    pub redis_cpu_us_per_delivery: Option<f64>,
}

/// The figures of `strategy`.
pub fn of(strategy: Strategy) -> &'static Figures {
    FIGURES
        .iter()
        .find(|f| f.strategy == strategy)
        .expect("FIGURES has one entry per strategy (tested)")
}

// BEGIN figures printed by bench/sizing_figures.py
pub const MEASURED: Measured = Measured {
    commit: "edc61ed",
    date: "2026-12-05",
    machine: "Intel(R) Xeon(R) Processor, 2 cores",
    scale: "full",
    most_connections: 15_000,
};

pub const FIGURES: [Figures; 4] = [
    Figures {
        strategy: Strategy::ShortPolling,
        idle_kib_per_connection: 4.7,
        cpu: Cpu::PerRequest(27.3),
        redis_cpu_us_per_delivery: None,
    },
    Figures {
        strategy: Strategy::LongPolling,
        idle_kib_per_connection: 4.7,
        cpu: Cpu::PerDelivery(18.4),
        redis_cpu_us_per_delivery: None,
    },
    Figures {
        strategy: Strategy::Sse,
        idle_kib_per_connection: 5.0,
        cpu: Cpu::PerDelivery(6.3),
        redis_cpu_us_per_delivery: Some(6.1),
    },
    Figures {
        strategy: Strategy::Websocket,
        idle_kib_per_connection: 5.2,
        cpu: Cpu::PerDelivery(6.4),
        redis_cpu_us_per_delivery: Some(6.2),
    },
];
// END figures printed by bench/sizing_figures.py

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::Named;

    #[test]
    fn one_entry_per_strategy_with_positive_costs() {
        for &strategy in Strategy::ALL {
            let entries = FIGURES.iter().filter(|f| f.strategy == strategy).count();
            assert_eq!(entries, 1, "{strategy}");
            let figures = of(strategy);
            assert!(figures.idle_kib_per_connection > 0.0, "{strategy}");
            let (Cpu::PerDelivery(us) | Cpu::PerRequest(us)) = figures.cpu;
            assert!(us > 0.0, "{strategy}");
            assert_eq!(
                matches!(figures.cpu, Cpu::PerRequest(_)),
                strategy == Strategy::ShortPolling,
                "only short polling costs per request"
            );
        }
    }
}

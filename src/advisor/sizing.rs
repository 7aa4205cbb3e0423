//! Sizing: from the peak load a team knows (connections, messages per second, audience of a
//! message) to the instances that carry it, using the benchmark's figures
//! ([`figures`](super::figures)). Pure arithmetic, no I/O.
//!
//! The model, per instance of [`INSTANCE_CORES`] cores and [`INSTANCE_MEMORY_GIB`] GiB:
//! - deliveries/s = messages/s x subscribers per message (never more subscribers than
//!   connections);
//! - CPU = deliveries/s x CPU per delivery (short polling: poll requests/s x CPU per
//!   request, every client polling once per interval), at most [`HEADROOM`] of the cores;
//! - memory for the connections = connections x KiB per idle connection, at most
//!   [`HEADROOM`] of the memory;
//! - no instance holds more connections than the benchmark measured one holding;
//! - more than one instance means Redis fan-out: every publish goes through Redis once, and
//!   a delivery costs the larger of the in-memory and the through-Redis figure.
//!
//! More load never needs fewer instances: every term grows with each answer.

use serde::Serialize;

use super::figures::{self, Cpu, MEASURED};
use crate::answers::keys::SERVERS_MAX;
use crate::answers::{Freshness, Load, Strategy};
use crate::generate::context::poll_interval_ms;
use crate::notes;

/// The instance the sizing plans for: the benchmark machine's core count.
pub const INSTANCE_CORES: u32 = 2;
/// Memory of that instance (a common 2-core cloud size).
pub const INSTANCE_MEMORY_GIB: u32 = 4;
/// The share of an instance's cores, and of its memory, the planned load may use: the rest
/// absorbs bursts, deploys that drain one instance onto the others, and costs the benchmark
/// does not see (kernel socket buffers, TLS, the team's own handlers).
pub const HEADROOM: f64 = 0.5;

/// How many instances carry the load, and what each of them does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sizing {
    pub instances: u32,
    pub connections_per_instance: u32,
    pub deliveries_per_second: f64,
    pub memory_mib_per_instance: f64,
    pub cpu_cores_per_instance: f64,
    /// Publishes Redis relays per second; `None` with one instance (no Redis).
    pub redis_publishes_per_second: Option<f64>,
    /// Where the figures come from and the instance they assume, in one sentence.
    pub basis: String,
    /// What set the number of instances.
    #[serde(skip)]
    pub limit: Limit,
    /// The instances the load needs, even beyond [`max_instances`] (then `instances` is capped).
    #[serde(skip)]
    pub needed: u64,
    /// Short polling: poll requests per second, all instances together.
    #[serde(skip)]
    pub requests_per_second: Option<f64>,
    /// CPU of all instances together, in cores.
    #[serde(skip)]
    pub cpu_cores_total: f64,
}

/// What set the number of instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// One instance carries everything with room to spare.
    None,
    Cpu,
    Memory,
    /// The most connections the benchmark measured one instance holding.
    Measured,
}

/// Sizes a deployment of `strategy` for `load`; `freshness` sets short polling's interval.
pub fn size(load: Load, strategy: Strategy, freshness: Freshness) -> Sizing {
    let figures = figures::of(strategy);
    let connections = f64::from(load.connections);
    let audience = load.subscribers_per_message.min(load.connections);
    let messages = load.messages_per_second.get();
    let deliveries = messages * f64::from(audience);
    let requests = match figures.cpu {
        Cpu::PerRequest(_) => Some(connections * 1000.0 / f64::from(poll_interval_ms(freshness))),
        Cpu::PerDelivery(_) => None,
    };
    // CPU of all instances together, in µs per second, with the per-delivery cost of one
    // instance or of several fed through Redis.
    let cpu_us = |through_redis: bool| match figures.cpu {
        Cpu::PerRequest(us) => requests.unwrap_or_default() * us,
        Cpu::PerDelivery(us) => {
            let redis = figures.redis_cpu_us_per_delivery.filter(|_| through_redis);
            deliveries * redis.map_or(us, |redis| redis.max(us))
        }
    };
    let cpu_budget = f64::from(INSTANCE_CORES) * HEADROOM * 1e6;
    let memory_budget_kib = f64::from(INSTANCE_MEMORY_GIB) * 1024.0 * 1024.0 * HEADROOM;
    let by_cpu = |through_redis| ceil(cpu_us(through_redis) / cpu_budget);
    let by_memory = ceil(connections * figures.idle_kib_per_connection / memory_budget_kib);
    let by_measured = ceil(connections / f64::from(MEASURED.most_connections));

    let mut needed = 1;
    let mut limit = Limit::None;
    for (count, reason) in [
        (by_cpu(false), Limit::Cpu),
        (by_memory, Limit::Memory),
        (by_measured, Limit::Measured),
    ] {
        if count > needed {
            (needed, limit) = (count, reason);
        }
    }
    if needed > 1 && by_cpu(true) > needed {
        (needed, limit) = (by_cpu(true), Limit::Cpu);
    }
    let instances = u32::try_from(needed.min(max_instances())).unwrap_or(u32::MAX);
    let per_instance = f64::from(instances);
    let connections_per_instance = load.connections.div_ceil(instances);
    let cpu_total = cpu_us(instances > 1) / 1e6;
    Sizing {
        instances,
        connections_per_instance,
        deliveries_per_second: round(deliveries, 1),
        memory_mib_per_instance: round(
            f64::from(connections_per_instance) * figures.idle_kib_per_connection / 1024.0,
            1,
        ),
        cpu_cores_per_instance: round(cpu_total / per_instance, 3),
        redis_publishes_per_second: (instances > 1).then_some(messages),
        basis: basis(strategy),
        limit,
        needed,
        requests_per_second: requests,
        cpu_cores_total: cpu_total,
    }
}

/// Where the figures come from, with the strategy's own figures.
fn basis(strategy: Strategy) -> String {
    let figures = figures::of(strategy);
    let cpu = match figures.cpu {
        Cpu::PerDelivery(us) => format!(
            "{us} µs CPU per delivery{}",
            figures
                .redis_cpu_us_per_delivery
                .map_or(String::new(), |redis| format!(" ({redis} through Redis)"))
        ),
        Cpu::PerRequest(us) => format!("{us} µs CPU per poll request"),
    };
    format!(
        "{} figures from rtgen's benchmark (bench/, commit {}, {} run on {}, {}): {} KiB per idle \
         connection, {cpu}; instances of {INSTANCE_CORES} cores and {INSTANCE_MEMORY_GIB} GiB, at \
         most {:.0}% of either in use, at most {} connections each (the most the benchmark measured)",
        notes::of(strategy).title,
        MEASURED.commit,
        MEASURED.scale,
        MEASURED.machine,
        MEASURED.date,
        figures.idle_kib_per_connection,
        HEADROOM * 100.0,
        thousands(u64::from(MEASURED.most_connections)),
    )
}

/// The sizing as rows of (what, how much), for the text report and the generated docs.
pub fn table(sizing: &Sizing) -> Vec<(&'static str, String)> {
    let mut rows = vec![
        ("instances", thousands(u64::from(sizing.instances))),
        (
            "connections per instance",
            thousands(u64::from(sizing.connections_per_instance)),
        ),
        ("deliveries/s", number(sizing.deliveries_per_second)),
        (
            "memory per instance",
            format!("{} MiB", decimal(sizing.memory_mib_per_instance)),
        ),
        (
            "CPU per instance",
            format!(
                "{} cores (of {INSTANCE_CORES})",
                decimal(sizing.cpu_cores_per_instance)
            ),
        ),
    ];
    if let Some(publishes) = sizing.redis_publishes_per_second {
        rows.push(("Redis publishes/s", number(publishes)));
    }
    rows
}

/// The load as answered, for prose: `200,000 connections, 100 messages/s, 1,000 subscribers
/// per message`.
pub fn describe_load(load: Load) -> String {
    format!(
        "{} connections, {} messages/s, {} subscriber{} per message",
        thousands(u64::from(load.connections)),
        number(load.messages_per_second.get()),
        thousands(u64::from(load.subscribers_per_message)),
        if load.subscribers_per_message == 1 {
            ""
        } else {
            "s"
        },
    )
}

/// The sizing as a sentence for the reasons: the load, what it costs, what that needs.
/// With `decides` the sentence ends with the fan-out it leads to; without (an explicit
/// `scale.servers` decided that) it ends with the instances the load needs.
pub fn reason(sizing: &Sizing, load: Load, decides: bool) -> String {
    let mut text = format!(
        "Sizing: {} connections and {} msg/s to {} subscriber{} each make {} deliveries/s",
        thousands(u64::from(load.connections)),
        number(load.messages_per_second.get()),
        thousands(u64::from(load.subscribers_per_message)),
        if load.subscribers_per_message == 1 {
            ""
        } else {
            "s"
        },
        number(sizing.deliveries_per_second),
    );
    if let Some(requests) = sizing.requests_per_second {
        text.push_str(&format!(" and {} poll requests/s", number(requests)));
    }
    let total_memory = sizing.memory_mib_per_instance * f64::from(sizing.instances);
    text.push_str(&format!(
        ", about {} cores of CPU and {} MiB for the connections",
        decimal(sizing.cpu_cores_total),
        number(total_memory.round()),
    ));
    let instance = format!("{INSTANCE_CORES}-core, {INSTANCE_MEMORY_GIB} GiB instance");
    let share = format!("{:.0}%", HEADROOM * 100.0);
    text.push_str(&match sizing.limit {
        Limit::None => format!(
            ": one {instance} carries that with its CPU and memory under {share}"
        ),
        Limit::Cpu => format!(
            ": keeping each {instance} under {share} CPU takes {} instances",
            sizing.needed
        ),
        Limit::Memory => format!(
            ": keeping each {instance} under {share} memory takes {} instances",
            sizing.needed
        ),
        Limit::Measured => format!(
            ": at most {} connections per instance (the most the benchmark measured one holding) takes {} instances",
            thousands(u64::from(MEASURED.most_connections)),
            sizing.needed
        ),
    });
    text.push_str(&match (decides, sizing.instances > 1) {
        (false, _) => ".".to_string(),
        (true, false) => ", so messages fan out in memory.".to_string(),
        (true, true) => format!(
            ", and a message published on one instance must reach subscribers held by the others, so \
             the instances share messages through Redis pub/sub ({} publishes/s through Redis).",
            number(load.messages_per_second.get())
        ),
    });
    text
}

/// `scale.servers`' upper bound: the most instances the sizing plans.
pub fn max_instances() -> u64 {
    SERVERS_MAX.unsigned_abs()
}

fn ceil(value: f64) -> u64 {
    // Saturating: the largest loads the keys allow stay far below u64::MAX instances.
    value.ceil() as u64
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

/// A figure for prose: whole numbers with thousands separators, small ones with decimals.
pub fn number(value: f64) -> String {
    if value >= 100.0 || value.fract() == 0.0 {
        thousands(value.round() as u64)
    } else {
        decimal(value)
    }
}

/// Two significant digits for small values, without trailing zeros (0.0012, 0.92, 0.001).
pub fn decimal(value: f64) -> String {
    if value >= 10.0 {
        return format!("{value:.0}");
    }
    if value == 0.0 {
        return "0".into();
    }
    let digits = (2 - value.log10().floor() as i32 - 1).clamp(1, 6) as usize;
    let text = format!("{value:.digits$}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `1234567` -> `1,234,567`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(200_000), "200,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(decimal(0.00092), "0.00092");
        assert_eq!(decimal(0.92), "0.92");
        assert_eq!(decimal(1.5), "1.5");
        assert_eq!(number(100_000.0), "100,000");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(decimal(0.001), "0.001");
        assert_eq!(decimal(2.0), "2");
    }
}

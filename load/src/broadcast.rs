//! Open-loop publishing and measured broadcast phases.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::fleet::Fleet;
use crate::http::{Publisher, Target};
use crate::stats::new_histogram;
use crate::sys::{CpuSample, cpu_seconds, monotonic_ns};

/// Publishes `count` messages at `rate` per second on a fixed schedule: a slow answer
/// never delays the next publish (open loop), it just takes another connection.
/// Each payload carries its sequence number and the `CLOCK_MONOTONIC` time at which
/// it was written to the socket.
pub struct Outcome {
    /// Indexed by `seq - base`: whether the server accepted the publish.
    pub ok: Vec<bool>,
    pub errors: Vec<String>,
    pub connections: usize,
    pub elapsed: Duration,
}

pub async fn publish(
    target: &Target,
    channel: &str,
    base: u64,
    rate: f64,
    count: u64,
    pad: &str,
) -> Outcome {
    let pool: Rc<RefCell<Vec<Publisher>>> = Rc::default();
    let ok = Rc::new(RefCell::new(vec![false; count as usize]));
    let errors: Rc<RefCell<Vec<String>>> = Rc::default();
    let opened = Rc::new(RefCell::new(0usize));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(count as usize);
    for i in 0..count {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        let (pool, ok, errors, opened) = (
            Rc::clone(&pool),
            Rc::clone(&ok),
            Rc::clone(&errors),
            Rc::clone(&opened),
        );
        let (target, channel, pad) = (target.clone(), channel.to_owned(), pad.to_owned());
        tasks.push(tokio::task::spawn_local(async move {
            let conn = pool.borrow_mut().pop();
            let mut conn = match conn {
                Some(conn) => conn,
                None => match Publisher::connect(&target).await {
                    Ok(conn) => {
                        *opened.borrow_mut() += 1;
                        conn
                    }
                    Err(e) => {
                        errors.borrow_mut().push(format!("connect: {e:#}"));
                        return;
                    }
                },
            };
            let body = format!(
                r#"{{"channel":"{channel}","data":{{"seq":{},"t":{}{pad}}}}}"#,
                base + i,
                monotonic_ns()
            );
            match conn.publish(&body).await {
                Ok(200) => {
                    ok.borrow_mut()[i as usize] = true;
                    pool.borrow_mut().push(conn);
                }
                Ok(status) => {
                    errors
                        .borrow_mut()
                        .push(format!("POST /publish answered {status}"));
                    pool.borrow_mut().push(conn);
                }
                Err(e) => errors.borrow_mut().push(format!("publish: {e:#}")),
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = start.elapsed();
    let connections = *opened.borrow();
    let ok = ok.borrow().clone();
    let errors = errors.borrow().clone();
    Outcome {
        ok,
        errors,
        connections,
        elapsed,
    }
}

pub fn padding(bytes: usize) -> String {
    if bytes == 0 {
        String::new()
    } else {
        format!(r#","pad":"{}""#, "x".repeat(bytes))
    }
}

/// Sequence numbers handed out so far; every phase continues from here.
pub struct Sequencer(pub u64);

/// Publishes until every subscriber has received a message, which proves all
/// subscriptions (including held polls) are live before anything is measured.
pub async fn warm_up(
    fleet: &Fleet,
    target: &Target,
    channel: &str,
    seq: &mut Sequencer,
) -> Result<()> {
    fleet.begin_phase(seq.0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while fleet.reached() < fleet.total {
        if Instant::now() > deadline {
            bail!(
                "warm-up: only {} of {} subscribers received a message in 60 s; errors: {:?}",
                fleet.reached(),
                fleet.total,
                fleet.errors()
            );
        }
        let outcome = publish(target, channel, seq.0, 1.0, 1, "").await;
        seq.0 += 1;
        if let Some(error) = outcome.errors.first() {
            bail!("warm-up publish failed: {error}");
        }
        let wait = Instant::now() + Duration::from_millis(1000);
        while fleet.reached() < fleet.total && Instant::now() < wait {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    fleet.end_phase();
    Ok(())
}

pub struct PhaseSpec<'a> {
    pub target: &'a Target,
    pub channel: &'a str,
    pub rate: f64,
    pub duration: Duration,
    pub pad: &'a str,
    pub drain: Duration,
    pub pids: &'a [u32],
}

/// Publishes at a fixed rate for a while, waits for the tail to arrive, and reports.
pub async fn phase(fleet: &Fleet, seq: &mut Sequencer, spec: &PhaseSpec<'_>) -> Result<Value> {
    let base = seq.0;
    let count = (spec.rate * spec.duration.as_secs_f64()).round().max(1.0) as u64;
    seq.0 += count;
    let requests_before = fleet.sum(|s| s.requests);
    let not_modified_before = fleet.sum(|s| s.not_modified);
    let closed_before = fleet.sum(|s| s.closed as u64);
    let resets_before = fleet.sum(|s| s.resets);
    let server_before = server_cpu(spec.pids)?;
    let client_before = CpuSample::now();
    fleet.begin_phase(base);
    let start = Instant::now();

    let outcome = publish(spec.target, spec.channel, base, spec.rate, count, spec.pad).await;
    let client_after = CpuSample::now();
    let accepted = outcome.ok.iter().filter(|ok| **ok).count() as u64;
    let expected = accepted * fleet.total as u64;
    let deadline = Instant::now() + spec.drain;
    while fleet.distinct() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let window = start.elapsed();
    let server_after = server_cpu(spec.pids)?;
    let phases = fleet.end_phase();

    let mut latency: Histogram<u64> = new_histogram();
    let (mut distinct, mut duplicates, mut missing) = (0, 0, 0);
    for phase in &phases {
        latency.add(&phase.latency)?;
        distinct += phase.distinct;
        duplicates += phase.duplicates;
        for subscriber in 0..phase.seen.len() {
            missing += phase.missing(subscriber, &outcome.ok);
        }
    }
    let ms = |micros: u64| micros as f64 / 1000.0;
    let (client_cpu, client_busiest) = client_after.percent_since(&client_before);
    let requests = fleet.sum(|s| s.requests) - requests_before;
    let server_cpu = match (server_before, server_after) {
        (Some(before), Some(after)) => Some(after - before),
        _ => None,
    };
    Ok(json!({
        "rate": spec.rate,
        "duration_s": spec.duration.as_secs_f64(),
        "subscribers": fleet.total,
        "published": accepted,
        "publish_errors": outcome.ok.len() as u64 - accepted,
        "publish_error_sample": outcome.errors.first(),
        "publisher_connections": outcome.connections,
        "publish_elapsed_s": outcome.elapsed.as_secs_f64(),
        "expected": expected,
        "delivered": distinct,
        "missing": missing,
        "duplicates": duplicates,
        "disconnects": fleet.sum(|s| s.closed as u64) - closed_before,
        "resets": fleet.sum(|s| s.resets) - resets_before,
        "latency_ms": {
            "p50": ms(latency.value_at_quantile(0.50)),
            "p90": ms(latency.value_at_quantile(0.90)),
            "p99": ms(latency.value_at_quantile(0.99)),
            "max": ms(latency.max()),
            "mean": latency.mean() / 1000.0,
        },
        "deliveries_per_sec": distinct as f64 / window.as_secs_f64(),
        "window_s": window.as_secs_f64(),
        "client_cpu_percent": client_cpu,
        "client_busiest_thread_percent": client_busiest,
        "client_saturated": client_busiest > 90.0,
        "server_cpu_s": server_cpu,
        "server_cpu_percent": server_cpu.map(|s| 100.0 * s / window.as_secs_f64()),
        "server_cpu_us_per_delivery": server_cpu.filter(|_| distinct > 0).map(|s| s * 1e6 / distinct as f64),
        "requests_per_sec": (requests > 0).then(|| requests as f64 / window.as_secs_f64()),
        "not_modified": (requests > 0).then(|| fleet.sum(|s| s.not_modified) - not_modified_before),
    }))
}

fn server_cpu(pids: &[u32]) -> Result<Option<f64>> {
    if pids.is_empty() {
        return Ok(None);
    }
    let mut total = 0.0;
    for pid in pids {
        total += cpu_seconds(*pid)?;
    }
    Ok(Some(total))
}

/// A one-line human summary of a phase report.
pub fn summary(report: &Value) -> String {
    let f = |path: &str| {
        report
            .pointer(path)
            .and_then(Value::as_f64)
            .unwrap_or(f64::NAN)
    };
    let mut line = format!(
        "{:>6} subs @ {:>7.1} msg/s: p50 {:.2} ms  p90 {:.2}  p99 {:.2}  max {:.2} | {:.0} deliveries/s | missing {} dup {} disc {} | client CPU {:.0}% (busiest thread {:.0}%)",
        f("/subscribers"),
        f("/rate"),
        f("/latency_ms/p50"),
        f("/latency_ms/p90"),
        f("/latency_ms/p99"),
        f("/latency_ms/max"),
        f("/deliveries_per_sec"),
        f("/missing"),
        f("/duplicates"),
        f("/disconnects"),
        f("/client_cpu_percent"),
        f("/client_busiest_thread_percent"),
    );
    if let Some(us) = report["server_cpu_us_per_delivery"].as_f64() {
        line += &format!(" | server {us:.2} µs CPU/delivery");
    }
    if let Some(rps) = report["requests_per_sec"].as_f64() {
        line += &format!(" | {rps:.0} requests/s");
    }
    line
}

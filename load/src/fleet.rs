//! Many subscribers, sharded over threads: each shard is one OS thread running a
//! single-threaded tokio runtime with its own `Stats`, so subscribers never contend
//! with each other and the controller only looks at the shards between phases.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use tokio::sync::Semaphore;

use crate::http::{Target, source_address};
use crate::stats::{Phase, Shared, Stats, lock};
use crate::subscriber::{Subscriber, Transport};

pub struct Plan {
    pub transport: Transport,
    /// Subscribers are spread round-robin over these servers.
    pub targets: Vec<Target>,
    pub channel: String,
    pub subscribers: usize,
    pub threads: usize,
    pub source_ips: usize,
    pub connect_concurrency: usize,
    pub poll_interval: Option<Duration>,
}

pub struct Fleet {
    shards: Vec<Shared>,
    pub total: usize,
    threads: usize,
}

impl Fleet {
    pub fn start(plan: &Plan) -> Result<Self> {
        let threads = plan.threads.clamp(1, plan.subscribers.max(1));
        let mut shards = Vec::with_capacity(threads);
        for shard in 0..threads {
            let stats: Shared = Arc::new(Mutex::new(Stats::default()));
            let subscribers: Vec<Subscriber> = (shard..plan.subscribers)
                .step_by(threads)
                .map(|global| Subscriber {
                    transport: plan.transport,
                    target: plan.targets[global % plan.targets.len()].clone(),
                    channel: plan.channel.clone(),
                    source: source_address(global, plan.source_ips),
                    index: global / threads,
                    stats: Arc::clone(&stats),
                    gate: Arc::new(Semaphore::new(0)),
                    poll_interval: plan.poll_interval,
                })
                .collect();
            let concurrency = (plan.connect_concurrency / threads).max(1);
            thread::Builder::new()
                .name(format!("shard-{shard}"))
                .spawn(move || run_shard(subscribers, concurrency))?;
            shards.push(stats);
        }
        Ok(Self {
            shards,
            total: plan.subscribers,
            threads,
        })
    }

    pub fn sum(&self, field: impl Fn(&Stats) -> u64) -> u64 {
        self.shards.iter().map(|s| field(&lock(s))).sum()
    }

    pub fn errors(&self) -> Vec<String> {
        self.shards
            .iter()
            .flat_map(|s| lock(s).errors.clone())
            .take(5)
            .collect()
    }

    /// Waits until every subscriber is established or has failed; fails if any failed.
    pub async fn wait_established(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let connected = self.sum(|s| s.connected as u64) as usize;
            let failed = self.sum(|s| s.failed as u64) as usize;
            if failed > 0 {
                bail!(
                    "{failed} of {} subscriptions failed; first errors: {:?}",
                    self.total,
                    self.errors()
                );
            }
            if connected == self.total {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "only {connected} of {} subscriptions established after {timeout:?}",
                    self.total
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn begin_phase(&self, base: u64) {
        for (shard, stats) in self.shards.iter().enumerate() {
            let local = (shard..self.total).step_by(self.threads).count();
            lock(stats).phase = Some(Phase::new(base, local));
        }
    }

    fn phase_sum(&self, field: impl Fn(&Phase) -> u64) -> u64 {
        self.sum(|s| s.phase.as_ref().map_or(0, &field))
    }

    pub fn reached(&self) -> usize {
        self.phase_sum(|p| p.reached as u64) as usize
    }

    pub fn distinct(&self) -> u64 {
        self.phase_sum(|p| p.distinct)
    }

    pub fn end_phase(&self) -> Vec<Phase> {
        self.shards
            .iter()
            .filter_map(|s| lock(s).phase.take())
            .collect()
    }
}

fn run_shard(subscribers: Vec<Subscriber>, concurrency: usize) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start a shard runtime: {e}");
            std::process::exit(1);
        }
    };
    runtime.block_on(async move {
        let gate = Arc::new(Semaphore::new(concurrency));
        for mut subscriber in subscribers {
            subscriber.gate = Arc::clone(&gate);
            tokio::spawn(subscriber.run());
        }
        // Subscribers run until the process exits.
        std::future::pending::<()>().await;
    });
}

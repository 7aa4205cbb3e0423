//! What the client reads from the kernel: the monotonic clock, a process's resident
//! memory and CPU time, and the open-files limit.

use std::collections::HashMap;
use std::fs;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// `CLOCK_MONOTONIC` in nanoseconds: the same clock in every process of the machine,
/// so a timestamp written by one process can be compared in another.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Resident set size of `pid` in KiB (`VmRSS` in /proc/PID/status).
pub fn rss_kib(pid: u32) -> Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status (is the server running?)"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no VmRSS in /proc/{pid}/status"))
}

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// utime + stime of a /proc stat file, in seconds.
fn stat_cpu_seconds(path: &str) -> Option<f64> {
    let stat = fs::read_to_string(path).ok()?;
    // The command name (field 2) may contain spaces; fields after it are plain.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / ticks_per_second())
}

/// CPU seconds (user + system) a process has used so far.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    stat_cpu_seconds(&format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))
}

/// This process's CPU time, in total and per thread, at one instant.
pub struct CpuSample {
    at: Instant,
    total: f64,
    threads: HashMap<String, f64>,
}

impl CpuSample {
    pub fn now() -> Self {
        let mut threads = HashMap::new();
        if let Ok(dir) = fs::read_dir("/proc/self/task") {
            for entry in dir.flatten() {
                let tid = entry.file_name().to_string_lossy().into_owned();
                if let Some(cpu) = stat_cpu_seconds(&format!("/proc/self/task/{tid}/stat")) {
                    threads.insert(tid, cpu);
                }
            }
        }
        Self {
            at: Instant::now(),
            total: stat_cpu_seconds("/proc/self/stat").unwrap_or(0.0),
            threads,
        }
    }

    /// (all threads, busiest thread) as percent of one core since `earlier`.
    pub fn percent_since(&self, earlier: &Self) -> (f64, f64) {
        let wall = (self.at - earlier.at).as_secs_f64().max(1e-9);
        let busiest = self
            .threads
            .iter()
            .map(|(tid, cpu)| cpu - earlier.threads.get(tid).copied().unwrap_or(0.0))
            .fold(0.0, f64::max);
        (
            100.0 * (self.total - earlier.total) / wall,
            100.0 * busiest / wall,
        )
    }
}

/// Raises the soft open-files limit to the hard one and checks that `needed`
/// descriptors fit, with a clear message when they do not.
pub fn ensure_open_files(needed: u64) -> Result<()> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        bail!("getrlimit(RLIMIT_NOFILE) failed");
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit within the hard limit.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    let available = limit.rlim_cur;
    if needed > available {
        bail!(
            "{needed} open files needed but `ulimit -n` allows {available}: \
             raise it (ulimit -n) or split the connections over several rtgen-load processes"
        );
    }
    Ok(())
}

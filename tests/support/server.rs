//! Runs a generated server binary as its users do: `--bind`, environment variables,
//! SIGTERM. Learns the addresses it listens on from its `--addr-file`, whatever the
//! log format. Keeps the whole log (stdout and stderr) so tests can assert that nothing
//! panicked, and reads the server's fd and thread counts from /proc.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    /// Where `GET /metrics` is served, when `METRICS_BIND` was set.
    pub metrics: Option<SocketAddr>,
    binary: PathBuf,
    env: Vec<(String, String)>,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `binary` on a free loopback port.
    pub fn start(binary: &Path, env: &[(&str, &str)]) -> Self {
        Self::start_on(binary, "127.0.0.1:0".parse().unwrap(), env)
    }

    /// Starts `binary` bound to `addr` and waits until it has written the addresses it
    /// listens on to its `--addr-file`.
    pub fn start_on(binary: &Path, addr: SocketAddr, env: &[(&str, &str)]) -> Self {
        let env: Vec<_> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let log = Arc::new(Mutex::new(String::new()));
        let addr_file = addr_file();
        let mut child = Command::new(binary)
            .args(["--bind", &addr.to_string(), "--addr-file"])
            .arg(&addr_file)
            .env("RUST_LOG", "info")
            .env_remove("PUBLISH_TOKEN")
            .env_remove("METRICS_BIND")
            .env_remove("LOG_FORMAT")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        drain(child.stdout.take().unwrap(), Arc::clone(&log));
        drain(child.stderr.take().unwrap(), Arc::clone(&log));
        let addresses = match wait_for_addresses(&mut child, &addr_file) {
            Ok(addresses) => addresses,
            Err(why) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} {why}; its log:\n{}",
                    binary.display(),
                    log.lock().unwrap()
                );
            }
        };
        let _ = std::fs::remove_file(&addr_file);
        Self {
            child,
            addr: addresses["http"],
            metrics: addresses.get("metrics").copied(),
            binary: binary.to_owned(),
            env,
            log,
        }
    }

    /// Starts the same binary with the same environment on the same address again,
    /// as a deploy or a crash-restart would.
    pub fn restart(&mut self) {
        if self.child.try_wait().unwrap().is_none() {
            self.terminate();
        }
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let previous = self.log();
        *self = Self::start_on(&self.binary.clone(), self.addr, &env);
        self.log.lock().unwrap().insert_str(0, &previous);
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Everything the server wrote so far, both streams.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn assert_no_panic(&self) {
        let log = self.log();
        assert!(!log.contains("panicked"), "the server panicked:\n{log}");
    }

    /// Sends SIGTERM and waits for the exit, returning how long it took.
    pub fn terminate(&mut self) -> (ExitStatus, Duration) {
        let started = Instant::now();
        signal(self.child.id(), libc::SIGTERM);
        let status = wait_for_exit(&mut self.child, Duration::from_secs(30))
            .expect("the server exits within 30 s of SIGTERM");
        (status, started.elapsed())
    }

    pub fn open_fds(&self) -> usize {
        open_fds(self.pid())
    }

    pub fn threads(&self) -> usize {
        proc_status(self.pid(), "Threads:")
    }

    pub fn rss_kib(&self) -> usize {
        proc_status(self.pid(), "VmRSS:")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn drain(stream: impl Read + Send + 'static, log: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut log = log.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
}

/// A fresh `--addr-file` path for each server this test process starts.
fn addr_file() -> PathBuf {
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("rtgen-addr-{}-{n}", std::process::id()))
}

/// Waits (30 s at most) for a server's `--addr-file` and reads its `NAME=ADDR` lines.
/// The server writes it aside and renames it into place, so a file that exists is
/// complete.
pub fn wait_for_addresses(
    child: &mut Child,
    path: &Path,
) -> Result<HashMap<String, SocketAddr>, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text
                .lines()
                .map(|line| {
                    let (name, addr) = line
                        .split_once('=')
                        .ok_or_else(|| format!("wrote {line:?} to its --addr-file"))?;
                    let addr = addr
                        .parse()
                        .map_err(|e| format!("wrote {line:?} to its --addr-file: {e}"))?;
                    Ok((name.to_owned(), addr))
                })
                .collect();
        }
        if let Some(status) = child.try_wait().unwrap() {
            return Err(format!("exited ({status}) before writing its --addr-file"));
        }
        if Instant::now() > deadline {
            return Err("wrote no --addr-file within 30 s".to_owned());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn signal(pid: u32, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(pid).unwrap();
    // SAFETY: kill(2) takes plain integers; the pid is a child this test started.
    let result = unsafe { libc::kill(pid, signal) };
    assert_eq!(result, 0, "kill({pid}, {signal})");
}

/// Waits for `child` to exit, polling, for at most `limit`.
pub fn wait_for_exit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read /proc/PID/fd")
        .count()
}

/// A number from /proc/PID/status, such as `Threads:` or `VmRSS:` (in KiB).
pub fn proc_status(pid: u32, field: &str) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// Polls `condition` until it holds or `limit` passes; returns whether it held.
pub fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Raises this process's open-file limit to `want` (capped by the hard limit), for
/// tests that hold thousands of connections.
pub fn raise_fd_limit(want: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit write/read the struct we pass.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = want.min(limit.rlim_max);
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
    limit.rlim_cur
}

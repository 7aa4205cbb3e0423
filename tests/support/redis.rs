//! A private `redis-server` per test, on a free port (never 6379, never a Redis the
//! test did not start), without persistence, killed when dropped.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Redis {
    child: Option<Child>,
    pub port: u16,
}

impl Redis {
    pub fn start() -> Self {
        for _ in 0..20 {
            if let Some(redis) = Self::start_on(free_port()) {
                return redis;
            }
        }
        panic!("redis-server did not start on any of 20 free ports");
    }

    /// `None` when the port is taken.
    fn start_on(port: u16) -> Option<Self> {
        let mut child = match Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "redis-server is not installed and the Redis tests need it: \
                 apt-get install redis-server (.ci/run does this)"
            ),
            Err(e) => panic!("cannot start redis-server: {e}"),
        };
        let stdout = child.stdout.take().unwrap();
        let (ready, started) = mpsc::channel();
        std::thread::spawn(move || {
            let mut ready = Some(ready);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("Ready to accept connections")
                    && let Some(ready) = ready.take()
                {
                    let _ = ready.send(());
                }
            }
        });
        match started.recv_timeout(Duration::from_secs(10)) {
            Ok(()) => Some(Self {
                child: Some(child),
                port,
            }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                None
            }
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills Redis as a crash would (its data is gone).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts Redis again on the same port.
    pub fn start_again(&mut self) {
        self.kill();
        for _ in 0..50 {
            if let Some(mut started) = Self::start_on(self.port) {
                self.child = started.child.take();
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("redis-server did not restart on port {}", self.port);
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("bind a probe socket")
            .port();
        if port != 6379 {
            return port;
        }
    }
}

/// A prefix no other test shares, so tests can never see each other's keys.
pub fn unique_prefix(test: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "rtgen-test:{test}:{}:{}:",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

//! A private `redis-server` per test: on a free port (never a Redis the test did not
//! start), without persistence, killed when dropped.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Redis {
    child: Child,
    pub port: u16,
}

impl Redis {
    /// Starts `redis-server` on a free port, retrying when another process takes the
    /// port between probing and binding.
    pub fn start() -> Self {
        for _ in 0..20 {
            if let Some(redis) = Self::start_on(free_port()) {
                return redis;
            }
        }
        panic!("redis-server did not start on any of 20 free ports");
    }

    /// Starts `redis-server` on `port`; `None` when it cannot bind.
    pub fn start_on(port: u16) -> Option<Self> {
        let mut child = match Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "redis-server is not installed, and the Redis fan-out tests need it: \
                 install it (apt-get install redis-server, brew install redis) and rerun"
            ),
            Err(e) => panic!("cannot start redis-server: {e}"),
        };
        let stdout = child.stdout.take().expect("piped stdout");
        let (ready, started) = mpsc::channel();
        // Keep draining the log so redis-server never blocks on a full pipe.
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
        // The channel closes without a message when redis-server exits (port taken).
        match started.recv_timeout(Duration::from_secs(10)) {
            Ok(()) => Some(Self { child, port }),
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

    /// Kills Redis (losing everything it held, as a crash would) and starts it again
    /// on the same port.
    pub fn restart(&mut self) {
        self.stop();
        let mut restarted = None;
        for _ in 0..50 {
            restarted = Self::start_on(self.port);
            if restarted.is_some() {
                break;
            }
        }
        *self = restarted.expect("redis-server restarts on its port");
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Runs one command, as `redis-cli` would.
    pub fn query<T: redis::FromRedisValue>(&self, command: &[&str]) -> T {
        let client = redis::Client::open(self.url()).expect("a Redis URL");
        let mut connection = client.get_connection().expect("connect to the test Redis");
        let mut cmd = redis::cmd(command[0]);
        for arg in &command[1..] {
            cmd.arg(*arg);
        }
        cmd.query(&mut connection).expect("a Redis reply")
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port nothing listens on right now (never 6379, which may be someone's real Redis).
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

//! A helper process (curl, python3) whose stdout is read line by line as it arrives.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub struct Lines {
    child: Child,
    lines: mpsc::Receiver<String>,
    what: String,
}

impl Lines {
    /// Starts `program` with `args`; a missing program fails with `install` as the fix.
    pub fn spawn(program: &str, args: &[&str], install: &str) -> Self {
        let mut child = Command::new(program)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {program} ({e}); these tests need it: {install}")
            });
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line.trim_end_matches('\r').to_owned()).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            what: format!("{program} {}", args.join(" ")),
        }
    }

    /// The next line; `None` once the process closed its stdout.
    pub fn next(&mut self, limit: Duration) -> Option<String> {
        match self.lines.recv_timeout(limit) {
            Ok(line) => Some(line),
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("`{}` printed nothing for {limit:?}", self.what)
            }
        }
    }

    /// Every remaining line, once the process has ended.
    pub fn rest(&mut self, limit: Duration) -> Vec<String> {
        let deadline = Instant::now() + limit;
        let mut lines = Vec::new();
        while let Some(line) = self.next(deadline.saturating_duration_since(Instant::now())) {
            lines.push(line);
        }
        lines
    }

    /// Waits for the exit code.
    pub fn wait(&mut self, limit: Duration) -> i32 {
        let status = super::server::wait_for_exit(&mut self.child, limit)
            .unwrap_or_else(|| panic!("`{}` still runs after {limit:?}", self.what));
        status.code().expect("exited, not killed")
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! The raw-socket ceiling: a minimal writer process sends the same bytes to N
//! loopback sockets as fast as it can, one `write()` per socket per message, while
//! this process reads them. No framing, no fan-out structures, no allocation: what is
//! left is the kernel's cost per small delivery on this machine.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use crate::http::{Target, connect, source_address};
use crate::sys::{CpuSample, ensure_open_files};

/// Runs the writer as a child process (so each side has its own open-files budget)
/// and reads with `threads` single-threaded runtimes, like the load client does.
pub fn ceiling(
    connections: usize,
    duration: Duration,
    bytes: usize,
    source_ips: usize,
) -> Result<Value> {
    ensure_open_files(connections as u64 + 64)?;
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "raw-writer",
            "--connections",
            &connections.to_string(),
            "--duration-secs",
            &duration.as_secs_f64().to_string(),
            "--message-bytes",
            &bytes.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start the raw writer")?;
    let mut stdout = BufReader::new(child.stdout.take().context("no stdout")?);
    let mut line = String::new();
    stdout.read_line(&mut line)?;
    let target = Target::parse(&format!("http://{}", line.trim()))?;

    let received = Arc::new(AtomicU64::new(0));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime
        .block_on(async {
            for i in 0..connections {
                let mut stream = connect(&target, source_address(i, source_ips)).await?;
                let received = Arc::clone(&received);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        received.fetch_add(n as u64, Ordering::Relaxed);
                    }
                });
            }
            let mut stdin = child.stdin.take().context("no stdin")?;
            stdin.write_all(b"go\n")?;
            let reader_before = CpuSample::now();
            let report = tokio::task::spawn_blocking(move || {
                let mut report = String::new();
                stdout.read_line(&mut report).map(|_| report)
            })
            .await??;
            let (reader_cpu, _) = CpuSample::now().percent_since(&reader_before);
            let mut report: Value = serde_json::from_str(&report).context("raw writer report")?;
            report["reader_cpu_percent"] = json!(reader_cpu);
            report["bytes_received"] = json!(received.load(Ordering::Relaxed));
            Ok::<_, anyhow::Error>(report)
        })
        .and_then(|report| {
            child.wait()?;
            Ok(report)
        })
}

/// The child: accepts `connections` sockets, waits for "go" on stdin, writes.
pub fn writer(connections: usize, duration: Duration, bytes: usize) -> Result<()> {
    ensure_open_files(connections as u64 + 64)?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let mut sockets: Vec<TcpStream> = Vec::with_capacity(connections);
    while sockets.len() < connections {
        let (socket, _) = listener.accept()?;
        socket.set_nodelay(true)?;
        sockets.push(socket);
    }
    let mut go = String::new();
    std::io::stdin().read_line(&mut go)?;
    if go.trim() != "go" {
        bail!("expected go");
    }
    // An SSE-sized event; the content does not matter.
    let message = vec![b'x'; bytes];
    let before = CpuSample::now();
    let start = Instant::now();
    let mut writes = 0u64;
    while start.elapsed() < duration {
        for socket in &mut sockets {
            socket.write_all(&message)?;
        }
        writes += sockets.len() as u64;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (cpu, _) = CpuSample::now().percent_since(&before);
    println!(
        "{}",
        json!({
            "connections": connections,
            "message_bytes": bytes,
            "duration_s": elapsed,
            "deliveries": writes,
            "deliveries_per_sec": writes as f64 / elapsed,
            "writer_cpu_percent": cpu,
            "writer_cpu_us_per_delivery": cpu / 100.0 * elapsed * 1e6 / writes as f64,
        })
    );
    // Keeps the sockets open until the reader has drained them.
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
    Ok(())
}

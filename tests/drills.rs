//! Failure drills on the generated services, each bounded in count and time, on
//! loopback only: a consumer that stops reading, a connection storm (also with
//! `AUTH_MODE=jwt`, every client presenting a token), a graceful shutdown with a
//! thousand clients, hostile input, and (Redis fan-out) a Redis crash
//! under a steady publish rate. Measured figures are printed (`--nocapture`).

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::http::{self, EventStream};
use support::redis::{Redis, unique_prefix};
use support::server::{Server, eventually, raise_fd_limit};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Mutex, Semaphore};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One drill at a time: they measure latency, fds and threads, which a parallel drill
/// would disturb.
static ONE_DRILL: Mutex<()> = Mutex::const_new(());

/// Clients in the connection storm, and held through a graceful shutdown.
const STORM: usize = 2_500;
const SHUTDOWN_CLIENTS: usize = 1_000;

fn micros_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64
}

async fn ws_connect(addr: SocketAddr, query: &str) -> Ws {
    tokio_tungstenite::connect_async(format!("ws://{addr}/ws?{query}"))
        .await
        .unwrap_or_else(|e| panic!("WebSocket to {addr}: {e}"))
        .0
}

/// The next text frame as JSON; `None` when the connection ended (close frame's code
/// returned through `closed`).
async fn ws_next(ws: &mut Ws, closed: &mut Option<u16>) -> Option<Value> {
    loop {
        match ws.next().await? {
            Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).unwrap()),
            Ok(Message::Close(frame)) => {
                *closed = frame.map(|f| f.code.into());
                return None;
            }
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

async fn ws_expect(ws: &mut Ws, kind: &str) -> Value {
    let mut closed = None;
    let frame = tokio::time::timeout(Duration::from_secs(10), ws_next(ws, &mut closed))
        .await
        .unwrap_or_else(|_| panic!("no {kind} frame within 10 s"))
        .unwrap_or_else(|| panic!("closed ({closed:?}) instead of a {kind} frame"));
    assert_eq!(frame["type"], kind, "{frame}");
    frame
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// p50 and p95 of latencies, in milliseconds.
fn summary(mut latencies: Vec<f64>) -> (f64, f64) {
    assert!(!latencies.is_empty(), "no latencies measured");
    latencies.sort_by(f64::total_cmp);
    (percentile(&latencies, 0.5), percentile(&latencies, 0.95))
}

// ---------------------------------------------------------------------------------
// Slow consumer

/// A connection whose receive buffer is tiny and which never reads.
async fn stuck_socket(addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(addr).await.unwrap()
}

/// Publishes `count` messages of ~8 KiB at a steady pace; `seq` continues across calls.
async fn publish_steadily(addr: SocketAddr, first_seq: usize, count: usize) {
    let pad = "x".repeat(8 * 1024);
    let mut tick = tokio::time::interval(Duration::from_millis(4));
    for seq in first_seq..first_seq + count {
        tick.tick().await;
        let data = json!({ "seq": seq, "t": micros_now(), "pad": pad });
        http::publish(addr, "feed", &data).await;
    }
}

/// Latency samples of the fast client, per published `seq`.
type Latencies = Arc<std::sync::Mutex<Vec<(usize, f64)>>>;

fn record(latencies: &Latencies, data: &Value) {
    let seq = data["seq"].as_u64().unwrap() as usize;
    let sent = data["t"].as_u64().unwrap();
    let ms = micros_now().saturating_sub(sent) as f64 / 1000.0;
    latencies.lock().unwrap().push((seq, ms));
}

async fn slow_consumer(strategy: &str) {
    let _one = ONE_DRILL.lock().await;
    let binary = support::server_binary(strategy, "memory");
    // A WebSocket write stalled on a peer that does not read is given up after two
    // ping intervals; 2 s instead of 25 keeps the drill short.
    let server = Server::start(&binary, &[("WS_PING_SECS", "2")]);
    let addr = server.addr;
    let latencies: Latencies = Arc::default();

    // The fast client: reads everything and records each message's latency.
    let fast = {
        let latencies = Arc::clone(&latencies);
        if strategy == "sse" {
            let mut stream = EventStream::open(addr, "/events?channel=feed", &[])
                .await
                .unwrap();
            tokio::spawn(async move {
                while let Ok(Some(event)) = stream.next().await {
                    let envelope: Value = serde_json::from_str(&event.data).unwrap();
                    record(&latencies, &envelope["data"]);
                }
            })
        } else {
            let mut ws = ws_connect(addr, "channel=feed").await;
            ws_expect(&mut ws, "subscribed").await;
            tokio::spawn(async move {
                let mut closed = None;
                while let Some(frame) = ws_next(&mut ws, &mut closed).await {
                    record(&latencies, &frame["data"]);
                }
            })
        }
    };

    const BEFORE: usize = 300;
    const DURING: usize = 1_500;
    publish_steadily(addr, 0, BEFORE).await;
    let rss_before = server.rss_kib();

    // The slow client subscribes, then never reads again.
    let mut slow = stuck_socket(addr).await;
    if strategy == "sse" {
        let head = format!("GET /events?channel=feed HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        slow.write_all(head.as_bytes()).await.unwrap();
    } else {
        let head = format!(
            "GET /ws?channel=feed HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\n\
             Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        );
        slow.write_all(head.as_bytes()).await.unwrap();
    }

    let sampling = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let sampling = Arc::clone(&sampling);
        let pid = server.pid();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            loop {
                tick.tick().await;
                let rss = support::server::proc_status(pid, "VmRSS:");
                sampling.fetch_max(rss, Ordering::Relaxed);
            }
        })
    };
    publish_steadily(addr, BEFORE, DURING).await;
    sampler.abort();
    let rss_max = sampling.load(Ordering::Relaxed);

    // Every message reached the fast client.
    let all = eventually(Duration::from_secs(20), || {
        latencies.lock().unwrap().len() == BEFORE + DURING
    });
    assert!(
        all,
        "the fast client got {} of {}",
        latencies.lock().unwrap().len(),
        BEFORE + DURING
    );
    fast.abort();
    if std::env::var_os("DRILL_TRACE").is_some() {
        let mut l = latencies.lock().unwrap().clone();
        l.sort_by_key(|(seq, _)| *seq);
        for chunk in l.chunks(100) {
            let (p50, p95) = summary(chunk.iter().map(|(_, ms)| *ms).collect());
            println!("seq {}: p50 {p50:.2} p95 {p95:.2}", chunk[0].0);
        }
    }

    // The slow client, reading at last, finds a gap-free prefix and then the end of
    // its connection: the server dropped it instead of buffering for it.
    let mut received = Vec::new();
    let ended = tokio::time::timeout(
        Duration::from_secs(30),
        read_to_end(&mut slow, &mut received),
    )
    .await;
    let text = String::from_utf8_lossy(&received);
    let seqs: Vec<usize> = text
        .match_indices("\"seq\":")
        .map(|(i, _)| {
            let digits: String = text[i + 6..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().unwrap()
        })
        .collect();
    let gap_free = seqs.windows(2).all(|w| w[1] == w[0] + 1);
    let (before, during): (Vec<_>, Vec<_>) = latencies
        .lock()
        .unwrap()
        .iter()
        .partition(|(seq, _)| *seq < BEFORE);
    let (p50_before, p95_before) = summary(before.iter().map(|(_, ms)| *ms).collect());
    let (p50_during, p95_during) = summary(during.iter().map(|(_, ms)| *ms).collect());
    println!(
        "{strategy} slow consumer: got {} of {DURING} messages ({}..={}) before being dropped; \
         fast client latency p50/p95 {p50_before:.2}/{p95_before:.2} ms before, \
         {p50_during:.2}/{p95_during:.2} ms while the slow one was stuck; \
         server RSS {} KiB before, at most {} KiB while stuck",
        seqs.len(),
        seqs.first().unwrap_or(&0),
        seqs.last().unwrap_or(&0),
        rss_before,
        rss_max,
    );
    assert!(
        ended.is_ok(),
        "the server never ended the stuck client's connection"
    );
    assert!(gap_free, "the slow client saw a gap: {seqs:?}");
    assert!(
        seqs.len() < DURING,
        "the slow client was not dropped ({} messages)",
        seqs.len()
    );
    // Bounded: history (1000 messages of 8 KiB) plus per-connection buffers, whatever
    // the volume published at the stuck client.
    assert!(
        rss_max < rss_before + 48 * 1024,
        "RSS grew from {rss_before} KiB to {rss_max} KiB"
    );
    assert!(
        p50_during <= (3.0 * p50_before).max(p50_before + 5.0),
        "the stuck client slowed the fast one: p50 {p50_before:.2} -> {p50_during:.2} ms"
    );
    assert!(
        p95_during <= (3.0 * p95_before).max(p95_before + 25.0),
        "the stuck client slowed the fast one: p95 {p95_before:.2} -> {p95_during:.2} ms"
    );
    server.assert_no_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumer_sse() {
    slow_consumer("sse").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumer_websocket() {
    slow_consumer("websocket").await;
}

/// Reads until the server closes the connection or ends the (chunked) response on a
/// connection it keeps open.
async fn read_to_end(stream: &mut TcpStream, received: &mut Vec<u8>) {
    let mut buf = vec![0; 64 * 1024];
    while !received.ends_with(b"\r\n0\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => received.extend_from_slice(&buf[..n]),
        }
    }
}

// ---------------------------------------------------------------------------------
// Connection storm and graceful shutdown

/// Opens a client of `strategy` that is subscribed (or, for polls, has sent its
/// request) when this returns.
enum Client {
    Sse(EventStream),
    Ws(Box<Ws>),
    Poll(TcpStream),
}

/// With `AUTH_MODE=jwt`: the key the storm's service verifies, the token every storm
/// client presents (it may read `storm`) and the server-to-server publish token.
struct StormAuth {
    token: String,
    publish_token: &'static str,
}

impl StormAuth {
    const SECRET: &'static str = "the-storm-drill-secret-of-32-bytes-or-more";

    /// Mints the clients' token with the service's own `token` subcommand.
    fn mint(binary: &std::path::Path) -> Self {
        let args = ["--sub", "storm", "--channels", "storm", "--ttl", "1h"];
        Self {
            token: support::mint_token(binary, Self::SECRET, &args),
            publish_token: "storm-publish-token",
        }
    }

    fn env(&self) -> [(&str, &str); 3] {
        [
            ("AUTH_MODE", "jwt"),
            ("JWT_SECRET", Self::SECRET),
            ("PUBLISH_TOKEN", self.publish_token),
        ]
    }
}

/// Opens a storm client. With a token it presents it the way each client would: SSE
/// and polls in the `Authorization` header, the WebSocket in `?token=` (a browser
/// cannot set headers on an upgrade).
async fn open_client(
    strategy: &str,
    addr: SocketAddr,
    cursor: &str,
    token: Option<&str>,
) -> std::io::Result<Client> {
    let bearer = token.map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> = bearer
        .as_deref()
        .map(|bearer| ("Authorization", bearer))
        .into_iter()
        .collect();
    match strategy {
        "sse" => {
            let stream = EventStream::open(addr, "/events?channel=storm", &headers).await?;
            if stream.status != 200 {
                return Err(std::io::Error::other(format!("status {}", stream.status)));
            }
            Ok(Client::Sse(stream))
        }
        "websocket" => {
            let query = token
                .map(|token| format!("&token={token}"))
                .unwrap_or_default();
            let url = format!("ws://{addr}/ws?channel=storm{query}");
            let (mut ws, _) = tokio_tungstenite::connect_async(url)
                .await
                .map_err(std::io::Error::other)?;
            match ws_next(&mut ws, &mut None).await {
                Some(frame) if frame["type"] == "subscribed" => Ok(Client::Ws(Box::new(ws))),
                other => Err(std::io::Error::other(format!(
                    "instead of subscribed: {other:?}"
                ))),
            }
        }
        "long-polling" | "short-polling" => {
            let path = if strategy == "long-polling" {
                format!("/poll?channel=storm&cursor={cursor}&timeout=60")
            } else {
                format!("/messages?channel=storm&cursor={cursor}")
            };
            let mut stream = TcpStream::connect(addr).await?;
            let authorization = bearer
                .map(|bearer| format!("Authorization: {bearer}\r\n"))
                .unwrap_or_default();
            let head = format!(
                "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{authorization}Connection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
            Ok(Client::Poll(stream))
        }
        other => panic!("unknown strategy {other}"),
    }
}

/// Waits for the message published to the storm (or the end of a held poll) and
/// returns what ended the client: "message", "close <code>", "end", "response <status>".
async fn finish_client(client: Client) -> String {
    match client {
        Client::Sse(mut stream) => match stream.next().await {
            Ok(Some(event)) if event.data.contains("\"storm\"") => "message".into(),
            Ok(Some(event)) => format!("event {event:?}"),
            Ok(None) => "end".into(),
            Err(e) => format!("error {e}"),
        },
        Client::Ws(mut ws) => {
            let mut closed = None;
            match ws_next(&mut ws, &mut closed).await {
                Some(frame) if frame["type"] == "message" => "message".into(),
                Some(frame) => format!("frame {frame}"),
                None => format!("close {}", closed.unwrap_or(0)),
            }
        }
        Client::Poll(mut stream) => {
            let mut reply = Vec::new();
            let _ = stream.read_to_end(&mut reply).await;
            let text = String::from_utf8_lossy(&reply);
            let status = text.split(' ').nth(1).unwrap_or("none").to_owned();
            if text.contains("\"storm\"") {
                "message".into()
            } else {
                format!("response {status}")
            }
        }
    }
}

async fn current_cursor(strategy: &str, addr: SocketAddr, token: Option<&str>) -> String {
    let path = match strategy {
        "short-polling" => "/messages?channel=storm",
        _ => "/poll?channel=storm&timeout=1",
    };
    if !strategy.ends_with("polling") {
        return String::new();
    }
    let bearer = token.map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> = bearer
        .as_deref()
        .map(|bearer| ("Authorization", bearer))
        .into_iter()
        .collect();
    http::request(addr, "GET", path, &headers, b"")
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
        .json()["cursor"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `STORM` clients connect at once, get one message and leave at once; with `jwt`,
/// each presents a token, so every subscription is authorized and carries an expiry.
async fn connection_storm(strategy: &str, jwt: bool) {
    let _one = ONE_DRILL.lock().await;
    raise_fd_limit(20_000);
    let binary = support::server_binary(strategy, "memory");
    let auth = jwt.then(|| StormAuth::mint(&binary));
    let env: Vec<(&str, &str)> = match &auth {
        Some(auth) => auth.env().to_vec(),
        None => vec![("AUTH_MODE", "none")],
    };
    let server = Server::start(&binary, &env);
    let addr = server.addr;
    let token = auth.as_ref().map(|auth| auth.token.clone());
    let mode = if jwt { "jwt" } else { "none" };
    // Warm up: the first requests start whatever the runtime starts lazily.
    let cursor = current_cursor(strategy, addr, token.as_deref()).await;
    let warm = open_client(strategy, addr, &cursor, token.as_deref())
        .await
        .unwrap();
    drop(warm);
    assert!(eventually(Duration::from_secs(10), || server.open_fds() <= 12));
    let (fds_before, threads_before) = (server.open_fds(), server.threads());

    // The burst: every client connects at once and subscribes.
    let started = Instant::now();
    let mut opening = Vec::with_capacity(STORM);
    for _ in 0..STORM {
        let strategy = strategy.to_owned();
        let cursor = cursor.clone();
        let token = token.clone();
        opening.push(tokio::spawn(async move {
            open_client(&strategy, addr, &cursor, token.as_deref()).await
        }));
    }
    let mut clients = Vec::with_capacity(STORM);
    let mut errors = Vec::new();
    for task in opening {
        match task.await.unwrap() {
            Ok(client) => clients.push(client),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let connected = started.elapsed();
    let peak_fds = server.open_fds();

    // One message reaches all of them; then they all leave at once.
    let body = json!({ "channel": "storm", "data": "storm" }).to_string();
    let bearer = auth
        .as_ref()
        .map(|auth| format!("Bearer {}", auth.publish_token));
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend(bearer.as_deref().map(|bearer| ("Authorization", bearer)));
    let published = http::request(addr, "POST", "/publish", &headers, body.as_bytes())
        .await
        .unwrap();
    assert_eq!(published.status, 200, "publish: {}", published.text());
    let mut finishing = Vec::with_capacity(clients.len());
    for client in clients {
        finishing.push(tokio::spawn(tokio::time::timeout(
            Duration::from_secs(30),
            finish_client(client),
        )));
    }
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for task in finishing {
        let outcome = task.await.unwrap().unwrap_or_else(|_| "timeout".into());
        *outcomes.entry(outcome).or_default() += 1;
    }
    let total = started.elapsed();

    let fds_back = eventually(Duration::from_secs(15), || server.open_fds() <= fds_before);
    let threads_back = eventually(Duration::from_secs(15), || {
        server.threads() <= threads_before
    });
    println!(
        "{strategy} storm, AUTH_MODE={mode}: {STORM} clients connected in {connected:?}, all done in {total:?}; \
         outcomes {outcomes:?}; errors {}; server fds {fds_before} -> {peak_fds} -> {}, \
         threads {threads_before} -> {}",
        errors.len(),
        server.open_fds(),
        server.threads()
    );
    assert!(
        errors.is_empty(),
        "{} clients failed: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    // Short polls are answered at once, most before the publish; every other client
    // gets the message.
    let delivered = outcomes.get("message").copied().unwrap_or(0)
        + if strategy == "short-polling" {
            outcomes.get("response 200").copied().unwrap_or(0)
        } else {
            0
        };
    assert_eq!(delivered, STORM, "{outcomes:?}");
    assert!(
        fds_back,
        "the server holds {} fds, {fds_before} before the storm",
        server.open_fds()
    );
    assert!(
        threads_back,
        "the server runs {} threads, {threads_before} before",
        server.threads()
    );
    assert_eq!(http::get(addr, "/healthz").await.status, 200);
    server.assert_no_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_storm_sse() {
    connection_storm("sse", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_storm_websocket() {
    connection_storm("websocket", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_storm_long_polling() {
    connection_storm("long-polling", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_storm_short_polling() {
    connection_storm("short-polling", false).await;
}

// The same storms with authorization on (issue 13: the drills work in both modes).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_storm_sse_jwt() {
    connection_storm("sse", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_storm_websocket_jwt() {
    connection_storm("websocket", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_storm_long_polling_jwt() {
    connection_storm("long-polling", true).await;
}

async fn graceful_shutdown(strategy: &str) {
    let _one = ONE_DRILL.lock().await;
    raise_fd_limit(20_000);
    let binary = support::server_binary(strategy, "memory");
    let mut server = Server::start(&binary, &[]);
    let addr = server.addr;
    let cursor = current_cursor(strategy, addr, None).await;
    let fds_before = server.open_fds();

    let limit = Arc::new(Semaphore::new(500));
    let mut opening = Vec::with_capacity(SHUTDOWN_CLIENTS);
    for _ in 0..SHUTDOWN_CLIENTS {
        let (strategy, cursor, limit) = (strategy.to_owned(), cursor.clone(), Arc::clone(&limit));
        opening.push(tokio::spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            open_client(&strategy, addr, &cursor, None).await.unwrap()
        }));
    }
    let mut clients = Vec::new();
    for task in opening {
        clients.push(task.await.unwrap());
    }
    // Every connection accepted (held polls have no other visible sign).
    assert!(eventually(Duration::from_secs(20), || {
        server.open_fds() >= fds_before + SHUTDOWN_CLIENTS
    }));
    let mut finishing = Vec::new();
    for client in clients {
        finishing.push(tokio::spawn(finish_client(client)));
    }

    let (status, took) = server.terminate();
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for task in finishing {
        let outcome = tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .map_or("timeout".into(), Result::unwrap);
        *outcomes.entry(outcome).or_default() += 1;
    }
    println!(
        "{strategy}: shutdown with {SHUTDOWN_CLIENTS} clients took {took:?}; they saw {outcomes:?}"
    );
    assert!(status.success(), "exit status {status:?}");
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    let log = server.log();
    assert!(
        !log.contains("still open after"),
        "the drain timed out:\n{log}"
    );
    let clean = match strategy {
        "sse" => "end",
        "websocket" => "close 1001",
        _ => "response 200",
    };
    assert_eq!(outcomes.get(clean), Some(&SHUTDOWN_CLIENTS), "{outcomes:?}");
    server.assert_no_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_with_1000_sse_clients() {
    graceful_shutdown("sse").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_with_1000_websocket_clients() {
    graceful_shutdown("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_with_1000_long_polls() {
    graceful_shutdown("long-polling").await;
}

// ---------------------------------------------------------------------------------
// Bad input

/// Sends a request and checks the status and, for JSON errors, the `{"error"}` body.
async fn expect(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    status: u16,
) -> http::Response {
    let response = http::request(addr, method, target, headers, body)
        .await
        .unwrap_or_else(|e| panic!("{method} {target}: {e}"));
    assert_eq!(
        response.status,
        status,
        "{method} {target} ({} body bytes): {}",
        body.len(),
        response.text()
    );
    if response.header("content-type") == Some("application/json") && status >= 400 {
        assert!(
            response.json()["error"]
                .as_str()
                .is_some_and(|e| !e.is_empty()),
            "{method} {target}: {}",
            response.text()
        );
    }
    response
}

async fn bad_input(strategy: &str) {
    let _one = ONE_DRILL.lock().await;
    let binary = support::server_binary(strategy, "memory");
    let server = Server::start(&binary, &[]);
    let addr = server.addr;
    let json_type = [("Content-Type", "application/json")];
    let publish = |body: &'static [u8]| (body, 400);

    // POST /publish: malformed, wrong shapes, invalid channels, oversized.
    let long_channel = format!(r#"{{"channel":"{}","data":1}}"#, "x".repeat(129));
    for (body, status) in [
        publish(b"{\"channel\":"),
        publish(b"not json"),
        publish(b"[]"),
        publish(b"{}"),
        publish(br#"{"channel":"news"}"#),
        publish(br#"{"channel":"news","data":1,"extra":2}"#),
        publish(br#"{"channel":"a b","data":1}"#),
        publish(br#"{"channel":"","data":1}"#),
        publish(br#"{"channel":"caf\u00e9","data":1}"#),
        publish(b"{\"channel\":\"news\",\"data\":\"\xff\xfe\"}"),
        publish(br#"{"channel":42,"data":1}"#),
    ] {
        expect(addr, "POST", "/publish", &json_type, body, status).await;
    }
    expect(
        addr,
        "POST",
        "/publish",
        &json_type,
        long_channel.as_bytes(),
        400,
    )
    .await;
    let huge = format!(r#"{{"channel":"news","data":"{}"}}"#, "x".repeat(70 * 1024));
    expect(addr, "POST", "/publish", &json_type, huge.as_bytes(), 413).await;

    // Unexpected methods and paths.
    expect(addr, "GET", "/publish", &[], b"", 405).await;
    expect(addr, "DELETE", "/", &[], b"", 405).await;
    expect(addr, "PUT", "/healthz", &[], b"", 405).await;
    expect(addr, "GET", "/nowhere", &[], b"", 404).await;

    // Subscribe endpoints: channels, cursors, the strategy's own parameters.
    let (path, cursor) = match strategy {
        "sse" => ("/events", "last_event_id"),
        "websocket" => ("/ws", "since"),
        "long-polling" => ("/poll", "cursor"),
        _ => ("/messages", "cursor"),
    };
    let too_many: String = (0..33).map(|i| format!("channel=c{i}&")).collect();
    let mut bad_queries = vec![
        String::new(),
        "channel=".into(),
        "channel=a%20b".into(),
        "channel=%FF%FE".into(),
        format!("channel={}", "x".repeat(129)),
        too_many,
    ];
    for garbage in ["abc", "-1", "1.5", "99999999999999999999999", "%00", "%FF"] {
        bad_queries.push(format!("channel=news&{cursor}={garbage}"));
    }
    if strategy == "long-polling" {
        for timeout in ["0", "61", "abc", "-5"] {
            bad_queries.push(format!("channel=news&timeout={timeout}"));
        }
    }
    let ws_headers: &[(&str, &str)] = &[
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    let headers = if strategy == "websocket" {
        ws_headers
    } else {
        &[]
    };
    for query in &bad_queries {
        if strategy == "websocket" && query.is_empty() {
            continue; // /ws without channels is valid: subscribe by frames later.
        }
        expect(addr, "GET", &format!("{path}?{query}"), headers, b"", 400).await;
    }
    expect(addr, "POST", &format!("{path}?channel=news"), &[], b"", 405).await;

    match strategy {
        "sse" => {
            // Browsers only echo ids they got: a Last-Event-ID that does not parse
            // gets a reset, not an error that would make EventSource give up.
            for garbage in ["garbage", "-1", "99999999999999999999999", "caf\u{e9}"] {
                let mut stream =
                    EventStream::open(addr, "/events?channel=news", &[("Last-Event-ID", garbage)])
                        .await
                        .unwrap();
                assert_eq!(stream.status, 200, "Last-Event-ID {garbage:?}");
                let event = stream.next_within(Duration::from_secs(5)).await.unwrap();
                assert_eq!(
                    event.event.as_deref(),
                    Some("reset"),
                    "{garbage:?}: {event:?}"
                );
            }
        }
        "short-polling" => {
            for tag in ["garbage", "\"", "W/", "*, \"1\""] {
                let response = http::request(
                    addr,
                    "GET",
                    "/messages?channel=news",
                    &[("If-None-Match", tag)],
                    b"",
                )
                .await
                .unwrap();
                assert!(
                    matches!(response.status, 200 | 304),
                    "If-None-Match {tag:?}"
                );
            }
        }
        "websocket" => websocket_bad_input(addr).await,
        _ => {}
    }

    // Garbage that is not HTTP at all.
    for raw in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/9.9\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST /publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ] {
        if let Ok(response) = http::send_raw(addr, raw).await {
            assert!(
                (400..500).contains(&response.status),
                "{raw:?}: {}",
                response.status
            );
        }
    }

    // A publish token: missing, wrong and right.
    let guarded = Server::start(&binary, &[("PUBLISH_TOKEN", "s3cret")]);
    let body = br#"{"channel":"news","data":1}"#;
    for (authorization, status) in [
        (None, 401),
        (Some("Bearer wrong"), 401),
        (Some("Bearer s3cre"), 401),
        (Some("Bearer s3cret0"), 401),
        (Some("Basic s3cret"), 401),
        (Some("bearer"), 401),
        (Some("Bearer s3cret"), 200),
    ] {
        let mut headers = vec![("Content-Type", "application/json")];
        headers.extend(authorization.map(|a| ("Authorization", a)));
        expect(guarded.addr, "POST", "/publish", &headers, body, status).await;
    }

    assert_eq!(http::get(addr, "/healthz").await.status, 200);
    server.assert_no_panic();
    guarded.assert_no_panic();
}

/// Frames a WebSocket server must survive: each malformed one gets an error frame and
/// the connection stays; oversized and invalid UTF-8 close it with 1009 and 1007.
async fn websocket_bad_input(addr: SocketAddr) {
    // A foreign Origin is refused before the upgrade.
    let upgrade = [
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    for origin in [
        "https://evil.example",
        "null",
        "http://127.0.0.1.evil.example",
    ] {
        let mut headers = upgrade.to_vec();
        headers.push(("Origin", origin));
        expect(addr, "GET", "/ws?channel=news", &headers, b"", 403).await;
    }
    // Not an upgrade at all.
    let plain = http::get(addr, "/ws?channel=news").await;
    assert!((400..500).contains(&plain.status), "{}", plain.status);

    let mut ws = ws_connect(addr, "channel=news").await;
    ws_expect(&mut ws, "subscribed").await;
    for frame in [
        "not json",
        "{}",
        "[]",
        "null",
        r#"{"type":"dance","channel":"news"}"#,
        r#"{"type":"subscribe"}"#,
        r#"{"type":"subscribe","channel":"a b"}"#,
        r#"{"type":"subscribe","channel":"news","since":"yesterday"}"#,
        r#"{"type":"subscribe","channel":"news","since":42}"#,
        r#"{"type":"publish","channel":"news"}"#,
        r#"{"type":"subscribe","channel":"news","extra":true}"#,
    ] {
        ws.send(Message::text(frame)).await.unwrap();
        let reply = ws_expect(&mut ws, "error").await;
        assert!(
            reply["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{frame}: {reply}"
        );
    }
    ws.send(Message::binary(vec![0u8, 159, 146, 150]))
        .await
        .unwrap();
    ws_expect(&mut ws, "error").await;
    // Still usable after all of that.
    ws.send(Message::text(r#"{"type":"subscribe","channel":"other"}"#))
        .await
        .unwrap();
    ws_expect(&mut ws, "subscribed").await;

    for (payload, code) in [
        (vec![b'x'; 70 * 1024], 1009u16),
        (
            b"{\"type\":\"subscribe\",\"channel\":\"\xff\"}".to_vec(),
            1007,
        ),
    ] {
        let mut ws = ws_connect(addr, "channel=news").await;
        ws_expect(&mut ws, "subscribed").await;
        let frame = Frame::message(payload, OpCode::Data(Data::Text), true);
        ws.send(Message::Frame(frame)).await.unwrap();
        let mut closed = None;
        let next = tokio::time::timeout(Duration::from_secs(10), ws_next(&mut ws, &mut closed))
            .await
            .expect("closed within 10 s");
        assert!(next.is_none(), "{next:?}");
        assert_eq!(closed, Some(code));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_sse() {
    bad_input("sse").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_websocket() {
    bad_input("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_long_polling() {
    bad_input("long-polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_short_polling() {
    bad_input("short-polling").await;
}

// ---------------------------------------------------------------------------------
// Redis outage

/// What a resuming client received: the `seq` of every message, and how many explicit
/// resets.
#[derive(Default)]
struct Seen {
    seqs: BTreeSet<u64>,
    resets: usize,
}

/// A client of `strategy` that resumes by itself like the demo page does.
async fn resuming_client(strategy: String, addr: SocketAddr, seen: Arc<std::sync::Mutex<Seen>>) {
    let mut cursor: Option<String> = None;
    let keep = |data: &Value| {
        if let Some(seq) = data["seq"].as_u64() {
            seen.lock().unwrap().seqs.insert(seq);
        }
    };
    let reset = |cursor: &Value| {
        assert!(
            cursor.as_str().is_some_and(|c| c.parse::<u128>().is_ok()),
            "a reset carries its cursor: {cursor}"
        );
        seen.lock().unwrap().resets += 1;
    };
    loop {
        match strategy.as_str() {
            "sse" => {
                let headers: Vec<(&str, &str)> = cursor
                    .iter()
                    .map(|c| ("Last-Event-ID", c.as_str()))
                    .collect();
                if let Ok(mut stream) =
                    EventStream::open(addr, "/events?channel=steady", &headers).await
                    && stream.status == 200
                {
                    while let Ok(Some(event)) = stream.next().await {
                        cursor = event.id.clone().or(cursor);
                        if event.event.as_deref() == Some("reset") {
                            reset(&json!(event.id));
                        } else if event.event.is_none() {
                            let envelope: Value = serde_json::from_str(&event.data).unwrap();
                            keep(&envelope["data"]);
                        }
                    }
                }
            }
            "websocket" => {
                let since = cursor
                    .as_ref()
                    .map(|c| format!("&since={c}"))
                    .unwrap_or_default();
                let url = format!("ws://{addr}/ws?channel=steady{since}");
                if let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url).await {
                    while let Some(frame) = ws_next(&mut ws, &mut None).await {
                        match frame["type"].as_str() {
                            Some("message") => {
                                cursor = frame["id"].as_str().map(str::to_owned);
                                keep(&frame["data"]);
                            }
                            Some("reset") => {
                                reset(&frame["cursor"]);
                                cursor = frame["cursor"].as_str().map(str::to_owned);
                            }
                            _ => {}
                        }
                    }
                }
            }
            _ => {
                let path = if strategy == "long-polling" {
                    "/poll"
                } else {
                    "/messages"
                };
                let mut target = format!("{path}?channel=steady&timeout=5");
                if let Some(cursor) = &cursor {
                    target.push_str(&format!("&cursor={cursor}"));
                }
                if let Ok(response) = http::request(addr, "GET", &target, &[], b"").await
                    && response.status == 200
                {
                    let reply = response.json();
                    if reply["reset"] == true {
                        reset(&reply["cursor"]);
                    }
                    for message in reply["messages"].as_array().unwrap() {
                        keep(&message["data"]);
                    }
                    cursor = reply["cursor"].as_str().map(str::to_owned);
                    if strategy == "long-polling" {
                        continue;
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn redis_outage(strategy: &str) {
    let _one = ONE_DRILL.lock().await;
    let binary = support::server_binary(strategy, "redis");
    let mut redis = Redis::start();
    let url = redis.url();
    let prefix = unique_prefix(&format!("outage-{strategy}"));
    let server = Server::start(&binary, &[("REDIS_URL", &url), ("REDIS_PREFIX", &prefix)]);
    let addr = server.addr;
    let seen: Arc<std::sync::Mutex<Seen>> = Arc::default();
    let client = tokio::spawn(resuming_client(
        strategy.to_owned(),
        addr,
        Arc::clone(&seen),
    ));

    // A steady 20 publishes a second throughout; each records its seq and status.
    let mut statuses = Vec::new();
    let mut seq = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let mut step = async |statuses: &mut Vec<(u64, u16, u128)>| {
        tick.tick().await;
        seq += 1;
        let response = http::try_publish(addr, "steady", &json!({ "seq": seq }))
            .await
            .expect("the server answers during the outage");
        let mut id = 0;
        if response.status == 200 {
            id = response.json()["id"].as_str().unwrap().parse().unwrap();
        } else {
            assert_eq!(response.status, 503, "{}", response.text());
            assert!(response.json()["error"].is_string());
        }
        statuses.push((seq, response.status, id));
    };
    for _ in 0..20 {
        step(&mut statuses).await;
    }
    assert!(
        eventually(Duration::from_secs(10), || seen.lock().unwrap().seqs.len()
            >= 15),
        "delivery before the outage"
    );

    redis.kill();
    let outage = Instant::now();
    while outage.elapsed() < Duration::from_secs(2) {
        step(&mut statuses).await;
    }
    assert_eq!(
        http::get(addr, "/readyz").await.status,
        503,
        "/readyz during the outage"
    );
    redis.start_again();
    let restarted = Instant::now();
    let recovered_at = loop {
        step(&mut statuses).await;
        if let Some(&(seq, 200, _)) = statuses.last() {
            break seq;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(30),
            "publishing never recovered"
        );
    };
    let recovery = restarted.elapsed();
    for _ in 0..40 {
        step(&mut statuses).await;
    }
    let after: Vec<(u64, u128)> = statuses
        .iter()
        .filter(|(seq, status, _)| *seq >= recovered_at && *status == 200)
        .map(|(seq, _, id)| (*seq, *id))
        .collect();
    // Every message published after recovery arrives: a reset (the client's cursor
    // predates what Redis holds now) is followed by everything published since.
    let missing = || {
        let seen = seen.lock().unwrap();
        after
            .iter()
            .copied()
            .filter(|(seq, _)| !seen.seqs.contains(seq))
            .collect::<Vec<_>>()
    };
    let delivered = eventually(Duration::from_secs(20), || missing().is_empty());
    client.abort();
    let refused = statuses.iter().filter(|(_, s, _)| *s == 503).count();
    let missing = missing();
    println!(
        "{strategy}/redis outage: {refused} publishes got 503; publishing recovered {recovery:?} \
         after Redis restarted; of {} published after recovery, {} delivered ({} explicit \
         reset(s) on the way), missing {missing:?}",
        after.len(),
        after.len() - missing.len(),
        seen.lock().unwrap().resets,
    );
    assert!(refused > 0, "no publish saw the outage");
    assert!(
        delivered,
        "messages published after recovery never arrived: {missing:?}"
    );
    assert_eq!(http::get(addr, "/readyz").await.status, 200);
    server.assert_no_panic();
}

macro_rules! redis_rows {
    ($($test:ident: $strategy:literal,)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                redis_outage($strategy).await;
            }
        )*
    };
}

redis_rows! {
    redis_outage_sse: "sse",
    redis_outage_websocket: "websocket",
    redis_outage_long_polling: "long-polling",
    redis_outage_short_polling: "short-polling",
}

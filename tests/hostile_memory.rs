//! Hostile drills on what one anonymous client can make a generated service hold
//! (issue #14, classes 1-3 and 5): replays pinned by clients that never read, the
//! channel table filled by one address subscribing to random names (refused beyond its
//! share, never everyone) or churning through them on short connections, history wiped
//! by subscription churn, and (Redis) keys created by read paths and resumes that stall
//! another instance. Each drill is bounded in count and time, runs on loopback with its
//! own redis-server, prints its figures (`--nocapture`) and asserts the bound while a
//! legitimate client keeps publishing and receiving with nothing lost.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::http::{self, EventStream};
use support::redis::{Redis, unique_prefix};
use support::server::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

/// One drill at a time: they measure the server's memory, which a parallel drill
/// would disturb.
static ONE_DRILL: Mutex<()> = Mutex::const_new(());

/// Clients that resume from the start of a full history and then never read.
const STALLED: usize = 20;
/// About 7.5 MiB of history on one channel: within `CHANNEL_HISTORY_BYTES` (8 MiB).
const HISTORY_MESSAGES: usize = 120;
const MESSAGE_BYTES: usize = 64 * 1024 - 512;
/// What one stalled client may cost beyond its queue: a piece (256 KiB), the request,
/// and the allocator's slack around them.
const PER_STALLED_KIB: usize = 1024;
/// The server's own growth unrelated to the stalled clients (buffers, the legitimate
/// client, allocator arenas).
const SLACK_KIB: usize = 16 * 1024;

/// A connection whose receive buffer is tiny and which never reads.
async fn stuck_socket(addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(addr).await.unwrap()
}

/// The request a stalled client sends: a resume from `cursor` on `channel`.
fn resume_request(strategy: &str, addr: SocketAddr, channel: &str, cursor: &str) -> String {
    match strategy {
        "sse" => format!(
            "GET /events?channel={channel} HTTP/1.1\r\nHost: {addr}\r\nLast-Event-ID: {cursor}\r\n\r\n"
        ),
        "long-polling" => {
            format!("GET /poll?channel={channel}&cursor={cursor} HTTP/1.1\r\nHost: {addr}\r\n\r\n")
        }
        "short-polling" => format!(
            "GET /messages?channel={channel}&cursor={cursor} HTTP/1.1\r\nHost: {addr}\r\n\r\n"
        ),
        _ => format!(
            "GET /ws?channel={channel}&since={cursor} HTTP/1.1\r\nHost: {addr}\r\n\
             Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        ),
    }
}

/// The service's fan-out settings: a private Redis for the Redis fan-out.
fn fanout_env(fanout: &str, test: &str) -> (Option<Redis>, Vec<(String, String)>) {
    if fanout != "redis" {
        return (None, Vec::new());
    }
    let redis = Redis::start();
    let env = vec![
        ("REDIS_URL".to_owned(), redis.url()),
        ("REDIS_PREFIX".to_owned(), unique_prefix(test)),
    ];
    (Some(redis), env)
}

fn start(binary: &std::path::Path, env: &[(String, String)]) -> Server {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Server::start(binary, &env)
}

/// The `seq` of each `message` frame arriving on `ws`, until `count` arrived or
/// `deadline` passed; then closes `ws`.
async fn ws_seqs<S>(
    ws: &mut tokio_tungstenite::WebSocketStream<S>,
    count: usize,
    deadline: Instant,
) -> Vec<u64>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut seqs = Vec::new();
    while seqs.len() < count {
        let next = tokio::time::timeout_at(deadline.into(), ws.next()).await;
        let Ok(Some(Ok(frame))) = next else {
            break;
        };
        if let Message::Text(text) = frame {
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["type"] == "message" {
                seqs.push(frame["data"]["seq"].as_u64().unwrap());
            }
        }
    }
    let _ = ws.close(None).await;
    seqs
}

/// A legitimate client of `strategy` on channel `live`: it collects the `seq` of every
/// message it receives until `count` arrived (or 20 s passed) and returns them.
async fn legitimate_reader(strategy: &str, addr: SocketAddr, count: usize) -> Vec<u64> {
    let mut seqs = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    match strategy {
        "sse" => {
            let mut stream = EventStream::open(addr, "/events?channel=live", &[])
                .await
                .unwrap();
            while seqs.len() < count {
                let left = deadline.saturating_duration_since(Instant::now());
                let Some(event) = stream.next_within(left).await else {
                    break;
                };
                let envelope: Value = serde_json::from_str(&event.data).unwrap();
                seqs.push(envelope["data"]["seq"].as_u64().unwrap());
            }
        }
        "websocket" => {
            let url = format!("ws://{addr}/ws?channel=live");
            let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
            seqs = ws_seqs(&mut ws, count, deadline).await;
        }
        _ => {
            let path = if strategy == "long-polling" {
                "/poll?timeout=1&channel=live"
            } else {
                "/messages?channel=live"
            };
            // Without a cursor, a long poll waits for the next message and a short
            // poll answers the current cursor: either way, what it answers counts.
            let mut cursor: Option<String> = None;
            while seqs.len() < count && Instant::now() < deadline {
                let target = match &cursor {
                    Some(cursor) => format!("{path}&cursor={cursor}"),
                    None => path.to_owned(),
                };
                let body = http::get(addr, &target).await.json();
                for message in body["messages"].as_array().into_iter().flatten() {
                    seqs.push(message["data"]["seq"].as_u64().unwrap());
                }
                cursor = body["cursor"].as_str().map(str::to_owned);
                if strategy == "short-polling" {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    seqs
}

async fn replay_amplification(strategy: &str, fanout: &str, extra: &[(&str, &str)]) {
    let _one = ONE_DRILL.lock().await;
    let binary = support::server_binary(strategy, fanout);
    let (_redis, mut env) = fanout_env(fanout, &format!("replay-{strategy}"));
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let server = start(&binary, &env);
    let addr = server.addr;

    let seen = http::publish(addr, "big", &json!("seen")).await;
    let pad = "x".repeat(MESSAGE_BYTES);
    for n in 0..HISTORY_MESSAGES {
        http::publish(addr, "big", &json!({ "n": n, "pad": pad })).await;
    }
    let rss_before = server.rss_kib();

    // The legitimate client starts before the attack and must get everything.
    const LIVE: usize = 40;
    let reader = {
        let strategy = strategy.to_owned();
        tokio::spawn(async move { legitimate_reader(&strategy, addr, LIVE).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut stalled = Vec::new();
    for _ in 0..STALLED {
        let mut socket = stuck_socket(addr).await;
        let request = resume_request(strategy, addr, "big", &seen);
        socket.write_all(request.as_bytes()).await.unwrap();
        stalled.push(socket);
    }
    let peak = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let peak = Arc::clone(&peak);
        let pid = server.pid();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            loop {
                tick.tick().await;
                peak.fetch_max(
                    support::server::proc_status(pid, "VmRSS:"),
                    Ordering::Relaxed,
                );
            }
        })
    };
    let started = Instant::now();
    let mut publish_ms = Vec::new();
    for seq in 0..LIVE {
        let sent = Instant::now();
        http::publish(addr, "live", &json!({ "seq": seq })).await;
        publish_ms.push(sent.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let received = reader.await.unwrap();
    // Let the stalled replays run into their full sockets.
    tokio::time::sleep(Duration::from_secs(2).saturating_sub(started.elapsed())).await;
    sampler.abort();
    let rss_peak = peak.load(Ordering::Relaxed).max(server.rss_kib());
    let growth = rss_peak.saturating_sub(rss_before);
    publish_ms.sort_by(f64::total_cmp);
    let history_kib = HISTORY_MESSAGES * MESSAGE_BYTES / 1024;
    println!(
        "replay amplification, {strategy} + {fanout} {extra:?}: {STALLED} stalled resumes of \
         {history_kib} KiB each; server RSS {rss_before} KiB before, peak {rss_peak} KiB \
         (+{growth} KiB, {} KiB per stalled client); legitimate client got {} of {LIVE}, \
         publish p50 {:.1} ms, max {:.1} ms",
        growth / STALLED,
        received.len(),
        publish_ms[publish_ms.len() / 2],
        publish_ms[publish_ms.len() - 1],
    );
    assert_eq!(
        received,
        (0..LIVE as u64).collect::<Vec<_>>(),
        "the legitimate client got every message, in order"
    );
    let bound = STALLED * PER_STALLED_KIB + SLACK_KIB;
    assert!(
        growth <= bound,
        "{STALLED} stalled clients grew the server by {growth} KiB (bound {bound} KiB)"
    );
    drop(stalled);
    server.assert_no_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_amplification_sse_memory_direct_path() {
    replay_amplification("sse", "memory", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_amplification_sse_memory_through_hyper() {
    replay_amplification("sse", "memory", &[("DIRECT_PATH", "off")]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_amplification_sse_redis() {
    replay_amplification("sse", "redis", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_amplification_websocket_memory() {
    replay_amplification("websocket", "memory", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_amplification_websocket_redis() {
    replay_amplification("websocket", "redis", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_amplification_long_polling_memory() {
    replay_amplification("long-polling", "memory", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_amplification_long_polling_redis() {
    replay_amplification("long-polling", "redis", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_amplification_short_polling_memory() {
    replay_amplification("short-polling", "memory", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_amplification_short_polling_redis() {
    replay_amplification("short-polling", "redis", &[]).await;
}

/// The channel table of the channel-table drills, and how many names the attacker
/// asks for: four times the table.
const TABLE: usize = 64;
const FLOOD: usize = 4 * TABLE;
/// Channels one WebSocket may hold (`MAX_CHANNELS_PER_CLIENT` in the template): the
/// attacker spreads its names over this many per socket.
const PER_SOCKET: usize = 32;
/// The attacker's and the legitimate client's loopback addresses, `127.0.0.{n}`.
const ATTACKER: u8 = 2;
const LEGIT: u8 = 3;

type Socket = tokio_tungstenite::WebSocketStream<TcpStream>;

/// A WebSocket on `/ws` (no channel yet) from `127.0.0.{last}`.
async fn ws_from(last: u8, addr: SocketAddr) -> Socket {
    let stream = http::connect_from(last, addr).await.unwrap();
    let url = format!("ws://{addr}/ws");
    let (ws, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .unwrap_or_else(|e| panic!("WebSocket from 127.0.0.{last}: {e}"));
    ws
}

/// The next text frame (pings are answered by the library), within 10 s.
async fn next_frame(ws: &mut Socket, what: &str) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap_or_else(|_| panic!("{what}: no answer within 10 s"))
            .unwrap_or_else(|| panic!("{what}: the connection ended"))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        if let Message::Text(text) = frame {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// Subscribes to `channel` by frame and returns the answer: `Ok` for `subscribed`,
/// `Err` with the message of a `limit` refusal by the channel table's share rule; any
/// other answer fails the test.
async fn try_subscribe(ws: &mut Socket, channel: &str) -> Result<(), String> {
    let frame = json!({ "type": "subscribe", "channel": channel });
    ws.send(Message::text(frame.to_string())).await.unwrap();
    let answer = next_frame(ws, &format!("subscribe {channel}")).await;
    match answer["type"].as_str() {
        Some("subscribed") if answer["channel"] == channel => Ok(()),
        Some("error")
            if answer["code"] == "limit"
                && answer["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("(MAX_CHANNELS)")) =>
        {
            Err(answer["message"].as_str().unwrap().to_owned())
        }
        _ => panic!("subscribe {channel}: unexpected answer {answer}"),
    }
}

/// `count` channel names nobody else uses.
fn random_names(prefix: &str, count: usize) -> Vec<String> {
    use std::hash::BuildHasher;
    let keys = std::collections::hash_map::RandomState::new();
    (0..count)
        .map(|n| format!("{prefix}-{:016x}", keys.hash_one(n)))
        .collect()
}

/// `POST /publish` from `127.0.0.{last}`: the status and the body.
async fn publish_from(last: u8, addr: SocketAddr, channel: &str, data: &Value) -> (u16, String) {
    let body = json!({ "channel": channel, "data": data }).to_string();
    let raw = format!(
        "POST /publish HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let response = http::send_raw_from(last, addr, raw.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("POST /publish from 127.0.0.{last}: {e}"));
    (response.status, response.text())
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A `/ws?channel={channel}` upgrade from `127.0.0.{last}` that the server is expected
/// to refuse: the status, the head and the body of its answer (read by its
/// `Content-Length`: the server may keep the connection open after it).
async fn refused_upgrade(last: u8, addr: SocketAddr, channel: &str) -> (u16, String, String) {
    let raw = format!(
        "GET /ws?channel={channel} HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\n\
         Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    let answer = async {
        let mut stream = http::connect_from(last, addr).await.unwrap();
        stream.write_all(raw.as_bytes()).await.unwrap();
        let mut reply = Vec::new();
        let mut buf = [0; 4096];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the upgrade's answer ended early: {reply:?}");
            reply.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&reply);
            let Some((head, body)) = text.split_once("\r\n\r\n") else {
                continue;
            };
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                return (head.to_owned(), body.to_owned());
            }
        }
    };
    let (head, body) = tokio::time::timeout(Duration::from_secs(10), answer)
        .await
        .expect("an answer to the upgrade within 10 s");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    (status, head, body)
}

/// Cancels a spawned task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the attacker got while the legitimate client worked.
#[derive(Default)]
struct Pressure {
    accepted: usize,
    refused: usize,
    /// The status of each `/ws?channel=` upgrade.
    upgrades: Vec<u16>,
}

/// The attacker keeps asking for new names on `sockets` (which hold nothing, so only
/// the table's share rule can refuse them) and tries `UPGRADES` `/ws?channel=`
/// upgrades, until `stop` is set and the upgrades are done.
async fn keep_pressing(
    addr: SocketAddr,
    mut sockets: Vec<Socket>,
    stop: Arc<AtomicBool>,
) -> Pressure {
    const UPGRADES: usize = 4;
    let mut pressure = Pressure::default();
    let names = random_names("again", 4096);
    for (n, name) in names.iter().enumerate() {
        if stop.load(Ordering::Relaxed) && pressure.upgrades.len() == UPGRADES {
            break;
        }
        if n % 8 == 0 && pressure.upgrades.len() < UPGRADES {
            let (status, head, body) = refused_upgrade(ATTACKER, addr, &format!("up-{name}")).await;
            if status == 429 {
                assert!(
                    body.contains("(MAX_CHANNELS)"),
                    "429 for the table's share: {body}"
                );
                assert!(
                    head.to_ascii_lowercase().contains("\r\nretry-after:"),
                    "429 with Retry-After: {head}"
                );
            }
            pressure.upgrades.push(status);
        }
        let socket = n % sockets.len();
        match try_subscribe(&mut sockets[socket], name).await {
            Ok(()) => pressure.accepted += 1,
            Err(_) => pressure.refused += 1,
        }
    }
    for mut socket in sockets {
        let _ = socket.close(None).await;
    }
    pressure
}

/// What the legitimate client from `127.0.0.{LEGIT}` got while an attack ran.
struct Served {
    /// Milliseconds each subscribe to a new channel took.
    subscribe_ms: Vec<f64>,
    /// Milliseconds each publish took, sorted.
    publish_ms: Vec<f64>,
    /// Publishes not answered 200: the status and the body.
    failed: Vec<String>,
    /// The `seq` of each message received, in arrival order.
    received: Vec<u64>,
    elapsed: Duration,
}

impl Served {
    const SUBSCRIBED: usize = 8;
    const RECEIVED: usize = 40;
    /// Every sixth publish goes to a channel nobody subscribed to.
    const PUBLISHED: usize = Self::RECEIVED + Self::SUBSCRIBED;

    /// Subscribes one WebSocket to `SUBSCRIBED` new channels, publishes `PUBLISHED`
    /// messages (to those, and to new channels nobody follows: publishing to a new
    /// channel must work too) and reads what arrives. A refused subscribe fails the
    /// test at once; the rest is checked by [`Self::assert_nothing_lost`].
    async fn measure(addr: SocketAddr) -> Self {
        let started = Instant::now();
        let mut legit = ws_from(LEGIT, addr).await;
        let channels = random_names("legit", Self::SUBSCRIBED);
        let mut subscribe_ms = Vec::new();
        for channel in &channels {
            let sent = Instant::now();
            if let Err(message) = try_subscribe(&mut legit, channel).await {
                panic!("the legitimate client was refused a new channel: {message}");
            }
            subscribe_ms.push(millis(sent.elapsed()));
        }
        let reader = tokio::spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            ws_seqs(&mut legit, Self::RECEIVED, deadline).await
        });
        let fresh = random_names("fresh", Self::PUBLISHED - Self::RECEIVED);
        let (mut to_subscribed, mut to_fresh) = (0, 0);
        let mut publish_ms = Vec::new();
        let mut failed = Vec::new();
        for n in 0..Self::PUBLISHED {
            let (channel, data) = if n % 6 == 5 {
                to_fresh += 1;
                (&fresh[to_fresh - 1], json!({ "fresh": n }))
            } else {
                to_subscribed += 1;
                let seq = to_subscribed - 1;
                (&channels[seq % Self::SUBSCRIBED], json!({ "seq": seq }))
            };
            let sent = Instant::now();
            let (status, body) = publish_from(LEGIT, addr, channel, &data).await;
            publish_ms.push(millis(sent.elapsed()));
            if status != 200 {
                failed.push(format!("{status} {body}"));
            }
        }
        let received = reader.await.unwrap();
        publish_ms.sort_by(f64::total_cmp);
        Self {
            subscribe_ms,
            publish_ms,
            failed,
            received,
            elapsed: started.elapsed(),
        }
    }

    fn figures(&self) -> String {
        let slowest_subscribe = self.subscribe_ms.iter().copied().fold(0.0, f64::max);
        format!(
            "The legitimate client (127.0.0.{LEGIT}) subscribed to {} new channels ({} ok, \
             max {slowest_subscribe:.1} ms), published {} ({} to them, {} to new channels; \
             {} failed, p50 {:.1} ms, max {:.1} ms) and received {} of {}",
            Self::SUBSCRIBED,
            self.subscribe_ms.len(),
            Self::PUBLISHED,
            Self::RECEIVED,
            Self::PUBLISHED - Self::RECEIVED,
            self.failed.len(),
            self.publish_ms[self.publish_ms.len() / 2],
            self.publish_ms[self.publish_ms.len() - 1],
            self.received.len(),
            Self::RECEIVED,
        )
    }

    fn assert_nothing_lost(&self) {
        assert!(
            self.failed.is_empty(),
            "legitimate publishes failed: {:?}",
            self.failed
        );
        assert_eq!(
            self.received,
            (0..Self::RECEIVED as u64).collect::<Vec<_>>(),
            "the legitimate client got every message, in order"
        );
    }
}

/// One address subscribing to many names must not deny anyone else a channel
/// (issue #14, class 2): with `MAX_CHANNELS=64`, the attacker from 127.0.0.2 floods the
/// table with 256 random names over WebSockets; once the table is full it is refused
/// (`limit` frames, 429 on `?channel=` upgrades) because it holds more than its equal
/// share, while the legitimate client from 127.0.0.3 still subscribes to new channels,
/// publishes (to those and to new ones) and receives everything. Before the fix, a
/// full table answered every new subscribe and publish 503, for everyone.
async fn channel_table_exhaustion(fanout: &str) {
    let _one = ONE_DRILL.lock().await;
    let binary = support::server_binary("websocket", fanout);
    let (_redis, mut env) = fanout_env(fanout, "table");
    env.push(("MAX_CHANNELS".into(), TABLE.to_string()));
    let server = start(&binary, &env);
    let addr = server.addr;

    // Phase 1: the flood, a subscribe frame at a time over FLOOD / PER_SOCKET sockets.
    let started = Instant::now();
    let mut sockets = Vec::new();
    for _ in 0..FLOOD / PER_SOCKET {
        sockets.push(ws_from(ATTACKER, addr).await);
    }
    let (mut accepted, mut refused) = (0, 0);
    let mut full_after = None;
    let mut held = vec![0; sockets.len()];
    let mut refusal = String::new();
    for (n, name) in random_names("flood", FLOOD).iter().enumerate() {
        let socket = n / PER_SOCKET;
        match try_subscribe(&mut sockets[socket], name).await {
            Ok(()) => {
                accepted += 1;
                held[socket] += 1;
            }
            Err(message) => {
                refused += 1;
                if full_after.is_none() {
                    full_after = Some(started.elapsed());
                    refusal = message;
                }
            }
        }
    }
    let flood_time = started.elapsed();
    println!(
        "channel table exhaustion, websocket + {fanout}, MAX_CHANNELS={TABLE}: the attacker \
         (127.0.0.{ATTACKER}, {} sockets) asked for {FLOOD} random channels in {:.0} ms: \
         {accepted} accepted, {refused} refused with a `limit` frame (first {}: {refusal:?})",
        sockets.len(),
        millis(flood_time),
        full_after.map_or("never".to_owned(), |t| format!("after {:.0} ms", millis(t))),
    );
    assert_eq!(
        accepted, TABLE,
        "the attacker alone gets the whole table ({TABLE}) and no more"
    );
    assert_eq!(refused, FLOOD - TABLE);

    // Phase 2: the attacker keeps pressing, on the sockets that hold nothing, while the
    // legitimate client subscribes to new channels, publishes and receives.
    // The sockets that hold the attacker's channels stay open throughout: closing them
    // would give the channels back.
    let (holding, idle): (Vec<_>, Vec<_>) = sockets
        .into_iter()
        .zip(held)
        .partition(|(_, held)| *held > 0);
    let idle: Vec<Socket> = idle.into_iter().map(|(socket, _)| socket).collect();
    assert!(!idle.is_empty(), "some attacker sockets hold nothing");
    let stop = Arc::new(AtomicBool::new(false));
    let attacker = tokio::spawn(keep_pressing(addr, idle, Arc::clone(&stop)));
    // Should the legitimate client's checks fail, the attacker stops before the server
    // goes, rather than failing a second time on its closed sockets.
    let _abort = AbortOnDrop(attacker.abort_handle());

    let served = Served::measure(addr).await;
    stop.store(true, Ordering::Relaxed);
    let pressure = attacker.await.unwrap();
    println!(
        "channel table exhaustion, websocket + {fanout}: during the legitimate phase \
         ({:.0} ms) the attacker asked for {} more channels: {} accepted, {} refused; its \
         /ws?channel= upgrades answered {:?}. {}",
        millis(served.elapsed),
        pressure.accepted + pressure.refused,
        pressure.accepted,
        pressure.refused,
        pressure.upgrades,
        served.figures(),
    );
    assert_eq!(
        pressure.accepted, 0,
        "the attacker, over its share of a full table, got new channels"
    );
    assert!(pressure.refused > 0, "the attacker kept pressing");
    assert_eq!(
        pressure.upgrades,
        vec![429; 4],
        "the attacker's /ws?channel= upgrades are refused 429"
    );
    drop(holding);
    served.assert_nothing_lost();
    server.assert_no_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_table_exhaustion_memory() {
    channel_table_exhaustion("memory").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_table_exhaustion_redis() {
    channel_table_exhaustion("redis").await;
}

/// What the churning attacker did.
#[derive(Default)]
struct Churn {
    /// Connections that subscribed to a new name and left.
    accepted: usize,
    refused: usize,
}

/// Opens a WebSocket from the attacker, subscribes to one new name and leaves, again
/// and again: the channel outlives its last subscriber (in Redis, for the grace period
/// of its subscription), so the table fills without the attacker holding anything.
/// Counts the names in `churned` and stops once `stop` is set.
async fn churn(addr: SocketAddr, stop: Arc<AtomicBool>, churned: Arc<AtomicUsize>) -> Churn {
    let mut churn = Churn::default();
    for name in random_names("churn", 100_000) {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let mut ws = ws_from(ATTACKER, addr).await;
        match try_subscribe(&mut ws, &name).await {
            Ok(()) => churn.accepted += 1,
            Err(_) => churn.refused += 1,
        }
        let _ = ws.close(None).await;
        churned.fetch_add(1, Ordering::Relaxed);
    }
    churn
}

/// Channels that exist only because someone subscribed and left must not deny anyone
/// else (issue #14, class 2, the form seen against the Redis fan-out: short
/// connections to ever new names, nothing held open, made 84% of legitimate new
/// subscribes fail). The attacker churns through several times `MAX_CHANNELS` names
/// before and while the legitimate client subscribes, publishes and receives.
async fn channel_churn(fanout: &str) {
    let _one = ONE_DRILL.lock().await;
    let binary = support::server_binary("websocket", fanout);
    let (_redis, mut env) = fanout_env(fanout, "churn");
    env.push(("MAX_CHANNELS".into(), TABLE.to_string()));
    let server = start(&binary, &env);
    let addr = server.addr;

    // The churn runs on through the legitimate phase, which starts once FLOOD names
    // (four tables' worth) have come and gone: in Redis all within the grace period (5 s)
    // of the first, so the table holds them all.
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let attacker = tokio::spawn(churn(addr, Arc::clone(&stop), Arc::clone(&count)));
    let _abort = AbortOnDrop(attacker.abort_handle());
    while count.load(Ordering::Relaxed) < FLOOD {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the attacker churned only {} names in 5 s",
            count.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let head_start = started.elapsed();
    let during = count.load(Ordering::Relaxed);
    let served = Served::measure(addr).await;
    stop.store(true, Ordering::Relaxed);
    let churned = attacker.await.unwrap();
    let elapsed = started.elapsed();
    let total = churned.accepted + churned.refused;
    println!(
        "channel churn, websocket + {fanout}, MAX_CHANNELS={TABLE}: the attacker \
         (127.0.0.{ATTACKER}) subscribed to {total} new names, one short connection each, \
         in {:.0} ms ({:.0}/s; {} refused); {during} of them in {:.0} ms before the \
         legitimate phase, {} during it. {}",
        millis(elapsed),
        total as f64 / elapsed.as_secs_f64(),
        churned.refused,
        millis(head_start),
        total - during,
        served.figures(),
    );
    assert!(
        total > during,
        "the attacker kept churning during the legitimate phase"
    );
    served.assert_nothing_lost();
    // Holding one channel at a time, the attacker is within any share: churning costs
    // it nothing, and must cost nobody else anything either.
    assert_eq!(
        churned.refused, 0,
        "a client holding one channel was refused"
    );
    server.assert_no_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_churn_memory() {
    channel_churn("memory").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_churn_redis() {
    channel_churn("redis").await;
}

/// Subscribing to and leaving thousands of channels on one WebSocket must not evict
/// the history of a channel with recent publishes: its subscribers never get a reset.
async fn history_wipe_by_churn(fanout: &str) {
    let _one = ONE_DRILL.lock().await;
    let binary = support::server_binary("websocket", fanout);
    let (_redis, mut env) = fanout_env(fanout, "churn");
    env.push(("MAX_CHANNELS".into(), "64".into()));
    let server = start(&binary, &env);
    let addr = server.addr;

    let before = http::publish(addr, "other", &json!("before")).await;
    let mut kept = Vec::new();
    for n in 0..5 {
        kept.push(http::publish(addr, "victim", &json!(n)).await);
    }

    const PAIRS: usize = 5_000;
    let url = format!("ws://{addr}/ws");
    let (churn, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let (mut commands, mut answers_in) = churn.split();
    let started = Instant::now();
    // Sent while the answers are read, so neither side's buffers fill up.
    let sender = tokio::spawn(async move {
        for n in 0..PAIRS {
            for kind in ["subscribe", "unsubscribe"] {
                let frame = json!({ "type": kind, "channel": format!("churn{n}") });
                commands
                    .send(Message::text(frame.to_string()))
                    .await
                    .unwrap();
            }
        }
        commands
    });
    let mut refused = 0;
    let mut answers = 0;
    while answers < 2 * PAIRS {
        let frame = tokio::time::timeout(Duration::from_secs(20), answers_in.next())
            .await
            .expect("the churn's answers within 20 s")
            .expect("an answer")
            .unwrap();
        if let Message::Text(text) = frame {
            let frame: Value = serde_json::from_str(&text).unwrap();
            refused += usize::from(frame["type"] == "error");
            answers += 1;
        }
    }
    let churn_time = started.elapsed();
    drop(sender.await.unwrap());

    let (mut victim, _) =
        tokio_tungstenite::connect_async(format!("{url}?channel=victim&since={before}"))
            .await
            .unwrap();
    let mut frames = Vec::new();
    while frames.len() < 1 + kept.len() {
        let Some(Ok(Message::Text(text))) = victim.next().await else {
            panic!("the victim's connection ended");
        };
        frames.push(serde_json::from_str::<Value>(&text).unwrap());
    }
    println!(
        "history wipe by churn, websocket + {fanout}: {PAIRS} subscribe/unsubscribe pairs in \
         {churn_time:?} ({refused} refused) with MAX_CHANNELS=64; the victim resumed: {:?}",
        frames.iter().map(|f| f["type"].clone()).collect::<Vec<_>>()
    );
    assert_eq!(frames[0]["type"], "subscribed");
    let ids: Vec<&str> = frames[1..]
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(
        frames[1..].iter().all(|f| f["type"] == "message"),
        "no reset: {frames:?}"
    );
    assert_eq!(ids, kept.iter().map(String::as_str).collect::<Vec<_>>());
    server.assert_no_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_wipe_by_churn_memory() {
    history_wipe_by_churn("memory").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_wipe_by_churn_redis() {
    history_wipe_by_churn("redis").await;
}

/// `DBSIZE` of the Redis on `port`, over its plain protocol.
async fn dbsize(port: u16) -> usize {
    let mut redis = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    redis.write_all(b"*1\r\n$6\r\nDBSIZE\r\n").await.unwrap();
    let mut reply = [0; 64];
    let n = redis.read(&mut reply).await.unwrap();
    let reply = std::str::from_utf8(&reply[..n]).unwrap();
    reply
        .trim()
        .strip_prefix(':')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("DBSIZE answered {reply:?}"))
}

/// Anonymous resumes over 32 channels nobody published to read Redis, and must not
/// leave a key behind (they made 32 each before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_read_paths_create_no_keys() {
    let _one = ONE_DRILL.lock().await;
    let binary = support::server_binary("short-polling", "redis");
    let (redis, env) = fanout_env("redis", "no-keys");
    let port = redis.as_ref().unwrap().port;
    let server = start(&binary, &env);
    let addr = server.addr;
    http::publish(addr, "news", &json!("first")).await;
    let keys_before = dbsize(port).await;

    const REQUESTS: usize = 300;
    let started = Instant::now();
    let channels: Vec<String> = (0..32).map(|n| format!("channel=quiet{n}")).collect();
    for n in 0..REQUESTS {
        // An old cursor: every channel is read, and every one has no history.
        let target = format!("/messages?{}&cursor={}", channels.join("&"), 1_000_000 + n);
        let response = http::get(addr, &target).await;
        assert_eq!(response.status, 200, "{}", response.text());
    }
    let elapsed = started.elapsed();
    let keys_after = dbsize(port).await;
    println!(
        "redis read paths: {REQUESTS} anonymous 32-channel resumes in {elapsed:?}; Redis keys \
         {keys_before} before, {keys_after} after"
    );
    assert_eq!(keys_after, keys_before, "read paths created keys");
    // And publishing still works.
    http::publish(addr, "news", &json!("after")).await;
    server.assert_no_panic();
}

/// Eight anonymous resumes over 32 channels with long histories, on one instance:
/// Redis answers them a piece per script call, so the other instance keeps
/// publishing and delivering (before, one call read every channel whole and held
/// Redis for about a second, and publishes failed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_multi_channel_resumes_do_not_stall_another_instance() {
    let _one = ONE_DRILL.lock().await;
    let binary = support::server_binary("sse", "redis");
    let (_redis, env) = fanout_env("redis", "stall");
    let resumed = start(&binary, &env);
    let other = start(&binary, &env);

    let seen = http::publish(resumed.addr, "c0", &json!("seen")).await;
    let pad = "x".repeat(MESSAGE_BYTES);
    for n in 0..32 * 16 {
        http::publish(
            resumed.addr,
            &format!("c{}", n % 32),
            &json!({ "pad": pad }),
        )
        .await;
    }
    let query: Vec<String> = (0..32).map(|n| format!("channel=c{n}")).collect();
    let target = format!("/events?{}", query.join("&"));

    const LIVE: usize = 40;
    let reader = {
        let addr = other.addr;
        tokio::spawn(async move { legitimate_reader("sse", addr, LIVE).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut resumes = Vec::new();
    for _ in 0..8 {
        let mut socket = stuck_socket(resumed.addr).await;
        let addr = resumed.addr;
        let head =
            format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nLast-Event-ID: {seen}\r\n\r\n");
        socket.write_all(head.as_bytes()).await.unwrap();
        resumes.push(socket);
    }
    let mut failed = 0;
    let mut publish_ms = Vec::new();
    for seq in 0..LIVE {
        let sent = Instant::now();
        let data = json!({ "seq": seq });
        match http::try_publish(other.addr, "live", &data).await {
            Ok(response) if response.status == 200 => {}
            _ => failed += 1,
        }
        publish_ms.push(sent.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let received = reader.await.unwrap();
    publish_ms.sort_by(f64::total_cmp);
    println!(
        "redis stall: 8 stalled 32-channel resumes over {} KiB of history on one instance; \
         the other published {LIVE} ({failed} failed, p50 {:.1} ms, max {:.1} ms) and \
         delivered {} of them",
        32 * 16 * MESSAGE_BYTES / 1024,
        publish_ms[publish_ms.len() / 2],
        publish_ms[publish_ms.len() - 1],
        received.len()
    );
    assert_eq!(failed, 0, "publishes on the other instance failed");
    assert_eq!(received, (0..LIVE as u64).collect::<Vec<_>>());
    drop(resumes);
    resumed.assert_no_panic();
    other.assert_no_panic();
}

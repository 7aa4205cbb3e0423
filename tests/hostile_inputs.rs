//! Hostile-input drills on the generated services (issue #14, classes 7, 8, 10 and 12),
//! on loopback only and bounded in count and time: junk JSON floods over HTTP and
//! WebSocket, cross-site form posts, a `PUBLISH_TOKEN` brute force, a Redis restart under
//! idle instances, and a big history in Redis. During every attack a legitimate client
//! (127.0.0.1; the attacker comes from other 127.x addresses) keeps publishing and
//! receiving, and must lose nothing. Figures are printed (`--nocapture`); none of them is
//! asserted against a time.

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::http::EventStream;
use support::redis::{Redis, unique_prefix};
use support::server::Server;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// One drill at a time: they print CPU, memory and latency, which another drill running
/// beside them would disturb.
static ONE_DRILL: Mutex<()> = Mutex::const_new(());

/// Where attacks come from; the legitimate client uses 127.0.0.1.
const ATTACKER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// Guards every wait on the server.
const PATIENCE: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------------
// Clients

/// A TCP connection to `server` from the loopback address `from`.
async fn connect_from(from: Ipv4Addr, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((from, 0)))?;
    socket.connect(server).await
}

/// One request (`Connection: close`) from `from`; the status and the body. A server
/// that refuses a body without reading it may reset the connection after answering:
/// what arrived before the reset is the answer.
async fn request_from(
    from: Ipv4Addr,
    server: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = connect_from(from, server).await?;
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut raw = head.into_bytes();
    raw.extend_from_slice(body);
    // The server may answer and close before taking the whole body.
    let written = stream.write_all(&raw).await;
    let mut reply = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut reply))
        .await
        .map_err(|_| std::io::Error::other("no answer in time"))?;
    let end = reply.windows(4).position(|w| w == b"\r\n\r\n");
    let (Some(end), Ok(status)) = (end, status_of(&reply)) else {
        read?;
        written?;
        return Err(std::io::Error::other("no response head"));
    };
    Ok((status, reply[end + 4..].to_vec()))
}

fn status_of(reply: &[u8]) -> std::io::Result<u16> {
    std::str::from_utf8(reply.get(..12).unwrap_or_default())
        .ok()
        .and_then(|line| line.get(9..12))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))
}

/// `POST /publish` as JSON from `from`, with `authorization` when given.
async fn publish_from(
    from: Ipv4Addr,
    server: SocketAddr,
    channel: &str,
    data: &Value,
    authorization: Option<&str>,
) -> std::io::Result<(u16, Vec<u8>)> {
    let body = json!({ "channel": channel, "data": data }).to_string();
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend(authorization.map(|value| ("Authorization", value)));
    request_from(from, server, "POST", "/publish", &headers, body.as_bytes()).await
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// p50 and p95, in milliseconds.
fn summary(mut samples: Vec<f64>) -> (f64, f64) {
    assert!(!samples.is_empty(), "nothing measured");
    samples.sort_by(f64::total_cmp);
    (percentile(&samples, 0.5), percentile(&samples, 0.95))
}

/// The server's CPU time so far (user and system), from /proc.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which may hold spaces, in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |n: usize| {
        fields
            .get(n)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are the 14th and 15th fields: 12th and 13th after the name.
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_millis((ticks(11) + ticks(12)) * 1000 / per_second)
}

// ---------------------------------------------------------------------------------
// The legitimate client

/// What a subscriber received: the `seq` of each message on its channel, in order
/// (`u64::MAX` for a message without one).
type Received = Arc<StdMutex<Vec<u64>>>;

/// A subscriber to `channel` on the strategy's transport, from 127.0.0.1, that keeps the
/// `seq` of every message. Returns once the subscription is confirmed.
async fn subscriber(strategy: &str, addr: SocketAddr, channel: &str) -> (Received, JoinHandle<()>) {
    let received: Received = Arc::default();
    let keep = {
        let received = Arc::clone(&received);
        move |envelope: &Value| {
            // Messages carry an id; `subscribed` frames and the like do not.
            if envelope["id"].is_string() {
                let seq = envelope["data"]["seq"].as_u64().unwrap_or(u64::MAX);
                received.lock().unwrap().push(seq);
            }
        }
    };
    let task = match strategy {
        "sse" => {
            let target = format!("/events?channel={channel}");
            let mut stream = EventStream::open(addr, &target, &[]).await.unwrap();
            assert_eq!(stream.status, 200, "the legitimate subscriber is refused");
            tokio::spawn(async move {
                while let Ok(Some(event)) = stream.next().await {
                    if let Ok(envelope) = serde_json::from_str(&event.data) {
                        keep(&envelope);
                    }
                }
            })
        }
        "websocket" => {
            let url = format!("ws://{addr}/ws?channel={channel}");
            let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
            let first = ws_frame(&mut ws).await.expect("a subscribed frame");
            assert_eq!(first["type"], "subscribed", "{first}");
            tokio::spawn(async move {
                while let Some(frame) = ws_frame(&mut ws).await {
                    keep(&frame);
                }
            })
        }
        other => panic!("no subscriber for {other} here"),
    };
    (received, task)
}

/// The next text frame as JSON; `None` once the connection ends.
async fn ws_frame<S>(ws: &mut WebSocketStream<S>) -> Option<Value>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        match ws.next().await? {
            Ok(Message::Text(text)) => return serde_json::from_str(&text).ok(),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// The legitimate client: publishes `{"seq": n}` to `legit` every 20 ms until `stop`,
/// from 127.0.0.1, and receives them on its own subscription.
struct Legit {
    stop: Arc<AtomicBool>,
    publisher: JoinHandle<Vec<(u64, u16, f64)>>,
    received: Received,
    subscription: JoinHandle<()>,
}

impl Legit {
    async fn start(strategy: &str, addr: SocketAddr, token: Option<&str>) -> Self {
        let (received, subscription) = subscriber(strategy, addr, "legit").await;
        let stop = Arc::new(AtomicBool::new(false));
        let authorization = token.map(|token| format!("Bearer {token}"));
        let publisher = {
            let stop = Arc::clone(&stop);
            tokio::spawn(async move {
                let mut sent = Vec::new();
                let mut tick = tokio::time::interval(Duration::from_millis(20));
                let mut seq = 0;
                while !stop.load(Ordering::Relaxed) {
                    tick.tick().await;
                    let started = Instant::now();
                    let data = json!({ "seq": seq });
                    let localhost = Ipv4Addr::LOCALHOST;
                    let status =
                        publish_from(localhost, addr, "legit", &data, authorization.as_deref())
                            .await
                            .map_or(0, |(status, _)| status);
                    sent.push((seq, status, started.elapsed().as_secs_f64() * 1000.0));
                    seq += 1;
                }
                sent
            })
        };
        // Some traffic before the attack starts.
        tokio::time::sleep(Duration::from_millis(200)).await;
        Self {
            stop,
            publisher,
            received,
            subscription,
        }
    }

    /// Stops publishing and checks that every publish was accepted and received once,
    /// in order; returns the figures (count, p50 and p95 publish latency in ms).
    async fn finish(self, drill: &str) -> (usize, f64, f64) {
        self.stop.store(true, Ordering::Relaxed);
        let sent = self.publisher.await.unwrap();
        let refused: Vec<_> = sent
            .iter()
            .filter(|(_, status, _)| *status != 200)
            .collect();
        assert!(
            refused.is_empty(),
            "{drill}: legitimate publishes refused: {refused:?}"
        );
        let expected: Vec<u64> = sent.iter().map(|(seq, _, _)| *seq).collect();
        let deadline = Instant::now() + PATIENCE;
        while self.received.lock().unwrap().len() < expected.len() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.subscription.abort();
        let received = self.received.lock().unwrap().clone();
        assert_eq!(
            received, expected,
            "{drill}: the legitimate subscriber lost, repeated or reordered messages"
        );
        let (p50, p95) = summary(sent.iter().map(|(_, _, ms)| *ms).collect());
        (sent.len(), p50, p95)
    }
}

// ---------------------------------------------------------------------------------
// Junk JSON floods (class 8)

/// Publish bodies common client parsers reject or the service must refuse, with the
/// status each must get.
fn junk() -> Vec<(&'static str, &'static str, Vec<u8>, u16)> {
    let json = "application/json";
    let publish = |data: String| format!(r#"{{"channel":"news","data":{data}}}"#).into_bytes();
    vec![
        (
            "20,000-deep nesting",
            json,
            publish(format!("{}0{}", "[".repeat(20_000), "]".repeat(20_000))),
            400,
        ),
        (
            "65-deep nesting",
            json,
            publish(format!("{}0{}", "[".repeat(65), "]".repeat(65))),
            400,
        ),
        (
            "a lone surrogate",
            json,
            publish(r#"["\ud800"]"#.to_owned()),
            400,
        ),
        (
            "a lone trailing surrogate key",
            json,
            publish(r#"{"\udc00":1}"#.to_owned()),
            400,
        ),
        ("1e999999", json, publish("1e999999".to_owned()), 400),
        ("-1e999999", json, publish("[-1e999999]".to_owned()), 400),
        (
            "not JSON",
            json,
            b"{\"channel\":\"news\",\"data\":".to_vec(),
            400,
        ),
        ("text/plain", "text/plain", publish("1".to_owned()), 415),
        (
            "70 KiB",
            json,
            publish(format!("\"{}\"", "x".repeat(70 * 1024))),
            413,
        ),
    ]
}

async fn junk_json_flood(strategy: &str) {
    let _one = ONE_DRILL.lock().await;
    let binary = support::server_binary(strategy, "memory");
    let server = Server::start(&binary, &[("AUTH_MODE", "none")]);
    let addr = server.addr;
    // The attacked channel: nothing of the junk may reach its subscriber.
    let (victim, victim_task) = subscriber(strategy, addr, "news").await;
    let legit = Legit::start(strategy, addr, None).await;
    let rss_before = server.rss_kib();
    let cpu_before = cpu_time(server.pid());
    let started = Instant::now();

    // Four attackers, 120 requests each, cycling through the junk.
    const ATTACKERS: usize = 4;
    const REQUESTS: usize = 120;
    let attackers: Vec<_> = (0..ATTACKERS)
        .map(|n| {
            tokio::spawn(async move {
                let junk = junk();
                let mut wrong = Vec::new();
                for i in 0..REQUESTS {
                    let (what, content_type, body, expected) = &junk[(i + n) % junk.len()];
                    let headers = [("Content-Type", *content_type)];
                    let status = request_from(ATTACKER, addr, "POST", "/publish", &headers, body)
                        .await
                        .map_or(0, |(status, _)| status);
                    if status != *expected {
                        wrong.push(format!("{what}: {status}, expected {expected}"));
                    }
                }
                wrong
            })
        })
        .collect();
    let mut wrong = Vec::new();
    for attacker in attackers {
        wrong.extend(attacker.await.unwrap());
    }
    // The same content over WebSocket publish frames: an error frame each, and the
    // connection stays.
    let mut frames_refused = 0;
    if strategy == "websocket" {
        let stream = connect_from(ATTACKER, addr).await.unwrap();
        let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/ws"), stream)
            .await
            .unwrap();
        for (i, data) in [
            "[".repeat(20_000) + &"]".repeat(20_000),
            r#""\ud800""#.into(),
            "1e999999".into(),
        ]
        .iter()
        .cycle()
        .take(300)
        .enumerate()
        {
            let frame = format!(r#"{{"type":"publish","channel":"news","data":{data}}}"#);
            ws.send(Message::text(frame)).await.unwrap();
            let reply = tokio::time::timeout(PATIENCE, ws_frame(&mut ws))
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("frame {i}: the connection closed"));
            assert_eq!(reply["code"], "bad_request", "frame {i}: {reply}");
            frames_refused += 1;
        }
    }
    let attack = started.elapsed();
    let cpu = cpu_time(server.pid()).saturating_sub(cpu_before);
    let rss_after = server.rss_kib();
    let (published, p50, p95) = legit.finish(&format!("{strategy} junk flood")).await;
    victim_task.abort();
    let requests = ATTACKERS * REQUESTS;
    println!(
        "{strategy} junk JSON flood: {requests} junk publishes in {attack:.2?} ({:.0}/s){}, \
         server CPU {cpu:?}, RSS {rss_before} -> {rss_after} KiB; legitimate client: \
         {published} published and received, publish p50 {p50:.1} ms, p95 {p95:.1} ms",
        requests as f64 / attack.as_secs_f64(),
        if frames_refused > 0 {
            format!(" and {frames_refused} junk publish frames refused with bad_request")
        } else {
            String::new()
        },
    );
    assert!(wrong.is_empty(), "junk answered otherwise: {wrong:?}");
    assert!(
        victim.lock().unwrap().is_empty(),
        "junk reached a subscriber"
    );
    server.assert_no_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_json_flood_sse() {
    junk_json_flood("sse").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_json_flood_websocket() {
    junk_json_flood("websocket").await;
}

// ---------------------------------------------------------------------------------
// Cross-site publish (class 7)

/// What a page on another site can make a browser send without a CORS preflight: an
/// HTML form (`text/plain`, urlencoded or multipart) or a no-cors `fetch`, carrying the
/// user's cookies. The classic trick is a `text/plain` form whose single field spells a
/// JSON body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_form_post_is_refused() {
    let _one = ONE_DRILL.lock().await;
    let binary = support::server_binary("sse", "memory");
    // No token needed to publish: only the Content-Type rule stands in the way.
    let server = Server::start(&binary, &[("AUTH_MODE", "none")]);
    let addr = server.addr;
    let (victim, victim_task) = subscriber("sse", addr, "news").await;
    let legit = Legit::start("sse", addr, None).await;
    let payload = r#"{"channel":"news","data":"forged"}"#;
    let multipart =
        format!("--x\r\nContent-Disposition: form-data; name=\"{payload}\"\r\n\r\n\r\n--x--\r\n");
    let forms: [(&str, String); 5] = [
        ("text/plain", format!("{payload}=")),
        ("text/plain;charset=UTF-8", payload.to_owned()),
        ("application/x-www-form-urlencoded", format!("{payload}=")),
        ("multipart/form-data; boundary=x", multipart),
        ("", payload.to_owned()),
    ];
    let mut statuses = Vec::new();
    for round in 0..20 {
        for (content_type, body) in &forms {
            let mut headers = vec![
                ("Origin", "https://evil.example"),
                ("Cookie", "rt_token=the-users-cookie"),
            ];
            if !content_type.is_empty() {
                headers.push(("Content-Type", content_type));
            }
            let (status, _) = request_from(
                ATTACKER,
                addr,
                "POST",
                "/publish",
                &headers,
                body.as_bytes(),
            )
            .await
            .unwrap();
            if round == 0 {
                statuses.push(format!("{content_type:?}: {status}"));
            }
            assert_eq!(status, 415, "a form post as {content_type:?}");
        }
    }
    // A page sending JSON needs the preflight, which other origins fail.
    let preflight = [
        ("Origin", "https://evil.example"),
        ("Access-Control-Request-Method", "POST"),
        ("Access-Control-Request-Headers", "content-type"),
    ];
    let mut stream = connect_from(ATTACKER, addr).await.unwrap();
    let head = format!(
        "OPTIONS /publish HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{}\r\n",
        preflight
            .iter()
            .map(|(name, value)| format!("{name}: {value}\r\n"))
            .collect::<String>()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    let allowed = reply
        .to_ascii_lowercase()
        .contains("access-control-allow-origin");
    let (published, p50, p95) = legit.finish("cross-site form post").await;
    victim_task.abort();
    println!(
        "cross-site form post: 100 posts (5 forms x 20) all answered 415 ({}); the JSON \
         preflight from another origin {} CORS; legitimate client: {published} published \
         and received, publish p50 {p50:.1} ms, p95 {p95:.1} ms",
        statuses.join(", "),
        if allowed { "got" } else { "got no" },
    );
    assert!(!allowed, "another origin passes the preflight:\n{reply}");
    assert!(
        victim.lock().unwrap().is_empty(),
        "a forged message was delivered"
    );
    server.assert_no_panic();
}

// ---------------------------------------------------------------------------------
// Token brute force (class 10)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_token_brute_force_learns_nothing() {
    let _one = ONE_DRILL.lock().await;
    let binary = support::server_binary("sse", "memory");
    let token = "4f1b2c9de07a6b35c8d1e2f30a4b5c6d";
    // A generous throttle for failed authentications (where the service has one), so
    // that every guess reaches the comparison and its timing is measured.
    let server = Server::start(
        &binary,
        &[
            ("AUTH_MODE", "none"),
            ("PUBLISH_TOKEN", token),
            ("AUTH_FAILURE_BURST", "1000000"),
        ],
    );
    let addr = server.addr;
    let legit = Legit::start("sse", addr, Some(token)).await;
    let mut last_wrong = token.to_owned();
    last_wrong.replace_range(31.., "e");
    let guesses: [(&str, String); 6] = [
        ("first byte wrong", format!("0{}", &token[1..])),
        ("31 of 32 bytes right", last_wrong),
        ("one byte", "4".to_owned()),
        ("the token and one more", format!("{token}0")),
        ("4 KiB", "4".repeat(4096)),
        ("bearer in lower case, wrong", format!("x{}", &token[1..])),
    ];
    const ROUNDS: usize = 60;
    let mut timings: Vec<Vec<f64>> = vec![Vec::new(); guesses.len()];
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let started = Instant::now();
    for _ in 0..ROUNDS {
        for (n, (what, guess)) in guesses.iter().enumerate() {
            let scheme = if what.starts_with("bearer") {
                "bearer"
            } else {
                "Bearer"
            };
            let authorization = format!("{scheme} {guess}");
            let began = Instant::now();
            let (status, _) = publish_from(
                ATTACKER,
                addr,
                "news",
                &json!("guess"),
                Some(&authorization),
            )
            .await
            .unwrap();
            timings[n].push(began.elapsed().as_secs_f64() * 1_000_000.0);
            *statuses.entry(status).or_default() += 1;
            assert!(
                status == 401 || status == 429,
                "a wrong token ({what}) was answered {status}"
            );
        }
    }
    let attack = started.elapsed();
    let (published, p50, p95) = legit.finish("token brute force").await;
    let figures: Vec<String> = guesses
        .iter()
        .zip(timings)
        .map(|((what, _), samples)| {
            let (median, p95) = summary(samples);
            format!("{what}: median {median:.0} us, p95 {p95:.0} us")
        })
        .collect();
    println!(
        "token brute force: {} guesses in {attack:.2?}, answered {statuses:?}; per kind \
         (the comparison hashes both sides and compares 32 bytes, so none should stand \
         out): {}; legitimate client (the right token): {published} published and \
         received, publish p50 {p50:.1} ms, p95 {p95:.1} ms",
        ROUNDS * guesses.len(),
        figures.join("; "),
    );
    assert!(
        !server.log().contains(token),
        "the token reached the service's log"
    );
    server.assert_no_panic();
}

// ---------------------------------------------------------------------------------
// Redis (class 12 and the history's bytes)

/// Runs `redis-cli` against `redis`; its output lines.
fn redis_cli(redis: &Redis, args: &[&str]) -> Vec<String> {
    let output = Command::new("redis-cli")
        .args(["-p", &redis.port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli (installed with redis-server)");
    assert!(output.status.success(), "redis-cli {args:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// How long a new subscription on `addr` takes to deliver a message published right
/// after it opens, counted from `since`.
async fn first_delivery(addr: SocketAddr, channel: &str, since: Instant) -> Duration {
    let (received, task) = subscriber("sse", addr, channel).await;
    let (status, _) = publish_from(
        Ipv4Addr::LOCALHOST,
        addr,
        channel,
        &json!({ "seq": 0 }),
        None,
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "publishing after the restart");
    let deadline = Instant::now() + PATIENCE;
    while received.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the first message never arrived");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    task.abort();
    since.elapsed()
}

async fn wait_ready(addr: SocketAddr) {
    let deadline = Instant::now() + PATIENCE;
    while support::http::get(addr, "/readyz").await.status != 200 {
        assert!(Instant::now() < deadline, "ready within 15 s of Redis");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Redis restarts under an instance that follows no channel: the first client to
/// subscribe once Redis is back must not wait for a reconnect delay grown during an
/// earlier outage (nor get a 503).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_under_an_idle_instance_delays_no_subscriber() {
    let _one = ONE_DRILL.lock().await;
    let binary = support::server_binary("sse", "redis");
    let mut redis = Redis::start();
    let url = redis.url();
    let prefix = unique_prefix("idle-restart");
    let env = [
        ("AUTH_MODE", "none"),
        ("REDIS_URL", url.as_str()),
        ("REDIS_PREFIX", prefix.as_str()),
    ];
    let idle = Server::start(&binary, &env);
    let busy = Server::start(&binary, &env);
    wait_ready(idle.addr).await;
    wait_ready(busy.addr).await;
    let mut figures = Vec::new();
    // A long outage, then two short ones: the link's delay grows during the long one
    // and must not stay grown.
    for (n, outage) in [Duration::from_secs(4), Duration::ZERO, Duration::ZERO]
        .into_iter()
        .enumerate()
    {
        redis.kill();
        tokio::time::sleep(outage).await;
        redis.start_again();
        // Only the idle instance is asked: the other meets Redis again through its
        // legitimate client, whose first commands find the old connection gone.
        wait_ready(idle.addr).await;
        let ready = Instant::now();
        // At once, the first client of the idle instance, and the legitimate client on
        // the other one (subscribing there first too), which then publishes and
        // receives with nothing lost.
        let channel = format!("first-{n}");
        let (waited, legit) = tokio::join!(
            first_delivery(idle.addr, &channel, ready),
            Legit::start("sse", busy.addr, None)
        );
        let (published, ..) = legit.finish("Redis restart").await;
        figures.push(format!(
            "after a {outage:?} outage, the first subscription delivered {waited:.2?} after \
             Redis was ready ({published} legitimate messages meanwhile, none lost)"
        ));
        // Promptly: the old link slept out a reconnect delay grown in the long outage
        // (2.5 to 5 s) and never reset on an idle instance.
        assert!(
            waited < Duration::from_millis(1500),
            "the first subscription after the restart waited {waited:?}; the idle \
             instance's log:\n{}",
            idle.log()
        );
        // Let the link settle, as an idle instance does between outages.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    println!("Redis restart, idle instance: {}", figures.join("; "));
    idle.assert_no_panic();
    busy.assert_no_panic();
}

/// A channel whose messages add up to more than `CHANNEL_HISTORY_BYTES`: its stream in
/// Redis holds no more, live subscribers lose nothing, and a resume from its start gets
/// a reset and then what is held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_history_in_redis_is_trimmed_by_bytes() {
    let _one = ONE_DRILL.lock().await;
    let binary = support::server_binary("sse", "redis");
    let redis = Redis::start();
    let url = redis.url();
    let prefix = unique_prefix("history-bytes");
    // The default bound (8 MiB), and a count bound that does not get in the way.
    let server = Server::start(
        &binary,
        &[
            ("AUTH_MODE", "none"),
            ("REDIS_URL", url.as_str()),
            ("REDIS_PREFIX", prefix.as_str()),
            ("HISTORY_LEN", "100000"),
        ],
    );
    let addr = server.addr;
    const BOUND: u64 = 8 << 20;
    let (received, task) = subscriber("sse", addr, "big").await;
    let legit = Legit::start("sse", addr, None).await;
    let memory = |redis: &Redis| {
        redis_cli(redis, &["INFO", "memory"])
            .iter()
            .find_map(|line| {
                line.strip_prefix("used_memory:")?
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .unwrap_or(0)
    };
    let before = memory(&redis);
    let pad = "x".repeat(60 * 1024);
    let mut ids = Vec::new();
    const MESSAGES: u64 = 200;
    for seq in 0..MESSAGES {
        let (status, body) = publish_from(
            ATTACKER,
            addr,
            "big",
            &json!({ "seq": seq, "pad": pad }),
            None,
        )
        .await
        .unwrap();
        assert_eq!(status, 200);
        let reply: Value = serde_json::from_slice(&body).unwrap();
        ids.push(reply["id"].as_str().unwrap().to_owned());
    }
    let stream = format!("{prefix}history:big");
    // Entries and the bytes of their data, counted in Redis.
    let counted = redis_cli(
        &redis,
        &[
            "EVAL",
            "local n, b = 0, 0 \
             for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do \
               n = n + 1; b = b + #e[2][4] end \
             return {n, b}",
            "1",
            &stream,
        ],
    );
    let (entries, bytes): (u64, u64) = (counted[0].parse().unwrap(), counted[1].parse().unwrap());
    let after = memory(&redis);
    let deadline = Instant::now() + PATIENCE;
    while (received.lock().unwrap().len() as u64) < MESSAGES && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    task.abort();
    let live: Vec<u64> = received.lock().unwrap().clone();
    let (published, p50, p95) = legit.finish("big history").await;
    // A resume from the first message: a reset, then what is held, the newest last.
    let mut resume = EventStream::open(addr, "/events?channel=big", &[("Last-Event-ID", &ids[0])])
        .await
        .unwrap();
    let first = resume.next_within(PATIENCE).await.expect("a first event");
    let mut replayed = 0;
    let mut last = None;
    while last.as_deref() != ids.last().map(String::as_str) {
        let event = resume
            .next_within(PATIENCE)
            .await
            .expect("the replay goes on");
        if event.data.contains("\"seq\"") {
            replayed += 1;
            last = event.id.clone();
        }
    }
    println!(
        "big history in Redis: {MESSAGES} messages of 60 KiB ({:.1} MiB) on one channel; its \
         stream holds {entries} entries, {bytes} bytes of data (bound {BOUND}); Redis used \
         memory {:.1} -> {:.1} MiB; live subscriber got {} of {MESSAGES}; a resume from the \
         first id got {:?} then {replayed} messages; legitimate client: {published} \
         published and received, publish p50 {p50:.1} ms, p95 {p95:.1} ms",
        (MESSAGES * 60 * 1024) as f64 / 1048576.0,
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        live.len(),
        first.event,
    );
    assert!(
        bytes <= BOUND,
        "the stream holds {bytes} bytes, over {BOUND}"
    );
    assert!(
        bytes + 61 * 1024 > BOUND,
        "trimmed by more than one message: {bytes} bytes"
    );
    assert_eq!(
        live,
        (0..MESSAGES).collect::<Vec<_>>(),
        "live delivery lost messages"
    );
    assert_eq!(
        first.event.as_deref(),
        Some("reset"),
        "a resume from the start"
    );
    assert_eq!(
        replayed, entries,
        "the resume replays what the stream holds"
    );
    assert_eq!(last.as_deref(), ids.last().map(String::as_str));
    server.assert_no_panic();
}

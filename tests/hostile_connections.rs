//! Hostile drills against what one anonymous client could make a generated service hold
//! through its connections (issue #14: slowloris, connection floods, Origin gaps,
//! ambiguous headers, junk uploads, token guessing). Each drill is bounded in count
//! and time, runs on loopback only (127.0.0.2 and up play attackers, 127.0.0.1 the
//! legitimate client), prints its figures (`--nocapture`) and asserts the bound: the
//! attack is refused or cut, and a legitimate client keeps publishing and receiving,
//! with nothing lost, while it runs.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;
use support::http::{self, EventStream, connect_from, send_raw_from};
use support::server::{Server, eventually, raise_fd_limit};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// One drill at a time: they count the server's descriptors and CPU, which a parallel
/// drill would disturb.
static ONE_DRILL: Mutex<()> = Mutex::const_new(());

/// Any answer comes well within this, even on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(10);

/// The legitimate client: an event stream from 127.0.0.1, and a kept-alive connection
/// it publishes on (opened before any attack, as a real publisher's pool would be).
struct Legit {
    addr: SocketAddr,
    channel: String,
    stream: EventStream,
    publisher: BufReader<TcpStream>,
    token: Option<String>,
    /// Messages published and received, and the slowest round trip.
    delivered: usize,
    slowest: Duration,
}

impl Legit {
    async fn start(addr: SocketAddr, channel: &str, token: Option<&str>) -> Self {
        let target = format!("/events?channel={channel}");
        let stream = EventStream::open(addr, &target, &[])
            .await
            .expect("the legitimate stream");
        assert_eq!(stream.status, 200);
        let publisher = BufReader::new(connect_from(1, addr).await.expect("connect"));
        Self {
            addr,
            channel: channel.to_owned(),
            stream,
            publisher,
            token: token.map(str::to_owned),
            delivered: 0,
            slowest: Duration::ZERO,
        }
    }

    /// Publishes one message on the kept-alive connection and waits for it on the
    /// stream: nothing may be lost or reordered.
    async fn round(&mut self) {
        let started = Instant::now();
        let body = json!({"channel": self.channel, "data": self.delivered}).to_string();
        let auth = self
            .token
            .as_ref()
            .map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        let request = format!(
            "POST /publish HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n{auth}\
             Content-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        let stream = self.publisher.get_mut();
        stream.write_all(request.as_bytes()).await.expect("publish");
        let (status, length) = read_head(&mut self.publisher).await;
        let mut reply = vec![0; length];
        self.publisher.read_exact(&mut reply).await.expect("reply");
        assert_eq!(status, 200, "publish: {}", String::from_utf8_lossy(&reply));
        let reply: serde_json::Value = serde_json::from_slice(&reply).expect("JSON");
        let event = self
            .stream
            .next_within(PATIENCE)
            .await
            .expect("the stream is open");
        assert_eq!(
            event.id.as_deref(),
            reply["id"].as_str(),
            "in order, none lost"
        );
        let sent = format!("\"data\":{}", self.delivered);
        assert!(event.data.contains(&sent), "{}", event.data);
        self.delivered += 1;
        self.slowest = self.slowest.max(started.elapsed());
    }

    fn report(&self, drill: &str) {
        println!(
            "{drill}: the legitimate client published and received {} messages, none \
             lost, slowest round trip {:?}",
            self.delivered, self.slowest
        );
    }
}

/// Reads a response head: the status and its `content-length` (0 without).
async fn read_head(reader: &mut BufReader<TcpStream>) -> (u16, usize) {
    let mut line = String::new();
    tokio::time::timeout(PATIENCE, reader.read_line(&mut line))
        .await
        .expect("a status line in time")
        .expect("a status line");
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {line:?}"));
    let mut length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line).await.expect("a header");
        if line.trim().is_empty() {
            return (status, length);
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().expect("a length");
        }
    }
}

/// Whether the server closed `stream` within `limit` (reading whatever it sent).
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    let mut buffer = [0; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}

/// The server's CPU time so far (user and system), from /proc.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("a stat line")
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_millis(ticks * 1000 / per_second)
}

fn sse_server(env: &[(&str, &str)]) -> Server {
    raise_fd_limit(20_000);
    let binary = support::server_binary("sse", "memory");
    Server::start(&binary, env)
}

/// Silent connections and half-sent heads, on new connections (the direct path waits
/// for a first head, hyper reads the half-sent ones) and on kept-alive connections
/// (hyper, between requests): all are closed on their deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_is_cut_on_every_path() {
    const SILENT: usize = 600;
    const HALF: usize = 600;
    const KEPT: usize = 200;
    let _one = ONE_DRILL.lock().await;
    let server = sse_server(&[("HEADER_TIMEOUT_SECS", "2"), ("IDLE_TIMEOUT_SECS", "4")]);
    let addr = server.addr;
    let mut legit = Legit::start(addr, "legit", None).await;
    legit.round().await;
    let fds_before = server.open_fds();

    let started = Instant::now();
    let mut attackers = Vec::new();
    for i in 0..SILENT + HALF {
        let last = 2 + (i % 4) as u8;
        let mut stream = connect_from(last, addr).await.expect("connect");
        if i >= SILENT {
            stream
                .write_all(b"GET /events?channel=legit HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .await
                .expect("half a head");
        }
        attackers.push(stream);
    }
    for _ in 0..KEPT {
        let mut stream = connect_from(6, addr).await.expect("connect");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHo")
            .await
            .expect("a head and a half");
        attackers.push(stream);
    }
    let held = server.open_fds();
    println!(
        "slowloris: {} attacking connections open ({} descriptors, {} before)",
        attackers.len(),
        held,
        fds_before
    );
    // The legitimate client is served throughout.
    while started.elapsed() < Duration::from_secs(3) {
        legit.round().await;
    }
    let mut cut = 0;
    for stream in &mut attackers {
        if closed_within(stream, PATIENCE).await {
            cut += 1;
        }
    }
    println!(
        "slowloris: {cut} of {} cut within {:?} (header timeout 2 s, idle 4 s)",
        attackers.len(),
        started.elapsed()
    );
    assert_eq!(cut, attackers.len(), "every slow connection is closed");
    drop(attackers);
    assert!(
        eventually(PATIENCE, || server.open_fds() <= fds_before + 2),
        "descriptors back to {fds_before}: {}",
        server.open_fds()
    );
    legit.round().await;
    legit.report("slowloris");
    server.assert_no_panic();
}

/// One address opens connections without end: it hits its own cap and is answered
/// 503, while a client on another address is served. Then many addresses fill the
/// total: new connections get 503, `/healthz` still answers, and the legitimate
/// client's open connections keep working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_flood_costs_the_flooder() {
    const PER_ADDR: usize = 300;
    const TOTAL: usize = 900;
    let _one = ONE_DRILL.lock().await;
    let per_addr = PER_ADDR.to_string();
    let total = TOTAL.to_string();
    let server = sse_server(&[
        ("MAX_CONNECTIONS_PER_ADDR", &per_addr),
        ("MAX_CONNECTIONS", &total),
    ]);
    let addr = server.addr;
    let mut legit = Legit::start(addr, "legit", None).await;
    legit.round().await;
    let rss_before = server.rss_kib();

    // One flooding address: streams up to its cap, then 503s.
    let mut held = Vec::new();
    let mut refused = 0;
    for attempt in 0..PER_ADDR * 2 {
        let target = "/events?channel=flood";
        let stream = connect_from(2, addr).await.expect("connect");
        match EventStream::open_on(stream, addr, target, &[]).await {
            Ok(stream) if stream.status == 200 => held.push(stream),
            Ok(stream) => {
                assert_eq!(stream.status, 503);
                assert!(stream.header("retry-after").is_some());
                refused += 1;
            }
            // Closed unanswered: past the reserve for refusals.
            Err(_) => refused += 1,
        }
        if attempt % 100 == 0 {
            legit.round().await;
        }
    }
    println!(
        "flood from one address: {} streams held, {refused} refused; server {} -> {} KiB",
        held.len(),
        rss_before,
        server.rss_kib()
    );
    assert_eq!(held.len(), PER_ADDR, "the flooder gets its cap and no more");
    for _ in 0..20 {
        legit.round().await;
    }

    // Many flooding addresses fill the total.
    let mut last = 3;
    let mut at_cap = None;
    while held.len() < TOTAL + 50 {
        let stream = connect_from(last, addr).await.expect("connect");
        match EventStream::open_on(stream, addr, "/events?channel=flood", &[]).await {
            Ok(stream) if stream.status == 200 => held.push(stream),
            _ => {
                at_cap = Some(held.len());
                break;
            }
        }
        if held.len() % PER_ADDR == 0 {
            last += 1;
        }
    }
    // The legitimate client's stream and publishing connection count too.
    let at_cap = at_cap.expect("the total cap is reached");
    println!("flood from many addresses: refused at {at_cap} streams (MAX_CONNECTIONS={TOTAL})");
    assert!(at_cap + 2 <= TOTAL, "{at_cap}");
    let health = send_raw_from(
        200,
        addr,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await
    .expect("healthz at the cap");
    assert_eq!(health.status, 200, "healthz at the cap");
    let refused = send_raw_from(
        200,
        addr,
        b"GET /events?channel=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await
    .expect("an answer at the cap");
    assert_eq!(refused.status, 503);
    assert!(refused.header("retry-after").is_some());
    for _ in 0..20 {
        legit.round().await;
    }
    println!(
        "at the cap: /healthz 200, a new stream 503 with Retry-After; server {} KiB",
        server.rss_kib()
    );
    legit.report("connection flood");
    drop(held);
    server.assert_no_panic();
}

/// The gaps of the old Origin check: the scheme, a second `Origin`, and a rebound name
/// whose `Host` matches its `Origin`. Each is refused 403 with no upgrade; the
/// service's own page still connects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origin_gaps_are_closed() {
    let _one = ONE_DRILL.lock().await;
    let binary = support::server_binary("websocket", "memory");
    let server = Server::start(&binary, &[]);
    let addr = server.addr;
    let port = addr.port();
    let handshake = "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
                     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nConnection: close\r\n";
    let own = format!("Host: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n");
    let attempts = [
        (
            "https on the same host",
            format!("Host: 127.0.0.1:{port}\r\nOrigin: https://127.0.0.1:{port}\r\n"),
            403,
        ),
        (
            "ftp on the same host",
            format!("Host: 127.0.0.1:{port}\r\nOrigin: ftp://127.0.0.1:{port}\r\n"),
            403,
        ),
        (
            "two Origins",
            format!("{own}Origin: http://evil.example\r\n"),
            403,
        ),
        (
            "an allowed Origin after a foreign one",
            format!(
                "Host: 127.0.0.1:{port}\r\nOrigin: http://evil.example\r\nOrigin: http://127.0.0.1:{port}\r\n"
            ),
            403,
        ),
        (
            "DNS rebinding",
            format!("Host: evil.example:{port}\r\nOrigin: http://evil.example:{port}\r\n"),
            403,
        ),
        ("the service's own page", own.clone(), 101),
    ];
    for (what, headers, want) in attempts {
        let raw = format!("GET /ws HTTP/1.1\r\n{headers}{handshake}\r\n");
        let mut stream = connect_from(2, addr).await.expect("connect");
        stream.write_all(raw.as_bytes()).await.expect("send");
        let mut reader = BufReader::new(stream);
        let (status, _) = read_head(&mut reader).await;
        println!("origin: {what}: {status}");
        assert_eq!(status, want, "{what}");
    }
    server.assert_no_panic();
}

/// Two `Last-Event-ID` headers made the replay depend on which parser read them (the
/// direct path took the last, hyper the first). Both paths answer 400 now, and the
/// legitimate client's resume is unaffected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_last_event_ids_are_refused_on_both_paths() {
    let _one = ONE_DRILL.lock().await;
    let server = sse_server(&[]);
    let addr = server.addr;
    let mut legit = Legit::start(addr, "legit", None).await;
    legit.round().await;
    let ambiguous = "GET /events?channel=legit HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 1\r\n\
                     Last-Event-ID: 999999\r\n\r\n";
    // A new connection: the direct path.
    let direct = send_raw_from(2, addr, ambiguous.as_bytes())
        .await
        .expect("an answer");
    assert_eq!(direct.status, 400, "direct path: {}", direct.text());
    assert_eq!(
        direct.header("connection"),
        Some("close"),
        "the direct path answered"
    );
    // A kept-alive connection: hyper.
    let mut stream = connect_from(2, addr).await.expect("connect");
    let raw = format!("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n{ambiguous}");
    stream.write_all(raw.as_bytes()).await.expect("send");
    let mut reader = BufReader::new(stream);
    let (health, length) = read_head(&mut reader).await;
    assert_eq!(health, 200);
    let mut skip = vec![0; length];
    reader.read_exact(&mut skip).await.expect("the health body");
    let (status, _) = read_head(&mut reader).await;
    assert_eq!(status, 400, "hyper path");
    println!(
        "duplicate Last-Event-ID: direct path {}, hyper path {status}",
        direct.status
    );
    for _ in 0..5 {
        legit.round().await;
    }
    legit.report("duplicate Last-Event-ID");
    server.assert_no_panic();
}

/// A junk upload after a stream's request used to be read 64 bytes at a time for as
/// long as it came (200 MiB: 2.6 s of server CPU). The stream now ends at its first
/// byte, so the upload stalls once the socket buffers are full.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_junk_upload_on_the_direct_path_is_not_read() {
    const OFFERED: usize = 200 << 20;
    let _one = ONE_DRILL.lock().await;
    let server = sse_server(&[]);
    let addr = server.addr;
    let mut legit = Legit::start(addr, "legit", None).await;
    legit.round().await;
    let cpu_before = cpu_time(server.pid());
    let stream = connect_from(2, addr).await.expect("connect");
    let events = EventStream::open_on(stream, addr, "/events?channel=junk", &[])
        .await
        .expect("a stream");
    assert_eq!(events.status, 200);
    assert!(
        events.header("transfer-encoding").is_none(),
        "the direct path"
    );
    let (mut reader, mut writer) = events.into_inner().into_split();
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    let upload = async {
        while sent < OFFERED {
            match writer.write(&chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => sent += n,
            }
        }
    };
    // Once nothing is read, the socket buffers fill and the write waits: give up then.
    let _ = tokio::time::timeout(Duration::from_secs(5), upload).await;
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(PATIENCE, reader.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the server ended the stream");
    let cpu = cpu_time(server.pid()).saturating_sub(cpu_before);
    println!(
        "junk upload: {} KiB of {} MiB accepted before the server stopped reading; \
         server CPU {cpu:?}",
        sent >> 10,
        OFFERED >> 20
    );
    assert!(
        sent < 32 << 20,
        "the server read the upload: {sent} bytes went in"
    );
    legit.round().await;
    legit.report("junk upload");
    server.assert_no_panic();
}

/// Guessing the publish token from one address: after AUTH_FAILURE_BURST failures the
/// address gets 429 before its token is looked at, while the real publisher (another
/// address, the right token) is never slowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_guessing_is_throttled_per_address() {
    const GUESSES: usize = 200;
    let _one = ONE_DRILL.lock().await;
    let server = sse_server(&[
        ("AUTH_MODE", "jwt"),
        (
            "JWT_SECRET",
            "the-hostile-drills-secret-of-32-bytes-or-more",
        ),
        ("PUBLISH_TOKEN", "the-real-publish-token"),
        ("PUBLIC_CHANNELS", "legit"),
    ]);
    let addr = server.addr;
    let mut legit = Legit::start(addr, "legit", Some("the-real-publish-token")).await;
    legit.round().await;
    let (mut unauthorized, mut throttled) = (0, 0);
    let started = Instant::now();
    for guess in 0..GUESSES {
        let body = json!({"channel": "legit", "data": "forged"}).to_string();
        let raw = format!(
            "POST /publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer guess-{guess}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let response = send_raw_from(2, addr, raw.as_bytes())
            .await
            .expect("an answer");
        match response.status {
            401 => unauthorized += 1,
            429 => {
                assert_eq!(response.header("retry-after"), Some("6"));
                throttled += 1;
            }
            other => panic!("guess {guess}: {other} {}", response.text()),
        }
        if guess % 20 == 0 {
            legit.round().await;
        }
    }
    println!(
        "token guessing: {GUESSES} guesses in {:?}: {unauthorized} answered 401, {throttled} \
         429 (AUTH_FAILURE_BURST 10)",
        started.elapsed()
    );
    // The first ten, plus one per 6 s of the drill.
    let refills = started.elapsed().as_secs() as usize / 6 + 1;
    assert!(
        (10..=10 + refills).contains(&unauthorized),
        "{unauthorized}"
    );
    // Not a single forged message reached the legitimate client.
    for _ in 0..5 {
        legit.round().await;
    }
    legit.report("token guessing");
    let public = http::get(addr, "/healthz").await;
    assert_eq!(public.status, 200);
    server.assert_no_panic();
}

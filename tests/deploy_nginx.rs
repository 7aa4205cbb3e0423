//! The generated `deploy/nginx.conf`, proven in a real nginx: two instances of a
//! generated Redis project behind it, the snippet loaded as it was generated except for
//! the addresses (upstreams, listen ports, certificate and log paths), and every
//! transport exercised through it; over TLS, several event streams share one HTTP/2
//! connection. Needs `nginx`, `openssl` and `curl` (`.ci/run` installs them).

mod support;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use support::http::{self, EventStream};
use support::redis::Redis;
use support::server::{Server, eventually};
use tokio_tungstenite::tungstenite::Message;

/// What "unbuffered" means here: the bound from publish to the client.
const UNBUFFERED: Duration = Duration::from_millis(200);

/// nginx started from the generated snippet, as a child process in its own directory.
struct Nginx {
    child: Child,
    dir: tempfile::TempDir,
    /// The snippet's plain `listen 80`.
    http: SocketAddr,
    /// The snippet's `listen 443 ssl http2`.
    https: SocketAddr,
}

impl Nginx {
    /// Starts nginx with `project`'s `deploy/nginx.conf`, its upstream servers replaced
    /// by `upstreams`; `edit` may change the snippet further (the buffering control).
    fn start(project: &Path, upstreams: &[SocketAddr], edit: impl Fn(String) -> String) -> Self {
        let nginx = tool("nginx", &["/usr/sbin/nginx"]);
        let snippet = std::fs::read_to_string(project.join("deploy/nginx.conf"))
            .expect("read deploy/nginx.conf");
        // Ports are picked free and then handed to nginx: retry if another process
        // took one in between.
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("temp dir");
            make_certificate(dir.path());
            let (http, https) = (free_addr(), free_addr());
            let local = edit(localize(&snippet, upstreams, http, https, dir.path()));
            std::fs::write(dir.path().join("app.conf"), &local).unwrap();
            std::fs::write(dir.path().join("nginx.conf"), main_conf(dir.path())).unwrap();
            let log = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
            let mut child = Command::new(&nginx)
                .arg("-p")
                .arg(dir.path())
                .arg("-c")
                .arg(dir.path().join("nginx.conf"))
                .arg("-e")
                .arg(dir.path().join("error.log"))
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", nginx.display()));
            let up = eventually(Duration::from_secs(10), || {
                matches!(child.try_wait(), Ok(Some(_))) || TcpStream::connect(https).is_ok()
            });
            if up && child.try_wait().unwrap().is_none() {
                return Self {
                    child,
                    dir,
                    http,
                    https,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
            let errors = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
                + &std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();
            assert!(
                errors.contains("Address already in use"),
                "nginx did not start from the generated deploy/nginx.conf:\n{errors}\n\
                 the snippet as loaded:\n{local}"
            );
        }
        panic!("nginx found no free ports in 5 tries");
    }

    fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.https)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // One process (`master_process off`): killing it leaves no workers behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The path of a tool the test needs; a missing one fails clearly.
fn tool(name: &str, fallbacks: &[&str]) -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(name));
    on_path
        .chain(fallbacks.iter().map(PathBuf::from))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not installed and tests/deploy_nginx.rs needs it: \
                 apt-get install nginx openssl curl (.ci/run does this)"
            )
        })
}

/// A self-signed certificate and key, `cert.pem` and `key.pem` in `dir`.
fn make_certificate(dir: &Path) {
    let openssl = tool("openssl", &[]);
    let output = Command::new(openssl)
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .expect("run openssl");
    assert!(
        output.status.success(),
        "openssl req failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
}

/// The generated snippet with local addresses and paths, and nothing else changed. Each
/// replaced line must be found, so a change in the template fails here first.
fn localize(
    snippet: &str,
    upstreams: &[SocketAddr],
    http: SocketAddr,
    https: SocketAddr,
    dir: &Path,
) -> String {
    let dir = dir.display();
    let mut out = String::new();
    let mut replaced = 0;
    for line in snippet.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("server ") && trimmed.ends_with(":3000;") {
            if replaced == 0 {
                for addr in upstreams {
                    out.push_str(&format!("    server {addr};\n"));
                }
            }
            replaced += 1;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    assert_eq!(
        replaced, 3,
        "the upstream block names three instances (app1..app3:3000):\n{snippet}"
    );
    let mut swap = |from: &str, to: &str| {
        assert!(
            out.contains(from),
            "`{from}` is not in the snippet:\n{snippet}"
        );
        out = out.replace(from, to);
    };
    swap("listen 80;", &format!("listen {http};"));
    swap(
        "listen 443 ssl http2;",
        &format!("listen {https} ssl http2;"),
    );
    swap("/etc/nginx/certs/", &format!("{dir}/"));
    swap("/var/log/nginx/access.log", &format!("{dir}/access.log"));
    out
}

/// nginx's own nginx.conf, everything in `dir`: one process in the foreground, and the
/// generated snippet included in `http` as conf.d snippets are.
fn main_conf(dir: &Path) -> String {
    let dir = dir.display();
    format!(
        "daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    access_log {dir}/access.log;
    include {dir}/app.conf;
}}
"
    )
}

/// Redis, two instances of `strategy`'s Redis project on it, and nginx in front.
struct Deployment {
    nginx: Nginx,
    instances: [Server; 2],
    // Dropped last: the instances would log its absence.
    _redis: Redis,
}

impl Deployment {
    fn start(strategy: &str) -> Self {
        Self::start_with(strategy, |snippet| snippet)
    }

    fn start_with(strategy: &str, edit: impl Fn(String) -> String) -> Self {
        let binary = support::server_binary(strategy, "redis");
        let project = support::generate(strategy, "redis");
        let redis = Redis::start();
        let url = redis.url();
        // As in docker-compose.yml: the instances trust nginx's forwarded headers.
        let env = [
            ("REDIS_URL", url.as_str()),
            ("AUTH_MODE", "none"),
            ("TRUSTED_PROXIES", "127.0.0.1/32"),
        ];
        let instances = [Server::start(&binary, &env), Server::start(&binary, &env)];
        let nginx = Nginx::start(&project, &[instances[0].addr, instances[1].addr], edit);
        Self {
            nginx,
            instances,
            _redis: redis,
        }
    }

    /// The plain port, where the HTTP/1.1 clients connect.
    fn front(&self) -> SocketAddr {
        self.nginx.http
    }

    /// The tokens of the streaming paths travel in query strings: none is logged.
    fn assert_no_query_logged(&self, path: &str) {
        // nginx logs a request when it ends, which for a stream the client just closed
        // may be a moment later.
        eventually(Duration::from_secs(5), || {
            self.nginx.access_log().contains(path)
        });
        let log = self.nginx.access_log();
        assert!(
            log.contains(path),
            "no {path} request in the access log:\n{log}"
        );
        assert!(
            !log.contains("channel="),
            "the access log holds query strings:\n{log}"
        );
        for instance in &self.instances {
            instance.assert_no_panic();
        }
    }
}

/// The data of SSE event `event`, as JSON.
fn data(event: &http::Event) -> Value {
    serde_json::from_str(&event.data).expect("an event's data is JSON")
}

/// Reads events until one carries `id`, failing after `limit`.
async fn until_event(stream: &mut EventStream, id: &str, limit: Duration) {
    let started = Instant::now();
    loop {
        let left = limit.saturating_sub(started.elapsed());
        let event = tokio::time::timeout(left, stream.next())
            .await
            .unwrap_or_else(|_| panic!("event {id} did not arrive within {limit:?}"))
            .expect("a readable stream")
            .expect("the stream stays open");
        if event.id.as_deref() == Some(id) {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_through_nginx_is_unbuffered_and_resumes_on_the_other_instance() {
    let mut deployment = Deployment::start("sse");
    let front = deployment.front();

    // Unbuffered: a small event (far below nginx's buffers) arrives at once.
    let mut stream = EventStream::open(front, "/events?channel=fresh", &[])
        .await
        .expect("open a stream through nginx");
    assert_eq!(stream.status, 200);
    let published = Instant::now();
    let id = http::publish(front, "fresh", &json!({ "n": 1 })).await;
    until_event(&mut stream, &id, Duration::from_secs(5)).await;
    let took = published.elapsed();
    println!(
        "through nginx, publish -> SSE event: {} ms",
        took.as_millis()
    );
    assert!(
        took <= UNBUFFERED,
        "the event took {took:?} through nginx: buffered"
    );
    drop(stream);

    // Resume: the instance holding the stream stops; the client comes back through
    // nginx with its last id, reaches the other instance and misses nothing.
    let mut stream = EventStream::open(front, "/events?channel=resume", &[])
        .await
        .unwrap();
    let first = http::publish(front, "resume", &json!({ "n": 0 })).await;
    until_event(&mut stream, &first, Duration::from_secs(5)).await;
    deployment.instances[0].terminate();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = stream.next().await {}
    })
    .await
    .is_ok();
    // The survivor: the instance that did not hold the stream, brought back if needed.
    let survivor = if ended {
        1
    } else {
        deployment.instances[0].restart();
        drop(stream);
        deployment.instances[1].terminate();
        0
    };
    println!(
        "the stream was on instance {}; it resumes on instance {survivor}",
        1 - survivor
    );
    let survivor_addr = deployment.instances[survivor].addr;
    let mut missed = Vec::new();
    for n in 1..=3 {
        missed.push(http::publish(survivor_addr, "resume", &json!({ "n": n })).await);
    }
    let mut stream = EventStream::open(
        front,
        "/events?channel=resume",
        &[("Last-Event-ID", &first)],
    )
    .await
    .expect("reconnect through nginx");
    assert_eq!(stream.status, 200);
    let mut got = Vec::new();
    while got.len() < missed.len() {
        let event = stream.next_within(Duration::from_secs(5)).await.unwrap();
        assert_ne!(
            event.event.as_deref(),
            Some("reset"),
            "history covers the gap"
        );
        assert_eq!(data(&event)["channel"], "resume");
        got.push(event.id.unwrap());
    }
    assert_eq!(got, missed, "every missed message, once and in order");
    // And live again, on the new instance.
    let live = http::publish(front, "resume", &json!({ "n": 4 })).await;
    let next = stream.next_within(Duration::from_secs(5)).await.unwrap();
    assert_eq!(next.id.as_deref(), Some(live.as_str()), "nothing repeated");
    drop(stream);

    deployment.assert_no_query_logged("/events");
}

/// The control that shows the unbuffered check can fail: the same snippet with nginx
/// made to buffer `/events` (the service's `X-Accel-Buffering: no` ignored, as a proxy
/// that does not know it would) holds a small event back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buffering_nginx_would_fail_the_unbuffered_check() {
    let mut deployment = Deployment::start_with("sse", |snippet| {
        let buffered = snippet.replace(
            "proxy_buffering off;",
            "proxy_buffering on; proxy_ignore_headers X-Accel-Buffering;",
        );
        assert_ne!(buffered, snippet, "the snippet turns buffering off");
        buffered
    });
    let front = deployment.front();
    let reader = tokio::spawn(async move {
        let mut stream = EventStream::open(front, "/events?channel=held", &[]).await?;
        let event = stream.next().await?;
        Ok::<_, std::io::Error>((event, Instant::now()))
    });
    // The response head may be held too: give the subscription time to be made.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let published = Instant::now();
    http::publish(front, "held", &json!({ "n": 1 })).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let held = !reader.is_finished();
    println!(
        "with proxy_buffering on, after 1 s the event has {}",
        if held { "not arrived" } else { "arrived" }
    );
    assert!(
        held,
        "with buffering on, the event still arrived within {:?}: the check would not \
         catch buffering",
        published.elapsed()
    );
    // It was on its way, held in nginx's buffer: ending the streams lets it out.
    for instance in &mut deployment.instances {
        instance.terminate();
    }
    let (event, at) = tokio::time::timeout(Duration::from_secs(5), reader)
        .await
        .expect("the held event is flushed when the stream ends")
        .unwrap()
        .expect("a readable stream");
    let event = event.expect("the event, before the stream's end");
    assert_eq!(data(&event)["channel"], "held");
    println!(
        "it arrived {} ms after its publish, when the stream ended",
        (at - published).as_millis()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_streams_share_one_http2_connection_over_tls() {
    let curl = tool("curl", &[]);
    let deployment = Deployment::start("sse");
    let front = deployment.front();
    let channels = ["h2-a", "h2-b", "h2-c"];
    // A message before the streams open: each replays it from its cursor, which shows
    // the stream is live before the next one is published.
    let (mut cursors, mut before) = (Vec::new(), Vec::new());
    for channel in channels {
        cursors.push(http::publish(front, channel, &json!({ "n": 0 })).await);
        before.push(http::publish(front, channel, &json!({ "n": 1 })).await);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(curl);
    // --parallel multiplexes the transfers on one connection when the server speaks
    // HTTP/2; -w reports each transfer's protocol and the connections it opened.
    command.args([
        "--http2",
        "-k",
        "-sS",
        "--no-buffer",
        "--parallel",
        "--max-time",
        "5",
    ]);
    command.args(["-w", "%{http_version} %{num_connects} %{response_code}\\n"]);
    for (channel, cursor) in channels.iter().zip(&cursors) {
        command.arg("-o").arg(dir.path().join(channel));
        command.arg(
            deployment
                .nginx
                .url(&format!("/events?channel={channel}&last_event_id={cursor}")),
        );
    }
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start curl");
    let read =
        |channel: &str| std::fs::read_to_string(dir.path().join(channel)).unwrap_or_default();
    let replayed = eventually(Duration::from_secs(5), || {
        channels
            .iter()
            .zip(&before)
            .all(|(channel, id)| read(channel).contains(&format!("id: {id}")))
    });
    let mut live = Vec::new();
    if replayed {
        for channel in channels {
            live.push(http::publish(front, channel, &json!({ "n": 2 })).await);
        }
    }
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .expect("curl runs");
    let report = String::from_utf8_lossy(&output.stdout);
    let files: Vec<String> = channels.iter().map(|channel| read(channel)).collect();
    println!("curl --http2 --parallel, per transfer `version connects status`:\n{report}");
    assert!(
        replayed,
        "the streams did not all open within 5 s; curl: {}\n{files:?}",
        String::from_utf8_lossy(&output.stderr)
    );
    for ((channel, body), id) in channels.iter().zip(&files).zip(&live) {
        assert!(
            body.contains(&format!("id: {id}")),
            "{channel} did not receive its live event over HTTP/2:\n{body}"
        );
    }
    let transfers: Vec<Vec<&str>> = report
        .lines()
        .map(|line| line.split_whitespace().collect())
        .collect();
    assert_eq!(
        transfers.len(),
        channels.len(),
        "one line per transfer:\n{report}"
    );
    for transfer in &transfers {
        assert_eq!(transfer[0], "2", "HTTP/2 for every stream:\n{report}");
        assert_eq!(transfer[2], "200", "{report}");
    }
    let connects: u32 = transfers.iter().map(|t| t[1].parse::<u32>().unwrap()).sum();
    assert_eq!(connects, 1, "the streams share one connection:\n{report}");

    let log = deployment.nginx.access_log();
    assert!(
        log.contains("HTTP/2.0"),
        "nginx logged HTTP/2 requests:\n{log}"
    );
    deployment.assert_no_query_logged("/events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_upgrades_through_nginx_and_receives() {
    let deployment = Deployment::start("websocket");
    let front = deployment.front();
    let (mut ws, response) =
        tokio_tungstenite::connect_async(format!("ws://{front}/ws?channel=sockets"))
            .await
            .expect("a WebSocket upgrade through nginx");
    assert_eq!(response.status(), 101);
    // Publish until one arrives: the subscription made at connect may still be on its
    // way to Redis when the first publish lands.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut published = Vec::new();
    let received = loop {
        assert!(
            Instant::now() < deadline,
            "no message over the WebSocket in 5 s"
        );
        published.push(http::publish(front, "sockets", &json!({ "n": published.len() })).await);
        match tokio::time::timeout(Duration::from_millis(500), ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let frame: Value = serde_json::from_str(text.as_str()).unwrap();
                if frame["type"] == "message" {
                    break frame;
                }
            }
            Ok(Some(Ok(_))) | Err(_) => {}
            Ok(other) => panic!("the WebSocket ended: {other:?}"),
        }
    };
    assert_eq!(received["channel"], "sockets");
    assert!(
        published.iter().any(|id| received["id"] == *id),
        "{received} is one of {published:?}"
    );
    ws.close(None).await.expect("close the WebSocket");
    deployment.assert_no_query_logged("/ws");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_polls_are_held_and_answered_through_nginx() {
    let deployment = Deployment::start("long-polling");
    let front = deployment.front();
    let first = http::publish(front, "held", &json!({ "n": 0 })).await;
    // A poll from the cursor waits for the next message.
    let poll = tokio::spawn(async move {
        http::get(
            front,
            &format!("/poll?channel=held&cursor={first}&timeout=10"),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !poll.is_finished(),
        "the poll is held until a message comes"
    );
    let id = http::publish(front, "held", &json!({ "n": 1 })).await;
    let answer = tokio::time::timeout(Duration::from_secs(5), poll)
        .await
        .expect("the held poll is answered")
        .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["messages"][0]["id"], id.as_str(), "{body}");
    assert_eq!(body["cursor"], id.as_str());
    deployment.assert_no_query_logged("/poll");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_polls_answer_through_nginx() {
    let deployment = Deployment::start("short-polling");
    let front = deployment.front();
    let start = http::get(front, "/messages?channel=polled").await;
    assert_eq!(start.status, 200, "{}", start.text());
    let cursor = start.json()["cursor"].as_str().unwrap().to_owned();
    let id = http::publish(front, "polled", &json!({ "n": 1 })).await;
    // Either instance answers: both read the same Redis history.
    for _ in 0..2 {
        let answer = http::get(front, &format!("/messages?channel=polled&cursor={cursor}")).await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        let body = answer.json();
        assert_eq!(body["messages"][0]["id"], id.as_str(), "{body}");
    }
    deployment.assert_no_query_logged("/messages");
}

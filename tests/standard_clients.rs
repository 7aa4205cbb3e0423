//! The generated services with the clients people actually use instead of the ones
//! the generated tests use: `curl` for Server-Sent Events and both kinds of polling
//! (conditional requests included), and Python's `websockets` library for WebSocket
//! (close codes included).

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::http;
use support::process::Lines;
use support::server::Server;

const CURL: &str = "install curl (apt-get install curl; .ci/run does this)";
const PYTHON: &str = "install Python 3 and its websockets library (python3 -m pip install websockets; .ci/run does this)";
const WAIT: Duration = Duration::from_secs(20);

fn curl(args: &[&str]) -> Lines {
    Lines::spawn("curl", args, CURL)
}

/// The response head curl prints with `-i`: status code and lower-cased headers.
fn head(lines: &mut Lines) -> (u16, Vec<(String, String)>) {
    let status_line = lines.next(WAIT).expect("a status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a status line: {status_line:?}"));
    let mut headers = Vec::new();
    while let Some(line) = lines.next(WAIT) {
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("a header line");
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    (status, headers)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Reads `count` events from curl's output, checking every line against the
/// text/event-stream grammar: a comment, or `field: value` for a known field.
fn events(lines: &mut Lines, count: usize) -> Vec<http::Event> {
    let mut events = Vec::new();
    let mut block = String::new();
    while events.len() < count {
        let line = lines.next(WAIT).expect("the stream stays open");
        if line.is_empty() {
            if let Some(event) = http::parse_event(&block) {
                events.push(event);
            }
            block.clear();
            continue;
        }
        let field = line.split(':').next().unwrap_or_default();
        assert!(
            line.starts_with(':') || matches!(field, "id" | "data" | "event" | "retry"),
            "not a text/event-stream line: {line:?}"
        );
        if field == "retry" {
            let value = line["retry:".len()..].trim();
            assert!(
                value.parse::<u32>().is_ok(),
                "retry must be digits: {line:?}"
            );
        }
        block.push_str(&line);
        block.push('\n');
    }
    events
}

/// An SSE message event: its id matches the envelope's, and the envelope is complete.
fn message(event: &http::Event) -> Value {
    assert_eq!(event.event, None, "a message event: {event:?}");
    let envelope: Value = serde_json::from_str(&event.data).expect("data is a JSON envelope");
    assert_eq!(Some(envelope["id"].as_str().unwrap()), event.id.as_deref());
    assert!(envelope["channel"].is_string(), "{envelope}");
    envelope
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_read_with_curl_is_a_valid_event_stream_with_ids() {
    let server = Server::start(&support::server_binary("sse", "memory"), &[]);
    let url = server.url("/events?channel=demo");

    let mut live = curl(&["-N", "-s", "-i", &url]);
    let (status, headers) = head(&mut live);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("text/event-stream"));
    assert_eq!(header(&headers, "cache-control"), Some("no-cache"));
    assert_eq!(header(&headers, "x-accel-buffering"), Some("no"));
    // The head leaves after the subscription exists: nothing published now is missed.
    let mut ids = Vec::new();
    for n in 1..=3 {
        ids.push(http::publish(server.addr, "demo", &json!({ "n": n })).await);
    }
    let received: Vec<Value> = events(&mut live, 3).iter().map(message).collect();
    let received_ids: Vec<&str> = received.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(received_ids, ids);
    assert_eq!(received[2]["data"], json!({ "n": 3 }));
    drop(live);

    // Resuming as a browser does, from Last-Event-ID: exactly the later ones, in order.
    let last_event_id = format!("Last-Event-ID: {}", ids[0]);
    let mut resumed = curl(&["-N", "-s", &url, "-H", &last_event_id]);
    let newer = http::publish(server.addr, "demo", &json!({ "n": 4 })).await;
    let replayed: Vec<String> = events(&mut resumed, 3)
        .iter()
        .map(|e| message(e)["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(replayed, [ids[1].clone(), ids[2].clone(), newer.clone()]);
    drop(resumed);

    // An id this server never issued: an explicit reset event, not an error, then
    // everything history holds after the reset's cursor.
    let mut reset = curl(&["-N", "-s", &url, "-H", "Last-Event-ID: 12"]);
    let received = events(&mut reset, 5);
    let first = &received[0];
    assert_eq!(first.event.as_deref(), Some("reset"), "{first:?}");
    assert!(
        first.id.is_some(),
        "a reset carries the cursor to resume from"
    );
    let held: Vec<String> = received[1..]
        .iter()
        .map(|e| message(e)["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(held, [&ids[..], std::slice::from_ref(&newer)].concat());
    server.assert_no_panic();
}

/// With authorization on, curl is refused without a token and streams with one: the
/// `rt_token` cookie (what a browser sends) or `Authorization: Bearer`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_with_curl_and_a_token() {
    const SECRET: &str = "the-standard-clients-secret-of-32-bytes";
    let binary = support::server_binary("sse", "memory");
    let env = [
        ("AUTH_MODE", "jwt"),
        ("JWT_SECRET", SECRET),
        ("PUBLISH_TOKEN", "server"),
    ];
    let server = Server::start(&binary, &env);
    let minted = std::process::Command::new(&binary)
        .args(["token", "--sub", "42"])
        .env("JWT_SECRET", SECRET)
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("run the token subcommand");
    assert!(minted.status.success(), "token subcommand failed");
    let token = String::from_utf8(minted.stdout).unwrap().trim().to_owned();
    let own = server.url("/events?channel=user:42");

    let (status, _, body) = curl_once(&[&own]);
    assert_eq!(status, 401, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert!(error["error"].is_string(), "{body}");
    let bearer = format!("Authorization: Bearer {token}");
    let (status, _, body) = curl_once(&[&server.url("/events?channel=user:7"), "-H", &bearer]);
    assert_eq!(status, 403, "another user's channel: {body}");

    let cookie = format!("rt_token={token}");
    let mut live = curl(&["-N", "-s", "-i", "-b", &cookie, &own]);
    assert_eq!(head(&mut live).0, 200);
    let body = json!({ "channel": "user:42", "data": "for 42" }).to_string();
    let headers = [
        ("Content-Type", "application/json"),
        ("Authorization", "Bearer server"),
    ];
    let published = http::request(server.addr, "POST", "/publish", &headers, body.as_bytes())
        .await
        .expect("POST /publish");
    assert_eq!(published.status, 200, "{}", published.text());
    let received = message(&events(&mut live, 1)[0]);
    assert_eq!(received["data"], json!("for 42"));
    server.assert_no_panic();
}

/// Runs curl to completion and returns (status, headers, body).
fn curl_once(args: &[&str]) -> (u16, Vec<(String, String)>, String) {
    let mut lines = curl(&[&["-s", "-i"], args].concat());
    let (status, headers) = head(&mut lines);
    let body = lines.rest(WAIT).join("\n");
    assert_eq!(lines.wait(WAIT), 0, "curl {args:?}");
    (status, headers, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_polling_with_plain_curl() {
    let server = Server::start(&support::server_binary("long-polling", "memory"), &[]);
    let poll = |query: &str| server.url(&format!("/poll?channel=demo&{query}"));

    // No cursor: the current one, after at most the (short) timeout.
    let (status, headers, body) = curl_once(&[&poll("timeout=1")]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["messages"], json!([]));
    let cursor = reply["cursor"].as_str().unwrap().to_owned();

    // A held poll answers as soon as a message is published.
    let started = Instant::now();
    let mut held = curl(&["-s", &poll(&format!("cursor={cursor}&timeout=30"))]);
    let id = http::publish(server.addr, "demo", &json!("held")).await;
    let reply: Value = serde_json::from_str(&held.rest(WAIT).join("\n")).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "held until the publish, not the timeout"
    );
    assert_eq!(reply["messages"][0]["id"], json!(id));
    assert_eq!(reply["messages"][0]["data"], json!("held"));
    assert_eq!(reply["cursor"], json!(id));

    // Already newer messages: answered at once.
    let (_, _, body) = curl_once(&[&poll(&format!("cursor={cursor}"))]);
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["messages"].as_array().unwrap().len(), 1);

    // Errors are JSON with the documented statuses.
    for (query, expected) in [("cursor=yesterday", 400), ("timeout=61", 400)] {
        let (status, _, body) = curl_once(&[&poll(query)]);
        assert_eq!(status, expected, "{query}: {body}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert!(error["error"].is_string(), "{body}");
    }
    server.assert_no_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_polling_with_plain_curl_and_conditional_requests() {
    let server = Server::start(&support::server_binary("short-polling", "memory"), &[]);
    let url = server.url("/messages?channel=demo");
    let dir = tempfile::tempdir().unwrap();
    let etag_file = dir.path().join("etag");
    let etag_file = etag_file.to_str().unwrap();

    let (status, headers, body) = curl_once(&[&url, "--etag-save", etag_file]);
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    let cursor = reply["cursor"].as_str().unwrap();
    assert_eq!(reply["messages"], json!([]));
    assert!(reply["poll_interval_ms"].as_u64().unwrap() > 0);
    assert_eq!(
        header(&headers, "etag"),
        Some(format!("\"{cursor}\"").as_str())
    );
    assert!(Path::new(etag_file).exists());

    // Nothing new: curl's own conditional request gets an empty 304.
    let (status, _, body) = curl_once(&[&url, "--etag-compare", etag_file]);
    assert_eq!(status, 304);
    assert!(body.is_empty(), "304 has no body: {body:?}");
    let weak = format!("If-None-Match: W/\"{cursor}\"");
    assert_eq!(curl_once(&[&url, "-H", &weak]).0, 304, "weak comparison");

    // Something new: the same conditional request gets it, with a new ETag.
    let id = http::publish(server.addr, "demo", &json!({ "k": "v" })).await;
    let with_cursor = format!("{url}&cursor={cursor}");
    let (status, headers, body) = curl_once(&[&with_cursor, "--etag-compare", etag_file]);
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["messages"][0]["id"], json!(id));
    assert_eq!(header(&headers, "etag"), Some(format!("\"{id}\"").as_str()));

    let (status, _, body) = curl_once(&[&format!("{url}&cursor=-1")]);
    assert_eq!(status, 400, "{body}");
    server.assert_no_panic();
}

fn python(scenario: &str, server: &Server, arg: Option<&str>) -> Lines {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/ws_client.py");
    let base = server.url("");
    let mut args = vec![script, scenario, &base];
    args.extend(arg);
    Lines::spawn("python3", &args, PYTHON)
}

fn json_lines(lines: &mut Lines) -> Vec<Value> {
    let lines = lines.rest(Duration::from_secs(40));
    lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect()
}

fn close_code(output: &[Value]) -> Option<u64> {
    output.iter().find_map(|line| line["close"].as_u64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_with_pythons_websockets_library() {
    let mut server = Server::start(&support::server_binary("websocket", "memory"), &[]);

    let mut session = python("session", &server, None);
    let ready: Value = loop {
        let line: Value = serde_json::from_str(&session.next(WAIT).expect("output")).unwrap();
        if line["event"] == "ready" {
            break line;
        }
        let frame = &line["frame"];
        assert!(
            matches!(frame["type"].as_str(), Some("subscribed" | "error")),
            "{line}"
        );
    };
    assert_eq!(ready["event"], "ready");
    let mut ids = Vec::new();
    for n in 1..=2 {
        ids.push(http::publish(server.addr, "demo", &json!({ "n": n })).await);
    }
    let output = json_lines(&mut session);
    let messages: Vec<&Value> = output
        .iter()
        .map(|l| &l["frame"])
        .filter(|f| f["type"] == "message")
        .collect();
    assert_eq!(messages.len(), 3, "{output:?}");
    assert!(
        messages
            .iter()
            .any(|m| m["data"] == json!({ "via": "python" }))
    );
    for id in &ids {
        assert!(
            messages.iter().any(|m| m["id"] == json!(id)),
            "{id}: {output:?}"
        );
    }
    let order: Vec<u128> = messages
        .iter()
        .map(|m| m["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(order.is_sorted(), "ids arrive in order: {order:?}");
    assert!(
        output.iter().any(|l| l["frame"]["type"] == "published"),
        "{output:?}"
    );
    assert_eq!(close_code(&output), Some(1000), "{output:?}");

    // Resume from an id: the replay starts right after it.
    let mut resumed = python("resume", &server, Some(&ids[0]));
    let frames = json_lines(&mut resumed);
    let replayed: Vec<&Value> = frames
        .iter()
        .map(|l| &l["frame"])
        .filter(|f| f["type"] == "message")
        .collect();
    assert_eq!(replayed[0]["id"], json!(ids[1]), "{frames:?}");

    // Close codes for what the server refuses.
    let output = json_lines(&mut python("oversized", &server, None));
    assert_eq!(
        close_code(&output),
        Some(1009),
        "frame over 64 KiB: {output:?}"
    );
    let output = json_lines(&mut python("invalid-utf8", &server, None));
    assert_eq!(close_code(&output), Some(1007), "invalid UTF-8: {output:?}");

    // Cross-site WebSocket hijacking: a foreign Origin is refused, the page's own is not.
    let output = json_lines(&mut python("origin", &server, Some("https://evil.example")));
    assert_eq!(output[0]["status"], 403, "{output:?}");
    let own = server.url("");
    let output = json_lines(&mut python("origin", &server, Some(&own)));
    assert_eq!(output[0]["status"], 101, "{output:?}");

    // Shutdown: 1001, going away.
    let mut waiting = python("shutdown", &server, None);
    assert!(waiting.next(WAIT).unwrap().contains("ready"));
    let (status, took) = server.terminate();
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    let output = json_lines(&mut waiting);
    assert_eq!(
        close_code(&output),
        Some(1001),
        "server shutdown: {output:?}"
    );
    server.assert_no_panic();
}

//! Server-Sent Events end to end: a real HTTP client reading `text/event-stream`.
//!
//! Every test runs in both `AUTH_MODE`s (`both_modes!`); with `jwt` the client presents
//! its token as a browser's `EventSource` can: the `rt_token` cookie (or `?token=`).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{AuthMode, Server};
use futures_util::StreamExt;
use serde_json::json;
use tokio::time::timeout;

/// One parsed event.
#[derive(Debug, Default)]
struct Event {
    id: Option<String>,
    event: Option<String>,
    data: String,
}

/// A minimal `text/event-stream` reader, per the HTML standard's parsing rules.
struct EventStream {
    body: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
    retry: Option<u64>,
}

impl EventStream {
    /// Opens `/events?{query}` with the server's token, if any, in the `rt_token` cookie.
    async fn open(server: &Server, query: &str, last_event_id: Option<&str>) -> Self {
        Self::open_with(&reqwest::Client::new(), server, query, last_event_id).await
    }

    /// Opens the stream with `client`, which may reuse a connection it already has.
    async fn open_with(
        client: &reqwest::Client,
        server: &Server,
        query: &str,
        last_event_id: Option<&str>,
    ) -> Self {
        let mut request = client.get(server.url(&format!("/events?{query}")));
        if let Some(token) = server.token() {
            request = request.header("cookie", format!("rt_token={token}"));
        }
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        Self::read(request).await
    }

    /// Sends `request` and checks that it opened an event stream.
    async fn read(request: reqwest::RequestBuilder) -> Self {
        let response = request.send().await.expect("GET /events");
        assert_eq!(response.status(), 200);
        let headers = response.headers();
        assert_eq!(headers["content-type"], "text/event-stream");
        assert_eq!(headers["cache-control"], "no-cache");
        assert_eq!(headers["x-accel-buffering"], "no");
        Self {
            body: response.bytes_stream().boxed(),
            buffer: String::new(),
            retry: None,
        }
    }

    /// The next event, skipping comments; `None` when the server ends the stream.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Event::default();
                let mut has_data = false;
                for line in block.lines() {
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "" => {} // comment (keep-alive)
                        "id" => event.id = Some(value.to_owned()),
                        "event" => event.event = Some(value.to_owned()),
                        "retry" => self.retry = Some(value.parse().expect("retry is a number")),
                        "data" => {
                            if has_data {
                                event.data.push('\n');
                            }
                            event.data.push_str(value);
                            has_data = true;
                        }
                        other => panic!("unexpected SSE field {other:?}"),
                    }
                }
                if has_data {
                    return Some(event);
                }
                continue;
            }
            let chunk = timeout(Duration::from_secs(10), self.body.next())
                .await
                .expect("an event within 10 s")?
                .expect("stream chunk");
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8 stream"));
        }
    }

    /// The next `message` event's envelope, checked against its SSE id.
    async fn message(&mut self) -> (String, String, serde_json::Value) {
        let event = self
            .next()
            .await
            .expect("an event, not the end of the stream");
        assert_eq!(event.event, None, "expected a message, got {event:?}");
        let (channel, id, data) = common::envelope(&event.data);
        assert_eq!(
            event.id.as_deref(),
            Some(id.as_str()),
            "the SSE id is the envelope id"
        );
        (channel, id, data)
    }
}

both_modes!(delivers_messages_of_every_subscribed_channel_in_order);
async fn delivers_messages_of_every_subscribed_channel_in_order(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    // With `jwt`: user 42, granted `news`, owning `user:42`, presenting `?token=`.
    let mut query = "channel=news&channel=user:42".to_owned();
    if let Some(token) = server.token_for("42", &["news"], &[]) {
        query.push_str(&format!("&token={token}"));
    }
    let request = reqwest::Client::new().get(server.url(&format!("/events?{query}")));
    let mut stream = EventStream::read(request).await;
    let a = server.publish("news", json!({"title": "one"})).await;
    server.publish("elsewhere", json!("not for us")).await;
    let b = server.publish("user:42", json!([1, 2])).await;

    assert_eq!(
        stream.message().await,
        ("news".into(), a, json!({"title": "one"}))
    );
    assert_eq!(stream.message().await, ("user:42".into(), b, json!([1, 2])));
    let retry = stream.retry.expect("a retry hint");
    assert!((1000..=3000).contains(&retry), "retry {retry}");
}

both_modes!(a_write_delay_holds_messages_that_long_and_keeps_their_order);
async fn a_write_delay_holds_messages_that_long_and_keeps_their_order(mode: AuthMode) {
    const DELAY: Duration = Duration::from_millis(300);
    let server = Server::start_in(mode, &[("WRITE_DELAY_MS", "300")]);
    let mut stream = EventStream::open(&server, "channel=news", None).await;
    // Messages queued while a connection starts leave with its first write, sooner
    // than the delay; once one has arrived, the connection is past that.
    server.publish("news", json!(0)).await;
    stream.message().await;
    let published = Instant::now();
    let a = server.publish("news", json!(1)).await;
    let b = server.publish("news", json!(2)).await;

    assert_eq!(stream.message().await, ("news".into(), a, json!(1)));
    let waited = published.elapsed();
    assert!(waited >= DELAY, "arrived after {waited:?}");
    assert_eq!(stream.message().await, ("news".into(), b, json!(2)));
}

both_modes!(resumes_after_last_event_id_exactly_once_in_order);
async fn resumes_after_last_event_id_exactly_once_in_order(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let seen = server.publish("feed", json!(1)).await;
    let mut missed = Vec::new();
    for n in 2..=4 {
        missed.push(server.publish("feed", json!(n)).await);
        server.publish("other", json!(n)).await;
    }

    let mut stream = EventStream::open(&server, "channel=feed", Some(&seen)).await;
    for (n, id) in (2..=4).zip(&missed) {
        assert_eq!(
            stream.message().await,
            ("feed".into(), id.clone(), json!(n))
        );
    }
    let live = server.publish("feed", json!(5)).await;
    assert_eq!(
        stream.message().await.1,
        live,
        "live delivery follows the replay with nothing repeated"
    );

    let mut by_query = EventStream::open(
        &server,
        &format!("channel=feed&last_event_id={}", missed[1]),
        None,
    )
    .await;
    assert_eq!(by_query.message().await.1, missed[2]);
}

/// Publishes `count` messages of about 16 KiB, alternating between channels `a` and
/// `b`, and returns their ids: together far more than one piece of a replay (256 KiB).
async fn publish_a_long_history(server: &Server, count: usize) -> Vec<String> {
    let payload = "x".repeat(16 * 1024);
    let mut ids = Vec::new();
    for n in 0..count {
        let channel = if n % 3 == 0 { "b" } else { "a" };
        ids.push(server.publish(channel, json!(payload)).await);
    }
    ids
}

#[tokio::test]
async fn a_long_replay_arrives_in_pieces_complete_and_in_order_on_both_paths() {
    for direct_path in ["on", "off"] {
        let server = Server::start_with(&[("DIRECT_PATH", direct_path)]);
        let seen = server.publish("a", json!("seen")).await;
        let ids = publish_a_long_history(&server, 60).await;
        let mut stream = EventStream::open(&server, "channel=a&channel=b", Some(&seen)).await;
        for id in &ids {
            assert_eq!(&stream.message().await.1, id, "DIRECT_PATH={direct_path}");
        }
        let live = server.publish("b", json!("live")).await;
        assert_eq!(
            stream.message().await.1,
            live,
            "live delivery follows the last piece, DIRECT_PATH={direct_path}"
        );
    }
}

/// A client whose connections come from `ip` (any 127.x address reaches the server).
fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(ip))
        .build()
        .expect("a client")
}

/// `GET /events` from `client`: the status, and the response kept open when it is 200.
async fn try_open(client: &reqwest::Client, server: &Server, query: &str) -> reqwest::Response {
    client
        .get(server.url(&format!("/events?{query}")))
        .send()
        .await
        .expect("GET /events")
}

#[tokio::test]
async fn one_address_holds_at_most_its_channels_through_all_its_connections() {
    let server = Server::start_with(&[("MAX_CHANNELS_PER_ADDR", "2")]);
    let flood = client_from([127, 0, 0, 2]);
    let held = try_open(&flood, &server, "channel=a&channel=b").await;
    assert_eq!(held.status(), 200);
    // Another connection of the same address may follow what it already holds...
    let again = try_open(&flood, &server, "channel=a").await;
    assert_eq!(again.status(), 200);
    // ...but not one more.
    let refused = try_open(&flood, &server, "channel=c").await;
    assert_eq!(refused.status(), 429);
    let body: serde_json::Value = refused.json().await.expect("a JSON error");
    let message = body["error"].as_str().expect("an error message");
    assert!(message.contains("MAX_CHANNELS_PER_ADDR"), "{message}");
    // Other addresses are not concerned.
    let other = try_open(&client_from([127, 0, 0, 3]), &server, "channel=c").await;
    assert_eq!(other.status(), 200);
    drop((held, again));
}

#[tokio::test]
async fn channels_only_subscribed_to_never_make_another_address_fail() {
    let server = Server::start_with(&[("MAX_CHANNELS", "4")]);
    let flood = client_from([127, 0, 0, 2]);
    let mut held = Vec::new();
    let mut refused = 0;
    for n in 0..10 {
        let response = try_open(&flood, &server, &format!("channel=junk{n}")).await;
        match response.status().as_u16() {
            200 => held.push(response),
            429 => refused += 1,
            status => panic!("subscribing to junk{n}: {status}"),
        }
    }
    println!(
        "the flooding address holds {} channels, {refused} refused",
        held.len()
    );
    assert!(refused > 0, "the flood hit the table's bound");
    // Publishing to new channels and subscribing to one still work for others.
    for n in 0..10 {
        server.publish(&format!("news{n}"), json!(n)).await;
    }
    let victim = client_from([127, 0, 0, 3]);
    let response = try_open(&victim, &server, "channel=fresh").await;
    assert_eq!(response.status(), 200, "another address subscribes");
}

/// The next event is a reset that says history is complete after `cursor`.
async fn expect_reset(stream: &mut EventStream, cursor: &str) {
    let event = stream.next().await.expect("a reset event");
    assert_eq!(event.event.as_deref(), Some("reset"), "{event:?}");
    assert_eq!(event.id.as_deref(), Some(cursor), "{event:?}");
    let data: serde_json::Value = serde_json::from_str(&event.data).expect("JSON data");
    assert_eq!(data, json!({ "cursor": cursor }));
}

both_modes!(unknown_or_outdated_cursor_gets_a_reset_then_what_history_holds);
async fn unknown_or_outdated_cursor_gets_a_reset_then_what_history_holds(mode: AuthMode) {
    let server = Server::start_in(mode, &[("HISTORY_LEN", "2")]);
    let mut ids = Vec::new();
    for n in 1..=4 {
        ids.push(server.publish("feed", json!(n)).await);
    }
    let first = ids[0].clone();
    for cursor in ["1", first.as_str(), "not-an-id"] {
        let mut stream = EventStream::open(&server, "channel=feed", Some(cursor)).await;
        // Only the last two are held: the gap ends with the one before them.
        let held = ids.len() - 2;
        expect_reset(&mut stream, &ids[held - 1]).await;
        for id in &ids[held..] {
            assert_eq!(&stream.message().await.1, id, "cursor {cursor}");
        }
        let live = server.publish("feed", json!("after")).await;
        assert_eq!(
            stream.message().await.1,
            live,
            "live delivery continues after the reset, nothing repeated"
        );
        ids.push(live);
    }
}

both_modes!(a_cursor_from_a_previous_run_gets_a_reset_then_everything_since);
async fn a_cursor_from_a_previous_run_gets_a_reset_then_everything_since(mode: AuthMode) {
    let old = {
        let server = Server::start_in(mode, &[]);
        server.publish("feed", json!("old")).await
    };
    let server = Server::start_in(mode, &[]);
    let mut new = Vec::new();
    for n in 1..=3 {
        new.push(server.publish("feed", json!(n)).await);
    }
    let mut stream = EventStream::open(&server, "channel=feed", Some(&old)).await;
    let event = stream.next().await.expect("a reset event");
    assert_eq!(event.event.as_deref(), Some("reset"), "{event:?}");
    let cursor = event.id.expect("the reset's cursor");
    assert!(
        common::id_order(&old) < common::id_order(&cursor)
            && common::id_order(&cursor) < common::id_order(&new[0]),
        "the gap ends where this run began: {old} < {cursor} < {}",
        new[0]
    );
    for id in &new {
        assert_eq!(&stream.message().await.1, id, "everything published since");
    }
    let live = server.publish("feed", json!("live")).await;
    assert_eq!(stream.message().await.1, live);
}

both_modes!(bad_subscriptions_are_400);
async fn bad_subscriptions_are_400(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let client = reqwest::Client::new();
    for query in [
        "",
        "channel=",
        "channel=a%20b",
        "channel=ok&last_event_id=abc",
    ] {
        let response = server
            .authorize(client.get(server.url(&format!("/events?{query}"))))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query:?}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["error"].is_string());
    }
}

both_modes!(a_client_that_stops_reading_is_cut_off_and_can_resume);
async fn a_client_that_stops_reading_is_cut_off_and_can_resume(mode: AuthMode) {
    // History keeps all 200 messages (12 MiB), so the resume needs no reset.
    let server = Server::start_in(
        mode,
        &[("QUEUE_LEN", "4"), ("CHANNEL_HISTORY_BYTES", "16777216")],
    );
    let mut stream = EventStream::open(&server, "channel=bulk", None).await;
    // Far more than the socket buffers and the queue hold while nobody reads.
    let payload = "x".repeat(60 * 1024);
    let mut ids = Vec::new();
    for _ in 0..200 {
        ids.push(server.publish("bulk", json!(payload)).await);
    }

    let mut received = Vec::new();
    while let Some(event) = stream.next().await {
        received.push(event.id.expect("message id"));
    }
    assert!(
        received.len() < ids.len(),
        "the server ends the stream of a slow client"
    );
    assert_eq!(
        received,
        ids[..received.len()],
        "what arrived before the cut is complete and in order"
    );

    let last = received.last().cloned();
    let mut resumed = EventStream::open(&server, "channel=bulk", last.as_deref()).await;
    for id in &ids[received.len()..] {
        assert_eq!(
            &resumed.message().await.1,
            id,
            "resume fills the gap from history"
        );
    }
}

both_modes!(shutdown_ends_open_streams_promptly);
async fn shutdown_ends_open_streams_promptly(mode: AuthMode) {
    let mut server = Server::start_in(mode, &[]);
    let mut streams = Vec::new();
    for _ in 0..20 {
        streams.push(EventStream::open(&server, "channel=news", None).await);
    }
    let (status, took) = server.terminate();
    assert!(status.success(), "clean exit, got {status}");
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    for stream in &mut streams {
        assert!(stream.next().await.is_none(), "the stream ends on shutdown");
    }
}

/// Sends `pieces` of a request over a plain socket, pausing between them so they
/// arrive as separate reads.
fn send_in_pieces(server: &Server, pieces: &[&str]) -> TcpStream {
    let mut socket = TcpStream::connect(server.addr).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a read timeout");
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(200));
        }
        socket.write_all(piece.as_bytes()).expect("send");
    }
    socket
}

/// Reads until `needle` has arrived and returns everything read so far.
fn read_until(socket: &mut TcpStream, needle: &str) -> String {
    let mut seen = Vec::new();
    let mut buffer = [0; 4096];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let read = socket.read(&mut buffer).expect("bytes within 10 s");
        assert!(
            read > 0,
            "the stream ended before {needle:?}; got {:?}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buffer[..read]);
    }
    String::from_utf8(seen).expect("UTF-8")
}

/// Reads an event stream's response head, checks that it is one, and returns it in
/// lower case.
fn read_stream_head(socket: &mut TcpStream) -> String {
    let head = read_until(socket, "\r\n\r\n").to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
    assert!(
        head.contains("content-type: text/event-stream\r\n"),
        "{head}"
    );
    head
}

both_modes!(a_stream_on_a_new_connection_ends_by_closing_it);
async fn a_stream_on_a_new_connection_ends_by_closing_it(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let request = format!(
        "GET /events?channel=plain HTTP/1.1\r\nHost: test\r\n{}\r\n",
        server.cookie_line()
    );
    let mut socket = send_in_pieces(&server, &[&request]);
    let head = read_stream_head(&mut socket);
    assert!(head.contains("connection: close\r\n"), "{head}");
    assert!(!head.contains("transfer-encoding"), "{head}");

    let id = server.publish("plain", json!("hello")).await;
    let events = read_until(&mut socket, "\"hello\"");
    assert!(events.contains(&format!("id: {id}\n")), "{events}");
}

both_modes!(a_request_head_sent_in_pieces_is_served_too);
async fn a_request_head_sent_in_pieces_is_served_too(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let credential = format!("Host: test\r\n{}\r\n", server.cookie_line());
    let mut socket = send_in_pieces(
        &server,
        &["GET /events?channel=pieces HTTP/1.1\r\n", &credential],
    );
    let head = read_stream_head(&mut socket);
    // hyper answered it, framing the stream in chunks.
    assert!(head.contains("transfer-encoding: chunked\r\n"), "{head}");

    server.publish("pieces", json!("hello")).await;
    read_until(&mut socket, "\"hello\"");
}

both_modes!(a_stream_on_a_reused_connection_is_served_too);
async fn a_stream_on_a_reused_connection_is_served_too(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let client = reqwest::Client::new();
    let health = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");
    // The client's pool hands the connection that answered /healthz to the stream.
    let mut stream = EventStream::open_with(&client, &server, "channel=reused", None).await;
    let id = server.publish("reused", json!(1)).await;
    assert_eq!(stream.message().await, ("reused".into(), id, json!(1)));
}

both_modes!(a_stream_on_a_new_connection_carries_cors_headers_for_allowed_origins_only);
async fn a_stream_on_a_new_connection_carries_cors_headers_for_allowed_origins_only(
    mode: AuthMode,
) {
    let server = Server::start_in(mode, &[("ALLOWED_ORIGINS", "https://app.example")]);
    for (origin, allowed) in [
        ("https://app.example", true),
        ("https://evil.example", false),
    ] {
        let request = format!(
            "GET /events?channel=cors HTTP/1.1\r\nHost: test\r\nOrigin: {origin}\r\n{}\r\n",
            server.cookie_line()
        );
        let mut socket = send_in_pieces(&server, &[&request]);
        let head = read_stream_head(&mut socket);
        assert!(
            head.contains("connection: close\r\n"),
            "the direct path: {head}"
        );
        let expected = format!("access-control-allow-origin: {origin}\r\n");
        assert_eq!(head.contains(&expected), allowed, "{head}");
        assert_eq!(
            head.contains("access-control-allow-credentials: true\r\n"),
            allowed,
            "{head}"
        );
    }
}

both_modes!(with_the_direct_path_off_every_stream_goes_through_the_router);
async fn with_the_direct_path_off_every_stream_goes_through_the_router(mode: AuthMode) {
    let server = Server::start_in(mode, &[("DIRECT_PATH", "off")]);
    let request = format!(
        "GET /events?channel=routed HTTP/1.1\r\nHost: test\r\n{}\r\n",
        server.cookie_line()
    );
    let mut socket = send_in_pieces(&server, &[&request]);
    let head = read_stream_head(&mut socket);
    // hyper answered it, framing the stream in chunks.
    assert!(head.contains("transfer-encoding: chunked\r\n"), "{head}");
    server.publish("routed", json!("hello")).await;
    read_until(&mut socket, "\"hello\"");
}

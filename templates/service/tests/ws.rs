//! WebSocket end to end: a real client (tokio-tungstenite) against the real binary.
//!
//! The tests run in both `AUTH_MODE`s (`both_modes!`); with `jwt` the client presents
//! its token as the browser client does, `?token=` (a browser cannot set headers on a
//! WebSocket), or as a server would, `Authorization: Bearer`.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream as StdTcpStream};
use std::time::{Duration, Instant};

use common::{AuthMode, Server};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Guards every wait on the server, so a broken server fails a test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(10);

/// Opens `/ws{query}` with extra request headers; a refused handshake gives its status
/// and JSON body.
async fn try_open(
    server: &Server,
    query: &str,
    headers: &[(&'static str, &str)],
) -> Result<Socket, (u16, Value)> {
    let mut request = format!("ws://{}/ws{query}", server.addr)
        .into_client_request()
        .expect("a WebSocket URL");
    for (name, value) in headers {
        request
            .headers_mut()
            .insert(*name, value.parse().expect("a header value"));
    }
    match connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(Error::Http(response)) => {
            let body = response.body().as_deref().unwrap_or_default();
            let body = serde_json::from_slice(body).unwrap_or(Value::Null);
            Err((response.status().as_u16(), body))
        }
        Err(e) => panic!("WebSocket handshake failed: {e}"),
    }
}

/// `query` (empty, or starting with `?`) with the server's token, if any, as `token=`.
fn with_token(server: &Server, query: &str) -> String {
    match server.token() {
        Some(token) if query.is_empty() => format!("?token={token}"),
        Some(token) => format!("{query}&token={token}"),
        None => query.to_owned(),
    }
}

/// Opens `/ws{query}` with the server's token, if any.
async fn open(server: &Server, query: &str) -> Socket {
    match try_open(server, &with_token(server, query), &[]).await {
        Ok(socket) => socket,
        Err((status, body)) => panic!("handshake refused with {status}: {body}"),
    }
}

/// Opens `/ws?channel=...` and waits for every `subscribed` frame.
async fn subscribed(server: &Server, channels: &[&str]) -> Socket {
    let query: Vec<String> = channels.iter().map(|c| format!("channel={c}")).collect();
    let mut socket = open(server, &format!("?{}", query.join("&"))).await;
    for channel in channels {
        assert_eq!(
            next(&mut socket).await,
            json!({"type": "subscribed", "channel": channel})
        );
    }
    socket
}

async fn send(socket: &mut Socket, frame: Value) {
    socket
        .send(Message::text(frame.to_string()))
        .await
        .expect("send a frame");
}

/// The next text frame as JSON (pings are answered while reading).
async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = timeout(PATIENCE, socket.next())
            .await
            .expect("a frame in time")
            .expect("the socket stays open")
            .expect("a valid frame");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).expect("a JSON frame"),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// Reads until the server closes: the ids of the messages before it, and the close code.
async fn read_until_close(socket: &mut Socket) -> (Vec<String>, u16, String) {
    let mut ids = Vec::new();
    loop {
        let message = timeout(PATIENCE, socket.next())
            .await
            .expect("a frame in time")
            .expect("a close frame before the end")
            .expect("a valid frame");
        match message {
            Message::Text(text) => {
                let frame: Value = serde_json::from_str(&text).expect("a JSON frame");
                assert_eq!(frame["type"], "message", "{frame}");
                ids.push(frame["id"].as_str().expect("an id").to_owned());
            }
            Message::Close(Some(close)) => {
                return (ids, close.code.into(), close.reason.to_string());
            }
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// The id of a `message` frame, checking it is one.
fn message_id(frame: &Value) -> String {
    assert_eq!(frame["type"], "message", "{frame}");
    frame["id"].as_str().expect("an id").to_owned()
}

both_modes!(connect_time_subscription_delivers_envelopes);
async fn connect_time_subscription_delivers_envelopes(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    // With `jwt`: user 42, granted `news`, owning `user:42`, presenting the header.
    let bearer = server
        .token_for("42", &["news"], &[])
        .map(|token| format!("Bearer {token}"));
    let headers: Vec<_> = bearer
        .iter()
        .map(|b| ("authorization", b.as_str()))
        .collect();
    let mut socket = try_open(&server, "?channel=news&channel=user:42", &headers)
        .await
        .expect("the handshake is accepted");
    for channel in ["news", "user:42"] {
        assert_eq!(
            next(&mut socket).await,
            json!({"type": "subscribed", "channel": channel})
        );
    }
    let a = server.publish("news", json!({"title": "one"})).await;
    server.publish("elsewhere", json!("not for us")).await;
    let b = server.publish("user:42", json!([1, 2])).await;

    assert_eq!(
        next(&mut socket).await,
        json!({"type": "message", "channel": "news", "id": a, "data": {"title": "one"}})
    );
    assert_eq!(
        next(&mut socket).await,
        json!({"type": "message", "channel": "user:42", "id": b, "data": [1, 2]})
    );
}

both_modes!(a_write_delay_holds_messages_that_long_and_keeps_their_order);
async fn a_write_delay_holds_messages_that_long_and_keeps_their_order(mode: AuthMode) {
    const DELAY: Duration = Duration::from_millis(300);
    let server = Server::start_in(mode, &[("WRITE_DELAY_MS", "300")]);
    let mut socket = subscribed(&server, &["news"]).await;
    // Messages queued while a connection starts leave with its first write, sooner
    // than the delay; once one has arrived, the connection is past that.
    server.publish("news", json!(0)).await;
    next(&mut socket).await;
    let published = Instant::now();
    let a = server.publish("news", json!(1)).await;
    let b = server.publish("news", json!(2)).await;

    assert_eq!(message_id(&next(&mut socket).await), a);
    let waited = published.elapsed();
    assert!(waited >= DELAY, "arrived after {waited:?}");
    assert_eq!(message_id(&next(&mut socket).await), b);
}

both_modes!(subscribe_and_unsubscribe_frames);
async fn subscribe_and_unsubscribe_frames(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let mut socket = open(&server, "").await;
    send(&mut socket, json!({"type": "subscribe", "channel": "a"})).await;
    assert_eq!(
        next(&mut socket).await,
        json!({"type": "subscribed", "channel": "a"})
    );
    let first = server.publish("a", json!(1)).await;
    assert_eq!(message_id(&next(&mut socket).await), first);

    send(&mut socket, json!({"type": "unsubscribe", "channel": "a"})).await;
    assert_eq!(
        next(&mut socket).await,
        json!({"type": "unsubscribed", "channel": "a"})
    );
    server.publish("a", json!("not delivered")).await;
    send(&mut socket, json!({"type": "subscribe", "channel": "b"})).await;
    assert_eq!(
        next(&mut socket).await,
        json!({"type": "subscribed", "channel": "b"})
    );
    let on_b = server.publish("b", json!(2)).await;
    let frame = next(&mut socket).await;
    assert_eq!(
        message_id(&frame),
        on_b,
        "nothing from the unsubscribed channel"
    );
}

both_modes!(resumes_with_since_exactly_once_in_order);
async fn resumes_with_since_exactly_once_in_order(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let seen = server.publish("feed", json!(1)).await;
    let mut missed = Vec::new();
    for n in 2..=4 {
        missed.push(server.publish("feed", json!(n)).await);
        server.publish("other", json!(n)).await;
    }

    let mut socket = open(&server, "").await;
    send(
        &mut socket,
        json!({"type": "subscribe", "channel": "feed", "since": seen}),
    )
    .await;
    assert_eq!(next(&mut socket).await["type"], "subscribed");
    for (n, id) in (2..=4).zip(&missed) {
        assert_eq!(
            next(&mut socket).await,
            json!({"type": "message", "channel": "feed", "id": id, "data": n})
        );
    }
    let live = server.publish("feed", json!(5)).await;
    assert_eq!(
        message_id(&next(&mut socket).await),
        live,
        "live delivery follows the replay with nothing repeated"
    );

    let mut by_query = open(&server, &format!("?channel=feed&since={}", missed[1])).await;
    assert_eq!(next(&mut by_query).await["type"], "subscribed");
    assert_eq!(message_id(&next(&mut by_query).await), missed[2]);
}

#[tokio::test]
async fn a_long_replay_arrives_in_pieces_complete_and_in_order() {
    let server = Server::start();
    let seen = server.publish("a", json!("seen")).await;
    let payload = "x".repeat(16 * 1024);
    let mut ids = Vec::new();
    for n in 0..60 {
        let channel = if n % 3 == 0 { "b" } else { "a" };
        ids.push(server.publish(channel, json!(payload)).await);
    }
    let mut socket = open(&server, &format!("?channel=a&channel=b&since={seen}")).await;
    for _ in 0..2 {
        assert_eq!(next(&mut socket).await["type"], "subscribed");
    }
    for id in &ids {
        assert_eq!(&message_id(&next(&mut socket).await), id);
    }
    let live = server.publish("b", json!("live")).await;
    assert_eq!(message_id(&next(&mut socket).await), live);

    // A subscribe frame's replay comes in pieces too, then live messages.
    let mut socket = open(&server, "").await;
    send(
        &mut socket,
        json!({"type": "subscribe", "channel": "a", "since": seen}),
    )
    .await;
    assert_eq!(next(&mut socket).await["type"], "subscribed");
    for (n, id) in ids.iter().enumerate() {
        if n % 3 != 0 {
            assert_eq!(&message_id(&next(&mut socket).await), id);
        }
    }
    let live = server.publish("a", json!("live")).await;
    assert_eq!(message_id(&next(&mut socket).await), live);
}

#[tokio::test]
async fn one_address_past_its_channel_cap_gets_a_limit_error_frame() {
    let server = Server::start_with(&[("MAX_CHANNELS_PER_ADDR", "2")]);
    let mut socket = subscribed(&server, &["a", "b"]).await;
    send(&mut socket, json!({"type": "subscribe", "channel": "c"})).await;
    let error = next(&mut socket).await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["code"], "limit", "{error}");
    // The connection stays, and frees a channel by unsubscribing.
    send(&mut socket, json!({"type": "unsubscribe", "channel": "a"})).await;
    assert_eq!(next(&mut socket).await["type"], "unsubscribed");
    send(&mut socket, json!({"type": "subscribe", "channel": "c"})).await;
    assert_eq!(next(&mut socket).await["type"], "subscribed");
}

both_modes!(unknown_or_outdated_cursor_gets_a_reset_then_what_history_holds);
async fn unknown_or_outdated_cursor_gets_a_reset_then_what_history_holds(mode: AuthMode) {
    let server = Server::start_in(mode, &[("HISTORY_LEN", "2")]);
    let mut ids = Vec::new();
    for n in 1..=4 {
        ids.push(server.publish("feed", json!(n)).await);
    }
    let first = ids[0].clone();
    for cursor in ["1", first.as_str()] {
        let mut socket = open(&server, "").await;
        send(
            &mut socket,
            json!({"type": "subscribe", "channel": "feed", "since": cursor}),
        )
        .await;
        let mut by_query = open(&server, &format!("?channel=feed&since={cursor}")).await;
        // Only the last two are held: the gap ends with the one before them.
        let held = ids.len() - 2;
        for socket in [&mut socket, &mut by_query] {
            assert_eq!(next(socket).await["type"], "subscribed");
            assert_eq!(
                next(socket).await,
                json!({"type": "reset", "channel": "feed", "cursor": ids[held - 1]}),
                "cursor {cursor}"
            );
            for id in &ids[held..] {
                assert_eq!(&message_id(&next(socket).await), id, "cursor {cursor}");
            }
        }
        let live = server.publish("feed", json!("after")).await;
        for socket in [&mut socket, &mut by_query] {
            assert_eq!(
                message_id(&next(socket).await),
                live,
                "live delivery continues after the reset, nothing repeated"
            );
        }
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
    let mut socket = open(&server, &format!("?channel=feed&since={old}")).await;
    assert_eq!(next(&mut socket).await["type"], "subscribed");
    let reset = next(&mut socket).await;
    assert_eq!(reset["type"], "reset", "{reset}");
    let cursor = reset["cursor"].as_str().expect("the reset's cursor");
    assert!(
        common::id_order(&old) < common::id_order(cursor)
            && common::id_order(cursor) < common::id_order(&new[0]),
        "the gap ends where this run began: {old} < {cursor} < {}",
        new[0]
    );
    for id in &new {
        assert_eq!(
            &message_id(&next(&mut socket).await),
            id,
            "everything published since"
        );
    }
    let live = server.publish("feed", json!("live")).await;
    assert_eq!(message_id(&next(&mut socket).await), live);
}

both_modes!(publish_frames_take_the_hub_path);
async fn publish_frames_take_the_hub_path(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let mut listener = subscribed(&server, &["room"]).await;
    let mut publisher = open(&server, "").await;
    send(
        &mut publisher,
        json!({"type": "publish", "channel": "room", "data": {"text": "hi"}}),
    )
    .await;
    let published = next(&mut publisher).await;
    assert_eq!(published["type"], "published");
    assert_eq!(published["channel"], "room");
    let id = published["id"].as_str().expect("an id");
    assert_eq!(
        next(&mut listener).await,
        json!({"type": "message", "channel": "room", "id": id, "data": {"text": "hi"}})
    );
    let after = server.publish("room", json!(null)).await;
    assert!(common::id_order(&after) > common::id_order(id));
}

// `AUTH_MODE=none` only: what the PUBLISH_TOKEN may do with `jwt` is proved in
// tests/authorization.rs, beside the JWTs it competes with.
#[tokio::test]
async fn publish_frames_need_the_token_when_one_is_set() {
    let server = Server::start_with(&[("PUBLISH_TOKEN", "s3cret")]);
    let publish = json!({"type": "publish", "channel": "room", "data": 1});

    let mut anonymous = open(&server, "").await;
    send(&mut anonymous, publish.clone()).await;
    let refused = next(&mut anonymous).await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["code"], "unauthorized", "{refused}");

    let by_query = try_open(&server, "?token=s3cret", &[]).await;
    let by_header = try_open(&server, "", &[("authorization", "Bearer s3cret")]).await;
    for socket in [by_query, by_header] {
        let mut socket = socket.expect("the right token is accepted");
        send(&mut socket, publish.clone()).await;
        assert_eq!(next(&mut socket).await["type"], "published");
    }

    // With AUTH_MODE=none a wrong token proves nothing (with jwt it is refused before
    // the upgrade: tests/authorization.rs): the connection may read, not publish.
    for (query, headers) in [
        ("?token=wrong", &[][..]),
        ("", &[("authorization", "Bearer wrong")][..]),
    ] {
        let mut socket = try_open(&server, query, headers)
            .await
            .expect("anyone may read");
        send(&mut socket, publish.clone()).await;
        let refused = next(&mut socket).await;
        assert_eq!(refused["code"], "unauthorized", "{refused}");
    }
}

both_modes!(publish_frames_follow_the_content_rules_of_post_publish);
async fn publish_frames_follow_the_content_rules_of_post_publish(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let mut listener = subscribed(&server, &["room"]).await;
    let mut publisher = open(&server, "").await;
    let deep = |depth: usize| format!("{}0{}", "[".repeat(depth), "]".repeat(depth));
    for (what, data, rule) in [
        ("nested 65 deep", deep(65), "deeper than 64"),
        ("nested 20,000 deep", deep(20_000), "deeper than 64"),
        ("a lone surrogate", r#""\ud800""#.to_owned(), "surrogate"),
        (
            "a number out of range",
            "1e999999".to_owned(),
            "out of range",
        ),
    ] {
        let frame = format!(r#"{{"type":"publish","channel":"room","data":{data}}}"#);
        publisher.send(Message::text(frame)).await.expect("send");
        let refused = next(&mut publisher).await;
        assert_eq!(refused["type"], "error", "{what}: {refused}");
        assert_eq!(refused["code"], "bad_request", "{what}: {refused}");
        let message = refused["message"].as_str().expect("a message");
        assert!(message.contains(rule), "{what}: {message}");
    }
    // The connection stays, and what follows the rules is published; the listener got
    // nothing of the refused ones.
    let edge = format!(
        r#"{{"type":"publish","channel":"room","data":{}}}"#,
        deep(64)
    );
    publisher.send(Message::text(edge)).await.expect("send");
    let published = next(&mut publisher).await;
    assert_eq!(published["type"], "published", "{published}");
    let delivered = next(&mut listener).await;
    assert_eq!(message_id(&delivered), published["id"].as_str().unwrap());
}

#[tokio::test]
async fn a_lower_case_bearer_may_publish_and_no_token_reaches_the_log() {
    let server = Server::start_with(&[("PUBLISH_TOKEN", "s3cret-ws-token"), ("RUST_LOG", "trace")]);
    let mut socket = try_open(&server, "", &[("authorization", "bearer s3cret-ws-token")])
        .await
        .expect("the token is accepted");
    send(
        &mut socket,
        json!({"type": "publish", "channel": "room", "data": 1}),
    )
    .await;
    assert_eq!(next(&mut socket).await["type"], "published");
    // A refresh frame carries a token in the frame itself (refused here: AUTH_MODE is
    // none), and one in the query at connect.
    send(
        &mut socket,
        json!({"type": "refresh", "token": "s3cret-ws-token-refresh"}),
    )
    .await;
    assert_eq!(next(&mut socket).await["type"], "error");
    let mut by_query = open(&server, "?token=s3cret-ws-token-query&channel=room").await;
    assert_eq!(next(&mut by_query).await["type"], "subscribed");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = server.log();
    assert!(log.contains("TRACE"), "trace logging is on: {log}");
    let leaks: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("s3cret-ws-token"))
        .collect();
    assert!(
        leaks.is_empty(),
        "a token reached the log:\n{}",
        leaks.join("\n")
    );
}

both_modes!(malformed_frames_get_an_error_and_the_connection_stays);
async fn malformed_frames_get_an_error_and_the_connection_stays(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let mut socket = open(&server, "").await;
    let bad = [
        "not json",
        "[]",
        r#"{"type": "dance", "channel": "x"}"#,
        r#"{"type": "subscribe"}"#,
        r#"{"type": "subscribe", "channel": "a b"}"#,
        r#"{"type": "subscribe", "channel": "x", "since": "abc"}"#,
        r#"{"type": "subscribe", "channel": "x", "extra": 1}"#,
        r#"{"type": "publish", "channel": "x"}"#,
    ];
    for text in bad {
        socket.send(Message::text(text)).await.expect("send");
        let reply = next(&mut socket).await;
        assert_eq!(reply["type"], "error", "{text}: {reply}");
        assert!(reply["message"].is_string(), "{text}: {reply}");
    }
    socket
        .send(Message::binary(vec![0, 159, 146, 150]))
        .await
        .expect("send");
    assert_eq!(next(&mut socket).await["type"], "error");

    for n in 0..32 {
        let channel = format!("c{n}");
        send(
            &mut socket,
            json!({"type": "subscribe", "channel": channel}),
        )
        .await;
        assert_eq!(
            next(&mut socket).await,
            json!({"type": "subscribed", "channel": channel})
        );
    }
    send(
        &mut socket,
        json!({"type": "subscribe", "channel": "one-too-many"}),
    )
    .await;
    assert_eq!(next(&mut socket).await["type"], "error");

    let id = server.publish("c0", json!("still here")).await;
    assert_eq!(message_id(&next(&mut socket).await), id);
}

both_modes!(bad_connect_queries_are_refused_before_the_upgrade);
async fn bad_connect_queries_are_refused_before_the_upgrade(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let too_many: Vec<String> = (0..33).map(|n| format!("channel=c{n}")).collect();
    for query in [
        "?channel=".to_owned(),
        "?channel=a%20b".to_owned(),
        "?channel=ok&since=abc".to_owned(),
        format!("?{}", too_many.join("&")),
    ] {
        let Err((status, body)) = try_open(&server, &with_token(&server, &query), &[]).await else {
            panic!("{query} is refused");
        };
        assert_eq!(status, 400, "{query}");
        assert!(body["error"].is_string(), "{query}: {body}");
    }
}

both_modes!(a_frame_over_64_kib_closes_with_1009);
async fn a_frame_over_64_kib_closes_with_1009(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let mut socket = open(&server, "").await;
    let data = "x".repeat(65 * 1024);
    send(
        &mut socket,
        json!({"type": "publish", "channel": "x", "data": data}),
    )
    .await;
    let (ids, code, _) = read_until_close(&mut socket).await;
    assert!(ids.is_empty());
    assert_eq!(code, 1009);
}

both_modes!(invalid_utf8_closes_with_1007);
async fn invalid_utf8_closes_with_1007(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let mut socket = open(&server, "").await;
    let frame = Frame::message(vec![b'"', 0xff, 0xfe, b'"'], OpCode::Data(Data::Text), true);
    socket.send(Message::Frame(frame)).await.expect("send");
    let (_, code, _) = read_until_close(&mut socket).await;
    assert_eq!(code, 1007);
}

both_modes!(origin_must_be_the_same_host_by_default);
async fn origin_must_be_the_same_host_by_default(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let query = with_token(&server, "");
    let same_host = format!("http://{}", server.addr);
    assert!(try_open(&server, &query, &[]).await.is_ok(), "no Origin");
    assert!(
        try_open(&server, &query, &[("origin", &same_host)])
            .await
            .is_ok()
    );
    for origin in ["http://evil.example", "null", "http://127.0.0.1:1"] {
        let Err((status, body)) = try_open(&server, &query, &[("origin", origin)]).await else {
            panic!("{origin} is refused");
        };
        assert_eq!(status, 403, "{origin}");
        assert!(body["error"].is_string());
    }
}

both_modes!(allowed_origins_replace_the_same_host_rule);
async fn allowed_origins_replace_the_same_host_rule(mode: AuthMode) {
    let server = Server::start_in(
        mode,
        &[(
            "ALLOWED_ORIGINS",
            "https://app.example, https://admin.example/",
        )],
    );
    let query = with_token(&server, "");
    for origin in ["https://app.example", "https://admin.example"] {
        assert!(
            try_open(&server, &query, &[("origin", origin)])
                .await
                .is_ok(),
            "{origin}"
        );
    }
    let same_host = format!("http://{}", server.addr);
    let refused = try_open(&server, &query, &[("origin", &same_host)]).await;
    assert_eq!(refused.err().map(|(status, _)| status), Some(403));
}

both_modes!(a_client_that_stops_reading_is_cut_off_and_can_resume);
async fn a_client_that_stops_reading_is_cut_off_and_can_resume(mode: AuthMode) {
    let server = Server::start_in(mode, &[("QUEUE_LEN", "4")]);
    let mut socket = subscribed(&server, &["bulk"]).await;
    // Far more than the socket buffers and the queue hold while nobody reads.
    let payload = "x".repeat(60 * 1024);
    let mut ids = Vec::new();
    for _ in 0..200 {
        ids.push(server.publish("bulk", json!(payload)).await);
    }

    let (received, code, reason) = read_until_close(&mut socket).await;
    assert_eq!(code, 1013, "Try Again Later ({reason})");
    assert!(!received.is_empty() && received.len() < ids.len());
    assert_eq!(
        received,
        ids[..received.len()],
        "what arrived before the cut is complete and in order"
    );

    let last = received.last().expect("a last id");
    let mut resumed = open(&server, &format!("?channel=bulk&since={last}")).await;
    assert_eq!(next(&mut resumed).await["type"], "subscribed");
    for id in &ids[received.len()..] {
        assert_eq!(
            &message_id(&next(&mut resumed).await),
            id,
            "resume fills the gap"
        );
    }
}

/// Does the upgrade by hand, then only reads: never a pong. Returns the opcodes of the
/// frames received and how long the server kept the connection.
fn silent_peer(addr: SocketAddr, query: &str) -> (Vec<u8>, Duration) {
    let mut stream = StdTcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    write!(
        stream,
        "GET /ws{query} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .expect("send the handshake");
    let started = Instant::now();
    let mut head = Vec::new();
    let mut byte = [0];
    while !head.ends_with(b"\r\n\r\n") {
        stream
            .read_exact(&mut byte)
            .expect("the handshake response");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "upgraded");

    let mut frames = Vec::new();
    let mut buffer = [0; 512];
    loop {
        assert!(
            started.elapsed() < PATIENCE,
            "the server keeps pinging a peer that never answers"
        );
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => frames.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the server never dropped the silent peer: {e}"),
        }
    }
    let mut opcodes = Vec::new();
    let mut rest = &frames[..];
    while let [first, length, tail @ ..] = rest {
        let length = usize::from(length & 0x7f);
        assert!(length < 126 && tail.len() >= length, "small control frames");
        opcodes.push(first & 0x0f);
        rest = &tail[length..];
    }
    (opcodes, started.elapsed())
}

both_modes!(peers_that_stop_answering_pings_are_dropped);
async fn peers_that_stop_answering_pings_are_dropped(mode: AuthMode) {
    let server = Server::start_in(mode, &[("WS_PING_SECS", "1")]);
    let mut answering = subscribed(&server, &["alive"]).await;
    // tungstenite answers pings while it reads, so keep reading in the background.
    let (frames, mut received) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(message)) = answering.next().await {
            if let Message::Text(text) = message {
                let _ = frames.send(text.to_string());
            }
        }
    });

    let addr = server.addr;
    let query = with_token(&server, "");
    let (opcodes, lived) = tokio::task::spawn_blocking(move || silent_peer(addr, &query))
        .await
        .expect("the silent peer");
    assert!(opcodes.contains(&0x9), "pinged before being dropped");
    assert!(lived >= Duration::from_secs(1), "dropped after {lived:?}");

    let id = server.publish("alive", json!("still here")).await;
    let text = timeout(PATIENCE, received.recv())
        .await
        .expect("a frame in time")
        .expect("the answering client is still connected");
    let frame: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(message_id(&frame), id);
}

both_modes!(shutdown_closes_every_socket_with_1001);
async fn shutdown_closes_every_socket_with_1001(mode: AuthMode) {
    let mut server = Server::start_in(mode, &[]);
    let mut sockets = Vec::new();
    // Enough that exiting without waiting for the sockets would cut some of them off.
    for _ in 0..200 {
        sockets.push(subscribed(&server, &["news"]).await);
    }
    let (status, took) = server.terminate();
    assert!(status.success(), "clean exit, got {status}");
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    for socket in &mut sockets {
        let (_, code, _) = read_until_close(socket).await;
        assert_eq!(code, 1001);
    }
}

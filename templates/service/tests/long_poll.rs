//! Long polling end to end: real HTTP requests held by the server until a message
//! arrives, the timeout passes or the server shuts down.
//!
//! Every test runs in both `AUTH_MODE`s (`both_modes!`); with `jwt` each poll presents
//! the token as the browser client does, `Authorization: Bearer`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{AuthMode, Server};
use serde_json::{Value, json};
use tokio::time::timeout;

/// A poll's answer, with the headers every answer must carry checked.
async fn poll(server: &Server, query: &str) -> Value {
    let response = timeout(
        Duration::from_secs(70),
        server.get(&format!("/poll?{query}")).send(),
    )
    .await
    .expect("every poll is answered within its timeout")
    .expect("GET /poll");
    assert_eq!(response.status(), 200, "{query}");
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.expect("a JSON body")
}

/// The messages of a poll's answer as `(channel, id, data)`.
fn messages(body: &Value) -> Vec<(String, String, Value)> {
    body["messages"]
        .as_array()
        .expect("a messages array")
        .iter()
        .map(|message| common::envelope(&message.to_string()))
        .collect()
}

fn cursor(body: &Value) -> String {
    body["cursor"].as_str().expect("a cursor string").to_owned()
}

both_modes!(answers_at_once_when_newer_messages_exist);
async fn answers_at_once_when_newer_messages_exist(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let seen = server.publish("feed", json!("seen")).await;
    let a = server.publish("feed", json!({"n": 1})).await;
    server.publish("other", json!("not for us")).await;
    let b = server.publish("feed", json!([2])).await;

    let started = Instant::now();
    let body = poll(&server, &format!("channel=feed&cursor={seen}")).await;
    assert!(started.elapsed() < Duration::from_secs(5), "not held");
    assert_eq!(
        messages(&body),
        [
            ("feed".into(), a, json!({"n": 1})),
            ("feed".into(), b.clone(), json!([2])),
        ]
    );
    assert_eq!(cursor(&body), b, "the cursor is the last message's id");
    assert_eq!(body.get("reset"), None);
}

both_modes!(a_held_poll_is_answered_by_the_next_publish);
async fn a_held_poll_is_answered_by_the_next_publish(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let seen = server.publish("feed", json!("seen")).await;
    let request = server.get(&format!("/poll?channel=feed&cursor={seen}&timeout=30"));
    let mut held = tokio::spawn(async move {
        let started = Instant::now();
        let body: Value = request.send().await?.json().await?;
        Ok::<_, reqwest::Error>((body, started.elapsed()))
    });
    // Whether the publish lands before or after the server holds the poll, the
    // cursor makes the answer the same: exactly the new message.
    assert!(
        timeout(Duration::from_millis(300), &mut held)
            .await
            .is_err(),
        "the poll is held while nothing is new"
    );
    let id = server.publish("feed", json!("news")).await;
    let (body, took) = timeout(Duration::from_secs(10), held)
        .await
        .expect("answered soon after the publish")
        .expect("poll task")
        .expect("poll");
    assert_eq!(
        messages(&body),
        [("feed".into(), id.clone(), json!("news"))]
    );
    assert_eq!(cursor(&body), id);
    assert!(
        took < Duration::from_secs(30),
        "answered before the timeout"
    );
}

both_modes!(a_write_delay_answers_a_held_poll_with_what_it_gathered);
async fn a_write_delay_answers_a_held_poll_with_what_it_gathered(mode: AuthMode) {
    const DELAY: Duration = Duration::from_millis(300);
    let server = Server::start_in(mode, &[("WRITE_DELAY_MS", "300")]);
    let seen = server.publish("feed", json!("seen")).await;
    let request = server.get(&format!("/poll?channel=feed&cursor={seen}&timeout=30"));
    let mut held = tokio::spawn(async move { request.send().await?.json::<Value>().await });
    assert!(
        timeout(Duration::from_millis(300), &mut held)
            .await
            .is_err(),
        "the poll is held while nothing is new"
    );
    let published = Instant::now();
    let a = server.publish("feed", json!(1)).await;
    let b = server.publish("feed", json!(2)).await;
    let body = timeout(Duration::from_secs(10), held)
        .await
        .expect("answered soon after the delay")
        .expect("poll task")
        .expect("poll");
    let waited = published.elapsed();
    assert!(waited >= DELAY, "answered after {waited:?}");
    assert_eq!(
        messages(&body),
        [("feed".into(), a, json!(1)), ("feed".into(), b, json!(2))]
    );
}

both_modes!(a_poll_times_out_empty_with_the_same_cursor);
async fn a_poll_times_out_empty_with_the_same_cursor(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let seen = server.publish("feed", json!(1)).await;
    server.publish("other", json!(2)).await;

    let started = Instant::now();
    let body = poll(&server, &format!("channel=feed&cursor={seen}&timeout=1")).await;
    let took = started.elapsed();
    assert!(messages(&body).is_empty());
    assert_eq!(cursor(&body), seen, "the cursor is unchanged");
    assert!(
        (Duration::from_millis(900)..Duration::from_secs(5)).contains(&took),
        "held for the requested second, took {took:?}"
    );
}

both_modes!(without_a_cursor_a_poll_waits_for_the_next_message);
async fn without_a_cursor_a_poll_waits_for_the_next_message(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let before = server.publish("feed", json!("before")).await;

    // Nothing new: the answer says where the stream stands now.
    let body = poll(&server, "channel=feed&timeout=1").await;
    assert!(messages(&body).is_empty());
    assert_eq!(cursor(&body), before);

    let request = server.get("/poll?channel=feed&timeout=30");
    let mut held = tokio::spawn(async move { request.send().await?.json::<Value>().await });
    // The server may hold the poll only after some of these publishes: keep
    // publishing until it answers, and check that it answered with what came next.
    let mut published = Vec::new();
    let body = loop {
        published.push(server.publish("feed", json!(published.len())).await);
        if let Ok(answer) = timeout(Duration::from_millis(50), &mut held).await {
            break answer.expect("poll task").expect("poll");
        }
        assert!(published.len() < 200, "the held poll never answered");
    };
    let ids: Vec<String> = messages(&body).into_iter().map(|(_, id, _)| id).collect();
    assert!(!ids.is_empty(), "a message ends the wait");
    let first = published
        .iter()
        .position(|id| *id == ids[0])
        .expect("only messages published after the poll arrived");
    assert_eq!(
        ids,
        published[first..first + ids.len()],
        "in order, without gaps"
    );
    assert_eq!(cursor(&body), *ids.last().unwrap());
}

both_modes!(a_sequence_of_polls_sees_every_message_once_in_order);
async fn a_sequence_of_polls_sees_every_message_once_in_order(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let start = server.publish("a", json!("start")).await;
    let publish = server.authorize(reqwest::Client::new().post(server.url("/publish")));
    let publisher = tokio::spawn(async move {
        let mut ids = Vec::new();
        for n in 0..60 {
            let channel = ["a", "b", "c"][n % 3];
            let response = publish
                .try_clone()
                .expect("a request without a streamed body")
                .json(&json!({"channel": channel, "data": n}))
                .send()
                .await
                .expect("POST /publish");
            let body: Value = response.json().await.expect("JSON reply");
            ids.push((channel, body["id"].as_str().expect("an id").to_owned()));
        }
        ids
    });

    let mut received = Vec::new();
    let mut cursor_now = start;
    while received.len() < 40 {
        let body = poll(
            &server,
            &format!("channel=a&channel=b&cursor={cursor_now}&timeout=10"),
        )
        .await;
        let batch = messages(&body);
        assert!(
            !batch.is_empty(),
            "a poll returns as soon as messages exist"
        );
        cursor_now = cursor(&body);
        assert_eq!(cursor_now, batch.last().unwrap().1);
        received.extend(batch.into_iter().map(|(channel, id, _)| (channel, id)));
    }

    let expected: Vec<(String, String)> = publisher
        .await
        .expect("publisher")
        .into_iter()
        .filter(|(channel, _)| *channel != "c")
        .map(|(channel, id)| (channel.to_owned(), id))
        .collect();
    assert_eq!(received, expected);
}

#[tokio::test]
async fn a_long_history_is_answered_a_piece_per_poll_and_the_cursor_continues() {
    let server = Server::start();
    let seen = server.publish("a", json!("seen")).await;
    let payload = "x".repeat(16 * 1024);
    let mut ids = Vec::new();
    for n in 0..60 {
        let channel = if n % 3 == 0 { "b" } else { "a" };
        ids.push(server.publish(channel, json!(payload)).await);
    }

    let mut received = Vec::new();
    let mut polls = 0;
    let mut at = seen;
    while received.len() < ids.len() {
        let body = poll(&server, &format!("channel=a&channel=b&cursor={at}")).await;
        polls += 1;
        let answered = messages(&body);
        let bytes: usize = body["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m.to_string().len())
            .sum();
        // A piece is about 256 KiB: one message more when the budget ends inside it.
        assert!(
            bytes <= 256 * 1024 + 17 * 1024,
            "a poll answered {bytes} bytes"
        );
        assert!(!answered.is_empty(), "every poll moves on");
        received.extend(answered.into_iter().map(|(_, id, _)| id));
        at = cursor(&body);
    }
    assert_eq!(received, ids, "nothing lost or repeated across the pieces");
    assert!(polls >= 3, "960 KiB took {polls} polls");
}

both_modes!(outdated_or_unknown_cursors_get_a_reset_then_what_history_holds);
async fn outdated_or_unknown_cursors_get_a_reset_then_what_history_holds(mode: AuthMode) {
    let server = Server::start_in(mode, &[("HISTORY_LEN", "2")]);
    let mut ids = Vec::new();
    for n in 1..=4 {
        ids.push(server.publish("feed", json!(n)).await);
    }
    for stale in ["1", ids[0].as_str(), "18446744073709551615"] {
        let query = format!("channel=feed&cursor={stale}");
        let body = poll(&server, &query).await;
        assert_eq!(body["reset"], true, "cursor {stale}");
        let held: Vec<String> = messages(&body).into_iter().map(|(_, id, _)| id).collect();
        assert_eq!(held, ids[2..], "exactly what history holds, cursor {stale}");
        assert_eq!(cursor(&body), ids[3], "continue after the last one");
    }

    let after = server.publish("feed", json!("after")).await;
    let body = poll(&server, &format!("channel=feed&cursor={}", ids[3])).await;
    assert_eq!(body["reset"], Value::Null);
    assert_eq!(
        messages(&body)[0].1,
        after,
        "the cursor resumes without a gap"
    );
}

both_modes!(a_cursor_from_a_previous_run_gets_a_reset_then_everything_since);
async fn a_cursor_from_a_previous_run_gets_a_reset_then_everything_since(mode: AuthMode) {
    let old = {
        let server = Server::start_in(mode, &[]);
        server.publish("feed", json!("old")).await
    };
    let server = Server::start_in(mode, &[]);
    // Nothing published yet: a reset with nothing after it, and its cursor resumes.
    let body = poll(&server, &format!("channel=feed&cursor={old}")).await;
    assert_eq!(body["reset"], true);
    assert!(messages(&body).is_empty());
    let resumed = cursor(&body);
    let body = poll(&server, &format!("channel=feed&cursor={resumed}&timeout=1")).await;
    assert_eq!(body["reset"], Value::Null, "no second reset");
    assert_eq!(cursor(&body), resumed);

    let mut new = Vec::new();
    for n in 1..=3 {
        new.push(server.publish("feed", json!(n)).await);
    }
    let body = poll(&server, &format!("channel=feed&cursor={old}")).await;
    assert_eq!(body["reset"], true);
    let since: Vec<String> = messages(&body).into_iter().map(|(_, id, _)| id).collect();
    assert_eq!(since, new, "everything published since the restart");
    assert_eq!(cursor(&body), new[2]);
}

both_modes!(bad_polls_are_400_with_a_json_error);
async fn bad_polls_are_400_with_a_json_error(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    for query in [
        "",
        "channel=",
        "channel=a%20b",
        "cursor=1",
        "channel=ok&cursor=abc",
        "channel=ok&cursor=-1",
        "channel=ok&cursor=",
        "channel=ok&cursor=99999999999999999999999",
        "channel=ok&timeout=abc",
        "channel=ok&timeout=0",
        "channel=ok&timeout=61",
        "channel=ok&timeout=-1",
        "channel=ok&timeout=1.5",
    ] {
        let response = server.get(&format!("/poll?{query}")).send().await.unwrap();
        assert_eq!(response.status(), 400, "{query:?}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].is_string(), "{query:?}");
    }
    let response = server
        .authorize(reqwest::Client::new().post(server.url("/poll?channel=ok")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
}

/// Sends a request over a plain socket and returns it once the request is written,
/// so the test knows exactly which requests the server has been sent.
fn send(server: &Server, target: &str) -> TcpStream {
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a read timeout");
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{}\r\n",
        server.addr,
        server.bearer_line()
    )
    .expect("send the request");
    stream
}

/// Reads the whole response to a request sent by [`send`]: status line and body.
fn receive(mut stream: TcpStream) -> (String, String) {
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("a complete response");
    let (head, body) = response.split_once("\r\n\r\n").expect("a header section");
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, body.to_owned())
}

both_modes!(shutdown_answers_held_polls_promptly);
async fn shutdown_answers_held_polls_promptly(mode: AuthMode) {
    let mut server = Server::start_in(mode, &[]);
    let polls: Vec<TcpStream> = (0..50)
        .map(|_| send(&server, "/poll?channel=quiet&timeout=60"))
        .collect();
    // Connections are accepted in order: once a later one is answered, every poll
    // above has reached the server.
    let (status, _) = receive(send(&server, "/healthz"));
    assert_eq!(status, "HTTP/1.1 200 OK");

    let (status, took) = server.terminate();
    assert!(status.success(), "clean exit, got {status}");
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    for stream in polls {
        let (status, body) = receive(stream);
        assert_eq!(status, "HTTP/1.1 200 OK");
        let body: Value = serde_json::from_str(&body).expect("a JSON body");
        assert_eq!(body["messages"], json!([]));
        assert!(body["cursor"].is_string());
    }
}

/// Sends `GET target` with `credential` (header lines, or nothing) on a kept-alive
/// connection and reads one response, framed by its `Content-Length`: status line and
/// body.
fn exchange(
    connection: &mut BufReader<TcpStream>,
    target: &str,
    credential: &str,
) -> (String, String) {
    write!(
        connection.get_mut(),
        "GET {target} HTTP/1.1\r\nHost: test\r\n{credential}\r\n"
    )
    .expect("send the request");
    let mut status = String::new();
    connection.read_line(&mut status).expect("a status line");
    let mut length = None;
    loop {
        let mut line = String::new();
        connection.read_line(&mut line).expect("a header line");
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = Some(value.trim().parse().expect("a numeric Content-Length"));
        }
    }
    let mut body = vec![0; length.expect("a Content-Length")];
    connection.read_exact(&mut body).expect("the whole body");
    (
        status.trim_end().to_owned(),
        String::from_utf8(body).expect("UTF-8"),
    )
}

both_modes!(polls_share_a_kept_alive_connection_with_other_requests);
async fn polls_share_a_kept_alive_connection_with_other_requests(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let socket = TcpStream::connect(server.addr).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a read timeout");
    let mut connection = BufReader::new(socket);

    let credential = server.bearer_line();
    let (status, body) = exchange(&mut connection, "/poll?channel=kept&timeout=1", &credential);
    assert_eq!(status, "HTTP/1.1 200 OK");
    let body: Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(body["messages"], json!([]));
    let id = server.publish("kept", json!("one")).await;
    let target = format!("/poll?channel=kept&cursor={}", cursor(&body));
    let (status, body) = exchange(&mut connection, &target, &credential);
    assert_eq!(status, "HTTP/1.1 200 OK");
    let body: Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(messages(&body), [("kept".into(), id, json!("one"))]);

    // Any other request on the same connection is still answered.
    assert_eq!(
        exchange(&mut connection, "/healthz", ""),
        ("HTTP/1.1 200 OK".into(), "ok".into())
    );
}

//! Short polling end to end: immediate answers, the cursor as ETag and 304s while
//! nothing changed.
//!
//! Every test runs in both `AUTH_MODE`s (`both_modes!`); with `jwt` each poll presents
//! the token as the browser client does, `Authorization: Bearer`.

mod common;

use common::{AuthMode, Server};
use reqwest::header::{ETAG, IF_NONE_MATCH};
use serde_json::{Value, json};

/// A poll's answer, with the headers every 200 must carry checked.
async fn poll(server: &Server, query: &str) -> Value {
    let response = server
        .get(&format!("/messages?{query}"))
        .send()
        .await
        .expect("GET /messages");
    assert_eq!(response.status(), 200, "{query}");
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let etag = response.headers()[ETAG].to_str().unwrap().to_owned();
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(
        etag,
        format!("\"{}\"", cursor(&body)),
        "the ETag is the cursor"
    );
    assert!(body["poll_interval_ms"].as_u64().is_some_and(|ms| ms > 0));
    body
}

/// A poll sent with `If-None-Match`: its status, ETag and raw body.
async fn revalidate(server: &Server, query: &str, if_none_match: &str) -> (u16, String, String) {
    let response = server
        .get(&format!("/messages?{query}"))
        .header(IF_NONE_MATCH, if_none_match)
        .send()
        .await
        .expect("GET /messages");
    let status = response.status().as_u16();
    let etag = response.headers()[ETAG].to_str().unwrap().to_owned();
    (status, etag, response.text().await.expect("a body"))
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

both_modes!(without_a_cursor_answers_the_current_cursor);
async fn without_a_cursor_answers_the_current_cursor(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    server.publish("feed", json!(1)).await;
    let last = server.publish("other", json!(2)).await;
    let body = poll(&server, "channel=feed").await;
    assert!(messages(&body).is_empty());
    assert_eq!(cursor(&body), last, "the cursor of the newest message");
    assert_eq!(body.get("reset"), None);
}

both_modes!(answers_at_once_with_what_is_newer_than_the_cursor);
async fn answers_at_once_with_what_is_newer_than_the_cursor(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let seen = server.publish("feed", json!("seen")).await;
    let a = server.publish("feed", json!({"n": 1})).await;
    server.publish("other", json!("not for us")).await;
    let b = server.publish("feed", json!([2])).await;

    let body = poll(&server, &format!("channel=feed&cursor={seen}")).await;
    assert_eq!(
        messages(&body),
        [
            ("feed".into(), a, json!({"n": 1})),
            ("feed".into(), b.clone(), json!([2])),
        ]
    );
    assert_eq!(cursor(&body), b);

    let body = poll(&server, &format!("channel=feed&cursor={b}")).await;
    assert!(messages(&body).is_empty());
    assert_eq!(cursor(&body), b, "nothing new keeps the cursor");
}

both_modes!(a_matching_if_none_match_gets_304_until_something_changes);
async fn a_matching_if_none_match_gets_304_until_something_changes(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let seen = server.publish("feed", json!("seen")).await;
    let query = format!("channel=feed&cursor={seen}");
    let etag = format!("\"{seen}\"");

    for header in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"0\", {etag}"),
        "*".to_owned(),
    ] {
        let (status, answered_etag, body) = revalidate(&server, &query, &header).await;
        assert_eq!(status, 304, "If-None-Match: {header}");
        assert_eq!(answered_etag, etag);
        assert_eq!(body, "", "a 304 has no body");
    }
    let (status, _, _) = revalidate(&server, &query, "\"0\"").await;
    assert_eq!(status, 200, "another ETag is no match");

    server.publish("other", json!("elsewhere")).await;
    let (status, _, _) = revalidate(&server, &query, &etag).await;
    assert_eq!(status, 304, "other channels do not change this one");

    let id = server.publish("feed", json!("news")).await;
    let (status, answered_etag, body) = revalidate(&server, &query, &etag).await;
    assert_eq!(status, 200, "a publish changes the answer");
    assert_eq!(answered_etag, format!("\"{id}\""));
    let body: Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(messages(&body), [("feed".into(), id, json!("news"))]);
}

both_modes!(a_sequence_of_polls_sees_every_message_once_in_order);
async fn a_sequence_of_polls_sees_every_message_once_in_order(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let mut cursor_now = server.publish("a", json!("start")).await;
    let mut expected = Vec::new();
    let mut received = Vec::new();
    for n in 0..60 {
        let channel = ["a", "b", "c"][n % 3];
        let id = server.publish(channel, json!(n)).await;
        if channel != "c" {
            expected.push((channel.to_owned(), id));
        }
        // Poll at uneven points, so answers carry zero, one or several messages.
        if n % 7 == 0 || n % 11 == 0 {
            let body = poll(&server, &format!("channel=a&channel=b&cursor={cursor_now}")).await;
            cursor_now = cursor(&body);
            received.extend(messages(&body).into_iter().map(|(c, id, _)| (c, id)));
        }
    }
    let body = poll(&server, &format!("channel=a&channel=b&cursor={cursor_now}")).await;
    received.extend(messages(&body).into_iter().map(|(c, id, _)| (c, id)));
    assert_eq!(received, expected);
    assert_eq!(cursor(&body), expected.last().unwrap().1);
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
        let (status, _, _) = revalidate(&server, &query, &format!("\"{}\"", cursor(&body))).await;
        assert_eq!(status, 200, "a reset is never answered with 304");
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
    let body = poll(&server, &format!("channel=feed&cursor={resumed}")).await;
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

both_modes!(poll_interval_follows_the_environment);
async fn poll_interval_follows_the_environment(mode: AuthMode) {
    let server = Server::start_in(mode, &[("POLL_INTERVAL_MS", "750")]);
    let body = poll(&server, "channel=feed").await;
    assert_eq!(body["poll_interval_ms"], 750);
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
    ] {
        let response = server
            .get(&format!("/messages?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query:?}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].is_string(), "{query:?}");
    }
    let response = server
        .authorize(reqwest::Client::new().post(server.url("/messages?channel=ok")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
}

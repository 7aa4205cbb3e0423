//! The endpoints every strategy shares: health, the demo page and publishing.
//!
//! The HTTP tests run in both `AUTH_MODE`s (`both_modes!`): with `jwt` the page, health
//! and CORS preflights need no token, and publishing presents one.

mod common;

use std::process::{Command, Output};

use common::{AuthMode, Server};
use serde_json::{Value, json};

/// `POST /publish` with `Content-Type: application/json` and, when given, the token as
/// `Authorization: Bearer`; the status and the JSON answer.
async fn post(
    server: &Server,
    body: impl Into<reqwest::Body>,
    token: Option<&str>,
) -> (u16, Value) {
    let authorization = token.map(|token| format!("Bearer {token}"));
    post_with(
        server,
        Some("application/json"),
        authorization.as_deref(),
        body,
    )
    .await
}

/// `POST /publish` with the `Content-Type` and `Authorization` given, if any.
async fn post_with(
    server: &Server,
    content_type: Option<&str>,
    authorization: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(server.url("/publish"))
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    let response = request.send().await.expect("POST /publish");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

both_modes!(health_and_demo_page_are_served);
async fn health_and_demo_page_are_served(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let health = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);

    let page = reqwest::get(server.url("/")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("<script src=\"/client.js\">"));
    assert_eq!(
        html.matches("</script>").count(),
        2,
        "user text must not open or close scripts"
    );

    for script in ["/page.js", "/client.js"] {
        let response = reqwest::get(server.url(script)).await.unwrap();
        assert_eq!(response.status(), 200, "{script}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .contains("javascript")
        );
    }
}

both_modes!(publish_returns_increasing_ids_across_channels);
async fn publish_returns_increasing_ids_across_channels(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let mut last = 0;
    for channel in ["news", "user:42", "news", "room.lobby-1_x"] {
        let id = common::id_order(&server.publish(channel, json!({"n": 1})).await);
        assert!(id > last, "ids increase in publish order");
        last = id;
    }
}

both_modes!(publish_rejects_bad_requests_with_json_errors);
async fn publish_rejects_bad_requests_with_json_errors(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let too_long = "x".repeat(129);
    let cases = [
        ("not json".to_owned(), 400),
        (json!({"channel": "news"}).to_string(), 400),
        (json!({"data": 1}).to_string(), 400),
        (json!({"channel": "", "data": 1}).to_string(), 400),
        (json!({"channel": "a b", "data": 1}).to_string(), 400),
        (json!({"channel": too_long, "data": 1}).to_string(), 400),
        (
            json!({"channel": "news", "data": "x".repeat(70 * 1024)}).to_string(),
            413,
        ),
    ];
    for (body, expected) in cases {
        let (status, reply) = post(&server, body.clone(), server.token()).await;
        assert_eq!(status, expected, "{}", &body[..body.len().min(60)]);
        assert!(
            reply["error"].as_str().is_some_and(|e| !e.is_empty()),
            "error body for {status}"
        );
    }
    let (status, _) = post(
        &server,
        json!({"channel": "news", "data": null}).to_string(),
        server.token(),
    )
    .await;
    assert_eq!(status, 200, "null is JSON too");
}

both_modes!(publish_token_is_enforced_when_set);
async fn publish_token_is_enforced_when_set(mode: AuthMode) {
    let server = Server::start_in(mode, &[("PUBLISH_TOKEN", "s3cret")]);
    let body = json!({"channel": "news", "data": 1}).to_string();
    assert_eq!(post(&server, body.clone(), None).await.0, 401);
    assert_eq!(post(&server, body.clone(), Some("wrong")).await.0, 401);
    let (status, reply) = post(&server, body, Some("s3cret")).await;
    assert_eq!(status, 200);
    assert!(reply["id"].is_string());
}

/// A publish request whose `data` is `depth` arrays deep.
fn nested(depth: usize) -> String {
    format!(
        r#"{{"channel":"news","data":{}0{}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

#[tokio::test]
async fn publish_refusals_come_in_order_auth_type_size_content() {
    let server = Server::start_with(&[("PUBLISH_TOKEN", "s3cret")]);
    let ok = json!({"channel": "news", "data": 1}).to_string();
    let huge = json!({"channel": "news", "data": "x".repeat(70 * 1024)}).to_string();
    let json_type = Some("application/json");
    let token = Some("Bearer s3cret");
    let cases = [
        // 401 whatever the body: a client without the token learns nothing about it.
        (
            "no token, text/plain junk",
            Some("text/plain"),
            None,
            "junk".to_owned(),
            401,
        ),
        ("no token, oversized", json_type, None, huge.clone(), 401),
        (
            "no token, nested too deep",
            json_type,
            None,
            nested(65),
            401,
        ),
        (
            "wrong token, oversized",
            json_type,
            Some("Bearer s3cre"),
            huge.clone(),
            401,
        ),
        // 415 before the size: a form post never gets further.
        ("text/plain", Some("text/plain"), token, ok.clone(), 415),
        (
            "a form",
            Some("application/x-www-form-urlencoded"),
            token,
            ok.clone(),
            415,
        ),
        (
            "multipart",
            Some("multipart/form-data; boundary=x"),
            token,
            ok.clone(),
            415,
        ),
        ("no Content-Type", None, token, ok.clone(), 415),
        (
            "text/plain, oversized",
            Some("text/plain"),
            token,
            huge.clone(),
            415,
        ),
        (
            "JSON in Latin-1",
            Some("application/json; charset=iso-8859-1"),
            token,
            ok.clone(),
            415,
        ),
        (
            "a JSON look-alike",
            Some("application/jsonx"),
            token,
            ok.clone(),
            415,
        ),
        ("oversized", json_type, token, huge, 413),
        ("nested 65 deep", json_type, token, nested(65), 400),
        ("nested 20,000 deep", json_type, token, nested(20_000), 400),
        (
            "a lone surrogate",
            json_type,
            token,
            r#"{"channel":"news","data":"\ud800"}"#.to_owned(),
            400,
        ),
        (
            "a number out of range",
            json_type,
            token,
            r#"{"channel":"news","data":1e999999}"#.to_owned(),
            400,
        ),
        // The rules' edges, and the spellings HTTP allows.
        ("nested 64 deep", json_type, token, nested(64), 200),
        (
            "a surrogate pair",
            json_type,
            token,
            r#"{"channel":"news","data":"\ud83d\ude00"}"#.to_owned(),
            200,
        ),
        (
            "charset=utf-8",
            Some("application/json; charset=UTF-8"),
            token,
            ok.clone(),
            200,
        ),
        (
            "the type in capitals",
            Some("Application/JSON"),
            token,
            ok.clone(),
            200,
        ),
        (
            "bearer in lower case",
            json_type,
            Some("bearer s3cret"),
            ok.clone(),
            200,
        ),
        (
            "bearer in capitals",
            json_type,
            Some("BEARER s3cret"),
            ok,
            200,
        ),
    ];
    for (what, content_type, authorization, body, expected) in cases {
        let (status, reply) = post_with(&server, content_type, authorization, body).await;
        assert_eq!(status, expected, "{what}: {reply}");
        if status != 200 {
            assert!(reply["error"].is_string(), "{what}: a JSON error");
        }
    }
    let (_, reply) = post(&server, nested(65), Some("s3cret")).await;
    assert!(
        reply["error"].as_str().unwrap().contains("deeper than 64"),
        "{reply}"
    );
    let (_, reply) = post(
        &server,
        r#"{"channel":"news","data":["\udc00"]}"#,
        Some("s3cret"),
    )
    .await;
    assert!(
        reply["error"].as_str().unwrap().contains("surrogate"),
        "{reply}"
    );
}

#[tokio::test]
async fn a_token_that_may_publish_nowhere_gets_403_before_the_body_is_read() {
    let server = Server::start_in(AuthMode::Jwt, &[]);
    let sign = |publish: &[&str]| {
        let token = server
            .token_for("42", &["*"], publish)
            .expect("a token in jwt mode");
        format!("Bearer {token}")
    };
    let reader = sign(&[]);
    let writer = sign(&["room:*"]);
    let other = json!({"channel": "news", "data": 1}).to_string();
    let own = json!({"channel": "room:1", "data": 1}).to_string();
    for (what, authorization, content_type, body, expected) in [
        (
            "a reader, text/plain",
            Some(&reader),
            Some("text/plain"),
            "junk".to_owned(),
            403,
        ),
        (
            "a reader, nested too deep",
            Some(&reader),
            Some("application/json"),
            nested(65),
            403,
        ),
        (
            "no token, text/plain",
            None,
            Some("text/plain"),
            "junk".to_owned(),
            401,
        ),
        (
            "a writer, text/plain",
            Some(&writer),
            Some("text/plain"),
            own.clone(),
            415,
        ),
        (
            "a writer, another channel",
            Some(&writer),
            Some("application/json"),
            other,
            403,
        ),
        (
            "a writer, its channel",
            Some(&writer),
            Some("application/json"),
            own,
            200,
        ),
    ] {
        let (status, reply) = post_with(
            &server,
            content_type,
            authorization.map(String::as_str),
            body,
        )
        .await;
        assert_eq!(status, expected, "{what}: {reply}");
    }
}

#[tokio::test]
async fn tokens_never_reach_the_log_even_at_trace_level() {
    let token = "publish-token-that-must-stay-secret";
    let server = Server::start_with(&[("PUBLISH_TOKEN", token), ("RUST_LOG", "trace")]);
    let client = reqwest::Client::new();
    let (status, _) = post(
        &server,
        json!({"channel": "news", "data": 1}).to_string(),
        Some(token),
    )
    .await;
    assert_eq!(status, 200);
    // Every subscribe endpoint of every strategy (this project's answers, the others
    // are 404s that still pass the request logging), with the token in the query, a
    // header and the cookie.
    for path in ["/events", "/poll", "/messages", "/ws", "/nowhere"] {
        for url in [
            server.url(&format!("{path}?channel=news&token={token}")),
            server.url(&format!("{path}?token={token}&channel=news&timeout=1")),
        ] {
            let request = client
                .get(url)
                .header("authorization", format!("Bearer {token}-header"))
                .header("cookie", format!("rt_token={token}-cookie"))
                .timeout(std::time::Duration::from_millis(500));
            let _ = request.send().await.map(|response| response.status());
        }
    }
    // A wrong token is refused without being quoted either.
    let (status, _) = post(&server, "{}", Some("wrong-token-also-secret")).await;
    assert_eq!(status, 401);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let log = server.log();
    assert!(log.contains("/publish"), "the requests were logged: {log}");
    for secret in [token, "wrong-token-also-secret"] {
        assert!(
            !log.contains(secret),
            "a token reached the log:\n{}",
            log.lines()
                .filter(|l| l.contains(secret))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

both_modes!(unknown_routes_and_methods_are_refused);
async fn unknown_routes_and_methods_are_refused(mode: AuthMode) {
    let server = Server::start_in(mode, &[]);
    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(server.url("/nope"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        client
            .get(server.url("/publish"))
            .send()
            .await
            .unwrap()
            .status(),
        405
    );
    assert_eq!(
        client
            .delete(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        405
    );
}

/// `Access-Control-Allow-Origin` and `-Credentials` of a response, if any.
fn cors_headers(response: &reqwest::Response) -> (Option<String>, Option<String>) {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    (
        header("access-control-allow-origin"),
        header("access-control-allow-credentials"),
    )
}

both_modes!(cors_answers_the_allowed_origins_only);
async fn cors_answers_the_allowed_origins_only(mode: AuthMode) {
    let server = Server::start_in(mode, &[("ALLOWED_ORIGINS", "https://app.example")]);
    let client = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        client
            .request(reqwest::Method::OPTIONS, server.url("/publish"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("https://app.example").await.unwrap();
    assert_eq!(
        cors_headers(&allowed),
        (Some("https://app.example".into()), Some("true".into()))
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert_eq!(cors_headers(&other).0, None, "no CORS for other origins");

    let health = client
        .get(server.url("/healthz"))
        .header("Origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        cors_headers(&health),
        (Some("https://app.example".into()), Some("true".into()))
    );
    let health = client
        .get(server.url("/healthz"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(cors_headers(&health), (None, None));
}

/// `healthcheck`, as Docker runs it: exit 0 while the server answers, 1 once it is gone.
#[test]
fn healthcheck_subcommand_follows_the_server() {
    let check = |bind: &str| -> Output {
        Command::new(env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"))))
            .args(["healthcheck", "--bind", bind])
            .output()
            .expect("run the healthcheck")
    };
    let mut server = Server::start();
    // As in the image: BIND is 0.0.0.0:PORT and the check reaches it on loopback.
    let bind = format!("0.0.0.0:{}", server.addr.port());
    let healthy = check(&bind);
    assert!(
        healthy.status.success(),
        "{}",
        String::from_utf8_lossy(&healthy.stderr)
    );

    server.terminate();
    let gone = check(&bind);
    assert_eq!(gone.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&gone.stderr);
    assert!(
        stderr.starts_with("unhealthy: GET http://127.0.0.1:"),
        "{stderr}"
    );
}

//! The endpoints every strategy shares: health, the demo page and publishing.
//!
//! The HTTP tests run in both `AUTH_MODE`s (`both_modes!`): with `jwt` the page, health
//! and CORS preflights need no token, and publishing presents one.

mod common;

use std::process::{Command, Output};

use common::{AuthMode, Server};
use serde_json::{Value, json};

async fn post(
    server: &Server,
    body: impl Into<reqwest::Body>,
    token: Option<&str>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(server.url("/publish"))
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
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

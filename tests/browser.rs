//! The demo page of every generated service in a real browser (headless Chromium over
//! the DevTools protocol): it connects, shows what is published, notices by itself
//! when its server goes away, reconnects by itself when it is back, and resumes — with
//! an explicit reset after a restart of an in-memory server, followed by what was
//! published since the restart, and without losing what was published meanwhile when
//! Redis keeps the history.
//!
//! With authorization on (`AUTH_MODE=jwt`), the page takes its token from `?token=` into
//! its token field (and the `rt_token` cookie, which is how an event stream presents
//! it), shows a refusal plainly, and carries on across the token's expiry with a fresh
//! token from its `getToken()`, losing nothing.
//!
//! A screenshot per strategy and fan-out lands in `target/tmp/screenshots/`.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use support::cdp::Browser;
use support::http;
use support::redis::{Redis, unique_prefix};
use support::server::Server;

/// One Chromium at a time: two cores do not run several browsers and servers well.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Generous guard for reconnects: backoff with jitter may wait several seconds.
const RECONNECT: Duration = Duration::from_secs(40);
const SHOWN: Duration = Duration::from_secs(15);

/// Records every state the page's badge shows, from before the page's own scripts run.
const RECORD_STATES: &str = r#"
window.__states = [];
new MutationObserver(() => {
  const badge = document.getElementById("state");
  if (badge && window.__states[window.__states.length - 1] !== badge.dataset.state) {
    window.__states.push(badge.dataset.state);
  }
}).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"] });
"#;

const PAGE: &str = r#"JSON.stringify({ state: document.getElementById("state")?.dataset.state,
  states: window.__states, log: document.getElementById("log")?.innerText })"#;

/// The page's documented state machine: which state may follow which.
fn allowed(from: &str, to: &str) -> bool {
    matches!(
        (from, to),
        (
            "connecting",
            "connected" | "reconnecting" | "reset" | "unauthorized" | "forbidden"
        ) | ("connected", "reconnecting" | "reset" | "expired")
            | (
                "reconnecting",
                "connected" | "reset" | "unauthorized" | "forbidden"
            )
            | ("reset", "connected" | "reconnecting")
            | ("expired", "connecting" | "reconnecting" | "connected")
    )
}

struct Page {
    browser: Browser,
}

impl Page {
    async fn open(url: &str) -> Self {
        let mut browser = Browser::launch().await;
        browser.on_new_document(RECORD_STATES).await;
        browser.goto(url).await;
        Self { browser }
    }

    async fn states(&mut self) -> Vec<String> {
        serde_json::from_value(self.browser.eval("window.__states").await).unwrap()
    }

    /// Waits until the badge shows `state`.
    async fn wait_state(&mut self, state: &str, limit: Duration) {
        let expression =
            format!(r#"document.getElementById("state")?.dataset.state === "{state}""#);
        self.browser
            .wait_for(&format!("state {state}"), &expression, PAGE, limit)
            .await;
    }

    /// Waits until the badge has shown `state` at some point after `mark` states.
    async fn wait_state_since(&mut self, state: &str, mark: usize, limit: Duration) {
        let expression = format!(r#"(window.__states || []).slice({mark}).includes("{state}")"#);
        self.browser
            .wait_for(
                &format!("state {state} (after #{mark})"),
                &expression,
                PAGE,
                limit,
            )
            .await;
    }

    /// Waits until each of `texts` is in the message log exactly once.
    async fn wait_shown(&mut self, texts: &[String]) {
        let list = serde_json::to_string(texts).unwrap();
        let expression = format!(
            r##"(() => {{
              const items = [...document.querySelectorAll("#log li")].map((li) => li.textContent);
              return {list}.every((t) => items.filter((i) => i.includes('"' + t + '"')).length === 1);
            }})()"##
        );
        self.browser
            .wait_for(&format!("{texts:?} in the log"), &expression, PAGE, SHOWN)
            .await;
    }

    async fn screenshot(&mut self, name: &str) {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("screenshots")
            .join(format!("{name}.png"));
        self.browser.screenshot(&path).await;
        println!("screenshot: {}", path.display());
    }
}

fn texts(prefix: &str, count: usize) -> Vec<String> {
    (1..=count).map(|i| format!("{prefix}-{i}")).collect()
}

async fn publish_all(server: &Server, texts: &[String]) {
    for text in texts {
        http::publish(server.addr, "demo", &json!({ "text": text })).await;
    }
}

/// Checks the observed sequence against the state machine and returns the states
/// shown after the `mark`-th.
fn check_machine(states: &[String], mark: usize) -> Vec<String> {
    assert_eq!(
        states.first().map(String::as_str),
        Some("connecting"),
        "{states:?}"
    );
    for pair in states.windows(2) {
        assert!(
            allowed(&pair[0], &pair[1]),
            "{} -> {} is not a documented transition: {states:?}",
            pair[0],
            pair[1]
        );
    }
    states[mark..].to_vec()
}

/// One in-memory server: its restart is a new run, so the page must get a reset, then
/// every message published since the restart.
async fn memory(strategy: &str) {
    let binary = support::server_binary(strategy, "memory");
    let _one = ONE_BROWSER.lock().await;
    let mut server = Server::start(&binary, &[]);
    let mut page = Page::open(&server.url("/")).await;

    page.wait_state("connected", RECONNECT).await;
    let before = texts("before", 3);
    publish_all(&server, &before).await;
    page.wait_shown(&before).await;

    // The server goes away; the page notices by itself.
    let mark = page.states().await.len();
    server.terminate();
    page.wait_state_since("reconnecting", mark, RECONNECT).await;

    // Same port, new run: the page's cursor is from the previous run, which the server
    // must answer with an explicit reset, never a silent gap, and then deliver what
    // this run published, including before the page was back.
    server.restart();
    let restarted = texts("restarted", 2);
    publish_all(&server, &restarted).await;
    page.wait_state_since("reset", mark, RECONNECT).await;
    page.wait_shown(&restarted).await;
    let after = texts("after", 3);
    publish_all(&server, &after).await;
    page.wait_shown(&after).await;
    page.wait_state("connected", SHOWN).await;
    page.screenshot(&format!("{strategy}-memory")).await;

    let states = page.states().await;
    let since_stop = check_machine(&states, mark);
    assert_eq!(
        since_stop.first().map(String::as_str),
        Some("reconnecting"),
        "{states:?}"
    );
    assert_eq!(
        since_stop.last().map(String::as_str),
        Some("connected"),
        "{states:?}"
    );
    println!("{strategy}/memory page states: {}", states.join(" -> "));
    server.assert_no_panic();
}

/// Two instances on one Redis: one restarts while the other takes publishes, and the
/// page gets what it missed from Redis history, without a reset.
async fn redis(strategy: &str) {
    let binary = support::server_binary(strategy, "redis");
    let _one = ONE_BROWSER.lock().await;
    let redis = Redis::start();
    let url = redis.url();
    let prefix = unique_prefix(&format!("browser-{strategy}"));
    let env = [
        ("REDIS_URL", url.as_str()),
        ("REDIS_PREFIX", prefix.as_str()),
    ];
    let mut a = Server::start(&binary, &env);
    let b = Server::start(&binary, &env);
    let mut page = Page::open(&a.url("/")).await;

    page.wait_state("connected", RECONNECT).await;
    let before = texts("before", 2);
    publish_all(&a, &before[..1]).await;
    publish_all(&b, &before[1..]).await;
    page.wait_shown(&before).await;

    let mark = page.states().await.len();
    a.terminate();
    page.wait_state_since("reconnecting", mark, RECONNECT).await;
    // Published while the page's instance is down, through the other one.
    let away = texts("away", 3);
    publish_all(&b, &away).await;

    a.restart();
    page.wait_shown(&away).await;
    page.wait_state("connected", SHOWN).await;
    let after = texts("after", 2);
    publish_all(&a, &after[..1]).await;
    publish_all(&b, &after[1..]).await;
    page.wait_shown(&after).await;
    page.screenshot(&format!("{strategy}-redis")).await;

    let states = page.states().await;
    let since_stop = check_machine(&states, mark);
    assert_eq!(
        since_stop.first().map(String::as_str),
        Some("reconnecting"),
        "{states:?}"
    );
    assert_eq!(
        since_stop.last().map(String::as_str),
        Some("connected"),
        "{states:?}"
    );
    assert!(
        !since_stop.iter().any(|s| s == "reset"),
        "Redis kept the history, so no reset: {states:?}"
    );
    println!("{strategy}/redis page states: {}", states.join(" -> "));
    a.assert_no_panic();
    b.assert_no_panic();
}

const SECRET: &str = "the-browser-tests-secret-of-32-bytes-or-more";
const PUBLISHER: &str = "the-browser-tests-publish-token";

/// A token from the generated binary's own `token` subcommand.
fn mint(binary: &Path, channels: &str, ttl: &str) -> String {
    support::mint_token(
        binary,
        SECRET,
        &["--sub", "42", "--channels", channels, "--ttl", ttl],
    )
}

async fn publish_as_server(server: &Server, texts: &[String]) {
    let bearer = format!("Bearer {PUBLISHER}");
    for text in texts {
        let body = json!({ "channel": "demo", "data": { "text": text } }).to_string();
        let headers = [
            ("Content-Type", "application/json"),
            ("Authorization", bearer.as_str()),
        ];
        let response = http::request(server.addr, "POST", "/publish", &headers, body.as_bytes())
            .await
            .expect("POST /publish");
        assert_eq!(response.status, 200, "publish: {}", response.text());
    }
}

/// Authorization on: a refusal is shown as such, and the page carries on across its
/// token's expiry without losing a message.
async fn authorized(strategy: &str) {
    let binary = support::server_binary(strategy, "memory");
    let _one = ONE_BROWSER.lock().await;
    let env = [
        ("AUTH_MODE", "jwt"),
        ("JWT_SECRET", SECRET),
        ("PUBLISH_TOKEN", PUBLISHER),
    ];
    let server = Server::start(&binary, &env);

    // A token that does not grant the page's channel.
    let elsewhere = mint(&binary, "elsewhere", "1h");
    let mut page = Page::open(&server.url(&format!("/?token={elsewhere}"))).await;
    page.wait_state("forbidden", RECONNECT).await;
    drop(page);

    let short = mint(&binary, "demo", "8s");
    let mut page = Page::open(&server.url(&format!("/?token={short}"))).await;
    page.wait_state("connected", RECONNECT).await;
    let field = page
        .browser
        .eval(r#"document.getElementById("token-input").value"#)
        .await;
    assert_eq!(field, json!(short), "the field takes ?token=");
    let address = page.browser.eval("location.search").await;
    assert_eq!(address, json!(""), "and the address bar lets go of it");
    if strategy == "sse" {
        let cookie = page.browser.eval("document.cookie").await;
        assert!(
            cookie
                .as_str()
                .unwrap()
                .contains(&format!("rt_token={short}")),
            "EventSource presents the cookie: {cookie}"
        );
    }
    let before = texts("before", 2);
    publish_as_server(&server, &before).await;
    page.wait_shown(&before).await;

    // From now on getToken() hands out a fresh token, as a backend would.
    let fresh = mint(&binary, "demo", "1h");
    let set = format!(r#"document.getElementById("token-input").value = "{fresh}""#);
    page.browser.eval(&set).await;
    // Published every second across the first token's expiry.
    let across = texts("across", 10);
    for text in &across {
        publish_as_server(&server, std::slice::from_ref(text)).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    page.wait_shown(&across).await;
    page.wait_state("connected", RECONNECT).await;
    page.screenshot(&format!("{strategy}-authorized")).await;

    let states = page.states().await;
    check_machine(&states, 0);
    let expired = states.iter().any(|state| state == "expired");
    match strategy {
        // The server ended the stream; the page renewed its cookie and resumed.
        "sse" => assert!(expired, "{states:?}"),
        // The page refreshed ahead of the expiry: the connection never ended.
        "websocket" => assert!(!expired, "{states:?}"),
        // Polls retry a 401 with a fresh token without a word.
        _ => {}
    }
    println!("{strategy}/authorized page states: {}", states.join(" -> "));
    server.assert_no_panic();
}

macro_rules! rows {
    ($($test:ident: $strategy:literal / $fanout:ident,)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                $fanout($strategy).await;
            }
        )*
    };
}

rows! {
    sse_memory: "sse" / memory,
    long_polling_memory: "long-polling" / memory,
    short_polling_memory: "short-polling" / memory,
    websocket_memory: "websocket" / memory,
    sse_redis: "sse" / redis,
    websocket_redis: "websocket" / redis,
    long_polling_redis: "long-polling" / redis,
    short_polling_redis: "short-polling" / redis,
    sse_authorized: "sse" / authorized,
    long_polling_authorized: "long-polling" / authorized,
    short_polling_authorized: "short-polling" / authorized,
    websocket_authorized: "websocket" / authorized,
}

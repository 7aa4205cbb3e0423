//! The generated services' `GET /metrics` (on `METRICS_BIND`) is valid Prometheus text
//! exposition: `promtool check metrics` (Debian's `prometheus` package, which `.ci/run`
//! installs) accepts it, lint included, after some traffic of every kind. A missing
//! promtool fails the test; it is never skipped.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use support::http::{self, EventStream};
use support::redis::Redis;
use support::server::Server;

/// Every transport on the in-memory hub, and one on Redis for the Redis series.
const COMBINATIONS: [(&str, &str); 5] = [
    ("sse", "memory"),
    ("websocket", "memory"),
    ("long-polling", "memory"),
    ("short-polling", "memory"),
    ("sse", "redis"),
];

#[tokio::test]
async fn every_service_exposes_metrics_promtool_accepts() {
    for (strategy, fanout) in COMBINATIONS {
        let binary = support::server_binary(strategy, fanout);
        let redis = (fanout == "redis").then(Redis::start);
        let url = redis.as_ref().map(Redis::url);
        let mut env = vec![("METRICS_BIND", "127.0.0.1:0"), ("AUTH_MODE", "none")];
        if let Some(url) = &url {
            env.push(("REDIS_URL", url));
        }
        let server = Server::start(&binary, &env);
        let metrics = server
            .metrics
            .unwrap_or_else(|| panic!("{strategy}/{fanout}: no metrics= line in --addr-file"));

        // Traffic of every kind, so that each series has a value: a subscriber that
        // receives a message (a histogram sample), a refusal, a reset.
        let subscribe = match strategy {
            "sse" => "/events",
            "websocket" => "/ws",
            "long-polling" => "/poll",
            _ => "/messages",
        };
        let mut stream = if strategy == "sse" {
            Some(
                EventStream::open(server.addr, "/events?channel=m", &[])
                    .await
                    .expect("open a stream"),
            )
        } else {
            None
        };
        http::publish(server.addr, "m", &json!("first")).await;
        if let Some(stream) = &mut stream {
            stream
                .next_within(Duration::from_secs(10))
                .await
                .expect("the message on the stream");
        }
        let refused = http::get(server.addr, &format!("{subscribe}?channel=")).await;
        assert_eq!(
            refused.status,
            400,
            "{strategy}/{fanout}: {}",
            refused.text()
        );
        if strategy.ends_with("polling") {
            let reset = http::get(server.addr, &format!("{subscribe}?channel=m&cursor=1")).await;
            assert_eq!(reset.json()["reset"], true, "{strategy}/{fanout}");
        }

        let scrape = http::get(metrics, "/metrics").await;
        assert_eq!(scrape.status, 200);
        let exposition = scrape.text();
        for name in [
            "realtime_connections",
            "realtime_messages_published_total",
            "realtime_deliveries_total",
            "realtime_bytes_written_total",
            "realtime_slow_consumer_disconnects_total",
            "realtime_resets_total",
            "realtime_refusals_total",
            "realtime_publish_to_write_seconds",
        ] {
            assert!(
                exposition.contains(&format!("# TYPE {name} ")),
                "{strategy}/{fanout}: no {name}:\n{exposition}"
            );
        }
        if fanout == "redis" {
            for name in ["realtime_redis_up", "realtime_redis_command_seconds"] {
                assert!(
                    exposition.contains(&format!("# TYPE {name} ")),
                    "{strategy}/{fanout}: no {name}:\n{exposition}"
                );
            }
        }
        let (ok, report) = promtool_check(&exposition);
        println!(
            "{strategy}/{fanout}: promtool check metrics: {} ({} lines checked){}",
            if ok { "ok" } else { "FAILED" },
            exposition.lines().count(),
            if report.is_empty() {
                String::new()
            } else {
                format!("\n{report}")
            }
        );
        assert!(
            ok,
            "{strategy}/{fanout}: promtool rejects:\n{report}\n{exposition}"
        );
        assert!(
            report.trim().is_empty(),
            "{strategy}/{fanout}: lint problems:\n{report}"
        );
        server.assert_no_panic();
    }
}

/// Runs `promtool check metrics` on `exposition`: whether it passed, and what it said.
fn promtool_check(exposition: &str) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run promtool ({e}): install Debian's `prometheus` package \
                 (`apt-get install prometheus`; .ci/run does)"
            )
        });
    child
        .stdin
        .take()
        .expect("promtool's stdin")
        .write_all(exposition.as_bytes())
        .expect("feed promtool");
    let output = child.wait_with_output().expect("promtool runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), report)
}

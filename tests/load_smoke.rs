//! A tiny run of `rtgen-load` against a generated service: 20 subscribers, 10 msg/s
//! for 2 s, over SSE and WebSocket. It proves the load client and the services agree
//! on the API and that every figure is reported, with zero loss and zero duplicates;
//! it sets no timing thresholds (that is the benchmark's job, `bench/run`).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// Builds rtgen-load (a workspace member) into the workspace's target directory.
fn load_client() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "rtgen-load"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build -p rtgen-load");
    assert!(status.success(), "building rtgen-load failed");
    // CARGO_TARGET_TMPDIR is `<target>/tmp`.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir");
    target.join("debug").join("rtgen-load")
}

/// The generated server, started on a free port; killed on drop.
struct Server {
    child: Child,
    url: String,
}

/// The `JWT_SECRET` of the runs with authorization on.
const SECRET: &str = "the-load-smoke-secret-of-32-bytes-or-more";

impl Server {
    /// With `jwt`, the server verifies tokens (`AUTH_MODE=jwt`) and the load client must
    /// present one.
    fn start(binary: &Path, jwt: bool) -> Self {
        let mode = if jwt { "jwt" } else { "none" };
        let addr_file = tempfile::NamedTempFile::new().expect("a temporary --addr-file path");
        // The server renames its own file into place: only the path is needed.
        let addr_file = addr_file.into_temp_path();
        std::fs::remove_file(&addr_file).expect("free the --addr-file path");
        let mut child = Command::new(binary)
            .args(["--bind", "127.0.0.1:0", "--addr-file"])
            .arg(&*addr_file)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .env("AUTH_MODE", mode)
            .env("JWT_SECRET", SECRET)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the generated server");
        let addresses = support::server::wait_for_addresses(&mut child, &addr_file)
            .unwrap_or_else(|why| panic!("the generated server {why}"));
        let url = format!("http://{}", addresses["http"]);
        Self { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(load: &Path, args: &[&str]) -> Value {
    let output = Command::new(load)
        .args(args)
        .output()
        .expect("run rtgen-load");
    assert!(
        output.status.success(),
        "rtgen-load {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("rtgen-load prints one JSON report")
}

/// A token for the benchmark channel from the generated binary's `token` subcommand.
fn mint(binary: &Path) -> String {
    support::mint_token(
        binary,
        SECRET,
        &["--sub", "load", "--channels", "bench", "--publish", "bench"],
    )
}

fn smoke(strategy: &str, transport: &str, jwt: bool) {
    let binary = support::server_binary(strategy, "memory");
    let load = load_client();
    let server = Server::start(&binary, jwt);
    let pid = server.child.id().to_string();
    let token = jwt.then(|| mint(&binary));
    if jwt {
        // Without the token the server turns the load client away.
        let refused = Command::new(&load)
            .args(["idle", "--transport", transport, "--url", &server.url])
            .args(["--connections", "1", "--pid", &pid, "--settle-secs", "0"])
            .output()
            .expect("run rtgen-load");
        assert!(!refused.status.success(), "subscribed without a token");
    }
    let token_args: Vec<&str> = match &token {
        Some(token) => vec!["--token", token],
        None => Vec::new(),
    };

    let report = run(
        &load,
        &[
            "broadcast",
            "--transport",
            transport,
            "--url",
            &server.url,
            "--subscribers",
            "20",
            "--rate",
            "10",
            "--duration",
            "2",
            "--pid",
            &pid,
        ]
        .iter()
        .chain(&token_args)
        .copied()
        .collect::<Vec<_>>(),
    );
    let result = &report["result"];
    assert_eq!(result["published"], 20, "{report}");
    assert_eq!(result["expected"], 400, "{report}");
    assert_eq!(result["delivered"], 400, "{report}");
    assert_eq!(result["missing"], 0, "{report}");
    assert_eq!(result["duplicates"], 0, "{report}");
    assert_eq!(result["disconnects"], 0, "{report}");
    for figure in [
        "/latency_ms/p50",
        "/latency_ms/p99",
        "/latency_ms/max",
        "/deliveries_per_sec",
        "/client_cpu_percent",
        "/server_cpu_us_per_delivery",
    ] {
        assert!(
            result.pointer(figure).is_some_and(Value::is_number),
            "{figure} missing in {report}"
        );
    }

    let idle = run(
        &load,
        &[
            "idle",
            "--transport",
            transport,
            "--url",
            &server.url,
            "--connections",
            "20",
            "--pid",
            &pid,
            "--settle-secs",
            "0",
        ]
        .iter()
        .chain(&token_args)
        .copied()
        .collect::<Vec<_>>(),
    );
    assert!(idle["rss_per_connection_kib"].is_number(), "{idle}");
    assert!(idle["rss_after_kib"].as_u64() > Some(0), "{idle}");
}

#[test]
fn sse_broadcast_loses_nothing() {
    smoke("sse", "sse", false);
}

#[test]
fn websocket_broadcast_loses_nothing() {
    smoke("websocket", "websocket", false);
}

#[test]
fn sse_broadcast_with_authorization_loses_nothing() {
    smoke("sse", "sse", true);
}

#[test]
fn websocket_broadcast_with_authorization_loses_nothing() {
    smoke("websocket", "websocket", true);
}

//! Generates every strategy x fan-out combination with the real `rtgen new` and proves
//! each project the way its users will: `cargo fmt --check`, `cargo clippy --all-targets
//! -- -D warnings` and `cargo test` (whose end-to-end tests start the real server).
//!
//! All projects share one target directory under `target/tmp`, so dependencies compile
//! once and reruns are incremental; one cargo runs at a time so they never wait on each
//! other's build lock.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, PoisonError};

static ONE_CARGO_AT_A_TIME: Mutex<()> = Mutex::new(());

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("generated")
}

/// Writes the project with `rtgen new` into `target/tmp/generated/<strategy>-<fanout>`.
fn generate(strategy: &str, fanout: &str) -> PathBuf {
    let dir = workspace().join(format!("{strategy}-{fanout}"));
    let servers = if fanout == "redis" { "3" } else { "1" };
    let output = Command::new(env!("CARGO_BIN_EXE_rtgen"))
        .args([
            "new",
            "live-demo",
            "--yes",
            "--force",
            "--preset",
            "news-feed",
        ])
        .args(["--set", &format!("scale.servers={servers}")])
        .args(["--strategy", strategy, "--fanout", fanout])
        .arg("--output")
        .arg(&dir)
        .output()
        .expect("run rtgen");
    assert!(
        output.status.success(),
        "rtgen new failed for {strategy}/{fanout}:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    dir
}

fn cargo(project: &Path, args: &[&str]) {
    let status = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(project)
        .env("CARGO_TARGET_DIR", workspace().join("target"))
        .env_remove("RUSTFLAGS")
        .status()
        .expect("run cargo");
    assert!(
        status.success(),
        "`cargo {}` failed in {}",
        args.join(" "),
        project.display()
    );
}

fn prove(strategy: &str, fanout: &str) {
    let _one = ONE_CARGO_AT_A_TIME
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let project = generate(strategy, fanout);
    cargo(&project, &["fmt", "--check"]);
    cargo(
        &project,
        &["clippy", "--all-targets", "--", "-D", "warnings"],
    );
    cargo(&project, &["test"]);
}

macro_rules! combinations {
    ($($test:ident: $strategy:literal / $fanout:literal,)*) => {
        $(
            #[test]
            fn $test() {
                prove($strategy, $fanout);
            }
        )*
    };
}

combinations! {
    sse_memory: "sse" / "memory",
    websocket_memory: "websocket" / "memory",
    long_polling_memory: "long-polling" / "memory",
    short_polling_memory: "short-polling" / "memory",
}

//! Generated projects for the tests that prove them: written with the real `rtgen new`
//! into `target/tmp/generated/<strategy>-<fanout>`, all sharing one target directory
//! so their dependencies compile once and reruns are incremental.

#![allow(dead_code)] // Each test file uses a different part of this module.

pub mod cdp;
pub mod http;
pub mod process;
#[cfg(unix)]
pub mod pty;
pub mod redis;
pub mod server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, PoisonError};

pub const STRATEGIES: [&str; 4] = ["short-polling", "long-polling", "sse", "websocket"];
pub const FANOUTS: [&str; 2] = ["memory", "redis"];

/// Cargo runs the tests of one file in parallel; building two projects at once would
/// only queue on the shared target directory's lock.
static ONE_CARGO_AT_A_TIME: Mutex<()> = Mutex::new(());

pub fn cargo_lock() -> MutexGuard<'static, ()> {
    ONE_CARGO_AT_A_TIME
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("generated")
}

pub fn target_dir() -> PathBuf {
    workspace().join("target")
}

/// The package name of a combination's project; distinct names keep each project's
/// binary apart in the shared target directory.
pub fn project_name(strategy: &str, fanout: &str) -> String {
    format!("{strategy}-{fanout}")
}

/// The projects this test process has written: each is written once, so a test never
/// reads a project that another test of the same file is writing again.
static GENERATED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Writes the project with `rtgen new`, afresh the first time a test process asks for it:
/// an earlier run's project is removed first (`rtgen new --force` refuses to write over a
/// project rtgen generated).
pub fn generate(strategy: &str, fanout: &str) -> PathBuf {
    let name = project_name(strategy, fanout);
    let dir = workspace().join(&name);
    let mut generated = GENERATED.lock().unwrap_or_else(PoisonError::into_inner);
    if generated.contains(&name) {
        return dir;
    }
    match std::fs::remove_dir_all(&dir) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            panic!("remove {}: {err}", dir.display())
        }
        _ => {}
    }
    let servers = if fanout == "redis" { "3" } else { "1" };
    let output = Command::new(env!("CARGO_BIN_EXE_rtgen"))
        .args(["new", &name, "--yes", "--preset", "news-feed"])
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
    generated.push(name);
    dir
}

/// Runs cargo in `project` with the shared target directory. Its output is shown only
/// when it fails, so the outer test log stays readable.
pub fn cargo(project: &Path, args: &[&str]) {
    let output = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(project)
        .env("CARGO_TARGET_DIR", target_dir())
        // Each project is built a few times per run, not edited between builds: incremental
        // caches would cost gigabytes of disk for eight projects and save little time.
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo");
    assert!(
        output.status.success(),
        "`cargo {}` failed in {}:\n{}{}",
        args.join(" "),
        project.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Generates and builds a combination's server, returning the binary's path.
pub fn server_binary(strategy: &str, fanout: &str) -> PathBuf {
    let _one = cargo_lock();
    let project = generate(strategy, fanout);
    cargo(&project, &["build"]);
    target_dir()
        .join("debug")
        .join(project_name(strategy, fanout))
}

/// A token signed with `secret`, from a generated binary's own `token` subcommand;
/// `args` are the subcommand's (`--sub`, `--channels`, `--publish`, `--ttl`).
pub fn mint_token(binary: &Path, secret: &str, args: &[&str]) -> String {
    let output = Command::new(binary)
        .arg("token")
        .args(args)
        .env("JWT_SECRET", secret)
        .env_remove("JWT_PUBLIC_KEY")
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("run the token subcommand");
    assert!(
        output.status.success(),
        "token {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

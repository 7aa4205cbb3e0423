//! Runs rtgen in a pseudo-terminal, the way a person uses its prompts: wait for each
//! prompt's text, then press keys.

use std::path::Path;
use std::process::Command;

use rexpect::process::WaitStatus;
use rexpect::session::{Options, PtySession, spawn_with_options};

/// Generous: CI machines are slow, and every wait ends as soon as the text appears.
const TIMEOUT_MS: u64 = 30_000;

/// Starts `rtgen ARGS` in `dir` with plain (uncoloured) output.
pub fn spawn(dir: &Path, args: &[&str]) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rtgen"));
    cmd.args(args)
        .current_dir(dir)
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    spawn_with_options(
        cmd,
        Options::new()
            .timeout_ms(Some(TIMEOUT_MS))
            .strip_ansi_escape_codes(true),
    )
    .unwrap()
}

/// Types `keys`; rexpect buffers writes until flushed.
pub fn press(session: &mut PtySession, keys: &str) {
    session.send(keys).unwrap();
    session.flush().unwrap();
}

/// Waits for rtgen to exit and returns its exit code; death by signal fails the test.
pub fn exit_code(session: &PtySession) -> i32 {
    match session.process().wait().unwrap() {
        WaitStatus::Exited(_, code) => code,
        other => panic!("rtgen did not exit normally: {other:?}"),
    }
}

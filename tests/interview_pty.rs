//! Drives the real interview through a pseudo-terminal, the way a person would: wait for
//! each prompt's text, then press keys. dialoguer reads keys in raw mode, so `j` moves down
//! a list, space toggles, `\r` is Enter.

#![cfg(unix)]

mod support;

use std::path::Path;
use std::process::Command;

use support::pty::{exit_code, press, spawn};

fn advise_json(dir: &Path, file: &str) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_rtgen"))
        .args(["advise", "--format", "json", "--answers", file])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn bidirectional_interview_recommends_and_saves_reproducible_answers() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path(), &["advise"]);

    p.exp_string("Which way does the live data flow?").unwrap();
    press(&mut p, "j\r"); // bidirectional
    p.exp_string("What is it for?").unwrap();
    press(&mut p, "\r"); // chat
    let before_servers = p
        .exp_string("How many servers will hold client connections?")
        .unwrap();
    assert!(
        !before_servers.contains("How fresh"),
        "no freshness question for bidirectional traffic"
    );
    press(&mut p, "0\r");
    p.exp_string("out of range").unwrap();
    press(&mut p, "2\r");
    p.exp_string("Which constraints apply?").unwrap();
    press(&mut p, " \r"); // websockets_blocked
    p.exp_string("Who may read which channels?").unwrap();
    press(&mut p, "\r"); // jwt, preselected for chat

    p.exp_string("Recommended: sse").unwrap();
    p.exp_string("upstream: http-post").unwrap();
    p.exp_string("fan-out:  redis").unwrap();
    p.exp_string("Save these answers to a file for scripted use?")
        .unwrap();
    press(&mut p, "y");
    p.exp_string("File name").unwrap();
    press(&mut p, "\r");
    p.exp_string("Saved to rtgen.toml").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);

    let report = advise_json(dir.path(), "rtgen.toml");
    assert_eq!(report["strategy"], "sse");
    assert_eq!(report["upstream"], "http-post");
    assert_eq!(report["fanout"], "redis");
    assert_eq!(report["answers"]["constraints"]["websockets_blocked"], true);
    assert_eq!(report["auth"], "jwt");
}

#[test]
fn server_to_client_interview_never_overwrites_without_asking() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rtgen.toml"), "keep me\n").unwrap();
    let mut p = spawn(dir.path(), &["advise"]);

    p.exp_string("Which way does the live data flow?").unwrap();
    press(&mut p, "\r"); // server-to-client
    p.exp_string("What is it for?").unwrap();
    press(&mut p, "jjj\r"); // stock-ticker
    p.exp_string("How fresh must the clients' view be?")
        .unwrap();
    press(&mut p, "\r"); // instant
    p.exp_string("How many servers will hold client connections?")
        .unwrap();
    press(&mut p, "\r"); // default 1
    p.exp_string("Which constraints apply?").unwrap();
    press(&mut p, "jjj \r"); // mobile
    p.exp_string("Who may read which channels?").unwrap();
    press(&mut p, "\r"); // none, preselected for a stock ticker

    p.exp_string("Recommended: sse").unwrap();
    p.exp_string("fan-out:  memory").unwrap();
    p.exp_string("battery").unwrap();
    p.exp_string("Save these answers to a file for scripted use?")
        .unwrap();
    press(&mut p, "y");
    p.exp_string("File name").unwrap();
    press(&mut p, "\r");
    p.exp_string("`rtgen.toml` exists. Overwrite it?").unwrap();
    press(&mut p, "n");
    p.exp_string("File name").unwrap();
    press(&mut p, "ticker.toml\r");
    p.exp_string("Saved to ticker.toml").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);

    assert_eq!(
        std::fs::read_to_string(dir.path().join("rtgen.toml")).unwrap(),
        "keep me\n"
    );
    let report = advise_json(dir.path(), "ticker.toml");
    assert_eq!(report["strategy"], "sse");
    assert_eq!(report["fanout"], "memory");
    assert_eq!(report["answers"]["traffic"]["use_case"], "stock-ticker");
    assert_eq!(report["answers"]["constraints"]["mobile"], true);
    assert_eq!(report["auth"], "none");
}

#[test]
fn only_unanswered_questions_are_asked() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(
        dir.path(),
        &[
            "advise",
            "--set",
            "traffic.direction=server-to-client",
            "--set",
            "scale.servers=3",
            "--set",
            "constraints.mvp=true",
        ],
    );
    let before = p.exp_string("What is it for?").unwrap();
    assert!(
        !before.contains("Which way"),
        "direction was given: {before}"
    );
    press(&mut p, "jjjj\r"); // dashboard
    p.exp_string("How fresh must the clients' view be?")
        .unwrap();
    press(&mut p, "jj\r"); // minutes
    let before = p.exp_string("Which constraints apply?").unwrap();
    assert!(
        !before.contains("How many servers"),
        "servers were given: {before}"
    );
    press(&mut p, "\r");
    p.exp_string("Who may read which channels?").unwrap();
    press(&mut p, "\r");
    p.exp_string("Recommended: short-polling").unwrap();
    p.exp_string("Save these answers").unwrap();
    press(&mut p, "n");
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);
    assert!(!dir.path().join("rtgen.toml").exists());
}

#[test]
fn ctrl_c_exits_130_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path(), &["advise"]);
    p.exp_string("Which way does the live data flow?").unwrap();
    press(&mut p, "j\r");
    p.exp_string("What is it for?").unwrap();
    p.send_control('c').unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 130);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn ctrl_c_at_the_save_prompt_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(
        dir.path(),
        &[
            "advise",
            "--set",
            "traffic.direction=bidirectional",
            "--set",
            "traffic.use_case=game",
        ],
    );
    p.exp_string("How many servers").unwrap();
    press(&mut p, "\r");
    p.exp_string("Which constraints apply?").unwrap();
    press(&mut p, "\r");
    p.exp_string("Who may read which channels?").unwrap();
    press(&mut p, "\r");
    p.exp_string("Save these answers").unwrap();
    press(&mut p, "y");
    p.exp_string("File name").unwrap();
    p.send_control('c').unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 130);
    assert!(!dir.path().join("rtgen.toml").exists());
}

#[test]
fn escape_on_the_first_question_leaves_with_exit_130() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path(), &["advise"]);
    p.exp_string("Which way does the live data flow?").unwrap();
    press(&mut p, "\x1b");
    p.exp_string("error: interrupted").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 130);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn escape_goes_back_one_question_and_the_new_answer_counts() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path(), &["advise"]);
    p.exp_string("Which way does the live data flow?").unwrap();
    press(&mut p, "\r"); // server-to-client
    p.exp_string("What is it for?").unwrap();
    press(&mut p, "\x1b"); // back to the direction
    p.exp_string("Which way does the live data flow?").unwrap();
    press(&mut p, "j\r"); // bidirectional this time
    p.exp_string("What is it for?").unwrap();
    press(&mut p, "j\r"); // game
    p.exp_string("How many servers").unwrap();
    press(&mut p, "1\r");
    p.exp_string("Which constraints apply?").unwrap();
    press(&mut p, "\x1b"); // back to the servers
    p.exp_string("How many servers").unwrap();
    press(&mut p, "2\r");
    p.exp_string("Which constraints apply?").unwrap();
    press(&mut p, "\r");
    p.exp_string("Who may read which channels?").unwrap();
    press(&mut p, "\r");
    p.exp_string("Recommended: websocket").unwrap();
    p.exp_string("Save these answers").unwrap();
    press(&mut p, "\x1b"); // back to the last question; the advice is shown again
    p.exp_string("Who may read which channels?").unwrap();
    press(&mut p, "j\r"); // none
    p.exp_string("Recommended: websocket").unwrap();
    p.exp_string("Save these answers").unwrap();
    press(&mut p, "y");
    p.exp_string("File name").unwrap();
    press(&mut p, "\r");
    p.exp_string("Generate it: rtgen new NAME --answers rtgen.toml")
        .unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);

    let report = advise_json(dir.path(), "rtgen.toml");
    assert_eq!(report["answers"]["traffic"]["use_case"], "game");
    assert_eq!(report["answers"]["scale"]["servers"], 2);
    assert_eq!(report["auth"], "none");
}

#[test]
fn the_servers_question_says_what_more_than_one_means_and_the_checklist_marks_focus() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(
        dir.path(),
        &[
            "advise",
            "--set",
            "traffic.direction=bidirectional",
            "--set",
            "traffic.use_case=chat",
        ],
    );
    p.exp_string("more than 1 means").unwrap();
    p.exp_string("How many servers").unwrap();
    press(&mut p, "\r");
    p.exp_string("Which constraints apply?").unwrap();
    // NO_COLOR is set: the focused row still carries the marker ❯, the others do not.
    // rexpect hands bytes over one char each, so ❯ (E2 9D AF in UTF-8) reads as three.
    let marker = "\u{e2}\u{9d}\u{af}";
    let rows = p.exp_string("mobile").unwrap();
    let marked: Vec<&str> = rows.lines().filter(|l| l.contains(marker)).collect();
    assert_eq!(marked.len(), 1, "{rows:?}");
    assert!(marked[0].contains("websockets_blocked"), "{rows:?}");
    p.send_control('c').unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 130);
}

#[test]
fn not_knowing_the_servers_asks_for_the_load_and_sizes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(
        dir.path(),
        &[
            "advise",
            "--set",
            "traffic.direction=server-to-client",
            "--set",
            "traffic.use_case=news-feed",
            "--set",
            "traffic.freshness=instant",
        ],
    );
    p.exp_string("if you do not know").unwrap();
    p.exp_string("How many servers").unwrap();
    press(&mut p, "?\r");
    p.exp_string("How many clients are connected at the busiest moment?")
        .unwrap();
    press(&mut p, "lots\r");
    p.exp_string("must be an integer").unwrap();
    // dialoguer keeps the rejected text: erase it before the real answer.
    press(&mut p, &"\x7f".repeat(4));
    press(&mut p, "200000\r");
    p.exp_string("How many messages are published per second")
        .unwrap();
    press(&mut p, "100\r");
    p.exp_string("How many clients receive a typical message?")
        .unwrap();
    press(&mut p, "1000\r");
    p.exp_string("Which constraints apply?").unwrap();
    press(&mut p, "\r");
    p.exp_string("Who may read which channels?").unwrap();
    press(&mut p, "\r");

    p.exp_string("fan-out:  redis").unwrap();
    p.exp_string("Sizing").unwrap();
    p.exp_string("deliveries/s              100,000").unwrap();
    p.exp_string("Save these answers").unwrap();
    press(&mut p, "y");
    p.exp_string("File name").unwrap();
    press(&mut p, "\r");
    p.exp_string("Saved to rtgen.toml").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);

    let report = advise_json(dir.path(), "rtgen.toml");
    assert_eq!(report["answers"]["scale"]["connections"], 200_000);
    assert_eq!(report["sizing"]["deliveries_per_second"], 100_000.0);
    let instances = report["sizing"]["instances"].as_u64().unwrap();
    assert!(instances > 1);
    assert_eq!(
        report["answers"]["scale"]["servers"].as_u64(),
        Some(instances)
    );
    assert_eq!(report["fanout"], "redis");
}

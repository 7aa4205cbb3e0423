//! `rtgen new` in a pseudo-terminal, as a person uses it: the name prompt, the
//! interview, the strategy choice, and the safety rules that must hold before any
//! question is asked.

#![cfg(unix)]

mod support;

use support::pty::{exit_code, press, spawn};

#[test]
fn a_non_empty_target_is_refused_before_any_question() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("demo")).unwrap();
    std::fs::write(dir.path().join("demo/notes.txt"), "mine").unwrap();
    let mut p = spawn(dir.path(), &["new", "demo"]);
    let output = p.exp_eof().unwrap();
    assert!(output.contains("exists and is not empty"), "{output}");
    for question in ["Project name", "Which way does the live data flow?"] {
        assert!(!output.contains(question), "asked {question:?}: {output}");
    }
    assert_eq!(exit_code(&p), 3);
}

#[test]
fn the_whole_flow_asks_the_name_then_the_questions_then_the_strategy() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path(), &["new"]);

    p.exp_string("Project name").unwrap();
    press(&mut p, "2fast\r");
    p.exp_string("try `fast2` or `app-2fast`").unwrap();
    press(&mut p, "live-demo\r");
    p.exp_string("Which way does the live data flow?").unwrap();
    press(&mut p, "\r"); // server-to-client
    p.exp_string("What is it for?").unwrap();
    press(&mut p, "\r"); // the first use case
    p.exp_string("How fresh must the clients' view be?")
        .unwrap();
    press(&mut p, "\r"); // instant
    p.exp_string("How many servers will hold client connections?")
        .unwrap();
    press(&mut p, "1\r");
    p.exp_string("Which constraints apply?").unwrap();
    press(&mut p, "\r"); // none
    p.exp_string("Who may read which channels?").unwrap();
    press(&mut p, "\r"); // the default for the use case
    p.exp_string("Which strategy should the service use?")
        .unwrap();
    press(&mut p, "\r"); // the recommended one, preselected
    p.exp_string("Created live-demo").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);

    let record = std::fs::read_to_string(dir.path().join("live-demo/rtgen.toml")).unwrap();
    assert!(record.contains("name = \"live-demo\""), "{record}");
    assert!(
        record.contains("[generate]\nstrategy = \"auto\""),
        "accepting the recommendation leaves the choice to rtgen: {record}"
    );
    assert!(record.contains("[rtgen]"), "{record}");
    assert!(record.contains("strategy = \"sse\""), "{record}");
    assert!(record.contains("[access]\nauth = "), "{record}");
}

#[test]
fn ruled_out_strategies_are_shown_with_the_reason_and_cannot_be_picked() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(
        dir.path(),
        &[
            "new",
            "demo",
            "--preset",
            "news-feed",
            "--set",
            "constraints.websockets_blocked=true",
        ],
    );
    p.exp_string("websocket: ruled out: proxies or firewalls")
        .unwrap();
    let list = p
        .exp_string("Which strategy should the service use?")
        .unwrap();
    assert!(!list.contains("cannot be used"), "{list}");
    // Three strategies can be picked; three steps down wrap around to the first.
    press(&mut p, "jj\r");
    p.exp_string("Created demo").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);
    let record = std::fs::read_to_string(dir.path().join("demo/rtgen.toml")).unwrap();
    assert!(!record.contains("\"websocket\""), "{record}");
    assert!(
        record.contains("[generate]\nstrategy = \""),
        "a pick other than the recommendation is the user's choice: {record}"
    );
}

#[test]
fn escape_at_the_strategy_choice_goes_back_to_the_last_question() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(
        dir.path(),
        &[
            "new",
            "demo",
            "--set",
            "traffic.direction=server-to-client",
            "--set",
            "traffic.use_case=dashboard",
            "--set",
            "scale.servers=1",
        ],
    );
    p.exp_string("How fresh must the clients' view be?")
        .unwrap();
    press(&mut p, "\r"); // instant: SSE
    p.exp_string("Which constraints apply?").unwrap();
    press(&mut p, "\r");
    p.exp_string("Who may read which channels?").unwrap();
    press(&mut p, "\r");
    p.exp_string("Recommended: sse").unwrap();
    p.exp_string("Which strategy should the service use?")
        .unwrap();
    press(&mut p, "\x1b");
    p.exp_string("Who may read which channels?").unwrap();
    press(&mut p, "\x1b");
    p.exp_string("Which constraints apply?").unwrap();
    press(&mut p, "\x1b");
    p.exp_string("How fresh must the clients' view be?")
        .unwrap();
    press(&mut p, "jj\r"); // minutes: short polling
    p.exp_string("Which constraints apply?").unwrap();
    press(&mut p, "\r");
    p.exp_string("Who may read which channels?").unwrap();
    press(&mut p, "\r");
    p.exp_string("Recommended: short-polling").unwrap();
    p.exp_string("Which strategy should the service use?")
        .unwrap();
    press(&mut p, "\r");
    p.exp_string("Created demo").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);
}

#[test]
fn escape_at_the_strategy_choice_with_nothing_asked_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path(), &["new", "demo", "--preset", "chat"]);
    p.exp_string("Which strategy should the service use?")
        .unwrap();
    press(&mut p, "\x1b");
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 130);
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn ctrl_c_in_the_interview_exits_130_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path(), &["new", "demo"]);
    p.exp_string("Which way does the live data flow?").unwrap();
    p.send_control('c').unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 130);
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn a_load_instead_of_a_server_count_is_recorded_and_sized_in_the_project() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(
        dir.path(),
        &[
            "new",
            "sized",
            "--set",
            "traffic.direction=server-to-client",
            "--set",
            "traffic.use_case=news-feed",
            "--set",
            "traffic.freshness=instant",
        ],
    );
    p.exp_string("How many servers will hold client connections?")
        .unwrap();
    press(&mut p, "?\r");
    p.exp_string("How many clients are connected at the busiest moment?")
        .unwrap();
    press(&mut p, "1000\r");
    p.exp_string("How many messages are published per second")
        .unwrap();
    press(&mut p, "0\r");
    p.exp_string("out of range").unwrap();
    press(&mut p, "\x7f0.5\r");
    p.exp_string("How many clients receive a typical message?")
        .unwrap();
    press(&mut p, "100\r");
    p.exp_string("Which constraints apply?").unwrap();
    press(&mut p, "\r");
    p.exp_string("Who may read which channels?").unwrap();
    press(&mut p, "\r");
    p.exp_string("Which strategy should the service use?")
        .unwrap();
    press(&mut p, "\r");
    p.exp_string("Created sized").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);

    let record = std::fs::read_to_string(dir.path().join("sized/rtgen.toml")).unwrap();
    assert!(
        record.contains(
            "[scale]\nconnections = 1000\nmessages_per_second = 0.5\nsubscribers_per_message = 100\n"
        ),
        "the load is recorded, not the computed count: {record}"
    );
    assert!(record.contains("fanout = \"memory\""), "{record}");
    let decision = std::fs::read_to_string(dir.path().join("sized/DECISION.md")).unwrap();
    assert!(
        decision.contains("- servers: 1, computed from the load below"),
        "{decision}"
    );
    assert!(decision.contains("## Sizing"), "{decision}");
    assert!(decision.contains("| deliveries/s | 50 |"), "{decision}");
}

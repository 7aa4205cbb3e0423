//! What rtgen prints when things go right: presets, JSON shape, stdin, layering, explain,
//! the answers template round trip, completions, help and version.

use assert_cmd::Command;
use serde_json::Value;

fn rtgen() -> Command {
    let mut cmd = Command::cargo_bin("rtgen").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn stdout_of(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn json_of(args: &[&str]) -> Value {
    serde_json::from_str(&stdout_of(rtgen().args(args).args(["--format", "json"]))).unwrap()
}

#[test]
fn every_preset_works_without_a_file() {
    let expected = [
        ("chat", "websocket"),
        ("game", "websocket"),
        ("collaboration", "websocket"),
        ("news-feed", "sse"),
        ("notifications", "sse"),
        ("status-updates", "sse"),
        ("stock-ticker", "sse"),
        ("dashboard", "short-polling"),
        ("legacy-mvp", "long-polling"),
    ];
    for (preset, strategy) in expected {
        let report = json_of(&["advise", "--preset", preset]);
        assert_eq!(report["strategy"], strategy, "preset {preset}");
    }
}

#[test]
fn json_is_one_object_with_the_documented_shape() {
    let text = stdout_of(rtgen().args([
        "advise",
        "--preset",
        "notifications",
        "--set",
        "scale.servers=3",
        "--format",
        "json",
    ]));
    let report: Value = serde_json::from_str(&text).expect("exactly one JSON document");
    let object = report.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "answers",
            "auth",
            "cons",
            "fanout",
            "ranking",
            "reasons",
            "recommended",
            "strategy",
            "upstream",
            "warnings"
        ]
    );
    assert_eq!(report["strategy"], "sse");
    assert_eq!(report["upstream"], "none");
    assert_eq!(report["fanout"], "redis");
    assert_eq!(
        report["recommended"],
        serde_json::json!({"strategy": "sse", "upstream": "none", "fanout": "redis"})
    );
    assert_eq!(report["auth"], "jwt", "the default for notifications");
    assert_eq!(report["answers"]["access"]["auth"], "jwt");
    assert!(
        report["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .all(Value::is_string)
    );
    assert_eq!(report["warnings"], Value::Array(vec![]));
    for con in report["cons"].as_array().unwrap() {
        assert!(
            con["problem"].is_string() && con["mitigation"].is_string(),
            "{con}"
        );
    }
    let ranking = report["ranking"].as_array().unwrap();
    assert_eq!(ranking.len(), 4);
    assert_eq!(ranking[0]["strategy"], "sse");
    for entry in ranking {
        assert_eq!(entry.as_object().unwrap().len(), 3, "{entry}");
        assert!(entry["score"].as_u64().unwrap() <= 100);
        assert!(entry["reason"].is_string());
    }
    let answers = &report["answers"];
    assert_eq!(answers["traffic"]["use_case"], "notifications");
    assert_eq!(answers["scale"]["servers"], 3);
    assert_eq!(answers["constraints"]["mobile"], true);
    assert_eq!(answers["generate"]["strategy"], "auto");
}

#[test]
fn json_answers_are_normalized() {
    let report = json_of(&[
        "advise",
        "--preset",
        "chat",
        "--set",
        "traffic.freshness=minutes",
    ]);
    assert_eq!(
        report["answers"]["traffic"]["freshness"], "instant",
        "bidirectional means instant"
    );
    assert_eq!(
        report["answers"]["constraints"]["mvp"], false,
        "constraints default to false"
    );
}

#[test]
fn answers_from_stdin() {
    let output = rtgen()
        .args(["advise", "--answers", "-", "--format", "json"])
        .write_stdin("[traffic]\ndirection = \"server-to-client\"\nuse_case = \"dashboard\"\nfreshness = \"minutes\"\n[scale]\nservers = 2\n")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (report["strategy"].as_str(), report["fanout"].as_str()),
        (Some("short-polling"), Some("redis"))
    );
}

#[test]
fn stdin_errors_are_located_in_stdin() {
    let output = rtgen()
        .args(["advise", "--answers", "-"])
        .write_stdin("[scale]\nservers = 0\n")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("<stdin>:2:11"));
}

#[test]
fn set_beats_the_file_and_flags_beat_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rtgen.toml");
    std::fs::write(
        &path,
        "[traffic]\ndirection = \"bidirectional\"\nuse_case = \"chat\"\n[scale]\nservers = 1\n",
    )
    .unwrap();
    let path = path.to_str().unwrap();
    let report = json_of(&["advise", "--answers", path, "--set", "scale.servers=4"]);
    assert_eq!(report["fanout"], "redis");
    assert_eq!(report["answers"]["scale"]["servers"], 4);

    let report = json_of(&[
        "advise",
        "--answers",
        path,
        "--set",
        "generate.strategy=sse",
        "--strategy",
        "long-polling",
    ]);
    assert_eq!(report["strategy"], "long-polling");
    assert_eq!(report["upstream"], "http-post");
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .contains("overrides the recommended \"websocket\"")
    );

    let report = json_of(&[
        "advise",
        "--preset",
        "chat",
        "--answers",
        path,
        "--set",
        "traffic.use_case=game",
    ]);
    assert_eq!(
        report["answers"]["traffic"]["use_case"], "game",
        "--set beats file beats preset"
    );
}

#[test]
fn text_report_for_people() {
    let text = stdout_of(rtgen().args(["advise", "--preset", "game"]));
    for expected in [
        "Recommended: websocket",
        "upstream: websocket",
        "fan-out:  redis",
        "Why",
        "Cons, and how to mitigate them",
        "Ranking",
        "  1. websocket",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(
        text.contains("fire-and-forget"),
        "Redis cons with two servers"
    );
    assert!(!text.contains('\u{1b}'), "no colour when piped");
}

#[test]
fn text_report_shows_override_warnings() {
    let text =
        stdout_of(rtgen().args(["advise", "--preset", "chat", "--strategy", "short-polling"]));
    assert!(text.contains("Warnings"), "{text}");
    assert!(text.contains("lag"), "{text}");
}

#[test]
fn explain_draws_all_strategies_and_the_tree() {
    let text = stdout_of(rtgen().arg("explain"));
    for expected in [
        "short-polling",
        "long-polling",
        "sse",
        "websocket",
        "How:",
        "Pros:",
        "Cons:",
        "For:",
        "Decision framework",
        "├─",
        "└─",
        "──▶",
    ] {
        assert!(text.contains(expected), "missing {expected:?}");
    }
    let sse = stdout_of(rtgen().args(["explain", "sse"]));
    for expected in [
        "How it works",
        "Last-Event-ID",
        "X-Accel-Buffering",
        "6 HTTP/1.1 connections",
        "Use cases",
    ] {
        assert!(sse.contains(expected), "missing {expected:?} in\n{sse}");
    }
    assert!(!sse.contains("Upgrade"), "only the named strategy in depth");
}

#[test]
fn answers_template_round_trips_once_required_values_are_filled_in() {
    let template = stdout_of(rtgen().arg("answers"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rtgen.toml");

    std::fs::write(&path, &template).unwrap();
    let output = rtgen()
        .args(["advise", "--answers"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "blank template: required answers missing"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("3 required answers are missing"),
        "{stderr}"
    );

    let filled = template
        .replace("direction = \"\"", "direction = \"server-to-client\"")
        .replace("use_case = \"\"", "use_case = \"stock-ticker\"")
        .replace("freshness = \"\"", "freshness = \"instant\"")
        .replace("servers = 1", "servers = 3");
    assert_ne!(filled, template);
    std::fs::write(&path, &filled).unwrap();
    let report: Value = serde_json::from_str(&stdout_of(
        rtgen()
            .args(["advise", "--format", "json", "--answers"])
            .arg(&path),
    ))
    .unwrap();
    assert_eq!(
        (report["strategy"].as_str(), report["fanout"].as_str()),
        (Some("sse"), Some("redis"))
    );
}

#[test]
fn answers_template_documents_every_key() {
    let template = stdout_of(rtgen().arg("answers"));
    for key in [
        "name",
        "description",
        "direction",
        "use_case",
        "freshness",
        "servers",
        "websockets_blocked",
        "legacy_clients",
        "mvp",
        "mobile",
        "strategy",
        "fanout",
    ] {
        assert!(template.contains(&format!("\n{key} = ")), "{key}");
    }
    for table in ["[traffic]", "[scale]", "[constraints]", "[generate]"] {
        assert!(template.contains(table), "{table}");
    }
    assert!(template.contains("\"server-to-client\" | \"bidirectional\""));
    assert!(template.contains("default: false"));
    assert!(template.contains("default: \"auto\""));
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(rtgen().args(["completions", shell]));
        assert!(script.contains("rtgen"), "{shell}");
        assert!(
            script.contains("advise") && script.contains("explain"),
            "{shell}"
        );
    }
}

#[test]
fn help_has_examples_and_version_is_the_crate_version() {
    let help = stdout_of(rtgen().arg("--help"));
    for expected in [
        "advise",
        "new",
        "explain",
        "answers",
        "completions",
        "Examples:",
        "Exit codes:",
    ] {
        assert!(help.contains(expected), "{expected}");
    }
    let advise_help = stdout_of(rtgen().args(["advise", "--help"]));
    for expected in [
        "--answers <FILE>",
        "--set <KEY=VALUE>",
        "--preset <NAME>",
        "--strategy <STRATEGY>",
        "--fanout <FANOUT>",
        "--format <FORMAT>",
    ] {
        assert!(advise_help.contains(expected), "{expected}");
    }
    let version = stdout_of(rtgen().arg("--version"));
    assert_eq!(
        version.trim(),
        format!("rtgen {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn new_takes_the_flags_of_issue_3() {
    let help = stdout_of(rtgen().args(["new", "--help"]));
    for expected in [
        "[NAME]",
        "--output <DIR>",
        "--yes",
        "--dry-run",
        "--force",
        "--answers <FILE>",
        "--set <KEY=VALUE>",
        "--preset <NAME>",
        "--strategy <STRATEGY>",
        "--fanout <FANOUT>",
    ] {
        assert!(help.contains(expected), "{expected} in\n{help}");
    }
}

#[test]
fn plain_cargo_run_at_the_root_runs_rtgen() {
    // The README's first command is `cargo run --quiet -- new NAME`. The workspace has two
    // binaries (rtgen and the load client), so `cargo run` needs `default-run` to pick.
    let metadata = stdout_of(
        Command::new(env!("CARGO"))
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--offline",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR")),
    );
    let metadata: Value = serde_json::from_str(&metadata).unwrap();
    let root = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|package| package["name"] == "rtgen")
        .expect("the rtgen package");
    assert_eq!(root["default_run"], "rtgen");
}

#[test]
fn an_override_is_labelled_chosen_beside_the_recommendation() {
    let text =
        stdout_of(rtgen().args(["advise", "--preset", "news-feed", "--strategy", "websocket"]));
    assert!(
        text.contains("Chosen: websocket  WebSockets  (your override; rtgen recommends sse)"),
        "{text}"
    );
    assert!(!text.contains("Recommended:"), "{text}");

    let text = stdout_of(rtgen().args(["advise", "--preset", "news-feed", "--fanout", "redis"]));
    assert!(
        text.contains("fan-out:  redis  (Redis pub/sub, ready for more servers than today's one); your override, rtgen recommends memory"),
        "{text}"
    );

    let report = json_of(&[
        "advise",
        "--preset",
        "legacy-mvp",
        "--strategy",
        "short-polling",
    ]);
    assert_eq!(report["strategy"], "short-polling");
    assert_eq!(report["recommended"]["strategy"], "long-polling");
    assert_eq!(report["recommended"]["fanout"], report["fanout"]);
}

#[test]
fn every_answer_changes_the_advice_or_a_reason_says_why_not() {
    let report = json_of(&[
        "advise",
        "--preset",
        "chat",
        "--set",
        "constraints.mvp=true",
    ]);
    let reasons: Vec<&str> = report["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("constraints.mvp = true does not change the strategy")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("access.auth = \"jwt\"")),
        "{reasons:?}"
    );

    let report = json_of(&[
        "advise",
        "--preset",
        "chat",
        "--set",
        "traffic.freshness=minutes",
    ]);
    let warnings = report["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("traffic.freshness = \"minutes\" is ignored")),
        "{warnings:?}"
    );
}

#[test]
fn a_preset_shows_every_answer_it_sets() {
    let text = stdout_of(rtgen().args(["advise", "--preset", "notifications"]));
    assert!(text.contains("Preset notifications answers"), "{text}");
    assert!(text.contains("constraints.mobile = true"), "{text}");
    assert!(text.contains("traffic.freshness = \"seconds\""), "{text}");
}

#[test]
fn access_auth_defaults_by_use_case_and_can_be_set() {
    assert_eq!(json_of(&["advise", "--preset", "chat"])["auth"], "jwt");
    assert_eq!(
        json_of(&["advise", "--preset", "news-feed"])["auth"],
        "none"
    );
    let report = json_of(&[
        "advise",
        "--preset",
        "news-feed",
        "--set",
        "access.auth=jwt",
    ]);
    assert_eq!(report["auth"], "jwt");
    assert_eq!(report["answers"]["access"]["auth"], "jwt");
    let template = stdout_of(rtgen().arg("answers"));
    assert!(template.contains("[access]\n"), "{template}");
    assert!(
        template.contains("\"none\" | \"jwt\"; default: \"jwt\" for chat"),
        "{template}"
    );
}

#[test]
fn set_completion_offers_keys_and_values() {
    let script = stdout_of(rtgen().args(["completions", "bash"]));
    for candidate in [
        "traffic.use_case=chat",
        "access.auth=jwt",
        "constraints.mvp=true",
        "scale.servers=",
    ] {
        assert!(script.contains(candidate), "{candidate}");
    }
}

#[test]
fn the_generate_hint_repeats_the_answers_used() {
    let text = stdout_of(rtgen().args(["advise", "--preset", "chat", "--set", "scale.servers=2"]));
    assert!(
        text.contains("Generate it: rtgen new NAME --preset chat --set scale.servers=2"),
        "{text}"
    );
}

const SIZING: [&str; 6] = [
    "--set",
    "scale.connections=200000",
    "--set",
    "scale.messages_per_second=100",
    "--set",
    "scale.subscribers_per_message=1000",
];

#[test]
fn sizing_answers_with_set_compute_servers_and_report_the_sizing() {
    let report = json_of(&[&["advise", "--preset", "news-feed"][..], &SIZING].concat());
    let sizing = report["sizing"].as_object().expect("a sizing object");
    let mut keys: Vec<&str> = sizing.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "basis",
            "connections_per_instance",
            "cpu_cores_per_instance",
            "deliveries_per_second",
            "instances",
            "memory_mib_per_instance",
            "redis_publishes_per_second"
        ]
    );
    let instances = sizing["instances"].as_u64().unwrap();
    assert!(instances > 1, "{report}");
    assert_eq!(
        report["answers"]["scale"]["servers"].as_u64(),
        Some(instances),
        "the computed servers, an integer"
    );
    assert_eq!(report["answers"]["scale"]["connections"], 200_000);
    assert_eq!(report["answers"]["scale"]["messages_per_second"], 100.0);
    assert_eq!(sizing["deliveries_per_second"], 100_000.0);
    assert_eq!(sizing["redis_publishes_per_second"], 100.0);
    assert_eq!(report["fanout"], "redis");
    assert!(sizing["basis"].as_str().unwrap().contains("commit"));

    // The preset's servers = 1 yielded to the sizing; an explicit one wins.
    let pinned = json_of(
        &[
            &["advise", "--preset", "news-feed"][..],
            &SIZING,
            &["--set", "scale.servers=1"],
        ]
        .concat(),
    );
    assert_eq!(pinned["answers"]["scale"]["servers"], 1);
    assert_eq!(pinned["fanout"], "memory");
    assert_eq!(pinned["sizing"]["instances"].as_u64(), Some(instances));

    // Without sizing answers there is no sizing.
    let plain = json_of(&["advise", "--preset", "news-feed"]);
    assert!(plain.get("sizing").is_none(), "{plain}");
    assert!(plain["answers"]["scale"].get("connections").is_none());

    let text =
        stdout_of(rtgen().args([&["advise", "--preset", "news-feed"][..], &SIZING].concat()));
    for expected in [
        "Sizing\n",
        &format!("  instances                 {instances}\n"),
        "  deliveries/s              100,000\n",
        "  Redis publishes/s         100\n",
        "  basis: Server-Sent Events (SSE) figures from rtgen's benchmark",
        "- Sizing: 200,000 connections and 100 msg/s to 1,000 subscribers each",
        "  scale.servers = 1  (yields to your sizing answers)\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn a_small_load_is_one_instance_without_redis() {
    let report = json_of(&[
        "advise",
        "--preset",
        "news-feed",
        "--set",
        "scale.connections=1000",
        "--set",
        "scale.messages_per_second=0.5",
        "--set",
        "scale.subscribers_per_message=100",
    ]);
    assert_eq!(report["sizing"]["instances"], 1);
    assert_eq!(report["sizing"]["redis_publishes_per_second"], Value::Null);
    assert_eq!(report["sizing"]["deliveries_per_second"], 50.0);
    assert_eq!(report["answers"]["scale"]["servers"], 1);
    assert_eq!(report["fanout"], "memory");
}

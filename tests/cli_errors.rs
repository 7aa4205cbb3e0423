//! Every user-facing error of `rtgen advise` and friends: exit code and what the message
//! says (where, which key, what is allowed, what to do).

use assert_cmd::Command;

fn rtgen() -> Command {
    let mut cmd = Command::cargo_bin("rtgen").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Runs `rtgen args` with `toml` as the answers file; returns (exit code, stderr).
fn advise_with_file(toml: &str, extra: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("answers.toml");
    std::fs::write(&path, toml).unwrap();
    let output = rtgen()
        .arg("advise")
        .arg("--answers")
        .arg(&path)
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr)
        .unwrap()
        .replace(path.to_str().unwrap(), "FILE");
    (output.status.code().unwrap(), stderr)
}

fn stderr_of(args: &[&str]) -> (i32, String) {
    let output = rtgen().args(args).output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

const COMPLETE: &str =
    "[traffic]\ndirection = \"bidirectional\"\nuse_case = \"chat\"\n[scale]\nservers = 1\n";

#[test]
fn missing_answers_without_a_terminal_list_every_key_with_allowed_values() {
    let (code, stderr) = stderr_of(&["advise"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: 4 required answers are missing"),
        "{stderr}"
    );
    for expected in [
        "traffic.direction  \"server-to-client\", \"bidirectional\"",
        "traffic.use_case",
        "\"news-feed\"",
        "\"chat\"",
        "traffic.freshness  \"instant\", \"seconds\", \"minutes\"",
        "scale.servers      an integer from 1 to 10000",
        "hint: ",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in\n{stderr}"
        );
    }
}

#[test]
fn missing_answers_follow_the_known_direction() {
    let (code, stderr) = stderr_of(&["advise", "--set", "traffic.direction=bidirectional"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("2 required answers are missing"),
        "{stderr}"
    );
    assert!(
        stderr.contains("for bidirectional: \"chat\", \"game\", \"collaboration\", \"other\""),
        "{stderr}"
    );
    assert!(
        !stderr.contains("traffic.freshness"),
        "bidirectional needs no freshness: {stderr}"
    );
}

#[test]
fn unknown_key_names_file_line_column_and_suggests() {
    let (code, stderr) = advise_with_file(
        "[traffic]\ndirection = \"bidirectional\"\nuse-case = \"chat\"\n",
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("error: FILE:3:1: unknown key `traffic.use-case`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("allowed keys here: direction, use_case, freshness"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: did you mean `use_case`?"),
        "{stderr}"
    );
}

#[test]
fn unknown_table_is_reported() {
    let (code, stderr) = advise_with_file("[trafic]\ndirection = \"bidirectional\"\n", &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("FILE:1:2: unknown key `trafic`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `traffic`?"), "{stderr}");
}

#[test]
fn value_outside_the_allowed_set_lists_them_and_suggests() {
    let (code, stderr) = advise_with_file(
        &format!("{COMPLETE}[generate]\nstrategy = \"websockets\"\n"),
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("error: FILE:7:12: `generate.strategy` cannot be \"websockets\""),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "allowed values: \"auto\", \"short-polling\", \"long-polling\", \"sse\", \"websocket\""
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: did you mean \"websocket\"?"),
        "{stderr}"
    );
}

#[test]
fn wrong_type_names_the_expected_type() {
    let (code, stderr) = advise_with_file("[constraints]\nmvp = \"yes\"\n", &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("FILE:2:7: `constraints.mvp` must be a boolean (true or false), found the string \"yes\""), "{stderr}");
}

#[test]
fn servers_out_of_range() {
    for servers in ["0", "10001", "-3"] {
        let (code, stderr) = advise_with_file(
            &COMPLETE.replace("servers = 1", &format!("servers = {servers}")),
            &[],
        );
        assert_eq!(code, 2, "{servers}");
        assert!(
            stderr.contains(&format!("`scale.servers` = {servers} is out of range")),
            "{stderr}"
        );
        assert!(stderr.contains("an integer from 1 to 10000"), "{stderr}");
    }
}

#[test]
fn use_case_of_the_other_direction_is_an_error_saying_so() {
    let (code, stderr) = advise_with_file(&COMPLETE.replace("\"chat\"", "\"stock-ticker\""), &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "FILE:3:12: use case \"stock-ticker\" does not belong to direction \"bidirectional\""
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "use cases for \"bidirectional\": \"chat\", \"game\", \"collaboration\", \"other\""
        ),
        "{stderr}"
    );
}

#[test]
fn toml_syntax_error_has_a_location() {
    let (code, stderr) = advise_with_file("[traffic]\ndirection = bidirectional\n", &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("error: FILE:2:"), "{stderr}");
    assert!(stderr.contains("invalid TOML"), "{stderr}");
}

#[test]
fn invalid_package_name_says_why_and_suggests() {
    let (code, stderr) = advise_with_file(&format!("name = \"2fast\"\n{COMPLETE}"), &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("`name`: the project name `2fast` starts with a digit"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: try \"fast2\""), "{stderr}");
}

#[test]
fn set_errors_name_the_argument() {
    let (code, stderr) = stderr_of(&[
        "advise",
        "--preset",
        "chat",
        "--set",
        "traffic.use-case=game",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("error: --set traffic.use-case=game: unknown key `traffic.use-case`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("did you mean `traffic.use_case`?"),
        "{stderr}"
    );

    let (code, stderr) = stderr_of(&[
        "advise",
        "--preset",
        "chat",
        "--set",
        "generate.strategy=websockets",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "--set generate.strategy=websockets: `generate.strategy` cannot be \"websockets\""
        ),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean \"websocket\"?"), "{stderr}");

    let (code, stderr) = stderr_of(&["advise", "--preset", "chat", "--set", "scale.servers"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("expected KEY=VALUE"), "{stderr}");
}

#[test]
fn overrides_that_break_a_hard_constraint_are_refused() {
    let (code, stderr) = stderr_of(&[
        "advise",
        "--preset",
        "chat",
        "--set",
        "constraints.websockets_blocked=true",
        "--strategy",
        "websocket",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("generate.strategy: \"websocket\" cannot be used because constraints.websockets_blocked = true"), "{stderr}");
    assert!(stderr.contains("hint: "), "{stderr}");

    let (code, stderr) = stderr_of(&["advise", "--preset", "legacy-mvp", "--strategy", "sse"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("constraints.legacy_clients = true"),
        "{stderr}"
    );
}

#[test]
fn memory_fanout_across_servers_cannot_work() {
    let (code, stderr) = stderr_of(&["advise", "--preset", "game", "--fanout", "memory"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("generate.fanout: \"memory\" cannot work with scale.servers = 2"),
        "{stderr}"
    );
    assert!(
        stderr.contains("never reach clients connected to the other 1"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_exit_2_with_suggestions() {
    let (code, stderr) = stderr_of(&["explain", "websockets"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("a similar value exists: 'websocket'"),
        "{stderr}"
    );

    let (code, stderr) = stderr_of(&["advise", "--preset", "chatt"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("a similar value exists: 'chat'"),
        "{stderr}"
    );

    assert_eq!(stderr_of(&["advise", "--strategy", "websockets"]).0, 2);
    assert_eq!(stderr_of(&["advise", "--format", "yaml"]).0, 2);
    assert_eq!(stderr_of(&["completions", "tcsh"]).0, 2);
    assert_eq!(stderr_of(&["frobnicate"]).0, 2);
    assert_eq!(stderr_of(&[]).0, 2);
}

#[test]
fn unreadable_answers_file_exits_1_with_cause_and_hint() {
    let (code, stderr) = stderr_of(&["advise", "--answers", "/nonexistent/rtgen.toml"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("error: could not read answers file `/nonexistent/rtgen.toml`"),
        "{stderr}"
    );
    assert!(stderr.contains("caused by: "), "{stderr}");
    assert!(stderr.contains("rtgen answers > rtgen.toml"), "{stderr}");
}

#[test]
fn every_error_of_a_file_is_reported_at_once_with_its_place() {
    let (code, stderr) = advise_with_file(
        "bogus = 1\n[traffic]\ndirection = \"sideways\"\nuse-case = \"chat\"\n[scale]\nservers = 0\n[constraints]\nmvp = \"yes\"\n",
        &[],
    );
    assert_eq!(code, 2);
    for expected in [
        "error: FILE:1:1: unknown key `bogus`",
        "error: FILE:3:13: `traffic.direction` cannot be \"sideways\"",
        "error: FILE:4:1: unknown key `traffic.use-case`",
        "error: FILE:6:11: `scale.servers` = 0 is out of range",
        "error: FILE:8:7: `constraints.mvp` must be a boolean",
        "5 problems in all",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in\n{stderr}"
        );
    }
}

#[test]
fn json_format_reports_errors_as_json_on_stderr() {
    let (code, stderr) = advise_with_file(
        "[traffic]\ndirection = \"sideways\"\n[scale]\nservers = 0\n",
        &["--format", "json"],
    );
    assert_eq!(code, 2);
    let json: serde_json::Value = serde_json::from_str(&stderr).expect(&stderr);
    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{json}");
    assert_eq!(errors[0]["key"], "traffic.direction");
    assert_eq!(
        (errors[0]["line"].as_u64(), errors[0]["column"].as_u64()),
        (Some(2), Some(13))
    );
    assert_eq!(
        errors[0]["allowed"],
        serde_json::json!(["server-to-client", "bidirectional"])
    );
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be \"sideways\"")
    );
    assert_eq!(errors[1]["key"], "scale.servers");

    // --set errors carry the key and no line; syntax errors a line and no key.
    let output = rtgen()
        .args([
            "advise",
            "--preset",
            "chat",
            "--set",
            "access.auth=maybe",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&output.stderr).unwrap();
    let error = &json["errors"][0];
    assert_eq!(error["key"], "access.auth");
    assert!(
        error["line"].is_null() && error["column"].is_null(),
        "{json}"
    );
    assert_eq!(error["allowed"], serde_json::json!(["none", "jwt"]));

    let (code, stderr) = advise_with_file("[traffic\n", &["--format", "json"]);
    assert_eq!(code, 2);
    let json: serde_json::Value = serde_json::from_str(&stderr).expect(&stderr);
    let error = &json["errors"][0];
    assert!(error["key"].is_null() && error["line"] == 1, "{json}");

    // A value clap itself refuses, before rtgen knows the format, is JSON too.
    let (code, stderr) = stderr_of(&["advise", "--strategy", "bogus", "--format", "json"]);
    assert_eq!(code, 2);
    let json: serde_json::Value = serde_json::from_str(&stderr).expect(&stderr);
    let error = &json["errors"][0];
    assert_eq!(error["key"], "--strategy <STRATEGY>", "{json}");
    assert!(error["line"].is_null(), "{json}");
    assert!(
        error["allowed"]
            .as_array()
            .is_some_and(|values| values.contains(&serde_json::json!("sse"))),
        "{json}"
    );

    // Missing answers: one entry per key, with the values that fit.
    let output = rtgen()
        .args([
            "advise",
            "--set",
            "traffic.direction=bidirectional",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&output.stderr).unwrap();
    assert_eq!(json["errors"][0]["key"], "traffic.use_case");
    assert_eq!(
        json["errors"][0]["allowed"],
        serde_json::json!(["chat", "game", "collaboration", "other"])
    );
}

#[test]
fn the_rtgen_record_is_checked_like_answers() {
    let (code, stderr) = advise_with_file(
        &format!(
            "{COMPLETE}[rtgen]\nversion = \"0.1.0\"\nstrategy = \"sse\"\nupstream = \"none\"\nfanout = \"memory\"\ntemplate = \"x\"\n"
        ),
        &[],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown key `rtgen.template`"), "{stderr}");
    assert!(stderr.contains("did you mean `templates`?"), "{stderr}");
}

#[test]
fn a_partial_set_of_sizing_answers_names_the_missing_ones() {
    let (code, stderr) = advise_with_file(
        "[traffic]\ndirection = \"bidirectional\"\nuse_case = \"chat\"\n[scale]\nconnections = 5000\n",
        &[],
    );
    assert_eq!(code, 2);
    for expected in [
        "error: FILE:5:15: `scale.connections` needs `scale.messages_per_second` and \
         `scale.subscribers_per_message`: the sizing answers come together",
        "given:   scale.connections (from FILE:5:15)",
        "missing: scale.messages_per_second  a number greater than 0",
        "missing: scale.subscribers_per_message  an integer from 1 to 100000000",
        "hint: add scale.messages_per_second and scale.subscribers_per_message, or remove the \
         sizing answers and give scale.servers",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in\n{stderr}"
        );
    }

    // The same from --set, in JSON: one entry per missing key.
    let output = rtgen()
        .args([
            "advise",
            "--preset",
            "chat",
            "--set",
            "scale.messages_per_second=2.5",
            "--set",
            "scale.subscribers_per_message=10",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&output.stderr).unwrap();
    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{json}");
    assert_eq!(errors[0]["key"], "scale.connections");
    assert_eq!(
        errors[0]["allowed"],
        serde_json::json!(["an integer from 1 to 100000000"])
    );
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message
            .contains("`scale.messages_per_second` is given (--set scale.messages_per_second=2.5)")
            && message.contains("`scale.subscribers_per_message` is given"),
        "{message}"
    );
}

#[test]
fn sizing_values_are_checked_like_every_other_answer() {
    let cases = [
        (
            "scale.messages_per_second=0",
            "`scale.messages_per_second` = 0 is out of range",
        ),
        (
            "scale.messages_per_second=-2",
            "`scale.messages_per_second` = -2 is out of range",
        ),
        (
            "scale.messages_per_second=inf",
            "must be a number, found the string \"inf\"",
        ),
        (
            "scale.messages_per_second=fast",
            "must be a number, found the string \"fast\"",
        ),
        (
            "scale.connections=0",
            "`scale.connections` = 0 is out of range",
        ),
        (
            "scale.subscribers_per_message=1.5",
            "must be an integer, found the string \"1.5\"",
        ),
    ];
    for (set, expected) in cases {
        let (code, stderr) = stderr_of(&["advise", "--preset", "chat", "--set", set]);
        assert_eq!(code, 2, "{set}");
        assert!(stderr.contains(expected), "{set}: {stderr}");
    }
    let (code, stderr) = advise_with_file(
        &format!("{COMPLETE}messages_per_second = 1e9\nconnections = 2.0\n"),
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("FILE:6:23: `scale.messages_per_second` = 1000000000 is out of range"),
        "{stderr}"
    );
    assert!(
        stderr.contains("FILE:7:15: `scale.connections` must be an integer, found a float (2)"),
        "{stderr}"
    );
}

//! The CLI under bad input: random and near-miss answers files, `--set` values and
//! project names never make rtgen panic or die by a signal; it exits 0, or 2 with one
//! message naming the problem. Ctrl-C at every prompt exits 130 and writes nothing, and
//! a full disk leaves no partial project.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use proptest::prelude::*;

/// Each case spawns rtgen; a modest count keeps the suite within its CI budget.
const CASES: u32 = 48;

fn rtgen(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rtgen"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run rtgen")
}

/// Exit 0, or 2 with an `error:` line on stderr; never a signal or a panic. Returns
/// (code, stderr).
fn well_behaved(output: &Output, what: &str) -> Result<(i32, String), TestCaseError> {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let code = output.status.code();
    prop_assert!(
        code.is_some(),
        "{what}: killed by a signal; stderr: {stderr}"
    );
    prop_assert!(!stderr.contains("panicked"), "{what}: panicked: {stderr}");
    let code = code.unwrap();
    prop_assert!(
        code == 0 || code == 2,
        "{what}: exit {code}; stderr: {stderr}"
    );
    if code == 2 && stderr.starts_with('{') {
        // `--format json`: {"errors": [...]}, each with a message.
        let json: serde_json::Value = serde_json::from_str(&stderr)
            .map_err(|e| TestCaseError::fail(format!("{what}: not JSON ({e}): {stderr}")))?;
        let errors = json["errors"].as_array().cloned().unwrap_or_default();
        prop_assert!(!errors.is_empty(), "{what}: {stderr}");
        for error in &errors {
            prop_assert!(
                error["message"].as_str().is_some_and(|m| m.len() > 10),
                "{what}: {stderr}"
            );
        }
    } else if code == 2 {
        prop_assert!(stderr.starts_with("error:"), "{what}: {stderr}");
        prop_assert!(
            stderr.trim().len() > "error:".len() + 10,
            "{what}: {stderr}"
        );
    }
    Ok((code, stderr))
}

const COMPLETE: &str = r#"name = "live-scores"
description = "Live match scores"

[traffic]
direction = "server-to-client"
use_case = "stock-ticker"
freshness = "instant"

[scale]
servers = 3

[constraints]
websockets_blocked = false
legacy_clients = false
mvp = false
mobile = false

[generate]
strategy = "auto"
fanout = "auto"
"#;

/// Every `key = value` line of the complete file, as (line index, key).
fn keys() -> Vec<(usize, &'static str)> {
    COMPLETE
        .lines()
        .enumerate()
        .filter_map(|(i, line)| line.split_once(" = ").map(|(key, _)| (i, key)))
        .collect()
}

/// Values that are wrong for most keys: other types, near misses, junk.
fn odd_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"\"".to_owned()),
        Just("0".to_owned()),
        Just("-1".to_owned()),
        Just("10001".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("1.5".to_owned()),
        Just("true".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        Just("\"websockets\"".to_owned()),
        Just("\"server_to_client\"".to_owned()),
        Just("\"chat\"".to_owned()),
        Just("\"a\\u0000b\"".to_owned()),
        Just("1979-05-27T07:32:00Z".to_owned()),
        "\"[a-z_-]{0,12}\"",
        "[0-9]{1,25}",
        "\"[^\"\\\\\\p{Cc}]{0,40}\"",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    /// Arbitrary text, and TOML-looking fragments, as an answers file.
    #[test]
    fn random_answers_files(text in prop_oneof![
        any::<String>(),
        proptest::collection::vec(
            prop_oneof![
                "\\[[a-z_.]{0,12}\\]",
                "[a-z_.-]{0,16} ?= ?[a-z0-9\"'_.\\[\\]{}-]{0,16}",
                Just("[traffic]".to_owned()),
                Just("direction = \"bidirectional\"".to_owned()),
                Just("\"\"\"".to_owned()),
                Just("servers = 1e9".to_owned()),
                ".{0,30}",
            ],
            0..12,
        ).prop_map(|lines| lines.join("\n")),
    ]) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("answers.toml"), &text).unwrap();
        let output = rtgen(dir.path(), &["advise", "--answers", "answers.toml", "--format", "json"]);
        let (code, stderr) = well_behaved(&output, &format!("answers {text:?}"))?;
        if code == 2 {
            prop_assert!(stderr.contains("answers.toml") || stderr.contains("missing"), "{stderr}");
        }
    }

    /// A valid file with one value replaced: the error names the key.
    #[test]
    fn near_miss_answers_files(line in 0..keys().len(), value in odd_value()) {
        let (index, key) = keys()[line];
        let text: String = COMPLETE
            .lines()
            .enumerate()
            .map(|(i, l)| if i == index { format!("{key} = {value}\n") } else { format!("{l}\n") })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("answers.toml"), &text).unwrap();
        let output = rtgen(dir.path(), &["advise", "--answers", "answers.toml"]);
        let (code, stderr) = well_behaved(&output, &format!("{key} = {value}"))?;
        if code == 2 {
            prop_assert!(stderr.contains(key) || stderr.contains("answers.toml"), "{key} = {value}: {stderr}");
        }
    }

    /// `--set KEY=VALUE` with known and unknown keys and odd values.
    #[test]
    fn set_values(
        key in prop_oneof![
            Just("traffic.direction"), Just("traffic.use_case"), Just("traffic.freshness"),
            Just("scale.servers"), Just("constraints.mvp"), Just("constraints.mobile"),
            Just("generate.strategy"), Just("generate.fanout"), Just("name"), Just("description"),
        ].prop_map(str::to_owned).boxed().prop_union("[a-z_.=-]{0,20}".boxed()),
        value in prop_oneof![odd_value(), "[^\\x00]{0,20}"],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let set = format!("--set={key}={value}");
        let output = rtgen(dir.path(), &["advise", "--preset", "chat", &set]);
        let (code, stderr) = well_behaved(&output, &format!("--set {set:?}"))?;
        if code == 2 {
            let named = stderr.contains(&key) || stderr.contains("--set") || stderr.contains(&value);
            prop_assert!(named, "--set {set:?}: {stderr}");
        }
    }

    /// Project names for `rtgen new`: valid ones are accepted, the rest named and refused.
    #[test]
    fn project_names(name in prop_oneof![
        "[a-zA-Z_][a-zA-Z0-9_-]{0,20}",
        "[^\\x00]{1,24}",
        Just("self".to_owned()), Just("test".to_owned()), Just("con".to_owned()),
        Just("nul".to_owned()), Just("..".to_owned()), Just("a/b".to_owned()),
        Just("-dash".to_owned()), Just("2fast".to_owned()), Just("é".to_owned()),
    ]) {
        let dir = tempfile::tempdir().unwrap();
        let output = rtgen(dir.path(), &["new", "--preset", "chat", "--yes", "--dry-run", "--", &name]);
        let (code, stderr) = well_behaved(&output, &format!("name {name:?}"))?;
        if code == 2 {
            prop_assert!(stderr.contains("name"), "name {name:?}: {stderr}");
        }
        prop_assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "--dry-run wrote files");
    }
}

// ---------------------------------------------------------------------------------
// Ctrl-C at every prompt

#[cfg(unix)]
mod interrupt {
    use crate::support::pty::{exit_code, spawn};

    /// The prompts of a full run, each with the keys that answer it.
    const ADVISE: &[(&str, &str)] = &[
        ("Which way does the live data flow?", "\r"),
        ("What is it for?", "\r"),
        ("How fresh must the clients' view be?", "\r"),
        ("How many servers will hold client connections?", "1\r"),
        ("Which constraints apply?", "\r"),
        ("Who may read which channels?", "\r"),
        ("Save these answers to a file for scripted use?", "y"),
        ("File name", "\r"),
    ];
    const NEW: &[(&str, &str)] = &[
        ("Project name", "demo\r"),
        ("Which way does the live data flow?", "\r"),
        ("What is it for?", "\r"),
        ("How fresh must the clients' view be?", "\r"),
        ("How many servers will hold client connections?", "1\r"),
        ("Which constraints apply?", "\r"),
        ("Who may read which channels?", "\r"),
        ("Which strategy should the service use?", "\r"),
    ];

    /// Answers the prompts before `stop`, then presses Ctrl-C at it.
    fn interrupt_at(command: &str, prompts: &[(&str, &str)], stop: usize) {
        let dir = tempfile::tempdir().unwrap();
        let mut p = spawn(dir.path(), &[command]);
        for (prompt, keys) in &prompts[..stop] {
            p.exp_string(prompt).unwrap();
            p.send(keys).unwrap();
            p.flush().unwrap();
        }
        p.exp_string(prompts[stop].0).unwrap();
        p.send_control('c').unwrap();
        p.exp_eof().unwrap();
        let prompt = prompts[stop].0;
        assert_eq!(exit_code(&p), 130, "Ctrl-C at {prompt:?}");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "Ctrl-C at {prompt:?} left {left:?}");
    }

    #[test]
    fn ctrl_c_at_every_prompt_of_advise() {
        for stop in 0..ADVISE.len() {
            interrupt_at("advise", ADVISE, stop);
        }
    }

    #[test]
    fn ctrl_c_at_every_prompt_of_new() {
        for stop in 0..NEW.len() {
            interrupt_at("new", NEW, stop);
        }
    }
}

// ---------------------------------------------------------------------------------
// A full disk

/// A 64 KiB tmpfs cannot hold a project: rtgen fails with exit 1 and a message, and
/// leaves nothing behind, neither the project nor its temporary sibling.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_leaves_no_partial_project() {
    let mount = tempfile::tempdir().unwrap();
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(mount.path())
        .status()
        .expect("run mount");
    assert!(
        status.success(),
        "mounting a tiny tmpfs needs root (CI runs as root)"
    );
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(mount.path());

    let target = mount.path().join("demo");
    let output = Command::new(env!("CARGO_BIN_EXE_rtgen"))
        .args(["new", "demo", "--preset", "chat", "--yes", "--output"])
        .arg(&target)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error:"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(mount.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "a failed write left {left:?}");

    // The same with --force into an existing directory: foreign files stay as they
    // were, and no generated file is half-written.
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("notes.txt"), "mine").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rtgen"))
        .args([
            "new", "demo", "--preset", "chat", "--yes", "--force", "--output",
        ])
        .arg(&target)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(target.join("notes.txt")).unwrap(),
        "mine"
    );
    let generated = tempfile::tempdir().unwrap();
    let reference = generated.path().join("demo");
    let ok = Command::new(env!("CARGO_BIN_EXE_rtgen"))
        .args(["new", "demo", "--preset", "chat", "--yes", "--output"])
        .arg(&reference)
        .output()
        .unwrap();
    assert!(ok.status.success());
    for entry in walk(&target) {
        let relative = entry.strip_prefix(&target).unwrap();
        if relative == Path::new("notes.txt") {
            continue;
        }
        let written = std::fs::read(&entry).unwrap();
        let expected = std::fs::read(reference.join(relative))
            .unwrap_or_else(|_| panic!("{} is not a generated file", relative.display()));
        assert_eq!(written, expected, "{} is half-written", relative.display());
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

//! Development credentials: the `.env` that `rtgen new` writes beside the generated
//! files, the generated binary's `token` subcommand, and the checks the service makes
//! on its keys before it starts.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

const ANSWERS: &str = r#"
[traffic]
direction = "bidirectional"
use_case = "chat"
freshness = "instant"

[scale]
servers = 1
"#;

/// 40 bytes: a valid HS256 key for the generated service.
const SECRET: &str = "0123456789abcdef0123456789abcdef-dev-env";

fn rtgen(cwd: &Path, args: &[&str]) -> Output {
    let answers = cwd.join("answers.toml");
    fs::write(&answers, ANSWERS).unwrap();
    Command::new(env!("CARGO_BIN_EXE_rtgen"))
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .args(["new", "demo", "--yes", "--answers"])
        .arg(&answers)
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn dev_secret(project: &Path) -> String {
    let env = fs::read_to_string(project.join(".env")).unwrap();
    env.lines()
        .find_map(|line| line.strip_prefix("JWT_SECRET="))
        .unwrap_or_else(|| panic!("no JWT_SECRET line in:\n{env}"))
        .to_owned()
}

#[test]
fn new_writes_a_random_secret_once_and_outside_the_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let out = rtgen(tmp.path(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(".env holds a random development JWT_SECRET"));
    let project = tmp.path().join("demo");
    let secret = dev_secret(&project);
    assert_eq!(secret.len(), 64, "{secret}");
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()), "{secret}");
    for ignore in [".gitignore", ".dockerignore"] {
        let listed = fs::read_to_string(project.join(ignore)).unwrap();
        assert!(
            listed.lines().any(|line| line == ".env"),
            "{ignore}:\n{listed}"
        );
    }

    // Writing into a folder that already has a developer's .env keeps it as it is.
    let kept = tmp.path().join("kept");
    fs::create_dir(&kept).unwrap();
    fs::write(
        kept.join(".env"),
        "JWT_SECRET=mine-mine-mine-mine-mine-mine-mine\n",
    )
    .unwrap();
    let out = rtgen(tmp.path(), &["--output", "kept", "--force"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(".env was already there and is unchanged"));
    assert_eq!(
        fs::read_to_string(kept.join(".env")).unwrap(),
        "JWT_SECRET=mine-mine-mine-mine-mine-mine-mine\n"
    );

    // Another project gets another secret.
    let out = rtgen(tmp.path(), &["--output", "other"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_ne!(dev_secret(&tmp.path().join("other")), secret);

    // A dry run lists the plan only, and writes no .env.
    let out = rtgen(tmp.path(), &["--output", "dry", "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains(".env"), "{}", text(&out.stdout));
    assert!(!tmp.path().join("dry").exists());
}

/// The sse/memory project's binary, built once for the tests that share it.
fn binary() -> PathBuf {
    support::server_binary("sse", "memory")
}

/// Runs the generated binary in `cwd` with only `env` set (no inherited JWT_*).
fn run(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(binary())
        .current_dir(cwd)
        .env_clear()
        .envs(env.iter().copied())
        .args(args)
        .output()
        .unwrap()
}

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[test]
fn the_token_subcommand_signs_with_the_configured_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "token",
        "--sub",
        "42",
        "--channels",
        "room:*,news",
        "--publish=room:*",
        "--ttl",
        "15m",
    ];
    let out = run(tmp.path(), &args, &[("JWT_SECRET", SECRET)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let token = stdout.trim_end();
    assert_eq!(stdout, format!("{token}\n"), "one line");
    assert_eq!(token.split('.').count(), 3, "{token}");
    assert_eq!(decode_part(token, 0)["alg"], "HS256");
    let claims = decode_part(token, 1);
    assert_eq!(claims["sub"], "42");
    assert_eq!(claims["channels"], serde_json::json!(["room:*", "news"]));
    assert_eq!(claims["publish"], serde_json::json!(["room:*"]));
    let lifetime = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
    assert_eq!(lifetime, 15 * 60);
    // AUTH_MODE=none (this project's default): the token is minted, with a note.
    assert!(
        text(&out.stderr).contains("AUTH_MODE is none"),
        "{}",
        text(&out.stderr)
    );

    let help = run(tmp.path(), &["token", "--help"], &[]);
    assert!(help.status.success());
    assert!(text(&help.stdout).contains("--channels PATTERNS"));
}

#[test]
fn the_token_subcommand_refuses_without_a_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(tmp.path(), &["token", "--sub", "42"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no JWT_SECRET"),
        "{}",
        text(&out.stderr)
    );

    let key = support::workspace()
        .join(support::project_name("sse", "memory"))
        .join("tests/fixtures/ec-public.pem");
    let key = key.to_str().unwrap();
    let out = run(
        tmp.path(),
        &["token", "--sub", "42"],
        &[("JWT_PUBLIC_KEY", key)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("JWT_PUBLIC_KEY is set"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());

    let out = run(
        tmp.path(),
        &["token", "--channels", "room:*"],
        &[("JWT_SECRET", SECRET)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--sub is required"));
}

#[test]
fn dot_env_fills_in_what_the_environment_does_not_set() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join(".env"), format!("JWT_SECRET={SECRET}\n")).unwrap();
    let out = run(tmp.path(), &["token", "--sub", "7"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // A variable already set wins: a short secret in .env is never looked at.
    fs::write(tmp.path().join(".env"), "JWT_SECRET=short\n").unwrap();
    let out = run(
        tmp.path(),
        &["token", "--sub", "7"],
        &[("JWT_SECRET", SECRET)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(tmp.path(), &["token", "--sub", "7"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("at least 32"),
        "{}",
        text(&out.stderr)
    );

    // A line .env cannot parse is named by its variable, its value never shown.
    fs::write(tmp.path().join(".env"), "JWT_SECRET='unterminated-s3cret\n").unwrap();
    let out = run(tmp.path(), &["token", "--sub", "7"], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(".env") && stderr.contains("JWT_SECRET"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn the_service_refuses_to_start_without_a_usable_key() {
    let tmp = tempfile::tempdir().unwrap();
    let serve = ["--bind", "127.0.0.1:0"];
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("AUTH_MODE", "jwt")], "set JWT_SECRET"),
        (
            &[("AUTH_MODE", "jwt"), ("JWT_SECRET", "short")],
            "at least 32",
        ),
        (
            &[
                ("JWT_SECRET", SECRET),
                ("JWT_PUBLIC_KEY", "/nonexistent.pem"),
            ],
            "set exactly one",
        ),
        (
            &[("AUTH_MODE", "jwt"), ("JWT_PUBLIC_KEY", "/nonexistent.pem")],
            "/nonexistent.pem",
        ),
        (&[("AUTH_MODE", "maybe")], "AUTH_MODE=\"maybe\""),
    ];
    for (env, expected) in cases {
        let out = run(tmp.path(), &serve, env);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{env:?}: {stderr}");
        assert!(stderr.contains(expected), "{env:?}: {stderr}");
    }
}

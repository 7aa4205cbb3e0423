//! `rtgen new` as a process: every safety rule of issue 3, with exact exit codes.
//! These run without a terminal, so rtgen must never prompt.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use assert_cmd::Command;

const ANSWERS: &str = r#"
[traffic]
direction = "server-to-client"
use_case = "news-feed"
freshness = "seconds"

[scale]
servers = 1
"#;

fn rtgen(cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("rtgen").unwrap();
    cmd.current_dir(cwd).env("NO_COLOR", "1");
    cmd
}

fn write_answers(dir: &Path, extra: &str) -> String {
    let path = dir.join("answers.toml");
    fs::write(&path, format!("{extra}\n{ANSWERS}")).unwrap();
    path.to_string_lossy().into_owned()
}

/// Every generated file under `root`, by relative `/` path. `.env` is left out on
/// purpose: it holds a random development secret written beside the generated files,
/// different in every project (tests/dev_env.rs checks it).
fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut tree = read_all(root);
    tree.remove(".env");
    tree
}

/// Every file under `root`, by relative `/` path.
fn read_all(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn scripted_run_writes_the_project_and_prints_next_steps() {
    let tmp = tempfile::tempdir().unwrap();
    let answers = write_answers(tmp.path(), "");
    let out = rtgen(tmp.path())
        .args(["new", "live-scores", "--answers", &answers, "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let stdout = stdout_of(&out);
    for step in [
        "cd live-scores",
        "cargo run",
        "http://127.0.0.1:3000/",
        "cargo test",
    ] {
        assert!(stdout.contains(step), "missing {step:?} in:\n{stdout}");
    }
    let project = tmp.path().join("live-scores");
    assert!(project.join("Cargo.toml").is_file());
    assert!(project.join("rtgen.toml").is_file());
    assert_eq!(
        names_in(tmp.path()),
        ["answers.toml", "live-scores"],
        "no temp dirs left"
    );
}

#[test]
fn output_dir_and_name_from_the_answers_file() {
    let tmp = tempfile::tempdir().unwrap();
    let answers = write_answers(tmp.path(), "name = \"from-file\"");
    let out = rtgen(tmp.path())
        .args([
            "new",
            "--answers",
            &answers,
            "--yes",
            "--output",
            "somewhere/else",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let cargo = fs::read_to_string(tmp.path().join("somewhere/else/Cargo.toml")).unwrap();
    assert!(cargo.contains("name = \"from-file\""), "{cargo}");
    assert!(stdout_of(&out).contains("cd somewhere/else"));

    // The positional name wins over the file's.
    let out = rtgen(tmp.path())
        .args(["new", "from-arg", "--answers", &answers, "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let cargo = fs::read_to_string(tmp.path().join("from-arg/Cargo.toml")).unwrap();
    assert!(cargo.contains("name = \"from-arg\""), "{cargo}");
}

#[test]
fn invalid_names_exit_2_with_why_and_a_fix_and_write_nothing() {
    let cases = [
        ("2fast", "starts with a digit", "`fast2` or `app-2fast`"),
        ("my app", "contains ' '", "`my-app`"),
        ("MyApp", "uppercase", "`my-app`"),
        ("fn", "Rust keyword", "`fn-app`"),
        ("test", "built-in test library", "`test-app`"),
        ("core", "standard library", "`core-app`"),
        ("nul", "device name on Windows", "`nul-app`"),
        ("com1", "device name on Windows", "`com1-app`"),
        ("foo/bar", "is a path", "--output foo/bar"),
        ("..", "is a path", "live-scores"),
        ("", "is empty", "live-scores"),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let answers = write_answers(tmp.path(), "");
    for (name, why, fix) in cases {
        let out = rtgen(tmp.path())
            .args(["new", name, "--answers", &answers, "--yes"])
            .output()
            .unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{name:?}: {stderr}");
        assert!(stderr.contains(why), "{name:?}: {stderr}");
        assert!(stderr.contains(fix), "{name:?}: {stderr}");
        assert_eq!(
            names_in(tmp.path()),
            ["answers.toml"],
            "{name:?} wrote something"
        );
    }
}

#[test]
fn an_invalid_name_in_the_answers_file_says_where_it_came_from() {
    let tmp = tempfile::tempdir().unwrap();
    let answers = write_answers(tmp.path(), "name = \"Live\"");
    let out = rtgen(tmp.path())
        .args(["new", "--answers", &answers, "--yes"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("answers.toml:1:8"), "{stderr}");
    assert!(stderr.contains("try \"live\""), "{stderr}");
}

#[test]
fn a_non_empty_target_exits_3_before_any_answer_is_needed() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("demo")).unwrap();
    fs::write(tmp.path().join("demo/notes.txt"), "mine").unwrap();
    // No answers at all: had rtgen gathered answers first, it would exit 2 (missing).
    let out = rtgen(tmp.path()).args(["new", "demo"]).output().unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("`demo` exists and is not empty"),
        "{stderr}"
    );
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(names_in(&tmp.path().join("demo")), ["notes.txt"]);

    // --dry-run reports the same refusal a real run would meet.
    let out = rtgen(tmp.path())
        .args(["new", "demo", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
}

#[test]
fn an_empty_existing_directory_is_fine() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("demo")).unwrap();
    let answers = write_answers(tmp.path(), "");
    let out = rtgen(tmp.path())
        .args(["new", "demo", "--answers", &answers, "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(tmp.path().join("demo/Cargo.toml").is_file());
}

#[test]
fn a_file_at_the_target_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("demo"), "a file").unwrap();
    let answers = write_answers(tmp.path(), "");
    for force in [false, true] {
        let mut cmd = rtgen(tmp.path());
        cmd.args(["new", "demo", "--answers", &answers, "--yes"]);
        if force {
            cmd.arg("--force");
        }
        let out = cmd.output().unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("not a directory"), "{stderr}");
    }
    assert_eq!(fs::read(tmp.path().join("demo")).unwrap(), b"a file");
}

#[test]
fn missing_answers_exit_2_listing_them_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = rtgen(tmp.path())
        .args(["new", "demo", "--set", "traffic.direction=server-to-client"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for key in ["traffic.use_case", "traffic.freshness", "scale.servers"] {
        assert!(stderr.contains(key), "{key} not listed: {stderr}");
    }
    assert!(names_in(tmp.path()).is_empty());
}

#[test]
fn an_override_that_breaks_a_constraint_exits_2_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let answers = write_answers(tmp.path(), "");
    let out = rtgen(tmp.path())
        .args(["new", "demo", "--answers", &answers, "--yes"])
        .args([
            "--set",
            "constraints.legacy_clients=true",
            "--strategy",
            "websocket",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert_eq!(names_in(tmp.path()), ["answers.toml"]);
}

#[test]
fn dry_run_prints_the_tree_with_sizes_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let answers = write_answers(tmp.path(), "");
    let out = rtgen(tmp.path())
        .args(["new", "demo", "--answers", &answers, "--yes", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let stdout = stdout_of(&out);
    assert!(stdout.starts_with("demo/  ("), "{stdout}");
    assert!(stdout.contains("── Cargo.toml  "), "{stdout}");
    assert!(stdout.contains("── rtgen.toml  "), "{stdout}");
    assert!(
        stdout.contains(" B\n") || stdout.contains(" KiB\n"),
        "{stdout}"
    );
    assert!(stdout.contains("nothing was written"), "{stdout}");
    assert_eq!(names_in(tmp.path()), ["answers.toml"]);
}

#[test]
fn force_overwrites_only_generated_files_and_keeps_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let answers = write_answers(tmp.path(), "");
    let project = tmp.path().join("demo");
    fs::create_dir_all(project.join("src")).unwrap();
    fs::write(project.join("NOTES.md"), "mine").unwrap();
    fs::write(project.join("src/extra.rs"), "// mine").unwrap();
    fs::write(project.join("Cargo.toml"), "stale").unwrap();
    let out = rtgen(tmp.path())
        .args(["new", "demo", "--answers", &answers, "--yes", "--force"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));

    let fresh = tmp.path().join("fresh");
    let out = rtgen(tmp.path())
        .args([
            "new",
            "demo",
            "--answers",
            &answers,
            "--yes",
            "--output",
            "fresh",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));

    let mut expected = read_tree(&fresh);
    expected.insert("NOTES.md".into(), b"mine".to_vec());
    expected.insert("src/extra.rs".into(), b"// mine".to_vec());
    assert_eq!(
        read_tree(&project).keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    assert!(
        read_tree(&project) == expected,
        "contents differ from a fresh project"
    );
}

#[test]
fn a_write_failure_leaves_nothing_half_written() {
    let tmp = tempfile::tempdir().unwrap();
    let answers = write_answers(tmp.path(), "");

    // The parent "directory" is a regular file: creating anything under it fails, as root too.
    fs::write(tmp.path().join("blocker"), "file").unwrap();
    let out = rtgen(tmp.path())
        .args([
            "new",
            "demo",
            "--answers",
            &answers,
            "--yes",
            "--output",
            "blocker/demo",
        ])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("blocker"), "{stderr}");
    assert_eq!(names_in(tmp.path()), ["answers.toml", "blocker"]);

    // With --force, a file where the project needs a directory (src/) stops the
    // write before any file is replaced.
    let project = tmp.path().join("demo");
    fs::create_dir(&project).unwrap();
    fs::write(project.join("Cargo.toml"), "old").unwrap();
    fs::write(project.join("src"), "a file, not a directory").unwrap();
    // All files, .env included: a failed write writes no development secret either.
    let before = read_all(&project);
    let out = rtgen(tmp.path())
        .args(["new", "demo", "--answers", &answers, "--yes", "--force"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("needs a directory"), "{stderr}");
    assert!(read_all(&project) == before, "the project changed");
    assert_eq!(names_in(tmp.path()), ["answers.toml", "blocker", "demo"]);
}

const NASTY: &str = "Say \"hi\" \\ {{ not_a_var }} {% if %} </script><script>alert(1)</script>\nline two\r\n\ttab 'q' & <b>";

#[test]
fn user_text_is_escaped_in_the_generated_files() {
    let tmp = tempfile::tempdir().unwrap();
    let description = format!("description = {}", toml_basic(NASTY));
    let nasty_answers = write_answers(tmp.path(), &description);
    let out = rtgen(tmp.path())
        .args(["new", "nasty", "--answers", &nasty_answers, "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let plain_answers = write_answers(tmp.path(), "description = \"plain\"");
    let out = rtgen(tmp.path())
        .args(["new", "plain", "--answers", &plain_answers, "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let nasty = read_tree(&tmp.path().join("nasty"));
    let plain = read_tree(&tmp.path().join("plain"));
    let text = |tree: &BTreeMap<String, Vec<u8>>, path: &str| {
        String::from_utf8(tree[path].clone()).unwrap()
    };

    let cargo: toml::Table = toml::from_str(&text(&nasty, "Cargo.toml")).unwrap();
    assert_eq!(cargo["package"]["description"].as_str(), Some(NASTY));
    let record: toml::Table = toml::from_str(&text(&nasty, "rtgen.toml")).unwrap();
    assert_eq!(record["description"].as_str(), Some(NASTY));

    // Every file keeps its structure: the description adds no line (HTML may keep
    // its line breaks: they are only whitespace there) and no markup to the page or
    // the Markdown. TOML keeps the text verbatim inside a string.
    for (path, bytes) in &nasty {
        let (Ok(n), Ok(p)) = (
            std::str::from_utf8(bytes),
            std::str::from_utf8(&plain[path]),
        ) else {
            continue;
        };
        // `.rtgen/` holds copies of the files checked here, under other names.
        if path == "rtgen.toml" || path.starts_with(".rtgen/") {
            continue;
        }
        if !path.ends_with(".html") {
            assert_eq!(
                n.lines().count(),
                p.lines().count(),
                "{path} gained lines:\n{n}"
            );
        }
        if path.ends_with(".html") || path.ends_with(".js") || path.ends_with(".md") {
            for markup in ["</script>", "<script>", "<b>"] {
                assert_eq!(
                    n.matches(markup).count(),
                    p.matches(markup).count(),
                    "{path}: raw {markup}\n{n}"
                );
            }
        }
    }
}

/// A TOML basic string, written independently of rtgen's own escaping.
fn toml_basic(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

#[test]
fn regenerating_from_rtgen_toml_is_byte_identical_but_for_the_name() {
    let tmp = tempfile::tempdir().unwrap();
    let answers = write_answers(tmp.path(), "description = \"Scores, live\"");
    let out = rtgen(tmp.path())
        .args(["new", "first-app", "--answers", &answers, "--yes"])
        .args(["--set", "scale.servers=3", "--strategy", "long-polling"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let out = rtgen(tmp.path())
        .args([
            "new",
            "second-one",
            "--answers",
            "first-app/rtgen.toml",
            "--yes",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));

    let first = read_tree(&tmp.path().join("first-app"));
    let second = read_tree(&tmp.path().join("second-one"));
    let renamed: BTreeMap<String, Vec<u8>> = first
        .into_iter()
        .map(|(path, bytes)| {
            let bytes = match String::from_utf8(bytes) {
                Ok(text) => text
                    .replace("first-app", "second-one")
                    .replace("first_app", "second_one")
                    .into_bytes(),
                Err(binary) => binary.into_bytes(),
            };
            (path, bytes)
        })
        .collect();
    assert_eq!(
        renamed.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &renamed {
        assert!(
            bytes == &second[path],
            "{path} differs:\n{}\n---\n{}",
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(&second[path])
        );
    }
    let record = String::from_utf8(second["rtgen.toml"].clone()).unwrap();
    assert!(record.contains("strategy = \"long-polling\""), "{record}");
    assert!(record.contains("fanout = \"redis\""), "{record}");
}

#[test]
fn one_changed_answer_is_decided_afresh_from_rtgen_toml() {
    let tmp = tempfile::tempdir().unwrap();
    let answers = write_answers(tmp.path(), "");
    let out = rtgen(tmp.path())
        .args(["new", "first", "--answers", &answers, "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let record = fs::read_to_string(tmp.path().join("first/rtgen.toml")).unwrap();
    assert!(
        record.contains("[generate]\nstrategy = \"auto\"\nfanout = \"auto\""),
        "{record}"
    );
    assert!(record.contains("[rtgen]\nversion = "), "{record}");
    assert!(
        record.contains("fanout = \"memory\"\ntemplates = \""),
        "{record}"
    );

    // Regenerating from the record with the same rtgen is byte-identical, and the
    // project itself is current: `new --force` refuses it in favour of `rtgen update`.
    let out = rtgen(tmp.path())
        .args(["new", "first", "--answers", "first/rtgen.toml", "--yes"])
        .args(["--output", "again"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        read_tree(&tmp.path().join("again")) == read_tree(&tmp.path().join("first")),
        "regenerating from rtgen.toml changed files"
    );
    let out = rtgen(tmp.path())
        .args(["update", "first", "--check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));

    // An in-memory project with three servers now: rtgen chooses Redis itself.
    let out = rtgen(tmp.path())
        .args(["new", "scaled", "--answers", "first/rtgen.toml", "--yes"])
        .args(["--set", "scale.servers=3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let record = fs::read_to_string(tmp.path().join("scaled/rtgen.toml")).unwrap();
    assert!(record.contains("fanout = \"redis\"\ntemplates"), "{record}");
}

#[test]
fn a_record_from_before_access_existed_keeps_its_service_open() {
    let tmp = tempfile::tempdir().unwrap();
    let old = tmp.path().join("old.toml");
    fs::write(
        &old,
        format!(
            "# Answers that generated `chatty`, recorded by rtgen 0.1.0.\n{}",
            "[traffic]\ndirection = \"bidirectional\"\nuse_case = \"chat\"\n[scale]\nservers = 1\n\
             [generate]\nstrategy = \"websocket\"\nfanout = \"memory\"\n"
        ),
    )
    .unwrap();
    let out = rtgen(tmp.path())
        .args(["new", "chatty", "--answers", "old.toml", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let record = fs::read_to_string(tmp.path().join("chatty/rtgen.toml")).unwrap();
    assert!(record.contains("[access]\nauth = \"none\""), "{record}");

    // The same answers written by hand get the default for chat.
    let fresh = tmp.path().join("fresh.toml");
    fs::write(
        &fresh,
        fs::read_to_string(&old)
            .unwrap()
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let out = rtgen(tmp.path())
        .args(["new", "fresh", "--answers", "fresh.toml", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let record = fs::read_to_string(tmp.path().join("fresh/rtgen.toml")).unwrap();
    assert!(record.contains("[access]\nauth = \"jwt\""), "{record}");
}

#[test]
fn dry_run_and_next_steps_say_what_and_how() {
    let tmp = tempfile::tempdir().unwrap();
    let answers = write_answers(tmp.path(), "");
    let out = rtgen(tmp.path())
        .args([
            "new",
            "demo",
            "--answers",
            &answers,
            "--yes",
            "--dry-run",
            "--fanout",
            "redis",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let stdout = stdout_of(&out);
    assert!(stdout.contains("Strategy: sse\n"), "{stdout}");
    assert!(stdout.contains("Fan-out:  redis"), "{stdout}");
    assert!(stdout.contains("rtgen recommends memory"), "{stdout}");

    let out = rtgen(tmp.path())
        .args([
            "new",
            "phone",
            "--preset",
            "notifications",
            "--yes",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let stdout = stdout_of(&out);
    assert!(stdout.contains("Preset notifications answers"), "{stdout}");
    assert!(stdout.contains("constraints.mobile = true"), "{stdout}");

    let out = rtgen(tmp.path())
        .args(["new", "demo", "--answers", &answers, "--yes"])
        .output()
        .unwrap();
    let stdout = stdout_of(&out);
    if cfg!(target_os = "linux") {
        assert!(
            stdout.contains("xdg-open http://127.0.0.1:3000/"),
            "{stdout}"
        );
        assert!(!stdout.contains("  open "), "{stdout}");
    }
}

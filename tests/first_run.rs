//! The README's first commands, as a new user runs them from a fresh clone: `rtgen new
//! NAME --preset chat --yes` with the clone as the working directory, so the project is
//! written inside rtgen's own Cargo workspace, then `cargo test` in the project. Without
//! the generated `[workspace]` table cargo refuses ("current package believes it's in a
//! workspace when it's not").

mod support;

use std::path::Path;
use std::process::Command;

fn run(command: &mut Command) -> String {
    let output = command.output().expect("start the command");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_readme_command_in_a_fresh_clone_builds_and_tests() {
    let clone = support::workspace().join("fresh-clone");
    if clone.exists() {
        std::fs::remove_dir_all(&clone).unwrap();
    }
    std::fs::create_dir_all(support::workspace()).unwrap();
    run(Command::new("git")
        .args(["clone", "--quiet", "--local"])
        .arg(env!("CARGO_MANIFEST_DIR"))
        .arg(&clone));
    assert!(
        clone.join("Cargo.toml").is_file(),
        "the clone has rtgen's workspace manifest"
    );

    // `cargo run --quiet --` in the clone runs this same rtgen; the built binary spares
    // compiling it a second time.
    let stdout = run(Command::new(env!("CARGO_BIN_EXE_rtgen"))
        .args(["new", "readme-chat", "--preset", "chat", "--yes"])
        .current_dir(&clone)
        .env("NO_COLOR", "1"));
    assert!(stdout.contains("cd readme-chat"), "{stdout}");
    let project = clone.join("readme-chat");
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("\n[workspace]\n"), "{manifest}");
    assert!(is_inside(&project, &clone));

    let _one = support::cargo_lock();
    support::cargo(&project, &["test"]);
}

fn is_inside(path: &Path, dir: &Path) -> bool {
    path.ancestors().any(|a| a == dir)
}

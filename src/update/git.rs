//! The one question `rtgen update` asks git: are there uncommitted changes?

use std::path::Path;
use std::process::Command;

use crate::error::{Error, Result};

/// Inside a git work tree, uncommitted changes under `root` would mix with the update's
/// and could not be told apart (or undone with git) afterwards. Outside one, or
/// without git, there is nothing to ask.
pub fn refuse_dirty(root: &Path) -> Result<()> {
    let git = |args: &[&str]| Command::new("git").arg("-C").arg(root).args(args).output();
    let inside = git(&["rev-parse", "--is-inside-work-tree"])
        .is_ok_and(|out| out.status.success() && out.stdout.starts_with(b"true"));
    if !inside {
        return Ok(());
    }
    let status = git(&["status", "--porcelain", "--untracked-files=all", "--", "."])
        .map_err(|err| Error::io("run `git status` in", root, err))?;
    if !status.status.success() {
        return Err(Error::usage(
            format!(
                "`git status` failed in `{}`: {}",
                root.display(),
                String::from_utf8_lossy(&status.stderr).trim()
            ),
            Some("fix the repository, or pass --allow-dirty to update without asking git".into()),
        ));
    }
    if status.stdout.is_empty() {
        return Ok(());
    }
    let listing = String::from_utf8_lossy(&status.stdout);
    let mut lines: Vec<&str> = listing.lines().take(10).collect();
    let more = listing.lines().count().saturating_sub(lines.len());
    let more_line = format!("... and {more} more");
    if more > 0 {
        lines.push(&more_line);
    }
    Err(Error::usage(
        format!(
            "`{}` has uncommitted changes, which the update would mix with its own:\n  {}",
            root.display(),
            lines.join("\n  ")
        ),
        Some(
            "commit or stash them first, so `git diff` shows exactly what the update changed \
             (or pass --allow-dirty)"
                .to_owned(),
        ),
    ))
}

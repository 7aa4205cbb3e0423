//! Putting a [`Plan`] on disk so that a failure never leaves a half-written
//! project behind.
//!
//! * A new target is built in a hidden sibling directory
//!   (`.NAME.rtgen-tmp-XXXXXX`, same parent so the rename cannot cross file
//!   systems) and renamed into place in one step.
//! * An existing directory (empty, with `--force`, or a project `rtgen update`
//!   changes) is never replaced — it may be someone's working directory, or
//!   hold their files. [`apply`] makes a list of [`Change`]s all or nothing:
//!   everything that can be checked is checked first; then every file is
//!   written to a temporary file beside its destination; only when all are
//!   written are they moved over their destinations, each replaced or deleted
//!   file first moved aside into a backup folder in the project
//!   (`.rtgen-backup-XXXXXX`). On failure, or Ctrl-C, everything is undone in
//!   reverse order: added files and created directories removed, backups moved
//!   back. Files no change names are never touched.
//!
//! Ctrl-C while writing is deferred (see [`crate::interrupt`]): it is noticed
//! between files and answered by the roll-back, exit 130.
//!
//! Files are not fsync'ed: the promise is about failures of rtgen, not power
//! loss, and a generator should stay instant.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::plan::{Plan, PlannedFile};
use crate::interrupt::{self, Deferred};

#[derive(Debug)]
pub enum WriteError {
    /// The target holds files and `--force` was not given.
    NotEmpty(PathBuf),
    /// The target exists and is a file (or something else that is not a directory).
    NotADirectory(PathBuf),
    /// Something already on disk stands where the project needs to write.
    Blocked { path: PathBuf, why: &'static str },
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// Ctrl-C while writing; everything written so far was undone.
    Interrupted,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotEmpty(path) => write!(
                f,
                "the directory `{}` already exists and is not empty",
                path.display()
            ),
            Self::NotADirectory(path) => write!(
                f,
                "`{}` already exists and is not a directory",
                path.display()
            ),
            Self::Blocked { path, why } => write!(
                f,
                "cannot write `{}`: {why}; move it out of the way or generate into another \
                 directory with --output DIR (nothing was written)",
                path.display()
            ),
            // The I/O error itself is the source, printed by whoever reports the chain.
            Self::Io { action, path, .. } => write!(
                f,
                "could not {action} `{}` (nothing was left half-written; fix the cause and run \
                 the command again)",
                path.display()
            ),
            Self::Interrupted => f.write_str("interrupted while writing; every file was restored"),
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> WriteError {
    let path = path.to_owned();
    move |source| WriteError::Io {
        action,
        path,
        source,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    Missing,
    EmptyDir,
    NonEmptyDir,
}

/// What is at `target` now. A file there is an error: rtgen never replaces
/// a file with a project, `--force` or not.
pub fn inspect(target: &Path) -> Result<TargetState, WriteError> {
    match fs::symlink_metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(TargetState::Missing),
        Err(e) => Err(io_err("inspect", target)(e)),
        Ok(meta) => {
            // A symlink to a directory is a directory the user chose to point at.
            let is_dir = meta.is_dir() || (meta.is_symlink() && target.is_dir());
            if !is_dir {
                return Err(WriteError::NotADirectory(target.to_owned()));
            }
            let mut entries = fs::read_dir(target).map_err(io_err("read the directory", target))?;
            Ok(if entries.next().is_some() {
                TargetState::NonEmptyDir
            } else {
                TargetState::EmptyDir
            })
        }
    }
}

/// Writes `plan` into `target`. Refuses a non-empty `target` unless `force`.
pub fn write_project(target: &Path, plan: &Plan, force: bool) -> Result<(), WriteError> {
    match inspect(target)? {
        TargetState::Missing => write_fresh(target, plan),
        TargetState::EmptyDir => write_in_place(target, plan),
        TargetState::NonEmptyDir if force => write_in_place(target, plan),
        TargetState::NonEmptyDir => Err(WriteError::NotEmpty(target.to_owned())),
    }
}

fn join(root: &Path, relative: &str) -> PathBuf {
    let mut path = root.to_owned();
    path.extend(relative.split('/'));
    path
}

#[cfg(unix)]
fn file_mode(options: &mut OpenOptions, executable: bool) {
    use std::os::unix::fs::OpenOptionsExt;
    // The umask still applies, as it does for files users create themselves.
    options.mode(if executable { 0o777 } else { 0o666 });
}

#[cfg(not(unix))]
fn file_mode(_: &mut OpenOptions, _: bool) {}

fn create_file(path: &Path, file: &PlannedFile) -> Result<(), WriteError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    file_mode(&mut options, file.executable);
    let mut handle: File = options.open(path).map_err(io_err("create", path))?;
    handle
        .write_all(&file.contents)
        .map_err(io_err("write", path))
}

/// The target does not exist: build it beside its final place, then rename.
fn write_fresh(target: &Path, plan: &Plan) -> Result<(), WriteError> {
    interrupt::deferred(|deferred| write_fresh_deferred(target, plan, deferred))
}

fn write_fresh_deferred(target: &Path, plan: &Plan, deferred: &Deferred) -> Result<(), WriteError> {
    let file_name = target
        .file_name()
        .ok_or_else(|| WriteError::Blocked {
            path: target.to_owned(),
            why: "the path does not end in a directory name",
        })?
        .to_string_lossy()
        .into_owned();
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::create_dir_all(parent).map_err(io_err("create the directory", parent))?;

    let prefix = format!(".{file_name}.rtgen-tmp-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // tempfile's default 0o700 would become the project directory's mode.
        builder.permissions(fs::Permissions::from_mode(0o777));
    }
    // Dropping `staging` removes it with everything inside: that is the cleanup
    // on every error path below, including a panic.
    let staging = builder
        .tempdir_in(parent)
        .map_err(io_err("create a temporary directory in", parent))?;
    for file in &plan.files {
        let path = join(staging.path(), &file.path);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_err("create the directory", dir))?;
        }
        create_file(&path, file)?;
        if deferred.requested() {
            return Err(WriteError::Interrupted);
        }
    }
    fs::rename(staging.path(), target).map_err(|source| {
        if fs::symlink_metadata(target).is_ok() {
            // Someone created the target while we were writing.
            WriteError::NotEmpty(target.to_owned())
        } else {
            WriteError::Io {
                action: "move the finished project to",
                path: target.to_owned(),
                source,
            }
        }
    })?;
    // The directory now lives at `target`; nothing is left to clean up.
    let _ = staging.keep();
    Ok(())
}

/// One step of an update to an existing directory, relative to its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Write {
        path: String,
        contents: Vec<u8>,
        executable: bool,
    },
    Delete {
        path: String,
    },
}

impl Change {
    pub fn path(&self) -> &str {
        match self {
            Change::Write { path, .. } | Change::Delete { path } => path,
        }
    }

    fn write(file: &PlannedFile) -> Change {
        Change::Write {
            path: file.path.clone(),
            contents: file.contents.clone(),
            executable: file.executable,
        }
    }
}

/// The target is an existing directory: the plan's files, all or nothing.
fn write_in_place(target: &Path, plan: &Plan) -> Result<(), WriteError> {
    let changes: Vec<Change> = plan.files.iter().map(Change::write).collect();
    apply(target, &changes)
}

/// Makes `changes` under `root`, all or nothing (see the module comment).
pub fn apply(root: &Path, changes: &[Change]) -> Result<(), WriteError> {
    check_in_place(root, changes)?;
    interrupt::deferred(|deferred| {
        let mut journal = Journal::default();
        match stage_and_commit(root, changes, deferred, &mut journal) {
            Ok(()) => {
                journal.finish(root, changes);
                Ok(())
            }
            Err(err) => {
                journal.roll_back();
                Err(err)
            }
        }
    })
}

/// What [`apply`] did so far, in order, so a failure can undo exactly that.
#[derive(Default)]
struct Journal {
    steps: Vec<Step>,
    /// Where replaced and deleted files wait until the end; removed on drop.
    backups: Option<tempfile::TempDir>,
}

enum Step {
    CreatedDir(PathBuf),
    Added(PathBuf),
    MovedAside { dest: PathBuf, backup: PathBuf },
}

impl Journal {
    fn roll_back(&mut self) {
        // Best effort: the original error is what the user needs to see.
        for step in self.steps.drain(..).rev() {
            match step {
                Step::Added(path) => {
                    let _ = fs::remove_file(path);
                }
                // A rename over whatever stands at `dest` now restores it in one step.
                Step::MovedAside { dest, backup } => {
                    let _ = fs::rename(backup, dest);
                }
                Step::CreatedDir(dir) => {
                    let _ = fs::remove_dir(dir);
                }
            }
        }
    }

    /// Past the point of no return: drop the backups, and the directories that
    /// deletions left empty (never `root` itself).
    fn finish(self, root: &Path, changes: &[Change]) {
        drop(self.backups);
        for change in changes {
            if let Change::Delete { path } = change {
                let mut dir = join(root, path);
                while dir.pop() && dir != root && dir.starts_with(root) {
                    if fs::remove_dir(&dir).is_err() {
                        break;
                    }
                }
            }
        }
    }

    fn move_aside(&mut self, root: &Path, dest: &Path) -> Result<(), WriteError> {
        if self.backups.is_none() {
            let dir = tempfile::Builder::new()
                .prefix(".rtgen-backup-")
                .tempdir_in(root)
                .map_err(io_err("create a backup directory in", root))?;
            self.backups = Some(dir);
        }
        let backups = self.backups.as_ref().map(|d| d.path()).unwrap_or(root);
        let backup = backups.join(self.steps.len().to_string());
        fs::rename(dest, &backup).map_err(io_err("move aside", dest))?;
        self.steps.push(Step::MovedAside {
            dest: dest.to_owned(),
            backup,
        });
        Ok(())
    }
}

/// Everything that can be known before writing: no symlinked directory leads
/// outside the project, no file stands where a directory must go and no
/// directory where a file must go (or is to be deleted).
fn check_in_place(target: &Path, changes: &[Change]) -> Result<(), WriteError> {
    for change in changes {
        let segments: Vec<&str> = change.path().split('/').collect();
        let mut path = target.to_owned();
        for (i, segment) in segments.iter().enumerate() {
            path.push(segment);
            let last = i + 1 == segments.len();
            let meta = match fs::symlink_metadata(&path) {
                Ok(meta) => meta,
                // Everything below a missing directory is missing too.
                Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                Err(e) => return Err(io_err("inspect", &path)(e)),
            };
            if last {
                if meta.is_dir() {
                    return Err(WriteError::Blocked {
                        path,
                        why: "it is a directory, and the project needs a file there",
                    });
                }
            } else if meta.is_symlink() {
                return Err(WriteError::Blocked {
                    path,
                    why: "it is a symbolic link, and rtgen does not write through links \
                          into directories outside the project",
                });
            } else if !meta.is_dir() {
                return Err(WriteError::Blocked {
                    path,
                    why: "it is a file, and the project needs a directory there",
                });
            }
        }
    }
    Ok(())
}

fn stage_and_commit(
    target: &Path,
    changes: &[Change],
    deferred: &Deferred,
    journal: &mut Journal,
) -> Result<(), WriteError> {
    let interrupted = || {
        if deferred.requested() {
            Err(WriteError::Interrupted)
        } else {
            Ok(())
        }
    };
    let mut staged = Vec::with_capacity(changes.len());
    for change in changes {
        let dest = join(target, change.path());
        let Change::Write {
            contents,
            executable,
            ..
        } = change
        else {
            staged.push((None, dest));
            continue;
        };
        let dir = dest.parent().unwrap_or(target).to_owned();
        create_dirs(&dir, journal)?;
        let name = dest.file_name().unwrap_or_default().to_string_lossy();
        let prefix = format!(".{name}.rtgen-tmp-");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = if *executable { 0o777 } else { 0o666 };
            builder.permissions(fs::Permissions::from_mode(mode));
        }
        #[cfg(not(unix))]
        let _ = executable;
        // Dropped (and so deleted) on any error before it is persisted.
        let mut temp = builder
            .tempfile_in(&dir)
            .map_err(io_err("create a temporary file in", &dir))?;
        temp.write_all(contents)
            .map_err(io_err("write", temp.path()))?;
        staged.push((Some(temp), dest));
        interrupted()?;
    }
    for (i, (temp, dest)) in staged.into_iter().enumerate() {
        let exists = fs::symlink_metadata(&dest).is_ok();
        if exists {
            journal.move_aside(target, &dest)?;
        }
        if let Some(temp) = temp {
            temp.persist(&dest)
                .map_err(|e| io_err("replace", &dest)(e.error))?;
            if !exists {
                journal.steps.push(Step::Added(dest));
            }
        }
        if i == 0 {
            interrupt::test_hook_interrupt_during_commit();
        }
        interrupted()?;
    }
    Ok(())
}

/// `create_dir_all` that records each directory it creates.
fn create_dirs(dir: &Path, journal: &mut Journal) -> Result<(), WriteError> {
    let mut missing = Vec::new();
    let mut cursor = dir;
    while fs::symlink_metadata(cursor).is_err() {
        missing.push(cursor.to_owned());
        match cursor.parent() {
            Some(parent) => cursor = parent,
            None => break,
        }
    }
    for path in missing.into_iter().rev() {
        fs::create_dir(&path).map_err(io_err("create the directory", &path))?;
        journal.steps.push(Step::CreatedDir(path));
    }
    Ok(())
}

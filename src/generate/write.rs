//! Putting a [`Plan`] on disk so that a failure never leaves a half-written
//! project behind.
//!
//! * A new target is built in a hidden sibling directory
//!   (`.NAME.rtgen-tmp-XXXXXX`, same parent so the rename cannot cross file
//!   systems) and renamed into place in one step.
//! * An existing directory (empty, or any with `--force`) is never replaced —
//!   it may be someone's working directory, or hold their files. Everything
//!   that can be checked is checked first; then every file is written to a
//!   temporary file beside its destination; only when all are written are
//!   they renamed over their destinations. On failure the temporary files, the
//!   directories rtgen created and the files it had added are removed; files
//!   that rtgen does not generate are never touched.
//!
//! Files are not fsync'ed: the promise is about failures of rtgen, not power
//! loss, and a generator should stay instant.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::plan::{Plan, PlannedFile};

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

/// Undo log for [`write_in_place`]: what rtgen added, so a failure can remove
/// exactly that and nothing else.
#[derive(Default)]
struct Added {
    dirs: Vec<PathBuf>,
    files: Vec<PathBuf>,
}

impl Added {
    fn roll_back(&self) {
        // Best effort: the original error is what the user needs to see.
        for file in self.files.iter().rev() {
            let _ = fs::remove_file(file);
        }
        for dir in self.dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
}

/// The target is an existing directory: check, stage beside each file, then rename.
fn write_in_place(target: &Path, plan: &Plan) -> Result<(), WriteError> {
    let existed = check_in_place(target, plan)?;
    let mut added = Added::default();
    let result = stage_and_commit(target, plan, &existed, &mut added);
    if result.is_err() {
        added.roll_back();
    }
    result
}

/// Everything that can be known before writing: no symlinked directory leads
/// outside the project, no file stands where a directory must go and no
/// directory where a file must go. Returns, per planned file, whether it exists.
fn check_in_place(target: &Path, plan: &Plan) -> Result<Vec<bool>, WriteError> {
    let mut existed = Vec::with_capacity(plan.files.len());
    for file in &plan.files {
        let segments: Vec<&str> = file.path.split('/').collect();
        let mut path = target.to_owned();
        for (i, segment) in segments.iter().enumerate() {
            path.push(segment);
            let last = i + 1 == segments.len();
            let meta = match fs::symlink_metadata(&path) {
                Ok(meta) => meta,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    // Everything below a missing directory is missing too.
                    existed.push(false);
                    break;
                }
                Err(e) => return Err(io_err("inspect", &path)(e)),
            };
            if last {
                if meta.is_dir() {
                    return Err(WriteError::Blocked {
                        path,
                        why: "it is a directory, and the project needs a file there",
                    });
                }
                existed.push(true);
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
    Ok(existed)
}

fn stage_and_commit(
    target: &Path,
    plan: &Plan,
    existed: &[bool],
    added: &mut Added,
) -> Result<(), WriteError> {
    let mut staged = Vec::with_capacity(plan.files.len());
    for file in &plan.files {
        let dest = join(target, &file.path);
        let dir = dest.parent().unwrap_or(target).to_owned();
        create_dirs(&dir, added)?;
        let name = dest.file_name().unwrap_or_default().to_string_lossy();
        let prefix = format!(".{name}.rtgen-tmp-");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = if file.executable { 0o777 } else { 0o666 };
            builder.permissions(fs::Permissions::from_mode(mode));
        }
        // Dropped (and so deleted) on any error before it is persisted.
        let mut temp = builder
            .tempfile_in(&dir)
            .map_err(io_err("create a temporary file in", &dir))?;
        temp.write_all(&file.contents)
            .map_err(io_err("write", temp.path()))?;
        staged.push((temp, dest));
    }
    for ((temp, dest), existed) in staged.into_iter().zip(existed) {
        temp.persist(&dest)
            .map_err(|e| io_err("replace", &dest)(e.error))?;
        if !existed {
            added.files.push(dest);
        }
    }
    Ok(())
}

/// `create_dir_all` that records each directory it creates.
fn create_dirs(dir: &Path, added: &mut Added) -> Result<(), WriteError> {
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
        added.dirs.push(path);
    }
    Ok(())
}

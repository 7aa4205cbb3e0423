//! The per-file decisions of an update: base = rtgen's pristine copy, yours = the
//! project on disk, theirs = this rtgen's rendering. Reads the project; writes
//! nothing: the result is a list of [`Change`]s for the all-or-nothing writer and a
//! report per file.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

use super::merge::{self, Merged};
use crate::error::{Error, Result};
use crate::generate::{Change, Plan, PlannedFile, pristine, record};

/// What happened to one file, in the words of the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Word {
    /// Needs the team: conflict markers, or rtgen's binary written beside theirs.
    Conflict,
    /// No longer generated, kept because the team changed it.
    Obsolete,
    Merged,
    Updated,
    Added,
    Removed,
    /// The team's version stays as it is.
    Kept,
}

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Word::Updated => "updated",
            Word::Kept => "kept",
            Word::Merged => "merged",
            Word::Conflict => "conflict",
            Word::Removed => "removed",
            Word::Obsolete => "obsolete",
            Word::Added => "added",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub path: String,
    pub word: Word,
    pub note: Option<String>,
}

#[derive(Debug, Default)]
pub struct UpdatePlan {
    /// The project's files with something to say, in summary order.
    pub files: Vec<FileReport>,
    /// Everything to write or delete, the pristine copy and rtgen.toml included.
    pub changes: Vec<Change>,
}

impl UpdatePlan {
    /// Conflicts or obsolete files: the update needs the team's hands (exit 4).
    pub fn needs_hands(&self) -> bool {
        self.files
            .iter()
            .any(|f| matches!(f.word, Word::Conflict | Word::Obsolete))
    }

    fn report(&mut self, path: &str, word: Word, note: Option<String>) {
        self.files.push(FileReport {
            path: path.to_owned(),
            word,
            note,
        });
    }

    fn write(&mut self, path: &str, contents: Vec<u8>, executable: bool) {
        self.changes.push(Change::Write {
            path: path.to_owned(),
            contents,
            executable,
        });
    }
}

/// Plans the update of the project at `root` to `theirs`. `base` is the pristine copy,
/// or `None` to adopt a project that has none (every difference becomes a conflict
/// for the team to settle once). `label` names rtgen's side of conflicts.
pub fn plan_update(
    root: &Path,
    base: Option<&BTreeMap<String, Vec<u8>>>,
    theirs: &Plan,
    label: &str,
) -> Result<UpdatePlan> {
    let empty = BTreeMap::new();
    let base = base.unwrap_or(&empty);
    let theirs_by_path: BTreeMap<&str, &PlannedFile> = theirs
        .files
        .iter()
        .filter(|f| pristine::is_tracked(&f.path))
        .map(|f| (f.path.as_str(), f))
        .collect();
    let paths: BTreeSet<&str> = base
        .keys()
        .map(String::as_str)
        .chain(theirs_by_path.keys().copied())
        .collect();

    let mut plan = UpdatePlan::default();
    let mut unresolved = Vec::new();
    for path in paths {
        let yours = read_optional(&root.join(path))?;
        if let Some(line) = yours
            .as_deref()
            .and_then(|y| std::str::from_utf8(y).ok())
            .and_then(merge::has_unresolved_markers)
        {
            unresolved.push(format!("{path}:{line}"));
        }
        decide(
            &mut plan,
            path,
            base.get(path).map(Vec::as_slice),
            yours.as_deref(),
            theirs_by_path.get(path).copied(),
            label,
        );
    }
    if !unresolved.is_empty() {
        return Err(Error::usage(
            format!(
                "files still hold conflict markers from an earlier update: {}",
                unresolved.join(", ")
            ),
            Some(
                "resolve each `<<<<<<< yours` ... `>>>>>>>` block (keep what should stay, delete \
                 the markers), commit, then run `rtgen update` again"
                    .to_owned(),
            ),
        ));
    }

    plan_record(&mut plan, root, theirs)?;
    plan_pristine(&mut plan, root, base, &theirs_by_path)?;
    plan.files
        .sort_by(|a, b| (a.word, &a.path).cmp(&(b.word, &b.path)));
    Ok(plan)
}

fn decide(
    plan: &mut UpdatePlan,
    path: &str,
    base: Option<&[u8]>,
    yours: Option<&[u8]>,
    theirs: Option<&PlannedFile>,
    label: &str,
) {
    match (base, yours, theirs) {
        (_, None, None) | (None, Some(_), None) => {}
        (Some(base), None, Some(theirs)) => {
            if !merge::same(base, &theirs.contents) {
                plan.report(
                    path,
                    Word::Kept,
                    Some("you deleted it; rtgen changed it and did not add it back".into()),
                );
            }
        }
        (None, None, Some(theirs)) => {
            plan.write(path, theirs.contents.clone(), theirs.executable);
            plan.report(path, Word::Added, None);
        }
        (Some(base), Some(yours), None) => {
            if merge::same(yours, base) {
                plan.changes.push(Change::Delete {
                    path: path.to_owned(),
                });
                plan.report(path, Word::Removed, None);
            } else {
                plan.report(
                    path,
                    Word::Obsolete,
                    Some(
                        "no longer part of the project; kept because you changed it: delete it, \
                         or keep it as yours"
                            .into(),
                    ),
                );
            }
        }
        (Some(base), Some(yours), Some(theirs)) => {
            if merge::same(yours, base) {
                if !merge::same(base, &theirs.contents) {
                    let contents = merge::in_team_line_endings(yours, &theirs.contents);
                    plan.write(path, contents, theirs.executable);
                    plan.report(path, Word::Updated, None);
                }
            } else if merge::same(base, &theirs.contents) {
                plan.report(
                    path,
                    Word::Kept,
                    Some("your edits; rtgen did not change it".into()),
                );
            } else if !merge::same(yours, &theirs.contents) {
                merge_into(plan, path, Some(base), yours, theirs, label);
            }
        }
        (None, Some(yours), Some(theirs)) => {
            if !merge::same(yours, &theirs.contents) {
                merge_into(plan, path, None, yours, theirs, label);
            }
        }
    }
}

/// Both changed the file (or both created it): merge, or for binary files keep the
/// team's and write rtgen's beside it.
fn merge_into(
    plan: &mut UpdatePlan,
    path: &str,
    base: Option<&[u8]>,
    yours: &[u8],
    theirs: &PlannedFile,
    label: &str,
) {
    let (yours_text, theirs_text) = (text(yours), text(&theirs.contents));
    let base_text = match base {
        Some(base) => text(base),
        None => Some(""),
    };
    let (Some(yours_text), Some(theirs_text), Some(base_text)) =
        (yours_text, theirs_text, base_text)
    else {
        let beside = format!("{path}.rtgen");
        plan.write(&beside, theirs.contents.clone(), theirs.executable);
        plan.report(
            path,
            Word::Conflict,
            Some(format!(
                "binary: yours stays; rtgen's version is in {beside} (keep one, delete the other)"
            )),
        );
        return;
    };
    let merged = match base {
        Some(_) => merge::three_way(base_text, yours_text, theirs_text, label),
        None => merge::two_way(yours_text, theirs_text, label),
    };
    match merged {
        Merged::Clean(bytes) => {
            plan.write(path, bytes, theirs.executable);
            plan.report(
                path,
                Word::Merged,
                Some("your edits and rtgen's changes".into()),
            );
        }
        Merged::Conflicts { bytes, count } => {
            plan.write(path, bytes, theirs.executable);
            let s = if count == 1 { "" } else { "s" };
            plan.report(
                path,
                Word::Conflict,
                Some(format!(
                    "{count} conflict{s}: look for `<<<<<<< yours`, keep what should stay, \
                     delete the markers"
                )),
            );
        }
    }
}

/// rtgen.toml is rtgen's: rewritten whenever its contents change, never merged.
fn plan_record(plan: &mut UpdatePlan, root: &Path, theirs: &Plan) -> Result<()> {
    let Some(new) = theirs.files.iter().find(|f| f.path == record::FILE_NAME) else {
        return Ok(());
    };
    let current = read_optional(&root.join(record::FILE_NAME))?;
    if current.as_deref() != Some(new.contents.as_slice()) {
        plan.write(&new.path, new.contents.clone(), new.executable);
        plan.report(&new.path, Word::Updated, None);
    }
    Ok(())
}

/// The pristine copy becomes exactly this rendering.
fn plan_pristine(
    plan: &mut UpdatePlan,
    root: &Path,
    base: &BTreeMap<String, Vec<u8>>,
    theirs: &BTreeMap<&str, &PlannedFile>,
) -> Result<()> {
    let readme = pristine::readme();
    if read_optional(&root.join(&readme.path))?.as_deref() != Some(readme.contents.as_slice()) {
        plan.write(&readme.path, readme.contents, false);
    }
    for (path, file) in theirs {
        if base.get(*path) != Some(&file.contents) {
            plan.write(&pristine::stored_path(path), file.contents.clone(), false);
        }
    }
    for path in base.keys().filter(|p| !theirs.contains_key(p.as_str())) {
        plan.changes.push(Change::Delete {
            path: pristine::stored_path(path),
        });
    }
    Ok(())
}

/// The text of `bytes`, unless they are binary.
fn text(bytes: &[u8]) -> Option<&str> {
    if merge::is_binary(bytes) {
        None
    } else {
        std::str::from_utf8(bytes).ok()
    }
}

/// A file's bytes, or `None` when there is none.
fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(Error::io("read", path, err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn theirs(contents: &[u8], executable: bool) -> PlannedFile {
        PlannedFile {
            path: "f".into(),
            contents: contents.to_vec(),
            executable,
        }
    }

    fn decided(base: Option<&[u8]>, yours: Option<&[u8]>, new: Option<&PlannedFile>) -> UpdatePlan {
        let mut plan = UpdatePlan::default();
        decide(&mut plan, "f", base, yours, new, "rtgen 9");
        plan
    }

    #[test]
    fn binary_files_are_never_merged() {
        let plan = decided(
            Some(b"\0old"),
            Some(b"\0mine"),
            Some(&theirs(b"\0new", false)),
        );
        assert_eq!(plan.files[0].word, Word::Conflict);
        assert_eq!(
            plan.changes,
            [Change::Write {
                path: "f.rtgen".into(),
                contents: b"\0new".to_vec(),
                executable: false
            }]
        );
    }

    #[test]
    fn a_file_the_team_deleted_is_not_added_back() {
        let plan = decided(Some(b"old\n"), None, Some(&theirs(b"new\n", false)));
        assert!(plan.changes.is_empty());
        assert_eq!(plan.files[0].word, Word::Kept);
        let unchanged = decided(Some(b"same\n"), None, Some(&theirs(b"same\n", false)));
        assert!(unchanged.files.is_empty() && unchanged.changes.is_empty());
    }

    #[test]
    fn a_file_both_created_is_merged_and_the_executable_bit_is_rtgens() {
        let plan = decided(None, Some(b"a\nmine\n"), Some(&theirs(b"a\nrtgen\n", true)));
        assert_eq!(plan.files[0].word, Word::Conflict);
        assert_eq!(
            plan.changes,
            [Change::Write {
                path: "f".into(),
                contents: b"a\n<<<<<<< yours\nmine\n=======\nrtgen\n>>>>>>> rtgen 9\n".to_vec(),
                executable: true
            }]
        );
        let updated = decided(
            Some(b"x\r\n".as_slice()),
            Some(b"x\r\n"),
            Some(&theirs(b"y\n", true)),
        );
        assert_eq!(updated.files[0].word, Word::Updated);
        assert_eq!(
            updated.changes,
            [Change::Write {
                path: "f".into(),
                contents: b"y\r\n".to_vec(),
                executable: true
            }]
        );
    }

    #[test]
    fn removed_when_untouched_obsolete_when_changed() {
        let removed = decided(Some(b"old\n"), Some(b"old\n"), None);
        assert_eq!(removed.changes, [Change::Delete { path: "f".into() }]);
        let obsolete = decided(Some(b"old\n"), Some(b"mine\n"), None);
        assert!(obsolete.changes.is_empty());
        assert!(obsolete.needs_hands());
    }
}

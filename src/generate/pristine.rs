//! rtgen's copy of what it rendered, kept in the project under `.rtgen/` so that
//! `rtgen update` can tell the team's edits from rtgen's changes (the base of its
//! three-way merge).
//!
//! Stored so that no tool mistakes it for part of the project: every file carries
//! the suffix `.pristine` (so there is no `Cargo.toml`, `.gitignore` or `Dockerfile`
//! for cargo, rust-analyzer, git or Docker to pick up), and the generated
//! `.dockerignore` lists `.rtgen/`. It is committed with the project.
//!
//! Not in it: `rtgen.toml` (rtgen's record, rewritten by every update and read as
//! its input, never merged) and anything random or secret such as the development
//! `.env`, which update never compares, merges or touches.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use super::plan::{Plan, PlannedFile};
use super::record;

pub const DIR: &str = ".rtgen";
const FILES: &str = "files";
const SUFFIX: &str = ".pristine";
const README: &str = "README.md";

const README_TEXT: &str = "\
# rtgen's copy; do not edit

These files are what rtgen rendered for this project the last time it wrote it
(`rtgen new` or `rtgen update`), each with `.pristine` added to its name. `rtgen
update` compares them with your files to tell your edits from rtgen's changes, and
rewrites this folder itself. Commit it with the project; do not edit or delete it
(without it, `rtgen update --adopt` has to start over with a two-way merge).
";

/// Whether `path` (relative to the project root) belongs in the pristine copy.
pub fn is_tracked(path: &str) -> bool {
    path != record::FILE_NAME && path != ".env" && !path.starts_with(".env.")
}

/// Where the pristine copy of `path` is stored, relative to the project root.
pub fn stored_path(path: &str) -> String {
    format!("{DIR}/{FILES}/{path}{SUFFIX}")
}

/// The files of the pristine copy of `plan`, README included.
pub fn copy(plan: &Plan) -> Vec<PlannedFile> {
    let mut files = vec![readme()];
    files.extend(
        plan.files
            .iter()
            .filter(|file| is_tracked(&file.path))
            .map(|file| PlannedFile {
                path: stored_path(&file.path),
                contents: file.contents.clone(),
                executable: false,
            }),
    );
    files
}

pub fn readme() -> PlannedFile {
    PlannedFile {
        path: format!("{DIR}/{README}"),
        contents: README_TEXT.as_bytes().to_vec(),
        executable: false,
    }
}

/// `plan` with its pristine copy added: what `rtgen new` writes.
pub fn with_copy(plan: &Plan) -> Plan {
    let mut files = plan.files.clone();
    files.extend(copy(plan));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Plan { files }
}

/// The pristine copy stored in the project at `root`, by project path; `None` when
/// the project has no `.rtgen/` folder (generated before rtgen kept one).
pub fn read(root: &Path) -> io::Result<Option<BTreeMap<String, Vec<u8>>>> {
    let dir = root.join(DIR);
    if !dir.is_dir() {
        return Ok(None);
    }
    let mut files = BTreeMap::new();
    let base = dir.join(FILES);
    if base.is_dir() {
        walk(&base, "", &mut files)?;
    }
    Ok(Some(files))
}

fn walk(dir: &Path, prefix: &str, files: &mut BTreeMap<String, Vec<u8>>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), &format!("{prefix}{name}/"), files)?;
        } else if let Some(stem) = name.strip_suffix(SUFFIX) {
            files.insert(format!("{prefix}{stem}"), fs::read(entry.path())?);
        }
        // Anything else was not written by rtgen; the next update leaves it alone.
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_stored_file_keeps_a_name_tools_recognise() {
        assert_eq!(
            stored_path("Cargo.toml"),
            ".rtgen/files/Cargo.toml.pristine"
        );
        assert_eq!(
            stored_path("src/lib.rs"),
            ".rtgen/files/src/lib.rs.pristine"
        );
        assert!(!is_tracked("rtgen.toml"));
        assert!(!is_tracked(".env"));
        assert!(is_tracked(".gitignore"));
    }

    #[test]
    fn a_written_copy_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let plan = Plan {
            files: vec![
                PlannedFile {
                    path: "Cargo.toml".into(),
                    contents: b"[package]\n".to_vec(),
                    executable: false,
                },
                PlannedFile {
                    path: "rtgen.toml".into(),
                    contents: b"x".to_vec(),
                    executable: false,
                },
            ],
        };
        for file in copy(&plan) {
            let path = dir.path().join(&file.path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, &file.contents).unwrap();
        }
        let stored = read(dir.path()).unwrap().unwrap();
        assert_eq!(stored.keys().collect::<Vec<_>>(), ["Cargo.toml"]);
        assert!(read(tempfile::tempdir().unwrap().path()).unwrap().is_none());
    }
}

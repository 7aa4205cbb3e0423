//! Merging one text file: three ways (pristine, yours, rtgen's new rendering) with
//! `diffy`, or two ways (yours, rtgen's) when there is no pristine base.
//!
//! Conflicts are written as git writes them, so editors and `git diff` recognise them:
//! `<<<<<<< yours` / `=======` / `>>>>>>> rtgen <version>`. diffy labels its markers
//! `ours` and `theirs` with no option to change them, so [`relabel`] rewrites exactly
//! the marker lines diffy wrote (diffy 0.5, `MergeOptions` has no labels).
//!
//! Line endings follow the team's file: all three sides are merged with `\n` and the
//! result gets `\r\n` back when the team's file uses it.

use diffy::{ConflictStyle, DiffOptions, IncompleteHunkStyle, Line, MergeOptions};

/// What a merge produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    Clean(Vec<u8>),
    /// The merge with `count` conflict regions marked in it.
    Conflicts {
        bytes: Vec<u8>,
        count: usize,
    },
}

/// Files rtgen never merges line by line: NUL bytes or not UTF-8.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes.contains(&0) || std::str::from_utf8(bytes).is_err()
}

/// Equal as text, whatever the line endings (a checkout with `core.autocrlf` is not an
/// edit); byte for byte otherwise.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    match (std::str::from_utf8(a), std::str::from_utf8(b)) {
        (Ok(a), Ok(b)) if !is_binary(a.as_bytes()) && !is_binary(b.as_bytes()) => {
            to_lf(a) == to_lf(b)
        }
        _ => a == b,
    }
}

/// rtgen's `theirs` with the line endings of the team's `yours`.
pub fn in_team_line_endings(yours: &[u8], theirs: &[u8]) -> Vec<u8> {
    match (std::str::from_utf8(yours), std::str::from_utf8(theirs)) {
        (Ok(yours), Ok(theirs)) if !is_binary(theirs.as_bytes()) => {
            restore_endings(yours, to_lf(theirs)).into_bytes()
        }
        _ => theirs.to_vec(),
    }
}

/// Three-way merge of text files; `label` names rtgen's side (`rtgen 0.2.0`).
pub fn three_way(base: &str, yours: &str, theirs: &str, label: &str) -> Merged {
    let mut options = MergeOptions::new();
    options
        .set_conflict_style(ConflictStyle::Merge)
        .set_incomplete_hunk_style(IncompleteHunkStyle::Git);
    let merged = options.merge(&to_lf(base), &to_lf(yours), &to_lf(theirs));
    match merged {
        Ok(text) => Merged::Clean(restore_endings(yours, text).into_bytes()),
        Err(text) => {
            let (text, count) = relabel(&text, label);
            Merged::Conflicts {
                bytes: restore_endings(yours, text).into_bytes(),
                count,
            }
        }
    }
}

/// Two-way merge for a file without a base (`--adopt`, or a file the team created
/// where rtgen now generates one): lines both have stay, every stretch where they
/// differ becomes a conflict. Merging against an empty base, as git would, makes the
/// whole file one conflict; hunks show the team only what differs.
pub fn two_way(yours: &str, theirs: &str, label: &str) -> Merged {
    let (yours_lf, theirs_lf) = (to_lf(yours), to_lf(theirs));
    let patch = DiffOptions::new()
        .set_context_len(0)
        .create_patch(&yours_lf, &theirs_lf);
    let lines: Vec<&str> = yours_lf.split_inclusive('\n').collect();
    let mut out = String::new();
    let mut next = 0;
    let mut count = 0;
    for hunk in patch.hunks() {
        let range = hunk.old_range();
        // diffy counts from 1, and an empty range starts at the line before it.
        let start = if range.is_empty() {
            range.start()
        } else {
            range.start() - 1
        };
        lines[next..start]
            .iter()
            .for_each(|line| out.push_str(line));
        let (mut mine, mut rtgen) = (String::new(), String::new());
        for line in hunk.lines() {
            match line {
                Line::Delete(text) => push_line(&mut mine, text),
                Line::Insert(text) => push_line(&mut rtgen, text),
                Line::Context(text) => {
                    push_line(&mut mine, text);
                    push_line(&mut rtgen, text);
                }
            }
        }
        out.push_str(&format!(
            "<<<<<<< yours\n{mine}=======\n{rtgen}>>>>>>> {label}\n"
        ));
        count += 1;
        next = start + range.len();
    }
    lines[next..].iter().for_each(|line| out.push_str(line));
    let text = restore_endings(yours, out);
    if count == 0 {
        Merged::Clean(text.into_bytes())
    } else {
        Merged::Conflicts {
            bytes: text.into_bytes(),
            count,
        }
    }
}

/// A line inside a conflict, with the newline a last line may lack, so that the
/// marker after it starts a line of its own (as `git merge-file` does).
fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push('\n');
    }
}

/// diffy's `ours`/`theirs` marker lines, named for the team and for rtgen.
fn relabel(text: &str, label: &str) -> (String, usize) {
    let mut out = String::with_capacity(text.len());
    let mut count = 0;
    for line in text.split_inclusive('\n') {
        match line {
            "<<<<<<< ours\n" => {
                out.push_str("<<<<<<< yours\n");
                count += 1;
            }
            ">>>>>>> theirs\n" => out.push_str(&format!(">>>>>>> {label}\n")),
            other => out.push_str(other),
        }
    }
    (out, count)
}

/// Whether the team's file still holds conflict markers an earlier update wrote.
pub fn has_unresolved_markers(text: &str) -> Option<usize> {
    text.lines()
        .position(|line| line == "<<<<<<< yours")
        .map(|index| index + 1)
}

fn to_lf(text: &str) -> String {
    text.replace("\r\n", "\n")
}

fn uses_crlf(text: &str) -> bool {
    let crlf = text.matches("\r\n").count();
    crlf > 0 && crlf * 2 >= text.matches('\n').count()
}

fn restore_endings(yours: &str, merged_lf: String) -> String {
    if uses_crlf(yours) {
        merged_lf.replace('\n', "\r\n")
    } else {
        merged_lf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABEL: &str = "rtgen 9.9.9";

    #[test]
    fn separate_changes_merge_cleanly() {
        let merged = three_way("a\nb\nc\n", "a\nmine\nb\nc\n", "a\nb\nc\nrtgen\n", LABEL);
        assert_eq!(merged, Merged::Clean(b"a\nmine\nb\nc\nrtgen\n".to_vec()));
    }

    #[test]
    fn overlapping_changes_get_labelled_markers() {
        let merged = three_way("a\nb\nc\n", "a\nmine\nc\n", "a\nnew\nc\n", LABEL);
        assert_eq!(
            merged,
            Merged::Conflicts {
                bytes: b"a\n<<<<<<< yours\nmine\n=======\nnew\n>>>>>>> rtgen 9.9.9\nc\n".to_vec(),
                count: 1
            }
        );
    }

    #[test]
    fn line_endings_follow_the_team() {
        let merged = three_way("a\nb\n", "a\r\nb\r\nmine\r\n", "rtgen\na\nb\n", LABEL);
        assert_eq!(
            merged,
            Merged::Clean(b"rtgen\r\na\r\nb\r\nmine\r\n".to_vec())
        );
        assert!(same(b"a\r\nb\r\n", b"a\nb\n"));
        assert_eq!(in_team_line_endings(b"x\r\n", b"a\nb\n"), b"a\r\nb\r\n");
    }

    #[test]
    fn two_way_marks_only_what_differs() {
        let merged = two_way("a\nb\nc\nd\n", "a\nX\nc\nd\nY\n", LABEL);
        assert_eq!(
            merged,
            Merged::Conflicts {
                bytes: b"a\n<<<<<<< yours\nb\n=======\nX\n>>>>>>> rtgen 9.9.9\nc\nd\n\
                         <<<<<<< yours\n=======\nY\n>>>>>>> rtgen 9.9.9\n"
                    .to_vec(),
                count: 2
            }
        );
        assert_eq!(
            two_way("same\n", "same\n", LABEL),
            Merged::Clean(b"same\n".to_vec())
        );
        // A last line without a newline still leaves the marker on a line of its own.
        let Merged::Conflicts { bytes, .. } = two_way("a\nb", "a\nc", LABEL) else {
            panic!("expected a conflict");
        };
        assert_eq!(
            bytes,
            b"a\n<<<<<<< yours\nb\n=======\nc\n>>>>>>> rtgen 9.9.9\n"
        );
    }

    #[test]
    fn binary_means_nul_or_not_utf8() {
        assert!(is_binary(b"\x89PNG\r\n\x1a\n\0"));
        assert!(is_binary(&[0xff, 0xfe]));
        assert!(!is_binary("héllo\n".as_bytes()));
    }
}

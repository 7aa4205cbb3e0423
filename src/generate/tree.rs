//! `--dry-run`: the file tree a plan would write, with sizes.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::plan::Plan;

#[derive(Default)]
struct Node {
    dirs: BTreeMap<String, Node>,
    /// name -> (size, executable)
    files: BTreeMap<String, (u64, bool)>,
}

/// Renders the tree rooted at `root` (the target directory as the user named it).
pub fn render(root: &str, plan: &Plan) -> String {
    let mut tree = Node::default();
    for file in &plan.files {
        let mut node = &mut tree;
        let mut segments: Vec<&str> = file.path.split('/').collect();
        let name = segments.pop().unwrap_or_default();
        for dir in segments {
            node = node.dirs.entry(dir.to_owned()).or_default();
        }
        node.files.insert(
            name.to_owned(),
            (file.contents.len() as u64, file.executable),
        );
    }
    let mut out = format!(
        "{}/  ({} files, {})\n",
        root.trim_end_matches('/'),
        plan.files.len(),
        human(plan.total_bytes())
    );
    draw(&tree, "", &mut out);
    out
}

fn draw(node: &Node, indent: &str, out: &mut String) {
    // Directories first, then files, each alphabetically: the layout people
    // expect from their editor's file tree.
    let count = node.dirs.len() + node.files.len();
    let items = node
        .dirs
        .iter()
        .map(|(name, dir)| (name, Some(dir), 0, false))
        .chain(
            node.files
                .iter()
                .map(|(name, &(size, x))| (name, None, size, x)),
        );
    for (i, (name, dir, size, executable)) in items.enumerate() {
        let last = i + 1 == count;
        let branch = if last { "└── " } else { "├── " };
        match dir {
            Some(dir) => {
                let _ = writeln!(out, "{indent}{branch}{name}/");
                let deeper = format!("{indent}{}", if last { "    " } else { "│   " });
                draw(dir, &deeper, out);
            }
            None => {
                let mark = if executable { "  (executable)" } else { "" };
                let _ = writeln!(out, "{indent}{branch}{name}  {}{mark}", human(size));
            }
        }
    }
}

/// Sizes as people read them: exact bytes below 1 KiB, one decimal above.
fn human(bytes: u64) -> String {
    const KIB: u64 = 1024;
    if bytes < KIB {
        format!("{bytes} B")
    } else if bytes < KIB * KIB {
        format!("{:.1} KiB", bytes as f64 / KIB as f64)
    } else {
        format!("{:.1} MiB", bytes as f64 / (KIB * KIB) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::plan::PlannedFile;

    fn file(path: &str, size: usize, executable: bool) -> PlannedFile {
        PlannedFile {
            path: path.into(),
            contents: vec![b'x'; size],
            executable,
        }
    }

    #[test]
    fn draws_directories_first_with_sizes() {
        let plan = Plan {
            files: vec![
                file("Cargo.toml", 300, false),
                file("bin/run.sh", 20, true),
                file("src/main.rs", 2048, false),
                file("src/transport/sse.rs", 1536, false),
                file("zz.txt", 0, false),
            ],
        };
        let expected = "\
demo/  (5 files, 3.8 KiB)
├── bin/
│   └── run.sh  20 B  (executable)
├── src/
│   ├── transport/
│   │   └── sse.rs  1.5 KiB
│   └── main.rs  2.0 KiB
├── Cargo.toml  300 B
└── zz.txt  0 B
";
        assert_eq!(render("demo/", &plan), expected);
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(0), "0 B");
        assert_eq!(human(1023), "1023 B");
        assert_eq!(human(1024), "1.0 KiB");
        assert_eq!(human(5 * 1024 * 1024), "5.0 MiB");
    }
}

//! `templates/manifest.toml`: the one place that says which template becomes
//! which file of the generated project, for which strategy and fan-out.
//! The format is documented for template authors in `templates/README.md`.

use std::collections::BTreeSet;
use std::fmt;

use include_dir::Dir;
use serde::Deserialize;

use crate::answers::{Fanout, Strategy};

pub const MANIFEST: &str = "manifest.toml";
/// Files at the root of `templates/` that describe the templates and are never output.
const META_FILES: &[&str] = &[MANIFEST, "README.md"];

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default, rename = "file")]
    files: Vec<Entry>,
}

/// One `[[file]]` of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Output path relative to the project root, `/`-separated; itself a template.
    pub path: String,
    /// Source path relative to `templates/`.
    pub template: String,
    #[serde(default)]
    pub when: When,
    /// Whether to render the source with minijinja; by default only `*.j2` sources are.
    render: Option<bool>,
    #[serde(default)]
    pub executable: bool,
}

/// The combinations an entry belongs to; an absent list means "every value".
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    pub strategy: Option<Vec<Strategy>>,
    pub fanout: Option<Vec<Fanout>>,
}

impl Entry {
    pub fn renders(&self) -> bool {
        self.render
            .unwrap_or_else(|| self.template.ends_with(".j2"))
    }

    pub fn applies_to(&self, strategy: Strategy, fanout: Fanout) -> bool {
        self.when
            .strategy
            .as_ref()
            .is_none_or(|s| s.contains(&strategy))
            && self
                .when
                .fanout
                .as_ref()
                .is_none_or(|f| f.contains(&fanout))
    }
}

/// What is wrong with the templates. Users never cause this (the templates
/// are embedded in rtgen), so messages are written for template authors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(pub String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

fn err(message: impl Into<String>) -> TemplateError {
    TemplateError(message.into())
}

/// The parsed manifest together with the template tree it describes.
#[derive(Debug, Clone)]
pub struct Templates {
    pub dir: &'static Dir<'static>,
    pub entries: Vec<Entry>,
}

impl Templates {
    /// Parses `manifest.toml` at the root of `dir` and checks that every
    /// entry names an existing template. The full cross-check against the
    /// tree is [`Templates::check_tree`].
    pub fn load(dir: &'static Dir<'static>) -> Result<Self, TemplateError> {
        let file = dir
            .get_file(MANIFEST)
            .ok_or_else(|| err(format!("templates/{MANIFEST} is missing")))?;
        let text = file
            .contents_utf8()
            .ok_or_else(|| err(format!("templates/{MANIFEST} is not UTF-8")))?;
        let raw: RawManifest = toml::from_str(text)
            .map_err(|e| err(format!("templates/{MANIFEST} is invalid: {e}")))?;
        for (i, entry) in raw.files.iter().enumerate() {
            let at = format!(
                "templates/{MANIFEST}, [[file]] #{} (path = {:?})",
                i + 1,
                entry.path
            );
            if dir.get_file(&entry.template).is_none() {
                return Err(err(format!(
                    "{at}: template {:?} does not exist under templates/",
                    entry.template
                )));
            }
            if entry.when.strategy.as_ref().is_some_and(Vec::is_empty)
                || entry.when.fanout.as_ref().is_some_and(Vec::is_empty)
            {
                return Err(err(format!(
                    "{at}: an empty list in `when` selects no project; remove the key to mean all"
                )));
            }
        }
        Ok(Self {
            dir,
            entries: raw.files,
        })
    }

    /// The entries for one combination, in manifest order.
    pub fn select(&self, strategy: Strategy, fanout: Fanout) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(move |e| e.applies_to(strategy, fanout))
    }

    /// Every file of the tree is either listed, a partial (a name or folder
    /// starting with `_`, for `{% include %}`), or a root meta file: a
    /// template nobody listed is a file some project silently lacks.
    pub fn check_tree(&self) -> Result<(), TemplateError> {
        let listed: BTreeSet<&str> = self.entries.iter().map(|e| e.template.as_str()).collect();
        let mut unlisted = Vec::new();
        for path in all_files(self.dir) {
            let is_meta = META_FILES.contains(&path.as_str());
            let is_partial = path.split('/').any(|part| part.starts_with('_'));
            if !is_meta && !is_partial && !listed.contains(path.as_str()) {
                unlisted.push(path);
            }
        }
        if unlisted.is_empty() {
            Ok(())
        } else {
            Err(err(format!(
                "templates not listed in templates/{MANIFEST}: {}; add a [[file]] for each \
                 (or prefix the name with `_` if it is only included by other templates)",
                unlisted.join(", ")
            )))
        }
    }
}

/// Every file under `dir`, as `/`-separated paths relative to its root.
pub fn all_files(dir: &Dir<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        out.extend(
            d.files()
                .map(|f| f.path().to_string_lossy().replace('\\', "/")),
        );
        stack.extend(d.dirs());
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use include_dir::include_dir;

    static GOOD: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/tests/fixtures/templates");
    static UNLISTED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/tests/fixtures/bad/unlisted");
    static MISSING: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/tests/fixtures/bad/missing");
    static UNKNOWN_KEY: Dir<'static> =
        include_dir!("$CARGO_MANIFEST_DIR/tests/fixtures/bad/unknown_key");

    #[test]
    fn the_fixture_manifest_is_valid() {
        let t = Templates::load(&GOOD).unwrap();
        t.check_tree().unwrap();
        assert!(t.entries.iter().any(|e| e.executable));
        assert!(t.entries.iter().any(|e| !e.renders()));
    }

    #[test]
    fn selection_honours_when() {
        let t = Templates::load(&GOOD).unwrap();
        let ws: Vec<&str> = t
            .select(Strategy::Websocket, Fanout::Memory)
            .map(|e| e.template.as_str())
            .collect();
        assert!(ws.iter().any(|p| p.contains("ws")), "{ws:?}");
        assert!(
            !ws.iter().any(|p| p.contains("sse") || p.contains("redis")),
            "{ws:?}"
        );
    }

    #[test]
    fn render_defaults_to_the_j2_suffix() {
        let entry = |template: &str, render| Entry {
            path: "x".into(),
            template: template.into(),
            when: When::default(),
            render,
            executable: false,
        };
        assert!(entry("a.rs.j2", None).renders());
        assert!(!entry("a.rs", None).renders());
        assert!(entry("a.rs", Some(true)).renders());
        assert!(!entry("a.rs.j2", Some(false)).renders());
    }

    #[test]
    fn errors_name_the_problem() {
        let e = Templates::load(&UNLISTED)
            .unwrap()
            .check_tree()
            .unwrap_err();
        assert!(e.0.contains("service/forgotten.txt"), "{e}");
        assert!(!e.0.contains("_partial"), "{e}");

        let e = Templates::load(&MISSING).unwrap_err();
        assert!(
            e.0.contains("[[file]] #2") && e.0.contains("service/nope.rs"),
            "{e}"
        );

        let e = Templates::load(&UNKNOWN_KEY).unwrap_err();
        assert!(
            e.0.contains("manifest.toml") && e.0.contains("executible"),
            "{e}"
        );
        assert!(e.0.contains("line"), "{e}");
    }
}

//! From answers and a recommendation to the exact bytes of every file of the
//! project, in memory. Nothing touches the disk before the whole plan exists,
//! so a template error can never leave a half-written project.

use std::collections::BTreeMap;

use minijinja::Value;
use minijinja::value::Serde;

use super::context::Context;
use super::manifest::{Entry, TemplateError, Templates};
use super::name::ProjectName;
use super::pristine;
use super::record;
use super::render::{Renderer, describe};
use crate::advisor::Recommendation;
use crate::answers::Answers;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// Relative to the project root, `/`-separated, validated: no `..`, no
    /// absolute paths, no empty segments.
    pub path: String,
    pub contents: Vec<u8>,
    pub executable: bool,
}

/// Every file of one project, sorted by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub files: Vec<PlannedFile>,
}

impl Plan {
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.contents.len() as u64).sum()
    }
}

/// Renders the project `name` for `answers` and `rec`. `answers` are recorded in
/// `rtgen.toml` as given (with `name` set), `rec`'s choices apart in its `[rtgen]` table.
pub fn plan(
    templates: &Templates,
    name: &ProjectName,
    answers: &Answers,
    rec: &Recommendation,
) -> Result<Plan, TemplateError> {
    let mut answers = answers.clone();
    answers.name = Some(name.as_str().to_owned());
    let ctx = Value::from(Serde(Context::new(name, &answers, rec)));
    let renderer = Renderer::new(templates.dir);

    // BTreeMap: sorted output, and a duplicate is detected on insert.
    let mut files: BTreeMap<String, PlannedFile> = BTreeMap::new();
    for entry in templates.select(rec.strategy, rec.fanout) {
        let file = plan_entry(templates, &renderer, entry, &ctx)?;
        if file.path == pristine::DIR || file.path.starts_with(&format!("{}/", pristine::DIR)) {
            return Err(TemplateError(format!(
                "{}: {} is rtgen's own folder; no template may write into it",
                at(entry),
                pristine::DIR
            )));
        }
        if file.path == record::FILE_NAME {
            return Err(TemplateError(format!(
                "{}: rtgen writes {} itself; no template may produce it",
                at(entry),
                record::FILE_NAME
            )));
        }
        if files.contains_key(&file.path) {
            return Err(TemplateError(format!(
                "{}: another [[file]] already produces {:?} for strategy {}, fanout {}; \
                 make their `when` conditions exclusive",
                at(entry),
                file.path,
                rec.strategy,
                rec.fanout
            )));
        }
        files.insert(file.path.clone(), file);
    }
    let record = record::render(&answers, rec);
    files.insert(
        record::FILE_NAME.to_owned(),
        PlannedFile {
            path: record::FILE_NAME.to_owned(),
            contents: record.into_bytes(),
            executable: false,
        },
    );

    // A file `a` and a file `a/b` cannot both exist; find it here, not halfway
    // through writing.
    let paths: Vec<&String> = files.keys().collect();
    for pair in paths.windows(2) {
        if let [a, b] = pair
            && b.starts_with(a.as_str())
            && b.as_bytes().get(a.len()) == Some(&b'/')
        {
            return Err(TemplateError(format!(
                "templates produce both the file {a:?} and the file {b:?} inside a directory of \
                 the same name"
            )));
        }
    }
    Ok(Plan {
        files: files.into_values().collect(),
    })
}

fn at(entry: &Entry) -> String {
    format!(
        "templates/manifest.toml, [[file]] path = {:?}, template = {:?}",
        entry.path, entry.template
    )
}

fn plan_entry(
    templates: &Templates,
    renderer: &Renderer,
    entry: &Entry,
    ctx: &Value,
) -> Result<PlannedFile, TemplateError> {
    let path = renderer
        .render_inline(&format!("path of {}", entry.template), &entry.path, ctx)
        .map_err(|e| TemplateError(format!("{}: {}", at(entry), describe(&e))))?;
    check_output_path(&path)
        .map_err(|why| TemplateError(format!("{}: output path {path:?} {why}", at(entry))))?;
    let contents = if entry.renders() {
        renderer
            .render_file(&entry.template, ctx)
            .map_err(|e| TemplateError(format!("{}: {}", at(entry), describe(&e))))?
            .into_bytes()
    } else {
        templates
            .dir
            .get_file(&entry.template)
            .ok_or_else(|| TemplateError(format!("{}: template does not exist", at(entry))))?
            .contents()
            .to_vec()
    };
    Ok(PlannedFile {
        path,
        contents,
        executable: entry.executable,
    })
}

/// A rendered output path must stay inside the project on every platform.
fn check_output_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("is empty");
    }
    if path.starts_with('/') {
        return Err("is absolute; paths are relative to the project root");
    }
    if path.contains('\\') {
        return Err("contains `\\`; separate directories with `/`");
    }
    if path
        .chars()
        .any(|c| c.is_control() || matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|'))
    {
        return Err("contains a character that is not allowed in file names on Windows");
    }
    for segment in path.split('/') {
        match segment {
            "" => return Err("has an empty segment (`//` or a trailing `/`)"),
            "." | ".." => return Err("has a `.` or `..` segment"),
            s if s.ends_with(['.', ' ']) => {
                return Err("has a segment ending in `.` or a space, which Windows drops");
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_paths_stay_inside_the_project() {
        for ok in [
            "a",
            "src/main.rs",
            ".gitignore",
            "deploy/nginx.conf",
            "a-b_c/d.e",
        ] {
            assert_eq!(check_output_path(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            "a/",
            "./a",
            "a\\b",
            "a:b",
            "x.",
            "a\0b",
        ] {
            assert!(check_output_path(bad).is_err(), "{bad}");
        }
    }
}

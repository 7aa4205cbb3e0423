//! `rtgen.toml`, written into every generated project: the answers it was
//! generated from as the user gave them (a valid answers file, so it can be fed
//! back to `rtgen new --answers`), rtgen's own choices apart in `[rtgen]` (with
//! its version and a fingerprint of its templates, for `rtgen update`), and the
//! recommendation for the reader.
//!
//! PROVISIONAL (branch `update`): issue 12 reshapes this file; `[rtgen]` and
//! [`templates_fingerprint`] stand in for what that work provides.

use serde::Serialize;

use super::manifest::TemplateError;
use crate::advisor::Recommendation;
use crate::answers::Answers;

pub const FILE_NAME: &str = "rtgen.toml";
/// The table of `rtgen.toml` that records rtgen's choices, not the user's answers.
pub const RTGEN_TABLE: &str = "rtgen";

/// A fingerprint of the templates compiled into this rtgen: FNV-1a (64 bit) over
/// every file's path and bytes in path order. It only has to change when a template
/// does; a hand-written hash spares a dependency for that.
pub fn templates_fingerprint() -> String {
    fn feed(hash: &mut u64, bytes: &[u8]) {
        for &byte in bytes {
            *hash ^= u64::from(byte);
            *hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn walk<'a>(dir: &'a include_dir::Dir<'a>, files: &mut Vec<&'a include_dir::File<'a>>) {
        files.extend(dir.files());
        for sub in dir.dirs() {
            walk(sub, files);
        }
    }
    let mut files = Vec::new();
    walk(super::embedded(), &mut files);
    files.sort_by_key(|file| file.path());
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for file in files {
        feed(&mut hash, file.path().to_string_lossy().as_bytes());
        feed(&mut hash, &[0]);
        feed(&mut hash, &(file.contents().len() as u64).to_le_bytes());
        feed(&mut hash, file.contents());
    }
    format!("{hash:016x}")
}

/// The contents of `rtgen.toml`. `answers` must already carry the project name;
/// `[generate]` holds only what the user chose.
pub fn render(answers: &Answers, rec: &Recommendation) -> Result<String, TemplateError> {
    let name = answers.name.as_deref().unwrap_or("NAME");
    let version = env!("CARGO_PKG_VERSION");
    let body = toml::to_string(answers)
        .map_err(|e| TemplateError(format!("cannot write {FILE_NAME} (answers): {e}")))?;

    // The answers parser accepts only the answers schema, so the
    // recommendation goes in as commented-out TOML: readable, and still
    // machine-extractable by stripping the `# ` prefixes.
    #[derive(Serialize)]
    struct Wrapper<'a> {
        recommendation: &'a Recommendation,
    }
    let rec_toml = toml::to_string(&Wrapper {
        recommendation: rec,
    })
    .map_err(|e| TemplateError(format!("cannot write {FILE_NAME} (recommendation): {e}")))?;

    let mut out = format!(
        "# Answers that generated `{name}`, recorded by rtgen {version}.\n\
         # This is an answers file: `rtgen new OTHER --answers {name}/rtgen.toml --yes`\n\
         # generates the same project under another name; `rtgen update` changes this\n\
         # project when the answers or rtgen change. [rtgen] records rtgen's own choices.\n\n"
    );
    out.push_str(&body);
    out.push_str(&format!(
        "\n[{RTGEN_TABLE}]\nversion = \"{version}\"\nstrategy = \"{}\"\nupstream = \"{}\"\n\
         fanout = \"{}\"\ntemplates = \"{}\"\n",
        rec.strategy,
        rec.upstream,
        rec.fanout,
        templates_fingerprint()
    ));
    out.push_str(
        "\n# The recommendation at generation time, for reference (rtgen does not read it):\n#\n",
    );
    for line in rec_toml.lines() {
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

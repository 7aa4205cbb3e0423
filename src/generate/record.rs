//! `rtgen.toml`, written into every generated project: the normalized answers
//! it was generated from (a valid answers file, so it can be fed back to
//! `rtgen new --answers`), with `[generate]` pinned to the strategy and fan-out
//! that were chosen, and the recommendation for the reader.

use serde::Serialize;

use super::manifest::TemplateError;
use crate::advisor::Recommendation;
use crate::answers::Answers;

pub const FILE_NAME: &str = "rtgen.toml";

/// The contents of `rtgen.toml`. `answers` must already carry the project name
/// and the pinned `[generate]` values.
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
         # generates the same project under another name. [generate] pins the strategy\n\
         # and fan-out chosen at generation, so later rtgen advice does not change them.\n\n"
    );
    out.push_str(&body);
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

//! `rtgen.toml`, written into every generated project: the user's answers as they were
//! given (a valid answers file: `[generate]` says `"auto"` wherever rtgen chose), then
//! rtgen's own decisions apart, in `[rtgen]` (see `answers::recorded`). Regenerating from
//! it with the same rtgen gives the same project; with an answer changed, rtgen decides
//! afresh what was its own choice.

use super::templates_fingerprint;
use crate::advisor::Recommendation;
use crate::answers::{Answers, Named, recorded, template};

pub const FILE_NAME: &str = "rtgen.toml";

/// The contents of `rtgen.toml`. `answers` must already carry the project name.
pub fn render(answers: &Answers, rec: &Recommendation) -> String {
    let name = answers.name.as_deref().unwrap_or("NAME");
    let quoted = |text: &str| toml::Value::String(text.to_string()).to_string();
    let mut out = format!(
        "# The answers `{name}` was generated from, and what rtgen decided. Change an\n\
         # answer with `rtgen update --set KEY=VALUE` (or edit it here and run `rtgen update`):\n\
         # [generate] says \"auto\" where rtgen chose, so changed answers get fresh advice,\n\
         # and your edits to the project are kept. `rtgen new OTHER --answers rtgen.toml --yes`\n\
         # makes a copy. [rtgen] is rtgen's record of its choices; do not edit it.\n\n"
    );
    out.push_str(template::plain(answers).trim_start_matches('\n'));
    out.push_str(&format!(
        "\n[{table}]\nversion = {version}\nstrategy = {strategy}\nupstream = {upstream}\n\
         fanout = {fanout}\ntemplates = {templates}\n",
        table = recorded::TABLE,
        version = quoted(env!("CARGO_PKG_VERSION")),
        strategy = quoted(rec.strategy.name()),
        upstream = quoted(rec.upstream.name()),
        fanout = quoted(rec.fanout.name()),
        templates = quoted(&templates_fingerprint()),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisor;
    use crate::answers::file;

    #[test]
    fn the_record_reads_back_as_the_same_answers_and_choices() {
        let answers = file::parse(
            "name = \"demo\"\n[traffic]\ndirection = \"server-to-client\"\nuse_case = \"dashboard\"\n\
             freshness = \"seconds\"\n[scale]\nservers = 1\n[generate]\nfanout = \"redis\"\n",
            "a.toml",
        )
        .unwrap()
        .validate()
        .unwrap();
        let rec = advisor::advise(&answers).unwrap();
        let text = render(&answers, &rec);
        let back = file::parse_file(&text, "rtgen.toml").unwrap();
        assert_eq!(back.answers.validate().unwrap(), answers);
        let recorded = back.recorded.unwrap();
        assert_eq!(
            (recorded.strategy, recorded.upstream, recorded.fanout),
            (rec.strategy, rec.upstream, rec.fanout)
        );
        assert_eq!(recorded.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(recorded.templates, templates_fingerprint());
        assert!(text.contains("strategy = \"auto\""), "{text}");
        assert!(text.contains("[access]\nauth = \"none\""), "{text}");
    }
}

//! The answers file as people read it: every key with a comment saying what it means and
//! what is allowed. `rtgen answers` prints it blank; the interview saves it filled in.

use super::Answers;
use super::keys::{self, Key, Kind, Need};

const HEADER: &str = "\
# rtgen answers: use with `rtgen advise --answers FILE` or `rtgen new NAME --answers FILE`.
# A value left as \"\" counts as unanswered: rtgen asks for it in a terminal, and lists it
# as missing otherwise.
";

/// The file with every required value blank and every optional one at its default.
pub fn blank() -> String {
    render(None)
}

/// The file with `answers` filled in; reading it back gives the same answers.
pub fn filled(answers: &Answers) -> String {
    render(Some(answers))
}

/// The answers as plain TOML, without comments: what `rtgen.toml` records. Optional keys
/// left out (name, description) stay out.
pub fn plain(answers: &Answers) -> String {
    let mut out = String::new();
    let mut table = "";
    for spec in keys::ALL {
        let Some(value) = spec.toml_value(answers) else {
            continue;
        };
        let (key_table, name) = spec.key().split();
        if key_table != table {
            table = key_table;
            out.push_str(&format!("\n[{table}]\n"));
        }
        out.push_str(&format!("{name} = {value}\n"));
    }
    out
}

fn render(answers: Option<&Answers>) -> String {
    let mut out = String::from(HEADER);
    let mut table = "";
    for spec in keys::ALL {
        let key = spec.key();
        let (key_table, name) = key.split();
        if key_table != table {
            table = key_table;
            out.push_str(&format!("\n[{table}]\n"));
        } else {
            out.push('\n');
        }
        out.push_str(&format!(
            "# {}\n# {}\n",
            capitalize(key.about),
            allowed_line(key)
        ));
        let value = match answers {
            // Left out of validated answers: `scale.servers` computed from the sizing, or
            // an optional key without value. Unanswered, so reading it back changes nothing.
            Some(answers) => spec
                .toml_value(answers)
                .unwrap_or_else(|| "\"\"".to_string()),
            None => default_of(key),
        };
        out.push_str(&format!("{name} = {value}\n"));
    }
    out
}

/// What the key allows and when it is needed: the second comment line of each key.
pub fn allowed_line(key: &Key) -> String {
    let allowed = key.values_doc.map_or_else(
        || match key.kind {
            Kind::Choice(names) => names()
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(" | "),
            kind => kind.allowed(),
        },
        str::to_string,
    );
    match key.need {
        Need::Required => format!("{allowed}; required"),
        Need::ServerToClient => {
            format!("{allowed}; required for server-to-client; bidirectional means instant")
        }
        Need::Optional { default: "" } => format!("{allowed}; optional"),
        Need::Optional { default } => format!("{allowed}; default: {default}"),
        Need::Derived { rule } => format!("{allowed}; default: {rule}"),
        Need::RequiredUnless { rule } => format!("{allowed}; required unless {rule}"),
    }
}

/// What `rtgen answers` writes for a key: its default where that is one value, `""`
/// (unanswered) otherwise.
fn default_of(key: &Key) -> String {
    match key.need {
        Need::Optional { default } if !default.is_empty() => default.to_string(),
        Need::Required | Need::RequiredUnless { .. } if key.starter.is_some() => {
            key.starter.unwrap_or_default().to_string()
        }
        Need::Required
        | Need::RequiredUnless { .. }
        | Need::ServerToClient
        | Need::Optional { .. }
        | Need::Derived { .. } => "\"\"".into(),
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::file;

    #[test]
    fn blank_template_lists_every_key_and_leaves_required_ones_missing() {
        let text = blank();
        for key in keys::ALL {
            assert!(
                text.contains(&format!("\n{} = ", key.key().split().1)),
                "{}",
                key.key().path
            );
        }
        let missing: Vec<_> = file::parse(&text, "t")
            .unwrap()
            .missing()
            .iter()
            .map(|m| m.key.path)
            .collect();
        assert_eq!(
            missing,
            ["traffic.direction", "traffic.use_case", "traffic.freshness"]
        );
    }

    #[test]
    fn filled_template_reads_back_to_the_same_answers() {
        let source = "name = \"x\"\ndescription = \"say \\\"hi\\\"\"\n[traffic]\ndirection = \"server-to-client\"\n\
                      use_case = \"dashboard\"\nfreshness = \"minutes\"\n[scale]\nservers = 7\n[constraints]\nmobile = true\n\
                      [generate]\nfanout = \"redis\"\n";
        let answers = file::parse(source, "s").unwrap().validate().unwrap();
        let again = file::parse(&filled(&answers), "t")
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!(again, answers);
    }

    #[test]
    fn sizing_answers_read_back_without_pinning_servers() {
        let source = "[traffic]\ndirection = \"bidirectional\"\nuse_case = \"chat\"\n[scale]\nconnections = 5000\n\
                      messages_per_second = 2.5\nsubscribers_per_message = 2\n";
        let answers = file::parse(source, "s").unwrap().validate().unwrap();
        assert_eq!(answers.scale.servers, None);
        for text in [filled(&answers), plain(&answers)] {
            assert!(text.contains("messages_per_second = 2.5\n"), "{text}");
            assert!(
                !text.contains("servers = 1"),
                "the computed servers is not recorded: {text}"
            );
            let again = file::parse(&text, "t").unwrap().validate().unwrap();
            assert_eq!(again.scale, answers.scale);
        }
    }
}

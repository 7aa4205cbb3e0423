//! The answers file as people read it: every key with a comment saying what it means and
//! what is allowed. `rtgen answers` prints it blank; the interview saves it filled in.

use super::Answers;
use super::keys::{self, Key, Kind};
use super::model::Named;

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

fn render(answers: Option<&Answers>) -> String {
    let mut out = String::from(HEADER);
    let mut table = "";
    for key in keys::ALL {
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
            Some(answers) => value_of(answers, key),
            None => default_of(key),
        };
        out.push_str(&format!("{name} = {value}\n"));
    }
    out
}

fn allowed_line(key: &Key) -> String {
    let status = match key.path {
        p if p == keys::NAME.path || p == keys::DESCRIPTION.path => "optional",
        p if p == keys::FRESHNESS.path => {
            "required for server-to-client; bidirectional means instant"
        }
        p if p == keys::USE_CASE.path => {
            return "required; bidirectional: \"chat\" | \"game\" | \"collaboration\" | \"other\"; server-to-client: \
                    \"news-feed\" | \"notifications\" | \"status-updates\" | \"stock-ticker\" | \"dashboard\" | \"other\""
                .into();
        }
        p if p == keys::DIRECTION.path || p == keys::SERVERS.path => "required",
        _ => "default: ",
    };
    let allowed = match key.kind {
        Kind::Choice(names) => names()
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(" | "),
        kind => kind.allowed(),
    };
    match status {
        "default: " => format!("{allowed}; default: {}", default_of(key)),
        status => format!("{allowed}; {status}"),
    }
}

fn default_of(key: &Key) -> String {
    match key.kind {
        Kind::Bool => "false".into(),
        Kind::Choice(_) if key.path.starts_with("generate.") => "\"auto\"".into(),
        Kind::Integer { .. } => "1".into(),
        _ => "\"\"".into(),
    }
}

fn value_of(answers: &Answers, key: &Key) -> String {
    let string = |s: &str| toml::Value::String(s.to_string()).to_string();
    let c = &answers.constraints;
    match key.path {
        "name" => string(answers.name.as_deref().unwrap_or("")),
        "description" => string(answers.description.as_deref().unwrap_or("")),
        "traffic.direction" => string(answers.traffic.direction.name()),
        "traffic.use_case" => string(answers.traffic.use_case.name()),
        "traffic.freshness" => string(answers.traffic.freshness.name()),
        "scale.servers" => answers.scale.servers.to_string(),
        "constraints.websockets_blocked" => c.websockets_blocked.to_string(),
        "constraints.legacy_clients" => c.legacy_clients.to_string(),
        "constraints.mvp" => c.mvp.to_string(),
        "constraints.mobile" => c.mobile.to_string(),
        "generate.strategy" => string(answers.generate.strategy.map_or("auto", Named::name)),
        "generate.fanout" => string(answers.generate.fanout.map_or("auto", Named::name)),
        other => unreachable!("key {other} has no value in Answers; add it here"),
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
                text.contains(&format!("\n{} = ", key.split().1)),
                "{}",
                key.path
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
}

//! `rtgen advise`: gather answers, run the framework, print the recommendation.

use std::io::Write;
use std::path::Path;

use crate::advisor::{self, Recommendation};
use crate::answers::{Answers, AnswersError, keys, presets};
use crate::cli::{AdviseArgs, AnswerSources, Format};
use crate::error::{Error, Result};
use crate::interview::{self, Step};
use crate::report;

pub fn run(args: AdviseArgs) -> Result<()> {
    let interactive = interview::terminal_available();
    let layered = interview::layer(&args.sources)?;
    let format = args.format;
    match layered.validate() {
        Ok(answers) => {
            let rec = advisor::advise(&answers)?;
            print(&render(&rec, &answers, format, &args.sources))?;
            if format == Format::Text {
                print(&format!(
                    "\nDetails: rtgen explain {}    Generate it: {}\n",
                    rec.strategy,
                    new_command(&args.sources, None)
                ))?;
            }
            Ok(())
        }
        Err(AnswersError::Missing { .. }) if interactive => {
            // After the interview the advice is shown, then the offer to save; Esc there goes
            // back to the last question and the advice is shown again.
            let (_, (rec, saved)) = interview::interview(layered, |answers| {
                let rec = advisor::advise(answers)?;
                print(&render(&rec, answers, format, &args.sources))?;
                Ok(match interview::offer_to_save(answers)? {
                    Step::Done(saved) => Step::Done((rec, saved)),
                    Step::Back => Step::Back,
                })
            })?;
            if format == Format::Text {
                eprintln!(
                    "Details: rtgen explain {}    Generate it: {}",
                    rec.strategy,
                    new_command(&args.sources, saved.as_deref())
                );
            }
            Ok(())
        }
        Err(err) => Err(err.into()),
    }
}

fn render(
    rec: &Recommendation,
    answers: &Answers,
    format: Format,
    sources: &AnswerSources,
) -> String {
    let mut output = match format {
        Format::Text => {
            let mut text = String::new();
            if let Some(preset) = &sources.preset {
                // Every answer a preset gives is shown: none of them is hidden.
                let given: Vec<(&str, String)> = presets::load(preset)
                    .map(|preset| {
                        preset
                            .given()
                            .into_iter()
                            .map(|(key, value, _)| {
                                // Shown, and said to be unused, when the sizing replaced it.
                                if key == keys::SERVERS.key.path && answers.scale.servers.is_none()
                                {
                                    (key, format!("{value}  (yields to your sizing answers)"))
                                } else {
                                    (key, value)
                                }
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                text.push_str(&report::text::preset_answers(preset, &given));
                text.push('\n');
            }
            text.push_str(&report::text::render(rec, answers));
            match console::Term::stdout().size_checked() {
                Some((_, columns)) => report::text::wrap(&text, usize::from(columns)),
                None => text,
            }
        }
        Format::Json => report::json::render(rec, answers),
    };
    if !output.ends_with('\n') {
        output.push('\n');
    }
    output
}

fn print(text: &str) -> Result<()> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|err| Error::io("write to", "standard output", err))
}

/// `rtgen new NAME` with the answers just used: the saved file, or the same sources.
fn new_command(sources: &AnswerSources, saved: Option<&Path>) -> String {
    let mut command = String::from("rtgen new NAME");
    let mut arg = |flag: &str, value: &str| {
        command.push_str(&format!(" {flag} {}", shell_word(value)));
    };
    if let Some(saved) = saved {
        arg("--answers", &saved.display().to_string());
        return command;
    }
    if let Some(preset) = &sources.preset {
        arg("--preset", preset);
    }
    if let Some(file) = &sources.answers {
        arg("--answers", &file.display().to_string());
    }
    for set in &sources.set {
        arg("--set", set);
    }
    if let Some(strategy) = sources.strategy {
        arg("--strategy", &clap_value(strategy));
    }
    if let Some(fanout) = sources.fanout {
        arg("--fanout", &clap_value(fanout));
    }
    command
}

fn clap_value(value: impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// `value` as one shell word: quoted only when the shell needs it.
fn shell_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./+,:@=".contains(c));
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_command_repeats_the_sources_or_names_the_saved_file() {
        let sources = AnswerSources {
            preset: Some("chat".into()),
            set: vec!["scale.servers=3".into(), "description=It's live".into()],
            ..AnswerSources::default()
        };
        assert_eq!(
            new_command(&sources, None),
            "rtgen new NAME --preset chat --set scale.servers=3 --set 'description=It'\\''s live'"
        );
        assert_eq!(
            new_command(&sources, Some(Path::new("rtgen.toml"))),
            "rtgen new NAME --answers rtgen.toml"
        );
    }
}

//! The interview: layers the non-interactive sources, then asks in a terminal only what they
//! left unanswered. Every typed or picked answer goes through `PartialAnswers::assign` and
//! `validate`, exactly like the file and `--set`.

use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use console::style;
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, MultiSelect, Select};

use crate::advisor::Recommendation;
use crate::answers::keys::{self, Key};
use crate::answers::{
    Answers, AnswersError, Direction, Freshness, Named, Origin, PartialAnswers, Raw, Sourced,
    Strategy, file, presets, set, template,
};
use crate::cli::AnswerSources;
use crate::error::{Error, Result};
use crate::notes;

/// True when rtgen may ask questions: someone can both read them (stderr) and answer (stdin).
pub fn terminal_available() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Validated answers, and whether the user was asked anything to get them.
pub struct Gathered {
    pub answers: Answers,
    pub interviewed: bool,
}

/// Layers preset, file, `--set` and flags; asks for what is missing when `interactive`;
/// validates. Without a terminal, missing answers are an error listing all of them.
pub fn gather(sources: &AnswerSources, interactive: bool) -> Result<Answers> {
    collect(sources, interactive).map(|gathered| gathered.answers)
}

/// [`gather`], also telling whether an interview took place (`advise` then offers to save).
pub fn collect(sources: &AnswerSources, interactive: bool) -> Result<Gathered> {
    let layered = layer(sources)?;
    match layered.validate() {
        Ok(answers) => {
            return Ok(Gathered {
                answers,
                interviewed: false,
            });
        }
        Err(AnswersError::Missing { .. }) if interactive => {}
        Err(err) => return Err(err.into()),
    }
    let answers = ask_missing(layered)?.validate()?;
    Ok(Gathered {
        answers,
        interviewed: true,
    })
}

/// Preset, then file, then `--set`, then `--strategy`/`--fanout`: each layer wins over the
/// ones before it.
pub fn layer(sources: &AnswerSources) -> Result<PartialAnswers> {
    let mut answers = PartialAnswers::default();
    if let Some(name) = &sources.preset {
        let preset = presets::load(name).ok_or_else(|| {
            Error::usage(
                format!("unknown preset `{name}`"),
                Some(format!("presets: {}", presets::NAMES.join(", "))),
            )
        })?;
        answers = answers.overlay(preset);
    }
    if let Some(path) = &sources.answers {
        answers = answers.overlay(file::read(path)?);
    }
    answers = answers.overlay(set::parse_all(&sources.set)?);
    if let Some(choice) = sources.strategy {
        answers.strategy = Some(Sourced {
            value: choice.into(),
            origin: Origin::Flag { flag: "--strategy" },
        });
    }
    if let Some(choice) = sources.fanout {
        answers.fanout = Some(Sourced {
            value: choice.into(),
            origin: Origin::Flag { flag: "--fanout" },
        });
    }
    Ok(answers)
}

fn theme() -> ColorfulTheme {
    ColorfulTheme::default()
}

/// Asks the unanswered questions, in the order a person thinks about them.
fn ask_missing(mut answers: PartialAnswers) -> Result<PartialAnswers> {
    interrupt::exit_130_on_ctrl_c();
    if answers.direction.is_none() {
        let direction = pick("Which way does the live data flow?", Direction::ALL, |d| {
            notes::direction_hint(*d)
        })?;
        answers.assign(&keys::DIRECTION, Raw::Str(direction.name()), Origin::Prompt)?;
    }
    let direction = answers
        .direction
        .as_ref()
        .map(|d| d.value)
        .expect("asked above");
    if answers.use_case.is_none() {
        let use_case = pick("What is it for?", direction.use_cases(), |u| {
            notes::use_case_hint(*u)
        })?;
        answers.assign(&keys::USE_CASE, Raw::Str(use_case.name()), Origin::Prompt)?;
    }
    if answers.freshness.is_none() && direction == Direction::ServerToClient {
        let freshness = pick(
            "How fresh must the clients' view be?",
            Freshness::ALL,
            |f| notes::freshness_hint(*f),
        )?;
        answers.assign(&keys::FRESHNESS, Raw::Str(freshness.name()), Origin::Prompt)?;
    }
    if answers.servers.is_none() {
        let servers = ask_servers()?;
        answers.assign(&keys::SERVERS, Raw::Int(servers), Origin::Prompt)?;
    }
    ask_constraints(&mut answers)?;
    Ok(answers)
}

/// A select whose items read `name  hint`; Esc or q interrupts.
fn pick<T: Named>(
    prompt: &str,
    choices: &'static [T],
    hint: impl Fn(&T) -> &'static str,
) -> Result<T> {
    let width = choices.iter().map(|c| c.name().len()).max().unwrap_or(0);
    let items: Vec<String> = choices
        .iter()
        .map(|c| format!("{:width$}  {}", c.name(), style(hint(c)).dim().for_stderr()))
        .collect();
    let index = Select::with_theme(&theme())
        .with_prompt(prompt)
        .items(&items)
        .default(0)
        .interact_opt()?
        .ok_or(Error::Interrupted)?;
    Ok(choices[index])
}

fn ask_servers() -> Result<i64> {
    let text: String = Input::with_theme(&theme())
        .with_prompt("How many servers will hold client connections?")
        .default("1".to_string())
        .validate_with(|text: &String| check_servers(text).map(|_| ()))
        .interact_text()?;
    check_servers(&text).map_err(|message| Error::usage(message, None))
}

/// The prompt's check is the file's check: the same `assign` on the same key.
fn check_servers(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if text.is_empty() {
        // An empty string is "unanswered" to `assign`, but this prompt needs a number.
        return Err("enter a whole number of servers, from 1 up".to_string());
    }
    let raw = text.parse::<i64>().map_or(Raw::Str(text), Raw::Int);
    PartialAnswers::default()
        .assign(&keys::SERVERS, raw, Origin::Prompt)
        .map_err(|err| {
            let details = err.details().join("; ");
            format!("{err} ({details})")
        })?;
    match raw {
        Raw::Int(servers) => Ok(servers),
        _ => Err(format!("{text:?} is not a whole number of servers")),
    }
}

/// One multi-select for the constraints no source answered; unticked means false.
fn ask_constraints(answers: &mut PartialAnswers) -> Result<()> {
    let open: Vec<&'static Key> = [
        (
            &keys::WEBSOCKETS_BLOCKED,
            answers.websockets_blocked.is_none(),
        ),
        (&keys::LEGACY_CLIENTS, answers.legacy_clients.is_none()),
        (&keys::MVP, answers.mvp.is_none()),
        (&keys::MOBILE, answers.mobile.is_none()),
    ]
    .into_iter()
    .filter_map(|(key, unanswered)| unanswered.then_some(key))
    .collect();
    if open.is_empty() {
        return Ok(());
    }
    let width = open.iter().map(|k| k.split().1.len()).max().unwrap_or(0);
    let items: Vec<String> = open
        .iter()
        .map(|k| {
            format!(
                "{:width$}  {}",
                k.split().1,
                style(k.about).dim().for_stderr()
            )
        })
        .collect();
    let ticked = MultiSelect::with_theme(&theme())
        .with_prompt("Which constraints apply? (space toggles, enter confirms; none is fine)")
        .items(&items)
        .interact_opt()?
        .ok_or(Error::Interrupted)?;
    for (index, key) in open.into_iter().enumerate() {
        answers.assign(key, Raw::Bool(ticked.contains(&index)), Origin::Prompt)?;
    }
    Ok(())
}

/// Lets the user accept the recommended strategy or pick another (recommended preselected).
pub fn choose_strategy(rec: &Recommendation) -> Result<Strategy> {
    interrupt::exit_130_on_ctrl_c();
    let width = rec
        .ranking
        .iter()
        .map(|r| r.strategy.name().len())
        .max()
        .unwrap_or(0);
    let items: Vec<String> = rec
        .ranking
        .iter()
        .map(|r| {
            let label = if r.strategy == rec.strategy {
                "recommended"
            } else {
                ""
            };
            format!(
                "{:width$}  {:>3}  {:11}  {}",
                r.strategy.name(),
                r.score,
                label,
                style(&r.reason).dim().for_stderr()
            )
        })
        .collect();
    let preselected = rec
        .ranking
        .iter()
        .position(|r| r.strategy == rec.strategy)
        .unwrap_or(0);
    let index = Select::with_theme(&theme())
        .with_prompt("Which strategy should the service use?")
        .items(&items)
        .default(preselected)
        .interact_opt()?
        .ok_or(Error::Interrupted)?;
    Ok(rec.ranking[index].strategy)
}

/// After an interview: offers to save the answers so scripts reproduce the advice. Never
/// overwrites a file without asking.
pub fn offer_to_save(answers: &Answers) -> Result<()> {
    interrupt::exit_130_on_ctrl_c();
    let save = Confirm::with_theme(&theme())
        .with_prompt("Save these answers to a file for scripted use?")
        .default(true)
        .interact_opt()?
        .ok_or(Error::Interrupted)?;
    if !save {
        return Ok(());
    }
    let (path, overwrite) = loop {
        let path: String = Input::with_theme(&theme())
            .with_prompt("File name")
            .default("rtgen.toml".to_string())
            .interact_text()?;
        let path = PathBuf::from(path.trim());
        if !path.exists() {
            break (path, false);
        }
        let overwrite = Confirm::with_theme(&theme())
            .with_prompt(format!("`{}` exists. Overwrite it?", path.display()))
            .default(false)
            .interact_opt()?
            .ok_or(Error::Interrupted)?;
        if overwrite {
            break (path, true);
        }
    };
    write_answers(&path, answers, overwrite)?;
    eprintln!(
        "Saved to {0}. Reproduce this advice with: rtgen advise --answers {0}",
        path.display()
    );
    Ok(())
}

/// Without `overwrite`, a file that appeared since the user was asked is left alone.
fn write_answers(path: &Path, answers: &Answers, overwrite: bool) -> Result<()> {
    let mut options = OpenOptions::new();
    if overwrite {
        options.write(true).create(true).truncate(true);
    } else {
        options.write(true).create_new(true);
    }
    let mut file = options
        .open(path)
        .map_err(|err| Error::io("write answers to", path, err))?;
    file.write_all(template::filled(answers).as_bytes())
        .map_err(|err| Error::io("write answers to", path, err))
}

/// Ctrl-C during a prompt: console reads it as a key in raw mode, restores the terminal
/// mode and raises SIGINT. The default action would kill rtgen by signal with the cursor
/// still hidden by the prompt; this handler shows the cursor and exits 130 instead.
mod interrupt {
    #[cfg(unix)]
    pub fn exit_130_on_ctrl_c() {
        use std::io::IsTerminal;
        use std::sync::Once;
        use std::sync::atomic::{AtomicBool, Ordering};

        static INSTALL: Once = Once::new();
        static STDERR_IS_TERMINAL: AtomicBool = AtomicBool::new(false);

        extern "C" fn on_sigint(_signal: libc::c_int) {
            // Only async-signal-safe calls here: write(2) and _exit(2).
            const SHOW_CURSOR: &[u8] = b"\x1b[?25h\n";
            const NEWLINE: &[u8] = b"\n";
            let bytes = if STDERR_IS_TERMINAL.load(Ordering::Relaxed) {
                SHOW_CURSOR
            } else {
                NEWLINE
            };
            // SAFETY: both calls are async-signal-safe; the buffer is static.
            unsafe {
                libc::write(libc::STDERR_FILENO, bytes.as_ptr().cast(), bytes.len());
                libc::_exit(130);
            }
        }

        INSTALL.call_once(|| {
            STDERR_IS_TERMINAL.store(std::io::stderr().is_terminal(), Ordering::Relaxed);
            let handler = on_sigint as extern "C" fn(libc::c_int);
            // SAFETY: installs a handler that only makes async-signal-safe calls.
            unsafe {
                libc::signal(libc::SIGINT, handler as libc::sighandler_t);
            }
        });
    }

    /// Elsewhere console reports Ctrl-C as an interrupted read, which maps to exit 130.
    #[cfg(not(unix))]
    pub fn exit_130_on_ctrl_c() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{FanoutChoice, StrategyChoice};

    #[test]
    fn the_servers_prompt_uses_the_file_rules() {
        assert_eq!(check_servers(" 12 "), Ok(12));
        assert!(check_servers("0").unwrap_err().contains("out of range"));
        assert!(
            check_servers("10001")
                .unwrap_err()
                .contains("from 1 to 10000")
        );
        assert!(
            check_servers("two")
                .unwrap_err()
                .contains("must be an integer")
        );
    }

    #[test]
    fn layers_win_in_order_preset_file_set_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        std::fs::write(
            &path,
            "[scale]\nservers = 5\n[generate]\nstrategy = \"sse\"\n",
        )
        .unwrap();
        let sources = AnswerSources {
            preset: Some("chat".into()),
            answers: Some(path),
            set: vec!["scale.servers=7".into()],
            strategy: Some(StrategyChoice::LongPolling),
            fanout: Some(FanoutChoice::Redis),
        };
        let answers = gather(&sources, false).unwrap();
        assert_eq!(
            answers.traffic.use_case,
            crate::answers::UseCase::Chat,
            "from the preset"
        );
        assert_eq!(answers.scale.servers, 7, "--set beats the file");
        assert_eq!(
            answers.generate.strategy,
            Some(Strategy::LongPolling),
            "the flag beats the file"
        );
        assert_eq!(answers.generate.fanout, Some(crate::answers::Fanout::Redis));
    }

    #[test]
    fn without_a_terminal_missing_answers_are_an_error() {
        let err = gather(&AnswerSources::default(), false).unwrap_err();
        assert!(
            matches!(err, Error::Answers(AnswersError::Missing { ref keys }) if keys.len() == 4),
            "{err:?}"
        );
    }
}

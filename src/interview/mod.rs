//! The interview: layers the non-interactive sources, then asks in a terminal only what they
//! left unanswered. Every typed or picked answer goes through the key's own check
//! (`AnyKey::assign`) and `validate`, exactly like the file and `--set`.
//!
//! Esc goes back one question wherever the prompt can see it (lists, checklists and yes/no
//! questions; a text input takes Esc as a key). Esc on the first question leaves, exit 130,
//! and nothing is written; Ctrl-C leaves from anywhere the same way.

use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use console::style;
use dialoguer::{Confirm, Input, MultiSelect, Select};

use crate::advisor::Recommendation;
use crate::answers::keys::{self, AnyKey, Def, Key};
use crate::answers::{
    Answers, AnswersError, Auth, Direction, Freshness, Named, Origin, PartialAnswers, Raw, Sourced,
    Strategy, file, presets, set, template,
};
use crate::cli::AnswerSources;
use crate::error::{Error, Result};

mod theme;

pub use theme::Theme;

/// True when rtgen may ask questions: someone can both read them (stderr) and answer (stdin).
pub fn terminal_available() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// What one question ended with: an answer, or Esc (go back one question).
pub enum Step<T> {
    Done(T),
    Back,
}

/// Validates the layered answers (see [`layer`]), asking for what is missing when
/// `interactive`. Without a terminal, missing answers are an error listing all of them.
pub fn complete(layered: PartialAnswers, interactive: bool) -> Result<Answers> {
    match layered.validate() {
        Ok(answers) => Ok(answers),
        Err(AnswersError::Missing { .. }) if interactive => {
            interview(layered, |_| Ok(Step::Done(()))).map(|(answers, ())| answers)
        }
        Err(err) => Err(err.into()),
    }
}

/// Asks every question `layered` leaves open, then `last` with the validated answers (the
/// strategy choice, the offer to save). Esc in `last` returns to the last question asked;
/// Esc on the first question (or in `last` when nothing was asked) leaves with
/// [`Error::Interrupted`].
pub fn interview<T>(
    layered: PartialAnswers,
    mut last: impl FnMut(&Answers) -> Result<Step<T>>,
) -> Result<(Answers, T)> {
    interrupt::exit_130_on_ctrl_c();
    // Answers complete enough to advise on are not questioned further: the optional keys
    // keep their defaults, as they would in a file.
    let complete = layered.validate().is_ok();
    let open: Vec<Question> = Question::ALL
        .iter()
        .copied()
        .filter(|q| !complete && q.unanswered(&layered))
        .collect();
    let mut answers = layered;
    // The answers before each question that was asked, to undo it on Esc.
    let mut asked: Vec<(usize, PartialAnswers)> = Vec::new();
    let mut next = 0;
    loop {
        let went_back = match open.get(next) {
            Some(question) if !question.applies(&answers) => {
                next += 1;
                false
            }
            Some(question) => {
                let before = answers.clone();
                match question.ask(&mut answers)? {
                    Step::Done(()) => {
                        asked.push((next, before));
                        next += 1;
                        false
                    }
                    Step::Back => true,
                }
            }
            None => {
                let validated = answers.validate()?;
                match last(&validated)? {
                    Step::Done(value) => return Ok((validated, value)),
                    Step::Back => true,
                }
            }
        };
        if went_back {
            let (index, before) = asked.pop().ok_or(Error::Interrupted)?;
            answers = before;
            next = index;
        }
    }
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
    let mut given = PartialAnswers::default();
    if let Some(path) = &sources.answers {
        given = given.overlay(file::read(path)?);
    }
    given = given.overlay(set::parse_all(&sources.set)?);
    // A preset's `servers` is a guess for a demo; sizing answers in a file or `--set` are
    // the team's own numbers, so they decide unless the team also gave `servers`.
    let sized = keys::SIZING_KEYS
        .iter()
        .any(|key| key.origin(&given).is_some());
    if sized && given.servers.is_none() {
        answers.servers = None;
    }
    answers = answers.overlay(given);
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

fn theme() -> Theme {
    Theme::default()
}

/// A list item cut to one terminal line (with room for the focus marker and checkbox):
/// dialoguer redraws a list by counting lines, and an item the terminal wraps would
/// leave stale lines behind.
fn fit(item: String) -> String {
    let columns = usize::from(console::Term::stderr().size().1);
    console::truncate_str(&item, columns.saturating_sub(6).max(20), "…").into_owned()
}

/// The questions, in the order a person thinks about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Question {
    Direction,
    UseCase,
    Freshness,
    Servers,
    Constraints,
    Auth,
}

impl Question {
    const ALL: [Question; 6] = [
        Question::Direction,
        Question::UseCase,
        Question::Freshness,
        Question::Servers,
        Question::Constraints,
        Question::Auth,
    ];

    fn unanswered(self, answers: &PartialAnswers) -> bool {
        match self {
            Question::Direction => keys::DIRECTION.get(answers).is_none(),
            Question::UseCase => keys::USE_CASE.get(answers).is_none(),
            Question::Freshness => keys::FRESHNESS.get(answers).is_none(),
            Question::Servers => {
                keys::SERVERS.get(answers).is_none()
                    && keys::SIZING_KEYS
                        .iter()
                        .all(|k| k.origin(answers).is_none())
            }
            Question::Constraints => keys::CONSTRAINTS.iter().any(|k| k.get(answers).is_none()),
            Question::Auth => keys::AUTH.get(answers).is_none(),
        }
    }

    /// Freshness is only asked for server-to-client traffic.
    fn applies(self, answers: &PartialAnswers) -> bool {
        match self {
            Question::Freshness => {
                keys::DIRECTION.get(answers).map(|d| d.value) == Some(Direction::ServerToClient)
            }
            Question::Direction
            | Question::UseCase
            | Question::Servers
            | Question::Constraints
            | Question::Auth => true,
        }
    }

    fn ask(self, answers: &mut PartialAnswers) -> Result<Step<()>> {
        match self {
            Question::Direction => pick(&keys::DIRECTION, Direction::ALL, 0, answers),
            Question::UseCase => {
                let direction = keys::DIRECTION
                    .get(answers)
                    .map_or(Direction::ServerToClient, |d| d.value);
                pick(&keys::USE_CASE, direction.use_cases(), 0, answers)
            }
            Question::Freshness => pick(&keys::FRESHNESS, Freshness::ALL, 0, answers),
            Question::Servers => {
                match ask_servers()? {
                    Some(servers) => assign(&keys::SERVERS, Raw::Int(servers), answers)?,
                    // Not known: the three answers the advisor sizes the deployment from.
                    None => {
                        for key in keys::SIZING_KEYS {
                            let text = ask_value(key)?;
                            assign(key, set::raw(key.key().kind, &text), answers)?;
                        }
                    }
                }
                Ok(Step::Done(()))
            }
            Question::Constraints => ask_constraints(answers),
            Question::Auth => {
                let private = keys::USE_CASE
                    .get(answers)
                    .is_some_and(|u| u.value.private_by_default());
                let default = if private { Auth::Jwt } else { Auth::None };
                let choices = [Auth::Jwt, Auth::None];
                let preselected = choices.iter().position(|a| *a == default).unwrap_or(0);
                pick(&keys::AUTH, &choices, preselected, answers)
            }
        }
    }
}

fn assign(key: &'static dyn AnyKey, raw: Raw<'_>, answers: &mut PartialAnswers) -> Result<()> {
    Ok(key.assign(answers, raw, Origin::Prompt)?)
}

/// A select whose items read `name  hint`, asking the key's question.
fn pick<T: Named + keys::Value>(
    key: &'static Def<T>,
    choices: &[T],
    preselected: usize,
    answers: &mut PartialAnswers,
) -> Result<Step<()>> {
    let width = choices.iter().map(|c| c.name().len()).max().unwrap_or(0);
    let items: Vec<String> = choices
        .iter()
        .map(|c| {
            fit(format!(
                "{:width$}  {}",
                c.name(),
                style((key.value_hint)(*c)).dim().for_stderr()
            ))
        })
        .collect();
    let chosen = Select::with_theme(&theme())
        .with_prompt(prompt_of(&key.key))
        .items(&items)
        .default(preselected)
        .interact_opt()?;
    match chosen {
        Some(index) => {
            assign(key, Raw::Str(choices[index].name()), answers)?;
            Ok(Step::Done(()))
        }
        None => Ok(Step::Back),
    }
}

/// The key's question; its hint, where it has one, is printed on the line above, so the
/// prompt itself stays one line that dialoguer can redraw.
fn prompt_of(key: &Key) -> String {
    if let Some(hint) = key.question_hint {
        eprintln!("{}", style(format!("({hint})")).dim().for_stderr());
    }
    key.question.unwrap_or(key.about).to_string()
}

/// The number of servers, or `None` when the user answers `?` (does not know).
fn ask_servers() -> Result<Option<i64>> {
    let key = &keys::SERVERS.key;
    let text: String = Input::with_theme(&theme())
        .with_prompt(prompt_of(key))
        .default("1".to_string())
        .validate_with(|text: &String| check_servers(text).map(|_| ()))
        .interact_text()?;
    check_servers(&text).map_err(|message| Error::usage(message, None))
}

/// The prompt's check is the file's check: the same `assign` on the same key.
fn check_servers(text: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text == "?" {
        return Ok(None);
    }
    if text.is_empty() {
        // An empty string is "unanswered" to `assign`, but this prompt needs a number.
        return Err(
            "enter a whole number of servers, from 1 up, or ? to size it from your load"
                .to_string(),
        );
    }
    check_value(&keys::SERVERS, text)?;
    match text.parse::<i64>() {
        Ok(servers) => Ok(Some(servers)),
        Err(_) => Err(format!("{text:?} is not a whole number of servers")),
    }
}

/// Asks one key's question as text, checked as `--set` would check it.
fn ask_value(key: &'static dyn AnyKey) -> Result<String> {
    let text: String = Input::with_theme(&theme())
        .with_prompt(prompt_of(key.key()))
        .validate_with(|text: &String| check_value(key, text))
        .interact_text()?;
    check_value(key, &text).map_err(|message| Error::usage(message, None))?;
    Ok(text.trim().to_string())
}

fn check_value(key: &'static dyn AnyKey, text: &str) -> Result<(), String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("enter {}", key.key().kind.allowed()));
    }
    key.assign(
        &mut PartialAnswers::default(),
        set::raw(key.key().kind, text),
        Origin::Prompt,
    )
    .map_err(|err| {
        let details = err.details().join("; ");
        format!("{err} ({details})")
    })
}

/// One checklist for the constraints no source answered; unticked means false.
fn ask_constraints(answers: &mut PartialAnswers) -> Result<Step<()>> {
    let open: Vec<&'static Def<bool>> = keys::CONSTRAINTS
        .iter()
        .copied()
        .filter(|key| key.get(answers).is_none())
        .collect();
    let width = open
        .iter()
        .map(|k| k.key.split().1.len())
        .max()
        .unwrap_or(0);
    let items: Vec<String> = open
        .iter()
        .map(|k| {
            fit(format!(
                "{:width$}  {}",
                k.key.split().1,
                style(k.key.about).dim().for_stderr()
            ))
        })
        .collect();
    let ticked = MultiSelect::with_theme(&theme())
        .with_prompt("Which constraints apply? (space toggles, enter confirms; none is fine)")
        .items(&items)
        .interact_opt()?;
    let Some(ticked) = ticked else {
        return Ok(Step::Back);
    };
    for (index, key) in open.into_iter().enumerate() {
        assign(key, Raw::Bool(ticked.contains(&index)), answers)?;
    }
    Ok(Step::Done(()))
}

/// Lets the user accept the recommended strategy or pick another (recommended preselected).
/// Strategies the answers rule out are listed with the reason, and cannot be picked.
pub fn choose_strategy(rec: &Recommendation) -> Result<Step<Strategy>> {
    interrupt::exit_130_on_ctrl_c();
    let (usable, ruled_out): (Vec<_>, Vec<_>) = rec.ranking.iter().partition(|r| !r.ruled_out);
    for ranked in &ruled_out {
        eprintln!(
            "{}",
            style(format!("  {}: {}", ranked.strategy, ranked.reason))
                .dim()
                .for_stderr()
        );
    }
    let width = usable
        .iter()
        .map(|r| r.strategy.name().len())
        .max()
        .unwrap_or(0);
    let items: Vec<String> = usable
        .iter()
        .map(|r| {
            let label = if r.strategy == rec.recommended.strategy {
                "recommended"
            } else {
                ""
            };
            fit(format!(
                "{:width$}  {:>3}  {:11}  {}",
                r.strategy.name(),
                r.score,
                label,
                style(&r.reason).dim().for_stderr()
            ))
        })
        .collect();
    let preselected = usable
        .iter()
        .position(|r| r.strategy == rec.recommended.strategy)
        .unwrap_or(0);
    let index = Select::with_theme(&theme())
        .with_prompt("Which strategy should the service use?")
        .items(&items)
        .default(preselected)
        .interact_opt()?;
    Ok(match index {
        Some(index) => Step::Done(usable[index].strategy),
        None => Step::Back,
    })
}

/// After an interview: offers to save the answers so scripts reproduce the advice. Never
/// overwrites a file without asking. Returns the file written, if any.
pub fn offer_to_save(answers: &Answers) -> Result<Step<Option<PathBuf>>> {
    interrupt::exit_130_on_ctrl_c();
    let save = Confirm::with_theme(&theme())
        .with_prompt("Save these answers to a file for scripted use?")
        .default(true)
        .interact_opt()?;
    match save {
        None => return Ok(Step::Back),
        Some(false) => return Ok(Step::Done(None)),
        Some(true) => {}
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
        // Esc here means "no, not this file": the name is asked again.
        let overwrite = Confirm::with_theme(&theme())
            .with_prompt(format!("`{}` exists. Overwrite it?", path.display()))
            .default(false)
            .interact_opt()?
            .unwrap_or(false);
        if overwrite {
            break (path, true);
        }
    };
    write_answers(&path, answers, overwrite)?;
    eprintln!(
        "Saved to {0}. Reproduce this advice with: rtgen advise --answers {0}",
        path.display()
    );
    Ok(Step::Done(Some(path)))
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
pub mod interrupt {
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
        assert_eq!(check_servers(" 12 "), Ok(Some(12)));
        assert_eq!(check_servers("?"), Ok(None));
        assert!(
            check_value(&keys::MESSAGES_PER_SECOND, "0")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(
            check_value(&keys::CONNECTIONS, "")
                .unwrap_err()
                .contains("an integer from 1")
        );
        assert_eq!(check_value(&keys::MESSAGES_PER_SECOND, " 0.5 "), Ok(()));
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
        let answers = complete(layer(&sources).unwrap(), false).unwrap();
        assert_eq!(
            answers.traffic.use_case,
            crate::answers::UseCase::Chat,
            "from the preset"
        );
        assert_eq!(answers.scale.servers, Some(7), "--set beats the file");
        assert_eq!(
            answers.generate.strategy,
            Some(Strategy::LongPolling),
            "the flag beats the file"
        );
        assert_eq!(answers.generate.fanout, Some(crate::answers::Fanout::Redis));
    }

    #[test]
    fn a_presets_servers_yield_to_sizing_answers_but_not_to_nothing() {
        let sized = |set: &[&str]| {
            let sources = AnswerSources {
                preset: Some("game".into()),
                set: set.iter().map(|s| s.to_string()).collect(),
                ..AnswerSources::default()
            };
            complete(layer(&sources).unwrap(), false).unwrap().scale
        };
        let preset_only = sized(&[]);
        assert!(
            preset_only.servers.is_some_and(|s| s > 1),
            "{preset_only:?}"
        );
        let load = [
            "scale.connections=1000",
            "scale.messages_per_second=1",
            "scale.subscribers_per_message=100",
        ];
        let from_load = sized(&load);
        assert_eq!(
            from_load.servers, None,
            "the preset's 2 yields: computed by the advisor"
        );
        assert_eq!(from_load.load.unwrap().connections, 1000);
        let explicit = sized(&[&load[..], &["scale.servers=4"]].concat());
        assert_eq!(explicit.servers, Some(4), "an explicit servers still wins");
    }

    #[test]
    fn without_a_terminal_missing_answers_are_an_error() {
        let err = complete(layer(&AnswerSources::default()).unwrap(), false).unwrap_err();
        assert!(
            matches!(err, Error::Answers(AnswersError::Missing { ref keys }) if keys.len() == 4),
            "{err:?}"
        );
    }
}

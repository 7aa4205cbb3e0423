//! `rtgen new`: answers -> recommendation -> the user's choice -> a project on disk.
//!
//! Order matters for safety: the name and the target directory are checked before
//! any question is asked, and nothing is written until every file has been rendered.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::advisor::{self, Recommendation};
use crate::answers::recorded;
use crate::answers::{Answers, AnswersError, Fanout, set};
use crate::cli::{AnswerSources, NewArgs};
use crate::error::{Error, Result};
use crate::generate::{
    self, NameError, Plan, ProjectName, TargetState, TemplateError, Templates, WriteError, context,
    dev_env, pristine, record, tree,
};
use crate::interview::{self, Step};
use crate::report;

pub fn run(args: NewArgs) -> Result<()> {
    let interactive = interview::terminal_available();
    let templates = Templates::load(generate::embedded()).map_err(broken_templates)?;

    let mut name = match &args.name {
        Some(given) => Some(parse_name(given, None)?),
        None => name_in_sources(&args.sources)?,
    };
    if name.is_none() && interactive {
        name = Some(prompt_name()?);
    }
    if let Some(name) = &name {
        check_target(&target_of(&args, name), args.force)?;
    }

    // Layered once: answers from standard input can be read only once.
    let layered = interview::layer(&args.sources)?;
    let preset = match &args.sources.preset {
        Some(preset) => format!("{}\n", report::text::preset_answers(preset, &layered)),
        None => String::new(),
    };
    let (answers, rec) = if interactive && !args.yes {
        // Even with every answer given, the strategy is the user's to confirm.
        match layered.validate() {
            Ok(_) | Err(AnswersError::Missing { .. }) => {
                interview::interview(layered, |answers| choose(answers, &preset))?.1
            }
            Err(err) => return Err(err.into()),
        }
    } else {
        let answers = interview::complete(layered, interactive)?;
        let rec = advisor::advise(&answers)?;
        (answers, rec)
    };
    let name = match name {
        Some(name) => name,
        // Only without a terminal: the name can still come from answers on stdin.
        None => {
            let given = answers.name.as_deref().ok_or_else(|| {
                Error::usage(
                    "no project name: give one as `rtgen new NAME`, or as `name = \"...\"` in the \
                     answers file",
                    Some(
                        "for example: rtgen new live-scores --answers rtgen.toml --yes".to_owned(),
                    ),
                )
            })?;
            let name = parse_name(given, Some("`name` in the answers"))?;
            check_target(&target_of(&args, &name), args.force)?;
            name
        }
    };

    let plan = generate::plan(&templates, &name, &answers, &rec).map_err(broken_templates)?;
    let target = target_of(&args, &name);
    let shown = display_path(&target);
    for warning in &rec.warnings {
        eprintln!("warning: {warning}");
    }
    if args.dry_run {
        return say(&format!(
            "{preset}{}\n{}\n(dry run: nothing was written; without --dry-run rtgen writes {} files to {shown}, \
             and its own copy of them to {}/)\n",
            tree::render(&shown, &plan),
            report::text::chosen_line(&rec),
            plan.files.len(),
            pristine::DIR,
        ));
    }
    generate::write_project(&target, &pristine::with_copy(&plan), args.force)
        .map_err(write_error)?;
    // After the project, outside the plan: a secret of this checkout, not a generated file.
    let dev_env = match dev_env::write_dev_env(&target) {
        Ok(outcome) => Some(outcome),
        Err(e) => {
            eprintln!(
                "warning: the project is written, but not {shown}/{}: {e}\n  \
                 set JWT_SECRET (at least 32 random bytes) before `cargo run`",
                dev_env::FILE
            );
            None
        }
    };
    say(&format!(
        "{preset}{}",
        next_steps(&shown, &plan, &rec, dev_env)
    ))
}

/// Shows the recommendation and lets the user accept it or pick another strategy (the
/// ones the answers rule out are shown, and cannot be picked). Esc goes back to the last
/// question. A pick other than the recommendation is the user's choice, and `rtgen.toml`
/// records it in `[generate]`.
fn choose(answers: &Answers, preset: &str) -> Result<Step<(Answers, Recommendation)>> {
    let recommended = advisor::advise(answers)?;
    let text = format!("{preset}{}", report::text::render(&recommended, answers));
    match console::Term::stderr().size_checked() {
        Some((_, columns)) => eprint!("{}", report::text::wrap(&text, usize::from(columns))),
        None => eprint!("{text}"),
    }
    let strategy = match interview::choose_strategy(&recommended)? {
        Step::Done(strategy) => strategy,
        Step::Back => return Ok(Step::Back),
    };
    let mut chosen = answers.clone();
    if chosen.generate.strategy != Some(strategy) {
        chosen.generate.strategy =
            (strategy != recommended.recommended.strategy).then_some(strategy);
    }
    let rec = advisor::advise(&chosen)?;
    Ok(Step::Done((chosen, rec)))
}

/// `./NAME`, or `--output DIR` as given.
fn target_of(args: &NewArgs, name: &ProjectName) -> PathBuf {
    args.output
        .clone()
        .unwrap_or_else(|| PathBuf::from(name.as_str()))
}

/// The name from `--set name=...` or the answers file, read before the interview so
/// that the target can be checked first. Standard input cannot be read twice, so a
/// name in answers from stdin is only known after [`interview::complete`].
fn name_in_sources(sources: &AnswerSources) -> Result<Option<ProjectName>> {
    if let Some(named) = set::parse_all(&sources.set)?.name {
        let origin = format!("--set name={}", named.value);
        return parse_name(&named.value, Some(&origin)).map(Some);
    }
    match &sources.answers {
        Some(path) if path != Path::new("-") => match crate::answers::file::read(path)?.name {
            Some(named) => {
                let origin = format!("`name` at {}", named.origin);
                parse_name(&named.value, Some(&origin)).map(Some)
            }
            None => Ok(None),
        },
        _ => Ok(None),
    }
}

fn parse_name(name: &str, origin: Option<&str>) -> Result<ProjectName> {
    ProjectName::parse(name).map_err(|err: NameError| {
        let message = match origin {
            Some(origin) => format!("{err} (from {origin})"),
            None => err.to_string(),
        };
        Error::usage(message, Some(err.hint()))
    })
}

fn prompt_name() -> Result<ProjectName> {
    interview::interrupt::exit_130_on_ctrl_c();
    let theme = interview::Theme::default();
    let typed: String = dialoguer::Input::with_theme(&theme)
        .with_prompt("Project name (a cargo package name, e.g. live-scores)")
        .validate_with(|input: &String| -> std::result::Result<(), String> {
            ProjectName::parse(input)
                .map(|_| ())
                .map_err(|err| format!("{err}; {}", err.hint()))
        })
        .interact_text()?;
    parse_name(&typed, None)
}

/// `--force` replaces files without looking at them: into a project rtgen already
/// wrote, that would throw away the team's edits, which `rtgen update` merges.
fn check_target(target: &Path, force: bool) -> Result<()> {
    if holds_rtgen_project(target) {
        return Err(Error::RtgenProject {
            path: target.to_owned(),
        });
    }
    match generate::inspect(target).map_err(write_error)? {
        TargetState::NonEmptyDir if !force => Err(Error::TargetNotEmpty {
            path: target.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// A project rtgen wrote: it has rtgen's pristine copy, or an rtgen.toml with rtgen's
/// own record (`[rtgen]`, or the header of projects from before that table existed).
/// A plain answers file named rtgen.toml does not count.
fn holds_rtgen_project(target: &Path) -> bool {
    if target.join(pristine::DIR).is_dir() {
        return true;
    }
    let Ok(text) = std::fs::read_to_string(target.join(record::FILE_NAME)) else {
        return false;
    };
    recorded::has_legacy_header(&text)
        || toml::from_str::<toml::Table>(&text)
            .is_ok_and(|table| table.contains_key(recorded::TABLE))
}

fn write_error(err: WriteError) -> Error {
    match err {
        WriteError::Interrupted => Error::Interrupted,
        WriteError::NotEmpty(path) => Error::TargetNotEmpty { path },
        WriteError::NotADirectory(_) => Error::usage(
            err.to_string(),
            Some("choose another NAME, or a directory with --output DIR".to_owned()),
        ),
        other => Error::Other(anyhow::Error::new(other)),
    }
}

pub(super) fn broken_templates(err: TemplateError) -> Error {
    Error::Other(anyhow::anyhow!(
        "rtgen's built-in templates are broken (a bug in rtgen; please report it): {err}"
    ))
}

pub(super) fn say(text: &str) -> Result<()> {
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|err| Error::io("write to", "standard output", err))
}

/// The path as the user would type it in `cd`: quoted when the shell needs it.
fn display_path(path: &Path) -> String {
    let text = path.display().to_string();
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./+,:@".contains(c));
    if plain && !text.is_empty() {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

fn next_steps(
    shown: &str,
    plan: &Plan,
    rec: &Recommendation,
    dev_env: Option<dev_env::DevEnv>,
) -> String {
    let mut out = format!(
        "Created {shown}: {} with {} fan-out ({} files).\n\nNext steps:\n  cd {shown}\n",
        context::strategy_title(rec.strategy),
        context::fanout_title(rec.fanout),
        plan.files.len(),
    );
    if rec.fanout == Fanout::Redis {
        out.push_str("  cargo run     # needs Redis: REDIS_URL, default redis://127.0.0.1:6379\n");
    } else {
        out.push_str("  cargo run\n");
    }
    match open_command() {
        Some(open) => out.push_str(&format!(
            "  {open} http://127.0.0.1:3000/   # the demo page\n"
        )),
        None => out.push_str("  # then open http://127.0.0.1:3000/ in a browser: the demo page\n"),
    }
    out.push_str("  cargo test\n");
    if plan.files.iter().any(|f| f.path == "DECISION.md") {
        out.push_str("\nDECISION.md explains the choice; ");
    } else {
        out.push('\n');
    }
    out.push_str(
        "rtgen.toml records the answers; change them, or take a newer rtgen, with `rtgen update`.\n",
    );
    match dev_env {
        Some(dev_env::DevEnv::Written) => out.push_str(
            ".env holds a random development JWT_SECRET (`cargo run -- token --sub 42` mints a \
             token with it); keep it out of version control.\n",
        ),
        Some(dev_env::DevEnv::Kept) => out.push_str(".env was already there and is unchanged.\n"),
        None => {}
    }
    out
}

/// The command that opens a URL in the browser on this platform, where there is one.
fn open_command() -> Option<&'static str> {
    if cfg!(target_os = "macos") {
        Some("open")
    } else if cfg!(target_os = "windows") {
        Some("start")
    } else if cfg!(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd"
    )) {
        Some("xdg-open")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_only_when_a_shell_needs_it() {
        assert_eq!(display_path(Path::new("live-scores")), "live-scores");
        assert_eq!(display_path(Path::new("/tmp/a_b/c.d")), "/tmp/a_b/c.d");
        assert_eq!(display_path(Path::new("my dir/x")), "'my dir/x'");
        assert_eq!(display_path(Path::new("it's")), r"'it'\''s'");
    }
}

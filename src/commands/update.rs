//! `rtgen update [PATH]`: answers -> choices -> this rtgen's rendering -> a three-way
//! merge per file -> one all-or-nothing write (or, for `--check` and `--dry-run`, a
//! report and nothing written).

use std::path::Path;

use super::new::{broken_templates, say};
use crate::answers::{Origin, PartialAnswers, Sourced, file, set};
use crate::cli::UpdateArgs;
use crate::error::{Error, Result, exit};
use crate::generate::{self, ProjectName, Templates, WriteError, pristine, record};
use crate::update::plan::UpdatePlan;
use crate::update::{
    self,
    record::{ProjectRecord, load_project},
};

pub fn run(args: UpdateArgs) -> Result<()> {
    if let Some(preset) = &args.sources.preset {
        return Err(Error::usage(
            format!("--preset {preset} cannot be used with update"),
            Some(
                "a preset would replace the project's answers with a canned set; change single \
                 answers with --set, or give a whole answers file with --answers FILE"
                    .to_owned(),
            ),
        ));
    }
    let root = args.path.as_path();
    let templates = Templates::load(generate::embedded()).map_err(broken_templates)?;
    let record_path = root.join(record::FILE_NAME);
    let project = load_project(&record_path)?;
    let base =
        pristine::read(root).map_err(|err| Error::io("read", root.join(pristine::DIR), err))?;
    match (&base, args.adopt) {
        (None, false) => {
            return Err(Error::usage(
                format!(
                    "`{}` has no {}/ folder: it was generated before rtgen kept its own copy, \
                     so rtgen cannot tell your edits from its changes",
                    root.display(),
                    pristine::DIR
                ),
                Some(format!(
                    "run `rtgen update --adopt {}` once: files that differ from this rtgen's get \
                     conflict markers to settle; later updates merge three ways",
                    root.display()
                )),
            ));
        }
        (Some(_), true) => {
            return Err(Error::usage(
                format!(
                    "`{}` already has rtgen's copy in {}/; --adopt is only for projects without \
                     one",
                    root.display(),
                    pristine::DIR
                ),
                Some("run `rtgen update` without --adopt".to_owned()),
            ));
        }
        _ => {}
    }

    let effective = effective_answers(&project.answers, &args)?.validate()?;
    let name = recorded_name(&project.answers, &effective.name, &record_path)?;
    let settled = update::settle(&project.answers, project.choices, effective)?;
    let plan = generate::plan(&templates, &name, &settled.answers, &settled.rec)
        .map_err(broken_templates)?;
    let label = format!("rtgen {}", env!("CARGO_PKG_VERSION"));
    let update = update::plan::plan_update(root, base.as_ref(), &plan, &label)?;

    for warning in &settled.rec.warnings {
        eprintln!("warning: {warning}");
    }
    if let Some(fresh) = settled.would_now_choose {
        eprintln!(
            "note: with the same answers this rtgen would now choose {} with {} fan-out; the \
             project keeps {} with {} fan-out. To switch, run `rtgen update --strategy {} \
             --fanout {}`.",
            fresh.strategy,
            fresh.fanout,
            settled.rec.strategy,
            settled.rec.fanout,
            fresh.strategy,
            fresh.fanout
        );
    }

    let shown = root.display();
    let mut out = String::new();
    if settled.answers_changed {
        out.push_str(&format!(
            "Answers changed, so rtgen decided again: {} with {} fan-out.\n",
            settled.rec.strategy, settled.rec.fanout
        ));
        for reason in &settled.rec.reasons {
            out.push_str(&format!("  - {reason}\n"));
        }
        out.push('\n');
    }

    if args.check {
        if update.changes.is_empty() {
            out.push_str(&format!(
                "{shown} is current with {label} and its answers.\n"
            ));
            return say(&out);
        }
        out.push_str(&summary(&update));
        out.push_str(&format!(
            "\n{shown} is behind: `rtgen update` would change the files above ({}).\n",
            rendered_by(&project, &label)
        ));
        say(&out)?;
        return Err(Error::Status(exit::BEHIND));
    }
    if update.changes.is_empty() {
        out.push_str(&format!(
            "{shown} is already current with {label} and its answers; nothing to do.\n"
        ));
        return say(&out);
    }
    if args.dry_run {
        out.push_str(&summary(&update));
        out.push_str(&format!(
            "\n(dry run: nothing was written; without --dry-run rtgen makes these changes and \
             updates {} and its copy in {}/)\n",
            record::FILE_NAME,
            pristine::DIR
        ));
        return say(&out);
    }
    if !args.allow_dirty {
        update::git::refuse_dirty(root)?;
    }
    generate::apply(root, &update.changes).map_err(|err| match err {
        WriteError::Interrupted => Error::Interrupted,
        other => Error::Other(anyhow::Error::new(other)),
    })?;
    out.push_str(&summary(&update));
    if update.needs_hands() {
        out.push_str(
            "\nUpdated, but the files marked conflict or obsolete need you: resolve them, run \
             your tests, then commit.\n",
        );
        say(&out)?;
        return Err(Error::Status(exit::NEEDS_ATTENTION));
    }
    out.push_str(&format!(
        "\nUpdated {shown} to {label}. Review with `git diff`, run your tests, then commit.\n"
    ));
    say(&out)
}

/// The recorded answers (or `--answers FILE` instead), then `--set`, then the flags.
fn effective_answers(recorded: &PartialAnswers, args: &UpdateArgs) -> Result<PartialAnswers> {
    let mut answers = match &args.sources.answers {
        Some(path) => {
            let mut given = file::read(path)?;
            // The project's name is its package name: it comes with the project.
            if given.name.is_none() {
                given.name = recorded.name.clone();
            }
            given
        }
        None => recorded.clone(),
    };
    answers = answers.overlay(set::parse_all(&args.sources.set)?);
    if let Some(choice) = args.sources.strategy {
        answers.strategy = Some(Sourced {
            value: choice.into(),
            origin: Origin::Flag { flag: "--strategy" },
        });
    }
    if let Some(choice) = args.sources.fanout {
        answers.fanout = Some(Sourced {
            value: choice.into(),
            origin: Origin::Flag { flag: "--fanout" },
        });
    }
    Ok(answers)
}

/// Which rtgen rendered the project last, next to this one, for a `--check` verdict.
fn rendered_by(project: &ProjectRecord, label: &str) -> String {
    let fingerprint = generate::templates_fingerprint();
    match (&project.version, &project.templates) {
        (Some(version), Some(templates)) if *templates != fingerprint => format!(
            "last rendered by rtgen {version} with templates {templates}; this is {label} with \
             templates {fingerprint}"
        ),
        (Some(version), Some(_)) => {
            format!("last rendered by rtgen {version} with the same templates")
        }
        _ => format!("rtgen.toml does not say which rtgen rendered it; this is {label}"),
    }
}

/// The package name the project was generated with; update does not rename projects.
fn recorded_name(
    recorded: &PartialAnswers,
    effective: &Option<String>,
    record_path: &Path,
) -> Result<ProjectName> {
    let Some(name) = recorded.name.as_ref().map(|n| n.value.as_str()) else {
        return Err(Error::usage(
            format!("`{}` records no `name`", record_path.display()),
            Some("add the project's package name as `name = \"...\"` at its top".to_owned()),
        ));
    };
    if effective.as_deref() != Some(name) {
        return Err(Error::usage(
            format!(
                "update cannot rename the project `{name}` (the name is its cargo package name)"
            ),
            Some("drop the new name from --set or --answers; rename the package by hand".into()),
        ));
    }
    ProjectName::parse(name).map_err(|err| {
        Error::usage(
            format!("{err} (from `name` in {})", record_path.display()),
            Some(err.hint()),
        )
    })
}

/// One line per file with something to say, those that need the team first.
fn summary(update: &UpdatePlan) -> String {
    let mut out = String::new();
    for file in &update.files {
        out.push_str(&format!("  {:<9} {}", file.word.to_string(), file.path));
        if let Some(note) = &file.note {
            out.push_str(&format!("  ({note})"));
        }
        out.push('\n');
    }
    out
}

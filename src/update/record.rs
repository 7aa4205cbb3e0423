//! What `rtgen update` needs from a project's `rtgen.toml`, behind one function.
//!
//! PROVISIONAL (branch `update`): issue 12 gives rtgen.toml its final shape and a
//! library API returning (the user's answers, rtgen's recorded choices). This file is
//! the one seam to swap to it; nothing else in `update` reads rtgen.toml.

use std::path::Path;

use crate::answers::{Fanout, Named, PartialAnswers, Strategy, Upstream, file};
use crate::error::{Error, Result};
use crate::generate::record::RTGEN_TABLE;

/// rtgen's own decisions for a project, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choices {
    pub strategy: Strategy,
    pub upstream: Upstream,
    pub fanout: Fanout,
}

/// A project's rtgen.toml, read.
#[derive(Debug, Clone)]
pub struct ProjectRecord {
    /// What the user answered and chose, as given.
    pub answers: PartialAnswers,
    /// What rtgen chose, when recorded.
    pub choices: Option<Choices>,
    /// The rtgen version that last wrote the project.
    pub version: Option<String>,
    /// The fingerprint of the templates that last rendered the project.
    pub templates: Option<String>,
}

pub fn load_project(path: &Path) -> Result<ProjectRecord> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        if err.kind() == std::io::ErrorKind::NotFound {
            let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
            Error::usage(
                format!("`{}` does not exist", shown.display()),
                Some(
                    "run `rtgen update` in (or with the path of) a project rtgen generated; \
                     it reads that project's rtgen.toml, never a parent's"
                        .to_owned(),
                ),
            )
        } else {
            Error::io("read", path, err)
        }
    })?;
    let mut answers = file::parse(&text, &path.display().to_string())?;
    let table: toml::Table = toml::from_str(&text).map_err(|err| {
        Error::usage(
            format!("`{}` is not valid TOML: {}", path.display(), err.message()),
            None,
        )
    })?;
    let rtgen = table.get(RTGEN_TABLE).and_then(|v| v.as_table());
    let text_of = |key: &str| rtgen.and_then(|t| t.get(key)).and_then(|v| v.as_str());
    let bad = |key: &str, value: &str| {
        Error::usage(
            format!(
                "`{}`: [{RTGEN_TABLE}] {key} = \"{value}\" is not a value this rtgen knows",
                path.display()
            ),
            Some(format!(
                "rtgen writes [{RTGEN_TABLE}] itself; restore it from version control, or \
                 update with a newer rtgen"
            )),
        )
    };
    let choices = match (text_of("strategy"), text_of("upstream"), text_of("fanout")) {
        (Some(s), Some(u), Some(f)) => Some(Choices {
            strategy: Strategy::from_name(s).ok_or_else(|| bad("strategy", s))?,
            upstream: Upstream::from_name(u).ok_or_else(|| bad("upstream", u))?,
            fanout: Fanout::from_name(f).ok_or_else(|| bad("fanout", f))?,
        }),
        // Before `[rtgen]` existed, rtgen pinned its choices in `[generate]` as if the
        // user had made them: read them as rtgen's, and leave the answers to "auto".
        _ if rtgen.is_none() => legacy_pins(&mut answers),
        _ => None,
    };
    Ok(ProjectRecord {
        answers,
        choices,
        version: text_of("version").map(str::to_owned),
        templates: text_of("templates").map(str::to_owned),
    })
}

fn legacy_pins(answers: &mut PartialAnswers) -> Option<Choices> {
    let strategy = answers.strategy.take()?.value.fixed();
    let fanout = answers.fanout.take()?.value.fixed();
    let (strategy, fanout) = (strategy?, fanout?);
    // Not recorded then; the advisor derives it from the strategy again.
    let upstream = if strategy == Strategy::Websocket {
        Upstream::Websocket
    } else {
        Upstream::None
    };
    Some(Choices {
        strategy,
        upstream,
        fanout,
    })
}

//! What `rtgen update` needs from a project's `rtgen.toml`, behind one function: the
//! user's answers as given, and rtgen's own choices (`[rtgen]`, see
//! `answers::recorded`). Nothing else in `update` reads rtgen.toml.

use std::path::Path;

use crate::answers::{Fanout, PartialAnswers, Strategy, Upstream, file};
use crate::error::{Error, Result};

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
    if !path.is_file() {
        let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        return Err(Error::usage(
            format!("`{}` does not exist", shown.display()),
            Some(
                "run `rtgen update` in (or with the path of) a project rtgen generated; \
                 it reads that project's rtgen.toml, never a parent's"
                    .to_owned(),
            ),
        ));
    }
    let file = file::read_file(path)?;
    let mut answers = file.answers;
    let (choices, version, templates) = match file.recorded {
        Some(recorded) => (
            Some(Choices {
                strategy: recorded.strategy,
                upstream: recorded.upstream,
                fanout: recorded.fanout,
            }),
            Some(recorded.version),
            Some(recorded.templates),
        ),
        // Before `[rtgen]` existed, rtgen pinned its choices in `[generate]` as if the
        // user had made them: read them as rtgen's, and leave the answers to "auto".
        None if file.is_record => (legacy_pins(&mut answers), None, None),
        None => (None, None, None),
    };
    Ok(ProjectRecord {
        answers,
        choices,
        version,
        templates,
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

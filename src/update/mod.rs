//! `rtgen update`'s engine: which answers and choices to render with
//! ([`settle`]), then a three-way plan per file ([`plan::plan_update`]) for the
//! all-or-nothing writer.

pub mod git;
pub mod merge;
pub mod plan;
pub mod record;

use crate::advisor::{self, Recommendation};
use crate::answers::{Answers, GenerateOverrides, PartialAnswers};
use crate::error::Result;
use record::Choices;

/// The answers and recommendation to render with, and what to tell the user.
pub struct Settled {
    /// Recorded in rtgen.toml as given (no choice of rtgen's pinned into them).
    pub answers: Answers,
    pub rec: Recommendation,
    /// The answers differ from the recorded ones, so rtgen decided afresh.
    pub answers_changed: bool,
    /// With unchanged answers, what this rtgen would choose instead of the kept choices.
    pub would_now_choose: Option<Choices>,
}

/// rtgen's own choices are re-decided only when an answer changed. With unchanged
/// answers the recorded choices stay, even if this rtgen's advice differs (then
/// [`Settled::would_now_choose`] says how): a newer rtgen never moves a project to
/// another strategy on its own.
pub fn settle(
    recorded: &PartialAnswers,
    choices: Option<Choices>,
    effective: Answers,
) -> Result<Settled> {
    let recorded = recorded.clone().validate()?;
    let answers_changed = recorded != effective;
    let fresh = advisor::advise(&effective)?;
    let fresh_choices = Choices {
        strategy: fresh.strategy,
        upstream: fresh.upstream,
        fanout: fresh.fanout,
    };
    let kept = choices
        .filter(|_| !answers_changed)
        .unwrap_or(fresh_choices);
    // Rendered exactly as `rtgen new` renders its choice, so that a project updated
    // to some answers is byte-identical to one generated from them.
    let mut pinned = effective.clone();
    pinned.generate = GenerateOverrides {
        strategy: Some(kept.strategy),
        fanout: Some(kept.fanout),
    };
    let rec = advisor::advise(&pinned)?;
    let kept = Choices {
        strategy: rec.strategy,
        upstream: rec.upstream,
        fanout: rec.fanout,
    };
    Ok(Settled {
        answers: effective,
        rec,
        answers_changed,
        would_now_choose: (fresh_choices != kept).then_some(fresh_choices),
    })
}

//! The interview: asks only what the other sources left unanswered.

use crate::advisor::Recommendation;
use crate::answers::{Answers, Strategy};
use crate::cli::AnswerSources;
use crate::error::{Error, Result};

/// Layers preset, file, `--set` and flags; asks for what is missing when `interactive`;
/// validates. Without a terminal, missing answers are an error listing all of them.
pub fn gather(_sources: &AnswerSources, _interactive: bool) -> Result<Answers> {
    Err(Error::Other(anyhow::anyhow!(
        "interview not implemented yet"
    )))
}

/// Lets the user accept the recommended strategy or pick another (recommended preselected).
pub fn choose_strategy(rec: &Recommendation) -> Result<Strategy> {
    Ok(rec.strategy)
}

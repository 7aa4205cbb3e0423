//! The decision framework: a pure function from validated answers to a recommendation.

use serde::Serialize;

use crate::answers::{Answers, Fanout, Strategy, Upstream};

/// What the advisor recommends, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recommendation {
    pub strategy: Strategy,
    pub upstream: Upstream,
    pub fanout: Fanout,
    /// Why, phrased from the user's answers, one entry per rule that fired.
    pub reasons: Vec<String>,
    /// Costs of `[generate]` overrides the user asked for.
    pub warnings: Vec<String>,
    /// Weaknesses of the chosen strategy (and of Redis fan-out) with how to mitigate them.
    pub cons: Vec<Con>,
    /// All four strategies, best first.
    pub ranking: Vec<Ranked>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Con {
    pub problem: String,
    pub mitigation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ranked {
    pub strategy: Strategy,
    /// 0..=100
    pub score: u8,
    pub reason: String,
}

/// An override in `[generate]` that cannot be honoured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The answer that cannot be honoured, e.g. `generate.strategy`.
    pub key: &'static str,
    /// Why, phrased from the answers.
    pub message: String,
    /// What to change.
    pub hint: String,
}

/// Recommends a strategy for `answers`. Pure: no I/O.
pub fn advise(_answers: &Answers) -> Result<Recommendation, Conflict> {
    todo!("decision framework")
}

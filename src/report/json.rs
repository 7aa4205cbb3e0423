//! The recommendation for scripts: exactly one JSON object, stable field names.

use serde::Serialize;

use crate::advisor::{Choice, Con, Ranked, Recommendation};
use crate::answers::{Answers, Auth, Fanout, Strategy, Upstream};

#[derive(Serialize)]
struct Report<'a> {
    /// What will be generated: the recommendation unless an override chose otherwise.
    strategy: Strategy,
    upstream: Upstream,
    fanout: Fanout,
    /// What rtgen recommends for these answers.
    recommended: Choice,
    auth: Auth,
    reasons: &'a [String],
    warnings: &'a [String],
    cons: &'a [Con],
    ranking: &'a [Ranked],
    /// The normalized answers the advice was computed from.
    answers: &'a Answers,
}

pub fn render(rec: &Recommendation, answers: &Answers) -> String {
    let report = Report {
        strategy: rec.strategy,
        upstream: rec.upstream,
        fanout: rec.fanout,
        recommended: rec.recommended,
        auth: rec.auth,
        reasons: &rec.reasons,
        warnings: &rec.warnings,
        cons: &rec.cons,
        ranking: &rec.ranking,
        answers,
    };
    serde_json::to_string_pretty(&report).expect("the report has only strings, numbers and enums")
}

//! The recommendation for scripts: exactly one JSON object, stable field names.

use serde::Serialize;

use crate::advisor::{Choice, Con, Ranked, Recommendation, Sizing};
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
    /// Present only when the sizing answers were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    sizing: Option<&'a Sizing>,
    /// The normalized answers the advice was computed from, with `scale.servers` as used:
    /// answered, or computed by the sizing.
    answers: Answers,
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
        sizing: rec.sizing.as_ref(),
        answers: Answers {
            scale: crate::answers::Scale {
                servers: Some(rec.servers),
                ..answers.scale
            },
            ..answers.clone()
        },
    };
    serde_json::to_string_pretty(&report).expect("the report has only strings, numbers and enums")
}

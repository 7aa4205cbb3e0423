//! Scores all four strategies for the answers. The rules decide; the ranking shows how far
//! behind the alternatives are and why, so the chosen strategy always comes first.

use super::Ranked;
use super::rules::exclusion_of;
use crate::answers::{Answers, Direction, Freshness, Named, Strategy};

use Strategy::{LongPolling, ShortPolling, Sse, Websocket};

/// How well `strategy` fits, before the rules have their say; 5..=85 so that the
/// recommended strategy (90 and up) always leads.
fn fit(answers: &Answers, strategy: Strategy) -> i32 {
    let direction = answers.traffic.direction;
    let freshness = answers.traffic.freshness;
    let base = match (strategy, direction, freshness) {
        (Websocket, Direction::Bidirectional, _) => 80,
        (Websocket, _, Freshness::Instant) => 60,
        (Websocket, _, Freshness::Seconds) => 50,
        (Websocket, _, Freshness::Minutes) => 35,
        (Sse, Direction::Bidirectional, _) => 70,
        (Sse, _, Freshness::Instant) => 80,
        (Sse, _, Freshness::Seconds) => 75,
        (Sse, _, Freshness::Minutes) => 55,
        (LongPolling, Direction::Bidirectional, _) => 55,
        (LongPolling, _, Freshness::Minutes) => 50,
        (LongPolling, _, _) => 60,
        (ShortPolling, Direction::Bidirectional, _) => 15,
        (ShortPolling, _, Freshness::Instant) => 25,
        (ShortPolling, _, Freshness::Seconds) => 50,
        (ShortPolling, _, Freshness::Minutes) => 80,
    };
    let constraints = answers.constraints;
    let mvp = if constraints.mvp {
        match strategy {
            ShortPolling | LongPolling => 5,
            Sse => -5,
            Websocket => -15,
        }
    } else {
        0
    };
    // One idle stream wakes a phone's radio least; polls wake it most.
    let mobile = if constraints.mobile {
        match strategy {
            Sse => 10,
            Websocket => -5,
            LongPolling => -10,
            ShortPolling => -15,
        }
    } else {
        0
    };
    base + mvp + mobile
}

/// All four strategies: `chosen` first, then the rest by score.
pub fn rank(answers: &Answers, recommended: Strategy, chosen: Strategy) -> Vec<Ranked> {
    let mut ranking: Vec<Ranked> = Strategy::ALL
        .iter()
        .map(|&strategy| {
            let exclusion = exclusion_of(&answers.constraints, strategy);
            let (score, reason) = if let Some(exclusion) = exclusion {
                (
                    0,
                    format!("ruled out: {} ({})", exclusion.because, exclusion.key),
                )
            } else if strategy == recommended {
                (
                    (fit(answers, strategy) + 15).clamp(90, 100),
                    recommended_reason(answers, strategy),
                )
            } else {
                (
                    fit(answers, strategy).clamp(5, 85),
                    alternative_reason(answers, strategy),
                )
            };
            let score = u8::try_from(score).expect("scores are clamped to 0..=100");
            Ranked {
                strategy,
                score,
                reason,
                ruled_out: exclusion.is_some(),
            }
        })
        .collect();
    ranking.sort_by(|a, b| {
        (b.strategy == chosen)
            .cmp(&(a.strategy == chosen))
            .then(b.score.cmp(&a.score))
            .then(a.strategy.cmp(&b.strategy))
    });
    if chosen != recommended {
        ranking[0].reason =
            format!("your choice (generate.strategy); rtgen recommends \"{recommended}\"");
    }
    ranking
}

fn recommended_reason(answers: &Answers, strategy: Strategy) -> String {
    let mut reason = format!("best fit for {}", describe(answers));
    if answers.constraints.mobile && strategy == Sse {
        reason.push_str("; easiest on batteries");
    }
    reason
}

fn alternative_reason(answers: &Answers, strategy: Strategy) -> String {
    let bidirectional = answers.traffic.direction == Direction::Bidirectional;
    let mut reason = match strategy {
        ShortPolling if answers.traffic.freshness == Freshness::Minutes && !bidirectional => {
            "simplest and stateless; lag of up to one interval is acceptable here".to_string()
        }
        ShortPolling => "simplest, but lags up to one poll interval and polls even when idle".into(),
        LongPolling => "near-instant over plain HTTP, but a request per message and a held connection per client".into(),
        Sse if bidirectional => "push with automatic resume; client messages need separate HTTP POSTs".into(),
        Sse => "one-way push with automatic reconnect and resume".into(),
        Websocket if bidirectional => "full-duplex, lowest latency, but stateful and needs Upgrade support".into(),
        Websocket => "full-duplex power this one-way traffic does not use, at the cost of state and Upgrade support".into(),
    };
    if answers.constraints.mobile {
        reason.push_str(match strategy {
            Sse => "; easiest on batteries (one idle stream)",
            ShortPolling | LongPolling => "; repeated requests drain batteries",
            Websocket => "; pings keep the radio awake",
        });
    }
    reason
}

fn describe(answers: &Answers) -> String {
    match answers.traffic.direction {
        Direction::Bidirectional => format!("bidirectional {}", answers.traffic.use_case),
        Direction::ServerToClient => {
            format!(
                "{} with \"{}\" freshness",
                answers.traffic.use_case.name(),
                answers.traffic.freshness
            )
        }
    }
}

//! The decision framework: a pure function from validated answers to a recommendation.

mod overrides;
mod ranking;
pub mod rules;

use serde::Serialize;

use crate::answers::{Answers, Fanout, Strategy, Upstream};
use crate::notes;
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
pub fn advise(answers: &Answers) -> Result<Recommendation, Conflict> {
    let mut reasons = Vec::new();
    let mut warnings = Vec::new();

    for exclusion in rules::EXCLUSIONS
        .iter()
        .filter(|e| (e.holds)(&answers.constraints))
    {
        let removed: Vec<&str> = exclusion
            .removes
            .iter()
            .map(|s| notes::of(*s).title)
            .collect();
        reasons.push(format!(
            "{} = true: {}, so {} {} ruled out.",
            exclusion.key,
            exclusion.because,
            removed.join(" and "),
            if removed.len() == 1 { "is" } else { "are" }
        ));
    }

    let available = rules::available(&answers.constraints);
    let rule = rules::deciding_rule(answers);
    let (recommended, recommended_upstream) = (rule.prefer)(answers)
        .iter()
        .copied()
        .find(|(strategy, _)| available.contains(strategy))
        .expect("every rule ends with a strategy no constraint removes (long or short polling)");
    reasons.push((rule.because)(answers, recommended));

    let (strategy, upstream) = match answers.generate.strategy {
        Some(chosen) if chosen != recommended => {
            overrides::check_strategy(answers, chosen)?;
            warnings.push(overrides::strategy_warning(answers, chosen, recommended));
            (
                chosen,
                rules::upstream_for(answers.traffic.direction, chosen),
            )
        }
        _ => (recommended, recommended_upstream),
    };

    let servers = answers.scale.servers;
    let natural_fanout = if servers > 1 {
        Fanout::Redis
    } else {
        Fanout::Memory
    };
    reasons.push(match natural_fanout {
        Fanout::Redis => format!(
            "scale.servers = {servers}: a message published on one server must reach clients held by the others, \
             so the servers share messages through Redis pub/sub."
        ),
        Fanout::Memory => "scale.servers = 1: one server holds every connection, so messages fan out in memory.".into(),
    });
    let fanout = match answers.generate.fanout {
        Some(fanout) => {
            overrides::check_fanout(answers, fanout)?;
            warnings.extend(overrides::fanout_warning(answers, fanout));
            fanout
        }
        None => natural_fanout,
    };

    if answers.constraints.mobile {
        reasons.push(
            "constraints.mobile = true: batteries matter, so the ranking favours SSE (one idle stream, no repeated \
             requests) and the cons include battery advice."
                .into(),
        );
    }

    let chosen = notes::of(strategy);
    let mut cons: Vec<Con> = chosen.cons.iter().map(Con::from).collect();
    if fanout == Fanout::Redis {
        cons.extend(notes::REDIS_CONS.iter().map(Con::from));
    }
    if answers.constraints.mobile {
        cons.push(Con::from(&chosen.mobile));
    }

    Ok(Recommendation {
        strategy,
        upstream,
        fanout,
        reasons,
        warnings,
        cons,
        ranking: ranking::rank(answers, recommended, strategy),
    })
}

impl From<&notes::ConNote> for Con {
    fn from(note: &notes::ConNote) -> Self {
        Con {
            problem: note.problem.to_string(),
            mitigation: note.mitigation.to_string(),
        }
    }
}

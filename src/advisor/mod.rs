//! The decision framework: a pure function from validated answers to a recommendation.

pub mod figures;
mod overrides;
mod ranking;
pub mod rules;
pub mod sizing;

use serde::Serialize;

use crate::answers::{Answers, Auth, Direction, Fanout, Freshness, Strategy, Upstream};
use crate::notes;
pub use sizing::Sizing;

/// What the advisor recommends, what was chosen (the same unless the user overrode it),
/// and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The chosen strategy: the recommended one unless `generate.strategy` overrides it.
    pub strategy: Strategy,
    pub upstream: Upstream,
    /// The chosen fan-out: the recommended one unless `generate.fanout` overrides it.
    pub fanout: Fanout,
    /// What rtgen recommends for these answers, whatever was chosen.
    pub recommended: Choice,
    /// `access.auth`: whether the service checks a token on every subscribe and publish.
    pub auth: Auth,
    /// Why, phrased from the user's answers, one entry per rule that fired, and one for
    /// every answer that did not change the advice, saying why.
    pub reasons: Vec<String>,
    /// Costs of `[generate]` overrides the user asked for, and answers that contradict
    /// each other harmlessly.
    pub warnings: Vec<String>,
    /// Weaknesses of the chosen strategy (and of Redis fan-out) with how to mitigate them.
    pub cons: Vec<Con>,
    /// All four strategies: the chosen one first, then by score.
    pub ranking: Vec<Ranked>,
    /// Instances that hold client connections: `scale.servers` where it was answered, the
    /// sizing's instances otherwise.
    pub servers: u32,
    /// What the sizing answers (`scale.connections` and the other two) come to for the
    /// chosen strategy; `None` without them.
    pub sizing: Option<Sizing>,
}

impl Recommendation {
    /// Whether the user overrode the recommended strategy.
    pub fn strategy_overridden(&self) -> bool {
        self.strategy != self.recommended.strategy
    }

    /// Whether the user overrode the recommended fan-out.
    pub fn fanout_overridden(&self) -> bool {
        self.fanout != self.recommended.fanout
    }
}

/// One strategy, its upstream and its fan-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub strategy: Strategy,
    pub upstream: Upstream,
    pub fanout: Fanout,
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
    /// A hard constraint removes this strategy: it cannot be chosen.
    #[serde(skip)]
    pub ruled_out: bool,
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
    reasons.extend(rules::unused_answers(answers, rule));

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

    let sizing = answers
        .scale
        .load
        .map(|load| sizing::size(load, strategy, answers.traffic.freshness));
    // An answered servers wins; otherwise the sizing decides how many there are.
    let (servers, sizing_decides) = match (answers.scale.servers, &sizing) {
        (Some(servers), _) => (servers, false),
        (None, Some(sizing)) => (sizing.instances, true),
        // `validate` never lets this through; answers built by hand can.
        (None, None) => {
            return Err(Conflict {
                key: "scale.servers",
                message:
                    "scale.servers is missing, and so are the sizing answers that would compute it"
                        .into(),
                hint: "give scale.servers, or scale.connections, scale.messages_per_second and \
                       scale.subscribers_per_message"
                    .into(),
            });
        }
    };
    let recommended_fanout = if servers > 1 {
        Fanout::Redis
    } else {
        Fanout::Memory
    };
    let fanout = match answers.generate.fanout {
        Some(fanout) => {
            overrides::check_fanout(answers, servers, fanout)?;
            warnings.extend(overrides::fanout_warning(answers, servers, fanout));
            fanout
        }
        None => recommended_fanout,
    };
    if !sizing_decides {
        reasons.push(match recommended_fanout {
            Fanout::Redis => format!(
                "scale.servers = {servers}: a message published on one server must reach clients held by the \
                 others, so the servers share messages through Redis pub/sub."
            ),
            Fanout::Memory => {
                "scale.servers = 1: one server holds every connection, so messages fan out in memory.".into()
            }
        });
    }
    if let (Some(sizing), Some(load)) = (&sizing, answers.scale.load) {
        // When the sizing decided, its reason says why from the numbers, fan-out included.
        reasons.push(sizing::reason(sizing, load, sizing_decides));
        if !sizing_decides && sizing.instances != servers {
            warnings.push(format!(
                "scale.servers = {servers} is what you answered, and it wins; the sizing answers come to {} \
                 instance{}. Leave scale.servers out to use the computed number.",
                sizing.instances,
                if sizing.instances == 1 { "" } else { "s" }
            ));
        }
    }
    if let Some(sizing) = &sizing {
        if sizing.needed > sizing::max_instances() {
            warnings.push(format!(
                "The sizing needs {} instances, more than the {} rtgen plans for: at this load one Redis \
                 cannot relay every message to every instance; shard channels across separate deployments.",
                sizing::thousands(sizing.needed),
                sizing::thousands(sizing::max_instances()),
            ));
        }
        if let Some(load) = answers.scale.load
            && load.subscribers_per_message > load.connections
        {
            warnings.push(format!(
                "scale.subscribers_per_message = {} is more than scale.connections = {}: a message cannot reach more \
                 clients than are connected, so the sizing counts {} per message.",
                load.subscribers_per_message, load.connections, load.connections
            ));
        }
    }

    if answers.constraints.mobile {
        reasons.push(if recommended == Strategy::Sse {
            "constraints.mobile = true: batteries matter, and SSE is also the easiest on them (one idle stream, \
             no repeated requests); the cons include battery advice."
                .into()
        } else {
            format!(
                "constraints.mobile = true does not change the strategy: {} is what these answers need, so the \
                 mobile answer moves SSE (easiest on batteries) up the ranking and adds battery advice to the cons.",
                notes::of(recommended).title
            )
        });
    }
    reasons.push(auth_reason(answers));

    if let (Direction::Bidirectional, Some(stated)) =
        (answers.traffic.direction, answers.traffic.freshness_answer)
        && stated != Freshness::Instant
    {
        warnings.push(format!(
            "traffic.freshness = \"{stated}\" is ignored: bidirectional traffic is a conversation, where a \
             late reply is no reply, so rtgen treats it as \"instant\". Remove the line, or set \
             traffic.direction = \"server-to-client\" if clients only read."
        ));
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
        recommended: Choice {
            strategy: recommended,
            upstream: recommended_upstream,
            fanout: recommended_fanout,
        },
        auth: answers.access.auth,
        reasons,
        warnings,
        cons,
        ranking: ranking::rank(answers, recommended, strategy),
        servers,
        sizing,
    })
}

fn auth_reason(answers: &Answers) -> String {
    let use_case = answers.traffic.use_case;
    match answers.access.auth {
        Auth::Jwt => format!(
            "access.auth = \"jwt\": every subscribe and publish shows a JSON Web Token, and a user reads only \
             the channels it grants and their own user:<id>{}.",
            if use_case.private_by_default() {
                format!(
                    " (the default for {use_case}, where people must not read each other's messages)"
                )
            } else {
                String::new()
            }
        ),
        Auth::None => format!(
            "access.auth = \"none\": anyone who can reach the service may read any channel{}; set \
             access.auth = \"jwt\" when channels belong to users.",
            if use_case.private_by_default() {
                String::new()
            } else {
                format!(" (the default for {use_case}, where the data is shared by all readers)")
            }
        ),
    }
}

impl From<&notes::ConNote> for Con {
    fn from(note: &notes::ConNote) -> Self {
        Con {
            problem: note.problem.to_string(),
            mitigation: note.mitigation.to_string(),
        }
    }
}

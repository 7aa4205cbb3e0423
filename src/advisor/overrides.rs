//! `[generate]` overrides: honoured with a warning where they cost something, refused with a
//! [`Conflict`] where they break a hard constraint or cannot work.

use super::Conflict;
use super::rules::exclusion_of;
use crate::answers::{Answers, Direction, Fanout, Freshness, Strategy};

/// Refuses a strategy a hard constraint removes.
pub fn check_strategy(answers: &Answers, strategy: Strategy) -> Result<(), Conflict> {
    match exclusion_of(&answers.constraints, strategy) {
        None => Ok(()),
        Some(exclusion) => Err(Conflict {
            key: "generate.strategy",
            message: format!(
                "\"{strategy}\" cannot be used because {} = true: {}",
                exclusion.key, exclusion.because
            ),
            hint: format!(
                "set generate.strategy to \"auto\" (or drop --strategy) to get a strategy that works, or set {} = \
                 false if that is no longer true",
                exclusion.key
            ),
        }),
    }
}

/// What choosing `strategy` over `recommended` costs, for these answers.
pub fn strategy_warning(answers: &Answers, strategy: Strategy, recommended: Strategy) -> String {
    let (use_case, freshness) = (answers.traffic.use_case, answers.traffic.freshness);
    let bidirectional = answers.traffic.direction == Direction::Bidirectional;
    let cost = match strategy {
        Strategy::ShortPolling if bidirectional || freshness == Freshness::Instant => format!(
            "short polling delivers {use_case} messages up to one poll interval late (lag), and every client \
             polls even when nothing happens"
        ),
        Strategy::ShortPolling => format!(
            "short polling must poll often to meet \"{freshness}\" freshness, and most polls come back empty"
        ),
        Strategy::LongPolling => "long polling costs a full HTTP request per message and holds a connection per \
                                  waiting client"
            .to_string(),
        Strategy::Sse if bidirectional => format!(
            "with SSE, clients send their {use_case} messages as separate HTTP POSTs: a request per message"
        ),
        Strategy::Sse if freshness == Freshness::Minutes => {
            "SSE keeps a connection open per client, which updates every few minutes do not need".into()
        }
        Strategy::Sse => {
            "SSE keeps a streaming connection per client, and every proxy on the path must not buffer it".into()
        }
        Strategy::Websocket => "WebSockets add a stateful two-way protocol for one-way data: no built-in resume \
                                and the load balancer must pass Upgrade headers"
            .into(),
    };
    format!(
        "generate.strategy = \"{strategy}\" overrides the recommended \"{recommended}\": {cost}."
    )
}

/// Refuses in-memory fan-out across several servers.
/// `servers` is the answer or, where the sizing answers stand in for it, the computed count.
pub fn check_fanout(answers: &Answers, servers: u32, fanout: Fanout) -> Result<(), Conflict> {
    if fanout == Fanout::Memory && servers > 1 {
        return Err(Conflict {
            key: "generate.fanout",
            message: format!(
                "\"memory\" cannot work with {}: a message published on one server would never reach clients \
                 connected to the other {}",
                servers_phrase(answers, servers),
                servers - 1
            ),
            hint: match answers.scale.servers {
                Some(_) => "set generate.fanout to \"redis\" or \"auto\", or set scale.servers = 1".into(),
                None => "set generate.fanout to \"redis\" or \"auto\"; scale.servers = 1 runs one server \
                         whatever the sizing says"
                    .into(),
            },
        });
    }
    Ok(())
}

pub fn fanout_warning(answers: &Answers, servers: u32, fanout: Fanout) -> Option<String> {
    (fanout == Fanout::Redis && servers == 1).then(|| {
        format!(
            "generate.fanout = \"redis\" with {}: Redis is one more service to run and monitor; it pays off once \
             a second server holds connections.",
            servers_phrase(answers, servers)
        )
    })
}

/// `scale.servers = 3`, or `3 servers (computed from the sizing answers)`.
pub fn servers_phrase(answers: &Answers, servers: u32) -> String {
    match answers.scale.servers {
        Some(_) => format!("scale.servers = {servers}"),
        None => format!(
            "{servers} server{} (computed from the sizing answers)",
            if servers == 1 { "" } else { "s" }
        ),
    }
}

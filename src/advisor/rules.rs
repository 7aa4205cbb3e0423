//! The decision framework as data: hard constraints that remove strategies, then strategy
//! rules tried in order (the first that applies wins). `explain` draws these same tables.

use crate::answers::{
    Answers, Constraints, Direction, Freshness, Named, Strategy, Upstream, UseCase,
};

use Strategy::{LongPolling, ShortPolling, Sse, Websocket};

/// A hard constraint: when it holds, the listed strategies cannot be used at all.
pub struct Exclusion {
    pub key: &'static str,
    pub holds: fn(&Constraints) -> bool,
    pub removes: &'static [Strategy],
    /// Why, in the user's terms.
    pub because: &'static str,
}

pub const EXCLUSIONS: &[Exclusion] = &[
    Exclusion {
        key: "constraints.legacy_clients",
        holds: |c| c.legacy_clients,
        removes: &[Sse, Websocket],
        because: "some clients have neither EventSource nor WebSocket",
    },
    Exclusion {
        key: "constraints.websockets_blocked",
        holds: |c| c.websockets_blocked,
        removes: &[Websocket],
        because: "proxies or firewalls on the path may block WebSocket upgrades",
    },
];

/// The strategies that no hard constraint removes, in `Strategy` order.
pub fn available(constraints: &Constraints) -> Vec<Strategy> {
    Strategy::ALL
        .iter()
        .copied()
        .filter(|s| exclusion_of(constraints, *s).is_none())
        .collect()
}

/// The first hard constraint that removes `strategy`, if any.
pub fn exclusion_of(constraints: &Constraints, strategy: Strategy) -> Option<&'static Exclusion> {
    EXCLUSIONS
        .iter()
        .find(|e| (e.holds)(constraints) && e.removes.contains(&strategy))
}

/// Which rule a [`Rule`] is, so answers it does not look at can be named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleId {
    Bidirectional,
    Push,
    Mvp,
    View,
}

/// One strategy rule.
pub struct Rule {
    pub id: RuleId,
    /// The condition and the outcome, as `explain` draws them.
    pub when: &'static str,
    pub then: &'static str,
    pub applies: fn(&Answers) -> bool,
    /// Candidates, best first; the first that no hard constraint removes is chosen.
    pub prefer: fn(&Answers) -> &'static [(Strategy, Upstream)],
    /// Why the chosen candidate fits, phrased from the answers.
    pub because: fn(&Answers, Strategy) -> String,
}

const PUSH_USE_CASES: [UseCase; 4] = [
    UseCase::NewsFeed,
    UseCase::Notifications,
    UseCase::StatusUpdates,
    UseCase::StockTicker,
];

/// In order: the first rule that applies wins.
pub const RULES: &[Rule] = &[
    Rule {
        id: RuleId::Bidirectional,
        when: "bidirectional (any use case)",
        then: "WebSockets; without WebSockets: SSE down + HTTP POST up; with legacy_clients: long polling + HTTP POST up",
        applies: |a| a.traffic.direction == Direction::Bidirectional,
        prefer: |_| {
            &[
                (Websocket, Upstream::Websocket),
                (Sse, Upstream::HttpPost),
                (LongPolling, Upstream::HttpPost),
            ]
        },
        because: |a, chosen| {
            let use_case = a.traffic.use_case;
            match chosen {
                Websocket => format!(
                    "Data flows both ways ({use_case}), so one WebSocket carries messages in both directions with \
                     the lowest latency."
                ),
                other => format!(
                    "Data flows both ways ({use_case}) but WebSockets are ruled out, so {} carries server-to-client \
                     messages and plain HTTP POSTs carry client-to-server ones.",
                    crate::notes::of(other).title
                ),
            }
        },
    },
    Rule {
        id: RuleId::Push,
        when: "news-feed, notifications, status-updates or stock-ticker",
        then: "SSE (long polling with legacy_clients)",
        applies: |a| PUSH_USE_CASES.contains(&a.traffic.use_case),
        prefer: |_| &[(Sse, Upstream::None), (LongPolling, Upstream::None)],
        because: |a, chosen| {
            let use_case = a.traffic.use_case;
            match chosen {
                Sse => format!(
                    "A {use_case} service only pushes from server to clients: exactly what SSE does, with automatic \
                     reconnect and resume by Last-Event-ID."
                ),
                _ => format!(
                    "A {use_case} service only pushes from server to clients, and without EventSource on every client \
                     long polling delivers it over plain requests."
                ),
            }
        },
    },
    Rule {
        id: RuleId::Mvp,
        when: "mvp",
        then: "long polling (short polling when freshness is minutes)",
        applies: |a| a.constraints.mvp,
        prefer: |a| match a.traffic.freshness {
            Freshness::Minutes => &[(ShortPolling, Upstream::None)],
            _ => &[(LongPolling, Upstream::None)],
        },
        because: |a, chosen| match chosen {
            ShortPolling => format!(
                "constraints.mvp: fewest moving parts matters most, and with freshness \"{}\" short polling is \
                 the simplest thing that works.",
                a.traffic.freshness
            ),
            _ => format!(
                "constraints.mvp: fewest moving parts matters most; long polling needs nothing but HTTP requests \
                 and still delivers \"{}\" updates.",
                a.traffic.freshness
            ),
        },
    },
    Rule {
        id: RuleId::View,
        when: "dashboard or other",
        then: "seconds or minutes: short polling; instant: SSE (long polling with legacy_clients)",
        applies: |a| matches!(a.traffic.use_case, UseCase::Dashboard | UseCase::Other),
        prefer: |a| match a.traffic.freshness {
            Freshness::Instant => &[(Sse, Upstream::None), (LongPolling, Upstream::None)],
            Freshness::Seconds | Freshness::Minutes => &[(ShortPolling, Upstream::None)],
        },
        because: |a, chosen| {
            let (use_case, freshness) = (a.traffic.use_case, a.traffic.freshness);
            match chosen {
                ShortPolling => format!(
                    "A {use_case} view may lag by {freshness}, so short polling (plain requests on a timer) is \
                     enough and keeps no connections open."
                ),
                Sse => format!(
                    "A {use_case} view that must update instantly needs a push channel: SSE."
                ),
                _ => format!(
                    "A {use_case} view that must update instantly needs a push channel; without EventSource on \
                     every client, long polling provides it."
                ),
            }
        },
    },
];

/// The rule that decides for `answers`. The rules cover every valid answer set (a test checks
/// this over all combinations), so this never fails for validated answers.
pub fn deciding_rule(answers: &Answers) -> &'static Rule {
    RULES
        .iter()
        .find(|rule| (rule.applies)(answers))
        .expect("the last rule covers every server-to-client use case the others leave")
}

/// A reason for each answer that did not change the recommended strategy under `rule`,
/// saying why, so that no answer is ignored without a word.
pub fn unused_answers(answers: &Answers, rule: &Rule) -> Vec<String> {
    let mut reasons = Vec::new();
    let (use_case, freshness) = (answers.traffic.use_case, answers.traffic.freshness);
    if answers.constraints.mvp && rule.id != RuleId::Mvp {
        reasons.push(format!(
            "constraints.mvp = true does not change the strategy: the rule for {} comes first, because a {use_case} \
             service built on anything simpler would have to be rebuilt to work at all; the generated service is \
             already the smallest that does the job.",
            rule.when
        ));
    }
    if rule.id == RuleId::Push
        && answers.traffic.direction == Direction::ServerToClient
        && freshness != Freshness::Instant
    {
        reasons.push(format!(
            "traffic.freshness = \"{freshness}\" does not change the strategy: a {use_case} service pushes items \
             as they happen, which costs one idle connection per client; the freshness only shapes the ranking."
        ));
    }
    reasons
}

/// How a client sends data when `strategy` carries the server-to-client side.
pub fn upstream_for(direction: Direction, strategy: Strategy) -> Upstream {
    match (direction, strategy) {
        (Direction::ServerToClient, _) => Upstream::None,
        (Direction::Bidirectional, Websocket) => Upstream::Websocket,
        (Direction::Bidirectional, _) => Upstream::HttpPost,
    }
}

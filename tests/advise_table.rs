//! The expected outcomes of issue 2, row by row, against the pure decision function.

use proptest::prelude::*;
use rtgen::advisor::{advise, sizing};
use rtgen::answers::{
    Access, Answers, Auth, Constraints, Direction, Fanout, Freshness, GenerateOverrides, Load,
    Named, PerSecond, Scale, Strategy, Traffic, Upstream, UseCase,
};

fn answers(
    direction: Direction,
    use_case: UseCase,
    freshness: Freshness,
    constraints: &[&str],
    servers: u32,
) -> Answers {
    let has = |name| constraints.contains(&name);
    Answers {
        name: None,
        description: None,
        traffic: Traffic {
            direction,
            use_case,
            freshness,
            freshness_answer: None,
        },
        scale: Scale {
            servers: Some(servers),
            load: None,
        },
        constraints: Constraints {
            websockets_blocked: has("websockets_blocked"),
            legacy_clients: has("legacy_clients"),
            mvp: has("mvp"),
            mobile: has("mobile"),
        },
        access: Access { auth: Auth::None },
        generate: GenerateOverrides::default(),
    }
}

/// direction, use_case, freshness, constraints, servers -> strategy, upstream, fanout
type Row = (
    Direction,
    UseCase,
    Freshness,
    &'static [&'static str],
    u32,
    Strategy,
    Upstream,
    Fanout,
);

#[test]
fn issue_table_of_expected_outcomes() {
    use Direction::{Bidirectional as Bi, ServerToClient as S2c};
    use Fanout::{Memory, Redis};
    use Freshness::{Instant, Minutes, Seconds};
    use Strategy::{LongPolling, ShortPolling, Sse, Websocket};
    use UseCase::*;
    // Bidirectional rows leave freshness blank in the issue: validation makes it instant.
    #[rustfmt::skip]
    let rows: [Row; 11] = [
        (Bi,  Chat,          Instant, &[],                     1, Websocket,    Upstream::Websocket, Memory),
        (Bi,  Game,          Instant, &[],                     4, Websocket,    Upstream::Websocket, Redis),
        (Bi,  Collaboration, Instant, &["websockets_blocked"], 1, Sse,          Upstream::HttpPost,  Memory),
        (Bi,  Chat,          Instant, &["legacy_clients"],     2, LongPolling,  Upstream::HttpPost,  Redis),
        (S2c, NewsFeed,      Instant, &[],                     1, Sse,          Upstream::None,      Memory),
        (S2c, Notifications, Seconds, &["mobile", "mvp"],      3, Sse,          Upstream::None,      Redis),
        (S2c, StatusUpdates, Instant, &["legacy_clients"],     1, LongPolling,  Upstream::None,      Memory),
        (S2c, Dashboard,     Minutes, &[],                     1, ShortPolling, Upstream::None,      Memory),
        (S2c, Dashboard,     Instant, &[],                     2, Sse,          Upstream::None,      Redis),
        (S2c, Other,         Instant, &["mvp"],                1, LongPolling,  Upstream::None,      Memory),
        (S2c, Other,         Minutes, &["mvp"],                1, ShortPolling, Upstream::None,      Memory),
    ];
    for (i, (direction, use_case, freshness, constraints, servers, strategy, upstream, fanout)) in
        rows.into_iter().enumerate()
    {
        let rec = advise(&answers(
            direction,
            use_case,
            freshness,
            constraints,
            servers,
        ))
        .unwrap();
        assert_eq!(
            (rec.strategy, rec.upstream, rec.fanout),
            (strategy, upstream, fanout),
            "row {}: {direction} {use_case} {freshness} {constraints:?} servers={servers}",
            i + 1
        );
    }
}

#[test]
fn reasons_are_phrased_from_the_answers() {
    let rec = advise(&answers(
        Direction::ServerToClient,
        UseCase::StockTicker,
        Freshness::Instant,
        &["legacy_clients"],
        3,
    ))
    .unwrap();
    let reasons = rec.reasons.join("\n");
    assert!(
        reasons.contains("constraints.legacy_clients = true"),
        "{reasons}"
    );
    assert!(reasons.contains("stock-ticker"), "{reasons}");
    assert!(reasons.contains("scale.servers = 3"), "{reasons}");
}

#[test]
fn cons_cover_the_strategy_redis_and_mobile() {
    let rec = advise(&answers(
        Direction::Bidirectional,
        UseCase::Chat,
        Freshness::Instant,
        &["mobile"],
        2,
    ))
    .unwrap();
    let problems: Vec<&str> = rec.cons.iter().map(|c| c.problem.as_str()).collect();
    assert!(
        problems.iter().any(|p| p.contains("Upgrade")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("fire-and-forget")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.starts_with("battery")),
        "{problems:?}"
    );
    assert!(rec.cons.iter().all(|c| !c.mitigation.is_empty()));

    let sse = advise(&answers(
        Direction::ServerToClient,
        UseCase::NewsFeed,
        Freshness::Instant,
        &[],
        1,
    ))
    .unwrap();
    let problems: Vec<&str> = sse.cons.iter().map(|c| c.problem.as_str()).collect();
    assert!(
        problems.iter().any(|p| p.contains("buffer")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("6 HTTP/1.1 connections")),
        "{problems:?}"
    );
    assert!(
        !problems.iter().any(|p| p.contains("fire-and-forget")),
        "no Redis cons on one server"
    );
}

#[test]
fn mobile_favours_sse_in_the_ranking() {
    let score = |constraints: &[&str]| {
        let rec = advise(&answers(
            Direction::Bidirectional,
            UseCase::Chat,
            Freshness::Instant,
            constraints,
            1,
        ))
        .unwrap();
        let position = rec
            .ranking
            .iter()
            .position(|r| r.strategy == Strategy::Sse)
            .unwrap();
        (position, rec.ranking[position].score)
    };
    let (plain_position, plain_score) = score(&[]);
    let (mobile_position, mobile_score) = score(&["mobile"]);
    assert!(mobile_score > plain_score, "{mobile_score} > {plain_score}");
    assert!(mobile_position <= plain_position);
}

#[test]
fn overrides_warn_where_they_cost_something() {
    let mut chat = answers(
        Direction::Bidirectional,
        UseCase::Chat,
        Freshness::Instant,
        &[],
        1,
    );
    chat.generate.strategy = Some(Strategy::ShortPolling);
    let rec = advise(&chat).unwrap();
    assert_eq!(
        (rec.strategy, rec.upstream),
        (Strategy::ShortPolling, Upstream::HttpPost)
    );
    assert_eq!(rec.ranking[0].strategy, Strategy::ShortPolling);
    assert!(
        rec.warnings.iter().any(|w| w.contains("lag")),
        "{:?}",
        rec.warnings
    );

    let mut same = answers(
        Direction::Bidirectional,
        UseCase::Chat,
        Freshness::Instant,
        &[],
        1,
    );
    same.generate.strategy = Some(Strategy::Websocket);
    assert!(
        advise(&same).unwrap().warnings.is_empty(),
        "choosing the recommendation costs nothing"
    );

    let mut one_server = answers(
        Direction::ServerToClient,
        UseCase::NewsFeed,
        Freshness::Seconds,
        &[],
        1,
    );
    one_server.generate.fanout = Some(Fanout::Redis);
    let rec = advise(&one_server).unwrap();
    assert_eq!(rec.fanout, Fanout::Redis);
    assert!(
        rec.warnings.iter().any(|w| w.contains("scale.servers = 1")),
        "{:?}",
        rec.warnings
    );
}

/// constraints, strategy override, fanout override, servers -> conflicting key, words in the message
type Refusal = (
    &'static [&'static str],
    Option<Strategy>,
    Option<Fanout>,
    u32,
    &'static str,
    &'static str,
);

#[test]
fn overrides_that_break_a_constraint_or_cannot_work_conflict() {
    #[rustfmt::skip]
    let cases: [Refusal; 4] = [
        (&["websockets_blocked"], Some(Strategy::Websocket), None, 1, "generate.strategy", "websockets_blocked"),
        (&["legacy_clients"], Some(Strategy::Sse), None, 1, "generate.strategy", "legacy_clients"),
        (&["legacy_clients"], Some(Strategy::Websocket), None, 1, "generate.strategy", "legacy_clients"),
        (&[], None, Some(Fanout::Memory), 3, "generate.fanout", "other 2"),
    ];
    for (constraints, strategy, fanout, servers, key, says) in cases {
        let mut a = answers(
            Direction::Bidirectional,
            UseCase::Game,
            Freshness::Instant,
            constraints,
            servers,
        );
        a.generate = GenerateOverrides { strategy, fanout };
        let conflict = advise(&a).unwrap_err();
        assert_eq!(conflict.key, key);
        assert!(conflict.message.contains(says), "{}", conflict.message);
        assert!(!conflict.hint.is_empty());
    }
}

fn load(connections: u32, messages_per_second: f64, subscribers_per_message: u32) -> Load {
    Load {
        connections,
        messages_per_second: PerSecond::new(messages_per_second).unwrap(),
        subscribers_per_message,
    }
}

/// Answers that give the sizing answers instead of `servers`, with `strategy` fixed.
fn sized(strategy: Strategy, freshness: Freshness, load: Load) -> Answers {
    let mut a = answers(
        Direction::ServerToClient,
        UseCase::NewsFeed,
        freshness,
        &[],
        1,
    );
    a.scale = Scale {
        servers: None,
        load: Some(load),
    };
    a.generate.strategy = Some(strategy);
    a
}

/// strategy, freshness, connections, messages/s, subscribers per message -> instances, fan-out.
/// The expected instances follow from the benchmark figures in src/advisor/figures.rs: when
/// a reviewed commit updates those, this table shows what the new figures change.
type SizingRow = (Strategy, Freshness, u32, f64, u32, u32, Fanout);

#[test]
fn sizing_table() {
    use Strategy::*;
    #[rustfmt::skip]
    let rows: [SizingRow; 8] = [
        // A small feed: 100 deliveries/s, a few MiB: one instance, in-memory fan-out.
        (Sse, Freshness::Instant, 1_000, 1.0, 100, 1, Fanout::Memory),
        // More connections than the benchmark measured one instance holding (15,000).
        (Sse, Freshness::Instant, 200_000, 100.0, 1_000, 14, Fanout::Redis),
        (Websocket, Freshness::Instant, 200_000, 100.0, 1_000, 14, Fanout::Redis),
        // CPU-bound: 1,000,000 deliveries/s at 6.3 µs is 6.3 cores, 1 core (50% of 2) each.
        (Sse, Freshness::Instant, 10_000, 1_000.0, 1_000, 7, Fanout::Redis),
        // 2,500,000 deliveries/s at 6.4 µs: 16 cores.
        (Websocket, Freshness::Instant, 5_000, 500.0, 5_000, 16, Fanout::Redis),
        // Long polling: one request per delivery at 18.4 µs; 100,000/s is 1.84 cores.
        (LongPolling, Freshness::Instant, 10_000, 10.0, 10_000, 2, Fanout::Redis),
        // Short polling costs per poll: 12,000 clients polling every second at 27.3 µs.
        (ShortPolling, Freshness::Instant, 12_000, 1_000.0, 12_000, 1, Fanout::Memory),
        // The same clients every 30 s cost 30 times less; rates do not matter.
        (ShortPolling, Freshness::Minutes, 12_000, 0.5, 1, 1, Fanout::Memory),
    ];
    for (i, (strategy, freshness, connections, rate, audience, instances, fanout)) in
        rows.into_iter().enumerate()
    {
        let context = format!(
            "row {}: {strategy} {connections} x {rate} -> {audience}",
            i + 1
        );
        let rec = advise(&sized(
            strategy,
            freshness,
            load(connections, rate, audience),
        ))
        .unwrap();
        let sizing = rec.sizing.as_ref().expect("sizing answers give a sizing");
        assert_eq!(sizing.instances, instances, "{context}");
        assert_eq!(rec.servers, instances, "{context}: the computed servers");
        assert_eq!(rec.recommended.fanout, fanout, "{context}");
        let fanout_reason = rec
            .reasons
            .iter()
            .find(|r| r.starts_with("Sizing:"))
            .expect("the sizing explains the fan-out");
        let says = match fanout {
            Fanout::Redis => "through Redis pub/sub",
            Fanout::Memory => "fan out in memory",
        };
        assert!(fanout_reason.contains(says), "{context}: {fanout_reason}");
        assert_eq!(
            sizing.redis_publishes_per_second,
            (instances > 1).then_some(rate),
            "{context}"
        );
        assert_eq!(
            sizing.connections_per_instance,
            connections.div_ceil(instances),
            "{context}"
        );
        assert!(
            sizing.basis.contains("commit"),
            "{context}: {}",
            sizing.basis
        );
    }
}

#[test]
fn an_explicit_servers_wins_over_the_sizing_and_says_so() {
    let mut a = sized(
        Strategy::Sse,
        Freshness::Instant,
        load(200_000, 100.0, 1_000),
    );
    a.scale.servers = Some(3);
    let rec = advise(&a).unwrap();
    assert_eq!(rec.servers, 3);
    assert_eq!(rec.sizing.as_ref().unwrap().instances, 14);
    let sizing_reason = rec
        .reasons
        .iter()
        .find(|r| r.starts_with("Sizing:"))
        .unwrap();
    assert!(
        sizing_reason.ends_with("takes 14 instances."),
        "the explicit servers decided the fan-out, not the sizing: {sizing_reason}"
    );
    assert!(
        rec.warnings
            .iter()
            .any(|w| w.contains("scale.servers = 3") && w.contains("14 instances")),
        "{:?}",
        rec.warnings
    );
}

#[test]
fn a_message_reaches_no_more_clients_than_are_connected() {
    let rec = advise(&sized(
        Strategy::Sse,
        Freshness::Instant,
        load(100, 1.0, 1_000),
    ))
    .unwrap();
    assert_eq!(rec.sizing.as_ref().unwrap().deliveries_per_second, 100.0);
    assert!(
        rec.warnings
            .iter()
            .any(|w| w.contains("subscribers_per_message = 1000")),
        "{:?}",
        rec.warnings
    );
}

proptest! {
    /// More connections, more messages or a larger audience never needs fewer instances,
    /// whatever the strategy and freshness.
    #[test]
    fn more_load_never_needs_fewer_instances(
        strategy in prop::sample::select(Strategy::ALL),
        freshness in prop::sample::select(Freshness::ALL),
        connections in 1u32..2_000_000,
        rate in 0.01f64..100_000.0,
        audience in 1u32..2_000_000,
        more_connections in 0u32..2_000_000,
        more_rate in 0.0f64..100_000.0,
        more_audience in 0u32..2_000_000,
    ) {
        let less = sizing::size(load(connections, rate, audience), strategy, freshness);
        let more = sizing::size(
            load(connections + more_connections, rate + more_rate, audience + more_audience),
            strategy,
            freshness,
        );
        prop_assert!(
            more.instances >= less.instances,
            "{} -> {} instances", less.instances, more.instances
        );
        prop_assert!(less.instances >= 1);
    }
}

#[test]
fn answers_built_without_servers_or_load_are_refused_not_a_panic() {
    let mut a = answers(
        Direction::Bidirectional,
        UseCase::Chat,
        Freshness::Instant,
        &[],
        1,
    );
    a.scale.servers = None;
    let conflict = advise(&a).unwrap_err();
    assert_eq!(conflict.key, "scale.servers");
    assert!(
        conflict.hint.contains("scale.connections"),
        "{}",
        conflict.hint
    );
}

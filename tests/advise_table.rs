//! The expected outcomes of issue 2, row by row, against the pure decision function.

use rtgen::advisor::advise;
use rtgen::answers::{
    Access, Answers, Auth, Constraints, Direction, Fanout, Freshness, GenerateOverrides, Scale,
    Strategy, Traffic, Upstream, UseCase,
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
        scale: Scale { servers },
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

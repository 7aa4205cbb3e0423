//! Every combination of direction x use case x freshness x constraint subset x servers {1, 2}
//! (and every override) keeps the framework's promises.

use rtgen::advisor::{Recommendation, advise, rules};
use rtgen::answers::{
    Access, Answers, Auth, Constraints, Direction, Fanout, Freshness, GenerateOverrides, Named,
    Scale, Strategy, Traffic,
};

fn all_answers() -> Vec<Answers> {
    let mut all = Vec::new();
    for &direction in Direction::ALL {
        for &use_case in direction.use_cases() {
            for &freshness in Freshness::ALL {
                for bits in 0..16u8 {
                    for servers in [1, 2] {
                        all.push(Answers {
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
                                websockets_blocked: bits & 1 != 0,
                                legacy_clients: bits & 2 != 0,
                                mvp: bits & 4 != 0,
                                mobile: bits & 8 != 0,
                            },
                            access: Access { auth: Auth::None },
                            generate: GenerateOverrides::default(),
                        });
                    }
                }
            }
        }
    }
    all
}

fn check_shape(answers: &Answers, rec: &Recommendation) {
    let context = format!("{answers:?}");
    assert!(
        !rec.reasons.is_empty() && rec.reasons.iter().all(|r| !r.is_empty()),
        "{context}"
    );
    assert!(!rec.cons.is_empty(), "{context}");
    assert_eq!(rec.ranking.len(), 4, "{context}");
    let mut strategies: Vec<Strategy> = rec.ranking.iter().map(|r| r.strategy).collect();
    strategies.sort();
    assert_eq!(
        strategies,
        Strategy::ALL,
        "each strategy ranked once: {context}"
    );
    assert_eq!(
        rec.ranking[0].strategy, rec.strategy,
        "chosen first: {context}"
    );
    assert!(
        rec.ranking
            .iter()
            .all(|r| r.score <= 100 && !r.reason.is_empty()),
        "{context}"
    );
    let rest: Vec<u8> = rec.ranking[1..].iter().map(|r| r.score).collect();
    assert!(
        rest.windows(2).all(|w| w[0] >= w[1]),
        "sorted by score: {rest:?} {context}"
    );
}

#[test]
fn every_combination_keeps_the_invariants() {
    let all = all_answers();
    assert_eq!(all.len(), (4 + 6) * 3 * 16 * 2);
    for answers in &all {
        let rec = advise(answers)
            .unwrap_or_else(|c| panic!("no overrides, no conflict: {c:?} {answers:?}"));
        let available = rules::available(&answers.constraints);
        assert!(
            available.contains(&rec.strategy),
            "never a removed strategy: {answers:?} -> {:?}",
            rec.strategy
        );
        assert_eq!(
            rec.fanout == Fanout::Redis,
            answers.scale.servers > Some(1),
            "{answers:?}"
        );
        assert!(
            rec.warnings.is_empty(),
            "no overrides, no warnings: {answers:?}"
        );
        check_shape(answers, &rec);
        assert!(
            rec.ranking[0].score > rec.ranking[1].score,
            "recommendation scores highest: {answers:?}"
        );
        for ranked in &rec.ranking {
            assert_eq!(
                ranked.score == 0,
                !available.contains(&ranked.strategy),
                "{answers:?} {ranked:?}"
            );
        }
    }
}

#[test]
fn every_override_is_honoured_or_refused() {
    for base in all_answers() {
        for strategy in Strategy::ALL.iter().copied().map(Some).chain([None]) {
            for fanout in [None, Some(Fanout::Memory), Some(Fanout::Redis)] {
                let mut answers = base.clone();
                answers.generate = GenerateOverrides { strategy, fanout };
                let removed =
                    strategy.is_some_and(|s| !rules::available(&answers.constraints).contains(&s));
                let impossible_fanout =
                    fanout == Some(Fanout::Memory) && answers.scale.servers > Some(1);
                match advise(&answers) {
                    Err(conflict) => {
                        assert!(removed || impossible_fanout, "{conflict:?} for {answers:?}")
                    }
                    Ok(rec) => {
                        assert!(!removed && !impossible_fanout, "must refuse {answers:?}");
                        if let Some(s) = strategy {
                            assert_eq!(rec.strategy, s);
                        }
                        let expected = fanout.unwrap_or(if answers.scale.servers > Some(1) {
                            Fanout::Redis
                        } else {
                            Fanout::Memory
                        });
                        assert_eq!(rec.fanout, expected);
                        check_shape(&answers, &rec);
                    }
                }
            }
        }
    }
}

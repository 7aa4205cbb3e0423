//! `rtgen new`'s engine: validate the name, select templates from the
//! manifest, render every file in memory, then write them atomically (or
//! print the tree for `--dry-run`).

pub mod context;
pub mod dev_env;
pub mod escape;
pub mod manifest;
pub mod name;
pub mod plan;
pub mod record;
pub mod render;
pub mod tree;
pub mod write;

use include_dir::{Dir, include_dir};

pub use manifest::{TemplateError, Templates};
pub use name::{NameError, ProjectName};
pub use plan::{Plan, PlannedFile, plan};
pub use write::{TargetState, WriteError, inspect, write_project};

use crate::advisor::{Con, Ranked, Recommendation};
use crate::answers::{
    Answers, Constraints, Direction, Fanout, Freshness, GenerateOverrides, Scale, Strategy,
    Traffic, Upstream, UseCase,
};

/// The templates compiled into rtgen (`build.rs` makes cargo notice new files).
static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

pub fn embedded() -> &'static Dir<'static> {
    &EMBEDDED
}

/// `answers` with `[generate]` pinned to what was chosen, so that generating
/// again from the recorded `rtgen.toml` yields the same project even when a
/// later rtgen would advise differently.
pub fn pin(answers: &Answers, strategy: Strategy, fanout: Fanout) -> Answers {
    let mut pinned = answers.clone();
    pinned.generate = GenerateOverrides {
        strategy: Some(strategy),
        fanout: Some(fanout),
    };
    pinned
}

pub const STRATEGIES: [Strategy; 4] = [
    Strategy::ShortPolling,
    Strategy::LongPolling,
    Strategy::Sse,
    Strategy::Websocket,
];
pub const FANOUTS: [Fanout; 2] = [Fanout::Memory, Fanout::Redis];

/// The upstreams the advisor can pair with `strategy`.
pub fn upstreams(strategy: Strategy) -> &'static [Upstream] {
    match strategy {
        Strategy::Websocket => &[Upstream::Websocket],
        _ => &[Upstream::None, Upstream::HttpPost],
    }
}

/// Checks the templates as a whole, for the test suite: the manifest lists
/// exactly the template files, every template compiles, and every
/// strategy x fan-out x upstream renders to a valid, collision-free file set.
pub fn check_templates(templates: &Templates) -> Result<(), TemplateError> {
    templates.check_tree()?;
    let renderer = render::Renderer::new(templates.dir);
    for entry in templates.entries.iter().filter(|e| e.renders()) {
        renderer
            .check_syntax(&entry.template)
            .map_err(|e| TemplateError(format!("{}: {}", entry.template, render::describe(&e))))?;
    }
    let name = ProjectName::parse("demo-app").map_err(|e| TemplateError(e.to_string()))?;
    for strategy in STRATEGIES {
        for fanout in FANOUTS {
            for &upstream in upstreams(strategy) {
                let (answers, rec) = sample(strategy, fanout, upstream);
                plan(templates, &name, &answers, &rec).map_err(|e| {
                    TemplateError(format!(
                        "strategy {strategy}, fanout {fanout}, upstream {upstream}: {e}"
                    ))
                })?;
            }
        }
    }
    Ok(())
}

/// Plausible answers and recommendation for one combination, with a
/// description full of characters that break unescaped templates.
pub fn sample(strategy: Strategy, fanout: Fanout, upstream: Upstream) -> (Answers, Recommendation) {
    let bidirectional = upstream != Upstream::None;
    let answers = Answers {
        name: Some("demo-app".into()),
        description: Some(
            "Scores \"live\" \\ {{ not jinja }} </script><script>alert(1)</script>\nsecond line"
                .into(),
        ),
        traffic: Traffic {
            direction: if bidirectional {
                Direction::Bidirectional
            } else {
                Direction::ServerToClient
            },
            use_case: if bidirectional {
                UseCase::Chat
            } else {
                UseCase::Dashboard
            },
            freshness: Freshness::Instant,
        },
        scale: Scale {
            servers: if fanout == Fanout::Redis { 3 } else { 1 },
        },
        constraints: Constraints::default(),
        generate: GenerateOverrides {
            strategy: Some(strategy),
            fanout: Some(fanout),
        },
    };
    let rec = Recommendation {
        strategy,
        upstream,
        fanout,
        reasons: vec!["Sample reason with `markdown` *and* <html>.".into()],
        warnings: vec!["Sample warning.".into()],
        cons: vec![Con {
            problem: "Sample problem.".into(),
            mitigation: "Sample mitigation.".into(),
        }],
        ranking: STRATEGIES
            .iter()
            .rev()
            .enumerate()
            .map(|(i, &s)| Ranked {
                strategy: s,
                score: 90 - 10 * i as u8,
                reason: format!("Sample ranking reason {i}."),
            })
            .collect(),
    };
    (answers, rec)
}

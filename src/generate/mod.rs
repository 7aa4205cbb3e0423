//! `rtgen new`'s engine: validate the name, select templates from the
//! manifest, render every file in memory, then write them atomically (or
//! print the tree for `--dry-run`).

pub mod context;
pub mod dev_env;
pub mod escape;
pub mod manifest;
pub mod name;
pub mod plan;
pub mod pristine;
pub mod record;
pub mod render;
pub mod tree;
pub mod write;

use include_dir::{Dir, include_dir};

pub use manifest::{TemplateError, Templates};
pub use name::{NameError, ProjectName};
pub use plan::{Plan, PlannedFile, plan};
pub use write::{Change, TargetState, WriteError, apply, inspect, write_project};

use sha2::{Digest, Sha256};

use crate::advisor::{Choice, Con, Ranked, Recommendation, sizing};
use crate::answers::{
    Access, Answers, Auth, Constraints, Direction, Fanout, Freshness, GenerateOverrides, Load,
    PerSecond, Scale, Strategy, Traffic, Upstream, UseCase,
};

/// The templates compiled into rtgen (`build.rs` makes cargo notice new files).
static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

pub fn embedded() -> &'static Dir<'static> {
    &EMBEDDED
}

/// The fingerprint of the templates compiled into this rtgen, as `rtgen.toml` records it
/// under `[rtgen] templates`: equal fingerprints mean the same templates, byte for byte.
pub fn templates_fingerprint() -> String {
    static FINGERPRINT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    FINGERPRINT.get_or_init(|| fingerprint(embedded())).clone()
}

/// A stable fingerprint of a template tree: SHA-256 over every file's path and bytes, in
/// path order, each length-prefixed so that no two trees hash alike by shifting bytes
/// between a path and its contents.
pub fn fingerprint(dir: &Dir<'_>) -> String {
    let mut hasher = Sha256::new();
    for path in manifest::all_files(dir) {
        let contents = dir.get_file(&path).map_or(&[][..], |file| file.contents());
        for part in [path.as_bytes(), contents] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
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
                for auth in [Auth::Jwt, Auth::None] {
                    let (mut answers, mut rec) = sample(strategy, fanout, upstream);
                    answers.access.auth = auth;
                    rec.auth = auth;
                    plan(templates, &name, &answers, &rec).map_err(|e| {
                        TemplateError(format!(
                            "strategy {strategy}, fanout {fanout}, upstream {upstream}, auth {auth}: {e}"
                        ))
                    })?;
                }
            }
        }
    }
    Ok(())
}

/// Plausible answers and recommendation for one combination, with a
/// description full of characters that break unescaped templates.
pub fn sample(strategy: Strategy, fanout: Fanout, upstream: Upstream) -> (Answers, Recommendation) {
    let bidirectional = upstream != Upstream::None;
    // Redis combinations also carry a load, so templates render a sizing; their explicit
    // servers = 3 wins over it, as it would in an answers file.
    let load = (fanout == Fanout::Redis).then(|| Load {
        connections: 200_000,
        messages_per_second: PerSecond::new(100.0).expect("a positive rate"),
        subscribers_per_message: 1_000,
    });
    let sizing = load.map(|load| sizing::size(load, strategy, Freshness::Instant));
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
            freshness_answer: None,
        },
        scale: Scale {
            servers: Some(if load.is_some() { 3 } else { 1 }),
            load,
        },
        constraints: Constraints::default(),
        access: Access { auth: Auth::Jwt },
        generate: GenerateOverrides {
            strategy: Some(strategy),
            fanout: Some(fanout),
        },
    };
    let rec = Recommendation {
        strategy,
        upstream,
        fanout,
        recommended: Choice {
            strategy: Strategy::Sse,
            upstream: Upstream::None,
            fanout: Fanout::Memory,
        },
        auth: Auth::Jwt,
        reasons: vec!["Sample reason with `markdown` *and* <html>.".into()],
        warnings: vec!["Sample warning.".into()],
        cons: vec![Con {
            problem: "Sample problem.".into(),
            mitigation: "Sample mitigation.".into(),
        }],
        servers: if fanout == Fanout::Redis { 3 } else { 1 },
        sizing,
        ranking: STRATEGIES
            .iter()
            .rev()
            .enumerate()
            .map(|(i, &s)| Ranked {
                strategy: s,
                score: 90 - 10 * i as u8,
                reason: format!("Sample ranking reason {i}."),
                ruled_out: false,
            })
            .collect(),
    };
    (answers, rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_changes_with_any_path_or_byte() {
        static A: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/tests/fixtures/templates");
        static B: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/tests/fixtures/bad/unlisted");
        let a = fingerprint(&A);
        assert_eq!(a, fingerprint(&A), "stable");
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, fingerprint(&B));
        assert_eq!(templates_fingerprint(), fingerprint(embedded()));
    }
}

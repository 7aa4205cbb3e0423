//! The real templates embedded in rtgen: the manifest matches the tree, every
//! combination renders, and a project holds nothing from another strategy.
//! Building and testing the generated projects is a separate, slower suite.

use rtgen::answers::{Fanout, Strategy};
use rtgen::generate::{self, FANOUTS, ProjectName, STRATEGIES, Templates, context};

fn templates() -> Templates {
    Templates::load(generate::embedded()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn manifest_and_templates_agree_for_every_combination() {
    generate::check_templates(&templates()).unwrap_or_else(|e| panic!("{e}"));
}

fn planned_paths(strategy: Strategy, fanout: Fanout) -> Vec<String> {
    let upstream = generate::upstreams(strategy)[0];
    let (answers, rec) = generate::sample(strategy, fanout, upstream);
    let name = ProjectName::parse("demo-app").unwrap();
    generate::plan(&templates(), &name, &answers, &rec)
        .unwrap_or_else(|e| panic!("{e}"))
        .files
        .into_iter()
        .map(|f| f.path)
        .collect()
}

/// A path "belongs" to a strategy when a directory or file stem is named
/// after that strategy's transport module (`src/sse.rs`, `tests/ws.rs`, ...).
fn mentions(path: &str, module: &str) -> bool {
    path.split('/')
        .any(|segment| segment.split('.').next() == Some(module))
}

#[test]
fn no_project_contains_files_of_another_strategy_or_fanout() {
    for strategy in STRATEGIES {
        for fanout in FANOUTS {
            let paths = planned_paths(strategy, fanout);
            for other in STRATEGIES.into_iter().filter(|s| *s != strategy) {
                let module = context::transport_module(other);
                let strays: Vec<&String> = paths.iter().filter(|p| mentions(p, module)).collect();
                assert!(
                    strays.is_empty(),
                    "{strategy:?}/{fanout:?} has {other:?} files: {strays:?}"
                );
            }
            if fanout == Fanout::Memory {
                let strays: Vec<&String> = paths.iter().filter(|p| p.contains("redis")).collect();
                assert!(
                    strays.is_empty(),
                    "{strategy:?}/memory has redis files: {strays:?}"
                );
            }
        }
    }
}

#[test]
fn every_project_has_its_own_transport() {
    for strategy in STRATEGIES {
        for fanout in FANOUTS {
            let paths = planned_paths(strategy, fanout);
            let own = format!("src/{}.rs", context::transport_module(strategy));
            assert!(
                paths.contains(&own),
                "{strategy:?}/{fanout:?} lacks {own}: {paths:?}"
            );
        }
    }
}

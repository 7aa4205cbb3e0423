//! `src/advisor/figures.rs` cites one benchmark run; this test recomputes every figure from
//! that run's `bench/results/results.json` by the rules written in figures.rs (the same
//! `bench/sizing_figures.py` applies when it prints them), so the table cannot drift from
//! the run it names. A new run committed without its figures fails here until the printed
//! block is pasted into figures.rs: the update stays a reviewed change.

use rtgen::advisor::figures::{Cpu, FIGURES, MEASURED};
use rtgen::answers::Strategy;
use serde_json::Value;

fn results() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/results/results.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn runs<'a>(results: &'a Value, scenario: &str, server: &str) -> Vec<&'a Value> {
    results["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["scenario"] == scenario && r["server"] == server && r.get("failed").is_none())
        .collect()
}

fn f(value: &Value) -> f64 {
    value.as_f64().unwrap()
}

/// S2 or S4 at the largest subscriber count, the costlier of its rates.
fn per_delivery(results: &Value, scenario: &str, server: &str) -> Option<f64> {
    let cases: Vec<&Value> = runs(results, scenario, server)
        .into_iter()
        .map(|r| &r["result"])
        .collect();
    let most = cases
        .iter()
        .map(|c| c["subscribers"].as_u64().unwrap())
        .max()?;
    cases
        .iter()
        .filter(|c| c["subscribers"].as_u64() == Some(most))
        .map(|c| f(&c["server_cpu_us_per_delivery"]))
        .reduce(f64::max)
}

fn close(figure: f64, measured: f64, what: &str) {
    assert!(
        (figure - measured).abs() <= 0.05 + 1e-9,
        "{what}: figures.rs says {figure}, the run measured {measured:.3}"
    );
}

#[test]
fn the_figures_are_the_cited_runs_measurements() {
    let results = results();
    assert_eq!(results["commit"], MEASURED.commit);
    assert!(
        results["date"].as_str().unwrap().starts_with(MEASURED.date),
        "{}",
        results["date"]
    );
    assert_eq!(results["scale"], MEASURED.scale);
    let most = results["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["scenario"] == "S1" && r["server"].as_str().unwrap().ends_with("-memory"))
        .map(|r| r["connections"].as_u64().unwrap())
        .max();
    assert_eq!(most, Some(u64::from(MEASURED.most_connections)));

    for figures in FIGURES {
        let name = figures.strategy.to_string();
        let memory_server = match figures.strategy {
            // No S1 case for short polling: the held-poll figure stands in.
            Strategy::ShortPolling => "long-polling-memory".to_string(),
            _ => format!("{name}-memory"),
        };
        let idle = runs(&results, "S1", &memory_server)
            .into_iter()
            .find(|r| r["connections"] == 10_000)
            .map(|r| f(&r["rss_per_connection_kib"]))
            .unwrap();
        close(
            figures.idle_kib_per_connection,
            idle,
            &format!("{name} KiB per idle connection"),
        );
        match figures.cpu {
            Cpu::PerDelivery(us) => close(
                us,
                per_delivery(&results, "S2", &format!("{name}-memory")).unwrap(),
                &format!("{name} µs per delivery"),
            ),
            Cpu::PerRequest(us) => {
                let case = runs(&results, "S2", "short-polling-memory")
                    .into_iter()
                    .map(|r| &r["result"])
                    .max_by_key(|c| c["subscribers"].as_u64())
                    .unwrap();
                let requests = f(&case["requests_per_sec"]) * f(&case["window_s"]);
                close(
                    us,
                    f(&case["server_cpu_s"]) * 1e6 / requests,
                    "short polling µs per request",
                );
            }
        }
        match (
            figures.redis_cpu_us_per_delivery,
            per_delivery(&results, "S4", &format!("{name}-redis")),
        ) {
            (Some(figure), Some(measured)) => {
                close(figure, measured, &format!("{name} through Redis"))
            }
            (None, None) => {}
            (figure, measured) => panic!("{name} through Redis: {figure:?} against {measured:?}"),
        }
    }
}

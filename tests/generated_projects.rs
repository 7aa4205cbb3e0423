//! Generates every strategy x fan-out combination with the real `rtgen new` and proves
//! each project the way its users will: `cargo fmt --check`, `cargo clippy --all-targets
//! -- -D warnings` and `cargo test` (whose end-to-end tests start the real server).

mod support;

fn prove(strategy: &str, fanout: &str) {
    let _one = support::cargo_lock();
    let project = support::generate(strategy, fanout);
    support::cargo(&project, &["fmt", "--check"]);
    support::cargo(
        &project,
        &["clippy", "--all-targets", "--", "-D", "warnings"],
    );
    support::cargo(&project, &["test"]);
}

macro_rules! combinations {
    ($($test:ident: $strategy:literal / $fanout:literal,)*) => {
        $(
            #[test]
            fn $test() {
                prove($strategy, $fanout);
            }
        )*
    };
}

combinations! {
    sse_memory: "sse" / "memory",
    websocket_memory: "websocket" / "memory",
    long_polling_memory: "long-polling" / "memory",
    short_polling_memory: "short-polling" / "memory",
}

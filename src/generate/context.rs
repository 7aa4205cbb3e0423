//! The variables every template sees. `templates/README.md` documents them
//! for template authors; keep the two in step.

use serde::Serialize;

use super::name::ProjectName;
use crate::advisor::Recommendation;
use crate::answers::{Answers, Fanout, Freshness, Strategy, Upstream, UseCase};

#[derive(Debug, Serialize)]
pub struct Context<'a> {
    /// The project name as given: `live-scores`.
    pub crate_name: &'a str,
    /// The name as a Rust identifier: `live_scores`.
    pub crate_ident: String,
    /// Raw user text, `""` when absent; templates must escape it for their target.
    pub description: &'a str,
    pub strategy: Strategy,
    /// The strategy's name for prose: `Server-Sent Events`.
    pub strategy_title: &'static str,
    /// The Rust module of the strategy's transport: `sse`.
    pub transport_module: &'static str,
    pub fanout: Fanout,
    /// The fan-out's name for prose: `in-process`.
    pub fanout_title: &'static str,
    pub upstream: Upstream,
    pub rtgen_version: &'static str,
    pub answers: &'a Answers,
    pub recommendation: &'a Recommendation,
    /// The short-polling interval that keeps the promised freshness.
    pub poll_interval_ms: u32,
    /// `AUTH_MODE`'s default in the generated service: `jwt` or `none`.
    // provisional: the answers branch defines access.auth
    pub auth: &'static str,
}

impl<'a> Context<'a> {
    pub fn new(name: &'a ProjectName, answers: &'a Answers, rec: &'a Recommendation) -> Self {
        Self {
            crate_name: name.as_str(),
            crate_ident: name.ident(),
            description: answers.description.as_deref().unwrap_or(""),
            strategy: rec.strategy,
            strategy_title: strategy_title(rec.strategy),
            transport_module: transport_module(rec.strategy),
            fanout: rec.fanout,
            fanout_title: fanout_title(rec.fanout),
            upstream: rec.upstream,
            rtgen_version: env!("CARGO_PKG_VERSION"),
            answers,
            recommendation: rec,
            poll_interval_ms: poll_interval_ms(answers.traffic.freshness),
            // provisional: the answers branch defines access.auth
            auth: match answers.traffic.use_case {
                UseCase::Chat | UseCase::Game | UseCase::Collaboration | UseCase::Notifications => {
                    "jwt"
                }
                _ => "none",
            },
        }
    }
}

/// Polling at about the freshness the user asked for: faster wastes requests,
/// slower breaks the promise.
pub fn poll_interval_ms(freshness: Freshness) -> u32 {
    match freshness {
        Freshness::Instant => 1_000,
        Freshness::Seconds => 2_000,
        Freshness::Minutes => 30_000,
    }
}

pub fn strategy_title(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::ShortPolling => "Short polling",
        Strategy::LongPolling => "Long polling",
        Strategy::Sse => "Server-Sent Events",
        Strategy::Websocket => "WebSockets",
    }
}

pub fn transport_module(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::ShortPolling => "short_poll",
        Strategy::LongPolling => "long_poll",
        Strategy::Sse => "sse",
        Strategy::Websocket => "ws",
    }
}

pub fn fanout_title(fanout: Fanout) -> &'static str {
    match fanout {
        Fanout::Memory => "in-process",
        Fanout::Redis => "Redis pub/sub",
    }
}

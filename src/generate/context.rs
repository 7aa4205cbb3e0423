//! The variables every template sees. `templates/README.md` documents them
//! for template authors; keep the two in step.

use serde::Serialize;

use super::name::ProjectName;
use crate::advisor::{Recommendation, sizing};
use crate::answers::{Answers, Auth, Fanout, Freshness, Strategy, Upstream};
use crate::notes;

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
    /// `access.auth`: `"jwt"` or `"none"`, the default of the service's `AUTH_MODE`.
    pub auth: Auth,
    pub rtgen_version: &'static str,
    pub answers: &'a Answers,
    pub recommendation: &'a Recommendation,
    /// The short-polling interval that keeps the promised freshness.
    pub poll_interval_ms: u32,
    /// The sizing as rows of `[what, how much]` with numbers formatted for prose; empty
    /// without sizing answers (`recommendation.sizing.basis` says where the figures come from).
    pub sizing_table: Vec<(&'static str, String)>,
    /// The sizing answers for prose (`200,000 connections, 100 messages/s, ...`), `""`
    /// without them.
    pub sizing_load: String,
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
            auth: rec.auth,
            rtgen_version: env!("CARGO_PKG_VERSION"),
            answers,
            recommendation: rec,
            poll_interval_ms: poll_interval_ms(answers.traffic.freshness),
            sizing_table: rec.sizing.as_ref().map(sizing::table).unwrap_or_default(),
            sizing_load: answers
                .scale
                .load
                .map(sizing::describe_load)
                .unwrap_or_default(),
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
    notes::of(strategy).project_title
}

pub fn transport_module(strategy: Strategy) -> &'static str {
    notes::of(strategy).module
}

pub fn fanout_title(fanout: Fanout) -> &'static str {
    notes::of_fanout(fanout).title
}

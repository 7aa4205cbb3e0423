//! The one validated `Answers` type. The answers file, `--preset`, `--set`, flags and the
//! interview all produce a [`PartialAnswers`]; [`PartialAnswers::validate`] is the only way
//! to obtain [`Answers`].

mod error;
pub mod file;
pub mod keys;
mod model;
mod partial;
pub mod presets;
pub mod recorded;
pub mod set;
mod suggest;
pub mod template;
mod validate;

pub use error::{AnswersError, BadName, JsonError, Missing, Origin, Problem};
pub use model::{
    Auth, Direction, Fanout, Freshness, Named, Override, PerSecond, Strategy, Upstream, UseCase,
};
pub use partial::{PartialAnswers, Raw, Sourced};
use serde::Serialize;

/// Complete, validated answers. Serializes to the normalized answers file
/// (the schema in README.md); `rtgen new` records it as `rtgen.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answers {
    /// Project name for `rtgen new`; `advise` ignores it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub traffic: Traffic,
    pub scale: Scale,
    pub constraints: Constraints,
    pub access: Access,
    pub generate: GenerateOverrides,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Traffic {
    pub direction: Direction,
    pub use_case: UseCase,
    /// Always `Instant` for bidirectional traffic.
    pub freshness: Freshness,
    /// The freshness as answered, if it was: kept so that an answer the advice cannot use
    /// (any freshness but instant for bidirectional traffic) is recorded as given and
    /// warned about, not silently dropped.
    #[serde(skip)]
    pub freshness_answer: Option<Freshness>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Scale {
    /// Instances that hold client connections, 1..=10000, as answered; `None` where the
    /// sizing answers were given instead and the advisor computes it
    /// (`Recommendation::servers` holds the number either way).
    pub servers: Option<u32>,
    /// The sizing answers, all three or none.
    #[serde(flatten)]
    pub load: Option<Load>,
}

/// The peak load the deployment must carry: what the advisor sizes instances from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Load {
    /// Peak concurrent clients, all servers together.
    pub connections: u32,
    /// Peak publishes per second, all channels together.
    pub messages_per_second: PerSecond,
    /// Clients that receive a typical message.
    pub subscribers_per_message: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Constraints {
    pub websockets_blocked: bool,
    pub legacy_clients: bool,
    pub mvp: bool,
    pub mobile: bool,
}

/// `[access]`: who may read what in the generated service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Access {
    pub auth: Auth,
}

/// `[generate]`: optional overrides of the advice; `None` is written as `"auto"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GenerateOverrides {
    #[serde(serialize_with = "auto_or")]
    pub strategy: Option<Strategy>,
    #[serde(serialize_with = "auto_or")]
    pub fanout: Option<Fanout>,
}

fn auto_or<T: Serialize, S: serde::Serializer>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => v.serialize(s),
        None => s.serialize_str("auto"),
    }
}

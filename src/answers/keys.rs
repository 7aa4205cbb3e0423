//! Every key of the answers file, defined once: its path, type and allowed values, what
//! it means, when it is needed and its default, the interview's question and per-value
//! hints, how a value is checked, where it is stored and how it is read back. The file
//! parser, `--set`, the interview, the missing-answers listing, `rtgen answers` and the
//! completions all read these definitions (ripgrep's `Flag` definitions are the model).
//!
//! Adding a key: one [`Def`] here (listed in [`ALL`]), its field in `PartialAnswers` and
//! `Answers`, and the advisor's use of it. Each definition names its storage slot and its
//! reader, so a definition without them does not compile, and nothing dispatches on key
//! names.

use super::Answers;
use super::error::{AnswersError, BadName, Origin, Problem};
use super::model::{
    Auth, Direction, Fanout, Freshness, Named, Override, PerSecond, Strategy, Upstream, UseCase,
};
use super::partial::{PartialAnswers, Raw, Sourced};
use super::suggest::closest;
use crate::generate::ProjectName;

/// The type of a key's value, as people write it.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Free text.
    Text,
    /// A cargo package name.
    PackageName,
    /// One of a fixed set of strings.
    Choice(fn() -> Vec<&'static str>),
    Integer {
        min: i64,
        max: i64,
    },
    /// A number, written with or without a fraction: greater than 0, at most `max`.
    Number {
        max: f64,
    },
    Bool,
}

impl Kind {
    /// How the expected value reads in an error ("a string", "an integer", ...).
    pub fn expected(self) -> &'static str {
        match self {
            Kind::Text | Kind::PackageName | Kind::Choice(_) => "a string",
            Kind::Integer { .. } => "an integer",
            Kind::Number { .. } => "a number",
            Kind::Bool => "a boolean (true or false)",
        }
    }

    /// The allowed values as users write them, e.g. `"sse", "websocket"` or `1..=10000`.
    pub fn allowed(self) -> String {
        match self {
            Kind::Text => "any text".into(),
            Kind::PackageName => "a cargo package name such as \"live-scores\"".into(),
            Kind::Choice(names) => quoted_list(&names()),
            Kind::Integer { min, max } => format!("an integer from {min} to {max}"),
            Kind::Number { max } => format!("a number greater than 0, at most {max}"),
            Kind::Bool => "true or false".into(),
        }
    }

    /// The values a shell may complete, where there is a short list of them.
    pub fn values(self) -> Vec<&'static str> {
        match self {
            Kind::Choice(names) => names(),
            Kind::Bool => vec!["true", "false"],
            Kind::Text | Kind::PackageName | Kind::Integer { .. } | Kind::Number { .. } => {
                Vec::new()
            }
        }
    }
}

pub fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// When an answer set must give a key, and what leaving it out means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Every answer set must give it.
    Required,
    /// Needed only for server-to-client traffic (bidirectional traffic is always instant).
    ServerToClient,
    /// May be left out; `default` is the TOML value that means (`false`, `"auto"`), or
    /// `""` where leaving it out means "none".
    Optional { default: &'static str },
    /// May be left out; the default follows from other answers as `rule` says.
    Derived { rule: &'static str },
    /// Needed unless other answers let rtgen compute it, as `rule` says.
    RequiredUnless { rule: &'static str },
}

/// What every key has, whatever the type of its value.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// Dotted path: `traffic.use_case`.
    pub path: &'static str,
    pub kind: Kind,
    /// One line for people: `rtgen answers`, error listings, the constraints checklist.
    pub about: &'static str,
    pub need: Need,
    /// Overrides the list of allowed values in `rtgen answers` where other answers narrow it.
    pub values_doc: Option<&'static str>,
    /// The interview's question, for keys it asks one by one.
    pub question: Option<&'static str>,
    /// One line under the question: what the answer changes.
    pub question_hint: Option<&'static str>,
    /// What `rtgen answers` writes for a required key, as a start; `None` writes `""`
    /// (unanswered).
    pub starter: Option<&'static str>,
}

/// Keys are identified by their path.
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
    }
}

impl Eq for Key {}

impl Key {
    /// The table the key lives in (`""` for the top level) and its name in that table.
    pub fn split(&self) -> (&'static str, &'static str) {
        self.path.rsplit_once('.').unwrap_or(("", self.path))
    }
}

/// A value type of the answers file: how a raw value is checked against its key, and how
/// it is written back as TOML.
pub trait Value: Sized + Clone + PartialEq + std::fmt::Debug + 'static {
    fn check(key: &'static Key, raw: Raw<'_>) -> Result<Self, Problem>;
    fn to_toml(&self) -> String;
}

fn wrong_type(key: &'static Key, raw: Raw<'_>) -> Problem {
    Problem::WrongType {
        key,
        found: raw.describe(),
    }
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

impl Value for String {
    fn check(key: &'static Key, raw: Raw<'_>) -> Result<Self, Problem> {
        match (key.kind, raw) {
            (Kind::Text, Raw::Str(text)) => Ok(text.to_string()),
            // The same rule as `rtgen new NAME`: one check for every source of a name.
            (Kind::PackageName, Raw::Str(name)) => match ProjectName::parse(name) {
                Ok(_) => Ok(name.to_string()),
                Err(error) => Err(Problem::BadPackageName(Box::new(BadName {
                    value: name.to_string(),
                    reason: error.to_string(),
                    suggestion: error.suggestions.into_iter().next(),
                }))),
            },
            _ => Err(wrong_type(key, raw)),
        }
    }

    fn to_toml(&self) -> String {
        toml_string(self)
    }
}

impl Value for u32 {
    fn check(key: &'static Key, raw: Raw<'_>) -> Result<Self, Problem> {
        match (key.kind, raw) {
            (Kind::Integer { min, max }, Raw::Int(value)) if (min..=max).contains(&value) => {
                u32::try_from(value).map_err(|_| Problem::OutOfRange { key, value })
            }
            (Kind::Integer { .. }, Raw::Int(value)) => Err(Problem::OutOfRange { key, value }),
            _ => Err(wrong_type(key, raw)),
        }
    }

    fn to_toml(&self) -> String {
        self.to_string()
    }
}

impl Value for PerSecond {
    fn check(key: &'static Key, raw: Raw<'_>) -> Result<Self, Problem> {
        let value = match (key.kind, raw) {
            (Kind::Number { .. }, Raw::Float(value)) => value,
            // `messages_per_second = 100` is a number too, though TOML calls it an integer.
            (Kind::Number { .. }, Raw::Int(value)) => value as f64,
            _ => return Err(wrong_type(key, raw)),
        };
        match (key.kind, PerSecond::new(value)) {
            (Kind::Number { max }, Some(rate)) if value <= max => Ok(rate),
            _ => Err(Problem::NumberOutOfRange {
                key,
                value: value.to_string(),
            }),
        }
    }

    fn to_toml(&self) -> String {
        toml::Value::Float(self.get()).to_string()
    }
}

impl Value for bool {
    fn check(key: &'static Key, raw: Raw<'_>) -> Result<Self, Problem> {
        match raw {
            Raw::Bool(flag) => Ok(flag),
            _ => Err(wrong_type(key, raw)),
        }
    }

    fn to_toml(&self) -> String {
        self.to_string()
    }
}

/// A value from a fixed list of names, with a "did you mean" for near misses.
fn check_choice<T>(
    key: &'static Key,
    raw: Raw<'_>,
    names: Vec<&'static str>,
    from_name: impl Fn(&str) -> Option<T>,
) -> Result<T, Problem> {
    let Raw::Str(value) = raw else {
        return Err(wrong_type(key, raw));
    };
    from_name(value).ok_or_else(|| Problem::NotAllowed {
        key,
        value: value.to_string(),
        suggestion: closest(value, &names),
    })
}

macro_rules! choice_values {
    ($($ty:ty),+) => {$(
        impl Value for $ty {
            fn check(key: &'static Key, raw: Raw<'_>) -> Result<Self, Problem> {
                check_choice(key, raw, <$ty>::names(), <$ty>::from_name)
            }

            fn to_toml(&self) -> String {
                toml_string(self.name())
            }
        }
    )+};
}

choice_values!(
    Direction, UseCase, Freshness, Auth, Strategy, Upstream, Fanout
);

impl<T: Named + PartialEq + std::fmt::Debug> Value for Override<T> {
    fn check(key: &'static Key, raw: Raw<'_>) -> Result<Self, Problem> {
        check_choice(key, raw, Override::<T>::names(), Override::from_name)
    }

    fn to_toml(&self) -> String {
        toml_string(self.fixed().map_or("auto", Named::name))
    }
}

/// One key and its value type: where `PartialAnswers` keeps it and how `Answers` holds it.
pub struct Def<T: Value> {
    pub key: Key,
    /// What a value means, shown next to it in the interview's lists.
    pub value_hint: fn(T) -> &'static str,
    slot: fn(&mut PartialAnswers) -> &mut Option<Sourced<T>>,
    get: fn(&PartialAnswers) -> &Option<Sourced<T>>,
    /// The validated value, `None` where an optional key without default was left out.
    read: fn(&Answers) -> Option<T>,
}

impl<T: Value> Def<T> {
    /// The value an answer set holds for this key, if any.
    pub fn get<'a>(&self, answers: &'a PartialAnswers) -> Option<&'a Sourced<T>> {
        (self.get)(answers).as_ref()
    }

    /// The value of validated answers, as `rtgen.toml` and the filled template write it.
    pub fn read(&self, answers: &Answers) -> Option<T> {
        (self.read)(answers)
    }
}

/// What the file parser, `--set`, the template and the listings need from any key,
/// whatever its value type.
pub trait AnyKey: Sync {
    fn key(&self) -> &Key;
    /// Checks `raw` against the key and stores it: the single entry point for every source.
    /// `""` is how the answers template marks a question still open; it stores nothing.
    fn assign(
        &'static self,
        answers: &mut PartialAnswers,
        raw: Raw<'_>,
        origin: Origin,
    ) -> Result<(), AnswersError>;
    /// Copies the key's value from `over` into `into`, where `over` has one.
    fn overlay(&self, into: &mut PartialAnswers, over: &PartialAnswers);
    fn origin<'a>(&self, answers: &'a PartialAnswers) -> Option<&'a Origin>;
    /// The value an answer set holds, as a TOML literal.
    fn given_value(&self, answers: &PartialAnswers) -> Option<String>;
    /// The validated value as a TOML literal; `None` where an optional key was left out.
    fn toml_value(&self, answers: &Answers) -> Option<String>;
}

impl<T: Value> AnyKey for Def<T> {
    fn key(&self) -> &Key {
        &self.key
    }

    fn assign(
        &'static self,
        answers: &mut PartialAnswers,
        raw: Raw<'_>,
        origin: Origin,
    ) -> Result<(), AnswersError> {
        if raw == Raw::Str("") {
            return Ok(());
        }
        let value = T::check(&self.key, raw).map_err(|problem| AnswersError::Invalid {
            origin: origin.clone(),
            key: self.key.path.to_string(),
            problem,
        })?;
        *(self.slot)(answers) = Some(Sourced { value, origin });
        Ok(())
    }

    fn overlay(&self, into: &mut PartialAnswers, over: &PartialAnswers) {
        if let Some(value) = (self.get)(over) {
            *(self.slot)(into) = Some(value.clone());
        }
    }

    fn origin<'a>(&self, answers: &'a PartialAnswers) -> Option<&'a Origin> {
        self.get(answers).map(|sourced| &sourced.origin)
    }

    fn given_value(&self, answers: &PartialAnswers) -> Option<String> {
        self.get(answers).map(|sourced| sourced.value.to_toml())
    }

    fn toml_value(&self, answers: &Answers) -> Option<String> {
        self.read(answers).map(|value| value.to_toml())
    }
}

/// Where `PartialAnswers` keeps a key's value: the field, mutable and shared.
type Slot<T> = (
    fn(&mut PartialAnswers) -> &mut Option<Sourced<T>>,
    fn(&PartialAnswers) -> &Option<Sourced<T>>,
);

/// A key's storage in `PartialAnswers`, named once.
macro_rules! slot {
    ($field:ident) => {
        (
            |answers: &mut PartialAnswers| &mut answers.$field,
            |answers: &PartialAnswers| &answers.$field,
        )
    };
}

const fn def<T: Value>(
    key: Key,
    value_hint: fn(T) -> &'static str,
    slot: Slot<T>,
    read: fn(&Answers) -> Option<T>,
) -> Def<T> {
    Def {
        key,
        value_hint,
        slot: slot.0,
        get: slot.1,
        read,
    }
}

/// For keys whose values need no hint (text, numbers, flags).
fn no_hint<T>(_: T) -> &'static str {
    ""
}

const fn key(path: &'static str, kind: Kind, about: &'static str, need: Need) -> Key {
    Key {
        path,
        kind,
        about,
        need,
        values_doc: None,
        question: None,
        question_hint: None,
        starter: None,
    }
}

pub const SERVERS_MIN: i64 = 1;
pub const SERVERS_MAX: i64 = 10_000;

const OPTIONAL: Need = Need::Optional { default: "" };
const OFF: Need = Need::Optional { default: "false" };
const AUTO: Need = Need::Optional {
    default: "\"auto\"",
};

pub static NAME: Def<String> = def(
    key(
        "name",
        Kind::PackageName,
        "project name, used by `rtgen new`; advise ignores it",
        OPTIONAL,
    ),
    no_hint,
    slot!(name),
    |a| a.name.clone(),
);

pub static DESCRIPTION: Def<String> = def(
    key(
        "description",
        Kind::Text,
        "one line, used by `rtgen new` in Cargo.toml and README",
        OPTIONAL,
    ),
    no_hint,
    slot!(description),
    |a| a.description.clone(),
);

pub static DIRECTION: Def<Direction> = def(
    Key {
        question: Some("Which way does the live data flow?"),
        ..key(
            "traffic.direction",
            Kind::Choice(Direction::names),
            "which way the live data flows",
            Need::Required,
        )
    },
    |direction| match direction {
        Direction::ServerToClient => {
            "the server pushes; clients only read (feeds, tickers, notifications)"
        }
        Direction::Bidirectional => {
            "clients send as much as they receive (chat, games, co-editing)"
        }
    },
    slot!(direction),
    |a| Some(a.traffic.direction),
);

pub static USE_CASE: Def<UseCase> = def(
    Key {
        values_doc: Some(
            "bidirectional: \"chat\" | \"game\" | \"collaboration\" | \"other\"; server-to-client: \
             \"news-feed\" | \"notifications\" | \"status-updates\" | \"stock-ticker\" | \"dashboard\" | \"other\"",
        ),
        question: Some("What is it for?"),
        ..key(
            "traffic.use_case",
            Kind::Choice(UseCase::names),
            "what the live data is for; the choices depend on the direction",
            Need::Required,
        )
    },
    |use_case| match use_case {
        UseCase::Chat => "messages between people, delivered at once",
        UseCase::Game => "constant small updates both ways",
        UseCase::Collaboration => "shared documents or boards edited together",
        UseCase::NewsFeed => "new items appear as they are published",
        UseCase::Notifications => "per-user alerts",
        UseCase::StatusUpdates => "progress of a job, order or deployment",
        UseCase::StockTicker => "prices that change many times a second",
        UseCase::Dashboard => "metrics and charts refreshed periodically",
        UseCase::Other => "none of the above",
    },
    slot!(use_case),
    |a| Some(a.traffic.use_case),
);

pub static FRESHNESS: Def<Freshness> = def(
    Key {
        question: Some("How fresh must the clients' view be?"),
        ..key(
            "traffic.freshness",
            Kind::Choice(Freshness::names),
            "how stale a client's view may get; only for server-to-client",
            Need::ServerToClient,
        )
    },
    |freshness| match freshness {
        Freshness::Instant => "under a second: needs a push channel (SSE or WebSockets)",
        Freshness::Seconds => "a few seconds of lag are fine",
        Freshness::Minutes => "minutes are fine: short polling is enough",
    },
    slot!(freshness),
    |a| Some(a.traffic.freshness_answer.unwrap_or(a.traffic.freshness)),
);

pub static SERVERS: Def<u32> = def(
    Key {
        question: Some("How many servers will hold client connections?"),
        question_hint: Some(
            "1 fans messages out in memory; more than 1 means the servers share them through Redis pub/sub; \
             ? if you do not know: rtgen sizes it from your load",
        ),
        starter: Some("1"),
        ..key(
            "scale.servers",
            Kind::Integer {
                min: SERVERS_MIN,
                max: SERVERS_MAX,
            },
            "instances that hold client connections; more than 1 means Redis pub/sub",
            Need::RequiredUnless {
                rule: "connections, messages_per_second and subscribers_per_message are given: then rtgen \
                       computes it (a value here still wins; leave \"\" to use the computed one)",
            },
        )
    },
    no_hint,
    slot!(servers),
    |a| a.scale.servers,
);

/// The three sizing answers: optional, but all three or none.
const SIZING: Need = Need::Optional { default: "" };

pub const CONNECTIONS_MAX: i64 = 100_000_000;
pub const MESSAGES_PER_SECOND_MAX: f64 = 10_000_000.0;

pub static CONNECTIONS: Def<u32> = def(
    Key {
        question: Some("How many clients are connected at the busiest moment?"),
        question_hint: Some("peak concurrent connections, all servers together"),
        ..key(
            "scale.connections",
            Kind::Integer {
                min: 1,
                max: CONNECTIONS_MAX,
            },
            "peak concurrent clients, all servers together; give all three sizing answers or none: with them rtgen sizes the deployment and computes servers",
            SIZING,
        )
    },
    no_hint,
    slot!(connections),
    |a| a.scale.load.map(|load| load.connections),
);

pub static MESSAGES_PER_SECOND: Def<PerSecond> = def(
    Key {
        question: Some(
            "How many messages are published per second at peak, all channels together?",
        ),
        question_hint: Some("fractions are fine: 0.5 is one message every two seconds"),
        ..key(
            "scale.messages_per_second",
            Kind::Number {
                max: MESSAGES_PER_SECOND_MAX,
            },
            "peak messages published per second, all channels together (a sizing answer)",
            SIZING,
        )
    },
    no_hint,
    slot!(messages_per_second),
    |a| a.scale.load.map(|load| load.messages_per_second),
);

pub static SUBSCRIBERS_PER_MESSAGE: Def<u32> = def(
    Key {
        question: Some("How many clients receive a typical message?"),
        question_hint: Some(
            "the audience of one message: 1 for a private notification, everyone for a broadcast",
        ),
        ..key(
            "scale.subscribers_per_message",
            Kind::Integer {
                min: 1,
                max: CONNECTIONS_MAX,
            },
            "clients that receive a typical message (a sizing answer)",
            SIZING,
        )
    },
    no_hint,
    slot!(subscribers_per_message),
    |a| a.scale.load.map(|load| load.subscribers_per_message),
);

/// The sizing answers: given together, they let rtgen compute `scale.servers`.
pub static SIZING_KEYS: [&dyn AnyKey; 3] =
    [&CONNECTIONS, &MESSAGES_PER_SECOND, &SUBSCRIBERS_PER_MESSAGE];

pub static WEBSOCKETS_BLOCKED: Def<bool> = def(
    key(
        "constraints.websockets_blocked",
        Kind::Bool,
        "proxies or firewalls on the path may block WebSocket upgrades",
        OFF,
    ),
    no_hint,
    slot!(websockets_blocked),
    |a| Some(a.constraints.websockets_blocked),
);

pub static LEGACY_CLIENTS: Def<bool> = def(
    key(
        "constraints.legacy_clients",
        Kind::Bool,
        "some clients have neither EventSource nor WebSocket",
        OFF,
    ),
    no_hint,
    slot!(legacy_clients),
    |a| Some(a.constraints.legacy_clients),
);

pub static MVP: Def<bool> = def(
    key(
        "constraints.mvp",
        Kind::Bool,
        "fewest moving parts matters more than efficiency",
        OFF,
    ),
    no_hint,
    slot!(mvp),
    |a| Some(a.constraints.mvp),
);

pub static MOBILE: Def<bool> = def(
    key(
        "constraints.mobile",
        Kind::Bool,
        "battery-powered mobile clients",
        OFF,
    ),
    no_hint,
    slot!(mobile),
    |a| Some(a.constraints.mobile),
);

/// The constraints, asked together as one checklist.
pub static CONSTRAINTS: [&Def<bool>; 4] = [&WEBSOCKETS_BLOCKED, &LEGACY_CLIENTS, &MVP, &MOBILE];

pub static AUTH: Def<Auth> = def(
    Key {
        question: Some("Who may read which channels?"),
        ..key(
            "access.auth",
            Kind::Choice(Auth::names),
            "who may read which channels: \"jwt\" checks a JSON Web Token on every subscribe and publish",
            Need::Derived {
                rule: "\"jwt\" for chat, game, collaboration and notifications, \"none\" otherwise \
                       (\"none\" in a project's rtgen.toml made before [access] existed)",
            },
        )
    },
    |auth| match auth {
        Auth::Jwt => {
            "clients show a signed token; users read only what it grants (their own user:<id>)"
        }
        Auth::None => "anyone who can reach the service may read and subscribe to any channel",
    },
    slot!(auth),
    |a| Some(a.access.auth),
);

pub static STRATEGY: Def<Override<Strategy>> = def(
    key(
        "generate.strategy",
        Kind::Choice(Override::<Strategy>::names),
        "override the recommended strategy",
        AUTO,
    ),
    no_hint,
    slot!(strategy),
    |a| {
        Some(match a.generate.strategy {
            Some(strategy) => Override::Fixed(strategy),
            None => Override::Auto,
        })
    },
);

pub static FANOUT: Def<Override<Fanout>> = def(
    key(
        "generate.fanout",
        Kind::Choice(Override::<Fanout>::names),
        "override the fan-out between servers",
        AUTO,
    ),
    no_hint,
    slot!(fanout),
    |a| {
        Some(match a.generate.fanout {
            Some(fanout) => Override::Fixed(fanout),
            None => Override::Auto,
        })
    },
);

/// In file order.
pub static ALL: [&dyn AnyKey; 16] = [
    &NAME,
    &DESCRIPTION,
    &DIRECTION,
    &USE_CASE,
    &FRESHNESS,
    &SERVERS,
    &CONNECTIONS,
    &MESSAGES_PER_SECOND,
    &SUBSCRIBERS_PER_MESSAGE,
    &WEBSOCKETS_BLOCKED,
    &LEGACY_CLIENTS,
    &MVP,
    &MOBILE,
    &AUTH,
    &STRATEGY,
    &FANOUT,
];

/// The tables of the file, in order.
pub const TABLES: &[&str] = &["traffic", "scale", "constraints", "access", "generate"];

pub fn find(path: &str) -> Option<&'static dyn AnyKey> {
    ALL.iter().copied().find(|key| key.key().path == path)
}

/// Every key path, in file order.
pub fn paths() -> Vec<&'static str> {
    ALL.iter().map(|key| key.key().path).collect()
}

/// The key names allowed directly inside `table` (`""` = top level, which also holds tables).
pub fn names_in(table: &str) -> Vec<&'static str> {
    let keys = ALL
        .iter()
        .map(|key| key.key().split())
        .filter(|(t, _)| *t == table)
        .map(|(_, name)| name);
    if table.is_empty() {
        keys.chain(TABLES.iter().copied()).collect()
    } else {
        keys.collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_table_and_a_unique_path() {
        let mut seen = std::collections::BTreeSet::new();
        for key in ALL {
            let key = key.key();
            assert!(seen.insert(key.path), "{} twice", key.path);
            let (table, _) = key.split();
            assert!(table.is_empty() || TABLES.contains(&table), "{}", key.path);
        }
    }

    /// Every field of `PartialAnswers` belongs to a key in [`ALL`]: a definition left out
    /// of the list would be a key no source can set.
    #[test]
    fn all_keys_cover_every_field_of_partial_answers() {
        let mut answers = PartialAnswers::default();
        for key in ALL {
            let spec = key.key();
            let values = spec.kind.values();
            let raw = match spec.kind {
                Kind::Choice(_) => Raw::Str(values[values.len() - 1]),
                Kind::Bool => Raw::Bool(true),
                Kind::Integer { min, .. } => Raw::Int(min),
                Kind::Number { max } => Raw::Float(max),
                Kind::Text | Kind::PackageName => Raw::Str("demo"),
            };
            key.assign(&mut answers, raw, Origin::Prompt)
                .unwrap_or_else(|e| panic!("{}: {e}", spec.path));
        }
        let debug = format!("{answers:?}");
        assert!(!debug.contains(": None"), "a field no key sets: {debug}");
    }

    #[test]
    fn asked_choices_have_a_hint_for_every_value() {
        for &direction in Direction::ALL {
            assert!(!(DIRECTION.value_hint)(direction).is_empty());
        }
        for &use_case in UseCase::ALL {
            assert!(!(USE_CASE.value_hint)(use_case).is_empty());
        }
        for &freshness in Freshness::ALL {
            assert!(!(FRESHNESS.value_hint)(freshness).is_empty());
        }
        for &auth in Auth::ALL {
            assert!(!(AUTH.value_hint)(auth).is_empty());
        }
    }
}

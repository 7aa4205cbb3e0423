//! Every key of the answers file, with its type and allowed values. The file parser, `--set`,
//! the missing-answers listing and `rtgen answers` all read this one table.

use super::model::{Direction, Fanout, Freshness, Named, Override, Strategy, UseCase};

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
    Bool,
}

impl Kind {
    /// How the expected value reads in an error ("a string", "an integer", ...).
    pub fn expected(self) -> &'static str {
        match self {
            Kind::Text | Kind::PackageName | Kind::Choice(_) => "a string",
            Kind::Integer { .. } => "an integer",
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
            Kind::Bool => "true or false".into(),
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

#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// Dotted path: `traffic.use_case`.
    pub path: &'static str,
    pub kind: Kind,
    /// One line for people, used in `rtgen answers` and error listings.
    pub about: &'static str,
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

pub const SERVERS_MIN: i64 = 1;
pub const SERVERS_MAX: i64 = 10_000;

pub const NAME: Key = Key {
    path: "name",
    kind: Kind::PackageName,
    about: "project name, used by `rtgen new`; advise ignores it",
};
pub const DESCRIPTION: Key = Key {
    path: "description",
    kind: Kind::Text,
    about: "one line, used by `rtgen new` in Cargo.toml and README",
};
pub const DIRECTION: Key = Key {
    path: "traffic.direction",
    kind: Kind::Choice(Direction::names),
    about: "which way the live data flows",
};
pub const USE_CASE: Key = Key {
    path: "traffic.use_case",
    kind: Kind::Choice(UseCase::names),
    about: "what the live data is for; the choices depend on the direction",
};
pub const FRESHNESS: Key = Key {
    path: "traffic.freshness",
    kind: Kind::Choice(Freshness::names),
    about: "how stale a client's view may get; only for server-to-client",
};
pub const SERVERS: Key = Key {
    path: "scale.servers",
    kind: Kind::Integer {
        min: SERVERS_MIN,
        max: SERVERS_MAX,
    },
    about: "instances that hold client connections; more than 1 means Redis pub/sub",
};
pub const WEBSOCKETS_BLOCKED: Key = Key {
    path: "constraints.websockets_blocked",
    kind: Kind::Bool,
    about: "proxies or firewalls on the path may block WebSocket upgrades",
};
pub const LEGACY_CLIENTS: Key = Key {
    path: "constraints.legacy_clients",
    kind: Kind::Bool,
    about: "some clients have neither EventSource nor WebSocket",
};
pub const MVP: Key = Key {
    path: "constraints.mvp",
    kind: Kind::Bool,
    about: "fewest moving parts matters more than efficiency",
};
pub const MOBILE: Key = Key {
    path: "constraints.mobile",
    kind: Kind::Bool,
    about: "battery-powered mobile clients",
};
pub const STRATEGY: Key = Key {
    path: "generate.strategy",
    kind: Kind::Choice(Override::<Strategy>::names),
    about: "override the recommended strategy",
};
pub const FANOUT: Key = Key {
    path: "generate.fanout",
    kind: Kind::Choice(Override::<Fanout>::names),
    about: "override the fan-out between servers",
};

/// In file order.
pub const ALL: &[Key] = &[
    NAME,
    DESCRIPTION,
    DIRECTION,
    USE_CASE,
    FRESHNESS,
    SERVERS,
    WEBSOCKETS_BLOCKED,
    LEGACY_CLIENTS,
    MVP,
    MOBILE,
    STRATEGY,
    FANOUT,
];

/// The tables of the file, in order.
pub const TABLES: &[&str] = &["traffic", "scale", "constraints", "generate"];

pub fn find(path: &str) -> Option<&'static Key> {
    ALL.iter().find(|key| key.path == path)
}

/// The key names allowed directly inside `table` (`""` = top level, which also holds tables).
pub fn names_in(table: &str) -> Vec<&'static str> {
    let keys = ALL
        .iter()
        .map(Key::split)
        .filter(|(t, _)| *t == table)
        .map(|(_, name)| name);
    if table.is_empty() {
        keys.chain(TABLES.iter().copied()).collect()
    } else {
        keys.collect()
    }
}

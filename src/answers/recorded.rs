//! `[rtgen]`: what rtgen itself decided when it generated a project, recorded in the
//! project's `rtgen.toml` apart from the user's answers. The answers say what the user
//! wants (`[generate] strategy = "auto"` leaves the choice to rtgen); this table says what
//! rtgen chose then, with which version and which templates. `rtgen new --answers` ignores
//! it and decides afresh; `rtgen update` keeps the recorded choices while the answers stay
//! the same.
//!
//! Which files are a project's record: a file with an `[rtgen]` table, or one that starts
//! with the header every rtgen wrote into `rtgen.toml` before this table existed
//! (`# Answers that generated `NAME`, recorded by rtgen VERSION.`). An answers file written
//! by hand or by `rtgen answers` is neither.

use serde::Serialize;

use super::error::{AnswersError, Origin, Problem};
use super::keys::{Key, Kind, Need, Value};
use super::model::{Auth, Fanout, Named, Strategy, Upstream};
use super::partial::Raw;
use super::suggest::closest;

/// The table's name in `rtgen.toml`.
pub const TABLE: &str = "rtgen";

/// `access.auth` of a project recorded before `[access]` existed: those services let anyone
/// read any channel, and regenerating them must not turn their clients away.
pub const AUTH_BEFORE_ACCESS: Auth = Auth::None;

/// rtgen's own decisions for one generated project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recorded {
    /// The rtgen version that generated the project (`CARGO_PKG_VERSION`).
    pub version: String,
    pub strategy: Strategy,
    pub upstream: Upstream,
    pub fanout: Fanout,
    /// `generate::templates_fingerprint()` of the rtgen that generated the project.
    pub templates: String,
}

/// Whether `text` starts with the header older rtgen versions wrote into `rtgen.toml`.
pub fn has_legacy_header(text: &str) -> bool {
    text.lines().next().is_some_and(|first| {
        first.starts_with("# Answers that generated `") && first.contains("recorded by rtgen ")
    })
}

const fn field(path: &'static str, kind: Kind, about: &'static str) -> Key {
    Key {
        path,
        kind,
        about,
        need: Need::Required,
        values_doc: None,
        question: None,
        question_hint: None,
        starter: None,
    }
}

static VERSION: Key = field(
    "rtgen.version",
    Kind::Text,
    "the rtgen version that generated the project",
);
static STRATEGY: Key = field(
    "rtgen.strategy",
    Kind::Choice(Strategy::names),
    "the strategy rtgen generated",
);
static UPSTREAM: Key = field(
    "rtgen.upstream",
    Kind::Choice(Upstream::names),
    "how clients send data in the generated project",
);
static FANOUT: Key = field(
    "rtgen.fanout",
    Kind::Choice(Fanout::names),
    "the fan-out rtgen generated",
);
static TEMPLATES: Key = field(
    "rtgen.templates",
    Kind::Text,
    "fingerprint of the templates the project was rendered from",
);
/// The fields as they are read, each `None` until it is.
#[derive(Default)]
struct Fields {
    version: Option<String>,
    strategy: Option<Strategy>,
    upstream: Option<Upstream>,
    fanout: Option<Fanout>,
    templates: Option<String>,
}

/// A field's key, how to check and store its value, and whether it was read.
struct Field {
    key: &'static Key,
    store: fn(&mut Fields, &'static Key, Raw<'_>) -> Result<(), Problem>,
    read: fn(&Fields) -> bool,
}

static FIELDS: [Field; 5] = [
    Field {
        key: &VERSION,
        store: |f, key, raw| String::check(key, raw).map(|v| f.version = Some(v)),
        read: |f| f.version.is_some(),
    },
    Field {
        key: &STRATEGY,
        store: |f, key, raw| Strategy::check(key, raw).map(|v| f.strategy = Some(v)),
        read: |f| f.strategy.is_some(),
    },
    Field {
        key: &UPSTREAM,
        store: |f, key, raw| Upstream::check(key, raw).map(|v| f.upstream = Some(v)),
        read: |f| f.upstream.is_some(),
    },
    Field {
        key: &FANOUT,
        store: |f, key, raw| Fanout::check(key, raw).map(|v| f.fanout = Some(v)),
        read: |f| f.fanout.is_some(),
    },
    Field {
        key: &TEMPLATES,
        store: |f, key, raw| String::check(key, raw).map(|v| f.templates = Some(v)),
        read: |f| f.templates.is_some(),
    },
];

/// Reads the table's fields, as (name, where the name is, value, where the value is);
/// `table` locates the table for a missing field. Reports every problem.
pub fn parse<'a>(
    fields: impl Iterator<Item = (&'a str, Origin, Raw<'a>, Origin)>,
    table: Origin,
) -> Result<Recorded, Vec<AnswersError>> {
    let mut errors = Vec::new();
    let mut read = Fields::default();
    for (name, name_at, raw, value_at) in fields {
        let Some(field) = FIELDS.iter().find(|f| f.key.split().1 == name) else {
            let allowed: Vec<&'static str> = FIELDS.iter().map(|f| f.key.split().1).collect();
            errors.push(AnswersError::Invalid {
                origin: name_at,
                key: format!("{TABLE}.{name}"),
                problem: Problem::UnknownKey {
                    suggestion: closest(name, &allowed),
                    allowed,
                },
            });
            continue;
        };
        if let Err(problem) = (field.store)(&mut read, field.key, raw) {
            errors.push(AnswersError::Invalid {
                origin: value_at,
                key: field.key.path.to_string(),
                problem,
            });
        }
    }
    for field in &FIELDS {
        let reported = errors.iter().any(|e| e.key() == Some(field.key.path));
        if !(field.read)(&read) && !reported {
            errors.push(AnswersError::Invalid {
                origin: table.clone(),
                key: field.key.path.to_string(),
                problem: Problem::MissingInRecord { key: field.key },
            });
        }
    }
    match read {
        Fields {
            version: Some(version),
            strategy: Some(strategy),
            upstream: Some(upstream),
            fanout: Some(fanout),
            templates: Some(templates),
        } if errors.is_empty() => Ok(Recorded {
            version,
            strategy,
            upstream,
            fanout,
            templates,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legacy_header_is_recognised() {
        assert!(has_legacy_header(
            "# Answers that generated `live-scores`, recorded by rtgen 0.1.0.\n# This is..."
        ));
        assert!(!has_legacy_header("# rtgen answers: use with ...\n"));
        assert!(!has_legacy_header(""));
    }
}

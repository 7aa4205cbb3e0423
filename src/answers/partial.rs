//! `PartialAnswers`: what one source (preset, file, `--set`, flags, interview) knows.
//! Every value enters through [`PartialAnswers::assign`], which checks it against the key
//! table, so no source can hold a value another would reject.

use super::error::{AnswersError, BadName, Origin, Problem};
use super::keys::{self, Key, Kind};
use super::model::{Direction, Fanout, Freshness, Named, Override, Strategy, UseCase};
use super::suggest::closest;
use crate::generate::ProjectName;

/// A value and where it came from, so later errors can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub origin: Origin,
}

/// A value as a source delivers it, before it is checked against its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raw<'a> {
    Str(&'a str),
    Int(i64),
    Bool(bool),
    /// A TOML type rtgen never accepts (float, array, date...), by name.
    Other(&'static str),
}

impl Raw<'_> {
    fn describe(&self) -> String {
        match self {
            Raw::Str(s) => format!("the string \"{s}\""),
            Raw::Int(i) => format!("the integer {i}"),
            Raw::Bool(b) => format!("the boolean {b}"),
            Raw::Other(kind) => kind.to_string(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartialAnswers {
    pub name: Option<Sourced<String>>,
    pub description: Option<Sourced<String>>,
    pub direction: Option<Sourced<Direction>>,
    pub use_case: Option<Sourced<UseCase>>,
    pub freshness: Option<Sourced<Freshness>>,
    pub servers: Option<Sourced<u32>>,
    pub websockets_blocked: Option<Sourced<bool>>,
    pub legacy_clients: Option<Sourced<bool>>,
    pub mvp: Option<Sourced<bool>>,
    pub mobile: Option<Sourced<bool>>,
    pub strategy: Option<Sourced<Override<Strategy>>>,
    pub fanout: Option<Sourced<Override<Fanout>>>,
}

impl PartialAnswers {
    /// `over` wins wherever it has an answer.
    pub fn overlay(self, over: PartialAnswers) -> PartialAnswers {
        PartialAnswers {
            name: over.name.or(self.name),
            description: over.description.or(self.description),
            direction: over.direction.or(self.direction),
            use_case: over.use_case.or(self.use_case),
            freshness: over.freshness.or(self.freshness),
            servers: over.servers.or(self.servers),
            websockets_blocked: over.websockets_blocked.or(self.websockets_blocked),
            legacy_clients: over.legacy_clients.or(self.legacy_clients),
            mvp: over.mvp.or(self.mvp),
            mobile: over.mobile.or(self.mobile),
            strategy: over.strategy.or(self.strategy),
            fanout: over.fanout.or(self.fanout),
        }
    }

    /// Checks `raw` against `key` and stores it: the single entry point for every source.
    pub fn assign(
        &mut self,
        key: &'static Key,
        raw: Raw<'_>,
        origin: Origin,
    ) -> Result<(), AnswersError> {
        let invalid = |problem: Problem| AnswersError::Invalid {
            origin: origin.clone(),
            key: key.path.to_string(),
            problem,
        };
        if raw == Raw::Str("") {
            // `""` is how the answers template marks a question still to be answered.
            return Ok(());
        }
        let checked = check(key, raw).map_err(invalid)?;
        let sourced = |value| Sourced {
            value,
            origin: origin.clone(),
        };
        match checked {
            Checked::Text(text) if key.path == keys::NAME.path => self.name = Some(sourced(text)),
            Checked::Text(text) => self.description = Some(sourced(text)),
            Checked::Choice(choice) => self.assign_choice(key, choice, origin.clone()),
            Checked::Integer(servers) => {
                let servers = u32::try_from(servers).expect("range-checked against SERVERS_MAX");
                self.servers = Some(Sourced {
                    value: servers,
                    origin: origin.clone(),
                });
            }
            Checked::Bool(flag) => {
                let field = match key.path {
                    p if p == keys::WEBSOCKETS_BLOCKED.path => &mut self.websockets_blocked,
                    p if p == keys::LEGACY_CLIENTS.path => &mut self.legacy_clients,
                    p if p == keys::MVP.path => &mut self.mvp,
                    _ => &mut self.mobile,
                };
                *field = Some(Sourced {
                    value: flag,
                    origin: origin.clone(),
                });
            }
        }
        Ok(())
    }

    /// `choice` is already one of the key's allowed names, so the parses below cannot fail.
    fn assign_choice(&mut self, key: &'static Key, choice: &'static str, origin: Origin) {
        fn parsed<T>(value: Option<T>, origin: Origin) -> Option<Sourced<T>> {
            Some(Sourced {
                value: value.expect("checked against the allowed names"),
                origin,
            })
        }
        match key.path {
            p if p == keys::DIRECTION.path => {
                self.direction = parsed(Direction::from_name(choice), origin)
            }
            p if p == keys::USE_CASE.path => {
                self.use_case = parsed(UseCase::from_name(choice), origin)
            }
            p if p == keys::FRESHNESS.path => {
                self.freshness = parsed(Freshness::from_name(choice), origin)
            }
            p if p == keys::STRATEGY.path => {
                self.strategy = parsed(Override::from_name(choice), origin)
            }
            _ => self.fanout = parsed(Override::from_name(choice), origin),
        }
    }
}

enum Checked {
    Text(String),
    Choice(&'static str),
    Integer(i64),
    Bool(bool),
}

fn check(key: &'static Key, raw: Raw<'_>) -> Result<Checked, Problem> {
    let wrong_type = || Problem::WrongType {
        key,
        found: raw.describe(),
    };
    match (key.kind, raw) {
        (Kind::Text, Raw::Str(text)) => Ok(Checked::Text(text.to_string())),
        // The same rule as `rtgen new NAME`: one check for every source of a name.
        (Kind::PackageName, Raw::Str(name)) => match ProjectName::parse(name) {
            Ok(_) => Ok(Checked::Text(name.to_string())),
            Err(error) => Err(Problem::BadPackageName(Box::new(BadName {
                value: name.to_string(),
                reason: error.to_string(),
                suggestion: error.suggestions.into_iter().next(),
            }))),
        },
        (Kind::Choice(names), Raw::Str(value)) => {
            let names = names();
            match names.iter().find(|name| **name == value) {
                Some(name) => Ok(Checked::Choice(name)),
                None => Err(Problem::NotAllowed {
                    key,
                    value: value.to_string(),
                    suggestion: closest(value, &names),
                }),
            }
        }
        (Kind::Integer { min, max }, Raw::Int(value)) if (min..=max).contains(&value) => {
            Ok(Checked::Integer(value))
        }
        (Kind::Integer { .. }, Raw::Int(value)) => Err(Problem::OutOfRange { key, value }),
        (Kind::Bool, Raw::Bool(flag)) => Ok(Checked::Bool(flag)),
        _ => Err(wrong_type()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt() -> Origin {
        Origin::Prompt
    }

    #[test]
    fn assign_stores_checked_values() {
        let mut answers = PartialAnswers::default();
        answers
            .assign(&keys::USE_CASE, Raw::Str("stock-ticker"), prompt())
            .unwrap();
        answers
            .assign(&keys::SERVERS, Raw::Int(3), prompt())
            .unwrap();
        answers
            .assign(&keys::MOBILE, Raw::Bool(true), prompt())
            .unwrap();
        answers
            .assign(&keys::STRATEGY, Raw::Str("auto"), prompt())
            .unwrap();
        assert_eq!(answers.use_case.unwrap().value, UseCase::StockTicker);
        assert_eq!(answers.servers.unwrap().value, 3);
        assert!(answers.mobile.unwrap().value);
        assert_eq!(answers.strategy.unwrap().value, Override::Auto);
    }

    #[test]
    fn assign_rejects_out_of_set_wrong_type_and_range() {
        let mut answers = PartialAnswers::default();
        let err = answers
            .assign(&keys::STRATEGY, Raw::Str("websockets"), prompt())
            .unwrap_err();
        assert!(matches!(
            err,
            AnswersError::Invalid {
                problem: Problem::NotAllowed {
                    suggestion: Some("websocket"),
                    ..
                },
                ..
            }
        ));
        let err = answers
            .assign(&keys::SERVERS, Raw::Int(0), prompt())
            .unwrap_err();
        assert!(matches!(
            err,
            AnswersError::Invalid {
                problem: Problem::OutOfRange { value: 0, .. },
                ..
            }
        ));
        let err = answers
            .assign(&keys::SERVERS, Raw::Int(10_001), prompt())
            .unwrap_err();
        assert!(matches!(
            err,
            AnswersError::Invalid {
                problem: Problem::OutOfRange { .. },
                ..
            }
        ));
        let err = answers
            .assign(&keys::MVP, Raw::Str("yes"), prompt())
            .unwrap_err();
        assert!(matches!(
            err,
            AnswersError::Invalid {
                problem: Problem::WrongType { .. },
                ..
            }
        ));
        assert_eq!(
            answers,
            PartialAnswers::default(),
            "rejected values are not stored"
        );
    }

    #[test]
    fn overlay_prefers_the_upper_layer() {
        let mut lower = PartialAnswers::default();
        lower.assign(&keys::SERVERS, Raw::Int(1), prompt()).unwrap();
        lower.assign(&keys::MVP, Raw::Bool(true), prompt()).unwrap();
        let mut upper = PartialAnswers::default();
        upper.assign(&keys::SERVERS, Raw::Int(5), prompt()).unwrap();
        let merged = lower.overlay(upper);
        assert_eq!(merged.servers.unwrap().value, 5);
        assert!(merged.mvp.unwrap().value);
    }
}

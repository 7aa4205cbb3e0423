//! `PartialAnswers`: what one source (preset, file, `--set`, flags, interview) knows.
//! Every value enters through its key's `AnyKey::assign` (see `keys`), which checks it,
//! so no source can hold a value another would reject.

use super::error::Origin;
use super::keys;
use super::model::{Auth, Direction, Fanout, Freshness, Override, PerSecond, Strategy, UseCase};

/// A value and where it came from, so later errors can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub origin: Origin,
}

/// A value as a source delivers it, before it is checked against its key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Raw<'a> {
    Str(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A TOML type rtgen never accepts (array, date...), by name.
    Other(&'static str),
}

impl Raw<'_> {
    pub(super) fn describe(&self) -> String {
        match self {
            Raw::Str(s) => format!("the string \"{s}\""),
            Raw::Int(i) => format!("the integer {i}"),
            Raw::Float(x) => format!("a float ({x})"),
            Raw::Bool(b) => format!("the boolean {b}"),
            Raw::Other(kind) => kind.to_string(),
        }
    }
}

/// One field per key of [`keys::ALL`]; values enter only through `AnyKey::assign`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartialAnswers {
    pub name: Option<Sourced<String>>,
    pub description: Option<Sourced<String>>,
    pub direction: Option<Sourced<Direction>>,
    pub use_case: Option<Sourced<UseCase>>,
    pub freshness: Option<Sourced<Freshness>>,
    pub servers: Option<Sourced<u32>>,
    pub connections: Option<Sourced<u32>>,
    pub messages_per_second: Option<Sourced<PerSecond>>,
    pub subscribers_per_message: Option<Sourced<u32>>,
    pub websockets_blocked: Option<Sourced<bool>>,
    pub legacy_clients: Option<Sourced<bool>>,
    pub mvp: Option<Sourced<bool>>,
    pub mobile: Option<Sourced<bool>>,
    pub auth: Option<Sourced<Auth>>,
    pub strategy: Option<Sourced<Override<Strategy>>>,
    pub fanout: Option<Sourced<Override<Fanout>>>,
}

impl PartialAnswers {
    /// `over` wins wherever it has an answer.
    pub fn overlay(mut self, over: PartialAnswers) -> PartialAnswers {
        for key in keys::ALL {
            key.overlay(&mut self, &over);
        }
        self
    }

    /// Every answer given, as (key path, TOML value, origin), in file order.
    pub fn given(&self) -> Vec<(&'static str, String, Origin)> {
        keys::ALL
            .iter()
            .filter_map(|key| {
                key.origin(self).map(|origin| {
                    (
                        key.key().path,
                        key.given_value(self).unwrap_or_default(),
                        origin.clone(),
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::error::{AnswersError, Problem};
    use crate::answers::keys::AnyKey;

    fn prompt() -> Origin {
        Origin::Prompt
    }

    #[test]
    fn assign_stores_checked_values() {
        let mut answers = PartialAnswers::default();
        keys::USE_CASE
            .assign(&mut answers, Raw::Str("stock-ticker"), prompt())
            .unwrap();
        keys::SERVERS
            .assign(&mut answers, Raw::Int(3), prompt())
            .unwrap();
        keys::MOBILE
            .assign(&mut answers, Raw::Bool(true), prompt())
            .unwrap();
        keys::STRATEGY
            .assign(&mut answers, Raw::Str("auto"), prompt())
            .unwrap();
        assert_eq!(answers.use_case.unwrap().value, UseCase::StockTicker);
        assert_eq!(answers.servers.unwrap().value, 3);
        assert!(answers.mobile.unwrap().value);
        assert_eq!(answers.strategy.unwrap().value, Override::Auto);
    }

    #[test]
    fn assign_rejects_out_of_set_wrong_type_and_range() {
        let mut answers = PartialAnswers::default();
        let err = keys::STRATEGY
            .assign(&mut answers, Raw::Str("websockets"), prompt())
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
        let err = keys::SERVERS
            .assign(&mut answers, Raw::Int(0), prompt())
            .unwrap_err();
        assert!(matches!(
            err,
            AnswersError::Invalid {
                problem: Problem::OutOfRange { value: 0, .. },
                ..
            }
        ));
        let err = keys::SERVERS
            .assign(&mut answers, Raw::Int(10_001), prompt())
            .unwrap_err();
        assert!(matches!(
            err,
            AnswersError::Invalid {
                problem: Problem::OutOfRange { .. },
                ..
            }
        ));
        let err = keys::MVP
            .assign(&mut answers, Raw::Str("yes"), prompt())
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
        keys::SERVERS
            .assign(&mut lower, Raw::Int(1), prompt())
            .unwrap();
        keys::MVP
            .assign(&mut lower, Raw::Bool(true), prompt())
            .unwrap();
        let mut upper = PartialAnswers::default();
        keys::SERVERS
            .assign(&mut upper, Raw::Int(5), prompt())
            .unwrap();
        let merged = lower.overlay(upper);
        assert_eq!(merged.servers.unwrap().value, 5);
        assert!(merged.mvp.unwrap().value);
    }
}

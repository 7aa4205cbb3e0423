//! The one validator: turns merged [`PartialAnswers`] into [`Answers`], or says what is
//! missing or contradictory. Single values were already checked by their key's `AnyKey::assign`.

use super::error::{AnswersError, Missing, values_or_description};
use super::keys::{self, Key, quoted_list};
use super::model::{Auth, Direction, Freshness, Named, UseCase};
use super::partial::PartialAnswers;
use super::{Access, Answers, Constraints, GenerateOverrides, Load, Scale, Traffic};

impl PartialAnswers {
    /// The required keys still unanswered, with the values that would fit.
    pub fn missing(&self) -> Vec<Missing> {
        let direction = self.direction.as_ref().map(|d| d.value);
        let mut missing = Vec::new();
        let mut need = |key: &'static Key, allowed: String, values: Vec<String>| {
            missing.push(Missing {
                key,
                allowed,
                values,
            })
        };
        if direction.is_none() {
            let key = &keys::DIRECTION.key;
            need(key, key.kind.allowed(), values_or_description(key));
        }
        if self.use_case.is_none() {
            let allowed = match direction {
                Some(direction) => format!("for {direction}: {}", use_case_names(direction)),
                None => Direction::ALL
                    .iter()
                    .map(|d| format!("for {d}: {}", use_case_names(*d)))
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            let values = match direction {
                Some(direction) => direction.use_cases(),
                None => UseCase::ALL,
            };
            let values = values.iter().map(|u| u.name().to_string()).collect();
            need(&keys::USE_CASE.key, allowed, values);
        }
        if self.freshness.is_none() && direction != Some(Direction::Bidirectional) {
            let mut allowed = keys::FRESHNESS.key.kind.allowed();
            if direction.is_none() {
                allowed.push_str(" (only needed for server-to-client)");
            }
            need(
                &keys::FRESHNESS.key,
                allowed,
                values_or_description(&keys::FRESHNESS.key),
            );
        }
        if self.servers.is_none() && self.load().is_none() {
            let key = &keys::SERVERS.key;
            need(
                key,
                format!(
                    "{}, or the sizing answers {} to compute it",
                    key.kind.allowed(),
                    sizing_paths()
                ),
                values_or_description(key),
            );
        }
        missing
    }

    /// The sizing answers, when all three were given.
    fn load(&self) -> Option<Load> {
        Some(Load {
            connections: self.connections.as_ref()?.value,
            messages_per_second: self.messages_per_second.as_ref()?.value,
            subscribers_per_message: self.subscribers_per_message.as_ref()?.value,
        })
    }

    /// Some sizing answers but not all three: an error naming the missing ones.
    fn partial_sizing(&self) -> Option<AnswersError> {
        let (given, missing): (Vec<_>, Vec<_>) = keys::SIZING_KEYS
            .iter()
            .partition(|key| key.origin(self).is_some());
        if given.is_empty() || missing.is_empty() {
            return None;
        }
        Some(AnswersError::PartialSizing {
            given: given
                .iter()
                .filter_map(|key: &&dyn keys::AnyKey| Some((key.key(), key.origin(self)?.clone())))
                .collect(),
            missing: missing.iter().map(|key| key.key()).collect(),
        })
    }

    pub fn validate(&self) -> Result<Answers, AnswersError> {
        if let (Some(direction), Some(use_case)) = (&self.direction, &self.use_case)
            && !direction.value.use_cases().contains(&use_case.value)
        {
            return Err(AnswersError::UseCaseMismatch {
                use_case: use_case.value,
                use_case_origin: use_case.origin.clone(),
                direction: direction.value,
                direction_origin: direction.origin.clone(),
            });
        }
        if let Some(error) = self.partial_sizing() {
            return Err(error);
        }
        let missing = self.missing();
        let (Some(direction), Some(use_case), true) =
            (&self.direction, &self.use_case, missing.is_empty())
        else {
            return Err(AnswersError::Missing { keys: missing });
        };
        let freshness_answer = self.freshness.as_ref().map(|f| f.value);
        let freshness = match direction.value {
            // Two-way conversation is interactive by nature; a stale reply is no reply.
            Direction::Bidirectional => Freshness::Instant,
            Direction::ServerToClient => self
                .freshness
                .as_ref()
                .map_or(Freshness::Instant, |f| f.value),
        };
        let flag = |field: &Option<super::Sourced<bool>>| field.as_ref().is_some_and(|f| f.value);
        Ok(Answers {
            name: self.name.as_ref().map(|n| n.value.clone()),
            description: self.description.as_ref().map(|d| d.value.clone()),
            traffic: Traffic {
                direction: direction.value,
                use_case: use_case.value,
                freshness,
                freshness_answer,
            },
            scale: Scale {
                servers: self.servers.as_ref().map(|s| s.value),
                load: self.load(),
            },
            constraints: Constraints {
                websockets_blocked: flag(&self.websockets_blocked),
                legacy_clients: flag(&self.legacy_clients),
                mvp: flag(&self.mvp),
                mobile: flag(&self.mobile),
            },
            access: Access {
                auth: self.auth.as_ref().map_or_else(
                    || {
                        if use_case.value.private_by_default() {
                            Auth::Jwt
                        } else {
                            Auth::None
                        }
                    },
                    |auth| auth.value,
                ),
            },
            generate: GenerateOverrides {
                // `auto` leaves the choice to the advisor.
                strategy: self.strategy.as_ref().and_then(|s| s.value.fixed()),
                fanout: self.fanout.as_ref().and_then(|f| f.value.fixed()),
            },
        })
    }
}

fn sizing_paths() -> String {
    keys::SIZING_KEYS
        .iter()
        .map(|key| key.key().split().1)
        .collect::<Vec<_>>()
        .join(", ")
}

fn use_case_names(direction: Direction) -> String {
    quoted_list(
        &direction
            .use_cases()
            .iter()
            .map(|u| u.name())
            .collect::<Vec<_>>(),
    )
}

//! `--set KEY=VALUE`: one dotted key, its value read according to the key's type.

use super::error::{AnswersError, BadName, Origin, Problem};
use super::keys::{self, Kind};
use super::partial::{PartialAnswers, Raw};
use super::suggest::closest;

/// Applies every `--set` argument in order (a later one wins over an earlier one);
/// reports every bad argument at once.
pub fn parse_all(args: &[String]) -> Result<PartialAnswers, AnswersError> {
    let mut answers = PartialAnswers::default();
    let errors: Vec<AnswersError> = args
        .iter()
        .filter_map(|arg| apply(&mut answers, arg).err())
        .collect();
    match AnswersError::all(errors) {
        Some(err) => Err(err),
        None => Ok(answers),
    }
}

fn apply(answers: &mut PartialAnswers, arg: &str) -> Result<(), AnswersError> {
    let origin = Origin::Set {
        arg: arg.to_string(),
    };
    let Some((key, value)) = arg.split_once('=') else {
        return Err(AnswersError::Invalid {
            origin,
            key: arg.to_string(),
            problem: Problem::SetSyntax,
        });
    };
    let key = key.trim();
    let Some(spec) = keys::find(key) else {
        let all = keys::paths();
        return Err(AnswersError::Invalid {
            origin,
            key: key.to_string(),
            problem: Problem::UnknownKey {
                suggestion: closest(key, &all),
                allowed: all,
            },
        });
    };
    let key = spec.key();
    let value = raw(key.kind, value.trim());
    if value == Raw::Str("") && !matches!(key.kind, Kind::Text) {
        // An answers file leaves a question open with `""`; on the command line an
        // empty value is a mistake, not a request to be asked.
        let problem = match key.kind {
            Kind::Choice(_) => Problem::NotAllowed {
                key,
                value: String::new(),
                suggestion: None,
            },
            Kind::PackageName => Problem::BadPackageName(Box::new(BadName {
                value: String::new(),
                reason: "the project name is empty".to_string(),
                suggestion: None,
            })),
            _ => Problem::WrongType {
                key,
                found: "an empty value".to_string(),
            },
        };
        return Err(AnswersError::Invalid {
            origin,
            key: key.path.to_string(),
            problem,
        });
    }
    spec.assign(answers, value, origin)
}

/// Reads the text as the key's type would be written in TOML; quotes around strings are
/// optional on the command line (and at the interview's text prompts, which use it too).
pub fn raw(kind: Kind, value: &str) -> Raw<'_> {
    match kind {
        Kind::Integer { .. } => value.parse().map_or(Raw::Str(value), Raw::Int),
        // Only finite decimals: Rust would also read "inf" and "NaN", which TOML spells
        // differently and no rate can be.
        Kind::Number { .. }
            if value
                .chars()
                .all(|c| c.is_ascii_digit() || ".eE+-".contains(c)) =>
        {
            value.parse().map_or(Raw::Str(value), Raw::Float)
        }
        Kind::Number { .. } => Raw::Str(value),
        Kind::Bool => value.parse().map_or(Raw::Str(value), Raw::Bool),
        Kind::Text | Kind::PackageName | Kind::Choice(_) => Raw::Str(unquote(value)),
    }
}

fn unquote(value: &str) -> &str {
    ['"', '\'']
        .iter()
        .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::UseCase;

    fn set(args: &[&str]) -> Result<PartialAnswers, AnswersError> {
        parse_all(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn an_empty_value_is_an_error_except_for_text() {
        for arg in [
            "traffic.use_case=",
            "scale.servers=",
            "constraints.mvp=''",
            "name=",
        ] {
            assert!(set(&[arg]).is_err(), "{arg}");
        }
        assert!(set(&["description="]).is_ok());
    }

    #[test]
    fn values_follow_the_key_type() {
        let answers = set(&[
            "traffic.use_case=\"chat\"",
            "scale.servers=4",
            "constraints.mvp=true",
        ])
        .unwrap();
        assert_eq!(answers.use_case.unwrap().value, UseCase::Chat);
        assert_eq!(answers.servers.unwrap().value, 4);
        assert!(answers.mvp.unwrap().value);
    }

    #[test]
    fn a_rate_takes_a_fraction_or_a_whole_number() {
        let answers = set(&[
            "scale.messages_per_second=0.25",
            "scale.connections=10",
            "scale.subscribers_per_message=3",
        ])
        .unwrap();
        assert_eq!(answers.messages_per_second.unwrap().value.get(), 0.25);
        assert_eq!(answers.connections.unwrap().value, 10);
        assert_eq!(answers.subscribers_per_message.unwrap().value, 3);
        let whole = set(&["scale.messages_per_second=100"]).unwrap();
        assert_eq!(whole.messages_per_second.unwrap().value.get(), 100.0);
        for bad in ["NaN", "inf", "-1", "0", "1e12", ""] {
            assert!(
                set(&[&format!("scale.messages_per_second={bad}")]).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn errors_name_the_argument() {
        let error = set(&["traffic.use-case=chat"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "--set traffic.use-case=chat: unknown key `traffic.use-case`"
        );
        assert_eq!(error.hint().unwrap(), "did you mean `traffic.use_case`?");

        let error = set(&["scale.servers=many"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "--set scale.servers=many: `scale.servers` must be an integer, found the string \"many\""
        );
        assert!(
            set(&["traffic.use_case"])
                .unwrap_err()
                .to_string()
                .contains("expected KEY=VALUE")
        );
    }
}

//! Everything that can be wrong with answers, said so that the user can fix it: which
//! source (file and line:column, `--set` argument, preset, flag), which key, what is allowed.

use std::fmt;

use super::keys::{self, Key, quoted_list};
use super::model::{Direction, Named, UseCase};

/// Where an answer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A place in an answers file (or `<stdin>`, or a built-in preset); 1-based line and column.
    File {
        file: String,
        line: u32,
        column: u32,
    },
    /// One `--set KEY=VALUE` argument, as typed.
    Set { arg: String },
    /// A flag such as `--strategy`.
    Flag { flag: &'static str },
    /// An answer typed at the interview.
    Prompt,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { file, line, column } => write!(f, "{file}:{line}:{column}"),
            Origin::Set { arg } => write!(f, "--set {arg}"),
            Origin::Flag { flag } => f.write_str(flag),
            Origin::Prompt => f.write_str("your answer"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadName {
    pub value: String,
    pub reason: String,
    pub suggestion: Option<String>,
}

/// What is wrong with one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The key does not exist; `allowed` are the keys of its table.
    UnknownKey {
        allowed: Vec<&'static str>,
        suggestion: Option<&'static str>,
    },
    /// A table was expected (`[traffic]`) but a value was given, or the reverse.
    NotATable {
        found: &'static str,
    },
    WrongType {
        key: &'static Key,
        found: String,
    },
    NotAllowed {
        key: &'static Key,
        value: String,
        suggestion: Option<&'static str>,
    },
    OutOfRange {
        key: &'static Key,
        value: i64,
    },
    /// Boxed: rare, and it would otherwise make every `Result` carrying this error larger.
    BadPackageName(Box<BadName>),
    /// `--set` without `=`.
    SetSyntax,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswersError {
    /// The file is not valid TOML.
    Syntax { origin: Origin, message: String },
    /// One key is wrong.
    Invalid {
        origin: Origin,
        key: String,
        problem: Problem,
    },
    /// The use case does not belong to the direction.
    UseCaseMismatch {
        use_case: UseCase,
        use_case_origin: Origin,
        direction: Direction,
        direction_origin: Origin,
    },
    /// Required answers are missing and there is no terminal to ask for them.
    Missing { keys: Vec<Missing> },
}

/// A missing key and, where other answers narrow it, the values that fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub key: &'static Key,
    pub allowed: String,
}

impl fmt::Display for AnswersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswersError::Syntax { origin, message } => {
                write!(f, "{origin}: invalid TOML: {message}")
            }
            AnswersError::Invalid {
                origin,
                key,
                problem,
            } => match problem {
                Problem::UnknownKey { .. } => write!(f, "{origin}: unknown key `{key}`"),
                Problem::NotATable { found } => write!(
                    f,
                    "{origin}: `{key}` must be a table like [{key}], found {found}"
                ),
                Problem::WrongType { key: spec, found } => {
                    write!(
                        f,
                        "{origin}: `{key}` must be {}, found {found}",
                        spec.kind.expected()
                    )
                }
                Problem::NotAllowed { value, .. } => {
                    write!(f, "{origin}: `{key}` cannot be \"{value}\"")
                }
                Problem::OutOfRange { value, .. } => {
                    write!(f, "{origin}: `{key}` = {value} is out of range")
                }
                // The reason names the value already.
                Problem::BadPackageName(bad) => write!(f, "{origin}: `{key}`: {}", bad.reason),
                Problem::SetSyntax => write!(
                    f,
                    "{origin}: expected KEY=VALUE, such as traffic.use_case=chat"
                ),
            },
            AnswersError::UseCaseMismatch {
                use_case,
                use_case_origin,
                direction,
                ..
            } => write!(
                f,
                "{use_case_origin}: use case \"{use_case}\" does not belong to direction \"{direction}\""
            ),
            AnswersError::Missing { keys } => write!(
                f,
                "{} required answer{} missing, and without a terminal rtgen cannot ask for {}",
                keys.len(),
                if keys.len() == 1 { " is" } else { "s are" },
                if keys.len() == 1 { "it" } else { "them" },
            ),
        }
    }
}

impl std::error::Error for AnswersError {}

impl AnswersError {
    /// Lines printed under the error: allowed values, the other side of a contradiction,
    /// the list of missing keys.
    pub fn details(&self) -> Vec<String> {
        match self {
            AnswersError::Invalid { problem, .. } => match problem {
                Problem::UnknownKey { allowed, .. } => {
                    vec![format!("allowed keys here: {}", allowed.join(", "))]
                }
                Problem::WrongType { key, .. }
                | Problem::NotAllowed { key, .. }
                | Problem::OutOfRange { key, .. } => {
                    vec![format!("allowed values: {}", key.kind.allowed())]
                }
                Problem::NotATable { .. } | Problem::BadPackageName(_) | Problem::SetSyntax => {
                    Vec::new()
                }
            },
            AnswersError::UseCaseMismatch {
                direction,
                direction_origin,
                ..
            } => vec![
                format!("traffic.direction = \"{direction}\" (from {direction_origin})"),
                format!(
                    "use cases for \"{direction}\": {}",
                    quoted_list(
                        &direction
                            .use_cases()
                            .iter()
                            .map(|u| u.name())
                            .collect::<Vec<_>>()
                    )
                ),
            ],
            AnswersError::Missing { keys } => {
                let width = keys.iter().map(|m| m.key.path.len()).max().unwrap_or(0);
                keys.iter()
                    .map(|m| format!("{:width$}  {}", m.key.path, m.allowed))
                    .collect()
            }
            AnswersError::Syntax { .. } => Vec::new(),
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            AnswersError::Syntax { .. } => Some("`rtgen answers` prints a valid answers file to start from".into()),
            AnswersError::Invalid { problem, .. } => match problem {
                Problem::UnknownKey { suggestion: Some(s), .. } => Some(format!("did you mean `{s}`?")),
                Problem::NotAllowed { suggestion: Some(s), .. } => Some(format!("did you mean \"{s}\"?")),
                Problem::BadPackageName(bad) => bad.suggestion.as_ref().map(|s| format!("try \"{s}\"")),
                Problem::UnknownKey { .. } => Some("`rtgen answers` lists every key".into()),
                Problem::NotATable { .. } => Some("`rtgen answers` shows the layout of the file".into()),
                Problem::SetSyntax => Some(format!(
                    "keys: {}",
                    keys::ALL.iter().map(|k| k.path).collect::<Vec<_>>().join(", ")
                )),
                _ => None,
            },
            AnswersError::UseCaseMismatch { .. } => {
                Some("change traffic.direction, or pick a use case of that direction (\"other\" fits both)".into())
            }
            AnswersError::Missing { keys } => {
                let example = keys.first().map(|m| m.key.path).unwrap_or("traffic.direction");
                Some(format!(
                    "answer them in a file (--answers FILE; `rtgen answers` prints one), with --set {example}=..., \
                     with --preset NAME, or run in a terminal to be asked"
                ))
            }
        }
    }
}

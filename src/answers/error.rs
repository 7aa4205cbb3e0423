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
    /// A number outside its key's range; the value as it was read.
    NumberOutOfRange {
        key: &'static Key,
        value: String,
    },
    /// Boxed: rare, and it would otherwise make every `Result` carrying this error larger.
    BadPackageName(Box<BadName>),
    /// `--set` without `=`.
    SetSyntax,
    /// A field of the `[rtgen]` record is missing.
    MissingInRecord {
        key: &'static Key,
    },
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
    /// Some of the sizing answers were given, not all three.
    PartialSizing {
        given: Vec<(&'static Key, Origin)>,
        missing: Vec<&'static Key>,
    },
    /// Required answers are missing and there is no terminal to ask for them.
    Missing { keys: Vec<Missing> },
    /// More than one of the above, in the order they occur (in file order for a file).
    Several(Vec<AnswersError>),
}

/// A missing key and, where other answers narrow it, the values that fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub key: &'static Key,
    pub allowed: String,
    /// The values that fit, for `--format json`; a description where there is no list.
    pub values: Vec<String>,
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
                Problem::NumberOutOfRange { value, .. } => {
                    write!(f, "{origin}: `{key}` = {value} is out of range")
                }
                // The reason names the value already.
                Problem::BadPackageName(bad) => write!(f, "{origin}: `{key}`: {}", bad.reason),
                Problem::SetSyntax => write!(
                    f,
                    "{origin}: expected KEY=VALUE, such as traffic.use_case=chat"
                ),
                Problem::MissingInRecord { .. } => write!(
                    f,
                    "{origin}: `{key}` is missing from rtgen's record of the project"
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
            AnswersError::PartialSizing { given, missing } => {
                let (first, origin) = &given[0];
                write!(
                    f,
                    "{origin}: `{}` needs {}: the sizing answers come together",
                    first.path,
                    and_list(
                        &missing
                            .iter()
                            .map(|k| format!("`{}`", k.path))
                            .collect::<Vec<_>>()
                    ),
                )
            }
            AnswersError::Missing { keys } => write!(
                f,
                "{} required answer{} missing, and without a terminal rtgen cannot ask for {}",
                keys.len(),
                if keys.len() == 1 { " is" } else { "s are" },
                if keys.len() == 1 { "it" } else { "them" },
            ),
            AnswersError::Several(errors) => match errors.first() {
                Some(first) => write!(f, "{first} (and {} more)", errors.len() - 1),
                None => f.write_str("invalid answers"),
            },
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
                | Problem::OutOfRange { key, .. }
                | Problem::NumberOutOfRange { key, .. } => {
                    vec![format!("allowed values: {}", key.kind.allowed())]
                }
                Problem::NotATable { .. }
                | Problem::BadPackageName(_)
                | Problem::SetSyntax
                | Problem::MissingInRecord { .. } => Vec::new(),
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
            AnswersError::PartialSizing { given, missing } => given
                .iter()
                .map(|(key, origin)| format!("given:   {} (from {origin})", key.path))
                .chain(
                    missing
                        .iter()
                        .map(|key| format!("missing: {}  {}", key.path, key.kind.allowed())),
                )
                .collect(),
            AnswersError::Missing { keys } => {
                let width = keys.iter().map(|m| m.key.path.len()).max().unwrap_or(0);
                keys.iter()
                    .map(|m| format!("{:width$}  {}", m.key.path, m.allowed))
                    .collect()
            }
            AnswersError::Syntax { .. } | AnswersError::Several(_) => Vec::new(),
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
                Problem::SetSyntax => Some(format!("keys: {}", keys::paths().join(", "))),
                Problem::MissingInRecord { .. } => Some(
                    "[rtgen] is what rtgen wrote when it generated the project; restore the line, or delete the \
                     whole [rtgen] table to treat the file as answers only"
                        .into(),
                ),
                _ => None,
            },
            AnswersError::UseCaseMismatch { .. } => {
                Some("change traffic.direction, or pick a use case of that direction (\"other\" fits both)".into())
            }
            AnswersError::PartialSizing { missing, .. } => Some(format!(
                "add {}, or remove the sizing answers and give scale.servers",
                and_list(&missing.iter().map(|k| k.path.to_string()).collect::<Vec<_>>())
            )),
            AnswersError::Missing { keys } => {
                let example = keys.first().map(|m| m.key.path).unwrap_or("traffic.direction");
                Some(format!(
                    "answer them in a file (--answers FILE; `rtgen answers` prints one), with --set {example}=..., \
                     with --preset NAME, or run in a terminal to be asked"
                ))
            }
            AnswersError::Several(_) => None,
        }
    }

    /// `None` for no errors, the error itself for one, [`AnswersError::Several`] for more.
    pub fn all(mut errors: Vec<AnswersError>) -> Option<AnswersError> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(AnswersError::Several(errors)),
        }
    }

    /// Each error on its own: a `Several` in order, anything else by itself.
    pub fn each(&self) -> Vec<&AnswersError> {
        match self {
            AnswersError::Several(errors) => errors.iter().flat_map(AnswersError::each).collect(),
            other => vec![other],
        }
    }

    /// The key the error is about, where it is about one key.
    pub fn key(&self) -> Option<&str> {
        match self {
            AnswersError::Invalid { key, .. } => Some(key),
            AnswersError::UseCaseMismatch { .. } => Some(keys::USE_CASE.key.path),
            AnswersError::Missing { keys } if keys.len() == 1 => Some(keys[0].key.path),
            AnswersError::PartialSizing { missing, .. } if missing.len() == 1 => {
                Some(missing[0].path)
            }
            AnswersError::Syntax { .. }
            | AnswersError::PartialSizing { .. }
            | AnswersError::Missing { .. }
            | AnswersError::Several(_) => None,
        }
    }

    /// The errors as scripts read them (`--format json`): one entry per error, and one
    /// per missing key.
    pub fn json_entries(&self) -> Vec<JsonError> {
        self.each()
            .into_iter()
            .flat_map(|err| match err {
                AnswersError::Missing { keys } => keys
                    .iter()
                    .map(|missing| JsonError {
                        key: Some(missing.key.path.to_string()),
                        line: None,
                        column: None,
                        message: format!(
                            "`{}` is a required answer and is missing",
                            missing.key.path
                        ),
                        allowed: Some(missing.values.clone()),
                    })
                    .collect(),
                AnswersError::PartialSizing { given, missing } => missing
                    .iter()
                    .map(|key| JsonError {
                        key: Some(key.path.to_string()),
                        line: None,
                        column: None,
                        message: format!(
                            "`{}` is missing: {}, so all three sizing answers are needed",
                            key.path,
                            and_list(
                                &given
                                    .iter()
                                    .map(|(key, origin)| format!(
                                        "`{}` is given ({origin})",
                                        key.path
                                    ))
                                    .collect::<Vec<_>>()
                            )
                        ),
                        allowed: Some(values_or_description(key)),
                    })
                    .collect(),
                other => vec![JsonError {
                    key: other.key().map(str::to_string),
                    line: other.origin().and_then(Origin::line),
                    column: other.origin().and_then(Origin::column),
                    message: other.to_string(),
                    allowed: other.allowed(),
                }],
            })
            .collect()
    }

    /// Line and column in an answers file, for putting a file's errors in order.
    pub fn position(&self) -> Option<(u32, u32)> {
        let origin = self.origin()?;
        Some((origin.line()?, origin.column()?))
    }

    fn origin(&self) -> Option<&Origin> {
        match self {
            AnswersError::Syntax { origin, .. } | AnswersError::Invalid { origin, .. } => {
                Some(origin)
            }
            AnswersError::UseCaseMismatch {
                use_case_origin, ..
            } => Some(use_case_origin),
            AnswersError::PartialSizing { given, .. } => given.first().map(|(_, origin)| origin),
            AnswersError::Missing { .. } | AnswersError::Several(_) => None,
        }
    }

    fn allowed(&self) -> Option<Vec<String>> {
        match self {
            AnswersError::Invalid { problem, .. } => match problem {
                Problem::UnknownKey { allowed, .. } => {
                    Some(allowed.iter().map(|k| k.to_string()).collect())
                }
                Problem::WrongType { key, .. }
                | Problem::NotAllowed { key, .. }
                | Problem::OutOfRange { key, .. }
                | Problem::NumberOutOfRange { key, .. }
                | Problem::MissingInRecord { key } => Some(values_or_description(key)),
                Problem::NotATable { .. } | Problem::BadPackageName(_) | Problem::SetSyntax => None,
            },
            AnswersError::UseCaseMismatch { direction, .. } => Some(
                direction
                    .use_cases()
                    .iter()
                    .map(|u| u.name().to_string())
                    .collect(),
            ),
            AnswersError::Syntax { .. }
            | AnswersError::PartialSizing { .. }
            | AnswersError::Missing { .. }
            | AnswersError::Several(_) => None,
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The values of a key with a short list of them, or else what its values look like.
pub(super) fn values_or_description(key: &Key) -> Vec<String> {
    let values = key.kind.values();
    if values.is_empty() {
        vec![key.kind.allowed()]
    } else {
        values.into_iter().map(str::to_string).collect()
    }
}

/// One error as `--format json` reports it on standard error.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JsonError {
    pub key: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
    pub allowed: Option<Vec<String>>,
}

impl Origin {
    /// The line in an answers file; other sources have none.
    pub fn line(&self) -> Option<u32> {
        match self {
            Origin::File { line, .. } => Some(*line),
            Origin::Set { .. } | Origin::Flag { .. } | Origin::Prompt => None,
        }
    }

    pub fn column(&self) -> Option<u32> {
        match self {
            Origin::File { column, .. } => Some(*column),
            Origin::Set { .. } | Origin::Flag { .. } | Origin::Prompt => None,
        }
    }
}

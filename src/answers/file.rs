//! The answers file: TOML read with spans, so every problem names its line and column, and
//! every problem of a file is reported at once.

use std::io::Read;
use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::error::{AnswersError, Origin, Problem};
use super::keys;
use super::partial::{PartialAnswers, Raw, Sourced};
use super::recorded::{self, Recorded};
use super::suggest::closest;
use crate::error::{Error, Result};

/// An answers file as read: the user's answers, and rtgen's own record when the file is a
/// generated project's `rtgen.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswersFile {
    pub answers: PartialAnswers,
    /// The `[rtgen]` table: what rtgen decided when it generated the project.
    pub recorded: Option<Recorded>,
    /// Whether this is a project's record rather than answers written by hand: see
    /// [`recorded::has_legacy_header`] and the `[rtgen]` table.
    pub is_record: bool,
}

/// Reads `path` (`-` = standard input) and parses it; the user's answers only.
pub fn read(path: &Path) -> Result<PartialAnswers> {
    read_file(path).map(|file| file.answers)
}

/// Reads `path` (`-` = standard input): the answers and, for a project's `rtgen.toml`,
/// rtgen's recorded choices.
pub fn read_file(path: &Path) -> Result<AnswersFile> {
    let (label, text) = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|err| Error::io("read answers from", "<stdin>", err))?;
        ("<stdin>".to_string(), text)
    } else {
        let text = std::fs::read_to_string(path)
            .map_err(|err| Error::io("read answers file", path, err))?;
        (path.display().to_string(), text)
    };
    Ok(parse_file(&text, &label)?)
}

/// Parses answers from `text`; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<PartialAnswers, AnswersError> {
    parse_file(text, file).map(|file| file.answers)
}

/// Parses `text` (named `file` in errors) into the answers and the `[rtgen]` record.
/// Every problem is reported, in file order.
pub fn parse_file(text: &str, file: &str) -> Result<AnswersFile, AnswersError> {
    let at = |span: Range<usize>| locate(text, file, span.start);
    let (document, syntax_errors) = DeTable::parse_recoverable(text);
    let mut problems: Vec<(usize, AnswersError)> = syntax_errors
        .into_iter()
        .map(|err| {
            let span = err.span().unwrap_or(0..0);
            (
                span.start,
                AnswersError::Syntax {
                    origin: at(span),
                    message: err.message().trim().to_string(),
                },
            )
        })
        .collect();

    let mut answers = PartialAnswers::default();
    let mut record_table = None;
    let mut entries = Vec::new();
    for (key, value) in document.get_ref() {
        let name = key.get_ref().as_ref();
        let is_answers_table = keys::TABLES.contains(&name);
        if is_answers_table || name == recorded::TABLE {
            match value.get_ref() {
                DeValue::Table(table) if is_answers_table => {
                    entries.extend(table.iter().map(|(k, v)| (format!("{name}."), k, v)))
                }
                DeValue::Table(table) => record_table = Some((key.span(), table)),
                other => problems.push((
                    value.span().start,
                    AnswersError::Invalid {
                        origin: at(value.span()),
                        key: name.to_string(),
                        problem: Problem::NotATable {
                            found: article(other.type_str()),
                        },
                    },
                )),
            }
        } else {
            entries.push((String::new(), key, value));
        }
    }

    for (table_prefix, key, value) in entries {
        let path = format!("{table_prefix}{}", key.get_ref());
        let result = match keys::find(&path) {
            Some(spec) => spec.assign(&mut answers, raw(value.get_ref()), at(value.span())),
            None => {
                let table = table_prefix.trim_end_matches('.');
                let mut allowed = keys::names_in(table);
                if table.is_empty() {
                    allowed.push(recorded::TABLE);
                }
                Err(AnswersError::Invalid {
                    origin: at(key.span()),
                    key: path.clone(),
                    problem: Problem::UnknownKey {
                        suggestion: closest(key.get_ref(), &allowed),
                        allowed,
                    },
                })
            }
        };
        if let Err(err) = result {
            problems.push((key.span().start, err));
        }
    }

    let recorded = record_table.and_then(|(span, table)| {
        let fields = table.iter().map(|(key, value)| {
            (
                key.get_ref().as_ref(),
                at(key.span()),
                raw(value.get_ref()),
                at(value.span()),
            )
        });
        match recorded::parse(fields, at(span.clone())) {
            Ok(recorded) => Some(recorded),
            Err(errors) => {
                problems.extend(errors.into_iter().map(|err| (span.start, err)));
                None
            }
        }
    });
    let is_record = recorded.is_some() || recorded::has_legacy_header(text);
    if is_record && answers.auth.is_none() {
        // A project generated before `[access]` existed served every channel to everyone;
        // regenerating it must not start turning its clients away.
        answers.auth = Some(Sourced {
            value: recorded::AUTH_BEFORE_ACCESS,
            origin: Origin::File {
                file: file.to_string(),
                line: 1,
                column: 1,
            },
        });
    }

    // File order; the record's problems carry their own places.
    problems.sort_by_key(|(offset, err)| (err.position(), *offset));
    match AnswersError::all(problems.into_iter().map(|(_, err)| err).collect()) {
        Some(err) => Err(err),
        None => Ok(AnswersFile {
            answers,
            recorded,
            is_record,
        }),
    }
}

fn raw<'a>(value: &'a DeValue<'_>) -> Raw<'a> {
    match value {
        DeValue::String(s) => Raw::Str(s),
        DeValue::Boolean(b) => Raw::Bool(*b),
        // Integers too large for i64 are certainly out of range; i64::MAX says so.
        DeValue::Integer(i) => {
            Raw::Int(i64::from_str_radix(i.as_str(), i.radix()).unwrap_or(i64::MAX))
        }
        // toml keeps the float as written; `_` separators are allowed there, not in Rust.
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse()
            .map_or(Raw::Other("a float"), Raw::Float),
        other => Raw::Other(article(other.type_str())),
    }
}

fn article(type_name: &'static str) -> &'static str {
    match type_name {
        "string" => "a string",
        "integer" => "an integer",
        "float" => "a float",
        "boolean" => "a boolean",
        "datetime" => "a date-time",
        "array" => "an array",
        "table" => "a table",
        _ => "a value of another type",
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn locate(text: &str, file: &str, offset: usize) -> Origin {
    // toml's spans fall on character boundaries; `get` keeps a bad span from panicking.
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    let (line, column) = (to_u32(line), to_u32(column));
    Origin::File {
        file: file.to_string(),
        line,
        column,
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::{Direction, UseCase};

    fn err(text: &str) -> AnswersError {
        parse(text, "a.toml").unwrap_err()
    }

    fn origin(line: u32, column: u32) -> Origin {
        Origin::File {
            file: "a.toml".into(),
            line,
            column,
        }
    }

    #[test]
    fn reads_the_schema() {
        let answers = parse(
            "name = \"x\"\n[traffic]\ndirection = \"bidirectional\"\nuse_case = \"chat\"\n[scale]\nservers = 2\n\
             [constraints]\nmvp = true\n[generate]\nstrategy = \"auto\"\n",
            "a.toml",
        )
        .unwrap();
        assert_eq!(answers.direction.unwrap().value, Direction::Bidirectional);
        assert_eq!(answers.use_case.as_ref().unwrap().value, UseCase::Chat);
        assert_eq!(answers.use_case.unwrap().origin, origin(4, 12));
        assert_eq!(answers.servers.unwrap().value, 2);
    }

    #[test]
    fn unknown_key_names_place_and_suggestion() {
        let error = err("[traffic]\nuse-case = \"chat\"\n");
        let AnswersError::Invalid {
            origin: at,
            key,
            problem:
                Problem::UnknownKey {
                    suggestion,
                    allowed,
                },
        } = error
        else {
            panic!("{error:?}")
        };
        assert_eq!(
            (at, key.as_str(), suggestion),
            (origin(2, 1), "traffic.use-case", Some("use_case"))
        );
        assert_eq!(allowed, ["direction", "use_case", "freshness"]);
    }

    #[test]
    fn value_out_of_set_points_at_the_value() {
        let error = err("[generate]\nstrategy = \"websockets\"\n");
        assert_eq!(
            error.to_string(),
            "a.toml:2:12: `generate.strategy` cannot be \"websockets\""
        );
        assert_eq!(error.hint().unwrap(), "did you mean \"websocket\"?");
    }

    #[test]
    fn wrong_type_and_table_shape() {
        assert_eq!(
            err("[scale]\nservers = \"3\"\n").to_string(),
            "a.toml:2:11: `scale.servers` must be an integer, found the string \"3\""
        );
        assert_eq!(
            err("traffic = 1\n").to_string(),
            "a.toml:1:11: `traffic` must be a table like [traffic], found an integer"
        );
        assert!(
            err("[scale]\nservers = 1.5\n")
                .to_string()
                .contains("found a float")
        );
    }

    #[test]
    fn every_problem_in_the_file_is_reported_in_file_order() {
        let AnswersError::Several(errors) =
            err("bogus = 1\n[traffic]\nuse-case = 2\n[scale]\nservers = 0\n")
        else {
            panic!("several errors expected")
        };
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "a.toml:1:1: unknown key `bogus`",
                "a.toml:3:1: unknown key `traffic.use-case`",
                "a.toml:5:11: `scale.servers` = 0 is out of range",
            ]
        );
    }

    #[test]
    fn the_rtgen_table_is_read_apart_from_the_answers() {
        let file = parse_file(
            "[traffic]\ndirection = \"bidirectional\"\n[rtgen]\nversion = \"0.1.0\"\nstrategy = \"sse\"\n\
             upstream = \"http-post\"\nfanout = \"memory\"\ntemplates = \"ab12\"\n",
            "a.toml",
        )
        .unwrap();
        let recorded = file.recorded.unwrap();
        assert_eq!(recorded.strategy, crate::answers::Strategy::Sse);
        assert_eq!(recorded.templates, "ab12");
        assert!(file.is_record);
        assert!(file.answers.strategy.is_none(), "not an answer");
        assert_eq!(
            file.answers.auth.unwrap().value,
            crate::answers::Auth::None,
            "a record without [access] means no authorization"
        );
    }

    #[test]
    fn a_malformed_rtgen_table_is_reported_with_the_other_errors() {
        let error = err("[rtgen]\nversion = 1\nstrategy = \"sse\"\nupstrem = \"none\"\n");
        let all: Vec<String> = error.each().iter().map(ToString::to_string).collect();
        assert!(
            all.iter()
                .any(|e| e.contains("a.toml:2:11: `rtgen.version` must be a string")),
            "{all:?}"
        );
        assert!(
            all.iter()
                .any(|e| e.contains("unknown key `rtgen.upstrem`")),
            "{all:?}"
        );
        assert!(
            all.iter()
                .any(|e| e.contains("`rtgen.templates` is missing")),
            "{all:?}"
        );
    }

    #[test]
    fn answers_written_by_hand_default_auth_by_use_case() {
        let file = parse_file("[traffic]\nuse_case = \"chat\"\n", "a.toml").unwrap();
        assert!(!file.is_record);
        assert!(file.answers.auth.is_none(), "validate decides the default");
    }

    #[test]
    fn syntax_errors_have_a_location() {
        let error = err("[traffic]\ndirection = \n");
        assert!(
            matches!(
                error,
                AnswersError::Syntax {
                    origin: Origin::File { line: 2, .. },
                    ..
                }
            ),
            "{error:?}"
        );
    }
}

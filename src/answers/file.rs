//! The answers file: TOML read with spans, so every problem names its line and column.

use std::io::Read;
use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::error::{AnswersError, Origin, Problem};
use super::keys;
use super::partial::{PartialAnswers, Raw};
use super::suggest::closest;
use crate::error::{Error, Result};

/// Reads `path` (`-` = standard input) and parses it.
pub fn read(path: &Path) -> Result<PartialAnswers> {
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
    Ok(parse(&text, &label)?)
}

/// Parses answers from `text`; `file` names it in errors. Reports the first problem in
/// file order.
pub fn parse(text: &str, file: &str) -> Result<PartialAnswers, AnswersError> {
    let at = |span: Range<usize>| locate(text, file, span.start);
    let document = DeTable::parse(text).map_err(|err| AnswersError::Syntax {
        origin: at(err.span().unwrap_or(0..0)),
        message: err.message().trim().to_string(),
    })?;

    let mut answers = PartialAnswers::default();
    let mut problems: Vec<(usize, AnswersError)> = Vec::new();
    let mut entries = Vec::new();
    for (key, value) in document.get_ref() {
        let name = key.get_ref().as_ref();
        // `[rtgen]` is rtgen's own record in a project's rtgen.toml (what it chose, its
        // version and templates), read by `rtgen update`; it holds no answers.
        if name == crate::generate::record::RTGEN_TABLE {
            continue;
        }
        if keys::TABLES.contains(&name) {
            match value.get_ref() {
                DeValue::Table(table) => {
                    entries.extend(table.iter().map(|(k, v)| (format!("{name}."), k, v)))
                }
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
            Some(spec) => answers.assign(spec, raw(value.get_ref()), at(value.span())),
            None => {
                let table = table_prefix.trim_end_matches('.');
                let allowed = keys::names_in(table);
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

    match problems.into_iter().min_by_key(|(offset, _)| *offset) {
        Some((_, err)) => Err(err),
        None => Ok(answers),
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
    fn the_first_problem_in_the_file_is_reported() {
        assert_eq!(
            err("bogus = 1\n[traffic]\nuse-case = 2\n").to_string(),
            "a.toml:1:1: unknown key `bogus`"
        );
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

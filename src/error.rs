//! The one error type: every failure's message, hint and exit code live here, so that
//! `main` only has to print it and exit.

use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;

use crate::advisor::Conflict;
use crate::answers::{AnswersError, JsonError};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Exit codes, as documented in `rtgen --help`.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILURE: u8 = 1;
    pub const INVALID: u8 = 2;
    pub const TARGET_NOT_EMPTY: u8 = 3;
    /// `rtgen update` wrote the update, but conflicts or obsolete files need the team.
    pub const NEEDS_ATTENTION: u8 = 4;
    /// `rtgen update --check`: an update would change the project.
    pub const BEHIND: u8 = 5;
    /// 128 + SIGINT, what shells report for a process stopped by Ctrl-C.
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Debug)]
pub enum Error {
    /// clap's own outcome: a usage error (exit 2), or `--help`/`--version` (exit 0).
    Cli(clap::Error),
    /// Answers that are invalid, contradictory or missing (exit 2).
    Answers(AnswersError),
    /// A `[generate]` override that cannot be honoured (exit 2).
    Conflict(Conflict),
    /// Any other invalid input caught after parsing, such as a project name cargo would
    /// reject (exit 2).
    Usage {
        message: String,
        hint: Option<String>,
    },
    /// `rtgen new` refuses to write into a non-empty directory without `--force` (exit 3).
    TargetNotEmpty { path: PathBuf },
    /// `rtgen new` refuses to write over a project rtgen generated, `--force` or not (exit 3).
    RtgenProject { path: PathBuf },
    /// The command has printed everything it had to say; only its exit code is left,
    /// such as `rtgen update`'s 4 (needs the team's hands) or `--check`'s 5 (behind).
    Status(u8),
    /// The user pressed Ctrl-C or Esc at a prompt; nothing has been written (exit 130).
    Interrupted,
    /// Reading or writing `path` failed (exit 1).
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// Anything else, with its context chain (exit 1).
    Other(anyhow::Error),
    /// The same error, for a command run with `--format json`: reported on stderr as
    /// `{"errors": [...]}` (see [`Error::json`]), with the same exit code.
    Json(Box<Error>),
}

impl Error {
    pub fn usage(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        Error::Usage {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Json(inner) => inner.exit_code(),
            Error::Cli(err) if !err.use_stderr() => exit::OK,
            Error::Cli(_) | Error::Answers(_) | Error::Conflict(_) | Error::Usage { .. } => {
                exit::INVALID
            }
            Error::TargetNotEmpty { .. } | Error::RtgenProject { .. } => exit::TARGET_NOT_EMPTY,
            Error::Status(code) => *code,
            Error::Interrupted => exit::INTERRUPTED,
            Error::Io { .. } | Error::Other(_) => exit::FAILURE,
        }
    }

    /// Indented lines that belong to the message, such as allowed values.
    fn details(&self) -> Vec<String> {
        match self {
            Error::Answers(err) => err.details(),
            Error::Json(inner) => inner.details(),
            _ => Vec::new(),
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Answers(err) => err.hint(),
            Error::Conflict(conflict) => Some(conflict.hint.clone()),
            Error::Usage { hint, .. } => hint.clone(),
            Error::TargetNotEmpty { .. } => Some(
                "choose an empty or new directory (another NAME or --output DIR), or pass --force \
                 to overwrite only the files rtgen generates"
                    .into(),
            ),
            Error::RtgenProject { path } => Some(format!(
                "rtgen generated this project; `rtgen update {}` brings it up to date (and \
                 changes answers with --set) while keeping your edits",
                path.display()
            )),
            Error::Interrupted => {
                Some("nothing was written; run the command again to start over".into())
            }
            Error::Io { action, source, .. }
                if action.contains("answers") && source.kind() == io::ErrorKind::NotFound =>
            {
                Some("check the path, or create the file with `rtgen answers > rtgen.toml`".into())
            }
            Error::Json(inner) => inner.hint(),
            Error::Cli(_) | Error::Io { .. } | Error::Other(_) | Error::Status(_) => None,
        }
    }

    /// The error for scripts: one entry per problem, with the key, line and column where
    /// known and the allowed values where there is a list.
    pub fn json(&self) -> serde_json::Value {
        let entries = match self {
            Error::Json(inner) => return inner.json(),
            Error::Cli(err) => vec![cli_entry(err)],
            Error::Answers(err) => err.json_entries(),
            Error::Conflict(conflict) => vec![JsonError {
                key: Some(conflict.key.to_string()),
                line: None,
                column: None,
                message: format!("{self}; {}", conflict.hint),
                allowed: None,
            }],
            other => vec![JsonError {
                key: None,
                line: None,
                column: None,
                message: match other.hint() {
                    Some(hint) => format!("{other}; {hint}"),
                    None => other.to_string(),
                },
                allowed: None,
            }],
        };
        serde_json::json!({ "errors": entries })
    }

    /// Prints the error the way every rtgen failure looks: `error: ...`, its details and
    /// cause chain, then a hint. clap prints its own outcome itself, because only clap knows
    /// that `--help` belongs on stdout and when its colours are wanted.
    pub fn report(&self, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Error::Cli(err) => return err.print(),
            Error::Json(_) => return writeln!(out, "{}", self.json()),
            Error::Answers(AnswersError::Several(errors)) => {
                for err in errors {
                    Error::Answers(err.clone()).report(out)?;
                }
                return writeln!(
                    out,
                    "{} problems in all: fix them and run again",
                    errors.len()
                );
            }
            _ => {}
        }
        if let Error::Status(_) = self {
            return Ok(());
        }
        writeln!(out, "error: {self}")?;
        for line in self.details() {
            writeln!(out, "  {line}")?;
        }
        let mut cause = std::error::Error::source(self);
        while let Some(err) = cause {
            writeln!(out, "  caused by: {err}")?;
            cause = err.source();
        }
        if let Some(hint) = self.hint() {
            writeln!(out, "hint: {hint}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Cli(err) => write!(f, "{}", err.render()),
            Error::Answers(err) => write!(f, "{err}"),
            Error::Conflict(conflict) => write!(f, "{}: {}", conflict.key, conflict.message),
            Error::Usage { message, .. } => f.write_str(message),
            Error::TargetNotEmpty { path } => {
                write!(
                    f,
                    "target directory `{}` exists and is not empty",
                    path.display()
                )
            }
            Error::RtgenProject { path } => write!(
                f,
                "`{}` holds a project rtgen generated; `rtgen new` does not write over it, \
                 --force or not (nothing was written)",
                path.display()
            ),
            Error::Status(code) => write!(f, "exit status {code}"),
            Error::Interrupted => f.write_str("interrupted"),
            Error::Io { action, path, .. } => write!(f, "could not {action} `{}`", path.display()),
            // `{:#}` would inline the chain; `report` prints it line by line instead.
            Error::Other(err) => write!(f, "{err}"),
            Error::Json(inner) => inner.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Other(err) => err.source(),
            Error::Json(inner) => inner.source(),
            _ => None,
        }
    }
}

impl From<clap::Error> for Error {
    fn from(err: clap::Error) -> Self {
        Error::Cli(err)
    }
}

impl From<AnswersError> for Error {
    fn from(err: AnswersError) -> Self {
        Error::Answers(err)
    }
}

impl From<Conflict> for Error {
    fn from(conflict: Conflict) -> Self {
        Error::Conflict(conflict)
    }
}

impl From<anyhow::Error> for Error {
    fn from(err: anyhow::Error) -> Self {
        Error::Other(err)
    }
}

impl From<dialoguer::Error> for Error {
    /// console turns a Ctrl-C read in raw mode into an `Interrupted` I/O error.
    fn from(err: dialoguer::Error) -> Self {
        let dialoguer::Error::IO(err) = err;
        if err.kind() == io::ErrorKind::Interrupted {
            Error::Interrupted
        } else {
            Error::io("talk to the terminal", "/dev/tty", err)
        }
    }
}

/// A usage error of clap's as one JSON entry: its first line without the `error: ` prefix
/// (the rest is usage help for people), the argument as `key`, its values as `allowed`.
fn cli_entry(err: &clap::Error) -> JsonError {
    use clap::error::{ContextKind, ContextValue};
    let rendered = err.render().to_string();
    let message = rendered
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned();
    let key = match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => Some(arg.clone()),
        _ => None,
    };
    let allowed = match err.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(values)) => Some(values.clone()),
        _ => None,
    };
    JsonError {
        key,
        line: None,
        column: None,
        message,
        allowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_list_every_problem_with_its_place() {
        let err =
            crate::answers::file::parse("bogus = 1\n[scale]\nservers = 0\n", "a.toml").unwrap_err();
        let json = Error::Json(Box::new(Error::Answers(err))).json();
        assert_eq!(
            json,
            serde_json::json!({"errors": [
                {"key": "bogus", "line": 1, "column": 1, "message": "a.toml:1:1: unknown key `bogus`",
                 "allowed": ["name", "description", "traffic", "scale", "constraints", "access", "generate", "rtgen"]},
                {"key": "scale.servers", "line": 3, "column": 11,
                 "message": "a.toml:3:11: `scale.servers` = 0 is out of range",
                 "allowed": ["an integer from 1 to 10000"]},
            ]})
        );
    }

    #[test]
    fn report_prints_message_cause_and_hint() {
        let err = Error::io(
            "read",
            "answers.toml",
            io::Error::new(io::ErrorKind::NotFound, "gone"),
        );
        let mut out = Vec::new();
        err.report(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "error: could not read `answers.toml`\n  caused by: gone\n"
        );
        assert_eq!(err.exit_code(), exit::FAILURE);
    }

    #[test]
    fn interrupted_exits_130_with_a_hint() {
        let err = Error::from(dialoguer::Error::IO(io::Error::new(
            io::ErrorKind::Interrupted,
            "^C",
        )));
        assert_eq!(err.exit_code(), exit::INTERRUPTED);
        assert!(err.hint().unwrap().contains("nothing was written"));
    }
}

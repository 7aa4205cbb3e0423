//! Parses the command line and dispatches one subcommand.

use clap::Parser;

use crate::cli::{Cli, Command, Format};
use crate::commands;
use crate::error::{Error, Result};

pub fn run() -> Result<()> {
    let cli = Cli::try_parse().map_err(|err| {
        // clap refuses before rtgen knows the format; the raw arguments still say it.
        if err.use_stderr() && asks_for_json(std::env::args().skip(1)) {
            Error::Json(Box::new(Error::Cli(err)))
        } else {
            Error::Cli(err)
        }
    })?;
    // A script that asked for JSON reads its errors as JSON too.
    let json = matches!(&cli.command, Command::Advise(args) if args.format == Format::Json);
    dispatch(cli.command).map_err(|err| match err {
        Error::Interrupted => err,
        err if json => Error::Json(Box::new(err)),
        err => err,
    })
}

/// Whether the command line is `advise ... --format json` (or `--format=json`), read
/// without clap, for usage errors clap reports before the arguments are parsed.
fn asks_for_json(args: impl Iterator<Item = String>) -> bool {
    let args: Vec<String> = args.collect();
    let advise = args.iter().any(|arg| arg == "advise");
    let json = args
        .windows(2)
        .any(|pair| pair[0] == "--format" && pair[1] == "json")
        || args.iter().any(|arg| arg == "--format=json");
    advise && json
}

fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Advise(args) => commands::advise::run(args),
        Command::New(args) => commands::new::run(args),
        Command::Update(args) => commands::update::run(args),
        Command::Explain(args) => commands::explain::run(args),
        Command::Answers => commands::answers::run(),
        Command::Completions(args) => commands::completions::run(args),
    }
}

#[cfg(test)]
mod tests {
    use super::asks_for_json;

    fn args(line: &str) -> impl Iterator<Item = String> {
        line.split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn json_is_read_from_raw_arguments_of_advise() {
        assert!(asks_for_json(args("advise --strategy bogus --format json")));
        assert!(asks_for_json(args("advise --format=json --bogus")));
        assert!(!asks_for_json(args("advise --format text --bogus")));
        assert!(!asks_for_json(args("new x --format json")));
    }
}

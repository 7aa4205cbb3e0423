//! Parses the command line and dispatches one subcommand.

use clap::Parser;

use crate::cli::{Cli, Command, Format};
use crate::commands;
use crate::error::{Error, Result};

pub fn run() -> Result<()> {
    let cli = Cli::try_parse()?;
    // A script that asked for JSON reads its errors as JSON too.
    let json = matches!(&cli.command, Command::Advise(args) if args.format == Format::Json);
    dispatch(cli.command).map_err(|err| match err {
        Error::Interrupted => err,
        err if json => Error::Json(Box::new(err)),
        err => err,
    })
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

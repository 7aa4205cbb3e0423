//! Parses the command line and dispatches one subcommand.

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::commands;
use crate::error::Result;

pub fn run() -> Result<()> {
    let cli = Cli::try_parse()?;
    match cli.command {
        Command::Advise(args) => commands::advise::run(args),
        Command::New(args) => commands::new::run(args),
        Command::Update(args) => commands::update::run(args),
        Command::Explain(args) => commands::explain::run(args),
        Command::Answers => commands::answers::run(),
        Command::Completions(args) => commands::completions::run(args),
    }
}

//! `rtgen completions SHELL`: generated from the same clap definitions as parsing.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::{Error, Result};

pub fn run(args: CompletionsArgs) -> Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "rtgen", &mut script);
    std::io::stdout()
        .lock()
        .write_all(&script)
        .map_err(|err| Error::io("write to", "standard output", err))
}

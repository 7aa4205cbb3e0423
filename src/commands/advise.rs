//! `rtgen advise`: gather answers, run the framework, print the recommendation.

use std::io::Write;

use crate::advisor;
use crate::cli::{AdviseArgs, Format};
use crate::error::{Error, Result};
use crate::interview;
use crate::report;

pub fn run(args: AdviseArgs) -> Result<()> {
    let gathered = interview::collect(&args.sources, interview::terminal_available())?;
    let answers = gathered.answers;
    let rec = advisor::advise(&answers)?;
    let mut output = match args.format {
        Format::Text => report::text::render(&rec, &answers),
        Format::Json => report::json::render(&rec, &answers),
    };
    if !output.ends_with('\n') {
        output.push('\n');
    }
    std::io::stdout()
        .lock()
        .write_all(output.as_bytes())
        .map_err(|err| Error::io("write to", "standard output", err))?;
    if gathered.interviewed {
        interview::offer_to_save(&answers)?;
    }
    Ok(())
}

//! `rtgen answers`: a commented answers file to fill in.

use std::io::Write;

use crate::answers::template;
use crate::error::{Error, Result};

pub fn run() -> Result<()> {
    std::io::stdout()
        .lock()
        .write_all(template::blank().as_bytes())
        .map_err(|err| Error::io("write to", "standard output", err))
}

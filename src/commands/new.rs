//! `rtgen new`: replaced by the generator work (issue 3).

use crate::cli::NewArgs;
use crate::error::{Error, Result};

pub fn run(_args: NewArgs) -> Result<()> {
    Err(Error::Other(anyhow::anyhow!(
        "`rtgen new` is not implemented yet"
    )))
}

//! `rtgen explain [STRATEGY]`.

use crate::cli::ExplainArgs;
use crate::error::Result;

pub fn run(_args: ExplainArgs) -> Result<()> {
    Err(crate::Error::Other(anyhow::anyhow!(
        "explain not implemented yet"
    )))
}

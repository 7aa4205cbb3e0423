//! `rtgen advise`.

use crate::cli::AdviseArgs;
use crate::error::Result;

pub fn run(_args: AdviseArgs) -> Result<()> {
    Err(crate::Error::Other(anyhow::anyhow!(
        "advise not implemented yet"
    )))
}

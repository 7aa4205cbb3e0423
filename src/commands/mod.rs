//! One module per subcommand.

pub mod advise;
pub mod answers;
pub mod completions;
pub mod explain;
pub mod new;
pub mod update;

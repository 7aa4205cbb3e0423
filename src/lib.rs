//! rtgen: advises on a real-time delivery strategy and generates a service for it.
//!
//! Flow: `cli` (flags) -> `answers` (file, presets, `--set`, `interview`, one validator)
//! -> `advisor` (pure decision framework) -> `report` (text or JSON) or `generate`.

pub mod advisor;
pub mod answers;
pub mod cli;
pub mod commands;
pub mod error;
pub mod generate;
pub mod interrupt;
pub mod interview;
pub mod notes;
pub mod report;
mod run;
pub mod update;

pub use error::{Error, Result};
pub use run::run;

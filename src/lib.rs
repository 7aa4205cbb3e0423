//! rtgen: advises on a real-time delivery strategy and generates a service for it.

pub mod advisor;
pub mod answers;
pub mod generate;

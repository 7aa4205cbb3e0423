//! Rendering a recommendation for people (text) or scripts (JSON).

pub mod json;
pub mod text;

//! Deciding requests against a compiled rule table.
pub mod check;
pub mod conditions;
pub mod config;
pub mod explain;
pub mod request;

pub use check::{check, check_explained};
pub use config::{EngineConfig, SchemaEnforcement};
pub use explain::Explanation;
pub use request::{CheckInput, CheckOutput};

#[cfg(test)]
mod conformance_tests;

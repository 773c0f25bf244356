//! Deciding requests against a compiled rule table.
pub mod check;
pub mod conditions;
pub mod glob;
pub mod request;

pub use check::{check, EvalConf};
pub use request::{CheckInput, CheckOutput};

#[cfg(test)]
mod conformance_tests;

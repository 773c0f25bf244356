//! Deciding requests against a compiled rule table.
pub mod check;
pub mod conditions;
pub mod explain;
pub mod glob;
pub mod request;

pub use check::{check, check_explained, EvalConf};
pub use explain::Explanation;
pub use request::{CheckInput, CheckOutput};

#[cfg(test)]
mod conformance_tests;

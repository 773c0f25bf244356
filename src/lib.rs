//! warden's Rust core: Cerbos-format policies and bearer-token verification.
//! The core is plain Rust; pyo3 lives only in `py`, behind the `python` feature.
//!
//! Policies flow one way: `policy` (documents parsed, every problem at its file and line) →
//! `compile` (the rule table) → `eval` (one decision, optionally explained) → `api` (Cerbos's
//! public request and response shapes, request limits and aux-data key sets, wrapping `engine`,
//! which holds the compiled set and reloads it). `plan` answers PlanResources from the same table.
//! Below them: `naming` (scopes, policy names) and `glob` (Cerbos's wildcards); beside them:
//! `cel`, `schema`, `jwt`, `rego`, and `audit` (decision logs: the engine holds its log, so
//! library calls and API calls alike are logged, stamped with the engine's policy version).

pub mod api;
pub mod audit;
pub mod cel;
pub mod compile;
pub mod engine;
pub mod eval;
pub mod fswalk;
pub mod glob;
pub mod naming;
pub mod plan;
pub mod policy;
pub mod rego;
pub mod schema;

#[cfg(test)]
mod shared_data;

pub use engine::{Engine, EngineConfig, PolicySource, SchemaEnforcement};

#[cfg(feature = "python")]
mod py;

pub mod jwt;

/// The fuzz targets' bodies (`fuzz/`), replayed over the committed corpora by `cargo test`.
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;

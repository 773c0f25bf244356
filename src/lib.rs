//! warden's Rust core: Cerbos-format policies and bearer-token verification.
//! The core is plain Rust; pyo3 lives only in `py`, behind the `python` feature.

pub mod api;
pub mod audit;
pub mod auxdata;
pub mod cel;
pub mod compile;
pub mod engine;
pub mod eval;
pub mod fswalk;
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

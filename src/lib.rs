//! warden's Rust core: Cerbos-format policies and bearer-token verification.
//! The core is plain Rust; pyo3 lives only in `py`, behind the `python` feature.

#[cfg(feature = "python")]
mod py;

pub mod jwt;

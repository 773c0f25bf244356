//! The `warden._core` extension module: the only place pyo3 appears.
//!
//! - `values`: Python values into core values and back (nesting limit, cycles, field paths);
//! - `requests`: principals, resources, actions and aux data read from Python with the caller's names;
//! - `results`: decisions built once as Python values (`CheckOutput` dicts, `warden.models` objects);
//! - `models`: the classes of `warden.models` the bindings read and build;
//! - `errors`: every exception class, and where core errors and panics become them;
//! - `engine`, `client`, `rego`, `jwt`: the classes, one per core area.
use pyo3::prelude::*;

pub mod audit;
pub mod client;
pub mod engine;
pub mod errors;
pub mod jwt;
pub mod logging;
pub mod models;
pub mod plan;
pub mod rego;
pub mod requests;
pub mod results;
pub mod telemetry;
pub mod values;

/// Panics with `message` inside the panic guard of every entry point: the test suite checks with it
/// that a panic becomes `InternalError` and a log line (no input reaches a panic on purpose).
#[pyfunction]
fn _panic_for_test(message: &str) -> PyResult<()> {
    errors::guard("_panic_for_test", || panic!("{message}"))
}

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("MAX_DEPTH", values::MAX_DEPTH)?;
    m.add_class::<engine::PyEngine>()?;
    m.add_class::<client::PyClientCore>()?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    m.add_function(wrap_pyfunction!(audit::_flush_audit_logs, m)?)?;
    errors::register(m)?;
    jwt::register(m)?;
    rego::register(m)?;
    logging::install();
    telemetry::register(m)?;
    Ok(())
}

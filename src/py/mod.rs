//! The `warden._core` extension module: the only place pyo3 appears.
//! Each submodule wraps one core area and registers its classes here.
use pyo3::prelude::*;

pub mod convert;
pub mod engine;
pub mod errors;
pub mod jwt;
pub mod plan;
pub mod rego;

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<engine::PyEngine>()?;
    m.add("PolicyError", m.py().get_type::<errors::PolicyError>())?;
    jwt::register(m)?;
    rego::register(m)?;
    Ok(())
}

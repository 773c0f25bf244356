//! The one place core errors become Python exceptions.
use crate::policy::PolicyErrors;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

pyo3::create_exception!(_core, PolicyError, PyException, "Policies failed to load. `.errors` lists every problem as a dict with `file`, `line`, `column`, `kind` (a stable slug such as `unknown derived role`) and `message`; str() shows them as `file:line:col: message`.");

pub fn policy_error(py: Python<'_>, e: &PolicyErrors) -> PyErr {
    let err = PolicyError::new_err(e.to_string());
    let list = PyList::empty(py);
    for p in &e.0 {
        let d = PyDict::new(py);
        let _ = d.set_item("file", &p.file);
        let _ = d.set_item("line", p.line);
        let _ = d.set_item("column", p.column);
        let _ = d.set_item("kind", &p.kind);
        let _ = d.set_item("message", &p.message);
        let _ = list.append(d);
    }
    let _ = err.value(py).setattr("errors", list);
    err
}

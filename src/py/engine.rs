//! `warden._core.Engine`: Python in, JSON-shaped values to the core, GIL released while deciding.
use super::errors::policy_error;
use crate::engine::{Engine, EngineConfig, PolicySource, SchemaEnforcement};
use crate::eval::{CheckInput, CheckOutput};
use chrono::{DateTime, FixedOffset};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use std::path::PathBuf;
use std::sync::Arc;

#[pyclass(name = "Engine", module = "warden._core", frozen)]
pub struct PyEngine {
    pub inner: Arc<Engine>,
}

fn config(py: Python<'_>, globals: Option<&Bound<'_, PyAny>>, lenient: bool, enforcement: &str) -> PyResult<EngineConfig> {
    let _ = py;
    let mut c = EngineConfig { lenient_scope_search: lenient, ..Default::default() };
    c.schema_enforcement = enforcement.parse::<SchemaEnforcement>().map_err(PyValueError::new_err)?;
    if let Some(g) = globals {
        if !g.is_none() {
            let v: serde_json::Value = pythonize::depythonize(g).map_err(|e| PyTypeError::new_err(format!("globals: {e}")))?;
            match v {
                serde_json::Value::Object(m) => c.globals = m,
                _ => return Err(PyTypeError::new_err("globals must be a dict")),
            }
        }
    }
    Ok(c)
}

fn build(py: Python<'_>, source: PolicySource, config: EngineConfig) -> PyResult<PyEngine> {
    let result = py.detach(|| Engine::new(source, config));
    match result {
        Ok(e) => Ok(PyEngine { inner: Arc::new(e) }),
        Err(e) => Err(policy_error(py, &e)),
    }
}

/// Converts a Python datetime or RFC 3339 string to the fixed `now` of a check.
pub fn parse_now(now: Option<&Bound<'_, PyAny>>) -> PyResult<Option<DateTime<FixedOffset>>> {
    let Some(now) = now else { return Ok(None) };
    if now.is_none() {
        return Ok(None);
    }
    let text: String = if let Ok(s) = now.cast::<PyString>() {
        s.to_string()
    } else if now.hasattr("isoformat")? {
        let tz = now.getattr("tzinfo")?;
        let iso: String = now.call_method0("isoformat")?.extract()?;
        if tz.is_none() { format!("{iso}Z") } else { iso }
    } else {
        return Err(PyTypeError::new_err("now must be a datetime or an RFC 3339 string"));
    };
    DateTime::parse_from_rfc3339(&text)
        .map(Some)
        .map_err(|e| PyValueError::new_err(format!("now: invalid timestamp {text:?}: {e}")))
}

pub fn inputs_from_py(inputs: &Bound<'_, PyAny>) -> PyResult<Vec<CheckInput>> {
    let list = inputs.cast::<PyList>().map_err(|_| PyTypeError::new_err("inputs must be a list of CheckInput dicts"))?;
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        if !item.is_instance_of::<PyDict>() {
            return Err(PyTypeError::new_err(format!("inputs[{i}] must be a dict, not {}", item.get_type().name()?)));
        }
        let input: CheckInput = pythonize::depythonize(&item).map_err(|e| PyValueError::new_err(format!("inputs[{i}]: {e}")))?;
        input.validate().map_err(|e| PyValueError::new_err(format!("inputs[{i}]: {e}")))?;
        out.push(input);
    }
    Ok(out)
}

pub fn outputs_to_py<'py>(py: Python<'py>, outputs: &[CheckOutput]) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, outputs).map_err(|e| PyValueError::new_err(e.to_string()))
}

#[pymethods]
impl PyEngine {
    /// Loads every policy under `path` (YAML and JSON, recursively, skipping tests, hidden files,
    /// `testdata/` and disabled policies). Raises `PolicyError` listing every problem.
    #[staticmethod]
    #[pyo3(signature = (path, *, globals=None, lenient_scope_search=false, schema_enforcement="none"))]
    fn from_directory(py: Python<'_>, path: PathBuf, globals: Option<&Bound<'_, PyAny>>, lenient_scope_search: bool, schema_enforcement: &str) -> PyResult<PyEngine> {
        let c = config(py, globals, lenient_scope_search, schema_enforcement)?;
        build(py, PolicySource::Directory(path), c)
    }

    /// Loads policies given as YAML/JSON strings or dicts.
    #[staticmethod]
    #[pyo3(signature = (items, *, globals=None, lenient_scope_search=false, schema_enforcement="none"))]
    fn from_policies(py: Python<'_>, items: &Bound<'_, PyAny>, globals: Option<&Bound<'_, PyAny>>, lenient_scope_search: bool, schema_enforcement: &str) -> PyResult<PyEngine> {
        let c = config(py, globals, lenient_scope_search, schema_enforcement)?;
        let mut docs = Vec::new();
        for (i, item) in items.try_iter()?.enumerate() {
            let item = item?;
            let name = format!("policies[{i}]");
            if let Ok(s) = item.cast::<PyString>() {
                docs.push((name, s.to_string()));
            } else if item.is_instance_of::<PyDict>() {
                let v: serde_json::Value = pythonize::depythonize(&item).map_err(|e| PyTypeError::new_err(format!("{name}: {e}")))?;
                docs.push((name, serde_json::to_string_pretty(&v).map_err(|e| PyValueError::new_err(e.to_string()))?));
            } else {
                return Err(PyTypeError::new_err(format!("{name} must be a YAML/JSON string or a dict, not {}", item.get_type().name()?)));
            }
        }
        build(py, PolicySource::Documents(docs), c)
    }

    /// Decides a batch of Cerbos engine `CheckInput` dicts; returns `CheckOutput` dicts (camelCase).
    #[pyo3(signature = (inputs, *, now=None))]
    fn check<'py>(&self, py: Python<'py>, inputs: &Bound<'py, PyAny>, now: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        let inputs = inputs_from_py(inputs)?;
        let now = parse_now(now)?;
        let engine = self.inner.clone();
        let outputs = py.detach(move || engine.check(&inputs, now));
        outputs_to_py(py, &outputs)
    }

    /// Reads and compiles the policies again; on failure raises `PolicyError` and keeps the current set.
    fn reload(&self, py: Python<'_>) -> PyResult<()> {
        let engine = self.inner.clone();
        py.detach(move || engine.reload()).map_err(|e| policy_error(py, &e))
    }

    fn __repr__(&self) -> String {
        let t = self.inner.table();
        match self.inner.source() {
            PolicySource::Directory(p) => format!("Engine.from_directory({:?}) with {} policies", p.display().to_string(), t.meta.len()),
            PolicySource::Documents(d) => format!("Engine.from_policies(<{} documents>) with {} policies", d.len(), t.meta.len()),
        }
    }
}

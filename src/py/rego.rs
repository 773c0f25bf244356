//! Python bindings for `crate::rego`: `warden._core.Rego`. Batches evaluate with the GIL released.
use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use serde_json::Value as Json;

use super::errors::{guard, rego_error};
use super::values::{self, to_py, Path};
use crate::rego::{DataSource, PolicyText, Rego, RegoConfig, RegoError as CoreError, RegoSource, Syntax};

fn opt_to_py<'py>(py: Python<'py>, v: Option<Json>) -> PyResult<Bound<'py, PyAny>> {
    match v {
        Some(v) => to_py(py, &v),
        None => Ok(py.None().into_bound(py)),
    }
}

/// `input`: any JSON-shaped value, read straight into a regorus value; absent is undefined.
fn input_from_py(input: Option<&Bound<'_, PyAny>>) -> PyResult<regorus::Value> {
    match input {
        None => Ok(regorus::Value::Undefined),
        Some(v) => values::value(v, &Path::root("input")),
    }
}

/// `data=`: a dict (merged at `data`'s root), a path to a .json/.yaml/.yml file, or a list of those.
fn data_from_py(data: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<DataSource>> {
    let Some(d) = data else { return Ok(vec![]) };
    if d.is_none() {
        return Ok(vec![]);
    }
    let one = |x: &Bound<'_, PyAny>, at: &Path<'_>| -> PyResult<DataSource> {
        if x.cast::<PyDict>().is_ok() {
            return Ok(DataSource::Value(values::value(x, at)?));
        }
        if let Ok(p) = x.extract::<PathBuf>() {
            return Ok(DataSource::File(p));
        }
        Err(at.type_error("expected a dict or a path to a .json/.yaml file"))
    };
    let root = Path::root("data");
    if let Ok(l) = d.cast::<PyList>() {
        let at = root.at(d);
        return l.iter().enumerate().map(|(i, x)| one(&x, &at.index(i, Some(&x)))).collect();
    }
    Ok(vec![one(d, &root)?])
}

/// Policies: a list whose items are Rego source strings (named `policy_<i>.rego`), `(name, source)`
/// pairs, or a dict `{name: source}`.
fn policies_from_py(items: &Bound<'_, PyAny>) -> PyResult<Vec<PolicyText>> {
    if let Ok(d) = items.cast::<PyDict>() {
        let at = Path::root("policies");
        return values::items(d, &at)
            .map(|item| {
                let (k, v) = item?;
                let name: String = k.extract().map_err(|_| PyTypeError::new_err("policies: dict keys must be str names"))?;
                let text: String =
                    v.extract().map_err(|_| PyTypeError::new_err(format!("policies[{}]: expected Rego source (str)", Json::String(name.clone()))))?;
                Ok(PolicyText { name, text })
            })
            .collect();
    }
    if items.cast::<PyString>().is_ok() {
        return Err(PyTypeError::new_err("policies: expected a list of Rego sources, not one str (wrap it in a list)"));
    }
    let mut out = Vec::new();
    for (i, item) in items.try_iter()?.enumerate() {
        let item = item?;
        if let Ok(text) = item.extract::<String>() {
            out.push(PolicyText { name: format!("policy_{i}.rego"), text });
        } else if let Ok(t) = item.cast::<PyTuple>() {
            let (name, text): (String, String) = t.extract().map_err(|_| PyTypeError::new_err(format!("policies[{i}]: expected (name, source) of two str")))?;
            out.push(PolicyText { name, text });
        } else {
            return Err(PyTypeError::new_err(format!("policies[{i}]: expected Rego source (str) or a (name, source) pair")));
        }
    }
    Ok(out)
}

fn syntax_from(s: &str) -> PyResult<Syntax> {
    Syntax::parse(s).ok_or_else(|| PyValueError::new_err(format!("syntax: expected 'auto', 'v0' or 'v1', got {}", Json::String(s.to_owned()))))
}

/// Rego policies decided in-process (regorus), with OPA's JWT built-ins on warden's verifier.
#[pyclass(name = "Rego", module = "warden._core", frozen)]
pub struct PyRego {
    inner: Arc<Rego>,
}

fn build(py: Python<'_>, config: RegoConfig) -> PyResult<PyRego> {
    let r = py.detach(move || Rego::new(config)).map_err(rego_error)?;
    Ok(PyRego { inner: Arc::new(r) })
}

#[pymethods]
impl PyRego {
    /// Every `.rego` file under `path` (recursively, sorted; `*_test.rego` skipped), plus
    /// `data.json`/`data.yaml` files at their directory's path and `data` at the root.
    #[staticmethod]
    #[pyo3(signature = (path, *, data=None, syntax="auto"))]
    fn from_directory(py: Python<'_>, path: PathBuf, data: Option<&Bound<'_, PyAny>>, syntax: &str) -> PyResult<PyRego> {
        guard("Rego.from_directory", || {
            let config = RegoConfig { source: RegoSource::Directory(path), data: data_from_py(data)?, syntax: syntax_from(syntax)? };
            build(py, config)
        })
    }

    #[staticmethod]
    #[pyo3(signature = (policies, *, data=None, syntax="auto"))]
    fn from_policies(py: Python<'_>, policies: &Bound<'_, PyAny>, data: Option<&Bound<'_, PyAny>>, syntax: &str) -> PyResult<PyRego> {
        guard("Rego.from_policies", || {
            let config = RegoConfig { source: RegoSource::Policies(policies_from_py(policies)?), data: data_from_py(data)?, syntax: syntax_from(syntax)? };
            build(py, config)
        })
    }

    /// The value of `query` (e.g. `"data.demoapi.authz.allow"`, or any Rego expression) for
    /// `input`; `None` when undefined.
    #[pyo3(signature = (query, input=None))]
    fn eval<'py>(&self, py: Python<'py>, query: &str, input: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        guard("Rego.eval", || {
            let input = input_from_py(input)?;
            let v = self.inner.eval(query, input).map_err(rego_error)?;
            opt_to_py(py, v)
        })
    }

    /// OPA's result rows for `query`: `[{"expressions": [...], "bindings": {...}}]`.
    #[pyo3(signature = (query, input=None))]
    fn query<'py>(&self, py: Python<'py>, query: &str, input: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        guard("Rego.query", || {
            let input = input_from_py(input)?;
            let v = self.inner.query(query, input).map_err(rego_error)?;
            to_py(py, &v)
        })
    }

    /// `True` only when `rule` is `true`; undefined is `False`; a non-boolean value raises.
    #[pyo3(signature = (rule, input=None))]
    fn allowed(&self, rule: &str, input: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        guard("Rego.allowed", || {
            let input = input_from_py(input)?;
            self.inner.allowed(rule, input).map_err(rego_error)
        })
    }

    /// `eval` for each input (one policy set for the whole batch), with the GIL released.
    /// An input that fails raises; the message names its index.
    fn eval_batch<'py>(&self, py: Python<'py>, query: &str, inputs: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        guard("Rego.eval_batch", || {
            let root = Path::root("inputs");
            let at = root.at(inputs);
            let mut values = Vec::new();
            for (i, x) in inputs.try_iter()?.enumerate() {
                let x = x?;
                values.push(values::value(&x, &at.index(i, Some(&x)))?);
            }
            let inner = self.inner.clone();
            let q = query.to_string();
            let results = py.detach(move || inner.eval_batch(&q, values));
            let out = PyList::empty(py);
            for (i, r) in results.into_iter().enumerate() {
                let v = r.map_err(|e| rego_error(CoreError { kind: e.kind, message: format!("inputs[{i}]: {}", e.message) }))?;
                out.append(opt_to_py(py, v)?)?;
            }
            Ok(out)
        })
    }

    /// OPA's `POST /v1/data/<path>`: `body` is `{"input": ...}`; returns `{"result": ...}`, or `{}`
    /// when the document is undefined.
    #[pyo3(signature = (path, body=None))]
    fn eval_data_api<'py>(&self, py: Python<'py>, path: &str, body: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        guard("Rego.eval_data_api", || {
            let body = match body {
                Some(b) => values::value(b, &Path::root("body"))?,
                None => Json::Null,
            };
            let v = self.inner.eval_data_api(path, &body).map_err(rego_error)?;
            to_py(py, &v)
        })
    }

    /// Compile the source again (re-reading the directory), or `policies` if given. On failure
    /// raises `RegoLoadError` and the last good set keeps serving.
    #[pyo3(signature = (policies=None))]
    fn reload(&self, py: Python<'_>, policies: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        guard("Rego.reload", || {
            let p = policies.map(policies_from_py).transpose()?;
            let inner = self.inner.clone();
            py.detach(move || inner.reload(p)).map_err(rego_error)
        })
    }

    /// Policy files of the serving set with the syntax each was read as (`"v0"`/`"v1"`).
    #[getter]
    fn files(&self) -> PyResult<Vec<(String, &'static str)>> {
        guard("Rego.files", || Ok(self.inner.current().files.iter().map(|(n, s)| (n.clone(), if *s == Syntax::V0 { "v0" } else { "v1" })).collect()))
    }

    #[getter]
    fn packages(&self) -> PyResult<Vec<String>> {
        guard("Rego.packages", || Ok(self.inner.current().packages.clone()))
    }

    fn __repr__(&self) -> PyResult<String> {
        guard("Rego.__repr__", || {
            let n = self.inner.current().files.len();
            Ok(match self.inner.config().source {
                RegoSource::Directory(p) => format!("Rego.from_directory({:?}) with {n} policies", p.display().to_string()),
                RegoSource::Policies(_) => format!("Rego.from_policies(<{n} policies>)"),
            })
        })
    }
}

/// Add the Rego class to `warden._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRego>()
}

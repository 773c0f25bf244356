//! Python bindings for `crate::rego`: `warden._core.Rego` and its exceptions.
//! Batches evaluate with the GIL released; no Rust panic crosses into Python
//! (evaluation runs under `catch_unwind` in the core, and errors are exceptions).
use std::path::PathBuf;
use std::sync::Arc;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyList, PyString, PyTuple};
use serde_json::Value as Json;

use super::convert::to_json;
use crate::rego::{input_value, DataSource, ErrorKind, PolicyText, Rego, RegoConfig, RegoError as CoreError, RegoSource, Syntax};

create_exception!(warden, RegoError, PyException, "A Rego policy set could not be loaded or evaluated.");
create_exception!(
    warden,
    RegoLoadError,
    RegoError,
    "Policies or data documents were refused at load (syntax, unsupported built-in, undefined function, bad data); the message names the file and line. On reload the last good set keeps serving."
);
create_exception!(warden, RegoEvalError, RegoError, "Evaluation failed (a conflict, a built-in error in strict mode, a limit, a non-boolean allow rule).");

fn to_py_err(e: CoreError) -> PyErr {
    match e.kind {
        ErrorKind::Load => RegoLoadError::new_err(e.message),
        ErrorKind::Eval => RegoEvalError::new_err(e.message),
        ErrorKind::Input => PyValueError::new_err(e.message),
    }
}

fn json_to_py<'py>(py: Python<'py>, v: &Json) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, v).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn opt_to_py<'py>(py: Python<'py>, v: Option<Json>) -> PyResult<Bound<'py, PyAny>> {
    match v {
        Some(v) => json_to_py(py, &v),
        None => Ok(py.None().into_bound(py)),
    }
}

fn input_from_py(input: Option<&Bound<'_, PyAny>>) -> PyResult<regorus::Value> {
    match input {
        None => Ok(regorus::Value::Undefined),
        Some(v) => py_to_rvalue(v, "input"),
    }
}

/// Python → regorus value directly (no serde_json detour on the hot path); anything unusual
/// (Mappings, other sequences) goes through `to_json`, which names the field on errors.
fn py_to_rvalue(v: &Bound<'_, PyAny>, path: &str) -> PyResult<regorus::Value> {
    use regorus::Value as V;
    if v.is_none() {
        return Ok(V::Null);
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(V::from(s.to_str()?));
    }
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(V::from(b.is_true()));
    }
    if v.is_instance_of::<PyInt>() {
        if let Ok(i) = v.extract::<i64>() {
            return Ok(V::from(i));
        }
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let mut m = std::collections::BTreeMap::new();
        for (k, x) in d.iter() {
            let key = k.cast::<PyString>().map_err(|_| PyTypeError::new_err(format!("{path}: dict keys must be str")))?;
            let key = key.to_str()?;
            let value = py_to_rvalue(&x, &format!("{path}.{key}"))?;
            m.insert(V::from(key), value);
        }
        return Ok(V::from(m));
    }
    if let Ok(l) = v.cast::<PyList>() {
        let items = l.iter().enumerate().map(|(i, x)| py_to_rvalue(&x, &format!("{path}[{i}]"))).collect::<PyResult<Vec<_>>>()?;
        return Ok(V::from(items));
    }
    Ok(input_value(to_json(v, path)?))
}

/// `data=`: a dict (merged at `data`'s root), a path to a .json/.yaml/.yml file, or a list of those.
fn data_from_py(data: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<DataSource>> {
    let Some(d) = data else { return Ok(vec![]) };
    if d.is_none() {
        return Ok(vec![]);
    }
    let one = |x: &Bound<'_, PyAny>, path: &str| -> PyResult<DataSource> {
        if x.cast::<PyDict>().is_ok() {
            let v = to_json(x, path)?;
            return Ok(DataSource::Value(v));
        }
        if let Ok(p) = x.extract::<PathBuf>() {
            return Ok(DataSource::File(p));
        }
        Err(PyTypeError::new_err(format!("{path}: expected a dict or a path to a .json/.yaml file")))
    };
    if let Ok(l) = d.cast::<PyList>() {
        return l.iter().enumerate().map(|(i, x)| one(&x, &format!("data[{i}]"))).collect();
    }
    Ok(vec![one(d, "data")?])
}

/// Policies: a list whose items are Rego source strings (named `policy_<i>.rego`), `(name, source)`
/// pairs, or a dict `{name: source}`.
fn policies_from_py(items: &Bound<'_, PyAny>) -> PyResult<Vec<PolicyText>> {
    if let Ok(d) = items.cast::<PyDict>() {
        return d
            .iter()
            .map(|(k, v)| {
                let name: String = k.extract().map_err(|_| PyTypeError::new_err("policies: dict keys must be str names"))?;
                let text: String = v.extract().map_err(|_| PyTypeError::new_err(format!("policies[{name:?}]: expected Rego source (str)")))?;
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
    Syntax::parse(s).ok_or_else(|| PyValueError::new_err(format!("syntax: expected 'auto', 'v0' or 'v1', got {s:?}")))
}

/// Rego policies decided in-process (regorus), with OPA's JWT built-ins on warden's verifier.
#[pyclass(name = "Rego", module = "warden._core", frozen)]
pub struct PyRego {
    inner: Arc<Rego>,
}

fn build(py: Python<'_>, config: RegoConfig) -> PyResult<PyRego> {
    let r = py.detach(move || Rego::new(config)).map_err(to_py_err)?;
    Ok(PyRego { inner: Arc::new(r) })
}

#[pymethods]
impl PyRego {
    /// Every `.rego` file under `path` (recursively, sorted; `*_test.rego` skipped), plus
    /// `data.json`/`data.yaml` files at their directory's path and `data` at the root.
    #[staticmethod]
    #[pyo3(signature = (path, *, data=None, syntax="auto"))]
    fn from_directory(py: Python<'_>, path: PathBuf, data: Option<&Bound<'_, PyAny>>, syntax: &str) -> PyResult<PyRego> {
        let config = RegoConfig { source: RegoSource::Directory(path), data: data_from_py(data)?, syntax: syntax_from(syntax)? };
        build(py, config)
    }

    #[staticmethod]
    #[pyo3(signature = (policies, *, data=None, syntax="auto"))]
    fn from_policies(py: Python<'_>, policies: &Bound<'_, PyAny>, data: Option<&Bound<'_, PyAny>>, syntax: &str) -> PyResult<PyRego> {
        let config = RegoConfig { source: RegoSource::Policies(policies_from_py(policies)?), data: data_from_py(data)?, syntax: syntax_from(syntax)? };
        build(py, config)
    }

    /// The value of `query` (e.g. `"data.demoapi.authz.allow"`, or any Rego expression) for
    /// `input`; `None` when undefined.
    #[pyo3(signature = (query, input=None))]
    fn eval<'py>(&self, py: Python<'py>, query: &str, input: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        let input = input_from_py(input)?;
        let v = self.inner.eval(query, input).map_err(to_py_err)?;
        opt_to_py(py, v)
    }

    /// OPA's result rows for `query`: `[{"expressions": [...], "bindings": {...}}]`.
    #[pyo3(signature = (query, input=None))]
    fn query<'py>(&self, py: Python<'py>, query: &str, input: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        let input = input_from_py(input)?;
        let v = self.inner.query(query, input).map_err(to_py_err)?;
        json_to_py(py, &v)
    }

    /// `True` only when `rule` is `true`; undefined is `False`; a non-boolean value raises.
    #[pyo3(signature = (rule, input=None))]
    fn allowed(&self, rule: &str, input: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        let input = input_from_py(input)?;
        self.inner.allowed(rule, input).map_err(to_py_err)
    }

    /// `eval` for each input (one policy set for the whole batch), with the GIL released.
    /// An input that fails raises; the message names its index.
    fn eval_batch<'py>(&self, py: Python<'py>, query: &str, inputs: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let mut values = Vec::new();
        for (i, x) in inputs.try_iter()?.enumerate() {
            values.push(py_to_rvalue(&x?, &format!("inputs[{i}]"))?);
        }
        let inner = self.inner.clone();
        let q = query.to_string();
        let results = py.detach(move || inner.eval_batch(&q, values));
        let out = PyList::empty(py);
        for (i, r) in results.into_iter().enumerate() {
            let v = r.map_err(|e| to_py_err(CoreError { kind: e.kind, message: format!("inputs[{i}]: {}", e.message) }))?;
            out.append(opt_to_py(py, v)?)?;
        }
        Ok(out)
    }

    /// OPA's `POST /v1/data/<path>`: `body` is `{"input": ...}`; returns `{"result": ...}`, or `{}`
    /// when the document is undefined.
    #[pyo3(signature = (path, body=None))]
    fn eval_data_api<'py>(&self, py: Python<'py>, path: &str, body: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        let body = match body {
            Some(b) => to_json(b, "body")?,
            None => Json::Null,
        };
        let v = self.inner.eval_data_api(path, &body).map_err(to_py_err)?;
        json_to_py(py, &v)
    }

    /// Compile the source again (re-reading the directory), or `policies` if given. On failure
    /// raises `RegoLoadError` and the last good set keeps serving.
    #[pyo3(signature = (policies=None))]
    fn reload(&self, py: Python<'_>, policies: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let p = policies.map(policies_from_py).transpose()?;
        let inner = self.inner.clone();
        py.detach(move || inner.reload(p)).map_err(to_py_err)
    }

    /// Policy files of the serving set with the syntax each was read as (`"v0"`/`"v1"`).
    #[getter]
    fn files(&self) -> Vec<(String, &'static str)> {
        self.inner.current().files.iter().map(|(n, s)| (n.clone(), if *s == Syntax::V0 { "v0" } else { "v1" })).collect()
    }

    #[getter]
    fn packages(&self) -> Vec<String> {
        self.inner.current().packages.clone()
    }

    fn __repr__(&self) -> String {
        let n = self.inner.current().files.len();
        match self.inner.config().source {
            RegoSource::Directory(p) => format!("Rego.from_directory({:?}) with {n} policies", p.display().to_string()),
            RegoSource::Policies(_) => format!("Rego.from_policies(<{n} policies>)"),
        }
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRego>()?;
    m.add("RegoError", m.py().get_type::<RegoError>())?;
    m.add("RegoLoadError", m.py().get_type::<RegoLoadError>())?;
    m.add("RegoEvalError", m.py().get_type::<RegoEvalError>())?;
    Ok(())
}

//! `warden._core.Engine`: Python in, JSON-shaped values to the core, GIL released while deciding.
use super::convert;
use super::errors::policy_error;
use crate::engine::{Engine, EngineConfig, PolicySource, SchemaEnforcement};
use crate::eval::{CheckInput, CheckOutput};
use chrono::{DateTime, FixedOffset};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use std::path::PathBuf;
use std::sync::Arc;

/// Batches at least this long are decided with the GIL released, so other threads run meanwhile.
const RELEASE_GIL_FROM: usize = 4;

#[pyclass(name = "Engine", module = "warden._core", frozen)]
pub struct PyEngine {
    pub inner: Arc<Engine>,
}

/// Evaluation options shared by the constructors.
struct Options<'a> {
    lenient: bool,
    enforcement: &'a str,
    strict: bool,
    default_policy_version: &'a str,
    default_scope: &'a str,
}

fn config(globals: Option<&Bound<'_, PyAny>>, o: Options<'_>) -> PyResult<EngineConfig> {
    let (lenient, enforcement) = (o.lenient, o.enforcement);
    if o.default_policy_version.is_empty() {
        return Err(PyValueError::new_err("default_policy_version must not be empty"));
    }
    let mut c = EngineConfig {
        lenient_scope_search: lenient,
        strict_evaluation: o.strict,
        default_policy_version: o.default_policy_version.to_string(),
        default_scope: o.default_scope.to_string(),
        ..Default::default()
    };
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

fn build(py: Python<'_>, source: PolicySource, config: EngineConfig, keysets: Option<crate::auxdata::KeySets>) -> PyResult<PyEngine> {
    let result = py.detach(|| Engine::new(source, config));
    match result {
        Ok(mut e) => {
            if let Some(k) = keysets {
                e.set_token_verifier(Box::new(k));
            }
            Ok(PyEngine { inner: Arc::new(e) })
        }
        Err(e) => Err(policy_error(py, &e)),
    }
}

/// `jwt_keysets={"name": source}`: a JWKS/JWK dict, a JWKS URL, a path to a JWK(S) or PEM file,
/// or JWK(S)/PEM text. Tokens in `check_resources_json` aux data are verified with them.
fn keysets_from_py(v: Option<&Bound<'_, PyAny>>) -> PyResult<Option<crate::auxdata::KeySets>> {
    use crate::auxdata::{KeySetSpec, KeySets};
    let Some(v) = v.filter(|v| !v.is_none()) else { return Ok(None) };
    let d = v.cast::<PyDict>().map_err(|_| PyTypeError::new_err("jwt_keysets must be a dict of name -> key source"))?;
    let mut specs = Vec::new();
    for (k, src) in d.iter() {
        let name: String = k.extract().map_err(|_| PyTypeError::new_err("jwt_keysets: names must be str"))?;
        let spec = if let Ok(m) = src.cast::<PyDict>() {
            let json = convert::to_json(m.as_any(), &format!("jwt_keysets[{name:?}]"))?;
            KeySetSpec::Local(json.to_string())
        } else if let Ok(s) = src.extract::<String>() {
            if s.starts_with("https://") || s.starts_with("http://") {
                KeySetSpec::Remote(s)
            } else if s.trim_start().starts_with('{') || s.trim_start().starts_with("-----BEGIN") {
                KeySetSpec::Local(s)
            } else {
                let text = std::fs::read_to_string(&s).map_err(|e| PyValueError::new_err(format!("jwt_keysets[{name:?}]: cannot read {s}: {e}")))?;
                KeySetSpec::Local(text)
            }
        } else if let Ok(p) = src.extract::<PathBuf>() {
            let text = std::fs::read_to_string(&p).map_err(|e| PyValueError::new_err(format!("jwt_keysets[{name:?}]: cannot read {}: {e}", p.display())))?;
            KeySetSpec::Local(text)
        } else {
            return Err(PyTypeError::new_err(format!("jwt_keysets[{name:?}]: expected a JWKS dict, a URL, a file path or key text")));
        };
        specs.push((name, spec));
    }
    KeySets::new(specs).map(Some).map_err(|e| PyValueError::new_err(e.to_string()))
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
        if tz.is_none() {
            format!("{iso}Z")
        } else {
            iso
        }
    } else {
        return Err(PyTypeError::new_err("now must be a datetime or an RFC 3339 string"));
    };
    DateTime::parse_from_rfc3339(&text).map(Some).map_err(|e| PyValueError::new_err(format!("now: invalid timestamp {text:?}: {e}")))
}

/// Converts a Python value to a core type; errors name the offending field (`principal.roles: ...`).
pub fn from_py<T: serde::de::DeserializeOwned>(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    let mut de = pythonize::Depythonizer::from_object(obj);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path.is_empty() || path == "." {
            PyValueError::new_err(format!("{what}: {inner}"))
        } else {
            PyValueError::new_err(format!("{what}.{path}: {inner}"))
        }
    })
}

pub fn inputs_from_py(inputs: &Bound<'_, PyAny>) -> PyResult<Vec<CheckInput>> {
    let list = inputs.cast::<PyList>().map_err(|_| PyTypeError::new_err("inputs must be a list of CheckInput dicts"))?;
    let mut out: Vec<CheckInput> = Vec::with_capacity(list.len());
    // The principal object of the previous input: batches usually repeat one principal.
    let mut previous_principal: Option<Bound<'_, PyAny>> = None;
    for (i, item) in list.iter().enumerate() {
        let previous = previous_principal.as_ref().zip(out.last());
        let input = convert::check_input(&item, &format!("inputs[{i}]"), previous)?;
        previous_principal = item.cast::<PyDict>().ok().and_then(|d| d.get_item(pyo3::intern!(item.py(), "principal")).ok().flatten());
        out.push(input);
    }
    Ok(out)
}

pub use convert::outputs_to_py;

#[pymethods]
impl PyEngine {
    /// Loads every policy under `path` (YAML and JSON, recursively, skipping tests, hidden files,
    /// `testdata/` and disabled policies). Raises `PolicyError` listing every problem.
    #[staticmethod]
    #[pyo3(signature = (path, *, globals=None, lenient_scope_search=false, schema_enforcement="none", watch=false, jwt_keysets=None, strict_evaluation=false, default_policy_version="default", default_scope=""))]
    #[allow(clippy::too_many_arguments)]
    fn from_directory(
        py: Python<'_>,
        path: PathBuf,
        globals: Option<&Bound<'_, PyAny>>,
        lenient_scope_search: bool,
        schema_enforcement: &str,
        watch: bool,
        jwt_keysets: Option<&Bound<'_, PyAny>>,
        strict_evaluation: bool,
        default_policy_version: &str,
        default_scope: &str,
    ) -> PyResult<PyEngine> {
        let c = config(
            globals,
            Options { lenient: lenient_scope_search, enforcement: schema_enforcement, strict: strict_evaluation, default_policy_version, default_scope },
        )?;
        let keysets = keysets_from_py(jwt_keysets)?;
        let engine = build(py, PolicySource::Directory(path.clone()), c, keysets)?;
        if watch {
            let logger: Py<PyAny> = py.import("logging")?.call_method1("getLogger", ("warden",))?.unbind();
            let dir = path.display().to_string();
            let listener = Box::new(move |result: Result<(), &crate::policy::PolicyErrors>| {
                Python::attach(|py| {
                    let logger = logger.bind(py);
                    let _ = match result {
                        Ok(()) => logger.call_method1("info", ("reloaded policies from %s", &dir)),
                        Err(e) => logger.call_method1("error", ("policies in %s failed to compile; the last good set keeps serving:\n%s", &dir, e.to_string())),
                    };
                });
            });
            engine.inner.watch(listener).map_err(PyValueError::new_err)?;
        }
        Ok(engine)
    }

    /// Loads policies given as YAML/JSON strings or dicts.
    #[staticmethod]
    #[pyo3(signature = (items, *, globals=None, lenient_scope_search=false, schema_enforcement="none", jwt_keysets=None, strict_evaluation=false, default_policy_version="default", default_scope=""))]
    #[allow(clippy::too_many_arguments)]
    fn from_policies(
        py: Python<'_>,
        items: &Bound<'_, PyAny>,
        globals: Option<&Bound<'_, PyAny>>,
        lenient_scope_search: bool,
        schema_enforcement: &str,
        jwt_keysets: Option<&Bound<'_, PyAny>>,
        strict_evaluation: bool,
        default_policy_version: &str,
        default_scope: &str,
    ) -> PyResult<PyEngine> {
        let c = config(
            globals,
            Options { lenient: lenient_scope_search, enforcement: schema_enforcement, strict: strict_evaluation, default_policy_version, default_scope },
        )?;
        let keysets = keysets_from_py(jwt_keysets)?;
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
        build(py, PolicySource::Documents(docs), c, keysets)
    }

    /// Decides a batch of Cerbos engine `CheckInput` dicts; returns `CheckOutput` dicts (camelCase).
    #[pyo3(signature = (inputs, *, now=None))]
    fn check<'py>(&self, py: Python<'py>, inputs: &Bound<'py, PyAny>, now: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        let inputs = inputs_from_py(inputs)?;
        let now = parse_now(now)?;
        // Releasing the GIL costs about as much as one decision: worth it for batches only.
        let outputs = if inputs.len() >= RELEASE_GIL_FROM {
            let engine = self.inner.clone();
            py.detach(move || engine.check(&inputs, now))
        } else {
            self.inner.check(&inputs, now)
        };
        outputs_to_py(py, &outputs)
    }

    /// Whether `principal` may do `action` on `resource`. Both may be dicts (engine or SDK field
    /// names) or `Principal`/`Resource` objects; `aux_data` is `{"jwt": {claims}}` if given.
    #[pyo3(signature = (principal, resource, action, *, aux_data=None, now=None))]
    fn is_allowed(
        &self,
        principal: &Bound<'_, PyAny>,
        resource: &Bound<'_, PyAny>,
        action: &str,
        aux_data: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let input = CheckInput {
            request_id: String::new(),
            principal: convert::principal(principal, "principal")?,
            resource: convert::resource(resource, "resource")?,
            actions: vec![action.to_string()],
            aux_data: match aux_data {
                Some(a) => convert::aux_data(a, "aux_data")?,
                None => None,
            },
        };
        input.validate().map_err(PyValueError::new_err)?;
        let now = parse_now(now)?;
        let engine = &self.inner;
        // A single decision takes about a microsecond: releasing the GIL would cost more than it frees.
        let out = engine.check(std::slice::from_ref(&input), now);
        Ok(out[0].actions.0.first().is_some_and(|(_, e)| e.effect == "EFFECT_ALLOW"))
    }

    /// Whether `principal` may do each of `actions` on each of `resources`: one row per resource,
    /// one boolean per action, in the given orders. Cerbos's CheckResources shape (one principal,
    /// many resources) answered without building `CheckOutput` dicts: the principal is read
    /// once, and the GIL is released while the batch is decided.
    #[pyo3(signature = (principal, resources, actions, *, aux_data=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn decision_table(
        &self,
        py: Python<'_>,
        principal: &Bound<'_, PyAny>,
        resources: &Bound<'_, PyAny>,
        actions: &Bound<'_, PyAny>,
        aux_data: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<Vec<bool>>> {
        let principal = convert::principal(principal, "principal")?;
        if actions.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err("actions: expected a list of strings, not a single string"));
        }
        let actions: Vec<String> = actions.extract().map_err(|_| PyTypeError::new_err("actions: expected a list of strings"))?;
        if actions.is_empty() {
            return Err(PyValueError::new_err("actions: at least one action is required"));
        }
        let aux = match aux_data {
            Some(a) => convert::aux_data(a, "aux_data")?,
            None => None,
        };
        if resources.is_instance_of::<PyString>() || resources.is_instance_of::<PyDict>() {
            return Err(PyTypeError::new_err("resources: expected a list of resources"));
        }
        let mut inputs = Vec::new();
        for (i, resource) in resources.try_iter().map_err(|_| PyTypeError::new_err("resources: expected a list of resources"))?.enumerate() {
            let input = CheckInput {
                request_id: String::new(),
                principal: principal.clone(),
                resource: convert::resource(&resource?, &format!("resources[{i}]"))?,
                actions: actions.clone(),
                aux_data: aux.clone(),
            };
            input.validate().map_err(|e| PyValueError::new_err(format!("resources[{i}]: {e}")))?;
            inputs.push(input);
        }
        let now = parse_now(now)?;
        let outputs = if inputs.len() >= RELEASE_GIL_FROM {
            let engine = self.inner.clone();
            py.detach(move || engine.check(&inputs, now))
        } else {
            self.inner.check(&inputs, now)
        };
        Ok(outputs.iter().map(|o| actions.iter().map(|a| o.actions.0.iter().any(|(name, e)| name == a && e.effect == "EFFECT_ALLOW")).collect()).collect())
    }

    /// Decides one `CheckInput` dict and explains it: `{"output": CheckOutput, "actions": [...], "derivedRoles": [...]}`
    /// where each action lists, in order, the rules evaluated with the value of each condition.
    #[pyo3(signature = (input, *, now=None))]
    fn explain<'py>(&self, py: Python<'py>, input: &Bound<'py, PyAny>, now: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        let list = PyList::new(py, [input])?;
        let mut inputs = inputs_from_py(list.as_any())?;
        let input = inputs.remove(0);
        let now = parse_now(now)?;
        let engine = self.inner.clone();
        let (output, explanation) = py.detach(move || engine.explain(&input, now));
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Explained {
            output: CheckOutput,
            #[serde(flatten)]
            explanation: crate::eval::Explanation,
        }
        pythonize::pythonize(py, &Explained { output, explanation }).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Answers a Cerbos public `CheckResourcesRequest` (the JSON body of `POST /api/check/resources`,
    /// camelCase) with the `CheckResourcesResponse` JSON Cerbos would return.
    #[pyo3(signature = (request, *, now=None))]
    fn check_resources_json<'py>(&self, py: Python<'py>, request: &Bound<'py, PyAny>, now: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        let req: crate::api::CheckResourcesRequest = from_py(request, "request")?;
        let now = parse_now(now)?;
        let engine = self.inner.clone();
        let resp = py.detach(move || engine.check_resources(&req, now)).map_err(PyValueError::new_err)?;
        pythonize::pythonize(py, &resp).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    // --- query planning (src/py/plan.rs; owned by the planner work) -----------------------------

    /// Which resources of a kind `principal` may act on with all of `actions`: Cerbos's
    /// `PlanResourcesResponse` JSON (`filter` with `kind` and `condition`, `meta.filterDebug`).
    /// `presence_tests=True` keeps `has(R.attr.x)` as `(has request.resource.attr.x)`.
    #[pyo3(signature = (principal, resource, actions, *, aux_data=None, now=None, presence_tests=false))]
    #[allow(clippy::too_many_arguments)]
    fn plan_resources<'py>(
        &self,
        py: Python<'py>,
        principal: &Bound<'py, PyAny>,
        resource: &Bound<'py, PyAny>,
        actions: &Bound<'py, PyAny>,
        aux_data: Option<&Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
        presence_tests: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = crate::plan::PlanOptions { presence_tests };
        super::plan::plan_resources(self, py, principal, resource, actions, aux_data, now, options)
    }

    /// Answers a Cerbos public `PlanResourcesRequest` (the JSON body of `POST /api/plan/resources`)
    /// with the `PlanResourcesResponse` JSON Cerbos would return.
    #[pyo3(signature = (request, *, now=None))]
    fn plan_resources_json<'py>(&self, py: Python<'py>, request: &Bound<'py, PyAny>, now: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        super::plan::plan_resources_json(self, py, request, now)
    }

    // --- end of query planning --------------------------------------------------------------------

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

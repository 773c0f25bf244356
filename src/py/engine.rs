//! `warden._core.Engine`: Python in, core values to the engine, GIL released while deciding.
use super::errors::{guard, policy_error};
use super::requests::{self, Rules};
use super::results::{allows, explained, output_dicts};
use super::values::{self, serialized_to_py, type_name, Path};
use crate::api::{CerbosApi, RequestLimits};
use crate::engine::{Engine, EngineConfig, PolicySource, SchemaEnforcement};
use crate::eval::CheckInput;
use chrono::{DateTime, FixedOffset};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde_json::Value as Json;
use std::path::PathBuf;
use std::sync::Arc;

/// Batches at least this long are decided with the GIL released, so other threads run meanwhile.
pub const RELEASE_GIL_FROM: usize = 4;

#[pyclass(name = "Engine", module = "warden._core", frozen)]
pub struct PyEngine {
    pub inner: Arc<Engine>,
    /// The Cerbos-API-shaped calls (`check_resources_json`, `plan_resources_json`,
    /// `Client.check_resources`): with their request limits and aux-data key sets.
    pub api: CerbosApi,
    /// The limits of the library calls (`check`, `decision_table`, `plan_resources`).
    pub call_limits: RequestLimits,
}

/// The request limits of an engine's calls: the Cerbos-API-shaped calls have Cerbos's defaults;
/// the library calls are the app's own and have limits only when the keywords are given.
#[derive(Debug, Clone, Copy)]
struct Limits {
    api: RequestLimits,
    calls: RequestLimits,
}

/// One limit keyword: left out, `None` (no limit) or a count of at least 1.
#[derive(Debug, Clone, Copy)]
pub enum LimitArg {
    Unset,
    Set(Option<usize>),
}

impl<'a, 'py> FromPyObject<'a, 'py> for LimitArg {
    type Error = PyErr;
    fn extract(v: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if v.is_none() {
            return Ok(LimitArg::Set(None));
        }
        if v.is_instance_of::<pyo3::types::PyBool>() {
            return Err(PyTypeError::new_err("expected an int or None, got bool"));
        }
        match v.extract::<usize>() {
            Ok(n) if n >= 1 => Ok(LimitArg::Set(Some(n))),
            _ => Err(PyValueError::new_err(format!("expected an int of at least 1 or None (no limit), got {}", v.repr()?))),
        }
    }
}

impl Limits {
    fn new(max_resources_per_request: LimitArg, max_actions_per_resource: LimitArg) -> Limits {
        let pick = |arg: LimitArg, cerbos: Option<usize>| match arg {
            LimitArg::Unset => (cerbos, None),
            LimitArg::Set(v) => (v, v),
        };
        let (api_resources, call_resources) = pick(max_resources_per_request, RequestLimits::CERBOS.max_resources_per_request);
        let (api_actions, call_actions) = pick(max_actions_per_resource, RequestLimits::CERBOS.max_actions_per_resource);
        Limits {
            api: RequestLimits { max_resources_per_request: api_resources, max_actions_per_resource: api_actions },
            calls: RequestLimits { max_resources_per_request: call_resources, max_actions_per_resource: call_actions },
        }
    }
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
    if o.default_policy_version.is_empty() {
        return Err(PyValueError::new_err("default_policy_version must not be empty"));
    }
    crate::naming::check_scope(o.default_scope, "default_scope").map_err(PyValueError::new_err)?;
    let mut c = EngineConfig {
        lenient_scope_search: o.lenient,
        strict_evaluation: o.strict,
        default_policy_version: o.default_policy_version.to_string(),
        default_scope: o.default_scope.to_string(),
        ..Default::default()
    };
    c.schema_enforcement = o.enforcement.parse::<SchemaEnforcement>().map_err(PyValueError::new_err)?;
    if let Some(g) = globals.filter(|g| !g.is_none()) {
        c.globals = crate::cel::Vars::from_json_map(&values::map_of::<Json>(g, &Path::root("globals"), "a dict")?);
    }
    Ok(c)
}

fn build(
    py: Python<'_>,
    source: PolicySource,
    config: EngineConfig,
    keysets: Option<crate::api::auxdata::KeySets>,
    limits: Limits,
    audit: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyEngine> {
    let result = py.detach(|| Engine::new(source, config));
    match result {
        Ok(mut e) => {
            if let Some(a) = audit.filter(|a| !a.is_none()) {
                super::audit::start(py, &mut e, a)?;
            }
            let inner = Arc::new(e);
            let mut api = CerbosApi::new(inner.clone(), limits.api);
            if let Some(k) = keysets {
                api = api.with_token_verifier(Box::new(k));
            }
            Ok(PyEngine { inner, api, call_limits: limits.calls })
        }
        Err(e) => Err(policy_error(py, &e)),
    }
}

/// `jwt_keysets={"name": source}`: a JWKS/JWK dict, a JWKS URL, a path to a JWK(S) or PEM file,
/// or JWK(S)/PEM text. Tokens in `check_resources_json` aux data are verified with them.
fn keysets_from_py(v: Option<&Bound<'_, PyAny>>) -> PyResult<Option<crate::api::auxdata::KeySets>> {
    use crate::api::auxdata::{KeySetSpec, KeySets};
    let Some(v) = v.filter(|v| !v.is_none()) else { return Ok(None) };
    let root = Path::root("jwt_keysets");
    let d = v.cast::<PyDict>().map_err(|_| root.type_error("expected a dict of name -> key source"))?;
    let at = root.at(v);
    let mut specs = Vec::new();
    for item in values::items(d, &at) {
        let (k, src) = item?;
        let name: String = k.extract().map_err(|_| at.type_error("names must be str"))?;
        let at = at.key(&name, &src);
        let spec = if src.is_instance_of::<PyDict>() {
            KeySetSpec::Local(values::value::<Json>(&src, &at)?.to_string())
        } else if let Ok(s) = src.extract::<String>() {
            if s.starts_with("https://") || s.starts_with("http://") {
                KeySetSpec::Remote(s)
            } else if s.trim_start().starts_with('{') || crate::jwt::keys::is_pem(s.as_bytes()) {
                KeySetSpec::Local(s)
            } else {
                KeySetSpec::Local(std::fs::read_to_string(&s).map_err(|e| at.value_error(format_args!("cannot read {s}: {e}")))?)
            }
        } else if let Ok(p) = src.extract::<PathBuf>() {
            KeySetSpec::Local(std::fs::read_to_string(&p).map_err(|e| at.value_error(format_args!("cannot read {}: {e}", p.display())))?)
        } else {
            return Err(at.type_error("expected a JWKS dict, a URL, a file path or key text"));
        };
        specs.push((name, spec));
    }
    KeySets::new(specs).map(Some).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A `policy_version=` argument: any non-empty label, or None.
fn checked_version(version: Option<String>) -> PyResult<Option<String>> {
    match version {
        Some(v) if v.is_empty() => Err(PyValueError::new_err("policy_version must not be empty (None when unknown)")),
        v => Ok(v),
    }
}

/// Converts a Python datetime or RFC 3339 string to the fixed `now` of a check.
pub fn parse_now(now: Option<&Bound<'_, PyAny>>) -> PyResult<Option<DateTime<FixedOffset>>> {
    let Some(now) = now.filter(|n| !n.is_none()) else { return Ok(None) };
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

/// Decides `inputs`, with the GIL released for batches, and returns what `read` makes of the
/// outputs; telemetry records the decision, and the decision log logs it if the engine has one.
pub fn decide<R>(
    py: Python<'_>,
    engine: &Arc<Engine>,
    inputs: Vec<CheckInput>,
    now: Option<DateTime<FixedOffset>>,
    read: impl FnOnce(&[crate::eval::CheckOutput]) -> R,
) -> R {
    let timer = super::telemetry::start();
    let observed = |inputs: &[CheckInput], outputs: &[crate::eval::CheckOutput]| {
        super::telemetry::checked(py, timer, engine, inputs, outputs);
        read(outputs)
    };
    if let Some(log) = engine.audit_log() {
        return super::audit::decide_logged(py, engine, log, inputs, now, observed);
    }
    // Releasing the GIL costs about as much as one decision: worth it for batches only.
    let (inputs, outputs) = if inputs.len() >= RELEASE_GIL_FROM {
        let engine = engine.clone();
        py.detach(move || {
            let outputs = engine.check(&inputs, now);
            (inputs, outputs)
        })
    } else {
        let outputs = engine.check(&inputs, now);
        (inputs, outputs)
    };
    observed(&inputs, &outputs)
}

/// A Cerbos public `CheckResourcesRequest` (JSON-shaped), parsed as the core parses the JSON body.
/// A Cerbos API request read from Python (`check_resources_json`, `plan_resources_json`); errors
/// name the offending field.
pub(super) fn api_request<T: serde::de::DeserializeOwned>(request: &Bound<'_, PyAny>) -> PyResult<T> {
    let json = values::value::<Json>(request, &Path::root("request"))?;
    serde_path_to_error::deserialize(json).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path.is_empty() || path == "." {
            PyValueError::new_err(format!("request: {inner}"))
        } else {
            PyValueError::new_err(format!("request.{path}: {inner}"))
        }
    })
}

#[pymethods]
impl PyEngine {
    /// Loads every policy under `path` (YAML and JSON, recursively, skipping tests, hidden files,
    /// `testdata/` and disabled policies). Raises `PolicyError` listing every problem.
    #[staticmethod]
    #[pyo3(signature = (path, *, globals=None, lenient_scope_search=false, schema_enforcement="none", watch=false, jwt_keysets=None, strict_evaluation=false, default_policy_version="default", default_scope="", audit=None, policy_version=None, max_resources_per_request=LimitArg::Unset, max_actions_per_resource=LimitArg::Unset))]
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
        audit: Option<&Bound<'_, PyAny>>,
        policy_version: Option<String>,
        max_resources_per_request: LimitArg,
        max_actions_per_resource: LimitArg,
    ) -> PyResult<PyEngine> {
        guard("Engine.from_directory", || {
            let policy_version = checked_version(policy_version)?;
            let c = config(
                globals,
                Options { lenient: lenient_scope_search, enforcement: schema_enforcement, strict: strict_evaluation, default_policy_version, default_scope },
            )?;
            let keysets = keysets_from_py(jwt_keysets)?;
            let limits = Limits::new(max_resources_per_request, max_actions_per_resource);
            let engine = build(py, PolicySource::Directory(path.clone()), c, keysets, limits, audit)?;
            engine.inner.set_policy_version(policy_version);
            if watch {
                let logger: Py<PyAny> = py.import("logging")?.call_method1("getLogger", ("warden",))?.unbind();
                let dir = path.display().to_string();
                let watched = std::sync::Arc::downgrade(&engine.inner);
                let listener = Box::new(move |result: Result<(), &crate::policy::PolicyErrors>| {
                    Python::attach(|py| {
                        if let Some(engine) = watched.upgrade() {
                            // The reload is over: its span (if any) covers the report, not the compile.
                            super::telemetry::reloaded(py, super::telemetry::start(), &engine, result.err().map(|e| e.to_string()));
                        }
                        let logger = logger.bind(py);
                        let _ = match result {
                            Ok(()) => logger.call_method1("info", ("reloaded policies from %s", &dir)),
                            Err(e) => {
                                logger.call_method1("error", ("policies in %s failed to compile; the last good set keeps serving:\n%s", &dir, e.to_string()))
                            }
                        };
                    });
                });
                engine.inner.watch(listener).map_err(PyValueError::new_err)?;
            }
            Ok(engine)
        })
    }

    /// Loads policies given as YAML/JSON strings or dicts.
    #[staticmethod]
    #[pyo3(signature = (items, *, globals=None, lenient_scope_search=false, schema_enforcement="none", jwt_keysets=None, strict_evaluation=false, default_policy_version="default", default_scope="", audit=None, policy_version=None, max_resources_per_request=LimitArg::Unset, max_actions_per_resource=LimitArg::Unset))]
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
        audit: Option<&Bound<'_, PyAny>>,
        policy_version: Option<String>,
        max_resources_per_request: LimitArg,
        max_actions_per_resource: LimitArg,
    ) -> PyResult<PyEngine> {
        guard("Engine.from_policies", || {
            let policy_version = checked_version(policy_version)?;
            let c = config(
                globals,
                Options { lenient: lenient_scope_search, enforcement: schema_enforcement, strict: strict_evaluation, default_policy_version, default_scope },
            )?;
            let keysets = keysets_from_py(jwt_keysets)?;
            let root = Path::root("policies");
            let mut docs = Vec::new();
            for (i, item) in items.try_iter()?.enumerate() {
                let item = item?;
                let at = root.index(i, Some(&item));
                let name = at.to_string();
                if let Ok(s) = item.cast::<PyString>() {
                    docs.push((name, values::text(s, &at)?.to_owned()));
                } else if item.is_instance_of::<PyDict>() {
                    let v = values::value::<Json>(&item, &at)?;
                    docs.push((name, serde_json::to_string_pretty(&v).map_err(|e| at.value_error(e))?));
                } else {
                    return Err(at.type_error(format_args!("expected a YAML/JSON string or a dict, got {}", type_name(&item))));
                }
            }
            let limits = Limits::new(max_resources_per_request, max_actions_per_resource);
            let engine = build(py, PolicySource::Documents(docs), c, keysets, limits, audit)?;
            engine.inner.set_policy_version(policy_version);
            Ok(engine)
        })
    }

    /// Decides a batch of Cerbos engine `CheckInput` dicts; returns `CheckOutput` dicts (camelCase).
    /// `report_used_now=True` adds `usedNow`: whether an expression evaluated for that decision read `now()`.
    #[pyo3(signature = (inputs, *, now=None, report_used_now=false))]
    fn check<'py>(&self, py: Python<'py>, inputs: &Bound<'py, PyAny>, now: Option<&Bound<'py, PyAny>>, report_used_now: bool) -> PyResult<Bound<'py, PyAny>> {
        guard("Engine.check", || {
            let inputs = requests::check_inputs(inputs)?;
            let limits = &self.call_limits;
            limits.check_resources(inputs.len(), "inputs").map_err(PyValueError::new_err)?;
            for (i, input) in inputs.iter().enumerate() {
                limits.check_actions(input.actions.len(), &format!("inputs[{i}].actions")).map_err(PyValueError::new_err)?;
            }
            let now = parse_now(now)?;
            Ok(decide(py, &self.inner, inputs, now, |outputs| output_dicts(py, outputs, report_used_now))?.into_any())
        })
    }

    /// Whether `principal` may do `action` on `resource`. Both may be dicts (engine or SDK field
    /// names) or `Principal`/`Resource` objects; `aux_data` is `{"jwt": {claims}}` if given.
    #[pyo3(signature = (principal, resource, *, action, aux_data=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn is_allowed(
        &self,
        py: Python<'_>,
        principal: &Bound<'_, PyAny>,
        resource: &Bound<'_, PyAny>,
        action: &Bound<'_, PyAny>,
        aux_data: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        guard("Engine.is_allowed", || {
            let input = CheckInput {
                request_id: String::new(),
                principal: requests::principal(principal, &Path::root("principal"), Rules::Engine)?,
                resource: requests::resource(resource, &Path::root("resource"), Rules::Engine)?,
                actions: vec![requests::action(action, &Path::root("action"))?],
                aux_data: match aux_data {
                    Some(a) => requests::aux_data(a, &Path::root("aux_data"))?,
                    None => None,
                },
            };
            input.validate().map_err(PyValueError::new_err)?;
            let now = parse_now(now)?;
            let allowed = |out: &[crate::eval::CheckOutput]| out[0].actions.0.first().is_some_and(|(_, e)| allows(e));
            if self.inner.audit_log().is_none() {
                // A single decision takes about a microsecond: releasing the GIL would cost more than it frees.
                let timer = super::telemetry::start();
                let out = self.inner.check(std::slice::from_ref(&input), now);
                super::telemetry::checked(py, timer, &self.inner, std::slice::from_ref(&input), &out);
                return Ok(allowed(&out));
            }
            Ok(decide(py, &self.inner, vec![input], now, allowed))
        })
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
        guard("Engine.decision_table", || {
            let principal = requests::principal(principal, &Path::root("principal"), Rules::Engine)?;
            let actions_at = Path::root("actions");
            if actions.is_instance_of::<PyString>() {
                return Err(actions_at.type_error("expected a list of strings, not a single string"));
            }
            let actions = requests::names(actions, &actions_at, Rules::Engine)?;
            if actions.is_empty() {
                return Err(actions_at.value_error("at least one action is required"));
            }
            let limits = &self.call_limits;
            limits.check_actions(actions.len(), "actions").map_err(PyValueError::new_err)?;
            let aux = match aux_data {
                Some(a) => requests::aux_data(a, &Path::root("aux_data"))?,
                None => None,
            };
            let root = Path::root("resources");
            if resources.is_instance_of::<PyString>() || resources.is_instance_of::<PyDict>() {
                return Err(root.type_error(format_args!("expected a list of resources, got {}", type_name(resources))));
            }
            let listed = resources.try_iter().map_err(|_| root.type_error(format_args!("expected a list of resources, got {}", type_name(resources))))?;
            let at = root.at(resources);
            let mut inputs = Vec::new();
            for (i, resource) in listed.enumerate() {
                let resource = resource?;
                let at = at.index(i, Some(&resource));
                let input = CheckInput {
                    request_id: String::new(),
                    principal: principal.clone(),
                    resource: requests::resource(&resource, &at, Rules::Engine)?,
                    actions: actions.clone(),
                    aux_data: aux.clone(),
                };
                input.validate().map_err(|e| at.value_error(e))?;
                inputs.push(input);
            }
            limits.check_resources(inputs.len(), "resources").map_err(PyValueError::new_err)?;
            let now = parse_now(now)?;
            Ok(decide(py, &self.inner, inputs, now, |outputs| {
                outputs.iter().map(|o| actions.iter().map(|a| o.effect(a).is_some_and(allows)).collect()).collect()
            }))
        })
    }

    /// Decides one `CheckInput` dict and explains it: `{"output": CheckOutput, "actions": [...], "derivedRoles": [...]}`
    /// where each action lists, in order, the rules evaluated with the value of each condition.
    #[pyo3(signature = (input, *, now=None))]
    fn explain<'py>(&self, py: Python<'py>, input: &Bound<'py, PyAny>, now: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        guard("Engine.explain", || {
            let input = requests::check_input(input, &Path::root("input"), None)?;
            let now = parse_now(now)?;
            let engine = self.inner.clone();
            let (output, explanation) = py.detach(move || engine.explain(&input, now));
            explained(py, output, explanation)
        })
    }

    /// Answers a Cerbos public `CheckResourcesRequest` (the JSON body of `POST /api/check/resources`,
    /// camelCase) with the `CheckResourcesResponse` JSON Cerbos would return.
    #[pyo3(signature = (request, *, now=None))]
    fn check_resources_json<'py>(&self, py: Python<'py>, request: &Bound<'py, PyAny>, now: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        guard("Engine.check_resources_json", || {
            let req: crate::api::CheckResourcesRequest = api_request(request)?;
            let now = parse_now(now)?;
            if self.inner.audit_log().is_some() {
                // Logged: the inputs are decided through `decide`, which logs them.
                let inputs = match self.api.check_inputs(&req) {
                    Ok(i) => i,
                    Err(e) => {
                        super::audit::log_error(py, &self.inner, e.clone());
                        return Err(PyValueError::new_err(e));
                    }
                };
                let resp = decide(py, &self.inner, inputs, now, |outputs| req.response(outputs.to_vec()));
                return serialized_to_py(py, &resp);
            }
            let resp = py.detach(|| self.api.check_resources(&req, now)).map_err(PyValueError::new_err)?;
            serialized_to_py(py, &resp)
        })
    }

    // --- query planning (src/py/plan.rs; owned by the planner work) -----------------------------

    /// Which resources of a kind `principal` may act on with all of `actions`: Cerbos's
    /// `PlanResourcesResponse` JSON (`filter` with `kind` and `condition`, `meta.filterDebug`).
    /// `presence_tests=True` keeps `has(R.attr.x)` as `(has request.resource.attr.x)`;
    /// `exact=True` plans as `check` decides, row for row (see `crate::plan::PlanOptions`).
    #[pyo3(signature = (principal, resource, actions, *, aux_data=None, now=None, presence_tests=false, exact=false))]
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
        exact: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = crate::plan::PlanOptions { presence_tests, exact };
        super::plan::plan_resources(self, py, principal, resource, actions, aux_data, now, options)
    }

    /// Answers a Cerbos public `PlanResourcesRequest` (the JSON body of `POST /api/plan/resources`)
    /// with the `PlanResourcesResponse` JSON Cerbos would return.
    /// `exact=True` as for `plan_resources`.
    #[pyo3(signature = (request, *, now=None, exact=false))]
    fn plan_resources_json<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
        exact: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        super::plan::plan_resources_json(self, py, request, now, crate::plan::PlanOptions { exact, ..Default::default() })
    }

    // --- end of query planning --------------------------------------------------------------------

    /// Reads and compiles the policies again; on failure raises `PolicyError` and keeps the current
    /// set and its version. On success `policy_version` becomes the given one (else `None`).
    #[pyo3(signature = (*, policy_version=None))]
    fn reload(&self, py: Python<'_>, policy_version: Option<String>) -> PyResult<()> {
        guard("Engine.reload", || {
            let version = checked_version(policy_version)?;
            let engine = self.inner.clone();
            let timer = super::telemetry::start();
            let result = py.detach(move || engine.reload_as(version));
            super::telemetry::reloaded(py, timer, &self.inner, result.as_ref().err().map(|e| e.to_string()));
            result.map_err(|e| policy_error(py, &e))
        })
    }

    /// Waits until every decision-log entry produced so far has reached its sink; False if
    /// `timeout` (seconds) passed first. True at once for an engine without a decision log.
    #[pyo3(signature = (timeout=None))]
    fn flush_audit(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        guard("Engine.flush_audit", || super::audit::flush(py, &self.inner, timeout))
    }

    /// The decision log's counters (`queued`, `processed`, `dropped` for a full queue, `failed`
    /// sink writes), or None without a decision log.
    fn audit_stats<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        guard("Engine.audit_stats", || super::audit::stats(py, &self.inner))
    }

    /// Logs a request refused before any decision, e.g. an invalid bearer token (`error` says
    /// why), as an entry whose `checkResources.error` is `error`. Nothing without a decision log.
    fn log_refusal(&self, py: Python<'_>, error: String) -> PyResult<()> {
        guard("Engine.log_refusal", || {
            super::audit::log_error(py, &self.inner, error);
            Ok(())
        })
    }

    /// The version the policies in force came from (a git commit, a bundle digest), as given
    /// to the constructor or `reload`; `None` when nobody said.
    #[getter]
    fn policy_version(&self) -> Option<String> {
        self.inner.policy_version()
    }

    fn __repr__(&self) -> PyResult<String> {
        guard("Engine.__repr__", || {
            let t = self.inner.table();
            Ok(match self.inner.source() {
                PolicySource::Directory(p) => format!("Engine.from_directory({:?}) with {} policies", p.display().to_string(), t.meta.len()),
                PolicySource::Documents(d) => format!("Engine.from_policies(<{} documents>) with {} policies", d.len(), t.meta.len()),
            })
        })
    }
}

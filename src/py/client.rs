//! `warden._core.ClientCore`: the Cerbos SDK's request shapes (`warden.Client`) read and decided
//! in one step, with the PDP's request rules and the SDK's field names in errors
//! (`resources[1].resource.kind`), and the answer built directly as `warden.models` objects.
use super::engine::{decide, PyEngine};
use super::errors::guard;
use super::models::Models;
use super::requests::{self, Rules};
use super::results::{allows, echo, response};
use super::values::{as_mapping, type_name, Path};
use crate::api::RequestLimits;
use crate::engine::Engine;
use crate::eval::request::{AuxData, CheckInput};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use std::sync::{Arc, PoisonError, RwLock};

/// The Rust half of `warden.Client`; use that class instead.
#[pyclass(name = "ClientCore", module = "warden._core", frozen)]
pub struct PyClientCore {
    /// `None` once closed.
    engine: RwLock<Option<Arc<Engine>>>,
    /// The PDP's request limits, as the engine was configured.
    limits: RequestLimits,
}

impl PyClientCore {
    fn engine(&self) -> PyResult<Arc<Engine>> {
        let engine = self.engine.read().unwrap_or_else(PoisonError::into_inner);
        engine.clone().ok_or_else(|| PyRuntimeError::new_err("warden.Client is closed"))
    }
}

/// The raw-token hint: the SDK's `AuxData(jwt=JWT(token))` asks the PDP to verify a token.
const RAW_TOKEN: &str = "warden.Client does not verify raw JWT tokens yet; verify the token and pass its claims as aux_data={'jwt': {...claims}}";

/// The SDK's aux data: `None`, verified claims as `{"jwt": {...}}`, or an `AuxData` model
/// (refused with a hint when it carries a token: the client cannot verify it).
fn aux_data(v: Option<&Bound<'_, PyAny>>, models: &Models) -> PyResult<Option<AuxData>> {
    let Some(v) = v.filter(|v| !v.is_none()) else { return Ok(None) };
    let py = v.py();
    let at = Path::root("aux_data");
    if v.is_instance(models.aux_data.bind(py))? {
        let jwt = v.getattr(intern!(py, "jwt"))?;
        let jwts = v.getattr(intern!(py, "jwts"))?;
        if jwt.is_none() && (jwts.is_none() || !jwts.is_truthy()?) {
            return Ok(None);
        }
        return Err(at.field("jwt", None).value_error(RAW_TOKEN));
    }
    let dict = match v.cast::<PyDict>() {
        Ok(d) => Some(d.clone()),
        Err(_) => as_mapping(v)?,
    };
    let Some(d) = dict else {
        return Err(at.type_error(format_args!("expected a dict like {{'jwt': {{...claims}}}}, got {}", type_name(v))));
    };
    if d.is_empty() {
        return Ok(None);
    }
    if let Some(jwt) = d.get_item(intern!(py, "jwt"))? {
        if jwt.is_instance(models.jwt.bind(py))? || jwt.is_instance_of::<PyString>() || jwt.is_instance_of::<PyBytes>() {
            return Err(at.field("jwt", None).value_error(RAW_TOKEN));
        }
    }
    requests::aux_data(d.as_any(), &at)
}

/// The entries of `resources`: a `ResourceList`, a list or tuple, or a mapping with `resources`.
fn resource_entries<'py>(resources: &Bound<'py, PyAny>, at: &Path<'_>) -> PyResult<Bound<'py, PyAny>> {
    let py = resources.py();
    let expected = || at.type_error(format_args!("expected warden.ResourceList or a list, got {}", type_name(resources)));
    if resources.is_instance_of::<PyList>() || resources.is_instance_of::<PyTuple>() {
        return Ok(resources.clone());
    }
    if resources.is_instance_of::<PyString>() || resources.is_instance_of::<PyBytes>() {
        return Err(expected());
    }
    let entries = if let Ok(d) = resources.cast::<PyDict>() {
        d.get_item(intern!(py, "resources"))?
    } else if Models::get(py)?.is_model(resources)? {
        resources.getattr_opt(intern!(py, "resources"))?
    } else if let Some(d) = as_mapping(resources)? {
        d.get_item(intern!(py, "resources"))?
    } else {
        resources.getattr_opt(intern!(py, "resources"))?
    };
    match entries {
        Some(e) if e.is_instance_of::<PyList>() || e.is_instance_of::<PyTuple>() => Ok(e),
        _ => Err(expected()),
    }
}

/// One entry of `resources`: a `ResourceAction` or a dict `{"resource": ..., "actions": [...]}`.
fn resource_entry<'py>(entry: &Bound<'py, PyAny>, at: &Path<'_>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let py = entry.py();
    let (resource, actions) = if let Ok(d) = entry.cast::<PyDict>() {
        (d.get_item(intern!(py, "resource"))?, d.get_item(intern!(py, "actions"))?)
    } else if Models::get(py)?.is_model(entry)? {
        (entry.getattr_opt(intern!(py, "resource"))?, entry.getattr_opt(intern!(py, "actions"))?)
    } else if let Some(d) = as_mapping(entry)? {
        (d.get_item(intern!(py, "resource"))?, d.get_item(intern!(py, "actions"))?)
    } else if entry.hasattr(intern!(py, "resource"))? && !entry.is_instance_of::<PyString>() {
        (entry.getattr_opt(intern!(py, "resource"))?, entry.getattr_opt(intern!(py, "actions"))?)
    } else {
        return Err(at.type_error(format_args!("expected warden.ResourceAction or dict, got {}", type_name(entry))));
    };
    let resource = resource.ok_or_else(|| at.field("resource", None).type_error("missing (required)"))?;
    let actions = actions.ok_or_else(|| at.field("actions", None).type_error("missing (required)"))?;
    Ok((resource, actions))
}

#[pymethods]
impl PyClientCore {
    #[new]
    fn new(engine: &Bound<'_, PyEngine>) -> PyResult<Self> {
        guard("Client.__init__", || {
            let engine = engine.get();
            Ok(PyClientCore { engine: RwLock::new(Some(engine.inner.clone())), limits: engine.api.limits() })
        })
    }

    /// `Client.is_allowed`: whether `principal` may do `action` on `resource`. The signature is the
    /// SDK's (`request_id` has no response to go into), so the client can bind this method directly.
    #[pyo3(signature = (action, principal, resource, request_id=None, aux_data=None))]
    fn is_allowed(
        &self,
        py: Python<'_>,
        action: &Bound<'_, PyAny>,
        principal: &Bound<'_, PyAny>,
        resource: &Bound<'_, PyAny>,
        request_id: Option<&Bound<'_, PyAny>>,
        aux_data: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let _ = request_id;
        guard("Client.is_allowed", || {
            let engine = self.engine()?;
            let input = CheckInput {
                request_id: String::new(),
                principal: requests::principal(principal, &Path::root("principal"), Rules::Api)?,
                resource: requests::resource(resource, &Path::root("resource"), Rules::Api)?,
                actions: vec![requests::action(action, &Path::root("action"))?],
                aux_data: self::aux_data(aux_data, Models::get(py)?)?,
            };
            let allowed = |out: &[crate::eval::CheckOutput]| out[0].actions.0.first().is_some_and(|(_, e)| allows(e));
            if engine.audit_log().is_none() {
                let timer = super::telemetry::start();
                let out = engine.check(std::slice::from_ref(&input), None);
                super::telemetry::checked(py, timer, &engine, std::slice::from_ref(&input), &out);
                return Ok(allowed(&out));
            }
            Ok(decide(py, &engine, vec![input], None, allowed))
        })
    }

    /// `Client.check_resources`: every action on every resource, as a `CheckResourcesResponse`.
    #[pyo3(signature = (principal, resources, request_id, aux_data=None))]
    fn check_resources<'py>(
        &self,
        py: Python<'py>,
        principal: &Bound<'py, PyAny>,
        resources: &Bound<'py, PyAny>,
        request_id: &Bound<'py, PyAny>,
        aux_data: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard("Client.check_resources", || {
            let engine = self.engine()?;
            let models = Models::get(py)?;
            let principal = requests::principal(principal, &Path::root("principal"), Rules::Api)?;
            let aux = self::aux_data(aux_data, models)?;
            let root = Path::root("resources");
            let entries = resource_entries(resources, &root)?;
            self.limits.check_resources(entries.len()?, "resources").map_err(PyValueError::new_err)?;
            let at = root.at(&entries);
            let mut named = Vec::new();
            let mut inputs = Vec::new();
            for (i, entry) in entries.try_iter()?.enumerate() {
                let entry = entry?;
                let at = at.index(i, Some(&entry));
                let (resource, actions) = resource_entry(&entry, &at)?;
                let actions_at = at.field("actions", Some(&actions));
                let input = CheckInput {
                    request_id: String::new(),
                    principal: principal.clone(),
                    resource: requests::resource(&resource, &at.field("resource", Some(&resource)), Rules::Api)?,
                    actions: requests::names(&actions, &actions_at, Rules::Api)?,
                    aux_data: aux.clone(),
                };
                self.limits.check_actions(input.actions.len(), &actions_at.to_string()).map_err(PyValueError::new_err)?;
                named.push(echo(models, &resource, &input.resource)?);
                inputs.push(input);
            }
            if inputs.is_empty() {
                return Err(root.value_error("at least one resource is required"));
            }
            decide(py, &engine, inputs, None, |outputs| response(models, request_id, &named, outputs))
        })
    }

    /// Releases the engine; later calls raise `RuntimeError`.
    fn close(&self) -> PyResult<()> {
        guard("Client.close", || {
            *self.engine.write().unwrap_or_else(PoisonError::into_inner) = None;
            Ok(())
        })
    }
}

//! Query planning for Python (`Engine.plan_resources`, `Engine.plan_resources_json`): inputs
//! read as `is_allowed` reads them, the plan made with the GIL released, the answer in Cerbos's
//! public `PlanResourcesResponse` JSON shape.
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use super::engine::{api_request, parse_now, PyEngine};
use super::errors::guard;
use super::requests::{self, Rules};
use super::values::{serialized_to_py, Path};
use crate::api::plan::PlanResourcesRequest;
use crate::plan::{PlanInput, PlanOptions, PlanResource};

/// Telemetry for a plan: the filter's kind is what a trace needs of the answer.
fn planned(
    py: Python<'_>,
    timer: Option<super::telemetry::Timer>,
    engine: &PyEngine,
    principal: &str,
    kind: &str,
    actions: &[String],
    filter: &serde_json::Value,
) {
    let filter_kind = filter.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    super::telemetry::planned(py, timer, &engine.inner, principal, kind, actions, filter_kind);
}

/// `actions`: one action name or a list of them.
fn actions_from_py(actions: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let at = Path::root("actions");
    if actions.is_instance_of::<PyString>() {
        return Ok(vec![requests::action(actions, &at)?]);
    }
    requests::names(actions, &at, Rules::Engine)
}

#[allow(clippy::too_many_arguments)]
pub fn plan_resources<'py>(
    engine: &PyEngine,
    py: Python<'py>,
    principal: &Bound<'py, PyAny>,
    resource: &Bound<'py, PyAny>,
    actions: &Bound<'py, PyAny>,
    aux_data: Option<&Bound<'py, PyAny>>,
    now: Option<&Bound<'py, PyAny>>,
    options: PlanOptions,
) -> PyResult<Bound<'py, PyAny>> {
    guard("Engine.plan_resources", || {
        let principal = requests::principal(principal, &Path::root("principal"), Rules::Engine)?;
        let r = requests::resource(resource, &Path::root("resource"), Rules::Engine)?;
        let resource = PlanResource { kind: r.kind, policy_version: r.policy_version, scope: r.scope, attr: r.attr };
        let actions = actions_from_py(actions)?;
        engine.call_limits.check_actions(actions.len(), "actions").map_err(PyValueError::new_err)?;
        let aux_data = match aux_data {
            Some(a) => requests::aux_data(a, &Path::root("aux_data"))?,
            None => None,
        };
        let now = parse_now(now)?;
        let input = PlanInput { request_id: String::new(), actions: actions.clone(), principal: principal.clone(), resource: resource.clone(), aux_data };
        // The response of the equivalent API request, with `meta` (the filter's text and matched scopes).
        let request = PlanResourcesRequest {
            request_id: String::new(),
            action: String::new(),
            actions,
            principal,
            resource,
            aux_data: None,
            include_meta: true,
            request_context: None,
        };
        let now = super::audit::now_if_logged(&engine.inner, now);
        let inner = engine.inner.clone();
        let timer = super::telemetry::start();
        let (input, out) = py.detach(move || {
            let out = inner.plan_with(&input, now, &options);
            (input, out)
        });
        let response = request.response(out.map_err(PyValueError::new_err)?);
        let result = serialized_to_py(py, &response);
        planned(py, timer, engine, &request.principal.id, &request.resource.kind, &request.actions, &response.filter);
        if let Some(now) = now {
            super::audit::log_plan(py, &engine.inner, input, response, now);
        }
        result
    })
}

pub fn plan_resources_json<'py>(
    engine: &PyEngine,
    py: Python<'py>,
    request: &Bound<'py, PyAny>,
    now: Option<&Bound<'py, PyAny>>,
    options: PlanOptions,
) -> PyResult<Bound<'py, PyAny>> {
    guard("Engine.plan_resources_json", || {
        let req: PlanResourcesRequest = api_request(request)?;
        let now = parse_now(now)?;
        let timer = super::telemetry::start();
        let actions = if req.actions.is_empty() && !req.action.is_empty() { vec![req.action.clone()] } else { req.actions.clone() };
        let (principal_id, kind) = (req.principal.id.clone(), req.resource.kind.clone());
        let inner = engine.inner.clone();
        if inner.audit_log().is_some() {
            // Logged: the engine-level input is kept for the entry.
            let now = super::audit::now_if_logged(&inner, now);
            let input = match engine.api.plan_input(&req) {
                Ok(i) => i,
                Err(e) => {
                    super::audit::log_error(py, &inner, e.clone());
                    return Err(PyValueError::new_err(e));
                }
            };
            let (input, out) = py.detach(move || {
                let out = inner.plan_with(&input, now, &options);
                (input, out)
            });
            let resp = req.response(out.map_err(PyValueError::new_err)?);
            let result = serialized_to_py(py, &resp);
            planned(py, timer, engine, &principal_id, &kind, &actions, &resp.filter);
            if let Some(now) = now {
                super::audit::log_plan(py, &engine.inner, input, resp, now);
            }
            return result;
        }
        let resp = py.detach(|| engine.api.plan_resources_with(&req, now, &options)).map_err(PyValueError::new_err)?;
        planned(py, timer, engine, &principal_id, &kind, &actions, &resp.filter);
        serialized_to_py(py, &resp)
    })
}

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
        let inner = engine.inner.clone();
        let out = py.detach(move || inner.plan_with(&input, now, &options)).map_err(PyValueError::new_err)?;
        serialized_to_py(py, &request.response(out))
    })
}

pub fn plan_resources_json<'py>(
    engine: &PyEngine,
    py: Python<'py>,
    request: &Bound<'py, PyAny>,
    now: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    guard("Engine.plan_resources_json", || {
        let req: PlanResourcesRequest = api_request(request)?;
        let now = parse_now(now)?;
        let resp = py.detach(|| engine.api.plan_resources(&req, now)).map_err(PyValueError::new_err)?;
        serialized_to_py(py, &resp)
    })
}

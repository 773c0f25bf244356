//! Decisions as Python values, each built once in its final shape: Cerbos engine `CheckOutput`
//! dicts for `Engine.check`, and the SDK's models (`warden.models`) for `warden.Client`.
use super::models::Models;
use super::values::{serialized_to_py, to_py};
use crate::eval::request::{ActionEffect, CheckOutput, ResourceInput};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyType};

/// Whether an action's effect is an allow.
pub fn allows(e: &ActionEffect) -> bool {
    e.effect == crate::policy::Effect::Allow
}

/// Python strings for the texts the outputs of a batch repeat (action names, policy keys), each
/// made once per batch rather than once per output; also saves hashing them again as dict keys.
pub struct RepeatedTexts<'a, 'py> {
    py: Python<'py>,
    /// A handful of distinct texts per batch: a short list searched in order beats a map.
    made: Vec<(&'a str, Bound<'py, PyString>)>,
}

impl<'a, 'py> RepeatedTexts<'a, 'py> {
    const MAX: usize = 16;

    pub fn new(py: Python<'py>) -> Self {
        RepeatedTexts { py, made: Vec::new() }
    }

    pub fn get(&mut self, text: &'a str) -> Bound<'py, PyString> {
        if let Some((_, s)) = self.made.iter().find(|(t, _)| *t == text) {
            return s.clone();
        }
        let s = PyString::new(self.py, text);
        if self.made.len() < Self::MAX {
            self.made.push((text, s.clone()));
        }
        s
    }
}

/// A `CheckOutput` as a dict, in Cerbos's protojson shape (camelCase, empty fields left out).
fn output_dict<'a, 'py>(py: Python<'py>, o: &'a CheckOutput, texts: &mut RepeatedTexts<'a, 'py>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    if !o.request_id.is_empty() {
        d.set_item(intern!(py, "requestId"), &o.request_id)?;
    }
    if !o.resource_id.is_empty() {
        d.set_item(intern!(py, "resourceId"), &o.resource_id)?;
    }
    let actions = PyDict::new(py);
    for (a, e) in &o.actions.0 {
        let ae = PyDict::new(py);
        ae.set_item(intern!(py, "effect"), if allows(e) { intern!(py, "EFFECT_ALLOW") } else { intern!(py, "EFFECT_DENY") })?;
        ae.set_item(intern!(py, "policy"), texts.get(&e.policy))?;
        if !e.scope.is_empty() {
            ae.set_item(intern!(py, "scope"), &e.scope)?;
        }
        actions.set_item(texts.get(a), ae)?;
    }
    d.set_item(intern!(py, "actions"), actions)?;
    if !o.effective_derived_roles.is_empty() {
        d.set_item(intern!(py, "effectiveDerivedRoles"), &o.effective_derived_roles)?;
    }
    // The rarer parts through their JSON form: they are not on the common path.
    if !o.validation_errors.is_empty() {
        d.set_item(intern!(py, "validationErrors"), serialized_to_py(py, &o.validation_errors)?)?;
    }
    if !o.outputs.is_empty() {
        d.set_item(intern!(py, "outputs"), serialized_to_py(py, &o.outputs)?)?;
    }
    if !o.evaluation_errors.is_empty() {
        d.set_item(intern!(py, "evaluationErrors"), serialized_to_py(py, &o.evaluation_errors)?)?;
    }
    Ok(d)
}

/// `Engine.check`'s answer: one `CheckOutput` dict per input, with warden's `usedNow` if asked.
pub fn output_dicts<'py>(py: Python<'py>, outputs: &[CheckOutput], report_used_now: bool) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    let mut texts = RepeatedTexts::new(py);
    for o in outputs {
        let d = output_dict(py, o, &mut texts)?;
        if report_used_now {
            d.set_item(intern!(py, "usedNow"), o.used_now)?;
        }
        list.append(d)?;
    }
    Ok(list)
}

/// The `Resource` a result names: the request's own object when it is one (it carries what the
/// PDP echoes: id, kind, policy version, scope), else the echo of the fields read.
pub fn echo<'py>(models: &Models, given: &Bound<'py, PyAny>, read: &ResourceInput) -> PyResult<Bound<'py, PyAny>> {
    let py = given.py();
    if models.is_resource(given)? {
        return Ok(given.clone());
    }
    let version = if read.policy_version.is_empty() { "default" } else { &read.policy_version };
    models.resource.bind(py).call1((&read.id, &read.kind, PyDict::new(py), version, &read.scope))
}

/// A model instance with the given fields set, without running the dataclass's `__init__`
/// (Python code that would cost more than deciding).
fn instance<'py>(py: Python<'py>, models: &Models, class: &Py<PyType>, fields: &[(&Bound<'py, PyString>, Bound<'py, PyAny>)]) -> PyResult<Bound<'py, PyAny>> {
    let object = models.new.bind(py).call1((class.bind(py),))?;
    for (name, value) in fields {
        object.setattr(*name, value)?;
    }
    Ok(object)
}

/// A `CheckResourcesResult` for one resource of a `check_resources` call.
fn result<'a, 'py>(models: &Models, resource: Bound<'py, PyAny>, o: &'a CheckOutput, texts: &mut RepeatedTexts<'a, 'py>) -> PyResult<Bound<'py, PyAny>> {
    let py = resource.py();
    let actions = PyDict::new(py);
    for (a, e) in &o.actions.0 {
        actions.set_item(texts.get(a), if allows(e) { &models.allow } else { &models.deny })?;
    }
    let validation_errors = if o.validation_errors.is_empty() {
        py.None().into_bound(py)
    } else {
        let list = PyList::empty(py);
        for e in &o.validation_errors {
            let source = models.source.bind(py).call1((e.source,))?;
            list.append(models.validation_error.bind(py).call1((&e.message, source, &e.path))?)?;
        }
        list.into_any()
    };
    let outputs = if o.outputs.is_empty() {
        py.None().into_bound(py)
    } else {
        let list = PyList::empty(py);
        for e in &o.outputs {
            let val = match &e.val {
                Some(v) => to_py(py, v)?,
                None => py.None().into_bound(py),
            };
            list.append(models.output_entry.bind(py).call1((&e.src, val, &e.action, &e.error))?)?;
        }
        list.into_any()
    };
    instance(
        py,
        models,
        &models.result,
        &[
            (intern!(py, "resource"), resource),
            (intern!(py, "actions"), actions.into_any()),
            (intern!(py, "validation_errors"), validation_errors),
            (intern!(py, "outputs"), outputs),
        ],
    )
}

/// The `CheckResourcesResponse` of a `check_resources` call, results in request order; `resources`
/// are the echoes (`echo`) of the request's resources.
pub fn response<'py>(models: &Models, request_id: &Bound<'py, PyAny>, resources: &[Bound<'py, PyAny>], outputs: &[CheckOutput]) -> PyResult<Bound<'py, PyAny>> {
    let py = request_id.py();
    let results = PyList::empty(py);
    let mut texts = RepeatedTexts::new(py);
    for (resource, o) in resources.iter().zip(outputs) {
        results.append(result(models, resource.clone(), o, &mut texts)?)?;
    }
    instance(
        py,
        models,
        &models.response,
        &[
            (intern!(py, "request_id"), request_id.clone()),
            (intern!(py, "results"), results.into_any()),
            (intern!(py, "status_code"), models.http_ok.bind(py).clone()),
            (intern!(py, "status_msg"), py.None().into_bound(py)),
        ],
    )
}

/// The explanation of one decision: `{"output": CheckOutput, "actions": [...], "derivedRoles": [...]}`.
pub fn explained<'py>(py: Python<'py>, output: CheckOutput, explanation: crate::eval::Explanation) -> PyResult<Bound<'py, PyAny>> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Explained {
        output: CheckOutput,
        #[serde(flatten)]
        explanation: crate::eval::Explanation,
    }
    serialized_to_py(py, &Explained { output, explanation })
}

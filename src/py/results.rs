//! Decisions as Python values, each built once in its final shape: Cerbos engine `CheckOutput`
//! dicts for `Engine.check`, and the SDK's models (`warden.models`) for `warden.Client`.
use super::values::{serialized_to_py, to_py};
use crate::eval::request::{ActionEffect, CheckOutput, ResourceInput};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyType};

/// Whether an action's effect is an allow.
pub fn allows(e: &ActionEffect) -> bool {
    e.effect == "EFFECT_ALLOW"
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

/// `Engine.check`'s answer: one `CheckOutput` dict per input.
pub fn output_dicts<'py>(py: Python<'py>, outputs: &[CheckOutput]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    let mut texts = RepeatedTexts::new(py);
    for o in outputs {
        list.append(output_dict(py, o, &mut texts)?)?;
    }
    Ok(list)
}

/// The classes and constants of `warden.models` the SDK results are made of, imported once.
pub struct Models {
    resource: Py<PyType>,
    result: Py<PyType>,
    response: Py<PyType>,
    validation_error: Py<PyType>,
    output_entry: Py<PyType>,
    pub aux_data: Py<PyType>,
    pub jwt: Py<PyType>,
    allow: Py<PyAny>,
    deny: Py<PyAny>,
    source: Py<PyType>,
    new: Py<PyAny>,
}

static MODELS: PyOnceLock<Models> = PyOnceLock::new();

impl Models {
    pub fn get(py: Python<'_>) -> PyResult<&Models> {
        MODELS.get_or_try_init(py, || {
            let m = py.import("warden.models")?;
            let class = |name: &str| -> PyResult<Py<PyType>> { Ok(m.getattr(name)?.cast_into::<PyType>()?.unbind()) };
            let effect = m.getattr("Effect")?;
            Ok(Models {
                resource: class("Resource")?,
                result: class("CheckResourcesResult")?,
                response: class("CheckResourcesResponse")?,
                validation_error: class("ValidationError")?,
                output_entry: class("OutputEntry")?,
                aux_data: class("AuxData")?,
                jwt: class("JWT")?,
                allow: effect.getattr("ALLOW")?.unbind(),
                deny: effect.getattr("DENY")?.unbind(),
                source: class("Source")?,
                new: py.import("builtins")?.getattr("object")?.getattr("__new__")?.unbind(),
            })
        })
    }

    pub fn is_resource(&self, v: &Bound<'_, PyAny>) -> PyResult<bool> {
        v.is_instance(self.resource.bind(v.py()))
    }

    /// The `Resource` a result names: the request's own object when it is one (it carries what the
    /// PDP echoes: id, kind, policy version, scope), else the echo of the fields read.
    pub fn echo<'py>(&self, py: Python<'py>, given: &Bound<'py, PyAny>, read: &ResourceInput) -> PyResult<Bound<'py, PyAny>> {
        if self.is_resource(given)? {
            return Ok(given.clone());
        }
        let version = if read.policy_version.is_empty() { "default" } else { &read.policy_version };
        self.resource.bind(py).call1((&read.id, &read.kind, PyDict::new(py), version, &read.scope))
    }

    /// A `CheckResourcesResult` for one resource of a `check_resources` call.
    fn result<'a, 'py>(
        &self,
        py: Python<'py>,
        resource: Bound<'py, PyAny>,
        o: &'a CheckOutput,
        texts: &mut RepeatedTexts<'a, 'py>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let actions = PyDict::new(py);
        for (a, e) in &o.actions.0 {
            actions.set_item(texts.get(a), if allows(e) { &self.allow } else { &self.deny })?;
        }
        let validation_errors = if o.validation_errors.is_empty() {
            py.None().into_bound(py)
        } else {
            let list = PyList::empty(py);
            for e in &o.validation_errors {
                let source = self.source.bind(py).call1((e.source,))?;
                list.append(self.validation_error.bind(py).call1((&e.message, source, &e.path))?)?;
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
                list.append(self.output_entry.bind(py).call1((&e.src, val, &e.action, &e.error))?)?;
            }
            list.into_any()
        };
        // Every field set here: the dataclass's __init__ (Python code) would cost more than deciding.
        let result = self.new.bind(py).call1((self.result.bind(py),))?;
        result.setattr(intern!(py, "resource"), resource)?;
        result.setattr(intern!(py, "actions"), actions)?;
        result.setattr(intern!(py, "validation_errors"), validation_errors)?;
        result.setattr(intern!(py, "outputs"), outputs)?;
        Ok(result)
    }

    /// The `CheckResourcesResponse` of a `check_resources` call, results in request order; `resources`
    /// are the echoes (`echo`) of the request's resources.
    pub fn response<'py>(
        &self,
        py: Python<'py>,
        request_id: &Bound<'py, PyAny>,
        resources: &[Bound<'py, PyAny>],
        outputs: &[CheckOutput],
    ) -> PyResult<Bound<'py, PyAny>> {
        let results = PyList::empty(py);
        let mut texts = RepeatedTexts::new(py);
        for (resource, o) in resources.iter().zip(outputs) {
            results.append(self.result(py, resource.clone(), o, &mut texts)?)?;
        }
        self.response.bind(py).call1((request_id, results))
    }
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

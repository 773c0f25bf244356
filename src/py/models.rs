//! The classes of `warden.models` (the Cerbos SDK's models) the bindings read and build, imported
//! once per process.
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

pub struct Models {
    /// The base of every model: an instance is read by attribute, never as a mapping.
    base: Py<PyType>,
    principal: Py<PyType>,
    pub resource: Py<PyType>,
    pub result: Py<PyType>,
    pub response: Py<PyType>,
    pub validation_error: Py<PyType>,
    pub output_entry: Py<PyType>,
    pub aux_data: Py<PyType>,
    pub jwt: Py<PyType>,
    pub source: Py<PyType>,
    /// `Effect.ALLOW` and `Effect.DENY`.
    pub allow: Py<PyAny>,
    pub deny: Py<PyAny>,
    /// The status of a successful response (`HTTP_OK`).
    pub http_ok: Py<PyAny>,
    /// `object.__new__`: a model instance without its `__init__`.
    pub new: Py<PyAny>,
}

static MODELS: PyOnceLock<Models> = PyOnceLock::new();

impl Models {
    pub fn get(py: Python<'_>) -> PyResult<&Models> {
        MODELS.get_or_try_init(py, || {
            let m = py.import("warden.models")?;
            let class = |name: &str| -> PyResult<Py<PyType>> { Ok(m.getattr(name)?.cast_into::<PyType>()?.unbind()) };
            let effect = m.getattr("Effect")?;
            Ok(Models {
                base: class("_Model")?,
                principal: class("Principal")?,
                resource: class("Resource")?,
                result: class("CheckResourcesResult")?,
                response: class("CheckResourcesResponse")?,
                validation_error: class("ValidationError")?,
                output_entry: class("OutputEntry")?,
                aux_data: class("AuxData")?,
                jwt: class("JWT")?,
                source: class("Source")?,
                allow: effect.getattr("ALLOW")?.unbind(),
                deny: effect.getattr("DENY")?.unbind(),
                http_ok: m.getattr("HTTP_OK")?.unbind(),
                new: py.import("builtins")?.getattr("object")?.getattr("__new__")?.unbind(),
            })
        })
    }

    /// Whether `v` is a `Resource`.
    pub fn is_resource(&self, v: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(v.get_type().is(&self.resource) || v.is_instance(self.resource.bind(v.py()))?)
    }

    /// Whether `v` is one of the models (`Principal`, `Resource`, `ResourceAction`, ...).
    pub fn is_model(&self, v: &Bound<'_, PyAny>) -> PyResult<bool> {
        // The two every request carries, by identity first: isinstance() costs more than reading them.
        let t = v.get_type();
        Ok(t.is(&self.principal) || t.is(&self.resource) || v.is_instance(self.base.bind(v.py()))?)
    }
}

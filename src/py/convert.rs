//! Python <-> core values on the hot path, written by hand: serde-based conversion costs several
//! microseconds per decision, more than deciding. Errors name the field (`inputs[0].principal.roles`).
use crate::eval::request::{AuxData, CheckInput, CheckOutput, PrincipalInput, ResourceInput};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PySet, PyString, PyTuple};
use pyo3::{intern, IntoPyObjectExt};
use serde_json::{Map, Number, Value as Json};

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// Any JSON-shaped Python value (dicts with str keys, lists/tuples, str, int, float, bool, None).
pub fn to_json(v: &Bound<'_, PyAny>, path: &str) -> PyResult<Json> {
    if v.is_none() {
        return Ok(Json::Null);
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(Json::String(s.to_str()?.to_owned()));
    }
    // bool before int: Python's bool is an int.
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(Json::Bool(b.is_true()));
    }
    if v.is_instance_of::<PyInt>() {
        if let Ok(i) = v.extract::<i64>() {
            return Ok(Json::Number(i.into()));
        }
        if let Ok(u) = v.extract::<u64>() {
            return Ok(Json::Number(u.into()));
        }
        let f: f64 = v.extract()?;
        return Number::from_f64(f).map(Json::Number).ok_or_else(|| PyValueError::new_err(format!("{path}: integer out of range")));
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        let f = f.value();
        return Number::from_f64(f).map(Json::Number).ok_or_else(|| PyValueError::new_err(format!("{path}: {f} is not a JSON number")));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        return Ok(Json::Object(dict_to_map(d, path)?));
    }
    if let Ok(l) = v.cast::<PyList>() {
        return l.iter().enumerate().map(|(i, x)| to_json(&x, &format!("{path}[{i}]"))).collect::<PyResult<Vec<_>>>().map(Json::Array);
    }
    if let Ok(t) = v.cast::<PyTuple>() {
        return t.iter().enumerate().map(|(i, x)| to_json(&x, &format!("{path}[{i}]"))).collect::<PyResult<Vec<_>>>().map(Json::Array);
    }
    // Anything else that maps like a dict (e.g. a Mapping) or iterates like a list.
    if v.hasattr(intern!(v.py(), "keys"))? {
        let d = PyDict::new(v.py());
        d.update(v.cast()?)?;
        return Ok(Json::Object(dict_to_map(&d, path)?));
    }
    Err(PyTypeError::new_err(format!("{path}: {} is not a JSON value (use str, int, float, bool, None, list or dict)", type_name(v))))
}

pub fn dict_to_map(d: &Bound<'_, PyDict>, path: &str) -> PyResult<Map<String, Json>> {
    let mut m = Map::with_capacity(d.len());
    for (k, v) in d.iter() {
        let key = k.cast::<PyString>().map_err(|_| PyTypeError::new_err(format!("{path}: keys must be str, not {}", type_name(&k))))?.to_str()?.to_owned();
        let value = to_json(&v, &format!("{path}.{key}"))?;
        m.insert(key, value);
    }
    Ok(m)
}

fn string(v: &Bound<'_, PyAny>, path: &str) -> PyResult<String> {
    match v.cast::<PyString>() {
        Ok(s) => Ok(s.to_str()?.to_owned()),
        Err(_) if v.is_none() => Ok(String::new()),
        Err(_) => Err(PyTypeError::new_err(format!("{path}: expected str, got {}", type_name(v)))),
    }
}

/// A list of strings from a list, tuple or set; a lone string is refused (never split into characters).
pub fn string_list(v: &Bound<'_, PyAny>, path: &str) -> PyResult<Vec<String>> {
    let item = |x: Bound<'_, PyAny>, i: usize| -> PyResult<String> {
        x.cast::<PyString>().map_err(|_| PyTypeError::new_err(format!("{path}[{i}]: expected str, got {}", type_name(&x))))?.to_str().map(str::to_owned)
    };
    if let Ok(l) = v.cast::<PyList>() {
        return l.iter().enumerate().map(|(i, x)| item(x, i)).collect();
    }
    if let Ok(t) = v.cast::<PyTuple>() {
        return t.iter().enumerate().map(|(i, x)| item(x, i)).collect();
    }
    if let Ok(s) = v.cast::<PySet>() {
        let mut out: Vec<String> = s.iter().enumerate().map(|(i, x)| item(x, i)).collect::<PyResult<_>>()?;
        out.sort(); // sets have no order; keep decisions reproducible
        return Ok(out);
    }
    if let Ok(s) = v.cast::<PyFrozenSet>() {
        let mut out: Vec<String> = s.iter().enumerate().map(|(i, x)| item(x, i)).collect::<PyResult<_>>()?;
        out.sort();
        return Ok(out);
    }
    Err(PyTypeError::new_err(format!("{path}: expected a list of str, got {}", type_name(v))))
}

/// Reads a field from a dict (camelCase or snake_case key) or, for model objects, an attribute.
struct Fields<'a, 'py> {
    obj: &'a Bound<'py, PyAny>,
    dict: Option<&'a Bound<'py, PyDict>>,
    path: &'a str,
}

impl<'a, 'py> Fields<'a, 'py> {
    fn new(obj: &'a Bound<'py, PyAny>, path: &'a str) -> Self {
        Fields { obj, dict: obj.cast::<PyDict>().ok(), path }
    }

    fn get(&self, camel: &str, snake: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.dict {
            Some(d) => {
                if let Some(v) = d.get_item(camel)? {
                    return Ok(Some(v));
                }
                if camel != snake { d.get_item(snake) } else { Ok(None) }
            }
            None => match self.obj.getattr(snake) {
                Ok(v) => Ok(Some(v)),
                Err(_) => Ok(None),
            },
        }
    }

    fn require(&self, camel: &str, snake: &str) -> PyResult<Bound<'py, PyAny>> {
        self.get(camel, snake)?.ok_or_else(|| PyValueError::new_err(format!("{}: missing field `{camel}`", self.path)))
    }

    /// Dicts may only hold the known keys: a typo must not silently drop data.
    fn deny_unknown(&self, known: &[&str]) -> PyResult<()> {
        if let Some(d) = self.dict {
            for k in d.keys() {
                let k = k.cast::<PyString>().map_err(|_| PyTypeError::new_err(format!("{}: keys must be str", self.path)))?;
                let k = k.to_str()?;
                if !known.contains(&k) {
                    return Err(PyValueError::new_err(format!("{}: unknown field `{k}`, expected one of {}", self.path, known.join(", "))));
                }
            }
        }
        Ok(())
    }
}

fn attr(f: &Fields<'_, '_>, path: &str) -> PyResult<Map<String, Json>> {
    match f.get("attr", "attr")? {
        None => Ok(Map::new()),
        Some(v) if v.is_none() => Ok(Map::new()),
        Some(v) => match v.cast::<PyDict>() {
            Ok(d) => dict_to_map(d, path),
            Err(_) => match to_json(&v, path)? {
                Json::Object(m) => Ok(m),
                _ => Err(PyTypeError::new_err(format!("{path}: expected a dict, got {}", type_name(&v)))),
            },
        },
    }
}

/// A principal from a dict (`{id, roles, attr, policyVersion, scope}`) or a `Principal`-like object.
pub fn principal(v: &Bound<'_, PyAny>, path: &str) -> PyResult<PrincipalInput> {
    let f = Fields::new(v, path);
    f.deny_unknown(&["id", "roles", "attr", "policyVersion", "policy_version", "scope"])?;
    Ok(PrincipalInput {
        id: string(&f.require("id", "id")?, &format!("{path}.id"))?,
        roles: string_list(&f.require("roles", "roles")?, &format!("{path}.roles"))?,
        attr: attr(&f, &format!("{path}.attr"))?,
        policy_version: f.get("policyVersion", "policy_version")?.map(|x| string(&x, &format!("{path}.policyVersion"))).transpose()?.unwrap_or_default(),
        scope: f.get("scope", "scope")?.map(|x| string(&x, &format!("{path}.scope"))).transpose()?.unwrap_or_default(),
    })
}

/// A resource from a dict (`{kind, id, attr, policyVersion, scope}`) or a `Resource`-like object.
pub fn resource(v: &Bound<'_, PyAny>, path: &str) -> PyResult<ResourceInput> {
    let f = Fields::new(v, path);
    f.deny_unknown(&["kind", "id", "attr", "policyVersion", "policy_version", "scope"])?;
    Ok(ResourceInput {
        kind: string(&f.require("kind", "kind")?, &format!("{path}.kind"))?,
        id: f.get("id", "id")?.map(|x| string(&x, &format!("{path}.id"))).transpose()?.unwrap_or_default(),
        attr: attr(&f, &format!("{path}.attr"))?,
        policy_version: f.get("policyVersion", "policy_version")?.map(|x| string(&x, &format!("{path}.policyVersion"))).transpose()?.unwrap_or_default(),
        scope: f.get("scope", "scope")?.map(|x| string(&x, &format!("{path}.scope"))).transpose()?.unwrap_or_default(),
    })
}

/// Engine-level aux data: `{"jwt": {claims...}, "jwts": {name: {"claims": {...}}}}`.
pub fn aux_data(v: &Bound<'_, PyAny>, path: &str) -> PyResult<Option<AuxData>> {
    if v.is_none() {
        return Ok(None);
    }
    let d = v.cast::<PyDict>().map_err(|_| PyTypeError::new_err(format!("{path}: expected a dict, got {}", type_name(v))))?;
    let f = Fields::new(v, path);
    f.deny_unknown(&["jwt", "jwts"])?;
    let mut out = AuxData::default();
    if let Some(j) = d.get_item("jwt")? {
        if !j.is_none() {
            out.jwt = match to_json(&j, &format!("{path}.jwt"))? {
                Json::Object(m) => m,
                _ => return Err(PyTypeError::new_err(format!("{path}.jwt: expected a dict of claims"))),
            };
        }
    }
    if let Some(j) = d.get_item("jwts")? {
        if !j.is_none() {
            out.jwts = match to_json(&j, &format!("{path}.jwts"))? {
                Json::Object(m) => m,
                _ => return Err(PyTypeError::new_err(format!("{path}.jwts: expected a dict"))),
            };
        }
    }
    Ok(Some(out))
}

/// One engine `CheckInput` dict.
pub fn check_input(v: &Bound<'_, PyAny>, path: &str) -> PyResult<CheckInput> {
    if !v.is_instance_of::<PyDict>() {
        return Err(PyTypeError::new_err(format!("{path} must be a dict, not {}", type_name(v))));
    }
    let f = Fields::new(v, path);
    f.deny_unknown(&["requestId", "request_id", "principal", "resource", "actions", "auxData", "aux_data"])?;
    let input = CheckInput {
        request_id: f.get("requestId", "request_id")?.map(|x| string(&x, &format!("{path}.requestId"))).transpose()?.unwrap_or_default(),
        principal: principal(&f.require("principal", "principal")?, &format!("{path}.principal"))?,
        resource: resource(&f.require("resource", "resource")?, &format!("{path}.resource"))?,
        actions: string_list(&f.require("actions", "actions")?, &format!("{path}.actions"))?,
        aux_data: match f.get("auxData", "aux_data")? {
            Some(a) => aux_data(&a, &format!("{path}.auxData"))?,
            None => None,
        },
    };
    input.validate().map_err(|e| PyValueError::new_err(format!("{path}: {e}")))?;
    Ok(input)
}

/// A `CheckOutput` as a dict, in Cerbos's protojson shape (camelCase, empty fields left out).
pub fn output_to_py<'py>(py: Python<'py>, o: &CheckOutput) -> PyResult<Bound<'py, PyDict>> {
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
        ae.set_item(intern!(py, "effect"), if e.effect == "EFFECT_ALLOW" { intern!(py, "EFFECT_ALLOW") } else { intern!(py, "EFFECT_DENY") })?;
        ae.set_item(intern!(py, "policy"), &e.policy)?;
        if !e.scope.is_empty() {
            ae.set_item(intern!(py, "scope"), &e.scope)?;
        }
        actions.set_item(a, ae)?;
    }
    d.set_item(intern!(py, "actions"), actions)?;
    if !o.effective_derived_roles.is_empty() {
        d.set_item(intern!(py, "effectiveDerivedRoles"), &o.effective_derived_roles)?;
    }
    // The rarer parts go through serde: they are not on the common path.
    if !o.validation_errors.is_empty() {
        d.set_item(intern!(py, "validationErrors"), pythonize::pythonize(py, &o.validation_errors).map_err(|e| PyValueError::new_err(e.to_string()))?)?;
    }
    if !o.outputs.is_empty() {
        d.set_item(intern!(py, "outputs"), pythonize::pythonize(py, &o.outputs).map_err(|e| PyValueError::new_err(e.to_string()))?)?;
    }
    if !o.evaluation_errors.is_empty() {
        d.set_item(intern!(py, "evaluationErrors"), pythonize::pythonize(py, &o.evaluation_errors).map_err(|e| PyValueError::new_err(e.to_string()))?)?;
    }
    Ok(d)
}

pub fn outputs_to_py<'py>(py: Python<'py>, outputs: &[CheckOutput]) -> PyResult<Bound<'py, PyAny>> {
    let list = PyList::empty(py);
    for o in outputs {
        list.append(output_to_py(py, o)?)?;
    }
    list.into_bound_py_any(py)
}

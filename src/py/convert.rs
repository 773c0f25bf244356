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

/// Where a value sits in the caller's data (`inputs[0].principal.roles`), formatted only when an
/// error is reported: building it for every field read cost more than reading the field.
type PathFn<'a> = &'a dyn Fn() -> String;

/// Any JSON-shaped Python value (dicts with str keys, lists/tuples, str, int, float, bool, None).
pub fn to_json(v: &Bound<'_, PyAny>, path: &str) -> PyResult<Json> {
    json_value(v, &|| path.to_owned())
}

fn json_value(v: &Bound<'_, PyAny>, path: PathFn<'_>) -> PyResult<Json> {
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
        return Number::from_f64(f).map(Json::Number).ok_or_else(|| PyValueError::new_err(format!("{}: integer out of range", path())));
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        let f = f.value();
        return Number::from_f64(f).map(Json::Number).ok_or_else(|| PyValueError::new_err(format!("{}: {f} is not a JSON number", path())));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        return Ok(Json::Object(map_of(d, path)?));
    }
    if let Ok(l) = v.cast::<PyList>() {
        return l.iter().enumerate().map(|(i, x)| json_value(&x, &|| format!("{}[{i}]", path()))).collect::<PyResult<Vec<_>>>().map(Json::Array);
    }
    if let Ok(t) = v.cast::<PyTuple>() {
        return t.iter().enumerate().map(|(i, x)| json_value(&x, &|| format!("{}[{i}]", path()))).collect::<PyResult<Vec<_>>>().map(Json::Array);
    }
    // Anything else that maps like a dict (e.g. a Mapping) or iterates like a list.
    if v.hasattr(intern!(v.py(), "keys"))? {
        let d = PyDict::new(v.py());
        d.update(v.cast()?)?;
        return Ok(Json::Object(map_of(&d, path)?));
    }
    Err(PyTypeError::new_err(format!("{}: {} is not a JSON value (use str, int, float, bool, None, list or dict)", path(), type_name(v))))
}

fn map_of(d: &Bound<'_, PyDict>, path: PathFn<'_>) -> PyResult<Map<String, Json>> {
    let mut m = Map::with_capacity(d.len());
    for (k, v) in d.iter() {
        let key = k.cast::<PyString>().map_err(|_| PyTypeError::new_err(format!("{}: keys must be str, not {}", path(), type_name(&k))))?.to_str()?;
        let value = json_value(&v, &|| format!("{}.{key}", path()))?;
        m.insert(key.to_owned(), value);
    }
    Ok(m)
}

fn string(v: &Bound<'_, PyAny>, path: impl FnOnce() -> String) -> PyResult<String> {
    match v.cast::<PyString>() {
        Ok(s) => Ok(s.to_str()?.to_owned()),
        Err(_) if v.is_none() => Ok(String::new()),
        Err(_) => Err(PyTypeError::new_err(format!("{}: expected str, got {}", path(), type_name(v)))),
    }
}

/// A list of strings from a list, tuple or set; a lone string is refused (never split into characters).
fn strings(v: &Bound<'_, PyAny>, path: PathFn<'_>) -> PyResult<Vec<String>> {
    let item = |x: Bound<'_, PyAny>, i: usize| -> PyResult<String> {
        x.cast::<PyString>().map_err(|_| PyTypeError::new_err(format!("{}[{i}]: expected str, got {}", path(), type_name(&x))))?.to_str().map(str::to_owned)
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
    Err(PyTypeError::new_err(format!("{}: expected a list of str, got {}", path(), type_name(v))))
}

/// Reads a field from a dict (camelCase or snake_case key) or, for model objects, an attribute.
/// Names are interned Python strings (`intern!`): a `&str` would become a new Python string per lookup.
struct Fields<'a, 'py> {
    obj: &'a Bound<'py, PyAny>,
    dict: Option<&'a Bound<'py, PyDict>>,
    path: PathFn<'a>,
    /// Keys of the dict read so far (each field is read once): when all are, the remaining
    /// fields are absent without looking them up.
    found: std::cell::Cell<usize>,
}

impl<'a, 'py> Fields<'a, 'py> {
    fn new(obj: &'a Bound<'py, PyAny>, path: PathFn<'a>) -> Self {
        Fields { obj, dict: obj.cast::<PyDict>().ok(), path, found: std::cell::Cell::new(0) }
    }

    /// Reads the fields with `read`, refusing keys that are not in `known`. A dict whose keys were
    /// all read has no other key, so the key scan runs only when some key was left unread, or
    /// when reading failed (an unknown key is reported first, as a scan done up front would).
    fn read<T>(&self, known: &[&str], read: impl FnOnce(&Self) -> PyResult<T>) -> PyResult<T> {
        let result = read(self);
        let all_read = self.dict.is_none_or(|d| self.found.get() == d.len());
        if result.is_err() || !all_read {
            self.deny_unknown(known)?;
        }
        result
    }

    fn get(&self, camel: &Bound<'py, PyString>, snake: &Bound<'py, PyString>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.dict {
            Some(d) => {
                if self.found.get() == d.len() {
                    return Ok(None);
                }
                let v = match d.get_item(camel)? {
                    Some(v) => Some(v),
                    None if camel.as_ptr() != snake.as_ptr() => d.get_item(snake)?,
                    None => None,
                };
                if v.is_some() {
                    self.found.set(self.found.get() + 1);
                }
                Ok(v)
            }
            None => match self.obj.getattr(snake) {
                Ok(v) => Ok(Some(v)),
                Err(_) => Ok(None),
            },
        }
    }

    fn require(&self, camel: &Bound<'py, PyString>, snake: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyAny>> {
        self.get(camel, snake)?.ok_or_else(|| PyValueError::new_err(format!("{}: missing field `{}`", (self.path)(), camel.to_str().unwrap_or("?"))))
    }

    /// Dicts may only hold the known keys: a typo must not silently drop data.
    fn deny_unknown(&self, known: &[&str]) -> PyResult<()> {
        if let Some(d) = self.dict {
            for (k, _) in d.iter() {
                let k = k.cast::<PyString>().map_err(|_| PyTypeError::new_err(format!("{}: keys must be str", (self.path)())))?;
                let k = k.to_str()?;
                if !known.contains(&k) {
                    return Err(PyValueError::new_err(format!("{}: unknown field `{k}`, expected one of {}", (self.path)(), known.join(", "))));
                }
            }
        }
        Ok(())
    }

    /// An optional string field (absent or None: empty).
    fn optional_string(&self, camel: &Bound<'py, PyString>, snake: &Bound<'py, PyString>) -> PyResult<String> {
        match self.get(camel, snake)? {
            Some(x) => string(&x, || format!("{}.{}", (self.path)(), camel.to_str().unwrap_or("?"))),
            None => Ok(String::new()),
        }
    }
}

fn attr(f: &Fields<'_, '_>) -> PyResult<Map<String, Json>> {
    let py = f.obj.py();
    let path = || format!("{}.attr", (f.path)());
    match f.get(intern!(py, "attr"), intern!(py, "attr"))? {
        None => Ok(Map::new()),
        Some(v) if v.is_none() => Ok(Map::new()),
        Some(v) => match v.cast::<PyDict>() {
            Ok(d) => map_of(d, &path),
            Err(_) => match json_value(&v, &path)? {
                Json::Object(m) => Ok(m),
                _ => Err(PyTypeError::new_err(format!("{}: expected a dict, got {}", path(), type_name(&v)))),
            },
        },
    }
}

/// A principal from a dict (`{id, roles, attr, policyVersion, scope}`) or a `Principal`-like object.
pub fn principal(v: &Bound<'_, PyAny>, path: &str) -> PyResult<PrincipalInput> {
    principal_at(v, &|| path.to_owned())
}

fn principal_at(v: &Bound<'_, PyAny>, path: PathFn<'_>) -> PyResult<PrincipalInput> {
    let py = v.py();
    Fields::new(v, path).read(&["id", "roles", "attr", "policyVersion", "policy_version", "scope"], |f| {
        Ok(PrincipalInput {
            id: string(&f.require(intern!(py, "id"), intern!(py, "id"))?, || format!("{}.id", path()))?,
            roles: strings(&f.require(intern!(py, "roles"), intern!(py, "roles"))?, &|| format!("{}.roles", path()))?,
            attr: attr(f)?,
            policy_version: f.optional_string(intern!(py, "policyVersion"), intern!(py, "policy_version"))?,
            scope: f.optional_string(intern!(py, "scope"), intern!(py, "scope"))?,
        })
    })
}

/// A resource from a dict (`{kind, id, attr, policyVersion, scope}`) or a `Resource`-like object.
pub fn resource(v: &Bound<'_, PyAny>, path: &str) -> PyResult<ResourceInput> {
    resource_at(v, &|| path.to_owned())
}

fn resource_at(v: &Bound<'_, PyAny>, path: PathFn<'_>) -> PyResult<ResourceInput> {
    let py = v.py();
    Fields::new(v, path).read(&["kind", "id", "attr", "policyVersion", "policy_version", "scope"], |f| {
        Ok(ResourceInput {
            kind: string(&f.require(intern!(py, "kind"), intern!(py, "kind"))?, || format!("{}.kind", path()))?,
            id: f.optional_string(intern!(py, "id"), intern!(py, "id"))?,
            attr: attr(f)?,
            policy_version: f.optional_string(intern!(py, "policyVersion"), intern!(py, "policy_version"))?,
            scope: f.optional_string(intern!(py, "scope"), intern!(py, "scope"))?,
        })
    })
}

/// Engine-level aux data: `{"jwt": {claims...}, "jwts": {name: {"claims": {...}}}}`.
pub fn aux_data(v: &Bound<'_, PyAny>, path: &str) -> PyResult<Option<AuxData>> {
    aux_data_at(v, &|| path.to_owned())
}

fn aux_data_at(v: &Bound<'_, PyAny>, path: PathFn<'_>) -> PyResult<Option<AuxData>> {
    if v.is_none() {
        return Ok(None);
    }
    let d = v.cast::<PyDict>().map_err(|_| PyTypeError::new_err(format!("{}: expected a dict, got {}", path(), type_name(v))))?;
    let f = Fields::new(v, path);
    f.deny_unknown(&["jwt", "jwts"])?;
    let mut out = AuxData::default();
    if let Some(j) = d.get_item(intern!(v.py(), "jwt"))? {
        if !j.is_none() {
            out.jwt = match json_value(&j, &|| format!("{}.jwt", path()))? {
                Json::Object(m) => m,
                _ => return Err(PyTypeError::new_err(format!("{}.jwt: expected a dict of claims", path()))),
            };
        }
    }
    if let Some(j) = d.get_item(intern!(v.py(), "jwts"))? {
        if !j.is_none() {
            out.jwts = match json_value(&j, &|| format!("{}.jwts", path()))? {
                Json::Object(m) => m,
                _ => return Err(PyTypeError::new_err(format!("{}.jwts: expected a dict", path()))),
            };
        }
    }
    Ok(Some(out))
}

/// One engine `CheckInput` dict. `previous` is the input read just before in the same batch: when
/// this one names the very same principal object, its converted principal is reused.
pub fn check_input(v: &Bound<'_, PyAny>, path: &str, previous: Option<(&Bound<'_, PyAny>, &CheckInput)>) -> PyResult<CheckInput> {
    let py = v.py();
    if !v.is_instance_of::<PyDict>() {
        return Err(PyTypeError::new_err(format!("{path} must be a dict, not {}", type_name(v))));
    }
    let path_fn = || path.to_owned();
    let known = ["requestId", "request_id", "principal", "resource", "actions", "auxData", "aux_data"];
    let input = Fields::new(v, &path_fn).read(&known, |f| {
        let request_id = f.optional_string(intern!(py, "requestId"), intern!(py, "request_id"))?;
        let principal_obj = f.require(intern!(py, "principal"), intern!(py, "principal"))?;
        let principal = match previous {
            // The batch is read in one go under the GIL: the same object still holds what was read from it.
            Some((prev_obj, prev)) if prev_obj.as_ptr() == principal_obj.as_ptr() => prev.principal.clone(),
            _ => principal_at(&principal_obj, &|| format!("{path}.principal"))?,
        };
        Ok(CheckInput {
            request_id,
            principal,
            resource: resource_at(&f.require(intern!(py, "resource"), intern!(py, "resource"))?, &|| format!("{path}.resource"))?,
            actions: strings(&f.require(intern!(py, "actions"), intern!(py, "actions"))?, &|| format!("{path}.actions"))?,
            aux_data: match f.get(intern!(py, "auxData"), intern!(py, "aux_data"))? {
                Some(a) => aux_data_at(&a, &|| format!("{path}.auxData"))?,
                None => None,
            },
        })
    })?;
    input.validate().map_err(|e| PyValueError::new_err(format!("{path}: {e}")))?;
    Ok(input)
}

/// Python strings for the texts the outputs of a batch repeat (action names, policy keys), each
/// made once per batch rather than once per output; also saves hashing them again as dict keys.
struct RepeatedTexts<'a, 'py> {
    py: Python<'py>,
    /// A handful of distinct texts per batch: a short list searched in order beats a map.
    made: Vec<(&'a str, Bound<'py, PyString>)>,
}

impl<'a, 'py> RepeatedTexts<'a, 'py> {
    const MAX: usize = 16;

    fn get(&mut self, text: &'a str) -> Bound<'py, PyString> {
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
fn output_to_py<'a, 'py>(py: Python<'py>, o: &'a CheckOutput, texts: &mut RepeatedTexts<'a, 'py>) -> PyResult<Bound<'py, PyDict>> {
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
    let mut texts = RepeatedTexts { py, made: Vec::new() };
    for o in outputs {
        list.append(output_to_py(py, o, &mut texts)?)?;
    }
    list.into_bound_py_any(py)
}

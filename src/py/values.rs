//! Python values into core values and back: the one conversion path at the boundary.
//!
//! Every value is read with its place in the caller's data (`resources[1].resource.attr.tags[0]`,
//! formatted only when an error names it), under a nesting limit so that no input can exhaust the
//! stack; a value that contains itself is reported as a cycle. Written by hand on the hot path:
//! serde-based conversion cost several microseconds per decision, more than deciding.
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use serde_json::{Map, Number, Value as Json};
use std::collections::BTreeMap;
use std::fmt;

/// How deep a Python value may nest (dicts and lists inside dicts and lists), counted from the
/// argument it is passed in. Real requests nest a few levels; serde_json refuses JSON text nested
/// deeper than 128 as well, so a request behaves the same as a dict and as JSON text.
pub const MAX_DEPTH: usize = 128;

/// Values the core returns nest a few levels more than the inputs they were built from
/// (`{"result": input}`, OPA's result rows): the way out allows more, still far below the stack.
const MAX_DEPTH_OUT: usize = 4 * MAX_DEPTH;

/// One step from a value to the next inside it.
#[derive(Clone, Copy)]
enum Step<'a> {
    Root(&'a str),
    Field(&'a str),
    Key(&'a str),
    Index(usize),
}

/// Where a value sits in the caller's data: a chain of steps on the stack, up to the argument.
#[derive(Clone, Copy)]
pub struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    step: Step<'a>,
    depth: usize,
    /// The address of the Python object at this place (0 if unknown): the same container twice
    /// on one chain is a cycle.
    object: usize,
}

impl<'a> Path<'a> {
    /// The argument named `name`.
    pub fn root(name: &'a str) -> Self {
        Path { parent: None, step: Step::Root(name), depth: 0, object: 0 }
    }

    fn child(&'a self, step: Step<'a>, object: Option<&Bound<'_, PyAny>>) -> Path<'a> {
        Path { parent: Some(self), step, depth: self.depth + 1, object: object.map_or(0, |o| o.as_ptr() as usize) }
    }

    /// The named field of a request object (`principal.attr`).
    pub fn field(&'a self, name: &'a str, object: Option<&Bound<'_, PyAny>>) -> Path<'a> {
        self.child(Step::Field(name), object)
    }

    /// An entry of a dict of free-form data (`attr.owner_id`, `attr["a b"]`).
    pub fn key(&'a self, key: &'a str, object: &Bound<'_, PyAny>) -> Path<'a> {
        self.child(Step::Key(key), Some(object))
    }

    /// An item of a list (`roles[0]`).
    pub fn index(&'a self, index: usize, object: Option<&Bound<'_, PyAny>>) -> Path<'a> {
        self.child(Step::Index(index), object)
    }

    /// This place with the object found there (for the root, whose object is known only later).
    pub fn at(&'a self, object: &Bound<'_, PyAny>) -> Path<'a> {
        Path { object: object.as_ptr() as usize, ..*self }
    }

    fn chain(&self) -> Vec<&Path<'a>> {
        let mut chain = vec![self];
        let mut p = self;
        while let Some(parent) = p.parent {
            chain.push(parent);
            p = parent;
        }
        chain.reverse();
        chain
    }

    pub fn type_error(&self, message: impl fmt::Display) -> PyErr {
        PyTypeError::new_err(format!("{self}: {message}"))
    }

    pub fn value_error(&self, message: impl fmt::Display) -> PyErr {
        PyValueError::new_err(format!("{self}: {message}"))
    }

    /// The error for a value nested deeper than allowed: a cycle, named where it closes, or depth.
    fn too_deep(&self, limit: usize) -> PyErr {
        let chain = self.chain();
        for (i, outer) in chain.iter().enumerate().filter(|(_, p)| p.object != 0) {
            if let Some(inner) = chain[i + 1..].iter().find(|p| p.object == outer.object) {
                return PyValueError::new_err(format!("{inner}: the value contains itself (it is {outer}); a cycle cannot be converted"));
            }
        }
        // The first steps say where the deep value is; the rest is the same step again and again.
        let shown: String = chain.iter().take(SHOWN_STEPS).map(|p| p.step_text()).collect();
        PyValueError::new_err(format!("{shown}…: nested more than {limit} levels deep"))
    }

    fn step_text(&self) -> String {
        match self.step {
            Step::Root(name) => name.to_owned(),
            Step::Field(name) => format!(".{name}"),
            Step::Key(key) if is_identifier(key) => format!(".{key}"),
            Step::Key(key) => format!("[{key:?}]"),
            Step::Index(i) => format!("[{i}]"),
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.chain().iter().try_for_each(|p| f.write_str(&p.step_text()))
    }
}

/// How many steps of a too-deep value's path its error shows.
const SHOWN_STEPS: usize = 12;

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

pub fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// The text of a `str` (an unencodable lone surrogate is an error naming the place).
pub fn text<'a>(s: &'a Bound<'_, PyString>, at: &Path<'_>) -> PyResult<&'a str> {
    s.to_str().map_err(|e| at.value_error(e))
}

/// A core value type a Python value can become: JSON for the engine, regorus values for Rego.
pub trait Target: Sized {
    type Map: Default;
    fn null() -> Self;
    fn boolean(b: bool) -> Self;
    fn int(i: i64) -> Self;
    fn uint(u: u64) -> Self;
    /// `None` for a number the target cannot hold (NaN, infinities).
    fn float(f: f64) -> Option<Self>;
    fn text(s: &str) -> Self;
    fn list(items: Vec<Self>) -> Self;
    fn insert(map: &mut Self::Map, key: &str, value: Self);
    fn map(map: Self::Map) -> Self;
}

impl Target for Json {
    type Map = Map<String, Json>;
    fn null() -> Self {
        Json::Null
    }
    fn boolean(b: bool) -> Self {
        Json::Bool(b)
    }
    fn int(i: i64) -> Self {
        Json::Number(i.into())
    }
    fn uint(u: u64) -> Self {
        Json::Number(u.into())
    }
    fn float(f: f64) -> Option<Self> {
        Number::from_f64(f).map(Json::Number)
    }
    fn text(s: &str) -> Self {
        Json::String(s.to_owned())
    }
    fn list(items: Vec<Self>) -> Self {
        Json::Array(items)
    }
    fn insert(map: &mut Self::Map, key: &str, value: Self) {
        map.insert(key.to_owned(), value);
    }
    fn map(map: Self::Map) -> Self {
        Json::Object(map)
    }
}

impl Target for regorus::Value {
    type Map = BTreeMap<regorus::Value, regorus::Value>;
    fn null() -> Self {
        regorus::Value::Null
    }
    fn boolean(b: bool) -> Self {
        b.into()
    }
    fn int(i: i64) -> Self {
        i.into()
    }
    fn uint(u: u64) -> Self {
        u.into()
    }
    fn float(f: f64) -> Option<Self> {
        f.is_finite().then(|| f.into())
    }
    fn text(s: &str) -> Self {
        s.into()
    }
    fn list(items: Vec<Self>) -> Self {
        items.into()
    }
    fn insert(map: &mut Self::Map, key: &str, value: Self) {
        map.insert(key.into(), value);
    }
    fn map(map: Self::Map) -> Self {
        map.into()
    }
}

/// Any JSON-shaped Python value: dicts (and other mappings) with str keys, lists, tuples, str,
/// int, float, bool and None.
pub fn value<T: Target>(v: &Bound<'_, PyAny>, at: &Path<'_>) -> PyResult<T> {
    if v.is_none() {
        return Ok(T::null());
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(T::text(text(s, at)?));
    }
    // bool before int: Python's bool is an int.
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(T::boolean(b.is_true()));
    }
    if v.is_instance_of::<PyInt>() {
        return integer(v, at);
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        return T::float(f.value()).ok_or_else(|| at.value_error(format_args!("{} is not a JSON number", v.repr().map(|r| r.to_string()).unwrap_or_default())));
    }
    // A container: its place now holds it, for telling a cycle from depth.
    let here = at.at(v);
    if let Ok(d) = v.cast::<PyDict>() {
        return map::<T>(d, &here).map(T::map);
    }
    if let Ok(l) = v.cast::<PyList>() {
        enter(&here, MAX_DEPTH)?;
        let mut items = Vec::with_capacity(l.len());
        for (i, x) in l.iter().enumerate() {
            items.push(value(&x, &here.index(i, Some(&x)))?);
        }
        return Ok(T::list(items));
    }
    if let Ok(t) = v.cast::<PyTuple>() {
        enter(&here, MAX_DEPTH)?;
        return t.iter().enumerate().map(|(i, x)| value(&x, &here.index(i, Some(&x)))).collect::<PyResult<Vec<_>>>().map(T::list);
    }
    if let Some(d) = as_mapping(v)? {
        return map::<T>(&d, &here).map(T::map);
    }
    Err(at.type_error(format_args!("{} is not a JSON value (use str, int, float, bool, None, list or dict)", type_name(v))))
}

fn integer<T: Target>(v: &Bound<'_, PyAny>, at: &Path<'_>) -> PyResult<T> {
    if let Ok(i) = v.extract::<i64>() {
        return Ok(T::int(i));
    }
    if let Ok(u) = v.extract::<u64>() {
        return Ok(T::uint(u));
    }
    // Beyond 64 bits a number is a double, as in Cerbos (protobuf's Value) and JSON parsers.
    match v.extract::<f64>().ok().and_then(T::float) {
        Some(x) => Ok(x),
        None => Err(at.value_error("integer too large for a JSON number")),
    }
}

/// A dict of free-form data (`attr`, claims, `globals`): str keys, JSON values.
pub fn map<T: Target>(d: &Bound<'_, PyDict>, at: &Path<'_>) -> PyResult<T::Map> {
    enter(at, MAX_DEPTH)?;
    let mut m = T::Map::default();
    for item in items(d, at) {
        let (k, v) = item?;
        let key = k.cast::<PyString>().map_err(|_| at.type_error(format_args!("keys must be str, not {}", type_name(&k))))?;
        let key = text(key, at)?;
        let value = value(&v, &at.key(key, &v))?;
        T::insert(&mut m, key, value);
    }
    Ok(m)
}

/// A dict of free-form data given as any Python value: a dict or another mapping, else a type error.
pub fn map_of<T: Target>(v: &Bound<'_, PyAny>, at: &Path<'_>, expected: &str) -> PyResult<T::Map> {
    let at = at.at(v);
    if let Ok(d) = v.cast::<PyDict>() {
        return map::<T>(d, &at);
    }
    match as_mapping(v)? {
        Some(d) => map::<T>(&d, &at),
        None => Err(at.type_error(format_args!("expected {expected}, got {}", type_name(v)))),
    }
}

static MAPPING: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Whether `v` is a `collections.abc.Mapping` (a dict, or another mapping such as `os.environ`).
pub fn is_mapping(v: &Bound<'_, PyAny>) -> PyResult<bool> {
    v.is_instance(MAPPING.import(v.py(), "collections.abc", "Mapping")?)
}

/// A mapping that is not a dict, copied into a dict; `None` for anything else.
pub fn as_mapping<'py>(v: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyDict>>> {
    if !is_mapping(v)? {
        return Ok(None);
    }
    let d = PyDict::new(v.py());
    d.update(v.cast()?)?;
    Ok(Some(d))
}

/// Refuses to go one level deeper than `limit` below the argument.
fn enter(at: &Path<'_>, limit: usize) -> PyResult<()> {
    if at.depth >= limit {
        return Err(at.too_deep(limit));
    }
    Ok(())
}

/// The items of a dict; an error, never a panic, when Python code run meanwhile (a mapping's
/// `__getitem__`, a property) changes the dict, as Python's own iteration reports it.
pub fn items<'a, 'py>(d: &'a Bound<'py, PyDict>, at: &'a Path<'a>) -> DictItems<'a, 'py> {
    DictItems { dict: d, inner: d.iter(), len: d.len(), seen: 0, at, done: false }
}

pub struct DictItems<'a, 'py> {
    dict: &'a Bound<'py, PyDict>,
    inner: pyo3::types::iter::BoundDictIterator<'py>,
    len: usize,
    seen: usize,
    at: &'a Path<'a>,
    done: bool,
}

impl<'py> Iterator for DictItems<'_, 'py> {
    type Item = PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // pyo3's iterator panics on both conditions: they are checked before it would.
        if self.dict.len() != self.len {
            self.done = true;
            return Some(Err(PyRuntimeError::new_err(format!("{}: dictionary changed size while it was read", self.at))));
        }
        let item = self.inner.next()?;
        if self.seen == self.len {
            self.done = true;
            return Some(Err(PyRuntimeError::new_err(format!("{}: dictionary keys changed while it was read", self.at))));
        }
        self.seen += 1;
        Some(Ok(item))
    }
}

/// A core JSON value as Python objects (dicts, lists, str, int, float, bool, None).
pub fn to_py<'py>(py: Python<'py>, v: &Json) -> PyResult<Bound<'py, PyAny>> {
    json_to_py(py, v, 0)
}

fn json_to_py<'py>(py: Python<'py>, v: &Json, depth: usize) -> PyResult<Bound<'py, PyAny>> {
    if depth > MAX_DEPTH_OUT {
        return Err(PyValueError::new_err(format!("result nested more than {MAX_DEPTH_OUT} levels deep")));
    }
    Ok(match v {
        Json::Null => py.None().into_bound(py),
        Json::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Json::String(s) => PyString::new(py, s).into_any(),
        Json::Array(items) => {
            let list = PyList::empty(py);
            for x in items {
                list.append(json_to_py(py, x, depth + 1)?)?;
            }
            list.into_any()
        }
        Json::Object(m) => map_to_py(py, m, depth)?.into_any(),
    })
}

fn map_to_py<'py>(py: Python<'py>, m: &Map<String, Json>, depth: usize) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, x) in m {
        d.set_item(k, json_to_py(py, x, depth + 1)?)?;
    }
    Ok(d)
}

/// A JSON object (claims, a policy's outputs) as a Python dict.
pub fn map_to_dict<'py>(py: Python<'py>, m: &Map<String, Json>) -> PyResult<Bound<'py, PyDict>> {
    map_to_py(py, m, 0)
}

/// Any core value with a JSON form (explanations, API responses) as Python objects.
pub fn serialized_to_py<'py, T: serde::Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(v).map_err(|e| PyValueError::new_err(e.to_string()))?;
    to_py(py, &json)
}

//! Requests read from Python: principals, resources, actions and aux data, as dicts (camelCase or
//! snake_case keys), other mappings, or model objects (`warden.Principal`, read by attribute).
//! Errors name the field as the caller wrote it (`inputs[0].principal.roles`, `resources[1].actions`).
use super::models::Models;
use super::values::{self, as_mapping, is_mapping, text, type_name, Path};
use crate::eval::request::{AuxData, CheckInput, PrincipalInput, ResourceInput};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyFloat, PyFrozenSet, PyInt, PyIterator, PyList, PySet, PyString, PyTuple};
use serde_json::{Map, Value as Json};
use std::cell::Cell;

/// Which request rules apply on top of the types.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Rules {
    /// Cerbos's engine `CheckInput`: empty ids are allowed; the core checks the rest (`CheckInput::validate`).
    Engine,
    /// Cerbos's API (what the PDP validates, so what the SDK drop-in refuses): ids, roles and
    /// actions must be non-empty strings.
    Api,
}

/// How a text field is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Text {
    /// Absent or None: empty.
    Optional,
    /// Must be present; None is empty.
    Required,
    /// Must be a non-empty str.
    NonEmpty,
    /// Optional, and a well-formed scope (no leading, trailing or doubled dot).
    Scope,
}

/// A request object read field by field. Names are interned Python strings (`intern!`): a `&str`
/// would become a new Python string per lookup.
struct Fields<'a, 'py> {
    obj: &'a Bound<'py, PyAny>,
    dict: Option<Bound<'py, PyDict>>,
    at: &'a Path<'a>,
    /// Keys of the dict read so far (each field is read once): when all are, the remaining
    /// fields are absent without looking them up.
    found: Cell<usize>,
}

impl<'a, 'py> Fields<'a, 'py> {
    /// `obj` as a request object; `expected` names what it should be in the type error.
    fn of(obj: &'a Bound<'py, PyAny>, at: &'a Path<'a>, expected: &str) -> PyResult<Self> {
        let dict = match obj.cast::<PyDict>() {
            Ok(d) => Some(d.clone()),
            // The models first: asking anything else of them would cost more than reading them.
            Err(_) if Models::get(obj.py())?.is_model(obj)? => None,
            Err(_) if is_plain_value(obj) => return Err(at.type_error(format_args!("expected {expected}, got {}", type_name(obj)))),
            Err(_) => as_mapping(obj)?,
        };
        Ok(Fields { obj, dict, at, found: Cell::new(0) })
    }

    /// Reads the fields with `read`, refusing dict keys that are not in `known`. A dict whose keys
    /// were all read has no other key, so the key scan runs only when some key was left unread, or
    /// when reading failed (an unknown key is reported first, as a scan done up front would).
    fn read<T>(&self, known: &[&str], read: impl FnOnce(&Self) -> PyResult<T>) -> PyResult<T> {
        let result = read(self);
        let all_read = self.dict.as_ref().is_none_or(|d| self.found.get() == d.len());
        if result.is_err() || !all_read {
            self.deny_unknown(known)?;
        }
        result
    }

    /// The field's value; absent and None are both `None`.
    fn get(&self, camel: &Bound<'py, PyString>, snake: &Bound<'py, PyString>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let v = match &self.dict {
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
                v
            }
            None => self.obj.getattr_opt(snake)?,
        };
        Ok(v.filter(|v| !v.is_none()))
    }

    /// Whether the field is there at all (None counts as there).
    fn has(&self, camel: &Bound<'py, PyString>, snake: &Bound<'py, PyString>) -> PyResult<bool> {
        match &self.dict {
            Some(d) => Ok(d.contains(camel)? || d.contains(snake)?),
            None => self.obj.hasattr(snake),
        }
    }

    /// Dicts may only hold the known keys: a typo must not silently drop data.
    fn deny_unknown(&self, known: &[&str]) -> PyResult<()> {
        let Some(d) = &self.dict else { return Ok(()) };
        for item in values::items(d, self.at) {
            let (k, _) = item?;
            let k = k.cast::<PyString>().map_err(|_| self.at.type_error(format_args!("keys must be str, not {}", type_name(&k))))?;
            let k = text(k, self.at)?;
            if !known.contains(&k) {
                return Err(self.at.value_error(format_args!("unknown field `{k}`, expected one of {}", known.join(", "))));
            }
        }
        Ok(())
    }

    fn text(&self, camel: &Bound<'py, PyString>, snake: &Bound<'py, PyString>, rule: Text) -> PyResult<String> {
        // The field's place, made only when an error names it.
        let at = |value: Option<&Bound<'py, PyAny>>| self.at.field(camel.to_str().unwrap_or("?"), value);
        match self.get(camel, snake)? {
            Some(v) => match v.cast::<PyString>() {
                Ok(s) => match s.to_str() {
                    Ok("") if rule == Text::NonEmpty => Err(at(Some(&v)).value_error("must not be empty")),
                    Ok(t) if rule == Text::Scope && !crate::naming::is_valid_scope(t) => {
                        Err(at(Some(&v)).value_error(format_args!("value does not match regex pattern `{}`", crate::naming::SCOPE_PATTERN)))
                    }
                    Ok(t) => Ok(t.to_owned()),
                    Err(e) => Err(at(Some(&v)).value_error(e)),
                },
                Err(_) => Err(at(Some(&v)).type_error(format_args!("expected str, got {}", type_name(&v)))),
            },
            None if rule == Text::Optional || rule == Text::Scope => Ok(String::new()),
            None if rule == Text::Required && self.has(camel, snake)? => Ok(String::new()),
            None if self.has(camel, snake)? => Err(at(None).type_error("expected str, got NoneType")),
            None => Err(at(None).type_error("missing (required)")),
        }
    }

    /// A required list of names (roles, actions).
    fn names(&self, name: &Bound<'py, PyString>, rules: Rules) -> PyResult<Vec<String>> {
        let field = name.to_str()?;
        match self.get(name, name)? {
            Some(v) => names(&v, &self.at.field(field, Some(&v)), rules),
            None => Err(self.at.field(field, None).type_error("missing (required)")),
        }
    }

    /// Free-form attributes: a dict of JSON values, empty when absent or None.
    fn attr(&self) -> PyResult<Map<String, Json>> {
        let py = self.obj.py();
        match self.get(intern!(py, "attr"), intern!(py, "attr"))? {
            Some(v) => values::map_of::<Json>(&v, &self.at.field("attr", Some(&v)), "a dict"),
            None => Ok(Map::new()),
        }
    }
}

/// A value that can only be a field's value, never a request object.
fn is_plain_value(v: &Bound<'_, PyAny>) -> bool {
    v.is_none()
        || v.is_instance_of::<PyString>()
        || v.is_instance_of::<PyInt>()
        || v.is_instance_of::<PyFloat>()
        || v.is_instance_of::<PyList>()
        || v.is_instance_of::<PyTuple>()
        || v.is_instance_of::<PyBytes>()
        || v.is_instance_of::<PySet>()
        || v.is_instance_of::<PyFrozenSet>()
}

/// A list of names from a list, tuple, set or other iterable; a lone string is refused (never
/// split into characters). Sets have no order: their names are sorted, for reproducible decisions.
pub fn names(v: &Bound<'_, PyAny>, at: &Path<'_>, rules: Rules) -> PyResult<Vec<String>> {
    let name = |i: usize, x: Bound<'_, PyAny>| -> PyResult<String> {
        let item = at.index(i, Some(&x));
        let s = x.cast::<PyString>().map_err(|_| item.type_error(format_args!("expected str, got {}", type_name(&x))))?;
        match text(s, &item)? {
            "" if rules == Rules::Api => Err(item.value_error("must not be empty")),
            t => Ok(t.to_owned()),
        }
    };
    let out: Vec<String> = if let Ok(l) = v.cast::<PyList>() {
        l.iter().enumerate().map(|(i, x)| name(i, x)).collect::<PyResult<_>>()?
    } else if let Ok(t) = v.cast::<PyTuple>() {
        t.iter().enumerate().map(|(i, x)| name(i, x)).collect::<PyResult<_>>()?
    } else if v.is_instance_of::<PySet>() || v.is_instance_of::<PyFrozenSet>() {
        let mut out = named(v.try_iter()?, name)?;
        out.sort();
        out
    } else if v.is_none() || v.is_instance_of::<PyString>() || v.is_instance_of::<PyBytes>() || is_mapping(v)? {
        return Err(at.type_error(format_args!("expected a list of str, got {}", type_name(v))));
    } else {
        named(v.try_iter().map_err(|_| at.type_error(format_args!("expected a list of str, got {}", type_name(v))))?, name)?
    };
    if rules == Rules::Api && out.is_empty() {
        return Err(at.value_error("at least one entry is required"));
    }
    Ok(out)
}

/// The names an iterator yields. A loop, not `collect`: on the limited API, the size hint that
/// `collect` asks a Python iterator for is a call to `operator.length_hint`, dearer than the loop.
fn named<'py>(iter: Bound<'py, PyIterator>, name: impl Fn(usize, Bound<'py, PyAny>) -> PyResult<String>) -> PyResult<Vec<String>> {
    let mut out = Vec::new();
    for (i, x) in iter.enumerate() {
        out.push(name(i, x?)?);
    }
    Ok(out)
}

/// A principal: a dict (`{id, roles, attr, policyVersion, scope}`), a mapping or a `Principal`-like object.
pub fn principal(v: &Bound<'_, PyAny>, at: &Path<'_>, rules: Rules) -> PyResult<PrincipalInput> {
    let py = v.py();
    let at = at.at(v);
    let id = if rules == Rules::Api { Text::NonEmpty } else { Text::Required };
    Fields::of(v, &at, "warden.Principal or dict")?.read(&["id", "roles", "attr", "policyVersion", "policy_version", "scope"], |f| {
        Ok(PrincipalInput {
            id: f.text(intern!(py, "id"), intern!(py, "id"), id)?,
            roles: f.names(intern!(py, "roles"), rules)?,
            attr: f.attr()?,
            policy_version: f.text(intern!(py, "policyVersion"), intern!(py, "policy_version"), Text::Optional)?,
            scope: f.text(intern!(py, "scope"), intern!(py, "scope"), Text::Scope)?,
        })
    })
}

/// A resource: a dict (`{kind, id, attr, policyVersion, scope}`), a mapping or a `Resource`-like object.
pub fn resource(v: &Bound<'_, PyAny>, at: &Path<'_>, rules: Rules) -> PyResult<ResourceInput> {
    let py = v.py();
    let at = at.at(v);
    let (kind, id) = if rules == Rules::Api { (Text::NonEmpty, Text::NonEmpty) } else { (Text::Required, Text::Optional) };
    Fields::of(v, &at, "warden.Resource or dict")?.read(&["kind", "id", "attr", "policyVersion", "policy_version", "scope"], |f| {
        Ok(ResourceInput {
            kind: f.text(intern!(py, "kind"), intern!(py, "kind"), kind)?,
            id: f.text(intern!(py, "id"), intern!(py, "id"), id)?,
            attr: f.attr()?,
            policy_version: f.text(intern!(py, "policyVersion"), intern!(py, "policy_version"), Text::Optional)?,
            scope: f.text(intern!(py, "scope"), intern!(py, "scope"), Text::Scope)?,
        })
    })
}

/// One action name (`is_allowed`'s `action`).
pub fn action(v: &Bound<'_, PyAny>, at: &Path<'_>) -> PyResult<String> {
    let s = v.cast::<PyString>().map_err(|_| at.type_error(format_args!("expected str, got {}", type_name(v))))?;
    match text(s, at)? {
        "" => Err(at.value_error("must not be empty")),
        t => Ok(t.to_owned()),
    }
}

/// Engine-level aux data, already-verified claims: `{"jwt": {claims...}, "jwts": {name: {"claims": {...}}}}`.
pub fn aux_data(v: &Bound<'_, PyAny>, at: &Path<'_>) -> PyResult<Option<AuxData>> {
    if v.is_none() {
        return Ok(None);
    }
    let py = v.py();
    let at = at.at(v);
    if v.cast::<PyDict>().is_err() && as_mapping(v)?.is_none() {
        return Err(at.type_error(format_args!("expected a dict like {{'jwt': {{...claims}}}}, got {}", type_name(v))));
    }
    Fields::of(v, &at, "a dict")?.read(&["jwt", "jwts"], |f| {
        let claims = |name: &Bound<'_, PyString>, expected: &str| -> PyResult<Map<String, Json>> {
            match f.get(name, name)? {
                Some(x) => values::map_of::<Json>(&x, &at.field(name.to_str()?, Some(&x)), expected),
                None => Ok(Map::new()),
            }
        };
        Ok(Some(AuxData { jwt: claims(intern!(py, "jwt"), "a dict of claims")?, jwts: claims(intern!(py, "jwts"), "a dict")? }))
    })
}

/// One engine `CheckInput` dict. `previous` is the input read just before in the same batch: when
/// this one names the very same principal object, its converted principal is reused.
pub fn check_input(v: &Bound<'_, PyAny>, at: &Path<'_>, previous: Option<(&Bound<'_, PyAny>, &CheckInput)>) -> PyResult<CheckInput> {
    let py = v.py();
    if !v.is_instance_of::<PyDict>() {
        return Err(at.type_error(format_args!("expected a CheckInput dict, got {}", type_name(v))));
    }
    let at = at.at(v);
    let known = ["requestId", "request_id", "principal", "resource", "actions", "auxData", "aux_data"];
    let fields = Fields::of(v, &at, "a CheckInput dict")?;
    let input = fields.read(&known, |f| {
        let request_id = f.text(intern!(py, "requestId"), intern!(py, "request_id"), Text::Optional)?;
        let principal = match f.get(intern!(py, "principal"), intern!(py, "principal"))? {
            // The batch is read in one go under the GIL: the same object still holds what was read from it.
            Some(p) => match previous {
                Some((prev_obj, prev)) if prev_obj.is(&p) => prev.principal.clone(),
                _ => principal(&p, &at.field("principal", Some(&p)), Rules::Engine)?,
            },
            None => return Err(at.field("principal", None).type_error("missing (required)")),
        };
        let resource = match f.get(intern!(py, "resource"), intern!(py, "resource"))? {
            Some(r) => resource(&r, &at.field("resource", Some(&r)), Rules::Engine)?,
            None => return Err(at.field("resource", None).type_error("missing (required)")),
        };
        Ok(CheckInput {
            request_id,
            principal,
            resource,
            actions: f.names(intern!(py, "actions"), Rules::Engine)?,
            aux_data: match f.get(intern!(py, "auxData"), intern!(py, "aux_data"))? {
                Some(a) => aux_data(&a, &at.field("auxData", Some(&a)))?,
                None => None,
            },
        })
    })?;
    input.validate().map_err(|e| at.value_error(e))?;
    Ok(input)
}

/// A batch of engine `CheckInput` dicts (`inputs[i]`).
pub fn check_inputs(inputs: &Bound<'_, PyAny>) -> PyResult<Vec<CheckInput>> {
    let root = Path::root("inputs");
    let list = inputs.cast::<PyList>().map_err(|_| root.type_error(format_args!("expected a list of CheckInput dicts, got {}", type_name(inputs))))?;
    let at = root.at(inputs);
    let mut out: Vec<CheckInput> = Vec::with_capacity(list.len());
    // The principal object of the previous input: batches usually repeat one principal.
    let mut previous_principal: Option<Bound<'_, PyAny>> = None;
    for (i, item) in list.iter().enumerate() {
        let previous = previous_principal.as_ref().zip(out.last());
        out.push(check_input(&item, &at.index(i, Some(&item)), previous)?);
        previous_principal = item.cast::<PyDict>().ok().and_then(|d| d.get_item(intern!(item.py(), "principal")).ok().flatten());
    }
    Ok(out)
}

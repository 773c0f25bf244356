//! The `request` CEL sees (`request`, `P`, `R`), built once per check input.
//!
//! A request built by [`Request::borrowing`] (the engine's) borrows the caller's data for `'a`
//! and converts each field of the principal and the resource the first time an expression reads
//! it, at most once: most conditions read a field or two. Paths (`R.attr.x`,
//! `request.principal.id`) are resolved field by field; only an expression that reads a whole
//! message (`R`, `has(P.scope)`, `request`) gets the message built, from copies of its fields.

use std::sync::{LazyLock, OnceLock};

use cel::common::types::{CelMap, CelMapKey, CelString, CelTimestamp, Type};
use cel::common::value::Val;

use super::values::{
    json_object_to_map, string_list, Field, FieldValue, MsgVal, UnsetMsg, AUX_DATA_TYPE, JWT_TYPE, PRINCIPAL_TYPE, REQUEST_TYPE, RESOURCE_TYPE,
};

type JsonMap = serde_json::Map<String, serde_json::Value>;

/// The principal's fields as CEL reads them (`P`), borrowed from the caller's data.
#[derive(Clone, Copy, Debug)]
pub struct PrincipalFields<'a> {
    pub id: &'a str,
    pub roles: &'a [String],
    pub attr: &'a JsonMap,
    pub policy_version: &'a str,
    pub scope: &'a str,
}

/// The resource's fields as CEL reads them (`R`), borrowed from the caller's data.
#[derive(Clone, Copy, Debug)]
pub struct ResourceFields<'a> {
    pub kind: &'a str,
    pub id: &'a str,
    pub attr: &'a JsonMap,
    pub policy_version: &'a str,
    pub scope: &'a str,
}

/// Verified JWT claims as CEL reads them (`request.auxData`): `jwt` (one token) and/or `jwts`
/// (name -> claims).
#[derive(Clone, Copy, Debug, Default)]
pub struct AuxDataFields<'a> {
    pub jwt: Option<&'a JsonMap>,
    pub jwts: Option<&'a JsonMap>,
}

/// The `request` CEL sees (`request`, `P`, `R`).
pub struct Request<'a> {
    pub(crate) principal: Part<'a>,
    pub(crate) resource: Part<'a>,
    aux_data: FieldValue,
    whole: OnceLock<MsgVal>,
    pub(crate) now: CelTimestamp,
}

impl std::fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.whole(), f)
    }
}

/// Where a field's value comes from: the caller's data, borrowed.
#[derive(Clone, Copy)]
enum Source<'a> {
    Str(&'a str),
    Strings(&'a [String]),
    Map(&'a JsonMap),
}

impl Source<'_> {
    fn convert(self) -> FieldValue {
        match self {
            Source::Str(s) => FieldValue::Str(CelString::from(s.to_owned())),
            Source::Strings(l) => FieldValue::List(string_list(l)),
            Source::Map(m) => FieldValue::Map(json_object_to_map(m)),
        }
    }
}

/// One field of the principal or the resource, converted on first read.
struct LazyField<'a> {
    source: Source<'a>,
    converted: OnceLock<FieldValue>,
}

impl<'a> LazyField<'a> {
    fn lazy(source: Source<'a>) -> Self {
        LazyField { source, converted: OnceLock::new() }
    }

    fn get(&self) -> &(dyn Val + 'static) {
        self.converted.get_or_init(|| self.source.convert()).as_val()
    }
}

/// The principal or the resource: five fields, each converted on first read.
pub(crate) struct Part<'a> {
    ty: &'static Type,
    /// (proto name, JSON name) of each field, in field order.
    names: &'static [(&'static str, &'static str); 5],
    fields: [LazyField<'a>; 5],
    whole: OnceLock<MsgVal>,
}

const PRINCIPAL_FIELDS: [(&str, &str); 5] = [("id", "id"), ("roles", "roles"), ("attr", "attr"), ("policy_version", "policyVersion"), ("scope", "scope")];
const RESOURCE_FIELDS: [(&str, &str); 5] = [("kind", "kind"), ("id", "id"), ("attr", "attr"), ("policy_version", "policyVersion"), ("scope", "scope")];

impl<'a> Part<'a> {
    fn principal(p: &PrincipalFields<'a>) -> Self {
        let fields =
            [Source::Str(p.id), Source::Strings(p.roles), Source::Map(p.attr), Source::Str(p.policy_version), Source::Str(p.scope)].map(LazyField::lazy);
        Part { ty: &PRINCIPAL_TYPE, names: &PRINCIPAL_FIELDS, fields, whole: OnceLock::new() }
    }

    fn resource(r: &ResourceFields<'a>) -> Self {
        let fields = [Source::Str(r.kind), Source::Str(r.id), Source::Map(r.attr), Source::Str(r.policy_version), Source::Str(r.scope)].map(LazyField::lazy);
        Part { ty: &RESOURCE_TYPE, names: &RESOURCE_FIELDS, fields, whole: OnceLock::new() }
    }

    /// The field named `name` (proto or JSON name).
    pub(crate) fn field(&self, name: &str) -> Option<&(dyn Val + 'static)> {
        let i = self.names.iter().position(|(proto, json)| *proto == name || *json == name)?;
        Some(self.fields[i].get())
    }

    /// The whole message, built from copies of the fields on first use.
    pub(crate) fn whole(&self) -> &MsgVal {
        self.whole.get_or_init(|| self.message())
    }

    fn message(&self) -> MsgVal {
        let fields = self.names.iter().zip(&self.fields).map(|((proto, json), f)| field(proto, json, FieldValue::Boxed(f.get().clone_as_boxed()))).collect();
        MsgVal { ty: self.ty, fields }
    }
}

fn field(proto: &'static str, json: &'static str, value: FieldValue) -> Field {
    Field { proto, json, value }
}

/// What `request.auxData` reads as when no aux data was given: the same empty message for every
/// request, so it is built once.
static EMPTY_AUX_DATA: LazyLock<MsgVal> = LazyLock::new(|| aux_data_msg(&AuxDataFields::default()));

fn aux_data_msg(a: &AuxDataFields<'_>) -> MsgVal {
    let empty = serde_json::Map::new();
    let jwt = json_object_to_map(a.jwt.unwrap_or(&empty));
    let mut jwts = std::collections::HashMap::new();
    for (name, v) in a.jwts.unwrap_or(&empty) {
        // Each entry is a `JWT{claims}` message; accept `{claims: {...}}` or bare claims.
        let claims = match v.get("claims").and_then(|c| c.as_object()) {
            Some(c) => c,
            None => v.as_object().unwrap_or(&empty),
        };
        let entry = MsgVal { ty: &JWT_TYPE, fields: vec![field("claims", "claims", FieldValue::Map(json_object_to_map(claims)))] };
        jwts.insert(CelMapKey::from(name.clone()), Box::new(entry) as Box<dyn Val>);
    }
    MsgVal { ty: &AUX_DATA_TYPE, fields: vec![field("jwt", "jwt", FieldValue::Map(jwt)), field("jwts", "jwts", FieldValue::Map(CelMap::from(jwts)))] }
}

fn aux_data_field(aux_data: Option<&AuxDataFields<'_>>) -> FieldValue {
    match aux_data {
        Some(a) => FieldValue::Msg(aux_data_msg(a)),
        None => FieldValue::Unset(UnsetMsg { default: &*EMPTY_AUX_DATA }),
    }
}

impl<'a> Request<'a> {
    /// Like [`Request::new`] with `now` fixed, but borrowing the principal's and resource's
    /// fields and converting each when a condition first reads it.
    pub fn borrowing(
        principal: &PrincipalFields<'a>,
        resource: &ResourceFields<'a>,
        aux_data: Option<&AuxDataFields<'_>>,
        now: chrono::DateTime<chrono::FixedOffset>,
    ) -> Request<'a> {
        Request {
            principal: Part::principal(principal),
            resource: Part::resource(resource),
            aux_data: aux_data_field(aux_data),
            whole: OnceLock::new(),
            now: CelTimestamp::from(now),
        }
    }

    /// Fixes what `now()` returns for every evaluation against this request.
    pub fn set_now(&mut self, now: chrono::DateTime<chrono::FixedOffset>) {
        self.now = CelTimestamp::from(now);
    }

    pub fn now(&self) -> chrono::DateTime<chrono::FixedOffset> {
        *self.now.inner()
    }

    /// `request.auxData`: the message, or the unset field's marker.
    pub(crate) fn aux_data(&self) -> &(dyn Val + 'static) {
        self.aux_data.as_val()
    }

    /// `request` as a whole message.
    pub(crate) fn whole(&self) -> &MsgVal {
        self.whole.get_or_init(|| MsgVal {
            ty: &REQUEST_TYPE,
            fields: vec![
                field("principal", "principal", FieldValue::Msg(self.principal.message())),
                field("resource", "resource", FieldValue::Msg(self.resource.message())),
                field("aux_data", "auxData", FieldValue::Boxed(self.aux_data.as_val().clone_as_boxed())),
            ],
        })
    }
}

/// The fields of a part converted up front, for [`Request::new`]: no borrow survives.
struct OwnedFields([FieldValue; 5]);

impl OwnedFields {
    fn principal(p: &PrincipalFields<'_>) -> Self {
        OwnedFields(
            [Source::Str(p.id), Source::Strings(p.roles), Source::Map(p.attr), Source::Str(p.policy_version), Source::Str(p.scope)].map(Source::convert),
        )
    }

    fn resource(r: &ResourceFields<'_>) -> Self {
        OwnedFields([Source::Str(r.kind), Source::Str(r.id), Source::Map(r.attr), Source::Str(r.policy_version), Source::Str(r.scope)].map(Source::convert))
    }

    fn into_part(self, ty: &'static Type, names: &'static [(&'static str, &'static str); 5]) -> Part<'static> {
        // The source is never read again: the value is already there.
        let fields = self.0.map(|value| LazyField { source: Source::Str(""), converted: OnceLock::from(value) });
        Part { ty, names, fields, whole: OnceLock::new() }
    }
}

impl Request<'static> {
    /// Builds the request from its parts, converting every field now. `aux_data: None` is an
    /// unset `auxData` (reads give empty maps, `has(request.auxData)` is false). `now()`
    /// defaults to the current time; see [`Request::set_now`].
    pub fn new(principal: &PrincipalFields<'_>, resource: &ResourceFields<'_>, aux_data: Option<&AuxDataFields<'_>>) -> Request<'static> {
        // The converted fields own their data, so the request borrows nothing.
        let owned_principal = OwnedFields::principal(principal);
        let owned_resource = OwnedFields::resource(resource);
        Request {
            principal: owned_principal.into_part(&PRINCIPAL_TYPE, &PRINCIPAL_FIELDS),
            resource: owned_resource.into_part(&RESOURCE_TYPE, &RESOURCE_FIELDS),
            aux_data: aux_data_field(aux_data),
            whole: OnceLock::new(),
            now: CelTimestamp::from(chrono::Utc::now().fixed_offset()),
        }
    }

    /// Builds the request from `engine.Request`-shaped JSON: `{principal: {id, roles, attr,
    /// policyVersion, scope}, resource: {kind, id, attr, policyVersion, scope}, auxData:
    /// {jwt, jwts}}` (snake_case names accepted too).
    pub fn from_json(v: &serde_json::Value) -> Result<Request<'static>, String> {
        let empty = serde_json::Map::new();
        let obj = v.as_object().ok_or("request must be an object")?;
        let get = |o: &'_ JsonMap, a: &str, b: &str| -> Option<serde_json::Value> { o.get(a).or_else(|| o.get(b)).cloned() };
        let p = obj.get("principal").and_then(|p| p.as_object()).unwrap_or(&empty);
        let r = obj.get("resource").and_then(|r| r.as_object()).unwrap_or(&empty);
        let text = |o: &JsonMap, a: &str, b: &str| -> Result<String, String> {
            match get(o, a, b) {
                None | Some(serde_json::Value::Null) => Ok(String::new()),
                Some(serde_json::Value::String(s)) => Ok(s),
                Some(other) => Err(format!("{a} must be a string, got {other}")),
            }
        };
        let attr = |o: &JsonMap| -> Result<JsonMap, String> {
            match o.get("attr") {
                None | Some(serde_json::Value::Null) => Ok(serde_json::Map::new()),
                Some(serde_json::Value::Object(m)) => Ok(m.clone()),
                Some(other) => Err(format!("attr must be an object, got {other}")),
            }
        };
        let roles: Vec<String> = match p.get("roles") {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(serde_json::Value::Array(a)) => {
                a.iter().map(|r| r.as_str().map(str::to_owned).ok_or_else(|| "roles must be strings".to_owned())).collect::<Result<_, _>>()?
            }
            Some(_) => return Err("roles must be a list".into()),
        };
        let (p_id, p_pv, p_scope, p_attr) = (text(p, "id", "id")?, text(p, "policyVersion", "policy_version")?, text(p, "scope", "scope")?, attr(p)?);
        let (r_kind, r_id, r_pv, r_scope, r_attr) =
            (text(r, "kind", "kind")?, text(r, "id", "id")?, text(r, "policyVersion", "policy_version")?, text(r, "scope", "scope")?, attr(r)?);
        let principal = PrincipalFields { id: &p_id, roles: &roles, attr: &p_attr, policy_version: &p_pv, scope: &p_scope };
        let resource = ResourceFields { kind: &r_kind, id: &r_id, attr: &r_attr, policy_version: &r_pv, scope: &r_scope };
        let aux_json = obj.get("auxData").or_else(|| obj.get("aux_data")).filter(|a| !a.is_null());
        let aux = match aux_json {
            Some(a) => {
                let a = a.as_object().ok_or("auxData must be an object")?;
                Some(AuxDataFields { jwt: a.get("jwt").and_then(|j| j.as_object()), jwts: a.get("jwts").and_then(|j| j.as_object()) })
            }
            None => None,
        };
        Ok(Request::new(&principal, &resource, aux.as_ref()))
    }
}

//! Values: JSON <-> CEL conversion, the owned [`CelValue`], and the message-like
//! objects (`request`, `P`, `R`, `runtime`, `V`/`C`/`G`) expressions read.
//!
//! Everything here is built once per request (or per policy for variables) and then
//! only borrowed by evaluations.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use cel::common::traits::{Indexer, Zeroer};
use cel::common::types::{
    CelBool, CelBytes, CelDouble, CelDuration, CelInt, CelList, CelMap, CelMapKey, CelNull, CelOptional, CelString, CelTimestamp, CelUInt, Kind, Type,
};
use cel::common::value::{CowVal, StaticVal, Val};
use cel::ExecutionError;

use super::errors::undefined_field;

/// An owned CEL value, independent of any request: what [`super::eval`] returns and
/// what variables, constants and globals are made of.
///
/// It wraps the interpreter's own value representation, so handing it back to an
/// evaluation (as a variable) costs nothing.
pub struct CelValue(pub(crate) Box<dyn Val + 'static>);

impl Clone for CelValue {
    fn clone(&self) -> Self {
        CelValue(self.0.clone_as_boxed())
    }
}

impl fmt::Debug for CelValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl PartialEq for CelValue {
    /// CEL equality (`==`): `1.0 == 1`, lists and maps element-wise.
    fn eq(&self, other: &Self) -> bool {
        self.0.equals(other.0.as_ref())
    }
}

impl CelValue {
    /// Converts a JSON value as Cerbos does (`google.protobuf.Value`): every number is a double.
    pub fn from_json(v: &serde_json::Value) -> CelValue {
        CelValue(json_to_val(v))
    }

    /// `google.protobuf.Value`-style JSON, see [`super::value_to_json`].
    pub fn to_json(&self) -> Result<serde_json::Value, String> {
        val_to_json(self.0.as_ref())
    }

    /// Converts to the `cel` crate's `Value` enum. Fails for Cerbos's own types
    /// (hierarchy, SPIFFE ids, IP addresses), which have no `Value` form.
    pub fn to_cel_value(&self) -> Result<cel::Value, String> {
        cel::Value::try_from(self.0.as_ref()).map_err(|e| e.to_string())
    }

    /// Converts from the `cel` crate's `Value` enum.
    pub fn from_cel_value(v: cel::Value) -> Result<CelValue, String> {
        Box::<dyn Val>::try_from(v).map(CelValue).map_err(|e| e.to_string())
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        self.0.downcast_ref::<CelBool>().map(|b| *b.inner())
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        self.0.downcast_ref::<CelString>().map(|s| s.inner())
    }

    /// The CEL type name, as `type(x)` would print it (`double`, `map`, `cerbos.lib.hierarchy`).
    pub fn type_name(&self) -> &str {
        self.0.get_type().name()
    }

    pub(crate) fn from_val(v: &dyn Val) -> Result<CelValue, ExecutionError> {
        to_static(v).map(CelValue)
    }
}

impl From<bool> for CelValue {
    fn from(b: bool) -> Self {
        CelValue(Box::new(CelBool::from(b)))
    }
}
impl From<f64> for CelValue {
    fn from(d: f64) -> Self {
        CelValue(Box::new(CelDouble::from(d)))
    }
}
impl From<i64> for CelValue {
    fn from(i: i64) -> Self {
        CelValue(Box::new(CelInt::from(i)))
    }
}
impl From<&str> for CelValue {
    fn from(s: &str) -> Self {
        CelValue(Box::new(CelString::from(s.to_owned())))
    }
}
impl From<String> for CelValue {
    fn from(s: String) -> Self {
        CelValue(Box::new(CelString::from(s)))
    }
}

// ---------------------------------------------------------------------------------------------
// JSON -> CEL

/// JSON to a CEL value, as `google.protobuf.Value` maps onto CEL: numbers are doubles,
/// objects are `map(string, dyn)`.
pub(crate) fn json_to_val(v: &serde_json::Value) -> Box<dyn Val + 'static> {
    use serde_json::Value as J;
    match v {
        J::Null => Box::new(CelNull),
        J::Bool(b) => Box::new(CelBool::from(*b)),
        J::Number(n) => Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN))),
        J::String(s) => Box::new(CelString::from(s.clone())),
        J::Array(a) => Box::new(CelList::from(a.iter().map(json_to_val).collect::<Vec<_>>())),
        J::Object(o) => Box::new(json_object_to_map(o)),
    }
}

pub(crate) fn json_object_to_map(o: &serde_json::Map<String, serde_json::Value>) -> CelMap<'static> {
    let mut m: HashMap<CelMapKey<'static>, Box<dyn Val + 'static>> = HashMap::with_capacity(o.len());
    for (k, v) in o {
        m.insert(CelMapKey::from(k.clone()), json_to_val(v));
    }
    CelMap::from(m)
}

pub(crate) fn string_list(items: &[String]) -> CelList<'static> {
    CelList::from(items.iter().map(|s| Box::new(CelString::from(s.clone())) as Box<dyn Val>).collect::<Vec<_>>())
}

// ---------------------------------------------------------------------------------------------
// CEL -> JSON

/// A CEL value as JSON, the way cel-go converts to `google.protobuf.Value`: ints and uints
/// become numbers, bytes base64 strings, timestamps RFC 3339 strings, durations `"1.5s"`.
pub(crate) fn val_to_json(v: &dyn Val) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    if let Some(b) = v.downcast_ref::<CelBool>() {
        return Ok(J::Bool(*b.inner()));
    }
    if let Some(d) = v.downcast_ref::<CelDouble>() {
        return number(*d.inner());
    }
    if let Some(i) = v.downcast_ref::<CelInt>() {
        return number(*i.inner() as f64);
    }
    if let Some(u) = v.downcast_ref::<CelUInt>() {
        return number(*u.inner() as f64);
    }
    if let Some(s) = v.downcast_ref::<CelString>() {
        return Ok(J::String(s.inner().to_owned()));
    }
    if v.get_type().kind() == Kind::NullType {
        return Ok(J::Null);
    }
    if let Some(b) = v.downcast_ref::<CelBytes>() {
        use base64::Engine as _;
        return Ok(J::String(base64::engine::general_purpose::STANDARD.encode(b.inner())));
    }
    if let Some(l) = v.downcast_ref::<CelList>() {
        return l.inner().iter().map(|e| val_to_json(e.as_ref())).collect::<Result<Vec<_>, _>>().map(J::Array);
    }
    if let Some(m) = v.downcast_ref::<CelMap>() {
        let mut entries: Vec<(String, u8, serde_json::Value)> = Vec::with_capacity(m.inner().len());
        for (k, val) in m.inner() {
            let (key, rank) = json_key(k);
            entries.push((key, rank, val_to_json(val.as_ref())?));
        }
        // Deterministic output: protobuf Struct serialises its keys sorted. Keys of different
        // types that print alike (`1`, `1u`, `'1'`) keep the string key's value.
        entries.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        return Ok(J::Object(entries.into_iter().map(|(k, _, v)| (k, v)).collect()));
    }
    if let Some(t) = v.downcast_ref::<CelTimestamp>() {
        return Ok(J::String(format_timestamp(t.inner())));
    }
    if let Some(d) = v.downcast_ref::<CelDuration>() {
        return Ok(J::String(format_duration(d.inner())));
    }
    if let Some(m) = v.downcast_ref::<MsgVal>() {
        // protojson: JSON field names, in field order, zero values left out.
        let mut out = serde_json::Map::new();
        for f in &m.fields {
            let value = f.value.as_val();
            if value.downcast_ref::<UnsetMsg>().is_some() || is_zero(value) {
                continue;
            }
            out.insert(f.json.to_owned(), val_to_json(value)?);
        }
        return Ok(J::Object(out));
    }
    if let Some(o) = v.downcast_ref::<CelOptional>() {
        // cel-go cannot convert an optional to JSON either.
        let _ = o;
        return Err("type conversion error from 'optional_type' to 'google.protobuf.Value'".into());
    }
    Err(format!("type conversion error from '{}' to 'google.protobuf.Value'", v.get_type().name()))
}

/// A map key as a JSON object key: JSON keys are strings, so `int`, `uint` and `bool` keys are
/// written as CEL prints them (`1`, `true`), as Go's `encoding/json` writes integer keys. The
/// rank orders keys that print alike: the string key comes last, so its value is kept.
fn json_key(k: &CelMapKey<'_>) -> (String, u8) {
    match k {
        CelMapKey::Int(i) => (i.inner().to_string(), 0),
        CelMapKey::UInt(u) => (u.inner().to_string(), 1),
        CelMapKey::Bool(b) => (b.inner().to_string(), 2),
        CelMapKey::String(s) => (s.inner().to_owned(), 3),
    }
}

/// A JSON number. Whole values within 2^53 are written as integers: that is what protobuf's
/// JSON encoding of a `Value` number prints (`3`, not `3.0`), so callers see what a Cerbos
/// client would.
fn number(f: f64) -> Result<serde_json::Value, String> {
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        return Ok(serde_json::Value::from(f as i64));
    }
    serde_json::Number::from_f64(f).map(serde_json::Value::Number).ok_or_else(|| format!("unsupported number value: {f}"))
}

/// Go's `time.RFC3339Nano` layout: fractional seconds without trailing zeros, `Z` for UTC.
pub(crate) fn format_timestamp(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    use chrono::{Offset, Timelike};
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = t.nanosecond() % 1_000_000_000;
    let frac = if nanos == 0 {
        String::new()
    } else {
        let s = format!("{nanos:09}");
        format!(".{}", s.trim_end_matches('0'))
    };
    let off = t.offset().fix().local_minus_utc();
    let zone = if off == 0 {
        "Z".to_owned()
    } else {
        let sign = if off < 0 { '-' } else { '+' };
        let a = off.abs();
        format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
    };
    format!("{base}{frac}{zone}")
}

/// cel-go's duration to string: seconds as the shortest decimal, then `s`.
pub(crate) fn format_duration(d: &chrono::Duration) -> String {
    let secs = d.num_seconds() as f64 + f64::from(d.subsec_nanos()) / 1e9;
    format!("{}s", go_float(secs))
}

/// Formats like Go's `%g` (`strconv.FormatFloat(f, 'g', -1, 64)`): shortest digits, exponent
/// form when the exponent is below -4 or at least 6.
pub(crate) fn go_g_format(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let e = format!("{f:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

/// Formats like Go's `strconv.FormatFloat(f, 'f', -1, 64)`.
fn go_float(f: f64) -> String {
    let s = format!("{f}");
    if s == "-0" {
        "0".to_owned()
    } else {
        s
    }
}

/// Formats a double like Go's `encoding/json` (what `json.encode` produces).
pub(crate) fn json_number(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Go uses exponent form here, with at least two exponent digits.
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        let digits = if digits.len() < 2 { format!("0{digits}") } else { digits.to_owned() };
        format!("{mant}e{sign}{digits}")
    } else {
        go_float(f)
    }
}

/// Compact JSON text in Go's style (for `json.encode`): sorted keys, Go number format.
pub(crate) fn json_text(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value as J;
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Number(n) => out.push_str(&json_number(n.as_f64().unwrap_or(0.0))),
        J::String(s) => out.push_str(&serde_json::to_string(s).unwrap_or_default()),
        J::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_text(e, out);
            }
            out.push(']');
        }
        J::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push(':');
                json_text(&o[k], out);
            }
            out.push('}');
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Deep copies out of an evaluation

/// Copies a value that may borrow from a request into one that owns all its data.
pub(crate) fn to_static(v: &dyn Val) -> Result<Box<dyn Val + 'static>, ExecutionError> {
    macro_rules! copy {
        ($($t:ty),*) => {$(
            if let Some(x) = v.downcast_ref::<$t>() {
                return Ok(Box::new(x.clone()));
            }
        )*};
    }
    copy!(CelBool, CelInt, CelUInt, CelDouble, CelTimestamp, CelDuration);
    if let Some(s) = v.downcast_ref::<CelString>() {
        return Ok(Box::new(CelString::from(s.inner().to_owned())));
    }
    if v.get_type().kind() == Kind::NullType {
        return Ok(Box::new(CelNull));
    }
    if let Some(b) = v.downcast_ref::<CelBytes>() {
        return Ok(Box::new(CelBytes::from(b.inner().to_vec())));
    }
    if let Some(l) = v.downcast_ref::<CelList>() {
        let items = l.inner().iter().map(|e| to_static(e.as_ref())).collect::<Result<Vec<_>, _>>()?;
        return Ok(Box::new(CelList::from(items)));
    }
    if let Some(m) = v.downcast_ref::<CelMap>() {
        let mut out = HashMap::with_capacity(m.inner().len());
        for (k, val) in m.inner() {
            out.insert(k.clone().into_static(), to_static(val.as_ref())?);
        }
        return Ok(Box::new(CelMap::from(out)));
    }
    if let Some(o) = v.downcast_ref::<CelOptional>() {
        return Ok(Box::new(match o.option() {
            Some(inner) => CelOptional::of(to_static(inner)?),
            None => CelOptional::none(),
        }));
    }
    if let Some(any) = v.as_any() {
        if let Some(b) = super::custom_types::clone_custom(any) {
            return Ok(b);
        }
    }
    // Anything else the crate knows how to represent (type values, structs).
    let value = cel::Value::try_from(v)?;
    Box::<dyn Val>::try_from(value)
}

// ---------------------------------------------------------------------------------------------
// Message-like objects

/// One field of a protobuf message as CEL sees it: reachable by its proto name and its
/// JSON (camelCase) name, with proto3 presence for `has()`.
pub(crate) struct Field {
    pub proto: &'static str,
    pub json: &'static str,
    pub value: FieldValue,
}

/// A field's value, held inline for the common shapes: a request is built per check input,
/// and boxing each field separately was most of its cost.
pub(crate) enum FieldValue {
    Str(CelString<'static>),
    List(CelList<'static>),
    Map(CelMap<'static>),
    Msg(MsgVal),
    Unset(UnsetMsg),
    Boxed(Box<dyn Val + 'static>),
}

impl FieldValue {
    pub(crate) fn as_val(&self) -> &(dyn Val + 'static) {
        match self {
            FieldValue::Str(v) => v,
            FieldValue::List(v) => v,
            FieldValue::Map(v) => v,
            FieldValue::Msg(v) => v,
            FieldValue::Unset(v) => v,
            FieldValue::Boxed(v) => v.as_ref(),
        }
    }
}

/// A protobuf message (`cerbos.engine.v1.Request`, `.Principal`, `.Resource`, `AuxData`,
/// `AuxData.JWT`, `Runtime`).
pub(crate) struct MsgVal {
    pub ty: &'static Type,
    pub fields: Vec<Field>,
}

pub(crate) static REQUEST_TYPE: Type = Type::new_unspecified_type("cerbos.engine.v1.Request");
pub(crate) static PRINCIPAL_TYPE: Type = Type::new_unspecified_type("cerbos.engine.v1.Request.Principal");
pub(crate) static RESOURCE_TYPE: Type = Type::new_unspecified_type("cerbos.engine.v1.Request.Resource");
pub(crate) static AUX_DATA_TYPE: Type = Type::new_unspecified_type("cerbos.engine.v1.AuxData");
pub(crate) static JWT_TYPE: Type = Type::new_unspecified_type("cerbos.engine.v1.AuxData.JWT");
pub(crate) static RUNTIME_TYPE: Type = Type::new_unspecified_type("cerbos.engine.v1.Runtime");
pub(crate) static VARIABLES_TYPE: Type = Type::new_unspecified_type("cerbos.Variables");

impl MsgVal {
    pub(crate) fn field(&self, name: &str) -> Option<&(dyn Val + 'static)> {
        self.fields.iter().find(|f| f.proto == name || f.json == name).map(|f| f.value.as_val())
    }

    /// proto3 presence: a scalar, list or map field is set when it is not its zero value;
    /// a message field when it was given.
    pub(crate) fn has_field(&self, name: &str) -> Option<bool> {
        self.field(name).map(|v| {
            if let Some(m) = v.downcast_ref::<MsgVal>() {
                // Unset message fields are stored as `UnsetMsg`.
                let _ = m;
                true
            } else if v.downcast_ref::<UnsetMsg>().is_some() {
                false
            } else {
                !v.as_zeroer().is_some_and(|z| z.is_zero_value())
            }
        })
    }
}

impl fmt::Debug for MsgVal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct(self.ty.name());
        for field in &self.fields {
            d.field(field.proto, &field.value.as_val());
        }
        d.finish()
    }
}

impl Val for MsgVal {
    fn get_type(&self) -> &Type {
        self.ty
    }
    fn cel_type() -> &'static Type {
        &REQUEST_TYPE
    }
    fn as_indexer<'b, 'v>(&'b self) -> Option<&'b (dyn Indexer + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }
    fn equals(&self, other: &dyn Val) -> bool {
        other.downcast_ref::<MsgVal>().is_some_and(|o| {
            std::ptr::eq(self.ty, o.ty)
                && self.fields.len() == o.fields.len()
                && self.fields.iter().zip(&o.fields).all(|(a, b)| a.value.as_val().equals(b.value.as_val()))
        })
    }
    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v> {
        Box::new(MsgVal {
            ty: self.ty,
            fields: self.fields.iter().map(|f| Field { proto: f.proto, json: f.json, value: FieldValue::Boxed(f.value.as_val().clone_as_boxed()) }).collect(),
        })
    }
    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}
impl StaticVal for MsgVal {}

impl Indexer for MsgVal {
    fn get<'b, 'v>(&'b self, idx: &dyn Val) -> Result<CowVal<'b, 'v>, ExecutionError>
    where
        Self: 'v,
    {
        let Some(name) = idx.downcast_ref::<CelString>() else {
            return Err(ExecutionError::UnexpectedType { got: idx.get_type().name().to_owned(), want: "string".to_owned() });
        };
        match self.field(name.inner()) {
            Some(v) => match v.downcast_ref::<UnsetMsg>() {
                // Reading an unset message field yields its default: an empty message.
                Some(unset) => Ok(CowVal::Borrowed(unset.default)),
                None => Ok(CowVal::Borrowed(v)),
            },
            None => Err(ExecutionError::NoSuchKey(Arc::new(format!("{}no such field '{}'", super::errors::VERBATIM, name.inner())))),
        }
    }
    fn steal<'v>(self: Box<Self>, idx: &dyn Val) -> Result<Box<dyn Val + 'v>, ExecutionError>
    where
        Self: 'v,
    {
        self.get(idx).map(CowVal::into_owned)
    }
}

/// A message field that was not set (e.g. `request.auxData` without aux data): reads give
/// the default message, `has()` says false.
/// The default is shared (built once per process): it is the same empty message every time.
#[derive(Debug)]
pub(crate) struct UnsetMsg {
    pub default: &'static (dyn Val + 'static),
}

impl Val for UnsetMsg {
    fn get_type(&self) -> &Type {
        self.default.get_type()
    }
    fn cel_type() -> &'static Type {
        &AUX_DATA_TYPE
    }
    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v> {
        Box::new(UnsetMsg { default: self.default })
    }
    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}
impl StaticVal for UnsetMsg {}

// ---------------------------------------------------------------------------------------------
// Variables, constants, globals

/// Named values: `V`/`variables`, `C`/`constants`, `G`/`globals` (`cerbos.Variables`).
///
/// A missing name is `undefined field 'x'` (and `has(V.x)` is false), as in Cerbos.
#[derive(Default)]
pub struct Vars {
    pub(crate) map: HashMap<String, Box<dyn Val + 'static>>,
}

impl Clone for Vars {
    fn clone(&self) -> Self {
        Vars { map: self.map.iter().map(|(k, v)| (k.clone(), v.clone_as_boxed())).collect() }
    }
}

impl fmt::Debug for Vars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.map.iter()).finish()
    }
}

impl Vars {
    pub fn new() -> Vars {
        Vars::default()
    }

    /// Sets `name` to `value`.
    pub fn insert(&mut self, name: impl Into<String>, value: CelValue) {
        self.map.insert(name.into(), value.0);
    }

    /// Sets `name` to a JSON value (numbers become doubles), e.g. for constants and globals.
    pub fn insert_json(&mut self, name: impl Into<String>, value: &serde_json::Value) {
        self.map.insert(name.into(), json_to_val(value));
    }

    /// Removes `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<CelValue> {
        self.map.remove(name).map(CelValue)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    pub fn get(&self, name: &str) -> Option<CelValue> {
        self.map.get(name).map(|v| CelValue(v.clone_as_boxed()))
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Builds from a JSON object (numbers become doubles).
    pub fn from_json_map(m: &serde_json::Map<String, serde_json::Value>) -> Vars {
        Vars { map: m.iter().map(|(k, v)| (k.clone(), json_to_val(v))).collect() }
    }
}

/// The CEL view of a [`Vars`], borrowed for one evaluation.
pub(crate) struct VarsVal<'a>(pub &'a Vars);

impl fmt::Debug for VarsVal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl<'a> Val for VarsVal<'a> {
    fn get_type(&self) -> &Type {
        &VARIABLES_TYPE
    }
    fn cel_type() -> &'static Type {
        &VARIABLES_TYPE
    }
    fn as_indexer<'b, 'v>(&'b self) -> Option<&'b (dyn Indexer + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }
    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
    where
        Self: 'v,
    {
        Box::new(VarsVal(self.0))
    }
}

impl<'a> Indexer for VarsVal<'a> {
    fn get<'b, 'v>(&'b self, idx: &dyn Val) -> Result<CowVal<'b, 'v>, ExecutionError>
    where
        Self: 'v,
    {
        let Some(name) = idx.downcast_ref::<CelString>() else {
            return Err(ExecutionError::UnexpectedType { got: idx.get_type().name().to_owned(), want: "string".to_owned() });
        };
        match self.0.map.get(name.inner()) {
            Some(v) => Ok(CowVal::Borrowed(v.as_ref())),
            None => Err(undefined_field(name.inner())),
        }
    }
    fn steal<'v>(self: Box<Self>, idx: &dyn Val) -> Result<Box<dyn Val + 'v>, ExecutionError>
    where
        Self: 'v,
    {
        self.get(idx).map(CowVal::into_owned)
    }
}

/// `runtime` when its computation failed: every field access raises the error.
#[derive(Debug)]
pub(crate) struct FailedRuntime(pub String);

impl Val for FailedRuntime {
    fn get_type(&self) -> &Type {
        &RUNTIME_TYPE
    }
    fn cel_type() -> &'static Type {
        &RUNTIME_TYPE
    }
    fn as_indexer<'b, 'v>(&'b self) -> Option<&'b (dyn Indexer + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }
    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v> {
        Box::new(FailedRuntime(self.0.clone()))
    }
    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}
impl StaticVal for FailedRuntime {}

impl Indexer for FailedRuntime {
    fn get<'b, 'v>(&'b self, _idx: &dyn Val) -> Result<CowVal<'b, 'v>, ExecutionError>
    where
        Self: 'v,
    {
        Err(super::errors::verbatim(&self.0))
    }
    fn steal<'v>(self: Box<Self>, idx: &dyn Val) -> Result<Box<dyn Val + 'v>, ExecutionError>
    where
        Self: 'v,
    {
        self.get(idx).map(CowVal::into_owned)
    }
}

/// Whether a value is the zero value of its type (used for proto3 presence).
pub(crate) fn is_zero(v: &dyn Val) -> bool {
    v.as_zeroer().is_some_and(|z: &dyn Zeroer| z.is_zero_value())
}

//! Turns `boon` validation errors into the leaf errors that Cerbos reports, with the message text of
//! santhosh-tekuri/jsonschema **v5** (the Go library Cerbos uses), not boon's own wording.
//!
//! Cerbos (`internal/schema/error.go`) flattens v5's error tree to its leaves; wrapper errors
//! (`allOf failed`, `doesn't validate with ...`, groups) only show when they have no causes. The
//! same is done here over boon's tree.

use std::fmt::Write as _;

use boon::{ErrorKind, InstanceLocation, InstanceToken, Type, ValidationError};
use serde_json::{Number, Value};

/// One leaf error: JSON-pointer instance location (v5 escaping, "" for the root) and v5 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Leaf {
    pub location: String,
    pub message: String,
    /// The keyword that failed (`required`, `type`, ...), for filters such as plan-resources'.
    pub keyword: Option<&'static str>,
}

/// Flattens `err` (validated against `instance`) to v5-style leaves.
///
/// `schema_at` returns the schema object at an absolute schema location (`url#/json/pointer`),
/// when known: v5 prints `type` lists in the schema's order (boon keeps a set) and `pattern` as
/// written (boon may hold a translated regex).
pub(crate) fn leaves(err: &ValidationError, instance: &Value, schema_at: &dyn Fn(&str) -> Option<Value>) -> Vec<Leaf> {
    let mut out = Vec::new();
    let cx = Cx { instance, schema_at, root_doc: err.schema_url.split('#').next().unwrap_or_default() };
    collect(err, &cx, None, &[], &[], &mut out);
    out
}

struct Cx<'a> {
    instance: &'a Value,
    schema_at: &'a dyn Fn(&str) -> Option<Value>,
    /// URL of the document of the schema validated against.
    root_doc: &'a str,
}

impl Cx<'_> {
    /// The instance location a schema location implies, when the schema sits in the root
    /// document under nothing but `properties` (no `$ref` jumps can be involved then), and the
    /// result lies under `ancestor`.
    fn instance_for_schema(&self, schema_url: &str, ancestor: &[Tok]) -> Option<Vec<Tok>> {
        let (doc, frag) = schema_url.split_once('#').unwrap_or((schema_url, ""));
        if doc != self.root_doc {
            return None;
        }
        let frag = crate::schema::percent_decode(frag);
        let mut toks = Vec::new();
        let mut parts = frag.split('/').skip(1);
        while let Some(kw) = parts.next() {
            if kw != "properties" {
                return None;
            }
            let name = parts.next()?.replace("~1", "/").replace("~0", "~");
            toks.push(Tok::Prop(name));
        }
        toks.starts_with(ancestor).then_some(toks)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Prop(String),
    Item(usize),
}

fn owned(loc: &InstanceLocation) -> Vec<Tok> {
    loc.tokens
        .iter()
        .map(|t| match t {
            InstanceToken::Prop(p) => Tok::Prop(p.to_string()),
            InstanceToken::Item(i) => Tok::Item(*i),
        })
        .collect()
}

fn render(tokens: &[Tok]) -> String {
    let mut s = String::new();
    for t in tokens {
        s.push('/');
        match t {
            Tok::Prop(p) => s.push_str(&escape_token(p)),
            Tok::Item(i) => {
                let _ = write!(s, "{i}");
            }
        }
    }
    s
}

/// * `base`: boon validates `propertyNames` and `contentSchema` as separate documents, so their
///   causes carry locations relative to the property name / decoded content; v5 appends them to
///   the location of the property / string, which is `base` inside such a wrapper.
/// * `ancestor`: the location of the nearest enclosing error (a prefix of this one's).
/// * `fixes`: (depth, offset) corrections of array indexes. boon 0.6.1 numbers the items that
///   `items` (after `prefixItems`) and `additionalItems` (after an `items` array) validate from 0
///   instead of from the first index they apply to; v5 uses the real index.
fn collect(err: &ValidationError, cx: &Cx, base: Option<&[Tok]>, ancestor: &[Tok], fixes: &[(usize, usize)], out: &mut Vec<Leaf>) {
    let mut tokens = owned(&err.instance_location);
    for &(depth, offset) in fixes {
        if let Some(Tok::Item(i)) = tokens.get_mut(depth) {
            *i += offset;
        }
    }
    let mut fixes = fixes.to_vec();
    if base.is_none() {
        if let Some(offset) = item_offset(err.schema_url, cx) {
            if let Some(Tok::Item(i)) = tokens.last_mut() {
                *i += offset;
                fixes.push((err.instance_location.tokens.len() - 1, offset));
            }
        }
    }
    let tokens = match base {
        Some(b) => b.iter().cloned().chain(tokens).collect(),
        None => tokens,
    };
    match &err.kind {
        ErrorKind::PropertyName { prop } => {
            // boon gives this wrapper no usable location: find the object holding `prop` under
            // the nearest enclosing location (the first one, in document order).
            let mut obj = match cx.instance_for_schema(err.schema_url, ancestor) {
                Some(t) if matches!(lookup(cx.instance, &t), Some(Value::Object(m)) if m.contains_key(prop)) => t,
                _ => {
                    let mut obj = ancestor.to_vec();
                    find_object_with(cx.instance, ancestor, prop, &mut obj);
                    obj
                }
            };
            obj.push(Tok::Prop(prop.clone()));
            for c in &err.causes {
                collect(c, cx, Some(&obj), &obj, &[], out);
            }
            return;
        }
        ErrorKind::ContentSchema => {
            // As for propertyNames, the string's location is not in the error; derive it from
            // the schema's location when that is unambiguous, else use the enclosing location.
            let at = match cx.instance_for_schema(err.schema_url, ancestor) {
                Some(t) if matches!(lookup(cx.instance, &t), Some(Value::String(_))) => t,
                _ => ancestor.to_vec(),
            };
            for c in &err.causes {
                collect(c, cx, Some(&at), &at, &[], out);
            }
            return;
        }
        _ => {}
    }
    if !err.causes.is_empty() {
        for c in &err.causes {
            collect(c, cx, base, &tokens, &fixes, out);
        }
        return;
    }
    let value = if base.is_none() { lookup(cx.instance, &tokens) } else { None };
    let schema = match &err.kind {
        ErrorKind::Type { .. } | ErrorKind::Pattern { .. } | ErrorKind::ContentMediaType { .. } => (cx.schema_at)(err.schema_url),
        _ => None,
    };
    let loc = render(&tokens);
    for (message, keyword) in messages(&err.kind, value, schema.as_ref()) {
        out.push(Leaf { location: loc.clone(), message, keyword });
    }
}

/// For an error of the schema at `<S>/items` or `<S>/additionalItems`: how many items `S`'s
/// `prefixItems` / `items` array covers (see `fixes` in [`collect`]).
fn item_offset(schema_url: &str, cx: &Cx) -> Option<usize> {
    let (parent, array_kw) = if let Some(p) = schema_url.strip_suffix("/items") {
        (p, "prefixItems")
    } else if let Some(p) = schema_url.strip_suffix("/additionalItems") {
        (p, "items")
    } else {
        return None;
    };
    let parent = (cx.schema_at)(parent)?;
    let n = parent.get(array_kw)?.as_array()?.len();
    (n > 0).then_some(n)
}

/// Depth-first (document order) search under `at` for an object with key `prop`; its location
/// is left in `path`. Returns whether one was found.
fn find_object_with(root: &Value, at: &[Tok], prop: &str, path: &mut Vec<Tok>) -> bool {
    let Some(v) = lookup(root, at) else {
        return false;
    };
    fn dfs(v: &Value, prop: &str, path: &mut Vec<Tok>) -> bool {
        match v {
            Value::Object(m) => {
                if m.contains_key(prop) {
                    return true;
                }
                for (k, c) in m {
                    path.push(Tok::Prop(k.clone()));
                    if dfs(c, prop, path) {
                        return true;
                    }
                    path.pop();
                }
                false
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    path.push(Tok::Item(i));
                    if dfs(c, prop, path) {
                        return true;
                    }
                    path.pop();
                }
                false
            }
            _ => false,
        }
    }
    dfs(v, prop, path)
}

/// v5's message(s) for one leaf error kind. Most kinds give one message; `dependencies` and
/// `dependentRequired` give one per missing property, as v5 does.
/// `schema` is the schema object holding the failed keyword, if known (see [`leaves`]).
pub(crate) fn messages(kind: &ErrorKind, value: Option<&Value>, schema: Option<&Value>) -> Vec<(String, Option<&'static str>)> {
    let one = |m: String, kw: &'static str| vec![(m, Some(kw))];
    match kind {
        ErrorKind::Group | ErrorKind::Schema { .. } | ErrorKind::Reference { .. } => {
            // Only reached without causes, which boon does not produce; keep v5's wrapper text.
            let url = match kind {
                ErrorKind::Schema { url } | ErrorKind::Reference { url, .. } => *url,
                _ => "",
            };
            vec![(format!("doesn't validate with {}", quote(url)), None)]
        }
        ErrorKind::ContentSchema => one("value is not valid json".into(), "contentSchema"),
        ErrorKind::PropertyName { prop } => one(format!("invalid property {}", quote(prop)), "propertyNames"),
        ErrorKind::RefCycle { url, kw_loc1, kw_loc2 } => {
            vec![(format!("jsonschema: infinite loop {url}: {kw_loc1} and {kw_loc2} resolve to the same schema"), None)]
        }
        ErrorKind::FalseSchema => vec![("not allowed".into(), None)],
        ErrorKind::Type { got, want } => {
            let want = type_order(want, schema.and_then(|s| s.get("type")));
            // v5 has no "integer" instance type: a non-integral number is a "number".
            let got = if *got == Type::Integer { Type::Number } else { *got };
            one(format!("expected {}, but got {}", want.join(" or "), got), "type")
        }
        ErrorKind::Enum { want } => one(enum_message(want), "enum"),
        ErrorKind::Const { want } => {
            let m = match want {
                Value::Array(_) | Value::Object(_) => "const failed".to_owned(),
                v => format!("value must be {}", go_sharp_v(v)),
            };
            one(m, "const")
        }
        ErrorKind::Format { got, want, .. } => {
            let val = match got.as_ref() {
                Value::String(s) => quote(s),
                v => go_v(v),
            };
            one(format!("{val} is not valid {}", quote(want)), "format")
        }
        ErrorKind::MinProperties { got, want } => one(format!("minimum {want} properties allowed, but found {got} properties"), "minProperties"),
        ErrorKind::MaxProperties { got, want } => one(format!("maximum {want} properties allowed, but found {got} properties"), "maxProperties"),
        ErrorKind::AdditionalProperties { got } => {
            let names: Vec<String> = got.iter().map(|p| quote(p)).collect();
            one(format!("additionalProperties {} not allowed", names.join(", ")), "additionalProperties")
        }
        ErrorKind::Required { want } => {
            let names: Vec<String> = want.iter().map(|p| quote(p)).collect();
            one(format!("missing properties: {}", names.join(", ")), "required")
        }
        ErrorKind::Dependency { prop, missing } => {
            missing.iter().map(|m| (format!("property {} is required, if {} property exists", quote(m), quote(prop)), Some("dependencies"))).collect()
        }
        ErrorKind::DependentRequired { prop, missing } => {
            missing.iter().map(|m| (format!("property {} is required, if {} property exists", quote(m), quote(prop)), Some("dependentRequired"))).collect()
        }
        ErrorKind::MinItems { got, want } => one(format!("minimum {want} items required, but found {got} items"), "minItems"),
        ErrorKind::MaxItems { got, want } => one(format!("maximum {want} items required, but found {got} items"), "maxItems"),
        // Without causes the array was empty: v5's minContains (default 1) message.
        ErrorKind::Contains => one("valid must be >= 1, but got 0".into(), "minContains"),
        ErrorKind::MinContains { got, want } => one(format!("valid must be >= {want}, but got {}", got.len()), "minContains"),
        ErrorKind::MaxContains { got, want } => one(format!("valid must be <= {want}, but got {}", got.len()), "maxContains"),
        ErrorKind::UniqueItems { got: [i, j] } => {
            // v5 reports the duplicate pair with the smallest second index (boon: first index).
            let (a, b) = match value {
                Some(Value::Array(arr)) => first_duplicate(arr).unwrap_or((*i.min(j), *i.max(j))),
                _ => (*i.min(j), *i.max(j)),
            };
            one(format!("items at index {a} and {b} are equal"), "uniqueItems")
        }
        ErrorKind::AdditionalItems { got } => {
            // v5: "only <len(items)> items are allowed, but found <len> items".
            let len = match value {
                Some(Value::Array(a)) => a.len(),
                _ => *got,
            };
            one(format!("only {} items are allowed, but found {len} items", len.saturating_sub(*got)), "additionalItems")
        }
        ErrorKind::MinLength { got, want } => one(format!("length must be >= {want}, but got {got}"), "minLength"),
        ErrorKind::MaxLength { got, want } => one(format!("length must be <= {want}, but got {got}"), "maxLength"),
        ErrorKind::Pattern { want, .. } => {
            let want = schema.and_then(|s| s.get("pattern")).and_then(Value::as_str).unwrap_or(want);
            one(format!("does not match pattern {}", quote(want)), "pattern")
        }
        ErrorKind::ContentEncoding { want, .. } => one(format!("value is not {want} encoded"), "contentEncoding"),
        ErrorKind::ContentMediaType { want, .. } => {
            let mut v = one(format!("value is not of mediatype {}", quote(want)), "contentMediaType");
            // v5 then still tries `contentSchema` on the undecodable content.
            if *want == "application/json" && schema.is_some_and(|s| s.get("contentSchema").is_some()) {
                v.push(("value is not valid json".into(), Some("contentSchema")));
            }
            v
        }
        ErrorKind::Minimum { got, want } => one(format!("must be >= {} but found {}", go_num(want), go_num(got)), "minimum"),
        ErrorKind::Maximum { got, want } => one(format!("must be <= {} but found {}", go_num(want), go_num(got)), "maximum"),
        ErrorKind::ExclusiveMinimum { got, want } => one(format!("must be > {} but found {}", go_num(want), go_num(got)), "exclusiveMinimum"),
        ErrorKind::ExclusiveMaximum { got, want } => one(format!("must be < {} but found {}", go_num(want), go_num(got)), "exclusiveMaximum"),
        ErrorKind::MultipleOf { got, want } => one(format!("{} not multipleOf {}", go_num(got), go_num(want)), "multipleOf"),
        ErrorKind::Not => one("not failed".into(), "not"),
        ErrorKind::AllOf => one("allOf failed".into(), "allOf"),
        ErrorKind::AnyOf => one("anyOf failed".into(), "anyOf"),
        ErrorKind::OneOf(None) => one("oneOf failed".into(), "oneOf"),
        ErrorKind::OneOf(Some((i, j))) => one(format!("valid against schemas at indexes {i} and {j}"), "oneOf"),
    }
}

fn first_duplicate(arr: &[Value]) -> Option<(usize, usize)> {
    (1..arr.len()).find_map(|i| (0..i).find(|&j| json_equal(&arr[i], &arr[j])).map(|j| (j, i)))
}

/// v5's `equals`: numbers by value, objects regardless of key order.
pub(crate) fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w))),
        _ => a == b,
    }
}

/// The wanted types in the order the schema lists them (v5 joins `s.Types`); without the schema,
/// boon's order with `object` first (the metaschemas' `["object", "boolean"]`).
fn type_order(want: &boon::Types, listed: Option<&Value>) -> Vec<String> {
    let set: Vec<String> = want.iter().map(|t| t.to_string()).collect();
    match listed {
        Some(Value::String(t)) if set.len() == 1 && set[0] == *t => vec![t.clone()],
        Some(Value::Array(a)) => {
            let listed: Vec<String> = a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect();
            let mut sorted_listed = listed.clone();
            sorted_listed.sort();
            let mut sorted_set = set.clone();
            sorted_set.sort();
            if sorted_listed == sorted_set {
                listed
            } else {
                set
            }
        }
        _ => {
            let (mut first, rest): (Vec<String>, Vec<String>) = set.into_iter().partition(|t| t == "object");
            first.extend(rest);
            first
        }
    }
}

/// v5's `enumError`: `value must be <x>` / `value must be one of <x>, <y>` when every value is a
/// primitive (each printed with Go's `%#v`; numbers are `json.Number`, so quoted), else `enum failed`.
pub(crate) fn enum_message(want: &[Value]) -> String {
    if !want.iter().all(|v| !matches!(v, Value::Array(_) | Value::Object(_))) {
        return "enum failed".into();
    }
    if want.len() == 1 {
        return format!("value must be {}", go_sharp_v(&want[0]));
    }
    let items: Vec<String> = want.iter().map(go_sharp_v).collect();
    format!("value must be one of {}", items.join(", "))
}

/// Go's `%#v` of a schema value decoded with `UseNumber`: strings and numbers (`json.Number`) are
/// Go-quoted, booleans bare, null `<nil>`.
pub(crate) fn go_sharp_v(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_quote(&n.to_string()),
        Value::String(s) => go_quote(s),
        other => other.to_string(),
    }
}

/// Go's `%v` of an instance value as Cerbos passes it (numbers are float64, from structpb).
pub(crate) fn go_v(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_num(n),
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_v).collect::<Vec<_>>().join(" ")),
        Value::Object(_) => "map[...]".into(),
    }
}

fn go_num(n: &Number) -> String {
    go_float(n.as_f64().unwrap_or(f64::NAN))
}

/// Go's `%v` for a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`): shortest round-trip digits,
/// exponent form when the decimal exponent is < -4 or >= 6 (`1e+06`, `1.5e-05`).
pub(crate) fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.2345e8", "5e-7".
    let e = format!("{f:e}");
    let (mant, exp) = e.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    if !(-4..6).contains(&exp) {
        s.push_str(&digits[..1]);
        if digits.len() > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        let _ = write!(s, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
        return s;
    }
    if exp < 0 {
        s.push_str("0.");
        for _ in 0..(-exp - 1) {
            s.push('0');
        }
        s.push_str(&digits);
    } else {
        let int_len = (exp + 1) as usize;
        if digits.len() <= int_len {
            s.push_str(&digits);
            for _ in digits.len()..int_len {
                s.push('0');
            }
        } else {
            s.push_str(&digits[..int_len]);
            s.push('.');
            s.push_str(&digits[int_len..]);
        }
    }
    s
}

/// v5's `quote`: Go `%q`, then `\"` → `"` and `'` → `\'`, wrapped in single quotes.
pub(crate) fn quote(s: &str) -> String {
    let q = go_quote(s);
    let inner = &q[1..q.len() - 1];
    format!("'{}'", inner.replace("\\\"", "\"").replace('\'', "\\'"))
}

/// Go's `strconv.Quote` (close enough: printable runes kept, the usual escapes, `\x`/`\u` else).
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// JSON pointer as v5 builds instance locations: `/` + escaped tokens, `""` for the root.
pub(crate) fn pointer(loc: &InstanceLocation) -> String {
    let mut s = String::new();
    for t in &loc.tokens {
        s.push('/');
        match t {
            InstanceToken::Prop(p) => s.push_str(&escape_token(p)),
            InstanceToken::Item(i) => {
                let _ = write!(s, "{i}");
            }
        }
    }
    s
}

/// v5's `escape`: `~` → `~0`, `/` → `~1`, then Go's `url.PathEscape`.
pub(crate) fn escape_token(token: &str) -> String {
    let t = token.replace('~', "~0").replace('/', "~1");
    let mut out = String::with_capacity(t.len());
    for b in t.bytes() {
        let keep = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'$' | b'&' | b'+' | b':' | b'=' | b'@');
        if keep {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn lookup<'a>(root: &'a Value, loc: &[Tok]) -> Option<&'a Value> {
    let mut v = root;
    for t in loc {
        v = match (t, v) {
            (Tok::Prop(p), Value::Object(m)) => m.get(p)?,
            (Tok::Item(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

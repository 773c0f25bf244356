//! TEMPORARY stand-in for the CEL layer (replaced by the full Cerbos CEL library).
//! Same surface the engine uses: compile once, evaluate against an activation.
use cel::objects::{Key, Map};
use cel::{Context, Env, Program, Value};
use chrono::{DateTime, FixedOffset};
use regex::Regex;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| Arc::new(Env::stdlib()));

pub struct CompiledExpr {
    program: Program,
    source: String,
    variable_refs: Vec<String>,
    constant_refs: Vec<String>,
    global_refs: Vec<String>,
    uses_runtime: bool,
    uses_now: bool,
}

impl std::fmt::Debug for CompiledExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CompiledExpr({:?})", self.source)
    }
}

#[derive(Debug, Clone)]
pub struct CompileError {
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EvalError {
    pub message: String,
}

static REF_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(V|variables|C|constants|G|globals)\.([A-Za-z_][A-Za-z0-9_]*)").unwrap());

impl CompiledExpr {
    pub fn source(&self) -> &str { &self.source }
    pub fn variable_refs(&self) -> &[String] { &self.variable_refs }
    pub fn constant_refs(&self) -> &[String] { &self.constant_refs }
    pub fn global_refs(&self) -> &[String] { &self.global_refs }
    pub fn uses_runtime(&self) -> bool { self.uses_runtime }
    pub fn uses_now(&self) -> bool { self.uses_now }
}

pub fn compile(source: &str) -> Result<CompiledExpr, CompileError> {
    let program = ENV.compile(source).map_err(|e| CompileError { message: e.to_string() })?;
    let (mut v, mut c, mut g) = (vec![], vec![], vec![]);
    for cap in REF_RE.captures_iter(source) {
        let name = cap[2].to_string();
        let list = match &cap[1] { "V" | "variables" => &mut v, "C" | "constants" => &mut c, _ => &mut g };
        if !list.contains(&name) { list.push(name); }
    }
    Ok(CompiledExpr {
        program,
        source: source.to_string(),
        variable_refs: v,
        constant_refs: c,
        global_refs: g,
        uses_runtime: source.contains("runtime."),
        uses_now: source.contains("now(") || source.contains("timeSince"),
    })
}

pub struct Activation<'a> {
    pub request: &'a Value,
    pub principal: &'a Value,
    pub resource: &'a Value,
    pub variables: &'a Value,
    pub constants: &'a Value,
    pub globals: &'a Value,
    pub runtime: &'a Value,
    pub now: DateTime<FixedOffset>,
}

pub fn eval(expr: &CompiledExpr, act: &Activation) -> Result<Value, EvalError> {
    let mut ctx = Context::with_env(ENV.clone());
    for (n, v) in [("request", act.request), ("P", act.principal), ("R", act.resource), ("V", act.variables),
        ("variables", act.variables), ("C", act.constants), ("constants", act.constants), ("G", act.globals),
        ("globals", act.globals), ("runtime", act.runtime)] {
        ctx.add_variable_from_value(n, v.clone());
    }
    expr.program.execute(&ctx).map_err(|e| EvalError { message: e.to_string() })
}

pub fn json_to_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(a) => Value::List(Arc::new(a.iter().map(json_to_value).collect())),
        serde_json::Value::Object(o) => map_value(o.iter().map(|(k, v)| (k.as_str(), json_to_value(v)))),
    }
}

pub fn map_value<'k>(entries: impl IntoIterator<Item = (&'k str, Value)>) -> Value {
    let m: HashMap<Key, Value> = entries.into_iter().map(|(k, v)| (Key::String(Arc::new(k.to_string())), v)).collect();
    Value::Map(Map { map: Arc::new(m) })
}

pub fn value_to_json(v: &Value) -> Result<serde_json::Value, String> {
    Ok(match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Int(i) => (*i as f64).into(),
        Value::UInt(u) => (*u as f64).into(),
        Value::Float(f) => serde_json::Number::from_f64(*f).map(serde_json::Value::Number).unwrap_or(serde_json::Value::Null),
        Value::String(s) => s.as_str().into(),
        Value::List(l) => serde_json::Value::Array(l.iter().map(value_to_json).collect::<Result<_, _>>()?),
        Value::Map(m) => {
            let mut o = serde_json::Map::new();
            for (k, v) in m.map.iter() {
                let key = match k { Key::String(s) => s.to_string(), Key::Int(i) => i.to_string(), Key::Uint(u) => u.to_string(), Key::Bool(b) => b.to_string() };
                o.insert(key, value_to_json(v)?);
            }
            serde_json::Value::Object(o)
        }
        Value::Timestamp(t) => t.to_rfc3339().into(),
        other => return Err(format!("cannot convert {other:?} to JSON")),
    })
}

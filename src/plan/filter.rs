//! Cerbos's `PlanResourcesFilter` (`cerbos.engine.v1`): a kind and, for `KIND_CONDITIONAL`, a
//! condition tree of operands. Also its normalisation, its `filterDebug` text and the merge of
//! several actions' filters, as Cerbos's `internal/ruletable/planner/{ast,merge}.go` do them,
//! since clients compare trees and strings exactly.
use serde_json::{Map, Value as Json};

/// One operand of a filter condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A known value, as a `google.protobuf.Value` (every number is a double; see [`Operand::value`]).
    Value(Json),
    /// An attribute path, e.g. `request.resource.attr.owner`.
    Variable(String),
    Expression(Expression),
}

/// An operator applied to operands: `and`, `eq`, `in`, a CEL function name, `lambda`, ...
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    pub operator: String,
    pub operands: Vec<Operand>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    AlwaysAllowed,
    AlwaysDenied,
    Conditional,
}

impl FilterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FilterKind::AlwaysAllowed => "KIND_ALWAYS_ALLOWED",
            FilterKind::AlwaysDenied => "KIND_ALWAYS_DENIED",
            FilterKind::Conditional => "KIND_CONDITIONAL",
        }
    }

    fn parse(s: &str) -> Result<FilterKind, String> {
        match s {
            "KIND_ALWAYS_ALLOWED" => Ok(FilterKind::AlwaysAllowed),
            "KIND_ALWAYS_DENIED" => Ok(FilterKind::AlwaysDenied),
            "KIND_CONDITIONAL" => Ok(FilterKind::Conditional),
            other => Err(format!("unknown filter kind {other:?}")),
        }
    }
}

/// Which rows the principal may act on: all, none, or those matching `condition`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub kind: FilterKind,
    /// Set only for [`FilterKind::Conditional`].
    pub condition: Option<Operand>,
}

impl Filter {
    pub fn always_denied() -> Filter {
        Filter { kind: FilterKind::AlwaysDenied, condition: None }
    }

    /// The filter in protojson form: `{"kind": ..., "condition": {...}}`.
    pub fn to_json(&self) -> Json {
        let mut m = Map::new();
        m.insert("kind".into(), Json::String(self.kind.as_str().into()));
        if let Some(c) = &self.condition {
            m.insert("condition".into(), c.to_json());
        }
        Json::Object(m)
    }

    /// Reads the protojson form (the conformance cases' inputs and expectations).
    pub fn from_json(v: &Json) -> Result<Filter, String> {
        let o = v.as_object().ok_or("a filter must be an object")?;
        let kind = match o.get("kind") {
            Some(Json::String(s)) => FilterKind::parse(s)?,
            None => return Err("a filter needs a kind".into()),
            Some(other) => return Err(format!("filter kind must be a string, not {other}")),
        };
        let condition = match o.get("condition") {
            None | Some(Json::Null) => None,
            Some(c) => Operand::from_json_opt(c)?,
        };
        Ok(Filter { kind, condition })
    }

    /// Cerbos's `FilterToString`: `(true)`, `(false)` or the condition as an s-expression.
    pub fn debug_string(&self) -> String {
        match self.kind {
            FilterKind::AlwaysAllowed => "(true)".into(),
            FilterKind::AlwaysDenied => "(false)".into(),
            FilterKind::Conditional => {
                let mut out = String::new();
                if let Some(c) = &self.condition {
                    c.write_debug(&mut out);
                }
                out
            }
        }
    }
}

impl Operand {
    /// A value operand; numbers become doubles, as in a `google.protobuf.Value`.
    pub fn value(v: Json) -> Operand {
        Operand::Value(as_doubles(v))
    }

    pub fn bool(b: bool) -> Operand {
        Operand::Value(Json::Bool(b))
    }

    pub fn expr(operator: impl Into<String>, operands: Vec<Operand>) -> Operand {
        Operand::Expression(Expression { operator: operator.into(), operands })
    }

    fn as_bool(&self) -> Option<bool> {
        match self {
            Operand::Value(Json::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// The operand in protojson form; integral numbers print without a fraction, as protojson does.
    pub fn to_json(&self) -> Json {
        let mut m = Map::new();
        match self {
            Operand::Value(v) => {
                m.insert("value".into(), value_json(v));
            }
            Operand::Variable(s) => {
                m.insert("variable".into(), Json::String(s.clone()));
            }
            Operand::Expression(e) => {
                let mut x = Map::new();
                x.insert("operator".into(), Json::String(e.operator.clone()));
                if !e.operands.is_empty() {
                    x.insert("operands".into(), Json::Array(e.operands.iter().map(Operand::to_json).collect()));
                }
                m.insert("expression".into(), Json::Object(x));
            }
        }
        Json::Object(m)
    }

    /// Reads an operand; `{}` (an operand with nothing set) is `None`.
    pub fn from_json_opt(v: &Json) -> Result<Option<Operand>, String> {
        let o = v.as_object().ok_or_else(|| format!("an operand must be an object, not {v}"))?;
        if let Some(val) = o.get("value") {
            return Ok(Some(Operand::value(val.clone())));
        }
        if let Some(var) = o.get("variable") {
            return var.as_str().map(|s| Some(Operand::Variable(s.to_owned()))).ok_or_else(|| "variable must be a string".into());
        }
        if let Some(e) = o.get("expression") {
            let e = e.as_object().ok_or("expression must be an object")?;
            let operator = e.get("operator").and_then(Json::as_str).unwrap_or_default().to_owned();
            let mut operands = Vec::new();
            for op in e.get("operands").and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default() {
                operands.extend(Operand::from_json_opt(op)?);
            }
            return Ok(Some(Operand::Expression(Expression { operator, operands })));
        }
        if o.is_empty() {
            return Ok(None);
        }
        Err(format!("an operand has one of value, variable or expression, not {v}"))
    }

    fn write_debug(&self, out: &mut String) {
        match self {
            Operand::Expression(e) => {
                out.push('(');
                out.push_str(&e.operator);
                out.push(' ');
                for (i, op) in e.operands.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    op.write_debug(out);
                }
                out.push(')');
            }
            Operand::Value(v) => write_value_text(v, out),
            Operand::Variable(s) => out.push_str(s),
        }
    }
}

/// Numbers as doubles (`google.protobuf.Value` has no integers), so that `1` and `1.0` are one value.
fn as_doubles(v: Json) -> Json {
    match v {
        Json::Number(n) => n.as_f64().and_then(serde_json::Number::from_f64).map(Json::Number).unwrap_or(Json::Null),
        Json::Array(a) => Json::Array(a.into_iter().map(as_doubles).collect()),
        Json::Object(o) => Json::Object(o.into_iter().map(|(k, v)| (k, as_doubles(v))).collect()),
        other => other,
    }
}

/// A value as protojson prints it: integral doubles as integers, object keys sorted.
fn value_json(v: &Json) -> Json {
    match v {
        Json::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
                Json::from(f as i64)
            } else {
                Json::Number(n.clone())
            }
        }
        Json::Array(a) => Json::Array(a.iter().map(value_json).collect()),
        Json::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            Json::Object(keys.into_iter().map(|k| (k.clone(), value_json(&o[k]))).collect())
        }
        other => other.clone(),
    }
}

/// Compact protojson text of a value (what `filterDebug` prints).
fn write_value_text(v: &Json, out: &mut String) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(&crate::cel::planning::json_number(n.as_f64().unwrap_or(0.0))),
        Json::String(s) => out.push_str(&serde_json::to_string(s).unwrap_or_default()),
        Json::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value_text(e, out);
            }
            out.push(']');
        }
        Json::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push(':');
                write_value_text(&o[k], out);
            }
            out.push('}');
        }
    }
}

/// Cerbos's `ExpandAbbrev`: `R.` -> `request.resource.`, `P.` -> `request.principal.`,
/// `V.`/`C.`/`G.` -> `variables.`/`constants.`/`globals.`.
pub fn expand_abbrev(s: &str) -> String {
    let (prefix, rest) = match s.split_once('.') {
        Some((p, r)) => (p, Some(r)),
        None => (s, None),
    };
    let expanded = match prefix {
        "P" => "request.principal",
        "R" => "request.resource",
        "C" => "constants",
        "V" => "variables",
        "G" => "globals",
        other => other,
    };
    match rest {
        Some(r) => format!("{expanded}.{r}"),
        None => expanded.to_owned(),
    }
}

/// Cerbos's `normaliseFilter`: simplifies the condition (literal booleans in `and`/`or`/`not`,
/// repeated operands, `in` over empty or one-element containers, abbreviated variables) and
/// turns a condition that is a literal boolean into an `ALWAYS_*` kind.
pub fn normalise(filter: Filter) -> Filter {
    normalise_as(filter, Normalisation::Cerbos)
}

/// Which normalisation: Cerbos's, or the one of exact plans, which keeps `in` over a value that
/// is no container (Cerbos's `eq` there holds where `check`'s `in` fails).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Normalisation {
    Cerbos,
    Exact,
}

/// [`normalise`] as `how` says.
pub(crate) fn normalise_as(filter: Filter, how: Normalisation) -> Filter {
    let Some(cond) = filter.condition.and_then(|c| normalise_operand(c, how)) else {
        return Filter { kind: FilterKind::AlwaysAllowed, condition: None };
    };
    match cond.as_bool() {
        Some(true) => Filter { kind: FilterKind::AlwaysAllowed, condition: None },
        Some(false) => Filter { kind: FilterKind::AlwaysDenied, condition: None },
        None => Filter { kind: filter.kind, condition: Some(cond) },
    }
}

fn normalise_operand(op: Operand, how: Normalisation) -> Option<Operand> {
    match op {
        Operand::Expression(e) => normalise_expression(e, how),
        Operand::Value(v) => Some(Operand::Value(v)),
        Operand::Variable(s) => Some(Operand::Variable(expand_abbrev(&s))),
    }
}

fn normalise_expression(mut e: Expression, how: Normalisation) -> Option<Operand> {
    if e.operator == "in" && e.operands.len() == 2 {
        if let Some(folded) = normalise_in(&mut e, how) {
            return Some(folded);
        }
    }
    let logical = matches!(e.operator.as_str(), "and" | "or" | "not");
    let (is_and, is_or) = (e.operator == "and", e.operator == "or");
    let mut seen: Vec<Operand> = Vec::new();
    let mut operands = Vec::with_capacity(e.operands.len());
    for op in std::mem::take(&mut e.operands) {
        let Some(normal) = normalise_operand(op.clone(), how) else { continue };
        if logical {
            match (normal.as_bool(), is_and, is_or) {
                (Some(true), true, _) | (Some(false), _, true) => continue,
                (Some(false), true, _) => return Some(Operand::bool(false)),
                (Some(true), _, true) => return Some(Operand::bool(true)),
                _ => {}
            }
        }
        // Repeats are found on the operands as given, before their own normalisation (as Cerbos does).
        if is_and || is_or {
            if seen.contains(&op) {
                continue;
            }
            seen.push(op);
        }
        operands.push(normal);
    }
    if logical {
        match operands.len() {
            0 if is_and => return Some(Operand::bool(true)),
            0 if is_or => return Some(Operand::bool(false)),
            0 => return None,
            1 if is_and || is_or => return operands.pop(),
            1 => {
                if let Some(b) = operands[0].as_bool() {
                    return Some(Operand::bool(!b));
                }
            }
            _ => {}
        }
    }
    e.operands = operands;
    Some(Operand::Expression(e))
}

/// `x in []` / `x in {}` is false; one-element containers become `eq`; `in` over a value that
/// is no container becomes `eq`. Returns the replacement when the whole expression folds.
fn normalise_in(e: &mut Expression, how: Normalisation) -> Option<Operand> {
    let Operand::Value(v) = &e.operands[1] else { return None };
    match v {
        Json::Object(m) => match m.len() {
            0 => return Some(Operand::bool(false)),
            1 => {
                let key = m.keys().next().cloned().unwrap_or_default();
                e.operator = "eq".into();
                e.operands[1] = Operand::Value(Json::String(key));
            }
            _ => {}
        },
        Json::Array(a) => match a.len() {
            0 => return Some(Operand::bool(false)),
            1 => {
                let only = a[0].clone();
                e.operator = "eq".into();
                e.operands[1] = Operand::Value(only);
            }
            _ => {}
        },
        _ if how == Normalisation::Exact => {}
        _ => e.operator = "eq".into(),
    }
    None
}

/// Cerbos's `MergeWithAnd`: the filters of several actions ANDed. Any always-denied filter
/// denies all; always-allowed ones drop out; identical conditions count once; the rest are
/// ordered by their text. Returns the filter and its `filterDebug` text.
pub fn merge_with_and(filters: Vec<Filter>) -> (Filter, String) {
    let mut conds: std::collections::BTreeMap<String, Operand> = std::collections::BTreeMap::new();
    for f in filters {
        match f.kind {
            FilterKind::AlwaysAllowed => {}
            FilterKind::AlwaysDenied => {
                let text = f.debug_string();
                return (Filter::always_denied(), text);
            }
            FilterKind::Conditional => {
                let text = f.debug_string();
                if let Some(c) = f.condition {
                    conds.insert(text, c);
                }
            }
        }
    }
    let merged = match conds.len() {
        0 => Filter { kind: FilterKind::AlwaysAllowed, condition: None },
        1 => Filter { kind: FilterKind::Conditional, condition: conds.into_values().next() },
        _ => Filter { kind: FilterKind::Conditional, condition: Some(Operand::expr("and", conds.into_values().collect())) },
    };
    let text = merged.debug_string();
    (merged, text)
}

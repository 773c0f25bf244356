//! A residual CEL expression as filter operands (Cerbos's `buildExpr` and `buildLambdaAST`):
//! calls become expressions named after the operator or function, literals values, attribute
//! paths variables, comprehensions `all`/`exists`/`map`/... over a `lambda`.
use base64::Engine as _;
use cel::common::ast::{operators, CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedExpr, LiteralValue};
use serde_json::Value as Json;

use super::expr::{call_operands, list, lit_str, sort_key};
use super::filter::Operand;
use crate::cel::planning::{
    DISTINCT, HAS_FIELD, INDEX_OF, JOIN, LAST_INDEX_OF, MAP_INSERT, MATCHES, RANGE, REPLACE, SPLIT, TIME_SINCE, TO_DURATION, TO_STRING, TO_TIMESTAMP,
};

/// cel-go's name for the map insertion of the two-variable `transformMap*` macros.
const CEL_MAP_INSERT: &str = "cel.@mapInsert";
const SORT_BY_KEYS: &str = "@sortByAssociatedKeys";

/// Cerbos's operator name for a CEL function (`opFromCLE`); other functions keep their names.
fn operator_name(func: &str) -> &str {
    match func {
        operators::EQUALS => "eq",
        operators::NOT_EQUALS => "ne",
        operators::GREATER => "gt",
        operators::GREATER_EQUALS => "ge",
        operators::LESS => "lt",
        operators::LESS_EQUALS => "le",
        operators::IN => "in",
        operators::ADD => "add",
        operators::SUBSTRACT => "sub",
        operators::MULTIPLY => "mult",
        operators::DIVIDE => "div",
        operators::MODULO => "mod",
        operators::INDEX => "index",
        operators::LOGICAL_AND => "and",
        operators::LOGICAL_OR => "or",
        operators::LOGICAL_NOT => "not",
        operators::CONDITIONAL => "if",
        // The compile step's names for calls it rewrites (src/cel/compile.rs), as written.
        TO_TIMESTAMP => "timestamp",
        TO_DURATION => "duration",
        TO_STRING => "string",
        MATCHES => "matches",
        INDEX_OF => "indexOf",
        LAST_INDEX_OF => "lastIndexOf",
        TIME_SINCE => "timeSince",
        MAP_INSERT => CEL_MAP_INSERT,
        JOIN => "join",
        REPLACE => "replace",
        SPLIT => "split",
        DISTINCT => "distinct",
        RANGE => "lists.range",
        other => other,
    }
}

/// Converts a residual expression to an operand.
pub(crate) fn build(e: &IdedExpr) -> Result<Operand, String> {
    build_in(e, false)
}

/// `rhs_of_in`: `e` is the right-hand side of `in`, where a map stands for its keys.
fn build_in(e: &IdedExpr, rhs_of_in: bool) -> Result<Operand, String> {
    Ok(match &e.expr {
        Expr::Call(c) => build_call(c)?,
        Expr::Literal(l) => Operand::value(literal_json(l)),
        Expr::Ident(name) => Operand::Variable(name.clone()),
        Expr::Select(s) if s.test => Operand::bool(true),
        Expr::Select(s) => match path(e) {
            Some(p) => Operand::Variable(p),
            None => Operand::expr("get-field", vec![build(&s.operand)?, Operand::Variable(s.field.clone())]),
        },
        Expr::List(l) => {
            let values: Option<Vec<Json>> = l
                .elements
                .iter()
                .map(|el| match &el.expr {
                    Expr::Literal(lit) => Some(literal_json(lit)),
                    _ => None,
                })
                .collect();
            match values {
                Some(v) => Operand::value(Json::Array(v)),
                None => Operand::expr("list", l.elements.iter().map(build).collect::<Result<_, _>>()?),
            }
        }
        Expr::Map(_) | Expr::Struct(_) if rhs_of_in => build(&list(struct_keys(e)))?,
        Expr::Map(m) => Operand::expr("struct", m.entries.iter().map(|en| set_field(&en.expr)).collect::<Result<_, _>>()?),
        Expr::Struct(s) => Operand::expr("struct", s.entries.iter().map(|en| set_field(&en.expr)).collect::<Result<_, _>>()?),
        Expr::Comprehension(c) => Lambda::of(c)?.operand()?,
        Expr::Unspecified => return Err("buildExpr: unsupported expression".into()),
    })
}

fn build_call(c: &CallExpr) -> Result<Operand, String> {
    match c.func_name.as_str() {
        // `has(x.f)`: Cerbos writes a presence test as `true`.
        HAS_FIELD => return Ok(Operand::bool(true)),
        // `timeSince(t)` reads now() through a second argument after the rewrite.
        TIME_SINCE if c.target.is_none() && c.args.len() == 2 => return Ok(Operand::expr("timeSince", vec![build(&c.args[0])?])),
        _ => {}
    }
    let in_op = c.func_name == operators::IN && c.target.is_none() && c.args.len() == 2;
    let operands = call_operands(c).enumerate().map(|(i, a)| build_in(a, in_op && i == 1)).collect::<Result<Vec<_>, _>>()?;
    Ok(Operand::expr(operator_name(&c.func_name), operands))
}

fn set_field(entry: &EntryExpr) -> Result<Operand, String> {
    let (k, v) = match entry {
        EntryExpr::MapEntry(me) => (build(&me.key)?, build(&me.value)?),
        EntryExpr::StructField(f) => (Operand::value(Json::String(f.field.clone())), build(&f.value)?),
    };
    Ok(Operand::expr("set-field", vec![k, v]))
}

/// The keys of a map literal, ordered as Cerbos orders them (`structKeys`).
fn struct_keys(e: &IdedExpr) -> Vec<IdedExpr> {
    let entries = match &e.expr {
        Expr::Map(m) => &m.entries,
        Expr::Struct(s) => &s.entries,
        _ => return Vec::new(),
    };
    let mut keys: Vec<(String, IdedExpr)> = entries
        .iter()
        .map(|en| match &en.expr {
            EntryExpr::MapEntry(me) => me.key.clone(),
            EntryExpr::StructField(f) => lit_str(&f.field),
        })
        .map(|k| (sort_key(&k), k))
        .collect();
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    keys.into_iter().map(|(_, k)| k).collect()
}

/// `a.b.c` as one name, when the chain ends in an identifier.
fn path(e: &IdedExpr) -> Option<String> {
    match &e.expr {
        Expr::Ident(n) => Some(n.clone()),
        Expr::Select(s) if !s.test => Some(format!("{}.{}", path(&s.operand)?, s.field)),
        _ => None,
    }
}

/// A literal as a `google.protobuf.Value` (bytes as base64, as `structpb.NewValue` does).
fn literal_json(l: &LiteralValue) -> Json {
    match l {
        LiteralValue::Boolean(b) => Json::Bool(*b.inner()),
        LiteralValue::Bytes(b) => Json::String(base64::engine::general_purpose::STANDARD.encode(b.inner())),
        LiteralValue::Double(d) => serde_json::Number::from_f64(*d.inner()).map(Json::Number).unwrap_or(Json::Null),
        LiteralValue::Int(i) => Json::from(*i.inner()),
        LiteralValue::UInt(u) => Json::from(*u.inner()),
        LiteralValue::Null => Json::Null,
        LiteralValue::String(s) => Json::String(s.inner().to_owned()),
    }
}

/// A comprehension read back as the macro that produced it (Cerbos's `lambdaAST`).
struct Lambda<'a> {
    operator: &'static str,
    iter_range: &'a IdedExpr,
    expr: &'a IdedExpr,
    expr2: Option<&'a IdedExpr>,
    iter_var: &'a str,
    iter_var2: Option<&'a str>,
}

fn arg(e: &IdedExpr, i: usize) -> Option<&IdedExpr> {
    match &e.expr {
        Expr::Call(c) => c.args.get(i),
        _ => None,
    }
}

fn list_element(e: &IdedExpr, i: usize) -> Option<&IdedExpr> {
    match &e.expr {
        Expr::List(l) => l.elements.get(i),
        _ => None,
    }
}

fn args_len(e: &IdedExpr) -> usize {
    match &e.expr {
        Expr::Call(c) => c.args.len(),
        _ => 0,
    }
}

fn unexpected(c: &ComprehensionExpr) -> String {
    format!("unexpected comprehension over {}", c.iter_var)
}

/// `cel.@mapInsert(accu, k, v)` is `transformMap`, `cel.@mapInsert(accu, entry)` `transformMapEntry`.
fn transform_map(insert: &IdedExpr) -> Result<(&'static str, &IdedExpr), String> {
    let n = args_len(insert);
    let op = match n {
        3 => "transformMap",
        2 => "transformMapEntry",
        _ => return Err(format!("unexpected args #, got: {n}")),
    };
    Ok((op, arg(insert, n - 1).ok_or("unexpected map insertion")?))
}

impl<'a> Lambda<'a> {
    fn of(c: &'a ComprehensionExpr) -> Result<Lambda<'a>, String> {
        let func = match &c.loop_step.expr {
            Expr::Call(call) => call.func_name.as_str(),
            Expr::Ident(_) => return Lambda::sort_by(c),
            _ => return Err("expected loop-step expression type CallExpr".into()),
        };
        let step = &c.loop_step;
        let mut l = Lambda { operator: "", iter_range: &c.iter_range, expr: step, expr2: None, iter_var: &c.iter_var, iter_var2: c.iter_var2.as_deref() };
        match func {
            operators::LOGICAL_AND => {
                l.operator = "all";
                l.expr = arg(step, 1).ok_or_else(|| unexpected(c))?;
            }
            operators::LOGICAL_OR => {
                l.operator = "exists";
                l.expr = arg(step, 1).ok_or_else(|| unexpected(c))?;
            }
            operators::ADD => {
                l.operator = if l.iter_var2.is_some() { "transformList" } else { "map" };
                l.expr = arg(step, 1).and_then(|a| list_element(a, 0)).ok_or_else(|| unexpected(c))?;
            }
            operators::CONDITIONAL => {
                match &c.accu_init.expr {
                    Expr::List(_) => match arg(step, 1).and_then(|a| arg(a, 1)).and_then(|a| list_element(a, 0)) {
                        Some(e2) if matches!(e2.expr, Expr::Call(_)) => {
                            l.expr2 = Some(e2);
                            l.operator = "transformList";
                        }
                        _ => l.operator = "filter",
                    },
                    Expr::Literal(_) => l.operator = "exists_one",
                    Expr::Map(_) | Expr::Struct(_) => {
                        let (op, e2) = transform_map(arg(step, 1).ok_or_else(|| unexpected(c))?)?;
                        l.operator = op;
                        l.expr2 = Some(e2);
                    }
                    _ => return Err("expected loop-accu-init expression type ConstExpr or ListExpr".into()),
                }
                l.expr = arg(step, 0).ok_or_else(|| unexpected(c))?;
            }
            MAP_INSERT | CEL_MAP_INSERT => {
                let (op, e) = transform_map(step)?;
                l.operator = op;
                l.expr = e;
            }
            other => return Err(format!("unexpected loop-step function: {other:?}")),
        }
        Ok(l)
    }

    /// `xs.sortBy(x, key)`: a binding of `xs` whose result sorts by the keys `xs.map(x, key)`.
    fn sort_by(c: &'a ComprehensionExpr) -> Result<Lambda<'a>, String> {
        let expected = || "expected sortBy comprehension".to_owned();
        let Expr::Call(result) = &c.result.expr else { return Err(expected()) };
        let inner = match (result.func_name.as_str(), result.args.as_slice()) {
            (SORT_BY_KEYS, [only]) => match &only.expr {
                Expr::Comprehension(inner) => inner,
                _ => return Err(expected()),
            },
            _ => return Err(expected()),
        };
        let expr = arg(&inner.loop_step, 1).and_then(|a| list_element(a, 0)).ok_or_else(expected)?;
        Ok(Lambda { operator: "sortBy", iter_range: &c.accu_init, expr, expr2: None, iter_var: &inner.iter_var, iter_var2: None })
    }

    fn operand(&self) -> Result<Operand, String> {
        let mut lambda = vec![build(self.expr)?];
        if let Some(e2) = self.expr2 {
            lambda.push(build(e2)?);
        }
        lambda.push(Operand::Variable(self.iter_var.to_owned()));
        if let Some(v2) = self.iter_var2 {
            lambda.push(Operand::Variable(v2.to_owned()));
        }
        // Over a map, only the transforms see entries; the other macros iterate its keys.
        let keys_only =
            matches!(self.iter_range.expr, Expr::Map(_) | Expr::Struct(_)) && !matches!(self.operator, "transformMap" | "transformMapEntry" | "transformList");
        let target = if keys_only { build(&list(struct_keys(self.iter_range)))? } else { build(self.iter_range)? };
        Ok(Operand::expr(self.operator, vec![target, Operand::expr("lambda", lambda)]))
    }
}

/// The range, predicate and variables of an `all`/`exists` comprehension.
pub(crate) fn quantifier(c: &ComprehensionExpr) -> Option<(&'static str, &IdedExpr, &IdedExpr)> {
    let l = Lambda::of(c).ok()?;
    matches!(l.operator, "all" | "exists").then_some((l.operator, l.iter_range, l.expr))
}

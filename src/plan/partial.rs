//! Partial evaluation of a compiled condition: what the request knows is folded to values, what
//! depends on resource attributes the request does not know is kept as a residual expression.
//!
//! This is cel-go's partial evaluation as Cerbos's planner runs it (`OptPartialEval` with
//! `OptTrackState`, then `interpreter.PruneAst`), in one walk over the same compiled AST the
//! evaluator runs:
//! * a sub-expression that reads nothing unknown is evaluated whole by the evaluator
//!   (`crate::cel::planning::eval_with_locals`); a value that has a literal form replaces it;
//! * otherwise the walk follows cel-go's evaluation order and strictness (an unknown or error
//!   operand makes a call unknown or an error; `&&`, `||`, `?:` and comprehensions short-circuit
//!   as cel-go does) and applies a call to operand values it computed by handing the evaluator
//!   the call with those values bound as locals;
//! * the residual is rebuilt as cel-go's pruner rebuilds it (`maybePruneAnd`, `…Or`,
//!   `…Conditional`, `…In`; comprehensions keep everything but their range).
//!
//! Unknown: `R` and `request.resource` (and `request` as a whole), except `kind`, `scope` and
//! the resource attributes the request gives.
use cel::common::ast::{operators, CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedEntryExpr, IdedExpr, ListExpr, MapEntryExpr, MapExpr, SelectExpr};
use serde_json::{Map, Value as Json};

use super::expr::{call_operands, ident, literal};
use crate::cel::planning::{eval_with_locals, BYTES, PAIRS, STEPS};
use crate::cel::{Activation, CelValue};

/// What evaluating a node gave.
#[derive(Debug, Clone)]
pub(crate) enum St {
    Known(CelValue),
    Unknown,
    Error(String),
}

impl St {
    fn unknown_or_error(&self) -> bool {
        matches!(self, St::Unknown | St::Error(_))
    }

    fn known(&self) -> Option<&CelValue> {
        match self {
            St::Known(v) => Some(v),
            _ => None,
        }
    }

    fn known_bool(&self) -> Option<bool> {
        self.known().and_then(CelValue::as_bool)
    }
}

/// A node's value and its residual expression.
#[derive(Debug, Clone)]
pub(crate) struct Walked {
    pub st: St,
    pub expr: IdedExpr,
}

/// A variable bound by a comprehension the planner iterates, or declared unknown.
#[derive(Debug, Clone)]
pub(crate) enum Local {
    Known(CelValue),
    Unknown,
    Error(String),
}

impl From<St> for Local {
    fn from(st: St) -> Local {
        match st {
            St::Known(v) => Local::Known(v),
            St::Error(m) => Local::Error(m),
            St::Unknown => Local::Unknown,
        }
    }
}

/// The name the two-variable comprehension rewrite iterates pairs with (src/cel/compile.rs).
const PAIR_ITER: &str = "@it";
/// The variable `cel.bind` rewrites iterate nothing with.
const BIND_UNUSED: &str = "#unused";
/// Names of operand values handed to the evaluator.
const PLACEHOLDERS: [&str; 8] = ["@p0", "@p1", "@p2", "@p3", "@p4", "@p5", "@p6", "@p7"];

pub(crate) struct Partial<'a> {
    act: &'a Activation<'a>,
    known_attrs: &'a Map<String, Json>,
    locals: Vec<(String, Local)>,
}

impl<'a> Partial<'a> {
    /// `act` holds the request (with the known resource attributes), constants and globals.
    pub(crate) fn new(act: &'a Activation<'a>, known_attrs: &'a Map<String, Json>) -> Partial<'a> {
        Partial { act, known_attrs, locals: Vec::new() }
    }

    pub(crate) fn push_local(&mut self, name: &str, l: Local) {
        self.locals.push((name.to_owned(), l));
    }

    pub(crate) fn pop_local(&mut self) {
        self.locals.pop();
    }

    fn local(&self, name: &str) -> Option<&Local> {
        self.locals.iter().rev().find(|(n, _)| n == name).map(|(_, l)| l)
    }

    /// Whether an attribute path reads the part of the request that is unknown.
    fn unknown_attr(&self, name: &str) -> bool {
        let rest = if name == "R" || name == "request" || name == "request.resource" {
            return true;
        } else if let Some(r) = name.strip_prefix("R.") {
            r
        } else if let Some(r) = name.strip_prefix("request.resource.") {
            r
        } else {
            return false;
        };
        let mut segs = rest.split('.');
        match segs.next() {
            Some("kind" | "scope") => false,
            Some("attr") => !segs.next().is_some_and(|k| self.known_attrs.contains_key(k)),
            _ => true,
        }
    }

    /// Whether `e` can be evaluated as it is: it reads nothing unknown.
    fn closed(&self, e: &IdedExpr, bound: &mut Vec<String>) -> bool {
        match &e.expr {
            Expr::Ident(n) => {
                if bound.iter().any(|b| b == n) {
                    return true;
                }
                match self.local(n) {
                    Some(l) => matches!(l, Local::Known(_)),
                    None => !self.unknown_attr(n),
                }
            }
            Expr::Literal(_) | Expr::Struct(_) | Expr::Unspecified => true,
            Expr::Select(s) => self.closed(&s.operand, bound),
            Expr::Call(c) => call_operands(c).all(|a| self.closed(a, bound)),
            Expr::List(l) => l.elements.iter().all(|x| self.closed(x, bound)),
            Expr::Map(m) => m.entries.iter().all(|en| match &en.expr {
                EntryExpr::MapEntry(me) => self.closed(&me.key, bound) && self.closed(&me.value, bound),
                EntryExpr::StructField(f) => self.closed(&f.value, bound),
            }),
            Expr::Comprehension(c) => {
                // The evaluator runs single-variable comprehensions only; two-variable ones are walked.
                if c.iter_var2.is_some() || !self.closed(&c.iter_range, bound) || !self.closed(&c.accu_init, bound) {
                    return false;
                }
                bound.push(c.iter_var.clone());
                bound.push(c.accu_var.clone());
                let inner = self.closed(&c.loop_cond, bound) && self.closed(&c.loop_step, bound) && self.closed(&c.result, bound);
                bound.truncate(bound.len() - 2);
                inner
            }
        }
    }

    fn eval(&self, e: &IdedExpr, extra: &[(&str, &CelValue)]) -> St {
        let mut locals: Vec<(&str, &CelValue)> = self
            .locals
            .iter()
            .filter_map(|(n, l)| match l {
                Local::Known(v) => Some((n.as_str(), v)),
                _ => None,
            })
            .collect();
        locals.extend_from_slice(extra);
        match eval_with_locals(e, self.act, &locals) {
            Ok(v) => St::Known(v),
            Err(err) => St::Error(err.message),
        }
    }

    /// Evaluates `e` with its direct operands replaced by the values already computed for them.
    fn apply(&self, e: &IdedExpr, values: &[&CelValue]) -> St {
        if values.len() > PLACEHOLDERS.len() {
            // Rare (calls with many operands): evaluate the node whole; its operands are closed.
            return self.eval(e, &[]);
        }
        let mut next = 0;
        let mut slot = || {
            let p = ident(PLACEHOLDERS[next]);
            next += 1;
            p
        };
        let shallow = match &e.expr {
            Expr::Call(c) => {
                let target = c.target.as_ref().map(|_| Box::new(slot()));
                let args = c.args.iter().map(|_| slot()).collect();
                Expr::Call(CallExpr { func_name: c.func_name.clone(), target, args })
            }
            Expr::Select(s) => Expr::Select(SelectExpr { operand: Box::new(slot()), field: s.field.clone(), test: s.test }),
            Expr::List(l) => Expr::List(ListExpr::new_with_optionals(l.elements.iter().map(|_| slot()).collect(), l.optional_indices.clone())),
            Expr::Map(m) => Expr::Map(MapExpr {
                entries: m
                    .entries
                    .iter()
                    .map(|en| {
                        let optional = matches!(&en.expr, EntryExpr::MapEntry(me) if me.optional);
                        let (key, value) = (slot(), slot());
                        IdedEntryExpr { id: 0, expr: EntryExpr::MapEntry(MapEntryExpr { key, value, optional }) }
                    })
                    .collect(),
            }),
            _ => return self.eval(e, &[]),
        };
        let extra: Vec<(&str, &CelValue)> = PLACEHOLDERS.iter().copied().zip(values.iter().copied()).collect();
        self.eval(&IdedExpr { id: e.id, expr: shallow }, &extra)
    }

    /// Partially evaluates `e`.
    pub(crate) fn walk(&mut self, e: &IdedExpr) -> Walked {
        if !matches!(e.expr, Expr::Ident(_)) && self.closed(e, &mut Vec::new()) {
            if let St::Known(v) = self.eval(e, &[]) {
                if let Some(lit) = literal(&v) {
                    return Walked { st: St::Known(v), expr: lit };
                }
            }
        }
        self.walk_open(e)
    }

    fn walk_open(&mut self, e: &IdedExpr) -> Walked {
        match &e.expr {
            Expr::Ident(name) => {
                let st = match self.local(name) {
                    Some(Local::Known(v)) => St::Known(v.clone()),
                    Some(Local::Unknown) => St::Unknown,
                    Some(Local::Error(m)) => St::Error(m.clone()),
                    None if self.unknown_attr(name) => St::Unknown,
                    None => self.eval(e, &[]),
                };
                finish(st, e.clone())
            }
            Expr::Literal(_) => finish(self.eval(e, &[]), e.clone()),
            Expr::Select(s) => {
                let w = self.walk(&s.operand);
                let st = match &w.st {
                    St::Known(v) => self.apply(e, &[v]),
                    other => other.clone(),
                };
                finish(st, IdedExpr { id: e.id, expr: Expr::Select(SelectExpr { operand: Box::new(w.expr), field: s.field.clone(), test: s.test }) })
            }
            Expr::Call(c) => self.walk_call(e, c),
            Expr::List(l) => {
                let (walked, st) = self.walk_strict(l.elements.iter());
                let st = st.unwrap_or_else(|| self.apply(e, &walked.iter().filter_map(|w| w.st.known()).collect::<Vec<_>>()));
                let elements = l.elements.iter().enumerate().map(|(i, el)| walked.get(i).map_or_else(|| el.clone(), |w| w.expr.clone())).collect();
                finish(st, IdedExpr { id: e.id, expr: Expr::List(ListExpr::new_with_optionals(elements, l.optional_indices.clone())) })
            }
            Expr::Map(m) => {
                if m.entries.iter().any(|en| !matches!(en.expr, EntryExpr::MapEntry(_))) {
                    return Walked { st: St::Error("unsupported map entry".into()), expr: e.clone() };
                }
                let parts = m.entries.iter().flat_map(|en| match &en.expr {
                    EntryExpr::MapEntry(me) => vec![&me.key, &me.value],
                    EntryExpr::StructField(_) => vec![],
                });
                let (walked, st) = self.walk_strict(parts);
                let st = st.unwrap_or_else(|| self.apply(e, &walked.iter().filter_map(|w| w.st.known()).collect::<Vec<_>>()));
                let mut parts = walked.into_iter().map(|w| w.expr);
                let entries = m
                    .entries
                    .iter()
                    .map(|en| match &en.expr {
                        EntryExpr::MapEntry(me) => {
                            let key = parts.next().unwrap_or_else(|| me.key.clone());
                            let value = parts.next().unwrap_or_else(|| me.value.clone());
                            IdedEntryExpr { id: en.id, expr: EntryExpr::MapEntry(MapEntryExpr { key, value, optional: me.optional }) }
                        }
                        EntryExpr::StructField(_) => en.clone(),
                    })
                    .collect();
                finish(st, IdedExpr { id: e.id, expr: Expr::Map(MapExpr { entries }) })
            }
            Expr::Comprehension(c) => match two_var_native(c) {
                Some(native) => self.walk_comprehension(e.id, &native),
                None => self.walk_comprehension(e.id, c),
            },
            Expr::Struct(_) | Expr::Unspecified => Walked { st: St::Error("unsupported expression".into()), expr: e.clone() },
        }
    }

    fn walk_call(&mut self, e: &IdedExpr, c: &CallExpr) -> Walked {
        if c.target.is_none() {
            match (c.func_name.as_str(), c.args.len()) {
                (operators::LOGICAL_AND, 2) => return self.walk_logical(e, c, true),
                (operators::LOGICAL_OR, 2) => return self.walk_logical(e, c, false),
                (operators::CONDITIONAL, 3) => return self.walk_conditional(e, c),
                (operators::NOT_STRICTLY_FALSE, 1) => {
                    // Not strict: anything but `false` (unknowns, errors) counts as true.
                    let w = self.walk(&c.args[0]);
                    let st = St::Known(CelValue::from(w.st.known_bool().unwrap_or(true)));
                    return finish(st, rebuild_call(e, c, vec![Some(w.expr)]));
                }
                _ => {}
            }
        }
        // Strict (cel-go >= 0.30): operands left to right; an error ends the evaluation and is
        // the result; otherwise any unknown operand makes the call unknown.
        let operands: Vec<&IdedExpr> = call_operands(c).collect();
        let (walked, st) = self.walk_strict(operands.iter().copied());
        let st = st.unwrap_or_else(|| self.apply(e, &walked.iter().filter_map(|w| w.st.known()).collect::<Vec<_>>()));
        // cel-go's `maybePruneIn`: `x in <empty container>` is false even with `x` unknown.
        let in_empty =
            c.func_name == operators::IN && c.target.is_none() && operands.len() == 2 && walked.get(1).and_then(|w| w.st.known()).is_some_and(is_empty);
        if in_empty && st.unknown_or_error() {
            return Walked { st, expr: super::expr::lit_bool(false) };
        }
        let parts = (0..operands.len()).map(|i| walked.get(i).map(|w| w.expr.clone())).collect();
        finish(st, rebuild_call(e, c, parts))
    }

    /// Operands of a strict call, list or map, left to right: an error stops the walk and is the
    /// state; otherwise any unknown is. `None`: all known.
    fn walk_strict<'e>(&mut self, operands: impl Iterator<Item = &'e IdedExpr>) -> (Vec<Walked>, Option<St>) {
        let mut walked = Vec::new();
        let mut unknown = false;
        for op in operands {
            let w = self.walk(op);
            match &w.st {
                St::Error(_) => {
                    let st = w.st.clone();
                    walked.push(w);
                    return (walked, Some(st));
                }
                St::Unknown => unknown = true,
                St::Known(_) => {}
            }
            walked.push(w);
        }
        (walked, unknown.then_some(St::Unknown))
    }

    /// `&&` (`is_and`) and `||`: a deciding operand ends the evaluation; otherwise unknowns win
    /// over errors. The residual drops an operand that is known and does not decide.
    fn walk_logical(&mut self, e: &IdedExpr, c: &CallExpr, is_and: bool) -> Walked {
        let decisive = !is_and;
        let mut walked: Vec<Walked> = Vec::with_capacity(2);
        let mut decided = false;
        for a in &c.args {
            let w = self.walk(a);
            decided = w.st.known_bool() == Some(decisive);
            walked.push(w);
            if decided {
                break;
            }
        }
        let st = if decided {
            St::Known(CelValue::from(decisive))
        } else if walked.iter().any(|w| matches!(w.st, St::Unknown)) {
            St::Unknown
        } else if let Some(err) = walked.iter().find_map(|w| match &w.st {
            St::Error(m) => Some(m.clone()),
            St::Known(v) if v.as_bool().is_none() => Some("no such overload".to_owned()),
            _ => None,
        }) {
            St::Error(err)
        } else {
            St::Known(CelValue::from(is_and))
        };
        if st.known().is_some() {
            return finish(st, e.clone());
        }
        // Both operands were evaluated here (no decision); one known operand is dropped.
        for (known, other) in [(0, 1), (1, 0)] {
            if let Some(v) = walked[known].st.known() {
                let expr = if v.as_bool() == Some(decisive) { super::expr::lit_bool(decisive) } else { walked[other].expr.clone() };
                return Walked { st, expr };
            }
        }
        let parts = walked.into_iter().map(|w| Some(w.expr)).collect();
        Walked { st, expr: rebuild_call(e, c, parts) }
    }

    /// `c ? a : b`: only the chosen branch is evaluated; an unknown condition leaves both as written.
    fn walk_conditional(&mut self, e: &IdedExpr, c: &CallExpr) -> Walked {
        let cond = self.walk(&c.args[0]);
        let (st, branch) = match &cond.st {
            St::Known(v) => match v.as_bool() {
                Some(b) => {
                    let i = if b { 1 } else { 2 };
                    let w = self.walk(&c.args[i]);
                    (w.st.clone(), Some((i, w)))
                }
                None => (St::Error("no such overload".into()), None),
            },
            other => (other.clone(), None),
        };
        if let (Some((_, w)), true) = (&branch, cond.st.known_bool().is_some()) {
            // cel-go's `maybePruneConditional`: the chosen branch replaces the call.
            return finish(st, w.expr.clone());
        }
        let parts = vec![Some(cond.expr), None, None];
        finish(st, rebuild_call(e, c, parts))
    }

    /// A comprehension: the range first; over a known range the planner iterates itself, binding
    /// the variables as locals. The residual keeps everything but the (pruned) range as written.
    fn walk_comprehension(&mut self, id: u64, c: &ComprehensionExpr) -> Walked {
        let range = self.walk(&c.iter_range);
        let st = match &range.st {
            St::Known(v) => self.fold(c, v),
            other => other.clone(),
        };
        let mut residual = c.clone();
        residual.iter_range = range.expr;
        finish(st, IdedExpr { id, expr: Expr::Comprehension(Box::new(residual)) })
    }

    fn fold(&mut self, c: &ComprehensionExpr, range: &CelValue) -> St {
        let Some(items) = iteration_items(range, c.iter_var2.is_some()) else {
            return St::Error(format!("got '{}', expected iterable type", range.type_name()));
        };
        let mut accu: Local = self.walk(&c.accu_init).st.into();
        for (first, second) in items {
            self.push_local(&c.iter_var, Local::Known(first));
            let pushed = match (&c.iter_var2, second) {
                (Some(v2), Some(value)) => {
                    self.push_local(v2, Local::Known(value));
                    3
                }
                _ => 2,
            };
            self.push_local(&c.accu_var, accu.clone());
            let go_on = self.walk(&c.loop_cond).st.known_bool() != Some(false);
            if go_on {
                accu = self.walk(&c.loop_step).st.into();
            }
            for _ in 0..pushed {
                self.pop_local();
            }
            if !go_on {
                break;
            }
        }
        self.push_local(&c.accu_var, accu);
        let st = self.walk(&c.result).st;
        self.pop_local();
        st
    }
}

/// The node's residual: its value's literal when it has one, else the rebuilt expression.
fn finish(st: St, rebuilt: IdedExpr) -> Walked {
    if let St::Known(v) = &st {
        if let Some(lit) = literal(v) {
            return Walked { st, expr: lit };
        }
    }
    Walked { st, expr: rebuilt }
}

/// `e` (a call) with its operands replaced where given (receiver first).
fn rebuild_call(e: &IdedExpr, c: &CallExpr, parts: Vec<Option<IdedExpr>>) -> IdedExpr {
    let mut parts = parts.into_iter();
    let mut next = |orig: &IdedExpr| parts.next().flatten().unwrap_or_else(|| orig.clone());
    let target = c.target.as_deref().map(|t| Box::new(next(t)));
    let args = c.args.iter().map(&mut next).collect();
    IdedExpr { id: e.id, expr: Expr::Call(CallExpr { func_name: c.func_name.clone(), target, args }) }
}

fn is_empty(v: &CelValue) -> bool {
    match v.to_cel_value() {
        Ok(cel::Value::List(l)) => l.is_empty(),
        Ok(cel::Value::Map(m)) => m.map.is_empty(),
        Ok(cel::Value::String(s)) => s.is_empty(),
        Ok(cel::Value::Bytes(b)) => b.is_empty(),
        _ => false,
    }
}

/// What a comprehension iterates: list elements (with their index as the first variable of a
/// two-variable comprehension), or map keys (with their values). Map keys in sorted order.
fn iteration_items(range: &CelValue, two: bool) -> Option<Vec<(CelValue, Option<CelValue>)>> {
    let to = |v: cel::Value| CelValue::from_cel_value(v).ok();
    match range.to_cel_value().ok()? {
        cel::Value::List(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let v = to(v.clone())?;
                Some(if two { (CelValue::from(i as i64), Some(v)) } else { (v, None) })
            })
            .collect(),
        cel::Value::Map(m) => {
            let mut entries: Vec<(&cel::objects::Key, &cel::Value)> = m.map.iter().collect();
            entries.sort_by_key(|(k, _)| key_order(k));
            entries
                .into_iter()
                .map(|(k, v)| {
                    let key = to(key_value(k))?;
                    Some((key, if two { Some(to(v.clone())?) } else { None }))
                })
                .collect()
        }
        _ => None,
    }
}

fn key_value(k: &cel::objects::Key) -> cel::Value {
    match k {
        cel::objects::Key::Int(i) => cel::Value::Int(*i),
        cel::objects::Key::Uint(u) => cel::Value::UInt(*u),
        cel::objects::Key::Bool(b) => cel::Value::Bool(*b),
        cel::objects::Key::String(s) => cel::Value::String(s.clone()),
    }
}

fn key_order(k: &cel::objects::Key) -> (u8, String) {
    match k {
        cel::objects::Key::Bool(b) => (0, b.to_string()),
        cel::objects::Key::Int(i) => (1, format!("{i:020}")),
        cel::objects::Key::Uint(u) => (2, format!("{u:020}")),
        cel::objects::Key::String(s) => (3, s.to_string()),
    }
}

/// `e` without the identity calls that charge the evaluation budget (`@steps(x)`, `@bytes(x)`).
pub(crate) fn unwrap_budget(mut e: &IdedExpr) -> &IdedExpr {
    while let Expr::Call(c) = &e.expr {
        if c.target.is_some() || c.args.len() != 1 || (c.func_name != STEPS && c.func_name != BYTES) {
            break;
        }
        e = &c.args[0];
    }
    e
}

/// A residual without the budget's identity calls, which mean nothing to a filter.
pub(crate) fn strip_budget(e: IdedExpr) -> IdedExpr {
    let expr = match e.expr {
        Expr::Call(c) if c.target.is_none() && c.args.len() == 1 && (c.func_name == STEPS || c.func_name == BYTES) => {
            return strip_budget(c.args.into_iter().next().unwrap_or_default());
        }
        Expr::Call(c) => Expr::Call(CallExpr {
            func_name: c.func_name,
            target: c.target.map(|t| Box::new(strip_budget(*t))),
            args: c.args.into_iter().map(strip_budget).collect(),
        }),
        Expr::Select(sel) => Expr::Select(SelectExpr { operand: Box::new(strip_budget(*sel.operand)), field: sel.field, test: sel.test }),
        Expr::List(l) => Expr::List(ListExpr::new_with_optionals(l.elements.into_iter().map(strip_budget).collect(), l.optional_indices)),
        Expr::Map(m) => Expr::Map(MapExpr {
            entries: m
                .entries
                .into_iter()
                .map(|en| IdedEntryExpr {
                    id: en.id,
                    expr: match en.expr {
                        EntryExpr::MapEntry(me) => {
                            EntryExpr::MapEntry(MapEntryExpr { key: strip_budget(me.key), value: strip_budget(me.value), optional: me.optional })
                        }
                        other => other,
                    },
                })
                .collect(),
        }),
        Expr::Comprehension(c) => {
            let c = *c;
            Expr::Comprehension(Box::new(ComprehensionExpr {
                iter_range: strip_budget(c.iter_range),
                accu_init: strip_budget(c.accu_init),
                loop_cond: strip_budget(c.loop_cond),
                loop_step: strip_budget(c.loop_step),
                result: strip_budget(c.result),
                ..c
            }))
        }
        other => other,
    };
    IdedExpr { id: e.id, expr }
}

/// Reads the compile step's rewrite of a two-variable comprehension (`@pairs(t)` iterated as
/// `@it`, the variables bound from `@it[0]`, `@it[1]` around each use) back as cel-go's macro:
/// a comprehension over `t` with two iteration variables.
pub(crate) fn two_var_native(c: &ComprehensionExpr) -> Option<ComprehensionExpr> {
    if c.iter_var != PAIR_ITER || c.iter_var2.is_some() {
        return None;
    }
    let Expr::Call(range) = &unwrap_budget(&c.iter_range).expr else { return None };
    if range.func_name != PAIRS || range.target.is_some() || range.args.len() != 1 {
        return None;
    }
    let (k, v) = find_pair_vars(&c.loop_step).or_else(|| find_pair_vars(&c.result))?;
    // The range keeps its budget charge, if it had one: `@steps(@pairs(t))` -> `@steps(t)`.
    let iter_range = match &c.iter_range.expr {
        Expr::Call(steps) if steps.func_name == STEPS => {
            IdedExpr { id: c.iter_range.id, expr: Expr::Call(CallExpr { func_name: STEPS.to_owned(), target: None, args: vec![range.args[0].clone()] }) }
        }
        _ => range.args[0].clone(),
    };
    Some(ComprehensionExpr {
        iter_range,
        iter_var: k,
        iter_var2: Some(v),
        accu_var: c.accu_var.clone(),
        accu_init: c.accu_init.clone(),
        loop_cond: c.loop_cond.clone(),
        loop_step: strip_pair_binds(&c.loop_step),
        result: strip_pair_binds(&c.result),
    })
}

/// `bind(k, @it[0], bind(v, @it[1], body))`: `Some((k, v, body))`.
fn pair_bind(e: &IdedExpr) -> Option<(String, String, &IdedExpr)> {
    let Expr::Comprehension(outer) = &e.expr else { return None };
    let Expr::Comprehension(inner) = &outer.result.expr else { return None };
    let is_item = |x: &IdedExpr, i: i64| match &unwrap_budget(x).expr {
        Expr::Call(c) if c.func_name == operators::INDEX && c.args.len() == 2 => {
            matches!(&c.args[0].expr, Expr::Ident(n) if n == PAIR_ITER)
                && matches!(&c.args[1].expr, Expr::Literal(cel::common::ast::LiteralValue::Int(n)) if *n.inner() == i)
        }
        _ => false,
    };
    let binds = |b: &ComprehensionExpr| b.iter_var == BIND_UNUSED && matches!(&b.iter_range.expr, Expr::List(l) if l.elements.is_empty());
    (binds(outer) && binds(inner) && is_item(&outer.accu_init, 0) && is_item(&inner.accu_init, 1))
        .then(|| (outer.accu_var.clone(), inner.accu_var.clone(), &inner.result))
}

fn find_pair_vars(e: &IdedExpr) -> Option<(String, String)> {
    if let Some((k, v, _)) = pair_bind(e) {
        return Some((k, v));
    }
    match &e.expr {
        Expr::Call(c) => call_operands(c).find_map(find_pair_vars),
        Expr::List(l) => l.elements.iter().find_map(find_pair_vars),
        Expr::Select(s) => find_pair_vars(&s.operand),
        _ => None,
    }
}

fn strip_pair_binds(e: &IdedExpr) -> IdedExpr {
    if let Some((_, _, body)) = pair_bind(e) {
        return body.clone();
    }
    match &e.expr {
        Expr::Call(c) => IdedExpr {
            id: e.id,
            expr: Expr::Call(CallExpr {
                func_name: c.func_name.clone(),
                target: c.target.as_deref().map(|t| Box::new(strip_pair_binds(t))),
                args: c.args.iter().map(strip_pair_binds).collect(),
            }),
        },
        Expr::List(l) => {
            IdedExpr { id: e.id, expr: Expr::List(ListExpr::new_with_optionals(l.elements.iter().map(strip_pair_binds).collect(), l.optional_indices.clone())) }
        }
        _ => e.clone(),
    }
}

//! A rule's condition as a plan node (Cerbos's `EvaluateCondition`): `all`/`any`/`none` folded
//! over their known parts, each expression partially evaluated, and a residual that still
//! depends on unknowns simplified as Cerbos does (`evaluateUnknown`).
use cel::common::ast::{operators, CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedEntryExpr, IdedExpr, ListExpr, MapEntryExpr, MapExpr, SelectExpr};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use std::rc::Rc;

use super::expr::{call, comprehension, only_literals, right_nested};
use super::node::Node;
use super::operand::quantifier;
use super::partial::{strip_budget, two_var_native, Local, Partial, St};
use crate::cel::planning::{metered, HAS_FIELD};
use crate::cel::{Activation, CompiledExpr};
use crate::compile::table::{Cond, Params};

/// The operator of exact plans meaning "its operand evaluates to `true`": false where it is
/// false, fails, or is not a boolean (SQL: `c IS TRUE`). It stands where `check` absorbs a
/// failure, around each condition leaf (an `expr` of a `match`).
pub const IS_TRUE: &str = "isTrue";

/// Why a condition could not be planned.
#[derive(Debug, Clone)]
pub(crate) enum CondError {
    /// Strict evaluation: the condition failed to evaluate (the action is denied).
    Strict,
    /// The planner cannot represent the condition (the whole plan fails, as in Cerbos).
    Unsupported(String),
}

/// Variables of one policy, each with the variables it reads substituted (Cerbos inlines them).
type VarExprs = Rc<Vec<(String, IdedExpr)>>;

/// What conditions of one request are planned against.
pub(crate) struct CondPlanner<'a> {
    pub(crate) request: &'a crate::cel::Request<'a>,
    pub(crate) globals: &'a crate::cel::Vars,
    pub(crate) known_attrs: &'a Map<String, Json>,
    pub(crate) strict: bool,
    /// Keep `has(R.attr.x)` as a `has` operand instead of Cerbos's `true` ([`super::PlanOptions`]).
    pub(crate) presence_tests: bool,
    /// Wrap each condition leaf in [`IS_TRUE`], as `check` counts a failed leaf false ([`super::PlanOptions::exact`]).
    pub(crate) exact: bool,
    /// CEL errors met (expression, message), as Cerbos records them.
    pub(crate) errors: Vec<(String, String)>,
    variables: HashMap<usize, VarExprs>,
}

impl<'a> CondPlanner<'a> {
    pub(crate) fn new(request: &'a crate::cel::Request<'a>, globals: &'a crate::cel::Vars, known_attrs: &'a Map<String, Json>, strict: bool) -> Self {
        CondPlanner { request, globals, known_attrs, strict, presence_tests: false, exact: false, errors: Vec::new(), variables: HashMap::new() }
    }

    fn var_exprs(&mut self, params: Option<&Params>) -> VarExprs {
        let Some(p) = params else { return Rc::default() };
        if let Some(v) = self.variables.get(&p.key) {
            return v.clone();
        }
        let mut done: Vec<(String, IdedExpr)> = Vec::with_capacity(p.variables.len());
        for (name, expr) in &p.variables {
            let e = substitute(expr.ast(), &done, None);
            done.push((name.clone(), e));
        }
        let v = Rc::new(done);
        self.variables.insert(p.key, v.clone());
        v
    }

    /// Plans a condition; `None` is an unconditional rule. `derived_roles` is what
    /// `runtime.effectiveDerivedRoles` stands for (built when first read).
    pub(crate) fn plan(
        &mut self,
        cond: Option<&Cond>,
        params: Option<&Params>,
        derived_roles: &mut dyn FnMut() -> Result<IdedExpr, CondError>,
    ) -> Result<Node, CondError> {
        let Some(cond) = cond else { return Ok(Node::bool(true)) };
        let vars = self.var_exprs(params);
        let constants = params.map(|p| &p.constants);
        self.plan_cond(cond, &vars, constants, derived_roles)
    }

    fn plan_cond(
        &mut self,
        cond: &Cond,
        vars: &VarExprs,
        constants: Option<&crate::cel::Vars>,
        drs: &mut dyn FnMut() -> Result<IdedExpr, CondError>,
    ) -> Result<Node, CondError> {
        match cond {
            Cond::Expr(e) => {
                let residual = self.plan_expr(e, vars, constants, drs)?;
                // `check` evaluates each leaf on its own: a failure or a non-boolean is false.
                let two_valued = self.exact && super::expr::as_bool_literal(&residual).is_none();
                Ok(Node::Expr(if two_valued { call(IS_TRUE, vec![residual]) } else { residual }))
            }
            Cond::Any(cs) => {
                let mut nodes = Vec::with_capacity(cs.len());
                for c in cs {
                    let n = self.plan_cond(c, vars, constants, drs)?;
                    match n.const_bool() {
                        Some(true) => return Ok(Node::bool(true)),
                        Some(false) => {}
                        None => nodes.push(n),
                    }
                }
                Ok(match nodes.len() {
                    0 => Node::bool(false),
                    1 => nodes.remove(0),
                    _ => Node::Or(nodes),
                })
            }
            Cond::All(cs) => {
                let mut nodes = Vec::with_capacity(cs.len());
                for c in cs {
                    let n = self.plan_cond(c, vars, constants, drs)?;
                    match n.const_bool() {
                        Some(false) => return Ok(Node::bool(false)),
                        Some(true) => {}
                        None => nodes.push(n),
                    }
                }
                Ok(match nodes.len() {
                    0 => Node::bool(true),
                    1 => nodes.remove(0),
                    _ => Node::And(nodes),
                })
            }
            Cond::None(cs) => {
                let mut nodes = Vec::with_capacity(cs.len());
                for c in cs {
                    let n = self.plan_cond(c, vars, constants, drs)?;
                    match n.const_bool() {
                        Some(true) => return Ok(Node::bool(false)),
                        Some(false) => {}
                        None => nodes.push(n.invert()),
                    }
                }
                Ok(match nodes.len() {
                    0 => Node::bool(true),
                    1 => nodes.remove(0),
                    _ => Node::And(nodes),
                })
            }
        }
    }

    /// Cerbos's `evaluateConditionExpression`.
    fn plan_expr(
        &mut self,
        expr: &CompiledExpr,
        vars: &VarExprs,
        constants: Option<&crate::cel::Vars>,
        drs: &mut dyn FnMut() -> Result<IdedExpr, CondError>,
    ) -> Result<IdedExpr, CondError> {
        // Most conditions read no variable and no `runtime`: they are walked as compiled.
        let e = if expr.variable_refs().is_empty() && !expr.uses_runtime() {
            std::borrow::Cow::Borrowed(expr.ast())
        } else {
            let mut runtime = |_: &str| drs();
            std::borrow::Cow::Owned(substitute_all(expr.ast(), vars, &mut runtime)?)
        };
        let act = Activation::new(self.request).with_globals(self.globals).with_runtime_error("no such attribute(s): runtime");
        let act = match constants {
            Some(c) => act.with_constants(c),
            None => act,
        };
        let mut partial = Partial::new(&act, self.known_attrs);
        // One evaluation's budget for the whole condition, as when a check evaluates it.
        let (planned, breach) = metered(expr, &act, || {
            let w = partial.walk(&e);
            match w.st {
                St::Error(message) => Err(message),
                St::Known(v) => Ok(Ok(super::expr::lit_bool(v.as_bool() == Some(true)))),
                St::Unknown => Ok(residual_simplified(&mut partial, strip_budget(w.expr))),
            }
        });
        let residual = match (breach, planned) {
            (Some(message), _) | (None, Err(message)) => {
                self.errors.push((expr.source().to_owned(), message));
                if self.strict {
                    return Err(CondError::Strict);
                }
                return Ok(super::expr::lit_bool(false));
            }
            (None, Ok(residual)) => residual,
        };
        let unsupported = |m: String| CondError::Unsupported(format!("cannot plan the condition `{}`: {m}", expr.source()));
        let residual = residual.map_err(unsupported)?;
        // A comprehension must read as one of the macros a filter can express.
        if has_comprehension(&residual) {
            super::operand::build(&residual).map_err(unsupported)?;
        }
        Ok(if self.presence_tests { presence_tests(residual) } else { residual })
    }
}

/// Replaces `V.x` by the expression of variable `x` (and `has(V.x)` too, as Cerbos's
/// `replaceVars` does), and `runtime.effectiveDerivedRoles` by `runtime`'s expression.
fn substitute(e: &IdedExpr, vars: &[(String, IdedExpr)], runtime: Option<&mut dyn FnMut(&str) -> Result<IdedExpr, CondError>>) -> IdedExpr {
    let mut none = |_: &str| Err(CondError::Unsupported(String::new()));
    let runtime: &mut dyn FnMut(&str) -> Result<IdedExpr, CondError> = match runtime {
        Some(r) => r,
        None => &mut none,
    };
    substitute_in(e, vars, runtime, false).unwrap_or_else(|_| e.clone())
}

fn substitute_all(e: &IdedExpr, vars: &[(String, IdedExpr)], runtime: &mut dyn FnMut(&str) -> Result<IdedExpr, CondError>) -> Result<IdedExpr, CondError> {
    substitute_in(e, vars, runtime, true)
}

fn variable_name(e: &IdedExpr) -> Option<&str> {
    match &e.expr {
        Expr::Ident(n) => n.strip_prefix("V.").or_else(|| n.strip_prefix("variables.")),
        Expr::Call(c) if c.func_name == HAS_FIELD && c.args.len() == 2 => match (&c.args[0].expr, &c.args[1].expr) {
            (Expr::Ident(root), Expr::Literal(cel::common::ast::LiteralValue::String(f))) if root == "V" || root == "variables" => Some(f.inner()),
            _ => None,
        },
        _ => None,
    }
}

fn substitute_in(
    e: &IdedExpr,
    vars: &[(String, IdedExpr)],
    runtime: &mut dyn FnMut(&str) -> Result<IdedExpr, CondError>,
    with_runtime: bool,
) -> Result<IdedExpr, CondError> {
    if let Some(name) = variable_name(e) {
        if let Some((_, v)) = vars.iter().find(|(n, _)| n == name) {
            return substitute_in(v, &[], runtime, with_runtime);
        }
    }
    let rec = |x: &IdedExpr, runtime: &mut dyn FnMut(&str) -> Result<IdedExpr, CondError>| substitute_in(x, vars, runtime, with_runtime);
    Ok(IdedExpr {
        id: e.id,
        expr: match &e.expr {
            Expr::Ident(n) if with_runtime && (n == "runtime.effectiveDerivedRoles" || n == "runtime.effective_derived_roles") => return runtime(n),
            Expr::Select(s) => Expr::Select(SelectExpr { operand: Box::new(rec(&s.operand, runtime)?), field: s.field.clone(), test: s.test }),
            Expr::Call(c) => Expr::Call(CallExpr {
                func_name: c.func_name.clone(),
                target: match &c.target {
                    Some(t) => Some(Box::new(rec(t, runtime)?)),
                    None => None,
                },
                args: c.args.iter().map(|a| rec(a, runtime)).collect::<Result<_, _>>()?,
            }),
            Expr::List(l) => {
                Expr::List(ListExpr::new_with_optionals(l.elements.iter().map(|x| rec(x, runtime)).collect::<Result<_, _>>()?, l.optional_indices.clone()))
            }
            Expr::Map(m) => Expr::Map(MapExpr {
                entries: m
                    .entries
                    .iter()
                    .map(|en| {
                        Ok(IdedEntryExpr {
                            id: en.id,
                            expr: match &en.expr {
                                EntryExpr::MapEntry(me) => {
                                    EntryExpr::MapEntry(MapEntryExpr { key: rec(&me.key, runtime)?, value: rec(&me.value, runtime)?, optional: me.optional })
                                }
                                other => other.clone(),
                            },
                        })
                    })
                    .collect::<Result<_, CondError>>()?,
            }),
            Expr::Comprehension(c) => Expr::Comprehension(Box::new(ComprehensionExpr {
                iter_range: rec(&c.iter_range, runtime)?,
                iter_var: c.iter_var.clone(),
                iter_var2: c.iter_var2.clone(),
                accu_var: c.accu_var.clone(),
                accu_init: rec(&c.accu_init, runtime)?,
                loop_cond: rec(&c.loop_cond, runtime)?,
                loop_step: rec(&c.loop_step, runtime)?,
                result: rec(&c.result, runtime)?,
            })),
            other => other.clone(),
        },
    })
}

/// Cerbos's `evaluateUnknown`: comprehension bodies partially evaluated with their variables
/// unknown, then the first matching rewrite of the whole residual (a map indexed by an unknown
/// compared with a value; `all`/`exists` over a short literal list or map), evaluated again.
fn residual_simplified(p: &mut Partial<'_>, residual: IdedExpr) -> Result<IdedExpr, String> {
    let residual = if has_comprehension(&residual) { comprehension_bodies(p, &residual)? } else { residual };
    match rewrite(p, &residual) {
        Some(rewritten) => Ok(p.walk(&rewritten).expr),
        None => Ok(residual),
    }
}

fn has_comprehension(e: &IdedExpr) -> bool {
    match &e.expr {
        Expr::Comprehension(_) => true,
        Expr::Select(s) => has_comprehension(&s.operand),
        Expr::Call(c) => c.target.as_deref().is_some_and(has_comprehension) || c.args.iter().any(has_comprehension),
        Expr::List(l) => l.elements.iter().any(has_comprehension),
        Expr::Map(m) => m.entries.iter().any(|en| match &en.expr {
            EntryExpr::MapEntry(me) => has_comprehension(&me.key) || has_comprehension(&me.value),
            EntryExpr::StructField(f) => has_comprehension(&f.value),
        }),
        _ => false,
    }
}

fn comprehension_bodies(p: &mut Partial<'_>, e: &IdedExpr) -> Result<IdedExpr, String> {
    let expr = match &e.expr {
        Expr::Select(s) => Expr::Select(SelectExpr { operand: Box::new(comprehension_bodies(p, &s.operand)?), field: s.field.clone(), test: s.test }),
        Expr::Call(c) => Expr::Call(CallExpr {
            func_name: c.func_name.clone(),
            target: match &c.target {
                Some(t) => Some(Box::new(comprehension_bodies(p, t)?)),
                None => None,
            },
            args: c.args.iter().map(|a| comprehension_bodies(p, a)).collect::<Result<_, _>>()?,
        }),
        Expr::List(l) => Expr::List(ListExpr::new_with_optionals(
            l.elements.iter().map(|x| comprehension_bodies(p, x)).collect::<Result<_, _>>()?,
            l.optional_indices.clone(),
        )),
        Expr::Map(m) => Expr::Map(MapExpr {
            entries: m
                .entries
                .iter()
                .map(|en| {
                    Ok(IdedEntryExpr {
                        id: en.id,
                        expr: match &en.expr {
                            EntryExpr::MapEntry(me) => EntryExpr::MapEntry(MapEntryExpr {
                                key: comprehension_bodies(p, &me.key)?,
                                value: comprehension_bodies(p, &me.value)?,
                                optional: me.optional,
                            }),
                            other => other.clone(),
                        },
                    })
                })
                .collect::<Result<_, String>>()?,
        }),
        Expr::Comprehension(c) => {
            let native = two_var_native(c);
            let c = native.as_ref().unwrap_or(c);
            let Expr::Call(step) = &c.loop_step.expr else { return Err("expected call expr".into()) };
            let mut args = step.args.clone();
            let i = usize::from(matches!(args.first().map(|a| &a.expr), Some(Expr::Ident(n)) if *n == c.accu_var));
            let Some(body) = args.get(i) else { return Err("expected call expr".into()) };
            p.push_local(&c.iter_var, Local::Unknown);
            if let Some(v2) = &c.iter_var2 {
                p.push_local(v2, Local::Unknown);
            }
            let body = p.walk(body).expr;
            let body = comprehension_bodies(p, &body);
            p.pop_local();
            if c.iter_var2.is_some() {
                p.pop_local();
            }
            args[i] = body?;
            let mut out = c.clone();
            out.loop_step = call(&step.func_name, args);
            out.iter_range = comprehension_bodies(p, &c.iter_range)?;
            return Ok(comprehension(out));
        }
        other => other.clone(),
    };
    Ok(IdedExpr { id: e.id, expr })
}

/// `has(a.b.f)` (compiled as `@has_field(a.b, "f")`) on an attribute path as the call `has(a.b.f)`,
/// which becomes the operand `(has a.b.f)` instead of the `true` Cerbos writes.
fn presence_tests(e: IdedExpr) -> IdedExpr {
    let expr = match e.expr {
        Expr::Call(c) if c.func_name == HAS_FIELD && c.target.is_none() && c.args.len() == 2 => match (&c.args[0].expr, &c.args[1].expr) {
            (Expr::Ident(path), Expr::Literal(cel::common::ast::LiteralValue::String(f))) if path.contains('.') || path == "R" => {
                return call("has", vec![super::expr::ident(&format!("{path}.{}", f.inner()))]);
            }
            _ => Expr::Call(c),
        },
        Expr::Call(c) => Expr::Call(CallExpr {
            func_name: c.func_name,
            target: c.target.map(|t| Box::new(presence_tests(*t))),
            args: c.args.into_iter().map(presence_tests).collect(),
        }),
        Expr::List(l) => Expr::List(ListExpr::new_with_optionals(l.elements.into_iter().map(presence_tests).collect(), l.optional_indices)),
        other => other,
    };
    IdedExpr { id: e.id, expr }
}

/// Comparisons Cerbos expands over the entries of an indexed map literal.
const COMPARISONS: [&str; 6] =
    [operators::EQUALS, operators::NOT_EQUALS, operators::LESS, operators::LESS_EQUALS, operators::GREATER, operators::GREATER_EQUALS];
/// The longest literal list or map an `all`/`exists` is expanded over.
const MAX_EXPANDED_ITEMS: usize = 10;

/// An attribute path (cel-go's select expressions).
fn is_path(e: &IdedExpr) -> bool {
    match &e.expr {
        Expr::Select(_) => true,
        Expr::Ident(n) => n.contains('.'),
        _ => false,
    }
}

/// `{k1: v1, ...}[x]` (optionally `.field` after it): the map's entries, `x` and the field.
fn indexed_map(e: &IdedExpr) -> Option<(Vec<(&IdedExpr, &IdedExpr)>, &IdedExpr, Option<&str>)> {
    let (inner, field) = match &e.expr {
        Expr::Select(s) if !s.test => (&*s.operand, Some(s.field.as_str())),
        _ => (e, None),
    };
    let Expr::Call(c) = &inner.expr else { return None };
    if c.func_name != operators::INDEX || c.target.is_some() || c.args.len() != 2 {
        return None;
    }
    let Expr::Map(m) = &c.args[0].expr else { return None };
    if !is_path(&c.args[1]) {
        return None;
    }
    let entries = m
        .entries
        .iter()
        .filter_map(|en| match &en.expr {
            EntryExpr::MapEntry(me) => Some((&me.key, &me.value)),
            EntryExpr::StructField(_) => None,
        })
        .collect();
    Some((entries, &c.args[1], field))
}

/// Cerbos's struct matchers and lambda matcher, first match wins.
fn rewrite(p: &mut Partial<'_>, e: &IdedExpr) -> Option<IdedExpr> {
    match &e.expr {
        Expr::Call(c) if c.target.is_none() && c.args.len() == 2 => {
            let is_literal = |x: &IdedExpr| matches!(x.expr, Expr::Literal(_));
            let matched = if COMPARISONS.contains(&c.func_name.as_str()) && is_literal(&c.args[1]) {
                indexed_map(&c.args[0]).map(|m| (m, &c.args[1]))
            } else if c.func_name == operators::IN && is_literal(&c.args[0]) {
                indexed_map(&c.args[1]).map(|m| (m, &c.args[0]))
            } else {
                None
            };
            let ((entries, index, field), constant) = matched?;
            if entries.is_empty() {
                return None;
            }
            // `index == key && op(constant, value)` for each entry, ORed.
            let options = entries
                .into_iter()
                .map(|(key, value)| {
                    let value = match field {
                        Some(f) => IdedExpr { id: 0, expr: Expr::Select(SelectExpr { operand: Box::new(value.clone()), field: f.to_owned(), test: false }) },
                        None => value.clone(),
                    };
                    call(
                        operators::LOGICAL_AND,
                        vec![call(operators::EQUALS, vec![index.clone(), key.clone()]), call(&c.func_name, vec![constant.clone(), value])],
                    )
                })
                .collect();
            Some(right_nested(operators::LOGICAL_OR, options))
        }
        Expr::Comprehension(c) => expand_quantifier(p, c),
        _ => None,
    }
}

/// `[a, b].exists(x, p)` -> `p[x:=a] || p[x:=b]` (`all`: `&&`), for short literal ranges.
fn expand_quantifier(p: &mut Partial<'_>, c: &ComprehensionExpr) -> Option<IdedExpr> {
    if !matches!(c.iter_range.expr, Expr::List(_) | Expr::Map(_) | Expr::Struct(_)) || !only_literals(&c.iter_range) {
        return None;
    }
    let (op, range, body) = quantifier(c)?;
    let items: Vec<(IdedExpr, Option<IdedExpr>)> = match &range.expr {
        Expr::List(l) if l.elements.len() <= MAX_EXPANDED_ITEMS => l.elements.iter().map(|el| (el.clone(), None)).collect(),
        Expr::Map(m) if m.entries.len() <= MAX_EXPANDED_ITEMS => m
            .entries
            .iter()
            .filter_map(|en| match &en.expr {
                EntryExpr::MapEntry(me) => Some((me.key.clone(), Some(me.value.clone()))),
                EntryExpr::StructField(_) => None,
            })
            .collect(),
        _ => return None,
    };
    let is_list = matches!(range.expr, Expr::List(_));
    let mut options = Vec::with_capacity(items.len());
    for (i, (first, second)) in items.into_iter().enumerate() {
        let value_of = |p: &mut Partial<'_>, x: &IdedExpr| match p.walk(x).st {
            St::Known(v) => Some(v),
            _ => None,
        };
        let first = value_of(p, &first)?;
        let second = match second {
            Some(s) => Some(value_of(p, &s)?),
            None => None,
        };
        let mut pushed = 1;
        match (&c.iter_var2, is_list) {
            (Some(v2), true) => {
                p.push_local(&c.iter_var, Local::Known(crate::cel::CelValue::from(i as i64)));
                p.push_local(v2, Local::Known(first));
                pushed = 2;
            }
            (Some(v2), false) => {
                p.push_local(&c.iter_var, Local::Known(first));
                if let Some(s) = second {
                    p.push_local(v2, Local::Known(s));
                    pushed = 2;
                }
            }
            (None, _) => p.push_local(&c.iter_var, Local::Known(first)),
        }
        options.push(p.walk(body).expr);
        for _ in 0..pushed {
            p.pop_local();
        }
    }
    let op = if op == "all" { operators::LOGICAL_AND } else { operators::LOGICAL_OR };
    Some(right_nested(op, options))
}

/// The expression `runtime.effectiveDerivedRoles` stands for in a plan: for each derived role
/// (sorted by name) `cond ? [name] : []`, added up (Cerbos's `MkDerivedRolesList`).
pub(crate) fn derived_roles_list(roles: &[(String, Node)]) -> IdedExpr {
    let element = |(name, node): &(String, Node)| {
        call(operators::CONDITIONAL, vec![node.to_expr(), super::expr::list(vec![super::expr::lit_str(name)]), super::expr::list(vec![])])
    };
    match roles.len() {
        0 => super::expr::list(vec![]),
        1 => element(&roles[0]),
        _ => right_nested(operators::ADD, roles.iter().map(element).collect()),
    }
}

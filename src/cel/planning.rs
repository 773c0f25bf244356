//! What the query planner (`crate::plan`) needs from the CEL layer, in one place: the compiled
//! AST it walks, the names this layer's compile step rewrites calls to, a parse without those
//! rewrites (for Cerbos's AST conformance cases), and evaluation of any sub-expression with
//! extra local bindings. The planner computes every value it needs through [`eval_with_locals`],
//! so values are exactly what a check would compute; it only adds the rules for unknowns.

use cel::common::ast::IdedExpr;
use cel::common::value::CowVal;
use cel::context::VariableResolver;
use cel::Context;

use super::{budget, env, errors, first_operand_error, limits, Activation, CelValue, CompiledExpr, EvalError};

pub(crate) use super::budget::{BYTES, STEPS};
pub(crate) use super::lib_misc::{HAS_FIELD, INDEX_OF, LAST_INDEX_OF, MAP_INSERT, MATCHES, PAIRS, TIME_SINCE, TO_STRING};
pub(crate) use super::lib_sets::DISTINCT;
pub(crate) use super::lib_sized::{JOIN, RANGE, REPLACE, SPLIT};
pub(crate) use super::time_parse::{TO_DURATION, TO_TIMESTAMP};
pub(crate) use super::values::{format_duration, format_timestamp, json_number};

/// Runs the planning of one compiled condition (`f`) as one evaluation: on a stack deep enough to
/// walk and evaluate it, under one budget of steps and bytes (`act`'s limits), which every
/// [`eval_with_locals`] inside `f` charges. Returns `f`'s result and, if the budget ran out, why.
pub(crate) fn metered<T>(expr: &CompiledExpr, act: &Activation<'_>, f: impl FnOnce() -> T) -> (T, Option<String>) {
    // The walk recurses like the interpreter, and the interpreter runs under it: twice the depth.
    limits::with_eval_stack(expr.depth.saturating_mul(2), || {
        let (out, breach) = budget::metered(&act.limits, f);
        (out, breach.map(|b| b.message()))
    })
}

#[cfg(test)]
/// Parses `source` with the environment's macros but none of the compile step's rewrites or
/// checks (cel-go's `Env.Parse`).
pub(crate) fn parse(source: &str) -> Result<IdedExpr, String> {
    let parsed = std::panic::catch_unwind(|| env::env().parser().parse_with_source_info(source));
    match parsed {
        Ok(Ok((expr, _))) => Ok(expr),
        Ok(Err(e)) => Err(e.errors.iter().map(|e| e.msg.clone()).collect::<Vec<_>>().join("; ")),
        Err(_) => Err("internal error while parsing the expression".to_owned()),
    }
}

/// Resolves local bindings first (comprehension variables the planner iterates itself, or
/// placeholders for values it already computed), then everything the activation knows.
struct WithLocals<'a> {
    act: &'a Activation<'a>,
    locals: &'a [(&'a str, &'a CelValue)],
}

impl VariableResolver for WithLocals<'_> {
    fn resolve<'b>(&'b self, name: &str) -> Option<CowVal<'b, 'b>> {
        if let Some((_, v)) = self.locals.iter().rev().find(|(n, _)| *n == name) {
            return Some(CowVal::Borrowed(v.0.as_ref()));
        }
        // `x.f` with `x` local: answered as `x`, then the field, by the interpreter.
        if let Some((root, _)) = name.split_once('.') {
            if self.locals.iter().any(|(n, _)| *n == root) {
                return None;
            }
        }
        self.act.resolve(name)
    }
}

/// Evaluates `expr` (any node of a compiled AST, or one the planner built from such nodes)
/// against `act`, with `locals` shadowing the activation's names. Runs within [`metered`].
pub(crate) fn eval_with_locals(expr: &IdedExpr, act: &Activation<'_>, locals: &[(&str, &CelValue)]) -> Result<CelValue, EvalError> {
    let resolver = WithLocals { act, locals };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut ctx = Context::with_env(env::env().clone());
        ctx.set_variable_resolver(&resolver);
        match cel::Value::resolve_val(expr, &ctx) {
            Ok(v) => CelValue::from_val(v.as_ref()).map_err(|e| errors::to_eval_error(&e)),
            Err(e) => match first_operand_error(expr, &ctx).unwrap_or(e) {
                cel::ExecutionError::UndeclaredReference(name) if name.contains('.') => Err(EvalError { message: act.path_error(&name) }),
                e => Err(errors::to_eval_error(&e)),
            },
        }
    }));
    outcome.unwrap_or_else(|_| Err(EvalError { message: "internal error while evaluating the expression".into() }))
}

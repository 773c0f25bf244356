//! The budget of one evaluation: steps and bytes, so that no expression, whatever the request,
//! runs for seconds or allocates until the process dies.
//!
//! The `cel` crate's interpreter has no hooks, so the compiled expression carries them: the
//! compile step wraps what can cost in calls to two identity functions that charge the budget
//! before passing their argument on unchanged (borrowed values stay borrowed):
//!
//! * `@steps(x)` charges the work of going through `x` (one step per element of a list or map,
//!   one per 64 bytes of a string or bytes). It wraps every comprehension's range (one step per
//!   iteration) and, inside a comprehension's loop, the operands of the calls whose work grows
//!   with their operands (`in`, `==`, `contains`, `sort`, ...): a loop over `n` items that scans
//!   `m` items each costs `n × m` steps.
//! * `@bytes(x)` charges the bytes of copying `x`. It wraps the operands of `+` (concatenating
//!   strings, bytes or lists copies both), the elements of list and map literals that are not
//!   constants (each is copied into the new value), and the initial value of a comprehension's
//!   accumulator (`cel.bind`).
//!
//! Functions that build more than a copy of their arguments charge the budget themselves before
//! they allocate: `lists.range`, `join`, `replace`, `split`, `regex.replace`, the two-variable
//! comprehensions' pairs. The set functions charge their (linear) work.
//!
//! The meter lives in a thread-local for the time of one evaluation (the interpreter calls
//! functions on the thread that evaluates). A breach is reported as the evaluation's error even
//! when the expression would have swallowed the function's error (`error || true` is `true` in
//! CEL): once breached, every later charge fails too, so the evaluation stops soon.

use std::cell::Cell;

use cel::common::ast::{operators, CallExpr, EntryExpr, Expr, IdedExpr};
use cel::common::types::{CelBytes, CelList, CelMap, CelString, DYN_TYPE};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError};

use super::funcs::FnResult;
use super::limits::Limits;

/// The identity function that charges steps.
pub(crate) const STEPS: &str = "@steps";
/// The identity function that charges bytes.
pub(crate) const BYTES: &str = "@bytes";

/// What one list element or map entry costs beyond its contents (a boxed value, its slot).
pub(crate) const ELEMENT_BYTES: u64 = 32;

pub(crate) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload(STEPS, "@steps_dyn", vec![DYN_TYPE], steps)?;
    env.add_overload(BYTES, "@bytes_dyn", vec![DYN_TYPE], bytes)?;
    Ok(())
}

/// Which part of the budget ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Breach {
    Steps(u64),
    Bytes(u64),
}

impl Breach {
    /// The message the caller sees (in `evaluationErrors` and explanations).
    pub(crate) fn message(self) -> String {
        match self {
            Breach::Steps(limit) => {
                format!("evaluation stopped: the expression took more than {limit} steps (comprehension iterations and list elements processed)")
            }
            Breach::Bytes(limit) => format!("evaluation stopped: the expression built more than {} of strings, lists and maps", human_bytes(limit)),
        }
    }
}

fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

#[derive(Clone, Copy)]
struct Meter {
    steps_left: u64,
    bytes_left: u64,
    limits: (u64, u64),
    breach: Option<Breach>,
}

thread_local! {
    static METER: Cell<Option<Meter>> = const { Cell::new(None) };
}

/// Runs one evaluation under a fresh budget; returns its result and the breach, if any.
pub(crate) fn metered<T>(limits: &Limits, f: impl FnOnce() -> T) -> (T, Option<Breach>) {
    let meter = Meter { steps_left: limits.max_steps, bytes_left: limits.max_bytes, limits: (limits.max_steps, limits.max_bytes), breach: None };
    // Restores the outer meter (none, in practice) also when `f` panics.
    struct Restore(Option<Meter>);
    impl Drop for Restore {
        fn drop(&mut self) {
            METER.with(|m| m.set(self.0));
        }
    }
    let outer = Restore(METER.with(|m| m.replace(Some(meter))));
    let out = f();
    let breach = METER.with(|m| m.get()).and_then(|m| m.breach);
    drop(outer);
    (out, breach)
}

fn charge(steps: u64, bytes: u64) -> Result<(), ExecutionError> {
    METER.with(|cell| {
        let Some(mut m) = cell.get() else { return Ok(()) };
        if m.breach.is_none() {
            if steps > m.steps_left {
                m.breach = Some(Breach::Steps(m.limits.0));
            } else if bytes > m.bytes_left {
                m.breach = Some(Breach::Bytes(m.limits.1));
            } else {
                m.steps_left -= steps;
                m.bytes_left -= bytes;
            }
            cell.set(Some(m));
        }
        match m.breach {
            Some(b) => Err(super::errors::fn_error(b.message())),
            None => Ok(()),
        }
    })
}

/// Charges `n` steps of work.
pub(crate) fn charge_steps(n: u64) -> Result<(), ExecutionError> {
    charge(n, 0)
}

/// Charges `n` bytes about to be allocated.
pub(crate) fn charge_bytes(n: u64) -> Result<(), ExecutionError> {
    charge(0, n)
}

/// The work of going through `v`: elements of a list or map, 64-byte blocks of a string.
pub(crate) fn scan_steps(v: &dyn Val) -> u64 {
    if let Some(l) = v.downcast_ref::<CelList>() {
        return l.inner().len() as u64;
    }
    if let Some(m) = v.downcast_ref::<CelMap>() {
        return m.inner().len() as u64;
    }
    if let Some(s) = v.downcast_ref::<CelString>() {
        return s.inner().len() as u64 / 64;
    }
    if let Some(b) = v.downcast_ref::<CelBytes>() {
        return b.inner().len() as u64 / 64;
    }
    0
}

/// The bytes a deep copy of `v` allocates (contents plus a fixed cost per element).
pub(crate) fn copy_bytes(v: &dyn Val) -> u64 {
    // Iterative: a value may nest as deeply as the request does.
    let mut total = 0u64;
    let mut todo: Vec<&dyn Val> = vec![v];
    while let Some(v) = todo.pop() {
        if let Some(s) = v.downcast_ref::<CelString>() {
            total += s.inner().len() as u64;
        } else if let Some(b) = v.downcast_ref::<CelBytes>() {
            total += b.inner().len() as u64;
        } else if let Some(l) = v.downcast_ref::<CelList>() {
            total += ELEMENT_BYTES * l.inner().len() as u64;
            todo.extend(l.inner().iter().map(|e| e.as_ref() as &dyn Val));
        } else if let Some(m) = v.downcast_ref::<CelMap>() {
            total += 2 * ELEMENT_BYTES * m.inner().len() as u64;
            for (k, val) in m.inner() {
                todo.push(k.inner());
                todo.push(val.as_ref());
            }
        }
    }
    total
}

/// `@steps(x)`: charges the work of going through `x`, returns `x`.
pub(crate) fn steps<'b, 'v>(mut args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    charge_steps(scan_steps(args[0].as_ref()))?;
    Ok(args.swap_remove(0))
}

/// `@bytes(x)`: charges the bytes of copying `x`, returns `x`.
pub(crate) fn bytes<'b, 'v>(mut args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    charge_bytes(copy_bytes(args[0].as_ref()))?;
    Ok(args.swap_remove(0))
}

/// Functions whose work does not grow with their operands (or that charge it themselves), whose
/// operands are left unwrapped inside loops; the control-flow operators among them also keep the
/// shapes the interpreter recognises in comprehension steps (`@result && p`, `@result + [x]`).
const UNMETERED: &[&str] = &[
    operators::LOGICAL_AND,
    operators::LOGICAL_OR,
    operators::LOGICAL_NOT,
    operators::NEGATE,
    operators::CONDITIONAL,
    operators::NOT_STRICTLY_FALSE,
    operators::INDEX,
    operators::OPT_INDEX,
    operators::OPT_SELECT,
    operators::ADD,
    operators::SUBSTRACT,
    operators::MULTIPLY,
    operators::DIVIDE,
    operators::MODULO,
    operators::LESS,
    operators::LESS_EQUALS,
    operators::GREATER,
    operators::GREATER_EQUALS,
    "size",
    "int",
    "uint",
    "double",
    "bool",
    "type",
    "dyn",
    STEPS,
    BYTES,
    super::lib_misc::HAS_FIELD,
    super::lib_misc::MAP_INSERT,
    super::lib_misc::PAIRS,
];

/// Wraps what can cost in `@steps` / `@bytes` (see the module documentation). Runs on the
/// compiled AST, after every other rewrite.
pub(crate) fn instrument(e: &mut IdedExpr) {
    Instrument { loops: Vec::new() }.walk(e);
}

struct Instrument {
    /// The accumulator of each comprehension whose loop (condition or step) is being walked.
    loops: Vec<String>,
}

fn constant(e: &IdedExpr) -> bool {
    match &e.expr {
        Expr::Literal(_) => true,
        Expr::List(l) => l.elements.iter().all(constant),
        Expr::Map(m) => m.entries.iter().all(|entry| match &entry.expr {
            EntryExpr::MapEntry(me) => constant(&me.key) && constant(&me.value),
            EntryExpr::StructField(_) => false,
        }),
        _ => false,
    }
}

impl Instrument {
    fn in_loop(&self) -> bool {
        !self.loops.is_empty()
    }

    fn is_accumulator(&self, e: &IdedExpr) -> bool {
        matches!(&e.expr, Expr::Ident(n) if self.loops.iter().any(|a| a == n))
    }

    /// `f(e)` in place of `e`, unless `e` is a constant or an accumulator.
    fn wrap(&self, f: &str, e: &mut IdedExpr) {
        if constant(e) || self.is_accumulator(e) {
            return;
        }
        let inner = std::mem::take(e);
        *e = IdedExpr { id: inner.id, expr: Expr::Call(CallExpr { func_name: f.to_owned(), target: None, args: vec![inner] }) };
    }

    fn walk(&mut self, e: &mut IdedExpr) {
        match &mut e.expr {
            Expr::Comprehension(c) => {
                self.walk(&mut c.iter_range);
                self.walk(&mut c.accu_init);
                self.walk(&mut c.result);
                self.loops.push(c.accu_var.clone());
                self.walk(&mut c.loop_cond);
                self.walk(&mut c.loop_step);
                self.loops.pop();
                // `cel.bind` is a comprehension over an empty list: nothing to charge there.
                self.wrap(STEPS, &mut c.iter_range);
                self.wrap(BYTES, &mut c.accu_init);
            }
            Expr::List(l) => {
                for el in &mut l.elements {
                    self.walk(el);
                    self.wrap(BYTES, el);
                }
            }
            Expr::Map(m) => {
                for entry in &mut m.entries {
                    if let EntryExpr::MapEntry(me) = &mut entry.expr {
                        self.walk(&mut me.key);
                        self.walk(&mut me.value);
                        self.wrap(BYTES, &mut me.key);
                        self.wrap(BYTES, &mut me.value);
                    }
                }
            }
            Expr::Select(s) => self.walk(&mut s.operand),
            Expr::Call(c) => {
                if let Some(t) = c.target.as_deref_mut() {
                    self.walk(t);
                }
                for a in &mut c.args {
                    self.walk(a);
                }
                if c.func_name == operators::ADD && c.target.is_none() {
                    // `@result + [x]` in a loop step is appended in place by the interpreter;
                    // the elements of `[x]` are charged as list elements.
                    let appends = c.args.first().is_some_and(|a| self.is_accumulator(a));
                    if !appends {
                        for a in &mut c.args {
                            self.wrap(BYTES, a);
                        }
                    }
                } else if self.in_loop() && !UNMETERED.contains(&c.func_name.as_str()) {
                    if let Some(t) = c.target.as_deref_mut() {
                        self.wrap(STEPS, t);
                    }
                    for a in &mut c.args {
                        self.wrap(STEPS, a);
                    }
                }
            }
            Expr::Struct(_) | Expr::Literal(_) | Expr::Ident(_) | Expr::Unspecified => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::cel::tests_util::request;
    use crate::cel::{compile, eval, Activation, Limits, Vars};
    use serde_json::json;

    fn run_with(src: &str, vars: &Vars, limits: Limits) -> Result<serde_json::Value, String> {
        let expr = compile(src).map_err(|e| e.to_string())?;
        let req = request();
        let act = Activation::new(&req).with_variables(vars).with_limits(limits);
        eval(&expr, &act).map_err(|e| e.message).map(|v| v.to_json().unwrap_or(json!("<not json>")))
    }

    const STEPS_100K: &str = "evaluation stopped: the expression took more than 100000 steps (comprehension iterations and list elements processed)";
    const BYTES: &str = "evaluation stopped: the expression built more than 32 MiB of strings, lists and maps";

    /// Nested comprehensions over 5,000 items each hit the step budget instead of running for
    /// seconds; the same loops over 300 items are fine. (A tenth of the default budget, which
    /// debug builds take long to spend.)
    #[test]
    fn nested_comprehensions_hit_the_step_budget() {
        assert_eq!(Limits::default().max_steps, 1_000_000);
        let limits = Limits { max_steps: 100_000, ..Limits::default() };
        let run = |src: &str| run_with(src, &Vars::new(), limits);
        assert_eq!(run("cel.bind(l, lists.range(5000), l.all(i, l.all(j, i + j >= 0)))"), Err(STEPS_100K.to_owned()));
        assert_eq!(run("cel.bind(l, lists.range(300), l.all(i, l.all(j, i + j >= 0)))"), Ok(json!(true)));
        assert_eq!(run("cel.bind(l, lists.range(5000), l.exists(i, l.exists(j, i + j < 0)))"), Err(STEPS_100K.to_owned()));
        assert_eq!(run("cel.bind(l, lists.range(5000), l.transformList(i, v, l.filter(j, j == v)))"), Err(STEPS_100K.to_owned()));
        // Linear scans inside a loop count: 1,000 × `in` over 1,000 elements.
        assert_eq!(run("cel.bind(l, lists.range(1000), l.all(i, i in l))"), Err(STEPS_100K.to_owned()));
        assert_eq!(run("cel.bind(l, lists.range(200), l.all(i, i in l))"), Ok(json!(true)));
        assert_eq!(run("cel.bind(l, lists.range(1000), l.all(i, l.hasIntersection([i])))"), Err(STEPS_100K.to_owned()));
    }

    /// The set functions are linear: two 50,000-element lists cost 100,000 steps (they took
    /// seconds when each element was looked up by a scan of the other list).
    #[test]
    fn set_functions_are_linear() {
        let limits = Limits { max_steps: 150_000, ..Limits::default() };
        let mut vars = Vars::new();
        let a: Vec<serde_json::Value> = (0..50_000).map(|i| json!(format!("a{i}"))).collect();
        let b: Vec<serde_json::Value> = (0..50_000).map(|i| json!(format!("b{i}"))).collect();
        vars.insert_json("a", &json!(a));
        vars.insert_json("b", &json!(b));
        for (src, want) in [
            ("V.a.hasIntersection(V.b)", json!(false)),
            ("size(V.a.intersect(V.b))", json!(0)),
            ("size(V.a.except(V.b))", json!(50_000)),
            ("V.a.isSubset(V.b)", json!(false)),
            ("V.a.isSubset(V.a)", json!(true)),
            ("sets.contains(V.a, V.b)", json!(false)),
            ("sets.equivalent(V.a, V.a)", json!(true)),
            ("sets.intersects(V.a, V.b)", json!(false)),
            ("size((V.a + V.a).distinct())", json!(50_000)),
        ] {
            assert_eq!(run_with(src, &vars, limits), Ok(want), "{src}");
        }
    }

    /// Strings, lists and maps built by an evaluation count against the byte budget: doubling,
    /// copying into literals, `replace`/`join`/`split`, `lists.range` and comprehension results.
    #[test]
    fn building_big_values_hits_the_byte_budget() {
        let mut vars = Vars::new();
        vars.insert("s", "x".repeat(1 << 20).into());
        let run = |src: &str| run_with(src, &vars, Limits::default());
        // Doubling ten times over: 1 MiB -> 1 GiB without a budget.
        let doubled = (0..10).fold("V.s".to_owned(), |acc, i| format!("cel.bind(d{i}, {acc}, d{i} + d{i})"));
        assert_eq!(run(&format!("size({doubled})")), Err(BYTES.to_owned()));
        assert_eq!(run("size(V.s + V.s)"), Ok(json!(2 << 20)));
        assert_eq!(run(&format!("size([{}])", vec!["V.s"; 40].join(", "))), Err(BYTES.to_owned()));
        assert_eq!(run(&format!("size({{{}}})", (0..40).map(|i| format!("{i}: V.s")).collect::<Vec<_>>().join(", "))), Err(BYTES.to_owned()));
        assert_eq!(run("size('ab'.replace('', V.s))"), Ok(json!((3 << 20) + 2)));
        assert_eq!(run("size('abcdefghijklmnopqrstuvwxyz0123456789'.replace('', V.s))"), Err(BYTES.to_owned()));
        assert_eq!(run("size(lists.range(64).map(i, V.s).join(''))"), Err(BYTES.to_owned()));
        assert_eq!(run("size(V.s.split(''))"), Err(BYTES.to_owned()));
        assert_eq!(run("size(lists.range(40).map(i, V.s))"), Err(BYTES.to_owned()));
        assert_eq!(run("size(lists.range(40).transformList(i, v, V.s))"), Err(BYTES.to_owned()));
        assert_eq!(run("size(lists.range(40).transformMapEntry(i, v, {i: V.s}))"), Err(BYTES.to_owned()));
        assert_eq!(run("size(lists.range(600000) + lists.range(600000))"), Err(BYTES.to_owned()));
        assert_eq!(run("size(lists.range(1000))"), Ok(json!(1000)));
    }

    /// Each evaluation has its own budget.
    #[test]
    fn limits_are_per_evaluation_and_configurable() {
        let small = Limits { max_steps: 10, max_bytes: 1000, ..Limits::default() };
        let vars = Vars::new();
        assert_eq!(run_with("[1, 2, 3].all(x, x > 0)", &vars, small), Ok(json!(true)));
        assert_eq!(
            run_with("lists.range(11).all(x, x > 0)", &vars, small),
            Err("evaluation stopped: the expression took more than 10 steps (comprehension iterations and list elements processed)".to_owned())
        );
        assert_eq!(
            run_with("size('x'.replace('', 'abcdefghij').replace('', 'abcdefghij').replace('', 'abcdefghij'))", &vars, small),
            Err("evaluation stopped: the expression built more than 1000 bytes of strings, lists and maps".to_owned())
        );
        assert_eq!(run_with("lists.range(11).all(x, x >= 0)", &vars, Limits::default()), Ok(json!(true)));
    }
}

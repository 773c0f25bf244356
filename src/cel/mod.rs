//! The CEL layer: compiles Cerbos condition expressions and evaluates them with Cerbos's
//! extension functions and cel-go-compatible behaviour, on top of the `cel` crate.
//!
//! # Public surface
//!
//! ```text
//! compile(source: &str) -> Result<CompiledExpr, CompileError>
//! compile_with_limits(source: &str, &Limits) -> Result<CompiledExpr, CompileError>
//! CompiledExpr::{source, variable_refs, constant_refs, global_refs, uses_runtime, uses_now}
//! CompileError { source, issues: Vec<CompileIssue { message, line, column }> }
//!     .messages() -> Vec<&str>; Display = "Invalid expression `src`: [msg1, msg2]"
//! EvalError { message }
//!
//! Request::from_json(&serde_json::Value) -> Result<Request, String>   // engine.Request JSON
//! Request::new(&PrincipalFields, &ResourceFields, Option<&AuxDataFields>) -> Request<'static>
//! Request::borrowing(&PrincipalFields<'a>, ...) -> Request<'a>   // fields converted on first read
//!     PrincipalFields { id, roles, attr, policy_version, scope }   (borrowed)
//!     ResourceFields { kind, id, attr, policy_version, scope }
//!     AuxDataFields { jwt: Option<&Map>, jwts: Option<&Map> }      (None = unset auxData)
//! Request::set_now / now
//! Vars (variables, constants, globals): new, insert(name, CelValue), insert_json, from_json_map, ...
//! Activation::new(&Request)
//!     .with_variables(&Vars).with_constants(&Vars).with_globals(&Vars)
//!     .with_runtime_roles(Vec<String>) | .with_runtime_fn(&dyn Fn() -> Result<Vec<String>, String>)
//!     | .with_runtime_error(String)
//!     .with_now(DateTime<FixedOffset>)
//!     .with_limits(Limits)                                   // steps and bytes of one evaluation
//! eval(&CompiledExpr, &Activation) -> Result<CelValue, EvalError>
//! eval_bool(&CompiledExpr, &Activation) -> Result<bool, EvalError>
//! eval_json(&CompiledExpr, &Activation) -> Result<serde_json::Value, EvalError>   // outputs
//! CelValue::{from_json, to_json, as_bool, as_str, type_name, to_cel_value, from_cel_value}
//! validate_identifier(&str) -> Result<(), String>   // names of variables/constants/globals
//! json_to_value(&serde_json::Value) -> CelValue
//! value_to_json(&CelValue) -> Result<serde_json::Value, String>
//! ```
//!
//! # Example
//!
//! ```
//! use _core::cel::{compile, eval_bool, Activation, Request, Vars};
//! use serde_json::json;
//!
//! // At policy load.
//! let cond = compile(r#"R.attr.owner == P.id && "employee" in P.roles && V.active"#).unwrap();
//! assert_eq!(cond.variable_refs(), ["active"]);
//!
//! // Per check input.
//! let request = Request::from_json(&json!({
//!     "principal": {"id": "john", "roles": ["employee"]},
//!     "resource": {"kind": "leave_request", "id": "XX125", "attr": {"owner": "john"}},
//! }))
//! .unwrap();
//! let mut vars = Vars::new();
//! vars.insert("active", true.into());
//! let act = Activation::new(&request).with_variables(&vars);
//! assert_eq!(eval_bool(&cond, &act), Ok(true));
//!
//! let missing = compile("R.attr.nope == 1").unwrap();
//! assert_eq!(eval_bool(&missing, &act).unwrap_err().message, "no such key: nope");
//! ```
//!
//! * Build one [`Request`] per `CheckInput` (this is where attributes are converted, once),
//!   one [`Vars`] per policy for variables, and an [`Activation`] (a few pointers) per
//!   evaluation context. Evaluating a condition then converts nothing.
//! * Variables that use earlier variables: evaluate them in order, each with an
//!   `Activation` over the `Vars` built so far, then `vars.insert(name, value)`; a failed
//!   variable is simply left out, so reading it later is `undefined field 'x'` (as in Cerbos).
//! * Errors: [`EvalError::message`] is worded as cel-go words it (`no such key: x`,
//!   `undefined field 'x'`, `no such overload`, `division by zero`, ...), because Cerbos
//!   reports those texts in `evaluationErrors`.
//! * [`eval_bool`] follows Cerbos's `evaluateBoolCELExpr`: a non-boolean result is
//!   `Ok(false)` (no error); a runtime error is `Err` (the caller records it and treats the
//!   condition as false, or denies in strict mode).
//!
//! # Known differences from Cerbos (cel-go)
//!
//! * No static type checker: an expression that is ill-typed on statically known types
//!   (`P.id + 1`, `size(1, 2)`) compiles here and fails when evaluated, where Cerbos
//!   rejects the policy. Undeclared names and functions, unknown request fields, `V["x"]`,
//!   and invalid literals are compile errors as in Cerbos.
//! * Runtime error texts follow cel-go for the common shapes (`no such key`, `undefined
//!   field`, `no such overload[: f(types)]`, conversions, overflows, division); rarer ones
//!   may be worded differently.
//! * Comparing an int beyond 2^53 with a double goes through `f64` (cel-go is exact).
//! * Regexes run on the `regex` crate with RE2's ASCII `\d \w \s \b` and class syntax
//!   patched in; exotic RE2-only syntax (`\C`, octal escapes) is not.

mod budget;
mod compile;
mod custom_types;
mod env;
mod errors;
mod funcs;
mod hierarchy;
mod lib_misc;
mod lib_sets;
mod lib_sized;
mod limits;
mod network;
mod paths;
/// What the query planner needs from this layer (src/plan).
pub(crate) mod planning;
mod request;
mod spiffe;
mod time_parse;
mod values;

#[cfg(test)]
mod cerbos_lib_cases;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod tests_util;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};

use cel::common::ast::IdedExpr;
use cel::common::types::{CelBool, CelTimestamp};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::Context;

pub use errors::{CompileError, CompileIssue, EvalError};
pub use limits::Limits;
pub use request::{AuxDataFields, PrincipalFields, Request, ResourceFields};
pub use values::{CelValue, Vars};

use values::{string_list, Field, FieldValue, MsgVal, UnsetMsg, VarsVal, RUNTIME_TYPE};

/// A condition expression compiled once at policy load.
#[derive(Clone)]
pub struct CompiledExpr {
    source: Arc<str>,
    expr: Arc<IdedExpr>,
    analysis: Arc<compile::Analysis>,
    /// How deeply `expr` nests: what its evaluation needs in stack.
    depth: usize,
}

impl std::fmt::Debug for CompiledExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledExpr").field("source", &self.source).finish_non_exhaustive()
    }
}

impl CompiledExpr {
    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }
    /// Names read as `V.x` / `variables.x` (sorted, unique).
    pub fn variable_refs(&self) -> &[String] {
        &self.analysis.variables
    }
    /// Names read as `C.x` / `constants.x`.
    pub fn constant_refs(&self) -> &[String] {
        &self.analysis.constants
    }
    /// Names read as `G.x` / `globals.x`.
    pub fn global_refs(&self) -> &[String] {
        &self.analysis.globals
    }
    /// Whether it reads `runtime` (so effective derived roles are needed).
    pub fn uses_runtime(&self) -> bool {
        self.analysis.uses_runtime
    }
    /// Whether it calls `now()` or `timeSince()`.
    pub fn uses_now(&self) -> bool {
        self.analysis.uses_now
    }
    /// The expression as the interpreter runs it, for walks over the AST (query planning).
    /// Besides cel-go's macro expansions it has warden's rewrites (see `compile`), all calls to
    /// functions whose names start with `@`; `@steps(x)` and `@bytes(x)` are `x` (they charge the
    /// evaluation budget).
    #[allow(dead_code, reason = "for the query planner (src/plan)")]
    pub(crate) fn ast(&self) -> &IdedExpr {
        &self.expr
    }
}

/// Compiles a condition within the default [`Limits`]: parse errors, undeclared identifiers or
/// functions, unknown request fields, `V["x"]`, invalid literal durations/timestamps/regexes, and
/// an expression over the size or nesting limit are errors.
pub fn compile(source: &str) -> Result<CompiledExpr, CompileError> {
    compile_with_limits(source, &Limits::default())
}

/// [`compile`] within `limits` (their size and nesting parts).
pub fn compile_with_limits(source: &str, limits: &Limits) -> Result<CompiledExpr, CompileError> {
    let size = source.chars().count();
    if size > limits.max_expression_size {
        let message = format!("expression code point size exceeds limit: size: {size}, limit {}", limits.max_expression_size);
        return Err(CompileError::single(source, message));
    }
    let env = env::env();
    // The parser recurses once per level of nesting, which only the parse itself measures: it
    // runs on a stack deep enough for any expression within the size limit.
    let compiled = limits::with_parse_stack(source, || std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| compile::compile(env, source, limits))));
    let (expr, analysis) = compiled.unwrap_or_else(|_| Err(CompileError::single(source, "internal error while compiling the expression")))?;
    let depth = limits::depth(&expr);
    Ok(CompiledExpr { source: source.into(), expr: Arc::new(expr), analysis: Arc::new(analysis), depth })
}

/// Cerbos's rule for variable, constant and global names (`conditions.ValidateIdentifier`),
/// with its error wording.
pub fn validate_identifier(name: &str) -> Result<(), String> {
    if matches!(name, "false" | "in" | "null" | "true") {
        return Err(format!("{name:?} is a reserved keyword and can't be used as an identifier"));
    }
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic()) && chars.all(|c| c == '_' || c.is_ascii_alphanumeric());
    if !valid {
        return Err(format!("{name:?} is not a valid identifier"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The activation

static EMPTY_VARS: LazyLock<Vars> = LazyLock::new(Vars::new);

/// Where `runtime.effectiveDerivedRoles` comes from.
enum RuntimeSource<'a> {
    Roles(Vec<String>),
    Lazy(&'a (dyn Fn() -> Result<Vec<String>, String> + Send + Sync)),
    Error(String),
}

/// Everything an expression can see for one evaluation context. Cheap to build: it only
/// borrows the converted request and variable sets.
pub struct Activation<'a> {
    request: &'a Request<'a>,
    variables: VarsVal<'a>,
    constants: VarsVal<'a>,
    globals: VarsVal<'a>,
    runtime: RuntimeSource<'a>,
    runtime_val: OnceLock<Box<dyn Val + 'static>>,
    now: Option<CelTimestamp>,
    limits: Limits,
    /// Set when an evaluation reads `now()` (or `timeSince()`); atomic because the evaluation
    /// may run on a helper thread with a larger stack.
    now_read: AtomicBool,
}

impl<'a> Activation<'a> {
    pub fn new(request: &'a Request<'a>) -> Activation<'a> {
        Activation {
            request,
            variables: VarsVal(&EMPTY_VARS),
            constants: VarsVal(&EMPTY_VARS),
            globals: VarsVal(&EMPTY_VARS),
            runtime: RuntimeSource::Roles(Vec::new()),
            runtime_val: OnceLock::new(),
            now: None,
            limits: Limits::default(),
            now_read: AtomicBool::new(false),
        }
    }
    /// Whether an evaluation with this activation read `now()` (`timeSince()` reads it too).
    pub fn read_now(&self) -> bool {
        self.now_read.load(Ordering::Relaxed)
    }
    /// Evaluates within `limits` (their steps and bytes parts) instead of the defaults.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
    pub fn with_variables(mut self, v: &'a Vars) -> Self {
        self.variables = VarsVal(v);
        self
    }
    pub fn with_constants(mut self, v: &'a Vars) -> Self {
        self.constants = VarsVal(v);
        self
    }
    pub fn with_globals(mut self, v: &'a Vars) -> Self {
        self.globals = VarsVal(v);
        self
    }
    /// `runtime.effectiveDerivedRoles`, already computed (they are sorted here).
    pub fn with_runtime_roles(mut self, mut roles: Vec<String>) -> Self {
        roles.sort();
        self.runtime = RuntimeSource::Roles(roles);
        self.runtime_val = OnceLock::new();
        self
    }
    /// `runtime.effectiveDerivedRoles`, computed on first use by `f` (at most once per
    /// activation). An `Err` makes every read of `runtime` fail with that message.
    pub fn with_runtime_fn(mut self, f: &'a (dyn Fn() -> Result<Vec<String>, String> + Send + Sync)) -> Self {
        self.runtime = RuntimeSource::Lazy(f);
        self.runtime_val = OnceLock::new();
        self
    }
    /// Every read of `runtime` fails with `message` (e.g. `failed to compute effective
    /// derived roles [a, b]`).
    pub fn with_runtime_error(mut self, message: impl Into<String>) -> Self {
        self.runtime = RuntimeSource::Error(message.into());
        self.runtime_val = OnceLock::new();
        self
    }
    /// Overrides the request's `now()` for this activation.
    pub fn with_now(mut self, now: chrono::DateTime<chrono::FixedOffset>) -> Self {
        self.now = Some(CelTimestamp::from(now));
        self
    }

    fn runtime_val(&self) -> &(dyn Val + 'static) {
        self.runtime_val
            .get_or_init(|| {
                let roles = match &self.runtime {
                    RuntimeSource::Roles(r) => Ok(r.clone()),
                    RuntimeSource::Lazy(f) => f().map(|mut r| {
                        r.sort();
                        r
                    }),
                    RuntimeSource::Error(e) => Err(e.clone()),
                };
                match roles {
                    Ok(r) => Box::new(MsgVal {
                        ty: &RUNTIME_TYPE,
                        fields: vec![Field { proto: "effective_derived_roles", json: "effectiveDerivedRoles", value: FieldValue::List(string_list(&r)) }],
                    }),
                    Err(e) => Box::new(values::FailedRuntime(e)),
                }
            })
            .as_ref()
    }
}

impl<'a> Activation<'a> {
    fn root<'b>(&'b self, name: &str) -> Option<&'b (dyn Val + 'b)> {
        Some(match name {
            "R" => self.request.resource.whole(),
            "P" => self.request.principal.whole(),
            "request" => self.request.whole(),
            "V" | "variables" => &self.variables,
            "C" | "constants" => &self.constants,
            "G" | "globals" => &self.globals,
            "runtime" => self.runtime_val(),
            compile::NOW_IDENT => {
                self.now_read.store(true, Ordering::Relaxed);
                self.now.as_ref().unwrap_or(&self.request.now)
            }
            _ => return None,
        })
    }
}

impl Activation<'_> {
    /// Why the request path `name` (a collapsed `R.attr.x.y`) does not resolve, in cel-go's
    /// words: a missing map key, a field of a non-container, or a failed `runtime`.
    fn path_error(&self, name: &str) -> String {
        use cel::common::types::{CelList, CelMap};
        let mut segs = name.split('.');
        if let Some(("V" | "variables" | "C" | "constants" | "G" | "globals", rest)) = name.split_once('.') {
            return format!("undefined field '{rest}'");
        }
        let Some(mut v) = segs.next().and_then(|r| self.root(r)) else {
            return format!("no such attribute(s): {name}");
        };
        for seg in segs {
            if let Some(f) = v.downcast_ref::<values::FailedRuntime>() {
                return f.0.clone();
            }
            if let Some(m) = v.downcast_ref::<MsgVal>() {
                match m.field(seg) {
                    Some(f) => {
                        v = f.downcast_ref::<UnsetMsg>().map(|u| u.default).unwrap_or(f);
                        continue;
                    }
                    None => return format!("no such field '{seg}'"),
                }
            }
            if v.downcast_ref::<CelList>().is_some() {
                return "unsupported index type 'string' in list".to_owned();
            }
            if v.downcast_ref::<CelMap>().is_some() {
                match select_step(v, seg) {
                    Some(next) => {
                        v = next;
                        continue;
                    }
                    None => return format!("no such key: {seg}"),
                }
            }
            // cel-go's qualifier on anything else (string, number, bool, null).
            return format!("no such key: {seg}");
        }
        format!("no such attribute(s): {name}")
    }
}

/// One field selection done by the resolver itself: a message field or a present map /
/// variable key. Anything else (missing key, other types) is left to the interpreter,
/// which then reports the proper error.
fn select_step<'b>(v: &'b (dyn Val + 'b), field: &str) -> Option<&'b (dyn Val + 'b)> {
    use cel::common::types::CelMap;
    if let Some(m) = v.downcast_ref::<MsgVal>() {
        return Some(unset_default(m.field(field)?));
    }
    let map = v.downcast_ref::<CelMap>()?;
    match cel::common::traits::Indexer::get(map, &cel::common::types::CelString::from(field)).ok()? {
        CowVal::Borrowed(r) => Some(r),
        CowVal::Owned(_) => None,
    }
}

/// A message field as read: an unset message field reads as its default (empty) message.
fn unset_default<'b>(f: &'b (dyn Val + 'static)) -> &'b (dyn Val + 'static) {
    match f.downcast_ref::<UnsetMsg>() {
        Some(unset) => unset.default,
        None => f,
    }
}

impl VariableResolver for Activation<'_> {
    /// The interpreter asks for the longest dotted prefix of a name first (`R.attr.x`,
    /// then `R.attr`, then `R`), so resolving whole paths here saves it the walk.
    fn resolve<'b>(&'b self, name: &str) -> Option<CowVal<'b, 'b>> {
        if let Some(v) = self.root(name) {
            return Some(CowVal::Borrowed(v));
        }
        // A predicate, not the char '.': for these short ASCII paths a plain scan is several times
        // cheaper than `str::split('.')`'s memchr-based searcher (it showed in profiles).
        let is_dot = |c: char| c == '.';
        let (root, rest) = name.split_once(is_dot)?;
        let mut segs = rest.split(is_dot);
        let mut v = match root {
            "V" | "variables" => self.variables.0.map.get(segs.next()?)?.as_ref(),
            "C" | "constants" => self.constants.0.map.get(segs.next()?)?.as_ref(),
            "G" | "globals" => self.globals.0.map.get(segs.next()?)?.as_ref(),
            // The request's parts field by field: a whole message is only built when read whole.
            "R" => self.request.resource.field(segs.next()?)?,
            "P" => self.request.principal.field(segs.next()?)?,
            "request" => match segs.next()? {
                "principal" => match segs.next() {
                    Some(f) => self.request.principal.field(f)?,
                    None => self.request.principal.whole(),
                },
                "resource" => match segs.next() {
                    Some(f) => self.request.resource.field(f)?,
                    None => self.request.resource.whole(),
                },
                "aux_data" | "auxData" => unset_default(self.request.aux_data()),
                _ => return None,
            },
            _ => self.root(root)?,
        };
        for seg in segs {
            v = select_step(v, seg)?;
        }
        Some(CowVal::Borrowed(v))
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

fn run<T>(expr: &CompiledExpr, act: &Activation<'_>, f: impl FnOnce(&dyn Val) -> Result<T, EvalError>) -> Result<T, EvalError> {
    // The interpreter recurses once per level of nesting: give it the stack the expression needs,
    // whatever thread evaluates it.
    limits::with_eval_stack(expr.depth, || {
        let (outcome, breach) = budget::metered(&act.limits, || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut ctx = Context::with_env(env::env().clone());
                ctx.set_variable_resolver(act);
                match cel::Value::resolve_val(&expr.expr, &ctx) {
                    Ok(v) => f(v.as_ref()),
                    Err(e) => match first_operand_error(&expr.expr, &ctx).unwrap_or(e) {
                        cel::ExecutionError::UndeclaredReference(name) if name.contains('.') => Err(EvalError { message: act.path_error(&name) }),
                        e => Err(errors::to_eval_error(&e)),
                    },
                }
            }))
        });
        if let Some(breach) = breach {
            // Whatever the expression made of the failed charge (`error || true` is `true`).
            return Err(EvalError { message: breach.message() });
        }
        outcome.unwrap_or_else(|_| Err(EvalError { message: "internal error while evaluating the expression".into() }))
    })
}

/// cel-go's `&&` and `||` report the first failing operand, left to right, when no operand decides
/// the result; the `cel` crate reports the right one. Only on the error path, the operands are
/// evaluated again one by one to find the error cel-go would report.
fn first_operand_error(e: &IdedExpr, ctx: &Context<'_, '_>) -> Option<cel::ExecutionError> {
    use cel::common::ast::{operators, Expr};
    let Expr::Call(call) = &e.expr else { return None };
    if call.target.is_some() || call.args.len() != 2 || (call.func_name != operators::LOGICAL_AND && call.func_name != operators::LOGICAL_OR) {
        return None;
    }
    for arg in &call.args {
        if let Err(err) = cel::Value::resolve_val(arg, ctx) {
            return Some(first_operand_error(arg, ctx).unwrap_or(err));
        }
    }
    None
}

/// Evaluates `expr`, returning its value (owned, independent of the activation).
pub fn eval(expr: &CompiledExpr, act: &Activation<'_>) -> Result<CelValue, EvalError> {
    run(expr, act, |v| CelValue::from_val(v).map_err(|e| errors::to_eval_error(&e)))
}

/// Evaluates `expr` straight to JSON (for outputs), as [`value_to_json`] would convert its
/// value; a value JSON cannot hold is an error carrying cel-go's conversion message.
pub fn eval_json(expr: &CompiledExpr, act: &Activation<'_>) -> Result<serde_json::Value, EvalError> {
    run(expr, act, |v| values::val_to_json(v).map_err(|message| EvalError { message }))
}

/// Evaluates a condition as Cerbos does: a boolean result is returned, any other result is
/// `Ok(false)` (Cerbos's `evaluateBoolCELExpr`), a runtime error is `Err`.
pub fn eval_bool(expr: &CompiledExpr, act: &Activation<'_>) -> Result<bool, EvalError> {
    run(expr, act, |v| Ok(v.downcast_ref::<CelBool>().is_some_and(|b| *b.inner())))
}

/// JSON to CEL the way Cerbos does it (`google.protobuf.Value`): every number is a double.
pub fn json_to_value(v: &serde_json::Value) -> CelValue {
    CelValue::from_json(v)
}

/// CEL to JSON as cel-go converts to `google.protobuf.Value`: ints/uints become numbers,
/// bytes base64, timestamps RFC 3339 strings, durations `"1.5s"`, maps objects (`int`, `uint`
/// and `bool` keys written as strings: `{1: 'a'}` is `{"1": "a"}`). Cerbos's own types and
/// optionals are errors.
pub fn value_to_json(v: &CelValue) -> Result<serde_json::Value, String> {
    v.to_json()
}

#[cfg(test)]
mod borrowing_tests {
    use super::*;
    use serde_json::json;

    /// A request whose fields are converted on first read answers exactly as one converted up front.
    #[test]
    fn borrowing_request_reads_as_the_eager_one() {
        let p_attr = json!({"dept": "sales", "tags": ["a", "b"], "n": 3}).as_object().unwrap().clone();
        let r_attr = json!({"owner": "u1", "nested": {"x": [1, 2]}, "empty": ""}).as_object().unwrap().clone();
        let roles = vec!["user".to_string(), "admin".to_string()];
        let principal = PrincipalFields { id: "u1", roles: &roles, attr: &p_attr, policy_version: "", scope: "a.b" };
        let resource = ResourceFields { kind: "doc", id: "", attr: &r_attr, policy_version: "20210210", scope: "" };
        let now = chrono::DateTime::parse_from_rfc3339("2024-05-01T10:00:00Z").unwrap();
        let mut eager = Request::new(&principal, &resource, None);
        eager.set_now(now);
        let lazy = Request::borrowing(&principal, &resource, None, now);
        for src in [
            "R.attr.owner == P.id",
            "P.roles",
            "\"admin\" in P.roles && size(P.attr.tags) == 2",
            "has(P.scope) && !has(P.policyVersion) && !has(R.id) && has(R.policyVersion)",
            "has(request.auxData) || size(request.auxData.jwt) == 0",
            "R.attr.nested.x[1] + 1.0",
            "R.attr.missing",
            "P.attr.dept.nope",
            "R.kind + \"/\" + R.policy_version + \"/\" + P.scope",
            "request",
            "R == R",
            "now()",
        ] {
            let expr = compile(src).unwrap();
            let (a, b) = (eval(&expr, &Activation::new(&eager)), eval(&expr, &Activation::new(&lazy)));
            let (a, b) = (a.map(|v| v.to_json()), b.map(|v| v.to_json()));
            assert_eq!(a, b, "{src}");
        }
    }
}

//! Evaluating conditions for one request: the request converted to CEL values once,
//! variables evaluated once per policy, each rule's condition once, CEL errors collected.
use super::explain::ConditionResult;
use super::request::{CelError, CheckInput, EvaluationError, OutputEntry};
use crate::cel::{self, Activation, AuxDataFields, CompiledExpr, PrincipalFields, Request, ResourceFields, Vars};
use crate::compile::table::{Cond, Params};
use chrono::{DateTime, FixedOffset};
use std::cell::Cell;
use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock, OnceLock};

/// The request as CEL sees it (`request`, `P`, `R`): built on the first evaluation, at most once
/// per input, and not at all when no condition is evaluated; each of its fields is converted
/// when an expression first reads it.
pub struct RequestValues<'a> {
    input: &'a CheckInput,
    principal_scope: &'a str,
    resource_scope: &'a str,
    now: DateTime<FixedOffset>,
    request: OnceLock<Request<'a>>,
}

impl<'a> RequestValues<'a> {
    /// `principal_scope`/`resource_scope` are the request's scopes with a leading `.` removed.
    pub fn new(input: &'a CheckInput, principal_scope: &'a str, resource_scope: &'a str, now: DateTime<FixedOffset>) -> Self {
        RequestValues { input, principal_scope, resource_scope, now, request: OnceLock::new() }
    }

    fn request(&self) -> &Request<'a> {
        self.request.get_or_init(|| {
            let (p, r) = (&self.input.principal, &self.input.resource);
            let principal = PrincipalFields { id: &p.id, roles: &p.roles, attr: &p.attr, policy_version: &p.policy_version, scope: self.principal_scope };
            let resource = ResourceFields { kind: &r.kind, id: &r.id, attr: &r.attr, policy_version: &r.policy_version, scope: self.resource_scope };
            let aux = self.input.aux_data.as_ref().map(|a| AuxDataFields { jwt: Some(&a.jwt), jwts: Some(&a.jwts) });
            Request::borrowing(&principal, &resource, aux.as_ref(), self.now)
        })
    }
}

static NO_VARS: LazyLock<Vars> = LazyLock::new(Vars::new);

pub struct CondEvaluator<'a> {
    values: &'a RequestValues<'a>,
    globals: &'a Vars,
    /// `runtime.effectiveDerivedRoles` for the scope being evaluated (sorted).
    runtime: Vec<String>,
    // Per-request caches: a handful of entries, so vectors beat hash maps (and don't allocate when empty).
    variables: Vec<(usize, Vars)>,
    conditions: Vec<(usize, bool)>,
    errors: Vec<(String, String)>,
    /// Condition leaves evaluated since the last `take_leaves`, when explaining.
    leaves: Option<Vec<ConditionResult>>,
    /// Strict evaluation: a runtime error fails the condition instead of counting as false.
    strict: bool,
    /// In strict mode, why `runtime.effectiveDerivedRoles` could not be computed in this scope.
    runtime_error: Option<String>,
    /// Whether an expression evaluated for this request read `now()`.
    used_now: Cell<bool>,
}

/// A condition whose evaluation failed in strict mode (the error is already recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrictError;

impl<'a> CondEvaluator<'a> {
    pub fn new(values: &'a RequestValues<'a>, globals: &'a Vars) -> Self {
        CondEvaluator {
            values,
            globals,
            runtime: Vec::new(),
            variables: Vec::new(),
            conditions: Vec::new(),
            errors: Vec::new(),
            leaves: None,
            strict: false,
            runtime_error: None,
            used_now: Cell::new(false),
        }
    }

    /// Starts recording each evaluated condition leaf (for explanations).
    pub fn record_leaves(&mut self) {
        self.leaves = Some(Vec::new());
    }

    pub fn take_leaves(&mut self) -> Vec<ConditionResult> {
        self.leaves.as_mut().map(std::mem::take).unwrap_or_default()
    }

    pub fn set_strict(&mut self, strict: bool) {
        self.strict = strict;
    }

    /// Strict mode: derived roles whose conditions failed make every read of `runtime` fail.
    pub fn set_runtime_error(&mut self, failed_roles: &[&str]) {
        self.runtime_error = (!failed_roles.is_empty()).then(|| format!("failed to compute effective derived roles [{}]", failed_roles.join(", ")));
    }

    pub fn set_effective_derived_roles(&mut self, roles: &BTreeSet<&str>) {
        if self.runtime.len() == roles.len() && self.runtime.iter().zip(roles).all(|(a, b)| a == b) {
            return;
        }
        self.runtime.clear();
        self.runtime.extend(roles.iter().map(|r| r.to_string()));
    }

    pub fn cached_condition(&self, key: usize) -> Option<bool> {
        self.conditions.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    pub fn cache_condition(&mut self, key: usize, v: bool) {
        self.conditions.push((key, v));
    }

    /// Evaluates a policy's variables the first time the policy is reached; a failing variable is left unset.
    pub fn ensure_variables(&mut self, p: &Params) {
        if p.variables.is_empty() || self.variables.iter().any(|(k, _)| *k == p.key) {
            return;
        }
        let mut vars = Vars::new();
        for (name, expr) in &p.variables {
            match self.eval_raw(expr, &p.constants, &vars) {
                Ok(v) => vars.insert(name.clone(), v),
                Err(msg) => self.errors.push((expr.source().to_string(), msg)),
            }
        }
        self.variables.push((p.key, vars));
    }

    fn activation<'b>(&'b self, expr: &CompiledExpr, constants: &'b Vars, variables: &'b Vars) -> Activation<'b> {
        let act = Activation::new(self.values.request()).with_variables(variables).with_constants(constants).with_globals(self.globals);
        // Only build the runtime list for expressions that read it.
        match (&self.runtime_error, expr.uses_runtime()) {
            (_, false) => act,
            (Some(e), true) => act.with_runtime_error(e.clone()),
            (None, true) => act.with_runtime_roles(self.runtime.clone()),
        }
    }

    /// Runs one evaluation of `expr`, noting whether it read `now()`.
    fn evaluate<T>(&self, expr: &CompiledExpr, constants: &Vars, variables: &Vars, eval: impl FnOnce(&CompiledExpr, &Activation) -> T) -> T {
        let act = self.activation(expr, constants, variables);
        let result = eval(expr, &act);
        if expr.uses_now() && act.read_now() {
            self.used_now.set(true);
        }
        result
    }

    fn eval_raw(&self, expr: &CompiledExpr, constants: &Vars, variables: &Vars) -> Result<cel::CelValue, String> {
        self.evaluate(expr, constants, variables, cel::eval).map_err(|e| e.message)
    }

    /// Whether any expression evaluated so far read `now()` (a condition, variable or output
    /// that was reached; one skipped by short-circuiting or caching did not).
    pub fn used_now(&self) -> bool {
        self.used_now.get()
    }

    fn params_vars<'p>(&'p self, params: Option<&'p Arc<Params>>) -> (&'p Vars, &'p Vars) {
        match params {
            Some(p) => (&p.constants, self.variables.iter().find(|(k, _)| *k == p.key).map(|(_, v)| v).unwrap_or(&NO_VARS)),
            None => (&NO_VARS, &NO_VARS),
        }
    }

    /// Whether the condition holds. Non-strict (Cerbos's default): an erroring or non-boolean leaf
    /// counts as false. Strict: an erroring leaf fails the whole condition. Errors are recorded.
    pub fn satisfies(&mut self, c: &Cond, params: Option<&Arc<Params>>) -> Result<bool, StrictError> {
        let mut errors = Vec::new();
        let mut leaves = self.leaves.take();
        let (constants, variables) = self.params_vars(params);
        let v = self.satisfies_with(c, constants, variables, &mut errors, leaves.as_mut());
        self.leaves = leaves;
        self.errors.extend(errors);
        v
    }

    fn satisfies_with(
        &self,
        c: &Cond,
        constants: &Vars,
        variables: &Vars,
        errors: &mut Vec<(String, String)>,
        mut leaves: Option<&mut Vec<ConditionResult>>,
    ) -> Result<bool, StrictError> {
        let failed = |errors: &mut Vec<(String, String)>, e: &CompiledExpr, msg: String| {
            errors.push((e.source().to_string(), msg));
            if self.strict {
                Err(StrictError)
            } else {
                Ok(false)
            }
        };
        match c {
            Cond::Expr(e) => {
                if let Some(leaves) = leaves {
                    let result = self.eval_raw(e, constants, variables);
                    leaves.push(match &result {
                        Ok(v) => ConditionResult { expr: e.source().to_string(), value: Some(v.to_json().unwrap_or(serde_json::Value::Null)), error: None },
                        Err(m) => ConditionResult { expr: e.source().to_string(), value: None, error: Some(m.clone()) },
                    });
                    return match result {
                        Ok(v) => Ok(v.as_bool().unwrap_or(false)),
                        Err(msg) => failed(errors, e, msg),
                    };
                }
                match self.evaluate(e, constants, variables, cel::eval_bool) {
                    Ok(b) => Ok(b),
                    Err(err) => failed(errors, e, err.message),
                }
            }
            // Short-circuits as Cerbos's SatisfiesCondition does; a strict failure ends the walk.
            Cond::All(cs) => {
                for c in cs {
                    if !self.satisfies_with(c, constants, variables, errors, leaves.as_deref_mut())? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Cond::Any(cs) => {
                for c in cs {
                    if self.satisfies_with(c, constants, variables, errors, leaves.as_deref_mut())? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Cond::None(cs) => {
                for c in cs {
                    if self.satisfies_with(c, constants, variables, errors, leaves.as_deref_mut())? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
        }
    }

    pub fn output(&mut self, e: &CompiledExpr, params: Option<&Arc<Params>>, src: String, action: &str) -> OutputEntry {
        let (constants, variables) = self.params_vars(params);
        let result = self.eval_raw(e, constants, variables).and_then(|v| v.to_json());
        match result {
            Ok(val) => OutputEntry { src, val: Some(val), action: action.to_string(), error: None },
            Err(msg) => OutputEntry { src, val: None, action: action.to_string(), error: Some(msg) },
        }
    }

    /// Errors deduplicated and sorted by expression, then message, as Cerbos reports them.
    pub fn take_errors(&mut self) -> Vec<EvaluationError> {
        let mut errors = std::mem::take(&mut self.errors);
        errors.sort();
        errors.dedup();
        errors.into_iter().map(|(expression, message)| EvaluationError { cel_error: CelError { expression, message } }).collect()
    }
}

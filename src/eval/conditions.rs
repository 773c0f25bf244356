//! Evaluating conditions for one request: the request converted to CEL values once,
//! variables evaluated once per policy, each rule's condition once, CEL errors collected.
use super::request::{CelError, CheckInput, EvaluationError, OutputEntry};
use crate::cel::{self, Activation, CompiledExpr};
use crate::compile::table::{Cond, Params};
use ::cel::Value;
use chrono::{DateTime, FixedOffset};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// The request as CEL sees it (`request`, `P`, `R`), built once per input.
pub struct RequestValues {
    pub request: Value,
    pub principal: Value,
    pub resource: Value,
}

fn s(v: &str) -> Value {
    Value::String(Arc::new(v.to_string()))
}

impl RequestValues {
    /// `principal_scope`/`resource_scope` are the request's scopes with a leading `.` removed.
    pub fn new(input: &CheckInput, principal_scope: &str, resource_scope: &str) -> Self {
        let p = &input.principal;
        let roles = Value::List(Arc::new(p.roles.iter().map(|r| s(r)).collect()));
        let principal = cel::map_value([
            ("id", s(&p.id)),
            ("roles", roles),
            ("attr", cel::json_to_value(&serde_json::Value::Object(p.attr.clone()))),
            ("policyVersion", s(&p.policy_version)),
            ("policy_version", s(&p.policy_version)),
            ("scope", s(principal_scope)),
        ]);
        let r = &input.resource;
        let resource = cel::map_value([
            ("kind", s(&r.kind)),
            ("id", s(&r.id)),
            ("attr", cel::json_to_value(&serde_json::Value::Object(r.attr.clone()))),
            ("policyVersion", s(&r.policy_version)),
            ("policy_version", s(&r.policy_version)),
            ("scope", s(resource_scope)),
        ]);
        let (jwt, jwts) = match &input.aux_data {
            Some(a) => (serde_json::Value::Object(a.jwt.clone()), serde_json::Value::Object(a.jwts.clone())),
            None => (serde_json::json!({}), serde_json::json!({})),
        };
        let aux = cel::map_value([("jwt", cel::json_to_value(&jwt)), ("jwts", cel::json_to_value(&jwts))]);
        let request = cel::map_value([
            ("principal", principal.clone()),
            ("resource", resource.clone()),
            ("auxData", aux.clone()),
            ("aux_data", aux),
        ]);
        RequestValues { request, principal, resource }
    }
}

pub struct CondEvaluator<'a> {
    values: &'a RequestValues,
    globals: &'a Value,
    now: DateTime<FixedOffset>,
    empty: Value,
    runtime: Value,
    variables: HashMap<usize, Value>,
    conditions: HashMap<usize, bool>,
    errors: BTreeSet<(String, String)>,
}

impl<'a> CondEvaluator<'a> {
    pub fn new(values: &'a RequestValues, globals: &'a Value, now: DateTime<FixedOffset>) -> Self {
        let empty = cel::map_value(std::iter::empty());
        let runtime = runtime_value(&BTreeSet::new());
        CondEvaluator { values, globals, now, empty, runtime, variables: HashMap::new(), conditions: HashMap::new(), errors: BTreeSet::new() }
    }

    pub fn set_effective_derived_roles(&mut self, roles: &BTreeSet<String>) {
        self.runtime = runtime_value(roles);
    }

    pub fn cached_condition(&self, key: usize) -> Option<bool> {
        self.conditions.get(&key).copied()
    }

    pub fn cache_condition(&mut self, key: usize, v: bool) {
        self.conditions.insert(key, v);
    }

    /// Evaluates a policy's variables the first time the policy is reached; a failing variable is left unset.
    pub fn ensure_variables(&mut self, p: &Params) {
        if self.variables.contains_key(&p.key) {
            return;
        }
        let mut done: Vec<(&str, Value)> = Vec::with_capacity(p.variables.len());
        for (name, expr) in &p.variables {
            let vars = cel::map_value(done.iter().map(|(n, v)| (*n, v.clone())));
            match self.eval_raw(expr, &p.constants, &vars) {
                Ok(v) => done.push((name.as_str(), v)),
                Err(msg) => {
                    self.errors.insert((expr.source().to_string(), msg));
                }
            }
        }
        let vars = cel::map_value(done.into_iter());
        self.variables.insert(p.key, vars);
    }

    fn eval_raw(&self, expr: &CompiledExpr, constants: &Value, variables: &Value) -> Result<Value, String> {
        let act = Activation {
            request: &self.values.request,
            principal: &self.values.principal,
            resource: &self.values.resource,
            variables,
            constants,
            globals: self.globals,
            runtime: &self.runtime,
            now: self.now,
        };
        cel::eval(expr, &act).map_err(|e| e.message)
    }

    fn params_values(&self, params: Option<&Arc<Params>>) -> (Value, Value) {
        match params {
            Some(p) => (p.constants.clone(), self.variables.get(&p.key).cloned().unwrap_or_else(|| self.empty.clone())),
            None => (self.empty.clone(), self.empty.clone()),
        }
    }

    /// Cerbos's non-strict semantics: an erroring or non-boolean leaf counts as false (the error is recorded).
    pub fn satisfies(&mut self, c: &Cond, params: Option<&Arc<Params>>) -> bool {
        let (constants, variables) = self.params_values(params);
        self.satisfies_with(c, &constants, &variables)
    }

    fn satisfies_with(&mut self, c: &Cond, constants: &Value, variables: &Value) -> bool {
        match c {
            Cond::Expr(e) => match self.eval_raw(e, constants, variables) {
                Ok(Value::Bool(b)) => b,
                Ok(_) => false,
                Err(msg) => {
                    self.errors.insert((e.source().to_string(), msg));
                    false
                }
            },
            Cond::All(cs) => cs.iter().all(|c| self.satisfies_with(c, constants, variables)),
            Cond::Any(cs) => cs.iter().any(|c| self.satisfies_with(c, constants, variables)),
            Cond::None(cs) => !cs.iter().any(|c| self.satisfies_with(c, constants, variables)),
        }
    }

    pub fn output(&mut self, e: &CompiledExpr, params: Option<&Arc<Params>>, src: String, action: &str) -> OutputEntry {
        let (constants, variables) = self.params_values(params);
        let result = self.eval_raw(e, &constants, &variables).and_then(|v| cel::value_to_json(&v));
        match result {
            Ok(val) => OutputEntry { src, val: Some(val), action: action.to_string(), error: None },
            Err(msg) => OutputEntry { src, val: None, action: action.to_string(), error: Some(msg) },
        }
    }

    /// Errors deduplicated and sorted by expression, then message, as Cerbos reports them.
    pub fn take_errors(&mut self) -> Vec<EvaluationError> {
        std::mem::take(&mut self.errors)
            .into_iter()
            .map(|(expression, message)| EvaluationError { cel_error: CelError { expression, message } })
            .collect()
    }
}

fn runtime_value(roles: &BTreeSet<String>) -> Value {
    let list = Value::List(Arc::new(roles.iter().map(|r| s(r)).collect()));
    cel::map_value([("effectiveDerivedRoles", list.clone()), ("effective_derived_roles", list)])
}

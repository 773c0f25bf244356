//! One check, decided exactly as Cerbos's rule table decides it (internal/ruletable/check.go):
//! principal policies first, then resource policies; per role, scopes from most specific to root;
//! DENY beats ALLOW within a role, any role's ALLOW wins, anything undecided is DENY.
//!
//! The steps, in order: [`Lookup::resolve`] (scopes, versions and policy keys), [`enforce_schemas`],
//! [`Decider::decide_action`] for each action (per policy kind, per role, per scope, per rule), then
//! the output is assembled. What an explanation needs is handed to a [`Record`], which costs
//! nothing when the check is not explained ([`NoRecord`]).
use super::conditions::{CondEvaluator, RequestValues};
use super::config::EngineConfig;
use super::explain::{DerivedRoleStep, Explanation, NoRecord, Record, Recorder, RuleStep};
use super::request::*;
use crate::compile::table::*;
use crate::glob::Pattern;
use crate::naming::{policy_key, principal_policy_fqn, resource_policy_fqn, resource_policy_key, role_policy_fqn, sanitized, scope_parents};
use chrono::{DateTime, FixedOffset};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

pub const NO_MATCH: &str = "NO_MATCH";
const NO_MATCH_FOR_SCOPE_PERMISSIONS: &str = "NO_MATCH_FOR_SCOPE_PERMISSIONS";

/// How an action, or one role's pass over it, stands: `effect` None is "no match yet". The policy
/// key borrows from the table or from the keys computed once per check.
#[derive(Debug, Clone)]
struct Decided<'a> {
    effect: Option<Effect>,
    policy: Cow<'a, str>,
    scope: &'a str,
}

impl<'a> Decided<'a> {
    fn undecided(policy: &'a str) -> Self {
        Decided { effect: None, policy: Cow::Borrowed(policy), scope: "" }
    }

    fn deny(policy: Cow<'a, str>, scope: &'a str) -> Self {
        Decided { effect: Some(Effect::Deny), policy, scope }
    }

    fn to_action_effect(&self) -> ActionEffect {
        ActionEffect { effect: self.effect.unwrap_or(Effect::Deny), policy: self.policy.to_string(), scope: self.scope.to_string() }
    }
}

/// A row as the evaluator sees it: an indexed row, or one synthesised from a role policy.
pub(crate) enum Binding<'t> {
    Row(&'t Row),
    Synthetic(Synthetic<'t>),
}

pub(crate) struct Synthetic<'t> {
    origin_fqn: String,
    name: &'t str,
    pub(crate) effect: Option<Effect>,
    pub(crate) condition: Option<Cond>,
    output: Option<OutputExprs>,
    pub(crate) params: Option<&'t Arc<Params>>,
    /// None: no condition, nothing to cache.
    eval_key: Option<usize>,
}

impl Binding<'_> {
    pub(crate) fn effect(&self) -> Option<Effect> {
        match self {
            Binding::Row(r) => r.effect,
            Binding::Synthetic(s) => s.effect,
        }
    }

    fn params(&self) -> Option<&Arc<Params>> {
        match self {
            Binding::Row(r) => r.params.as_ref(),
            Binding::Synthetic(s) => s.params,
        }
    }

    fn condition(&self) -> Option<&Cond> {
        match self {
            Binding::Row(r) => r.condition.as_deref(),
            Binding::Synthetic(s) => s.condition.as_ref(),
        }
    }

    fn output(&self) -> Option<&OutputExprs> {
        match self {
            Binding::Row(r) => r.output.as_deref(),
            Binding::Synthetic(s) => s.output.as_ref(),
        }
    }

    /// The key of the rule's cached condition value (None: nothing to cache).
    fn eval_key(&self) -> Option<usize> {
        match self {
            Binding::Row(r) => Some(r.eval_key),
            Binding::Synthetic(s) => s.eval_key,
        }
    }

    /// (policy key, rule name, whether the rule comes from a role policy)
    fn origin<'b>(&'b self, table: &'b RuleTable) -> (&'b str, &'b str, bool) {
        match self {
            Binding::Row(r) => (table.meta[r.origin].key.as_str(), r.name.as_str(), r.from_role_policy),
            Binding::Synthetic(s) => (policy_key(&s.origin_fqn), s.name, true),
        }
    }
}

/// The request scope: the default when empty, a leading `.` (root alias) removed.
pub(crate) fn scope_value<'a>(scope: &'a str, default: &'a str) -> &'a str {
    let s = if scope.is_empty() { default } else { scope };
    s.strip_prefix('.').unwrap_or(s)
}

/// Scopes that have policies, most specific first, each with its index key for the version
/// (None: nothing indexed under it).
type Scopes<'t> = Vec<(&'t str, Option<ScopeKey>)>;

/// Cerbos's `GetAllScopes`: the scopes (most specific first) that have policies of a kind, and the
/// first of them (for the policy key). Strict search needs the requested scope itself to exist.
pub(crate) fn all_scopes<'t>(
    table: &'t RuleTable,
    set: &rustc_hash::FxHashSet<u32>,
    scope: &str,
    version: Option<u32>,
    lenient: bool,
) -> (Scopes<'t>, Option<&'t str>) {
    let mut scopes = Vec::new();
    let present = |s: &str| table.scopes.get(s).filter(|id| set.contains(id));
    let with_key = |id: u32| (table.scopes.name(id), version.map(|v| ScopeKey::new(v, id)));
    match present(scope) {
        Some(id) => scopes.push(with_key(id)),
        None if !lenient => return (scopes, None),
        None => {}
    }
    for s in scope_parents(scope) {
        if let Some(id) = present(s) {
            scopes.push(with_key(id));
        }
    }
    let first = scopes.first().map(|&(s, _)| s);
    (scopes, first)
}

/// Decides one input.
pub fn check(table: &RuleTable, conf: &EngineConfig, input: &CheckInput, now: DateTime<FixedOffset>) -> CheckOutput {
    decide(table, conf, input, now, &mut NoRecord)
}

/// Decides one input and explains how: the rules reached per action, with condition values.
pub fn check_explained(table: &RuleTable, conf: &EngineConfig, input: &CheckInput, now: DateTime<FixedOffset>) -> (CheckOutput, Explanation) {
    let mut recorder = Recorder::default();
    let out = decide(table, conf, input, now, &mut recorder);
    (out, recorder.into_explanation())
}

/// Step 1: where to look. The scopes with policies for the principal and the resource, the
/// versions asked for, and the keys of the policies that would decide.
struct Lookup<'t, 'i> {
    principal_scope: &'i str,
    resource_scope: &'i str,
    principal_version: &'i str,
    resource_version: &'i str,
    principal_scopes: Scopes<'t>,
    resource_scopes: Scopes<'t>,
    principal_key: String,
    resource_key: String,
    /// Whether a resource policy of the kind exists in the requested scope chain.
    resource_policy_found: bool,
}

impl<'t, 'i> Lookup<'t, 'i> {
    fn resolve(table: &'t RuleTable, conf: &'i EngineConfig, input: &'i CheckInput) -> Self {
        let version = |v: &'i str| if v.is_empty() { conf.default_policy_version.as_str() } else { v };
        let principal_scope = scope_value(&input.principal.scope, &conf.default_scope);
        let resource_scope = scope_value(&input.resource.scope, &conf.default_scope);
        let (principal_version, resource_version) = (version(&input.principal.policy_version), version(&input.resource.policy_version));
        let lenient = conf.lenient_scope_search;
        // Cerbos queries principal rows with the resource version too: its index has one version dimension.
        let version_id = table.versions.get(resource_version);
        let (principal_scopes, p_first) = all_scopes(table, &table.principal_scopes, principal_scope, version_id, lenient);
        let (resource_scopes, r_first) = all_scopes(table, &table.resource_scopes, resource_scope, version_id, lenient);
        let principal_key = p_first.map(|s| policy_key(&principal_policy_fqn(&input.principal.id, principal_version, s)).to_string()).unwrap_or_default();
        let resource_key = r_first.map(|s| resource_policy_key(&input.resource.kind, resource_version, s)).unwrap_or_default();
        Lookup {
            principal_scope,
            resource_scope,
            principal_version,
            resource_version,
            principal_scopes,
            resource_scopes,
            principal_key,
            resource_key,
            resource_policy_found: r_first.is_some(),
        }
    }

    fn any_scope(&self) -> bool {
        !(self.principal_scopes.is_empty() && self.resource_scopes.is_empty())
    }

    /// Whether principal rows exist for the request (under the principal's version).
    fn principal_policies_exist(&self, table: &RuleTable) -> bool {
        self.any_scope()
            && self.principal_scopes.iter().any(|&(s, key)| {
                let key = if self.principal_version == self.resource_version { key } else { table.scope_key(self.principal_version, s) };
                key.is_some_and(|k| table.bucket_exists(PolicyKind::Principal, k))
            })
    }

    /// Whether resource rows (or role-policy rows) exist for the kind in the resource's scopes.
    fn resource_policies_exist(&self, table: &RuleTable, kind: &str) -> bool {
        self.any_scope()
            && self.resource_scopes.iter().filter_map(|&(_, key)| key).any(|key| {
                table.has_rows_for(PolicyKind::Resource, key, kind)
                    || table.role_policy_rows.get(key).is_some_and(|rows| rows.iter().any(|&i| table.rows[i as usize].resource.matches(kind)))
            })
    }
}

/// Step 2: the attributes, validated against the schemas of the root of the matched resource
/// policy's chain. Returns true when the request is rejected (every action denied).
fn enforce_schemas(table: &RuleTable, conf: &EngineConfig, input: &CheckInput, lookup: &Lookup, out: &mut CheckOutput) -> bool {
    use super::config::SchemaEnforcement;
    if !lookup.any_scope() || !lookup.resource_policy_found || conf.schema_enforcement == SchemaEnforcement::None {
        return false;
    }
    let root = resource_policy_fqn(&input.resource.kind, lookup.resource_version, "");
    let Some(s) = table.schemas.get(&root) else { return false };
    let errors = table.schema_store.validate(s.principal.as_ref(), s.resource.as_ref(), &input.principal.attr, &input.resource.attr, &input.actions);
    if errors.is_empty() {
        return false;
    }
    out.validation_errors = errors.into_iter().map(|e| ValidationError { path: e.path, message: e.message, source: e.source }).collect();
    conf.schema_enforcement == SchemaEnforcement::Reject
}

/// Whether `actions[i]` repeats an earlier action (a repeated action is decided once, as Cerbos
/// resolves each action once).
fn repeated(actions: &[String], i: usize) -> bool {
    actions[..i].contains(&actions[i])
}

fn decide<R: Record>(table: &RuleTable, conf: &EngineConfig, input: &CheckInput, now: DateTime<FixedOffset>, rec: &mut R) -> CheckOutput {
    let lookup = Lookup::resolve(table, conf, input);
    let resource = sanitized(&input.resource.kind);
    let values = RequestValues::new(input, lookup.principal_scope, lookup.resource_scope, now);
    let mut out = CheckOutput { request_id: input.request_id.clone(), resource_id: input.resource.id.clone(), ..Default::default() };
    // Indexed like `input.actions`; None until decided.
    let mut decisions: Vec<Option<Decided>> = vec![None; input.actions.len()];

    if enforce_schemas(table, conf, input, &lookup, &mut out) {
        for d in decisions.iter_mut() {
            *d = Some(Decided::deny(Cow::Borrowed(lookup.resource_key.as_str()), ""));
        }
    } else {
        let principal_exists = lookup.principal_policies_exist(table);
        let resource_exists = lookup.resource_policies_exist(table, &resource);
        if principal_exists || resource_exists {
            let mut ev = CondEvaluator::new(&values, &conf.globals);
            ev.set_strict(conf.strict_evaluation);
            if R::ON {
                ev.record_leaves();
            }
            let mut decider = Decider {
                table,
                input,
                lookup: &lookup,
                resource: &resource,
                principal_exists,
                resource_exists,
                all_roles: table.add_parent_roles(lookup.resource_scope, &input.principal.roles),
                ev,
                derived_roles: Vec::new(),
                effective_derived_roles: BTreeSet::new(),
                // Sized for the usual handful of rows, so that filling them does not grow them step by step.
                candidates: Vec::with_capacity(8),
                bindings: Vec::with_capacity(8),
                outputs: Vec::new(),
                rec: &mut *rec,
            };
            for (i, action) in input.actions.iter().enumerate() {
                if !repeated(&input.actions, i) {
                    decisions[i] = Some(decider.decide_action(action));
                }
            }
            out.evaluation_errors = decider.ev.take_errors();
            out.used_now = decider.ev.used_now();
            out.effective_derived_roles = decider.effective_derived_roles.iter().map(|r| r.to_string()).collect();
            out.outputs = std::mem::take(&mut decider.outputs);
        }
    }

    // Step 4: the output, one entry per distinct action in request order.
    out.actions.0.reserve(input.actions.len());
    for (i, action) in input.actions.iter().enumerate() {
        if !repeated(&input.actions, i) {
            let effect = match &decisions[i] {
                Some(d) => d.to_action_effect(),
                None => ActionEffect { effect: Effect::Deny, policy: NO_MATCH.to_string(), scope: String::new() },
            };
            out.actions.0.push((action.clone(), effect));
        }
    }
    out.outputs.sort_by(|a, b| a.src.cmp(&b.src));
    if R::ON {
        rec.finish(input, &out.actions.0, lookup.resource_version, lookup.resource_scope);
    }
    out
}

/// Step 3: deciding each action of one input, with what the actions share: the condition
/// evaluator and its caches, the derived roles active per scope, the outputs emitted.
struct Decider<'a, 't, 'r, R: Record> {
    table: &'t RuleTable,
    input: &'a CheckInput,
    lookup: &'a Lookup<'t, 'a>,
    /// The sanitized resource kind.
    resource: &'a str,
    principal_exists: bool,
    resource_exists: bool,
    /// The principal's roles with their role-policy ancestors.
    all_roles: Cow<'a, [String]>,
    ev: CondEvaluator<'a>,
    /// Per scope: the active derived roles, and (strict mode) those whose condition failed.
    derived_roles: Vec<(&'t str, BTreeSet<&'t str>, Vec<&'t str>)>,
    effective_derived_roles: BTreeSet<&'t str>,
    candidates: Vec<u32>,
    bindings: Vec<Binding<'t>>,
    outputs: Vec<OutputEntry>,
    rec: &'r mut R,
}

/// A strict-mode evaluation failure: it denies the action at once.
struct EvaluationFailed;

impl<'a, 't: 'a, R: Record> Decider<'a, 't, '_, R> {
    /// Principal policies first, then resource policies; the first kind that decides wins.
    fn decide_action(&mut self, action: &str) -> Decided<'a> {
        let mut decided = Decided::undecided("");
        for kind in [PolicyKind::Principal, PolicyKind::Resource] {
            decided.effect = None;
            if let Err(failed) = self.decide_kind(kind, action, &mut decided) {
                decided = failed;
                break;
            }
            if decided.effect.is_some() {
                break;
            }
        }
        let effect = *decided.effect.get_or_insert(Effect::Deny);
        self.rec.action_decided(action, effect);
        decided
    }

    /// One policy kind: each role in turn (principal rows match any role: one pass covers them).
    /// Any role's ALLOW decides; a role's DENY stands unless another role allows.
    /// Err: a strict-mode failure denied the action.
    fn decide_kind(&mut self, kind: PolicyKind, action: &str, decided: &mut Decided<'a>) -> Result<(), Decided<'a>> {
        let roles = &self.input.principal.roles;
        let roles = if kind == PolicyKind::Principal { &roles[..roles.len().min(1)] } else { &roles[..] };
        for role in roles {
            let role_decided = self.decide_role(kind, role, action)?;
            if decided.effect.is_none() {
                *decided = role_decided.clone();
            }
            if role_decided.effect == Some(Effect::Allow) {
                *decided = role_decided;
                break;
            } else if role_decided.effect == Some(Effect::Deny)
                && decided.policy == NO_MATCH_FOR_SCOPE_PERMISSIONS
                && role_decided.policy != NO_MATCH_FOR_SCOPE_PERMISSIONS
            {
                *decided = role_decided;
            }
        }
        Ok(())
    }

    /// One role: the scopes from most specific to root, until a rule denies or a scope's
    /// permissions let an allow stand. Err: a strict-mode failure denied the action.
    fn decide_role(&mut self, kind: PolicyKind, role: &String, action: &str) -> Result<Decided<'a>, Decided<'a>> {
        let lookup = self.lookup;
        let (main_key, scopes, exists) = match kind {
            PolicyKind::Principal => (lookup.principal_key.as_str(), &lookup.principal_scopes, self.principal_exists),
            PolicyKind::Resource => (lookup.resource_key.as_str(), &lookup.resource_scopes, self.resource_exists),
        };
        let mut decided = Decided::undecided(if exists { main_key } else { NO_MATCH });
        let parent_roles = self.table.add_parent_roles(lookup.resource_scope, std::slice::from_ref(role));
        // Whether a rule allowed, in this scope or a lower one whose permissions deferred to its parent.
        let mut has_allow = false;
        self.rec.role_started();
        for &(scope, key) in scopes {
            if kind == PolicyKind::Resource {
                self.activate_derived_roles(scope, key);
            }
            if decided.effect.is_some() {
                break;
            }
            let mut bindings = std::mem::take(&mut self.bindings);
            query(self.table, kind, key, self.resource, action, &parent_roles, &self.input.principal.id, &mut self.candidates, &mut bindings);
            let denied = self.apply_rules(kind, role, scope, action, &bindings, &mut has_allow);
            self.bindings = bindings;
            if let Some(role_policy) = denied? {
                decided.effect = Some(Effect::Deny);
                decided.scope = scope;
                if let Some(key) = role_policy {
                    decided.policy = Cow::Owned(key);
                }
                break;
            }
            if has_allow {
                match self.table.scope_permissions.get(scope) {
                    Some(ScopePermissions::RequireParentalConsentForAllows) => has_allow = false,
                    Some(ScopePermissions::OverrideParent) => {
                        self.rec.role_allowed();
                        decided.effect = Some(Effect::Allow);
                        decided.scope = scope;
                        break;
                    }
                    _ => {}
                }
            }
        }
        Ok(decided)
    }

    /// The rules of one scope for one role, in order, emitting their outputs. Ok(Some): a rule
    /// denied (with its role policy's key when it comes from one). Err: a strict-mode failure.
    fn apply_rules(
        &mut self,
        kind: PolicyKind,
        role: &str,
        scope: &'a str,
        action: &str,
        bindings: &[Binding<'t>],
        has_allow: &mut bool,
    ) -> Result<Option<Option<String>>, Decided<'a>> {
        for b in bindings {
            let (origin_key, rule_name, from_role_policy) = b.origin(self.table);
            let Some(satisfied) = self.rule_holds(kind, role, scope, b).map_err(|EvaluationFailed| Decided::deny(Cow::Owned(origin_key.to_string()), scope))?
            else {
                continue;
            };
            let output = b.output();
            if !satisfied {
                self.emit(output.and_then(|o| o.condition_not_met.as_ref()), b, action);
                continue;
            }
            self.emit(output.and_then(|o| o.rule_activated.as_ref()), b, action);
            match b.effect() {
                Some(Effect::Allow) => {
                    *has_allow = true;
                    self.rec.allowed_by(origin_key, rule_name);
                }
                Some(Effect::Deny) => {
                    self.rec.denied_by(origin_key, rule_name);
                    return Ok(Some(from_role_policy.then(|| origin_key.to_string())));
                }
                None => {}
            }
        }
        Ok(None)
    }

    /// Whether a rule's conditions hold, its derived role's condition first; each rule is
    /// evaluated once per request. Ok(None): its derived role is not active, the rule is skipped.
    fn rule_holds(&mut self, kind: PolicyKind, role: &str, scope: &str, b: &Binding<'t>) -> Result<Option<bool>, EvaluationFailed> {
        let params = b.params();
        if let Some(p) = params {
            self.ev.ensure_variables(p);
        }
        let eval_key = b.eval_key();
        if let Some(v) = eval_key.and_then(|k| self.ev.cached_condition(k)) {
            self.record_rule(kind, role, scope, b, v, true);
            return Ok(Some(v));
        }
        if let Binding::Row(Row { derived_role_condition: Some(c), derived_role_params, .. }) = b {
            let p = derived_role_params.as_ref().expect("derived-role rows carry their params");
            self.ev.ensure_variables(p);
            match self.ev.satisfies(c, Some(p)) {
                // Strict evaluation: a condition that fails to evaluate denies the action.
                Err(_) => {
                    self.record_rule(kind, role, scope, b, false, false);
                    return Err(EvaluationFailed);
                }
                Ok(false) => {
                    if let Some(k) = eval_key {
                        self.ev.cache_condition(k, false);
                    }
                    self.record_rule(kind, role, scope, b, false, false);
                    return Ok(None);
                }
                Ok(true) => {}
            }
        }
        let Ok(v) = b.condition().map_or(Ok(true), |c| self.ev.satisfies(c, params)) else {
            self.record_rule(kind, role, scope, b, false, false);
            return Err(EvaluationFailed);
        };
        if let Some(k) = eval_key {
            self.ev.cache_condition(k, v);
        }
        self.record_rule(kind, role, scope, b, v, false);
        Ok(Some(v))
    }

    fn record_rule(&mut self, kind: PolicyKind, role: &str, scope: &str, b: &Binding<'t>, matched: bool, cached: bool) {
        if !R::ON {
            return;
        }
        let (policy, rule, _) = b.origin(self.table);
        self.rec.rule(RuleStep {
            policy_kind: kind_name(kind),
            role: role.to_string(),
            scope: scope.to_string(),
            policy: policy.to_string(),
            rule: rule.to_string(),
            derived_role: match b {
                Binding::Row(r) => r.origin_derived_role.clone(),
                Binding::Synthetic(_) => None,
            },
            effect: b.effect(),
            matched,
            cached,
            conditions: self.ev.take_leaves(),
        });
    }

    /// Evaluates an output expression of a rule, if it has one.
    fn emit(&mut self, expr: Option<&Arc<crate::cel::CompiledExpr>>, b: &Binding<'t>, action: &str) {
        if let Some(e) = expr {
            let (policy, rule, _) = b.origin(self.table);
            let src = format!("{policy}#{rule}");
            let entry = self.ev.output(e, b.params(), src, action);
            self.outputs.push(entry);
        }
    }

    /// Makes the derived roles active in `scope` visible to conditions (`runtime`), computing
    /// them the first time the scope is reached.
    fn activate_derived_roles(&mut self, scope: &'t str, key: Option<ScopeKey>) {
        let at = match self.derived_roles.iter().position(|(s, _, _)| *s == scope) {
            Some(at) => at,
            None => {
                let (roles, failed) = self.active_derived_roles(key, scope);
                self.derived_roles.push((scope, roles, failed));
                self.derived_roles.len() - 1
            }
        };
        let (_, roles, failed) = &self.derived_roles[at];
        self.effective_derived_roles.extend(roles.iter().copied());
        self.ev.set_effective_derived_roles(roles);
        self.ev.set_runtime_error(failed);
    }

    /// Derived roles imported by the resource policy at `scope` that are active for this request,
    /// and, in strict mode, the roles whose condition failed to evaluate.
    fn active_derived_roles(&mut self, key: Option<ScopeKey>, scope: &str) -> (BTreeSet<&'t str>, Vec<&'t str>) {
        let table = self.table;
        let mut active = BTreeSet::new();
        let mut failed = Vec::new();
        let Some(defs) = key.and_then(|k| table.derived_roles.get(k)).and_then(|by_kind| by_kind.get(self.resource)) else { return (active, failed) };
        for dr in defs {
            let intersects = dr.parent_roles.iter().any(|p| p == "*" || self.all_roles.iter().any(|r| r == p));
            if !intersects {
                continue;
            }
            self.ev.ensure_variables(&dr.params);
            let ok = match &dr.condition {
                Some(c) => self.ev.satisfies(c, Some(&dr.params)).unwrap_or_else(|_| {
                    failed.push(dr.name.as_str());
                    false
                }),
                None => true,
            };
            if R::ON {
                let conditions = self.ev.take_leaves();
                self.rec.derived_role(DerivedRoleStep { name: dr.name.clone(), scope: scope.to_string(), active: ok, conditions });
            }
            if ok {
                active.insert(dr.name.as_str());
            }
        }
        failed.sort();
        (active, failed)
    }
}

fn kind_name(k: PolicyKind) -> &'static str {
    match k {
        PolicyKind::Principal => "principal",
        PolicyKind::Resource => "resource",
    }
}
/// Rows for one (kind, version, scope, action, roles), with role-policy denies first (Cerbos's `Index.Query`).
/// `key` is the (resource version, scope) pair; None when nothing is indexed under it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn query<'t>(
    table: &'t RuleTable,
    kind: PolicyKind,
    key: Option<ScopeKey>,
    resource: &str,
    action: &str,
    roles: &[String],
    principal_id: &str,
    buf: &mut Vec<u32>,
    out: &mut Vec<Binding<'t>>,
) {
    out.clear();
    buf.clear();
    let Some(key) = key else { return };
    if kind == PolicyKind::Resource {
        role_policy_denies(table, key, resource, action, roles, out);
    }
    table.candidate_rows(kind, key, resource, buf);
    for &i in buf.iter() {
        let row = &table.rows[i as usize];
        let Some(a) = &row.action else { continue };
        if !a.matches(action) {
            continue;
        }
        if kind == PolicyKind::Principal && row.principal.as_deref() != Some(principal_id) {
            continue;
        }
        if !roles.iter().any(|r| row.role.matches(r)) {
            continue;
        }
        out.push(Binding::Row(row));
    }
}

fn role_policy_denies<'t>(table: &'t RuleTable, key: ScopeKey, resource: &str, action: &str, roles: &[String], out: &mut Vec<Binding<'t>>) {
    let Some(rows) = table.role_policy_rows.get(key) else { return };
    // First row per role, in row order: the role's representative.
    let mut reps: Vec<(&str, &Row)> = Vec::new();
    for &i in rows {
        let r = &table.rows[i as usize];
        let Pattern::Literal(role) = &r.role else { continue };
        if !roles.iter().any(|q| q == role) {
            continue;
        }
        if !reps.iter().any(|(x, _)| x == role) {
            reps.push((role.as_str(), r));
        }
    }
    for role in roles {
        let Some((_, rep)) = reps.iter().find(|(x, _)| x == role) else { continue };
        let role_rows: Vec<&Row> = rows
            .iter()
            .map(|&i| &table.rows[i as usize])
            .filter(|r| matches!(&r.role, Pattern::Literal(x) if x == role) && r.resource.matches(resource))
            .collect();
        let no_match = |rep: &Row| Synthetic {
            origin_fqn: role_policy_fqn(role, &rep.version, &rep.scope),
            name: "",
            effect: Some(Effect::Deny),
            condition: None,
            output: None,
            params: None,
            eval_key: None,
        };
        if role_rows.is_empty() {
            out.push(Binding::Synthetic(no_match(rep)));
            continue;
        }
        let matched: Vec<&Row> = role_rows.iter().copied().filter(|r| r.allow_actions.iter().any(|a| a.as_str() == action || a.matches(action))).collect();
        if matched.is_empty() {
            out.push(Binding::Synthetic(no_match(role_rows[0])));
            continue;
        }
        for mb in matched {
            let fqn = table.meta[mb.origin].fqn.clone();
            match &mb.condition {
                None => {
                    // A pure allow falls through; only its output, if any, is emitted.
                    if let Some(o) = &mb.output {
                        out.push(Binding::Synthetic(Synthetic {
                            origin_fqn: fqn,
                            name: &mb.name,
                            effect: None,
                            condition: None,
                            output: Some(OutputExprs { rule_activated: o.rule_activated.clone(), condition_not_met: o.condition_not_met.clone() }),
                            params: mb.params.as_ref(),
                            eval_key: Some(mb.eval_key),
                        }));
                    }
                }
                Some(c) => out.push(Binding::Synthetic(Synthetic {
                    origin_fqn: fqn,
                    name: &mb.name,
                    effect: Some(Effect::Deny),
                    condition: Some(Cond::None(vec![(**c).clone()])),
                    output: mb.output.as_ref().map(|o| o.swapped()),
                    params: mb.params.as_ref(),
                    eval_key: Some(mb.eval_key),
                })),
            }
        }
    }
}

//! One check, decided exactly as Cerbos's rule table decides it (internal/ruletable/check.go):
//! principal policies first, then resource policies; per role, scopes from most specific to root;
//! DENY beats ALLOW within a role, any role's ALLOW wins, anything undecided is DENY.
use super::conditions::{CondEvaluator, RequestValues};
use super::explain::{ActionExplanation, DerivedRoleStep, Explanation, RuleStep};
use super::request::*;
use crate::compile::table::*;
use crate::compile::{policy_key, principal_policy_fqn, resource_policy_fqn, resource_policy_key, role_policy_fqn, sanitized, scope_parents};
use crate::eval::glob::Pattern;
use chrono::{DateTime, FixedOffset};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

pub const NO_MATCH: &str = "NO_MATCH";
const NO_MATCH_FOR_SCOPE_PERMISSIONS: &str = "NO_MATCH_FOR_SCOPE_PERMISSIONS";

#[derive(Debug, Clone)]
pub struct EvalConf {
    pub schema_enforcement: crate::engine::SchemaEnforcement,
    /// Cerbos's strict evaluation: a condition that fails to evaluate denies the action.
    pub strict_evaluation: bool,
    pub default_policy_version: String,
    pub default_scope: String,
    pub lenient_scope_search: bool,
    pub globals: crate::cel::Vars,
}

impl Default for EvalConf {
    fn default() -> Self {
        EvalConf {
            schema_enforcement: crate::engine::SchemaEnforcement::None,
            strict_evaluation: false,
            default_policy_version: "default".into(),
            default_scope: String::new(),
            lenient_scope_search: false,
            globals: crate::cel::Vars::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    NoMatch,
    Allow,
    Deny,
}

/// Policy keys borrow from the table or from the keys computed once per check.
#[derive(Debug, Clone)]
struct EffectInfo<'a> {
    effect: Outcome,
    policy: Cow<'a, str>,
    scope: &'a str,
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
    fn effect(&self) -> Option<Effect> {
        match self {
            Binding::Row(r) => r.effect,
            Binding::Synthetic(s) => s.effect,
        }
    }
}

/// The request scope: the default when empty, a leading `.` (root alias) removed.
pub(crate) fn scope_value<'a>(scope: &'a str, default: &'a str) -> &'a str {
    let s = if scope.is_empty() { default } else { scope };
    s.strip_prefix('.').unwrap_or(s)
}

/// Cerbos's `GetAllScopes`: the scopes (most specific first) that have policies of a kind, and the
/// first of them (for the policy key). Strict search needs the requested scope itself to exist.
/// Each scope comes with its index key for the version (None: nothing indexed under it).
pub(crate) fn all_scopes<'t>(
    table: &'t RuleTable,
    set: &rustc_hash::FxHashSet<u32>,
    scope: &str,
    version: Option<u32>,
    lenient: bool,
) -> (Vec<(&'t str, Option<ScopeKey>)>, Option<&'t str>) {
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
pub fn check(table: &RuleTable, conf: &EvalConf, input: &CheckInput, now: DateTime<FixedOffset>) -> CheckOutput {
    decide(table, conf, input, now, None)
}

/// Decides one input and explains how: the rules reached per action, with condition values.
pub fn check_explained(table: &RuleTable, conf: &EvalConf, input: &CheckInput, now: DateTime<FixedOffset>) -> (CheckOutput, Explanation) {
    let mut explanation = Explanation::default();
    let out = decide(table, conf, input, now, Some(&mut explanation));
    (out, explanation)
}

fn kind_name(k: PolicyKind) -> &'static str {
    match k {
        PolicyKind::Principal => "principal",
        PolicyKind::Resource => "resource",
    }
}

fn decide(table: &RuleTable, conf: &EvalConf, input: &CheckInput, now: DateTime<FixedOffset>, mut explain: Option<&mut Explanation>) -> CheckOutput {
    let p_scope = scope_value(&input.principal.scope, &conf.default_scope);
    let r_scope = scope_value(&input.resource.scope, &conf.default_scope);
    let p_version = if input.principal.policy_version.is_empty() { conf.default_policy_version.as_str() } else { &input.principal.policy_version };
    let r_version = if input.resource.policy_version.is_empty() { conf.default_policy_version.as_str() } else { &input.resource.policy_version };

    let mut out = CheckOutput { request_id: input.request_id.clone(), resource_id: input.resource.id.clone(), ..Default::default() };
    // Indexed like `input.actions`; None until decided.
    let mut effects: Vec<Option<EffectInfo>> = vec![None; input.actions.len()];

    let lenient = conf.lenient_scope_search;
    // Cerbos queries principal rows with the resource version too: its index has one version dimension.
    let r_version_id = table.versions.get(r_version);
    let (p_scopes, p_first) = all_scopes(table, &table.principal_scopes, p_scope, r_version_id, lenient);
    let (r_scopes, r_first) = all_scopes(table, &table.resource_scopes, r_scope, r_version_id, lenient);
    let p_key: String = p_first.map(|s| policy_key(&principal_policy_fqn(&input.principal.id, p_version, s)).to_string()).unwrap_or_default();
    let r_key: String = r_first.map(|s| resource_policy_key(&input.resource.kind, r_version, s)).unwrap_or_default();
    let any_scope = !(p_scopes.is_empty() && r_scopes.is_empty());

    // Attributes are validated against the schemas of the root of the matched resource policy's chain.
    if any_scope && r_first.is_some() && conf.schema_enforcement != crate::engine::SchemaEnforcement::None {
        let root = resource_policy_fqn(&input.resource.kind, r_version, "");
        if let Some(s) = table.schemas.get(&root) {
            let errors = table.schema_store.validate(s.principal.as_ref(), s.resource.as_ref(), &input.principal.attr, &input.resource.attr, &input.actions);
            if !errors.is_empty() {
                out.validation_errors = errors.into_iter().map(|e| ValidationError { path: e.path, message: e.message, source: e.source }).collect();
                if conf.schema_enforcement == crate::engine::SchemaEnforcement::Reject {
                    for e in effects.iter_mut() {
                        *e = Some(EffectInfo { effect: Outcome::Deny, policy: Cow::Borrowed(r_key.as_str()), scope: "" });
                    }
                }
            }
        }
    }
    let rejected = effects.iter().any(|e| e.is_some());

    let resource = sanitized(&input.resource.kind);
    let principal_exists = any_scope
        && p_scopes.iter().any(|&(s, r_key)| {
            let key = if p_version == r_version { r_key } else { table.scope_key(p_version, s) };
            key.is_some_and(|k| table.bucket_exists(PolicyKind::Principal, k))
        });
    let resource_exists = any_scope && scoped_resource_exists(table, &resource, &r_scopes);

    let mut edr: BTreeSet<&str> = BTreeSet::new();
    if !rejected && (principal_exists || resource_exists) {
        let values = RequestValues::new(input, p_scope, r_scope, now);
        let mut ev = CondEvaluator::new(&values, &conf.globals);
        ev.set_strict(conf.strict_evaluation);
        if explain.is_some() {
            ev.record_leaves();
        }
        // When explaining: the steps of the current action, and the rule that decided each action.
        let mut steps: Vec<RuleStep> = Vec::new();
        let mut decided_by: Vec<Option<(String, String)>> = Vec::new();

        let all_roles = table.add_parent_roles(r_scope, &input.principal.roles);
        // Per scope: the active derived roles, and (strict mode) those whose condition failed.
        let mut scoped_drs: Vec<(&str, BTreeSet<&str>, Vec<&str>)> = Vec::new();
        // Sized for the usual handful of rows, so that filling them does not grow them step by step.
        let mut candidates = Vec::with_capacity(8);
        let mut bindings: Vec<Binding> = Vec::with_capacity(8);

        for (ai, action) in input.actions.iter().enumerate() {
            if input.actions[..ai].contains(action) {
                continue; // a repeated action is decided once, as Cerbos resolves each action once
            }
            let mut action_effect = EffectInfo { effect: Outcome::NoMatch, policy: Cow::Borrowed(""), scope: "" };
            let mut first_allow: Option<(String, String)> = None;
            let mut decided: Option<(String, String)> = None;
            'policies: for kind in [PolicyKind::Principal, PolicyKind::Resource] {
                let (main_key, scopes, exists) = match kind {
                    PolicyKind::Principal => (p_key.as_str(), &p_scopes, principal_exists),
                    PolicyKind::Resource => (r_key.as_str(), &r_scopes, resource_exists),
                };
                action_effect.effect = Outcome::NoMatch;
                for (i, role) in input.principal.roles.iter().enumerate() {
                    if i > 0 && kind == PolicyKind::Principal {
                        break; // principal rows match any role: one pass covers them all
                    }
                    let mut has_allow = false;
                    let mut role_allow: Option<(String, String)> = None;
                    let mut role_effect = EffectInfo { effect: Outcome::NoMatch, policy: Cow::Borrowed(if exists { main_key } else { NO_MATCH }), scope: "" };
                    let parent_roles = table.add_parent_roles(r_scope, std::slice::from_ref(role));

                    'scopes: for &(scope, key) in scopes.iter() {
                        if kind == PolicyKind::Resource {
                            let at = match scoped_drs.iter().position(|(s, _, _)| *s == scope) {
                                Some(at) => at,
                                None => {
                                    let (roles, failed) = active_derived_roles(table, &mut ev, &resource, key, scope, &all_roles, explain.as_deref_mut());
                                    scoped_drs.push((scope, roles, failed));
                                    scoped_drs.len() - 1
                                }
                            };
                            let (_, roles, failed) = &scoped_drs[at];
                            edr.extend(roles.iter().copied());
                            ev.set_effective_derived_roles(roles);
                            ev.set_runtime_error(failed);
                        }
                        if role_effect.effect != Outcome::NoMatch {
                            break;
                        }
                        query(table, kind, key, &resource, action, &parent_roles, &input.principal.id, &mut candidates, &mut bindings);
                        for b in &bindings {
                            let (params, dr_cond, dr_params, eval_key) = match b {
                                Binding::Row(r) => (r.params.as_ref(), r.derived_role_condition.as_deref(), r.derived_role_params.as_ref(), Some(r.eval_key)),
                                Binding::Synthetic(s) => (s.params, None, None, s.eval_key),
                            };
                            if let Some(p) = params {
                                ev.ensure_variables(p);
                            }
                            let cached = eval_key.and_then(|k| ev.cached_condition(k));
                            let (origin_key, rule_name, from_role_policy) = match b {
                                Binding::Row(r) => (table.meta[r.origin].key.as_str(), r.name.as_str(), r.from_role_policy),
                                Binding::Synthetic(s) => (policy_key(&s.origin_fqn), s.name, true),
                            };
                            let mut record = |ev: &mut CondEvaluator, matched: bool, cached: bool| {
                                if explain.is_some() {
                                    steps.push(RuleStep {
                                        policy_kind: kind_name(kind),
                                        role: role.clone(),
                                        scope: scope.to_string(),
                                        policy: origin_key.to_string(),
                                        rule: rule_name.to_string(),
                                        derived_role: match b {
                                            Binding::Row(r) => r.origin_derived_role.clone(),
                                            _ => None,
                                        },
                                        effect: b.effect().map(|e| e.as_str()),
                                        matched,
                                        cached,
                                        conditions: ev.take_leaves(),
                                    });
                                }
                            };
                            let satisfied = match cached {
                                Some(v) => {
                                    record(&mut ev, v, true);
                                    v
                                }
                                None => {
                                    let dr_ok = match dr_cond {
                                        Some(c) => {
                                            let p = dr_params.expect("derived-role rows carry their params");
                                            ev.ensure_variables(p);
                                            ev.satisfies(c, Some(p))
                                        }
                                        None => Ok(true),
                                    };
                                    // Strict evaluation: a condition that fails to evaluate denies the action.
                                    let Ok(dr_ok) = dr_ok else {
                                        record(&mut ev, false, false);
                                        action_effect = EffectInfo { effect: Outcome::Deny, policy: Cow::Owned(origin_key.to_string()), scope };
                                        break 'policies;
                                    };
                                    if !dr_ok {
                                        if let Some(k) = eval_key {
                                            ev.cache_condition(k, false);
                                        }
                                        record(&mut ev, false, false);
                                        continue;
                                    }
                                    let cond = match b {
                                        Binding::Row(r) => r.condition.as_deref(),
                                        Binding::Synthetic(s) => s.condition.as_ref(),
                                    };
                                    let v = match cond {
                                        Some(c) => ev.satisfies(c, params),
                                        None => Ok(true),
                                    };
                                    let Ok(v) = v else {
                                        record(&mut ev, false, false);
                                        action_effect = EffectInfo { effect: Outcome::Deny, policy: Cow::Owned(origin_key.to_string()), scope };
                                        break 'policies;
                                    };
                                    if let Some(k) = eval_key {
                                        ev.cache_condition(k, v);
                                    }
                                    record(&mut ev, v, false);
                                    v
                                }
                            };
                            let output = match b {
                                Binding::Row(r) => r.output.as_deref(),
                                Binding::Synthetic(s) => s.output.as_ref(),
                            };
                            let emit = |which: Option<&Arc<crate::cel::CompiledExpr>>, ev: &mut CondEvaluator, out: &mut CheckOutput| {
                                if let Some(e) = which {
                                    let src = format!("{origin_key}#{rule_name}");
                                    out.outputs.push(ev.output(e, params, src, action));
                                }
                            };
                            if satisfied {
                                emit(output.and_then(|o| o.rule_activated.as_ref()), &mut ev, &mut out);
                                match b.effect() {
                                    Some(Effect::Allow) => {
                                        has_allow = true;
                                        if explain.is_some() && role_allow.is_none() {
                                            role_allow = Some((origin_key.to_string(), rule_name.to_string()));
                                        }
                                    }
                                    Some(Effect::Deny) => {
                                        if explain.is_some() && decided.is_none() {
                                            decided = Some((origin_key.to_string(), rule_name.to_string()));
                                        }
                                        role_effect.effect = Outcome::Deny;
                                        role_effect.scope = scope;
                                        if from_role_policy {
                                            role_effect.policy = Cow::Owned(origin_key.to_string());
                                        }
                                        break 'scopes;
                                    }
                                    None => {}
                                }
                            } else {
                                emit(output.and_then(|o| o.condition_not_met.as_ref()), &mut ev, &mut out);
                            }
                        }
                        if has_allow {
                            match table.scope_permissions.get(scope) {
                                Some(ScopePermissions::RequireParentalConsentForAllows) => has_allow = false,
                                Some(ScopePermissions::OverrideParent) => {
                                    if first_allow.is_none() {
                                        first_allow = role_allow.clone();
                                    }
                                    role_effect.effect = Outcome::Allow;
                                    role_effect.scope = scope;
                                    break 'scopes;
                                }
                                _ => {}
                            }
                        }
                    }

                    if action_effect.effect == Outcome::NoMatch {
                        action_effect = role_effect.clone();
                    }
                    if role_effect.effect == Outcome::Allow {
                        action_effect = role_effect;
                        break;
                    } else if role_effect.effect == Outcome::Deny
                        && action_effect.policy == NO_MATCH_FOR_SCOPE_PERMISSIONS
                        && role_effect.policy != NO_MATCH_FOR_SCOPE_PERMISSIONS
                    {
                        action_effect = role_effect;
                    }
                }
                if matches!(action_effect.effect, Outcome::Allow | Outcome::Deny) {
                    break;
                }
            }
            if action_effect.effect == Outcome::NoMatch {
                action_effect.effect = Outcome::Deny;
            }
            if let Some(x) = explain.as_deref_mut() {
                decided_by.resize(input.actions.len(), None);
                decided_by[ai] = if action_effect.effect == Outcome::Allow { first_allow } else { decided };
                x.actions.push(ActionExplanation { action: action.clone(), steps: std::mem::take(&mut steps), ..Default::default() });
            }
            effects[ai] = Some(action_effect);
        }
        out.evaluation_errors = ev.take_errors();
        out.used_now = ev.used_now();
        if let Some(x) = explain.as_deref_mut() {
            finish_explanation(x, input, &effects, &decided_by, r_version, r_scope);
        }
    } else if let Some(x) = explain {
        finish_explanation(x, input, &effects, &[], r_version, r_scope);
    }

    out.actions.0.reserve(input.actions.len());
    for (ai, action) in input.actions.iter().enumerate() {
        if input.actions[..ai].contains(action) {
            continue;
        }
        out.actions.0.push((action.clone(), action_effect_of(effects[ai].as_ref())));
    }
    out.effective_derived_roles = edr.into_iter().map(str::to_string).collect();
    out.outputs.sort_by(|a, b| a.src.cmp(&b.src));
    out
}

fn action_effect_of(e: Option<&EffectInfo>) -> ActionEffect {
    match e {
        Some(info) => ActionEffect {
            effect: if info.effect == Outcome::Allow { "EFFECT_ALLOW" } else { "EFFECT_DENY" },
            policy: info.policy.to_string(),
            scope: info.scope.to_string(),
        },
        None => ActionEffect { effect: "EFFECT_DENY", policy: NO_MATCH.to_string(), scope: String::new() },
    }
}

fn finish_explanation(
    x: &mut Explanation,
    input: &CheckInput,
    effects: &[Option<EffectInfo>],
    decided_by: &[Option<(String, String)>],
    version: &str,
    scope: &str,
) {
    for (ai, action) in input.actions.iter().enumerate() {
        if input.actions[..ai].contains(action) {
            continue;
        }
        let e = action_effect_of(effects[ai].as_ref());
        let i = match x.actions.iter().position(|a| &a.action == action) {
            Some(i) => i,
            None => {
                x.actions.push(ActionExplanation { action: action.clone(), ..Default::default() });
                x.actions.len() - 1
            }
        };
        let a = &mut x.actions[i];
        a.reason = reason(input, &e, decided_by.get(ai).and_then(|d| d.as_ref()), version, scope);
        a.effect = e.effect.to_string();
        a.policy = e.policy;
        a.scope = e.scope;
    }
}

fn reason(input: &CheckInput, e: &ActionEffect, by: Option<&(String, String)>, version: &str, scope: &str) -> String {
    let allowed = e.effect == "EFFECT_ALLOW";
    match (allowed, by) {
        (true, Some((p, r))) => format!("allowed by rule `{r}` of `{p}`"),
        (false, Some((p, r))) if r.is_empty() => format!("denied by role policy `{p}`: it does not allow this action"),
        (false, Some((p, r))) => format!("denied by rule `{r}` of `{p}`"),
        (_, None) if e.policy == NO_MATCH => format!(
            "denied by default: no policy matches principal `{}` or resource kind `{}` (version `{version}`, scope `{scope}`)",
            input.principal.id, input.resource.kind
        ),
        _ => format!("denied by default: no rule of `{}` allows this action for roles {:?}", e.policy, input.principal.roles),
    }
}

fn scoped_resource_exists(table: &RuleTable, resource: &str, scopes: &[(&str, Option<ScopeKey>)]) -> bool {
    scopes.iter().filter_map(|&(_, key)| key).any(|key| {
        table.has_rows_for(PolicyKind::Resource, key, resource)
            || table.role_policy_rows.get(key).is_some_and(|rows| rows.iter().any(|&i| table.rows[i as usize].resource.matches(resource)))
    })
}

/// Derived roles imported by the resource policy at `scope` that are active for this request.
/// Returns the active roles and, in strict mode, the roles whose condition failed to evaluate.
#[allow(clippy::too_many_arguments)]
fn active_derived_roles<'t>(
    table: &'t RuleTable,
    ev: &mut CondEvaluator,
    kind: &str,
    key: Option<ScopeKey>,
    scope: &str,
    all_roles: &[String],
    explain: Option<&mut Explanation>,
) -> (BTreeSet<&'t str>, Vec<&'t str>) {
    let mut explain = explain;
    let mut active = BTreeSet::new();
    let mut failed = Vec::new();
    let Some(defs) = key.and_then(|k| table.derived_roles.get(k)).and_then(|by_kind| by_kind.get(kind)) else { return (active, failed) };
    for dr in defs {
        let intersects = dr.parent_roles.iter().any(|p| p == "*" || all_roles.iter().any(|r| r == p));
        if !intersects {
            continue;
        }
        ev.ensure_variables(&dr.params);
        let ok = match &dr.condition {
            Some(c) => ev.satisfies(c, Some(&dr.params)).unwrap_or_else(|_| {
                failed.push(dr.name.as_str());
                false
            }),
            None => true,
        };
        if let Some(x) = explain.as_deref_mut() {
            x.derived_roles.push(DerivedRoleStep { name: dr.name.clone(), scope: scope.to_string(), active: ok, conditions: ev.take_leaves() });
        }
        if ok {
            active.insert(dr.name.as_str());
        }
    }
    failed.sort();
    (active, failed)
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

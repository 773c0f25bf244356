//! Planning one request against the rule table, as Cerbos's `RuleTable.Plan`
//! (`internal/ruletable/plan.go`) does: the rows `check` would select, per action, resource
//! policies then principal policies, per role, per scope, with their conditions partially
//! evaluated and combined into one filter per action; several actions are ANDed.
use chrono::{DateTime, FixedOffset};

use super::condition::{derived_roles_list, CondError, CondPlanner};
use super::filter::{self, Filter, FilterKind};
use super::node::{self, Node, NodeFilter};
use super::{PlanInput, PlanOptions, PlanOutput};
use crate::cel::{AuxDataFields, PrincipalFields, Request, ResourceFields};
use crate::compile::table::{Cond, Effect, Params, PolicyKind, RuleTable, ScopeKey, ScopePermissions};
use crate::eval::check::{all_scopes, query, scope_value, Binding};
use crate::eval::request::{CelError, EvaluationError, ValidationError};
use crate::eval::EngineConfig;
use crate::naming::{resource_policy_fqn, sanitized};

/// What `filterDebug` says when no policy applies to any action.
const NO_MATCH: &str = "NO_MATCH";

/// Why an exact plan is refused under strict evaluation.
pub(crate) const STRICT_EXACT: &str = "exact plans are not available with strict evaluation: there a condition that fails on a row \
     denies the whole action, which depends on the order check evaluates rules in; plan without exact=True (narrower than check) \
     or turn strict_evaluation off";

/// Plans `input`. An error means a condition the planner cannot represent (Cerbos fails the
/// request the same way).
pub(crate) fn plan(table: &RuleTable, conf: &EngineConfig, input: &PlanInput, now: DateTime<FixedOffset>, options: &PlanOptions) -> Result<PlanOutput, String> {
    let p_scope = scope_value(&input.principal.scope, &conf.default_scope);
    let r_scope = scope_value(&input.resource.scope, &conf.default_scope);
    let r_version = if input.resource.policy_version.is_empty() { conf.default_policy_version.as_str() } else { &input.resource.policy_version };
    let lenient = conf.lenient_scope_search;
    // Rows of both kinds are looked up with the resource's version, as in `check`.
    let r_version_id = table.versions.get(r_version);
    let (p_scopes, _) = all_scopes(table, &table.principal_scopes, p_scope, r_version_id, lenient);
    let (r_scopes, r_first) = all_scopes(table, &table.resource_scopes, r_scope, r_version_id, lenient);

    if options.exact && conf.strict_evaluation {
        return Err(STRICT_EXACT.into());
    }
    let mut out = PlanOutput::for_input(input);
    if p_scopes.is_empty() && r_scopes.is_empty() {
        out.filter = Filter::always_denied();
        out.filter_debug = NO_MATCH.into();
        return Ok(out);
    }

    if r_first.is_some() && conf.schema_enforcement != crate::eval::SchemaEnforcement::None {
        if let Some(s) = table.schemas.get(&resource_policy_fqn(&input.resource.kind, r_version, "")) {
            let errors = table.schema_store.validate_plan_resources(
                s.principal.as_ref(),
                s.resource.as_ref(),
                &input.principal.attr,
                &input.resource.attr,
                &input.actions,
            );
            if !errors.is_empty() {
                out.validation_errors = errors.into_iter().map(|e| ValidationError { path: e.path, message: e.message, source: e.source }).collect();
                if conf.schema_enforcement == crate::eval::SchemaEnforcement::Reject {
                    out.filter = Filter::always_denied();
                    out.filter_debug = out.filter.debug_string();
                    return Ok(out);
                }
            }
        }
    }

    // The request CEL sees: the resource's id and policy version are unknown, as is every
    // attribute not given; the principal has no policy version (Cerbos's `PlanResourcesInputToRequest`).
    let p = &input.principal;
    let r = &input.resource;
    let principal = PrincipalFields { id: &p.id, roles: &p.roles, attr: &p.attr, policy_version: "", scope: p_scope };
    let resource = ResourceFields { kind: &r.kind, id: "", attr: &r.attr, policy_version: "", scope: r_scope };
    let aux = input.aux_data.as_ref().map(|a| AuxDataFields { jwt: Some(&a.jwt), jwts: Some(&a.jwts) });
    let request = Request::borrowing(&principal, &resource, aux.as_ref(), now);
    let mut planner = CondPlanner::new(&request, &conf.globals, &r.attr, conf.strict_evaluation);
    planner.presence_tests = options.presence_tests || options.exact;
    planner.exact = options.exact;

    let all_roles = table.add_parent_roles(r_scope, &p.roles);
    let kind = sanitized(&r.kind);
    let ctx = Ctx { table, input, r_scope, kind: &kind, all_roles: &all_roles, p_scopes: &p_scopes, r_scopes: &r_scopes };

    let mut filters = Vec::with_capacity(input.actions.len());
    let mut policy_match = false;
    for action in &input.actions {
        let (node, matched, scope) = if options.exact {
            ctx.plan_action_exact(&mut planner, action)?
        } else {
            let (node_filter, matched, scope) = ctx.plan_action(&mut planner, action)?;
            (node_filter.into_node(), matched, scope)
        };
        policy_match |= matched;
        out.matched_scopes.push((action.clone(), scope));
        let condition = node.to_operand()?;
        let how = if options.exact { filter::Normalisation::Exact } else { filter::Normalisation::Cerbos };
        filters.push(filter::normalise_as(Filter { kind: FilterKind::Conditional, condition: Some(condition) }, how));
    }
    let (filter, debug) = filter::merge_with_and(filters);
    out.filter = filter;
    out.filter_debug = if policy_match { debug } else { NO_MATCH.into() };
    let mut errors = std::mem::take(&mut planner.errors);
    errors.sort();
    errors.dedup();
    out.evaluation_errors = errors.into_iter().map(|(expression, message)| EvaluationError { cel_error: CelError { expression, message } }).collect();
    Ok(out)
}

/// What stays the same across the actions of one request.
pub(super) struct Ctx<'a> {
    pub(super) table: &'a RuleTable,
    pub(super) input: &'a PlanInput,
    pub(super) r_scope: &'a str,
    pub(super) kind: &'a str,
    all_roles: &'a [String],
    pub(super) p_scopes: &'a [(&'a str, Option<ScopeKey>)],
    pub(super) r_scopes: &'a [(&'a str, Option<ScopeKey>)],
}

/// The derived roles active in one scope, as plan nodes (`Err`: one failed in strict mode).
pub(super) type ScopedRoles = Result<Vec<(String, Node)>, CondError>;

/// What planning reads of one row the rule table selected.
pub(super) struct RuleCond<'t> {
    pub(super) effect: Option<Effect>,
    cond: Option<&'t Cond>,
    params: Option<&'t Params>,
    dr_cond: Option<&'t Cond>,
    dr_params: Option<&'t Params>,
    from_role_policy: bool,
}

impl<'t> RuleCond<'t> {
    pub(super) fn of(b: &'t Binding<'_>) -> RuleCond<'t> {
        match b {
            Binding::Row(r) => RuleCond {
                effect: r.effect,
                cond: r.condition.as_deref(),
                params: r.params.as_deref(),
                dr_cond: r.derived_role_condition.as_deref(),
                dr_params: r.derived_role_params.as_deref(),
                from_role_policy: r.from_role_policy,
            },
            Binding::Synthetic(s) => RuleCond {
                effect: s.effect,
                cond: s.condition.as_ref(),
                params: s.params.map(|p| &**p),
                dr_cond: None,
                dr_params: None,
                from_role_policy: true,
            },
        }
    }

    /// The rule's condition with its derived role's condition (if any) ANDed, as a node.
    pub(super) fn plan(&self, planner: &mut CondPlanner<'_>, drs: &ScopedRoles) -> Result<Node, CondError> {
        let mut drs_expr = || drs.clone().map(|roles| derived_roles_list(&roles));
        let n = planner.plan(self.cond, self.params, &mut drs_expr)?;
        match self.dr_cond {
            None => Ok(n),
            Some(dc) => {
                let dn = planner.plan(Some(dc), self.dr_params, &mut drs_expr)?;
                Ok(if self.cond.is_none() { dn } else { Node::And(vec![n, dn]) })
            }
        }
    }
}

impl Ctx<'_> {
    pub(super) fn permissions(&self, scope: &str) -> Option<ScopePermissions> {
        self.table.scope_permissions.get(scope).copied()
    }

    /// The derived roles imported by the resource policy at `key` whose parent roles the
    /// principal has, each with its condition planned (sorted by name).
    pub(super) fn derived_roles(&self, planner: &mut CondPlanner<'_>, key: Option<ScopeKey>) -> Result<ScopedRoles, String> {
        let mut roles: Vec<(String, Node)> = Vec::new();
        let mut failed = false;
        let defs = key.and_then(|k| self.table.derived_roles.get(k)).and_then(|by_kind| by_kind.get(self.kind));
        for dr in defs.into_iter().flatten() {
            if !dr.parent_roles.iter().any(|pr| pr == "*" || self.all_roles.iter().any(|r| r == pr)) {
                continue;
            }
            // Inside derived-role conditions, `runtime.effectiveDerivedRoles` is empty.
            match planner.plan(dr.condition.as_deref(), Some(&dr.params), &mut || Ok(derived_roles_list(&[]))) {
                Ok(n) => roles.push((dr.name.clone(), n)),
                Err(CondError::Strict) => failed = true,
                Err(CondError::Unsupported(m)) => return Err(m),
            }
        }
        if failed {
            return Ok(Err(CondError::Strict));
        }
        roles.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Ok(roles))
    }

    /// One action's filter nodes; whether any policy matched; the scope that decides it.
    fn plan_action(&self, planner: &mut CondPlanner<'_>, action: &str) -> Result<(NodeFilter, bool, String), String> {
        let mut nf = NodeFilter::default();
        let mut matched_scope = String::new();
        let mut scoped_roles: Vec<(&str, ScopedRoles)> = Vec::new();
        let mut has_policy_type_allow = false;
        let mut root: Option<Node> = None;
        let mut strict_failure = false;
        let mut candidates = Vec::with_capacity(8);
        let mut bindings: Vec<Binding> = Vec::with_capacity(8);
        let p = &self.input.principal;

        'policy_types: for kind in [PolicyKind::Resource, PolicyKind::Principal] {
            let mut type_allow: Option<Node> = None;
            let mut type_deny: Option<Node> = None;
            let scopes = if kind == PolicyKind::Principal { self.p_scopes } else { self.r_scopes };
            for (i, role) in p.roles.iter().enumerate() {
                // Principal rows match any role: one pass covers them all.
                if i > 0 && kind == PolicyKind::Principal {
                    break;
                }
                let mut role_allow: Option<Node> = None;
                let mut role_deny: Option<Node> = None;
                let mut role_deny_rp: Option<Node> = None;
                let mut pending_allow = false;
                let mut child_override_allow: Option<Node> = None;
                let roles = self.table.add_parent_roles(self.r_scope, std::slice::from_ref(role));

                for &(scope, key) in scopes {
                    // An unconditional ALLOW in a child OVERRIDE_PARENT scope: parents cannot change it.
                    if child_override_allow.as_ref().and_then(Node::const_bool) == Some(true) {
                        break;
                    }
                    let drs = if kind == PolicyKind::Resource {
                        let at = match scoped_roles.iter().position(|(s, _)| *s == scope) {
                            Some(at) => at,
                            None => {
                                let r = self.derived_roles(planner, key)?;
                                scoped_roles.push((scope, r));
                                scoped_roles.len() - 1
                            }
                        };
                        scoped_roles[at].1.clone()
                    } else {
                        Ok(Vec::new())
                    };
                    let mut scope_allow: Option<Node> = None;
                    let mut scope_deny: Option<Node> = None;
                    let mut scope_deny_rp: Option<Node> = None;
                    query(self.table, kind, key, self.kind, action, &roles, &p.id, &mut candidates, &mut bindings);
                    for b in &bindings {
                        let rule = RuleCond::of(b);
                        let n = match rule.plan(planner, &drs) {
                            Ok(n) => n,
                            Err(CondError::Strict) => {
                                strict_failure = true;
                                break 'policy_types;
                            }
                            Err(CondError::Unsupported(m)) => return Err(m),
                        };
                        match rule.effect {
                            Some(Effect::Allow) => scope_allow = node::add(scope_allow, Some(n), node::or),
                            Some(Effect::Deny) => {
                                if n.const_bool() == Some(false) {
                                    continue;
                                }
                                if rule.from_role_policy {
                                    scope_deny_rp = node::add(scope_deny_rp, Some(n), node::or);
                                } else {
                                    scope_deny = node::add(scope_deny, Some(n), node::or);
                                }
                            }
                            None => {}
                        }
                    }
                    let scope_deny = gate_by_child_override_allow(child_override_allow.as_ref(), scope_deny);
                    let scope_deny_rp = gate_by_child_override_allow(child_override_allow.as_ref(), scope_deny_rp);
                    let any_rule = scope_deny.is_some() || scope_deny_rp.is_some() || scope_allow.is_some();
                    role_deny = node::add(role_deny, scope_deny, node::or);
                    role_deny_rp = node::add(role_deny_rp, scope_deny_rp, node::or);
                    let perms = self.permissions(scope);
                    if let Some(sa) = &scope_allow {
                        role_allow = match role_allow.take() {
                            None => Some(sa.clone()),
                            Some(ra) if pending_allow => {
                                pending_allow = false;
                                node::and(vec![ra, sa.clone()])
                            }
                            Some(ra) => node::or(vec![ra, sa.clone()]),
                        };
                        if perms == Some(ScopePermissions::RequireParentalConsentForAllows) {
                            pending_allow = true;
                        }
                    }
                    if any_rule && perms == Some(ScopePermissions::OverrideParent) {
                        matched_scope = scope.to_owned();
                    }
                    if perms == Some(ScopePermissions::OverrideParent) {
                        child_override_allow = node::add(child_override_allow, scope_allow, node::or);
                    }
                }

                // An allow still waiting for parental consent that no parent scope gave.
                if pending_allow {
                    role_allow = None;
                }
                let const_deny = role_deny.as_ref().and_then(Node::const_bool) == Some(true) || role_deny_rp.as_ref().and_then(Node::const_bool) == Some(true);
                if const_deny {
                    // This role is denied outright; other roles may still allow (ORed as `false`).
                    role_allow = Some(Node::bool(false));
                    role_deny = None;
                    role_deny_rp = None;
                } else if role_deny.is_none() && role_deny_rp.is_none() && role_allow.as_ref().and_then(Node::const_bool) == Some(true) {
                    type_allow = role_allow;
                    type_deny = None;
                    break;
                }
                // A role policy restricting this role: its allows hold only where it does not deny.
                if let (Some(rp), Some(ra)) = (&role_deny_rp, &role_allow) {
                    role_allow = node::and(vec![ra.clone(), rp.clone().invert()]);
                }
                type_allow = node::add(type_allow, role_allow, node::or);
                type_deny = node::add(type_deny, role_deny, node::or);
            }

            if let Some(a) = type_allow {
                has_policy_type_allow = true;
                root = match root {
                    None => Some(a),
                    Some(r) => node::or(vec![a, r]),
                };
            }
            // A policy type's denies apply over everything planned so far.
            if let Some(d) = type_deny {
                let inv = d.invert();
                root = match root {
                    None => Some(inv),
                    Some(r) => node::and(vec![inv, r]),
                };
            }
        }

        let mut matched = false;
        if strict_failure {
            matched = true;
            nf.reset_to_unconditional_deny();
        } else if let Some(r) = root {
            matched = true;
            if has_policy_type_allow {
                nf.add_allow(r);
            } else {
                nf.reset_to_unconditional_deny();
            }
        }
        if nf.allow_is_empty() && !nf.deny_is_empty() {
            nf.reset_to_unconditional_deny();
        }
        Ok((nf, matched, matched_scope))
    }
}

/// A parent scope's deny applies only where no child OVERRIDE_PARENT scope allowed.
fn gate_by_child_override_allow(child_allow: Option<&Node>, deny: Option<Node>) -> Option<Node> {
    let (Some(deny), Some(allow)) = (deny.clone(), child_allow) else { return deny };
    let inv = allow.clone().invert();
    if deny.const_bool() == Some(true) {
        return Some(inv);
    }
    node::and(vec![inv, deny])
}

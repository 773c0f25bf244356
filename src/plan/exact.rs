//! Exact plans ([`super::PlanOptions::exact`]): one action's condition combined from its rules
//! the way `check` decides (`src/eval/check.rs`, Cerbos's `internal/ruletable/check.go`), so that
//! the plan admits exactly the rows `check` allows.
//!
//! Each rule's condition is two-valued here (its leaves are wrapped in `isTrue`, see
//! [`super::condition::IS_TRUE`]), so the decision is a boolean formula over them. For one role,
//! scopes are walked from the most specific: a scope where a DENY matches denies the role; one
//! where an ALLOW matches (or an allow carried from a child scope without scope permissions)
//! allows it when its permissions are `OVERRIDE_PARENT`; under
//! `REQUIRE_PARENTAL_CONSENT_FOR_ALLOWS` the parent decides. Any role's ALLOW wins over another
//! role's DENY; principal policies decide first, resource (and role) policies where they did not.
use super::condition::{CondError, CondPlanner};
use super::node::Node;
use super::rules::{Ctx, RuleCond, ScopedRoles};
use crate::compile::table::{Effect, PolicyKind, ScopeKey, ScopePermissions};
use crate::eval::check::query;

/// Where one policy kind allows and where it denies (never both).
struct Decision {
    allow: Node,
    deny: Node,
}

impl Ctx<'_> {
    /// One action's exact condition; whether any rule applied; the scope that decides it.
    pub(super) fn plan_action_exact(&self, planner: &mut CondPlanner<'_>, action: &str) -> Result<(Node, bool, String), String> {
        let mut walk = Walk { matched: false, matched_scope: String::new(), scoped_roles: Vec::new() };
        let principal = self.decide_kind(planner, action, PolicyKind::Principal, &mut walk)?;
        let resource = self.decide_kind(planner, action, PolicyKind::Resource, &mut walk)?;
        // Principal policies decide first; resource policies where they neither allowed nor denied.
        let node = or(principal.allow, and(not(principal.deny), resource.allow));
        Ok((node, walk.matched, walk.matched_scope))
    }

    /// One policy kind: any role's allow wins; otherwise any role's deny.
    fn decide_kind<'s>(&'s self, planner: &mut CondPlanner<'_>, action: &str, kind: PolicyKind, walk: &mut Walk<'s>) -> Result<Decision, String> {
        let p = &self.input.principal;
        let scopes = if kind == PolicyKind::Principal { self.p_scopes } else { self.r_scopes };
        let mut allow = Node::bool(false);
        let mut deny = Node::bool(false);
        let mut candidates = Vec::with_capacity(8);
        let mut bindings = Vec::with_capacity(8);
        for (i, role) in p.roles.iter().enumerate() {
            // Principal rows match any role: one pass covers them all.
            if i > 0 && kind == PolicyKind::Principal {
                break;
            }
            let roles = self.table.add_parent_roles(self.r_scope, std::slice::from_ref(role));
            // The role is still undecided where `undecided` holds; an allow waits in `carried`.
            let mut undecided = Node::bool(true);
            let mut carried = Node::bool(false);
            let (mut role_allow, mut role_deny) = (Node::bool(false), Node::bool(false));
            for &(scope, key) in scopes {
                if undecided.const_bool() == Some(false) {
                    break;
                }
                let drs = if kind == PolicyKind::Resource { walk.derived_roles(self, planner, scope, key)? } else { Ok(Vec::new()) };
                query(self.table, kind, key, self.kind, action, &roles, &p.id, &mut candidates, &mut bindings);
                let (mut scope_allow, mut scope_deny) = (Node::bool(false), Node::bool(false));
                for b in &bindings {
                    let rule = RuleCond::of(b);
                    let Some(effect) = rule.effect else { continue };
                    walk.matched = true;
                    let n = match rule.plan(planner, &drs) {
                        Ok(n) => n,
                        Err(CondError::Unsupported(m)) => return Err(m),
                        Err(CondError::Strict) => return Err(super::rules::STRICT_EXACT.into()),
                    };
                    match effect {
                        Effect::Allow => scope_allow = or(scope_allow, n),
                        Effect::Deny => scope_deny = or(scope_deny, n),
                    }
                }
                let perms = self.permissions(scope);
                if perms == Some(ScopePermissions::OverrideParent) && !bindings.is_empty() {
                    walk.matched_scope = scope.to_owned();
                }
                role_deny = or(role_deny, and(undecided.clone(), scope_deny.clone()));
                let not_denied = and(undecided, not(scope_deny));
                let has_allow = or(carried, scope_allow);
                (undecided, carried) = match perms {
                    Some(ScopePermissions::OverrideParent) => {
                        role_allow = or(role_allow, and(not_denied.clone(), has_allow.clone()));
                        (and(not_denied, not(has_allow)), Node::bool(false))
                    }
                    Some(ScopePermissions::RequireParentalConsentForAllows) => (not_denied, Node::bool(false)),
                    // No permissions recorded for the scope: `check` keeps the allow for the parents.
                    _ => (not_denied, has_allow),
                };
            }
            allow = or(allow, role_allow);
            deny = or(deny, role_deny);
        }
        Ok(Decision { deny: and(not(allow.clone()), deny), allow })
    }
}

/// What one action's walk gathers: whether any rule applied, the deciding scope, and each
/// scope's derived roles (planned once).
struct Walk<'s> {
    matched: bool,
    matched_scope: String,
    scoped_roles: Vec<(&'s str, ScopedRoles)>,
}

impl<'s> Walk<'s> {
    fn derived_roles(&mut self, ctx: &Ctx<'_>, planner: &mut CondPlanner<'_>, scope: &'s str, key: Option<ScopeKey>) -> Result<ScopedRoles, String> {
        if let Some((_, roles)) = self.scoped_roles.iter().find(|(s, _)| *s == scope) {
            return Ok(roles.clone());
        }
        let roles = ctx.derived_roles(planner, key)?;
        self.scoped_roles.push((scope, roles.clone()));
        Ok(roles)
    }
}

/// `a && b` of two-valued nodes, constants folded.
pub(super) fn and(a: Node, b: Node) -> Node {
    match (a.const_bool(), b.const_bool()) {
        (Some(false), _) | (_, Some(false)) => Node::bool(false),
        (Some(true), _) => b,
        (_, Some(true)) => a,
        _ => super::node::and(vec![a, b]).unwrap_or_else(|| Node::bool(true)),
    }
}

/// `a || b` of two-valued nodes, constants folded.
pub(super) fn or(a: Node, b: Node) -> Node {
    match (a.const_bool(), b.const_bool()) {
        (Some(true), _) | (_, Some(true)) => Node::bool(true),
        (Some(false), _) => b,
        (_, Some(false)) => a,
        _ => super::node::or(vec![a, b]).unwrap_or_else(|| Node::bool(false)),
    }
}

/// `!a` of a two-valued node, constants folded.
pub(super) fn not(a: Node) -> Node {
    match a.const_bool() {
        Some(b) => Node::bool(!b),
        None => a.invert(),
    }
}

//! An account of how a decision was reached: every rule the evaluator looked at, in order, with the
//! value of each condition it evaluated. Recorded only when asked for; free otherwise.
use super::check::NO_MATCH;
use super::request::{ActionEffect, CheckInput};
use crate::policy::Effect;
use serde::Serialize;
use serde_json::Value as Json;

/// One evaluated condition leaf.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConditionResult {
    pub expr: String,
    /// The expression's value (a non-boolean counts as false); absent when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A rule the evaluator reached for an action.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RuleStep {
    /// `principal` or `resource` policies.
    pub policy_kind: &'static str,
    pub role: String,
    pub scope: String,
    pub policy: String,
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derived_role: Option<String>,
    /// The rule's effect: `EFFECT_ALLOW`, `EFFECT_DENY`, or absent for a role-policy allow that only emits output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect: Option<Effect>,
    /// Whether the rule's conditions held (so its effect applied).
    pub matched: bool,
    /// True when the outcome came from an earlier evaluation of the same rule in this request.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<ConditionResult>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DerivedRoleStep {
    pub name: String,
    pub scope: String,
    pub active: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<ConditionResult>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ActionExplanation {
    pub action: String,
    pub effect: Effect,
    pub policy: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// Why the effect is what it is, in a sentence.
    pub reason: String,
    pub steps: Vec<RuleStep>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub actions: Vec<ActionExplanation>,
    pub derived_roles: Vec<DerivedRoleStep>,
}

/// What a decision reports as it goes, for an explanation. Deciding is generic over it: with
/// [`NoRecord`] every call is an empty inline function and nothing is built.
pub(crate) trait Record {
    /// Whether anything is recorded (the decision then also keeps condition values).
    const ON: bool;
    fn derived_role(&mut self, step: DerivedRoleStep);
    fn rule(&mut self, step: RuleStep);
    /// A role's pass over the scopes begins.
    fn role_started(&mut self);
    /// A rule allowed; the first of a role is the one that decides if the role's allow stands.
    fn allowed_by(&mut self, policy: &str, rule: &str);
    /// A rule denied; the first is the one that decides a denied action.
    fn denied_by(&mut self, policy: &str, rule: &str);
    /// The current role's allow stands (its scope does not defer to a parent).
    fn role_allowed(&mut self);
    fn action_decided(&mut self, action: &str, effect: Effect);
    /// Every action's effect is known (distinct actions, in request order).
    fn finish(&mut self, input: &CheckInput, actions: &[(String, ActionEffect)], version: &str, scope: &str);
}

/// Records nothing: the decision without an explanation.
pub(crate) struct NoRecord;

impl Record for NoRecord {
    const ON: bool = false;
    #[inline(always)]
    fn derived_role(&mut self, _: DerivedRoleStep) {}
    #[inline(always)]
    fn rule(&mut self, _: RuleStep) {}
    #[inline(always)]
    fn role_started(&mut self) {}
    #[inline(always)]
    fn allowed_by(&mut self, _: &str, _: &str) {}
    #[inline(always)]
    fn denied_by(&mut self, _: &str, _: &str) {}
    #[inline(always)]
    fn role_allowed(&mut self) {}
    #[inline(always)]
    fn action_decided(&mut self, _: &str, _: Effect) {}
    #[inline(always)]
    fn finish(&mut self, _: &CheckInput, _: &[(String, ActionEffect)], _: &str, _: &str) {}
}

/// Builds an [`Explanation`] while a decision is made.
#[derive(Default)]
pub(crate) struct Recorder {
    explanation: Explanation,
    /// The rules reached for the current action.
    steps: Vec<RuleStep>,
    /// (policy, rule) of the current role's first allow, of the action's deciding allow and of
    /// its first deny.
    role_allow: Option<(String, String)>,
    first_allow: Option<(String, String)>,
    first_deny: Option<(String, String)>,
    /// The rule that decided each decided action, in order.
    decided_by: Vec<Option<(String, String)>>,
}

impl Recorder {
    pub(crate) fn into_explanation(self) -> Explanation {
        self.explanation
    }
}

impl Record for Recorder {
    const ON: bool = true;

    fn derived_role(&mut self, step: DerivedRoleStep) {
        self.explanation.derived_roles.push(step);
    }

    fn rule(&mut self, step: RuleStep) {
        self.steps.push(step);
    }

    fn role_started(&mut self) {
        self.role_allow = None;
    }

    fn allowed_by(&mut self, policy: &str, rule: &str) {
        self.role_allow.get_or_insert_with(|| (policy.to_string(), rule.to_string()));
    }

    fn denied_by(&mut self, policy: &str, rule: &str) {
        self.first_deny.get_or_insert_with(|| (policy.to_string(), rule.to_string()));
    }

    fn role_allowed(&mut self) {
        if self.first_allow.is_none() {
            self.first_allow = self.role_allow.clone();
        }
    }

    fn action_decided(&mut self, action: &str, effect: Effect) {
        let (allow, deny) = (self.first_allow.take(), self.first_deny.take());
        self.decided_by.push(if effect == Effect::Allow { allow } else { deny });
        let steps = std::mem::take(&mut self.steps);
        self.explanation.actions.push(ActionExplanation { action: action.to_string(), steps, ..Default::default() });
    }

    fn finish(&mut self, input: &CheckInput, actions: &[(String, ActionEffect)], version: &str, scope: &str) {
        for (k, (action, e)) in actions.iter().enumerate() {
            let x = &mut self.explanation;
            let i = match x.actions.iter().position(|a| &a.action == action) {
                Some(i) => i,
                None => {
                    x.actions.push(ActionExplanation { action: action.clone(), ..Default::default() });
                    x.actions.len() - 1
                }
            };
            let a = &mut x.actions[i];
            a.reason = reason(input, e, self.decided_by.get(k).and_then(|d| d.as_ref()), version, scope);
            a.effect = e.effect;
            a.policy = e.policy.clone();
            a.scope = e.scope.clone();
        }
    }
}

/// Why an action has its effect, in a sentence.
fn reason(input: &CheckInput, e: &ActionEffect, by: Option<&(String, String)>, version: &str, scope: &str) -> String {
    match (e.effect, by) {
        (Effect::Allow, Some((p, r))) => format!("allowed by rule `{r}` of `{p}`"),
        (Effect::Deny, Some((p, r))) if r.is_empty() => format!("denied by role policy `{p}`: it does not allow this action"),
        (Effect::Deny, Some((p, r))) => format!("denied by rule `{r}` of `{p}`"),
        (_, None) if e.policy == NO_MATCH => format!(
            "denied by default: no policy matches principal `{}` or resource kind `{}` (version `{version}`, scope `{scope}`)",
            input.principal.id, input.resource.kind
        ),
        _ => format!("denied by default: no rule of `{}` allows this action for roles {:?}", e.policy, input.principal.roles),
    }
}

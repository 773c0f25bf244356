//! An account of how a decision was reached: every rule the evaluator looked at, in order, with the
//! value of each condition it evaluated. Recorded only when asked for; free otherwise.
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
    pub effect: Option<&'static str>,
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
    pub effect: String,
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

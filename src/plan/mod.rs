//! Query planning (Cerbos's `PlanResources`): which resources of a kind may a principal act on,
//! as a condition over the resource's attributes that a database can filter on.
//!
//! ```text
//! Engine::plan(&PlanInput, now) -> Result<PlanOutput, String>              // engine level
//! CerbosApi::plan_resources(&PlanResourcesRequest, now)                    // Cerbos's public API
//!                                        // shape (POST /api/plan/resources), in crate::api::plan
//! PlanOutput { filter: Filter { kind, condition: Option<Operand> }, filter_debug, matched_scopes,
//!              validation_errors, evaluation_errors, .. }
//! Operand::{Value(json), Variable("request.resource.attr.x"), Expression { operator, operands }}
//! ```
//!
//! Rules are selected exactly as `check` selects them (principal, resource and role policies,
//! derived roles, scopes and scope permissions, schemas, strict evaluation). Each condition is
//! partially evaluated over the compiled AST the evaluator runs (see [`partial`]): everything
//! the request knows (principal, known resource attributes, aux data, variables, constants,
//! globals, `now()`) is folded to values, what depends on unknown resource attributes remains.
//! The trees, their normalisation and `filterDebug` follow Cerbos's planner
//! (`internal/ruletable/planner`) so that they compare equal to Cerbos's.
//!
//! ```
//! use _core::plan::{FilterKind, PlanInput};
//! use _core::{Engine, EngineConfig, PolicySource};
//! use serde_json::json;
//!
//! let policy = r#"
//! apiVersion: api.cerbos.dev/v1
//! resourcePolicy:
//!   resource: contact
//!   version: default
//!   rules:
//!     - actions: [read]
//!       roles: [user]
//!       effect: EFFECT_ALLOW
//!       condition:
//!         match:
//!           expr: R.attr.owner == P.id
//! "#;
//! let engine = Engine::new(PolicySource::Documents(vec![("contact.yaml".into(), policy.into())]), EngineConfig::default()).unwrap();
//! let input: PlanInput = serde_json::from_value(json!({
//!     "actions": ["read"],
//!     "principal": {"id": "alice", "roles": ["user"]},
//!     "resource": {"kind": "contact"},
//! })).unwrap();
//! let plan = engine.plan(&input, None).unwrap();
//! assert_eq!(plan.filter.kind, FilterKind::Conditional);
//! assert_eq!(plan.filter_debug, r#"(eq request.resource.attr.owner "alice")"#);
//! ```

mod condition;
mod exact;
mod expr;
mod filter;
mod node;
mod operand;
mod partial;
mod rules;

#[cfg(test)]
mod conformance_tests;
#[cfg(test)]
mod differential_tests;
#[cfg(test)]
mod tests;

pub use condition::IS_TRUE;
pub use filter::{expand_abbrev, merge_with_and, normalise, Expression, Filter, FilterKind, Operand};

use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use crate::eval::request::{string_list, AuxData, EvaluationError, PrincipalInput, ValidationError};
use crate::Engine;

/// The resource side of a plan: a kind, and whatever attributes are already known.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanResource {
    pub kind: String,
    #[serde(default)]
    pub policy_version: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub attr: Map<String, Json>,
}

/// Cerbos's engine-level `PlanResourcesInput`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanInput {
    #[serde(default)]
    pub request_id: String,
    #[serde(deserialize_with = "string_list")]
    pub actions: Vec<String>,
    pub principal: PrincipalInput,
    pub resource: PlanResource,
    /// Verified JWT claims.
    #[serde(default)]
    pub aux_data: Option<AuxData>,
}

impl PlanInput {
    /// Checks what serde cannot, naming the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.resource.kind.is_empty() {
            return Err("resource.kind must not be empty".into());
        }
        if self.actions.is_empty() {
            return Err("actions must list at least one action".into());
        }
        if let Some(a) = self.actions.iter().find(|a| a.is_empty()) {
            return Err(format!("actions must not contain empty names ({a:?})"));
        }
        if self.principal.roles.is_empty() {
            return Err("principal.roles must list at least one role".into());
        }
        crate::naming::check_scope(&self.principal.scope, "principal.scope")?;
        crate::naming::check_scope(&self.resource.scope, "resource.scope")
    }
}

/// Cerbos's engine-level `PlanResourcesOutput`.
#[derive(Debug, Clone)]
pub struct PlanOutput {
    pub request_id: String,
    pub kind: String,
    /// The request's policy version, as given (possibly empty).
    pub policy_version: String,
    pub actions: Vec<String>,
    pub filter: Filter,
    /// The filter as an s-expression, or `NO_MATCH` when no policy applies.
    pub filter_debug: String,
    /// Per action, in request order, the scope whose rules decided it (empty: none or root).
    /// Empty when no policy scope matched at all.
    pub matched_scopes: Vec<(String, String)>,
    pub validation_errors: Vec<ValidationError>,
    /// CEL errors met while planning, deduplicated and sorted (not part of Cerbos's public response).
    pub evaluation_errors: Vec<EvaluationError>,
}

impl PlanOutput {
    fn for_input(input: &PlanInput) -> PlanOutput {
        PlanOutput {
            request_id: input.request_id.clone(),
            kind: input.resource.kind.clone(),
            policy_version: input.resource.policy_version.clone(),
            actions: input.actions.clone(),
            filter: Filter::always_denied(),
            filter_debug: String::new(),
            matched_scopes: Vec::new(),
            validation_errors: Vec::new(),
            evaluation_errors: Vec::new(),
        }
    }
}

/// Departures from Cerbos's plans, each off by default.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// Write `has(R.attr.x)` as the operand `(has request.resource.attr.x)` (an attribute
    /// present) where Cerbos writes `true`, so that a presence test is not dropped.
    pub presence_tests: bool,
    /// Plan as `check` decides, row for row, where Cerbos's plans are narrower: each condition
    /// leaf is wrapped in `isTrue` (a failed leaf is false, as in `check`, instead of failing the
    /// whole condition) and roles, scopes and policy kinds combine as `check` combines them
    /// (one role's ALLOW wins over another role's DENY). Implies `presence_tests`. Refused with
    /// strict evaluation, where a failing condition denies the whole action.
    pub exact: bool,
}

impl Engine {
    /// Plans which resources of `input.resource.kind` the principal may act on with all of
    /// `input.actions`, as Cerbos plans them. `now` (default: the current time) is what `now()`
    /// returns. An error is an invalid input or a condition the planner cannot express.
    pub fn plan(&self, input: &PlanInput, now: Option<DateTime<FixedOffset>>) -> Result<PlanOutput, String> {
        self.plan_with(input, now, &PlanOptions::default())
    }

    /// [`Engine::plan`] with [`PlanOptions`].
    pub fn plan_with(&self, input: &PlanInput, now: Option<DateTime<FixedOffset>>, options: &PlanOptions) -> Result<PlanOutput, String> {
        input.validate()?;
        let now = now.unwrap_or_else(|| Utc::now().fixed_offset());
        rules::plan(&self.table(), self.config(), input, now, options)
    }
}

//! Cerbos's public `PlanResources` API shape (`POST /api/plan/resources`, camelCase JSON), as
//! `super` does for `CheckResources`: the request with `action` or `actions`, tokens in
//! `auxData` verified with the engine's key sets; the response echoes the request's kind and
//! policy version and carries `meta` only when `includeMeta` is set.
use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{AuxDataRequest, CerbosApi, RequestLimits, TokenVerifier};
use crate::eval::request::{PrincipalInput, ValidationError};
use crate::plan::{PlanInput, PlanOptions, PlanOutput, PlanResource};

/// Cerbos's limit on the actions of one plan request.
const MAX_ACTIONS: usize = 20;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanResourcesRequest {
    #[serde(default)]
    pub request_id: String,
    /// Deprecated in Cerbos's API: one action (exclusive with `actions`).
    #[serde(default)]
    pub action: String,
    #[serde(default, deserialize_with = "crate::eval::request::string_list")]
    pub actions: Vec<String>,
    pub principal: PrincipalInput,
    pub resource: PlanResource,
    #[serde(default)]
    pub aux_data: Option<AuxDataRequest>,
    #[serde(default)]
    pub include_meta: bool,
    #[serde(default)]
    pub request_context: Option<Json>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanResourcesMeta {
    pub filter_debug: String,
    /// Deprecated in Cerbos's API: the scope of the one `action`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub matched_scope: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub matched_scopes: BTreeMap<String, String>,
}

/// Fields left empty are omitted, as protojson omits them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanResourcesResponse {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub request_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub action: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    pub resource_kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub policy_version: String,
    /// The filter in protojson form (see [`crate::plan::Filter::to_json`]).
    pub filter: Json,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<PlanResourcesMeta>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub validation_errors: Vec<ValidationError>,
}

impl PlanResourcesRequest {
    /// Checks the request as Cerbos's API validation does, naming the offending field.
    pub fn validate(&self) -> Result<(), String> {
        match (self.action.is_empty(), self.actions.is_empty()) {
            (true, true) | (false, false) => return Err("exactly one of 'action' or 'actions' field must be set".into()),
            _ => {}
        }
        if self.actions.len() > MAX_ACTIONS {
            return Err(format!("actions must list at most {MAX_ACTIONS} actions"));
        }
        let mut seen = HashSet::new();
        for (i, a) in self.actions.iter().enumerate() {
            if a.is_empty() {
                return Err(format!("actions[{i}] must not be empty"));
            }
            if !seen.insert(a) {
                return Err(format!("actions[{i}] repeats {a:?}: actions must be unique"));
            }
        }
        if self.principal.id.is_empty() {
            return Err("principal.id must not be empty".into());
        }
        if self.principal.roles.is_empty() {
            return Err("principal.roles must list at least one role".into());
        }
        if self.resource.kind.is_empty() {
            return Err("resource.kind must not be empty".into());
        }
        crate::naming::check_scope(&self.principal.scope, "principal.scope")?;
        crate::naming::check_scope(&self.resource.scope, "resource.scope")?;
        if let Some(a) = &self.aux_data {
            if a.jwt.is_some() && a.jwts.is_some() {
                return Err("auxData: use either jwt or jwts, not both".into());
            }
        }
        Ok(())
    }

    /// The engine input, with JWTs verified into claims; the actions count against `limits`.
    pub fn to_input(&self, verifier: Option<&dyn TokenVerifier>, limits: &RequestLimits) -> Result<PlanInput, String> {
        self.validate()?;
        limits.check_actions(self.actions.len(), "actions")?;
        let aux_data = self.aux_data.as_ref().map(|a| a.verified(verifier)).transpose()?;
        let actions = if self.action.is_empty() { self.actions.clone() } else { vec![self.action.clone()] };
        Ok(PlanInput { request_id: self.request_id.clone(), actions, principal: self.principal.clone(), resource: self.resource.clone(), aux_data })
    }

    /// The response for the engine's output, as Cerbos's API builds it.
    pub fn response(&self, out: PlanOutput) -> PlanResourcesResponse {
        let one_action = !self.action.is_empty();
        let meta = self.include_meta.then(|| {
            let mut meta = PlanResourcesMeta { filter_debug: out.filter_debug.clone(), matched_scope: String::new(), matched_scopes: BTreeMap::new() };
            if one_action {
                meta.matched_scope = out.matched_scopes.iter().find(|(a, _)| *a == self.action).map(|(_, s)| s.clone()).unwrap_or_default();
            } else {
                meta.matched_scopes = out.matched_scopes.iter().cloned().collect();
            }
            meta
        });
        PlanResourcesResponse {
            request_id: self.request_id.clone(),
            action: self.action.clone(),
            actions: if one_action { Vec::new() } else { self.actions.clone() },
            resource_kind: self.resource.kind.clone(),
            policy_version: self.resource.policy_version.clone(),
            filter: out.filter.to_json(),
            meta,
            validation_errors: out.validation_errors,
        }
    }
}

impl CerbosApi {
    /// The planner input of `req`: validated, within the limits, its tokens verified with the
    /// API's key sets (for callers that plan the input themselves, e.g. to log the plan).
    pub fn plan_input(&self, req: &PlanResourcesRequest) -> Result<PlanInput, String> {
        req.to_input(self.token_verifier(), &self.limits)
    }

    /// Answers a Cerbos `PlanResourcesRequest` as Cerbos's API would, refusing one with more
    /// actions than the limits allow.
    pub fn plan_resources(&self, req: &PlanResourcesRequest, now: Option<DateTime<FixedOffset>>) -> Result<PlanResourcesResponse, String> {
        self.plan_resources_with(req, now, &PlanOptions::default())
    }

    /// [`CerbosApi::plan_resources`] with [`PlanOptions`] (presence tests, exact plans).
    pub fn plan_resources_with(
        &self,
        req: &PlanResourcesRequest,
        now: Option<DateTime<FixedOffset>>,
        options: &PlanOptions,
    ) -> Result<PlanResourcesResponse, String> {
        let input = self.plan_input(req)?;
        Ok(req.response(self.engine().plan_with(&input, now, options)?))
    }
}

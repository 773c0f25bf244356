//! Cerbos's public API over an [`Engine`]: the `CheckResources` shape here (`POST /api/check/resources`,
//! camelCase JSON) and `PlanResources` in [`plan`], so tools that speak Cerbos's HTTP API can use
//! warden unchanged. [`CerbosApi`] wraps the engine with what only the API has: request
//! validation, Cerbos's request limits and the key sets that verify aux-data JWTs ([`auxdata`]).
//! Each resource entry becomes one engine `CheckInput`; the response echoes the request's resource
//! version and scope, as Cerbos does.
pub mod auxdata;
pub mod plan;

use crate::eval::request::{AuxData, CheckInput, CheckOutput, OutputEntry, PrincipalInput, ResourceInput, ValidationError};
use crate::naming::check_scope;
use crate::Engine;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckResourcesRequest {
    #[serde(default)]
    pub request_id: String,
    pub principal: PrincipalInput,
    pub resources: Vec<ResourceEntry>,
    #[serde(default)]
    pub aux_data: Option<AuxDataRequest>,
    #[serde(default)]
    pub include_meta: bool,
    #[serde(default)]
    pub request_context: Option<Json>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceEntry {
    #[serde(deserialize_with = "crate::eval::request::string_list")]
    pub actions: Vec<String>,
    pub resource: ResourceInput,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JwtRef {
    pub token: String,
    #[serde(default)]
    pub key_set_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuxDataRequest {
    #[serde(default)]
    pub jwt: Option<JwtRef>,
    #[serde(default)]
    pub jwts: Option<BTreeMap<String, JwtRef>>,
}

impl AuxDataRequest {
    /// The claims of the request's tokens, verified with the engine's key sets (also used by
    /// the planner's `PlanResources` entry point).
    pub fn verified(&self, verifier: Option<&dyn TokenVerifier>) -> Result<AuxData, String> {
        let verify = |j: &JwtRef| -> Result<Map<String, Json>, String> {
            let v = verifier.ok_or("auxData carries a JWT but the engine has no jwt_keysets configured")?;
            v.verify(&j.token, j.key_set_id.as_deref()).map_err(|e| format!("invalid auxData: {e}"))
        };
        let mut out = AuxData::default();
        if let Some(j) = &self.jwt {
            out.jwt = verify(j)?;
        }
        if let Some(js) = &self.jwts {
            for (name, j) in js {
                let mut entry = Map::new();
                entry.insert("claims".into(), Json::Object(verify(j)?));
                out.jwts.insert(name.clone(), Json::Object(entry));
            }
        }
        Ok(out)
    }
}

/// An engine answering Cerbos's public API requests.
pub struct CerbosApi {
    engine: Arc<Engine>,
    limits: RequestLimits,
    /// Verifies `auxData` tokens (the key sets configured for the API).
    token_verifier: Option<Box<dyn TokenVerifier>>,
}

impl CerbosApi {
    pub fn new(engine: Arc<Engine>, limits: RequestLimits) -> CerbosApi {
        CerbosApi { engine, limits, token_verifier: None }
    }

    /// Sets what verifies `auxData` JWTs of requests.
    pub fn with_token_verifier(mut self, verifier: Box<dyn TokenVerifier>) -> CerbosApi {
        self.token_verifier = Some(verifier);
        self
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub fn limits(&self) -> RequestLimits {
        self.limits
    }

    fn token_verifier(&self) -> Option<&dyn TokenVerifier> {
        self.token_verifier.as_deref()
    }

    /// The engine inputs of `req`: validated, within the limits, its tokens verified with the
    /// API's key sets (for callers that decide the inputs themselves, e.g. to log the decision).
    pub fn check_inputs(&self, req: &CheckResourcesRequest) -> Result<Vec<CheckInput>, String> {
        req.to_inputs(self.token_verifier(), &self.limits)
    }

    /// Answers a Cerbos `CheckResourcesRequest` as Cerbos's API would, refusing one larger than the limits.
    pub fn check_resources(&self, req: &CheckResourcesRequest, now: Option<DateTime<FixedOffset>>) -> Result<CheckResourcesResponse, String> {
        let inputs = self.check_inputs(req)?;
        Ok(req.response(self.engine.check(&inputs, now)))
    }
}

/// Cerbos's `server.requestLimits`: how many resources one API request may carry and how many
/// actions one resource may list. `None` leaves that count unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    pub max_resources_per_request: Option<usize>,
    pub max_actions_per_resource: Option<usize>,
}

impl RequestLimits {
    /// Cerbos's defaults (`internal/server/conf.go`).
    pub const CERBOS: RequestLimits = RequestLimits { max_resources_per_request: Some(50), max_actions_per_resource: Some(50) };
    pub const UNLIMITED: RequestLimits = RequestLimits { max_resources_per_request: None, max_actions_per_resource: None };

    /// Refuses `count` resources at `field` beyond the limit, in Cerbos's words plus the limit's name.
    pub fn check_resources(&self, count: usize, field: &str) -> Result<(), String> {
        match self.max_resources_per_request {
            Some(max) if count > max => {
                Err(format!("{field}: number of resources in batch ({count}) exceeds configured limit max_resources_per_request ({max})"))
            }
            _ => Ok(()),
        }
    }

    /// Refuses `count` actions of one resource at `field` beyond the limit.
    pub fn check_actions(&self, count: usize, field: &str) -> Result<(), String> {
        match self.max_actions_per_resource {
            Some(max) if count > max => Err(format!("{field}: number of actions ({count}) exceeds configured limit max_actions_per_resource ({max})")),
            _ => Ok(()),
        }
    }
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits::CERBOS
    }
}

/// Turns a token from the request's aux data into verified claims (the engine's configured key sets).
pub trait TokenVerifier: Send + Sync {
    fn verify(&self, token: &str, key_set_id: Option<&str>) -> Result<Map<String, Json>, String>;
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultResource {
    pub id: String,
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub policy_version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchedAction {
    pub matched_policy: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub matched_scope: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultMeta {
    pub actions: BTreeMap<String, MatchedAction>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub effective_derived_roles: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultEntry {
    pub resource: ResultResource,
    pub actions: BTreeMap<String, crate::policy::Effect>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub validation_errors: Vec<ValidationError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<ResultMeta>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<OutputEntry>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResourcesResponse {
    pub request_id: String,
    pub results: Vec<ResultEntry>,
}

impl CheckResourcesRequest {
    /// Checks the request as Cerbos's API validation does, naming the offending field.
    pub fn validate(&self) -> Result<(), String> {
        if self.principal.roles.is_empty() {
            return Err("principal.roles must list at least one role".into());
        }
        check_scope(&self.principal.scope, "principal.scope")?;
        if self.resources.is_empty() {
            return Err("resources must list at least one resource".into());
        }
        for (i, r) in self.resources.iter().enumerate() {
            if r.actions.is_empty() {
                return Err(format!("resources[{i}].actions must list at least one action"));
            }
            if r.resource.kind.is_empty() {
                return Err(format!("resources[{i}].resource.kind must not be empty"));
            }
            check_scope(&r.resource.scope, &format!("resources[{i}].resource.scope"))?;
        }
        if let Some(a) = &self.aux_data {
            if a.jwt.is_some() && a.jwts.is_some() {
                return Err("auxData: use either jwt or jwts, not both".into());
            }
        }
        Ok(())
    }

    /// Refuses a request larger than `limits` allow, naming the field (as Cerbos's service does
    /// before it decides anything).
    pub fn check_limits(&self, limits: &RequestLimits) -> Result<(), String> {
        limits.check_resources(self.resources.len(), "resources")?;
        for (i, r) in self.resources.iter().enumerate() {
            limits.check_actions(r.actions.len(), &format!("resources[{i}].actions"))?;
        }
        Ok(())
    }

    /// The engine inputs, with JWTs verified into claims.
    pub fn to_inputs(&self, verifier: Option<&dyn TokenVerifier>, limits: &RequestLimits) -> Result<Vec<CheckInput>, String> {
        self.validate()?;
        self.check_limits(limits)?;
        let aux = self.aux_data.as_ref().map(|a| a.verified(verifier)).transpose()?;
        Ok(self
            .resources
            .iter()
            .map(|r| CheckInput {
                request_id: self.request_id.clone(),
                resource: r.resource.clone(),
                principal: self.principal.clone(),
                actions: r.actions.clone(),
                aux_data: aux.clone(),
            })
            .collect())
    }

    pub fn response(&self, outputs: Vec<CheckOutput>) -> CheckResourcesResponse {
        let results = self
            .resources
            .iter()
            .zip(outputs)
            .map(|(entry, out)| {
                let r = &entry.resource;
                let meta = self.include_meta.then(|| ResultMeta {
                    actions: out
                        .actions
                        .0
                        .iter()
                        .map(|(a, e)| (a.clone(), MatchedAction { matched_policy: e.policy.clone(), matched_scope: e.scope.clone() }))
                        .collect(),
                    effective_derived_roles: out.effective_derived_roles.clone(),
                });
                ResultEntry {
                    resource: ResultResource { id: r.id.clone(), kind: r.kind.clone(), policy_version: r.policy_version.clone(), scope: r.scope.clone() },
                    actions: out.actions.0.iter().map(|(a, e)| (a.clone(), e.effect)).collect(),
                    validation_errors: out.validation_errors,
                    meta,
                    outputs: out.outputs,
                }
            })
            .collect();
        CheckResourcesResponse { request_id: self.request_id.clone(), results }
    }
}

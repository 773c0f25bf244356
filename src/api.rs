//! Cerbos's public `CheckResources` API shape (`POST /api/check/resources`, camelCase JSON), so tools
//! that speak Cerbos's HTTP API can use warden unchanged. Each resource entry becomes one engine
//! `CheckInput`; the response echoes the request's resource version and scope, as Cerbos does.
use crate::eval::request::{AuxData, CheckInput, CheckOutput, OutputEntry, PrincipalInput, ResourceInput, ValidationError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

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
    pub actions: BTreeMap<String, &'static str>,
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
        }
        if let Some(a) = &self.aux_data {
            if a.jwt.is_some() && a.jwts.is_some() {
                return Err("auxData: use either jwt or jwts, not both".into());
            }
        }
        Ok(())
    }

    /// The engine inputs, with JWTs verified into claims.
    pub fn to_inputs(&self, verifier: Option<&dyn TokenVerifier>) -> Result<Vec<CheckInput>, String> {
        self.validate()?;
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

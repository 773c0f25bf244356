//! The Cerbos policy document, as written in YAML or JSON (protojson field names).
//! Unknown fields are errors, as in Cerbos; spans let errors point into the file.
use serde::Deserialize;
use serde_json::Value as Json;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyDoc {
    pub api_version: Option<Spanned<String>>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub metadata: Option<Json>,
    #[serde(rename = "$schema", default)]
    pub json_schema: Option<String>,
    /// Deprecated top-level variables, merged into the policy's local variables.
    #[serde(default)]
    pub variables: Option<BTreeMap<String, Spanned<String>>>,
    pub resource_policy: Option<Spanned<ResourcePolicy>>,
    pub principal_policy: Option<Spanned<PrincipalPolicy>>,
    pub derived_roles: Option<Spanned<DerivedRoles>>,
    pub export_variables: Option<Spanned<ExportVariables>>,
    pub export_constants: Option<Spanned<ExportConstants>>,
    pub role_policy: Option<Spanned<RolePolicy>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Variables {
    #[serde(default)]
    pub import: Vec<Spanned<String>>,
    #[serde(default)]
    pub local: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Constants {
    #[serde(default)]
    pub import: Vec<Spanned<String>>,
    #[serde(default)]
    pub local: BTreeMap<String, Spanned<Json>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourcePolicy {
    pub resource: Spanned<String>,
    pub version: Spanned<String>,
    #[serde(default)]
    pub scope: Option<Spanned<String>>,
    #[serde(default)]
    pub scope_permissions: Option<Spanned<String>>,
    #[serde(default)]
    pub import_derived_roles: Vec<Spanned<String>>,
    #[serde(default)]
    pub variables: Option<Variables>,
    #[serde(default)]
    pub constants: Option<Constants>,
    #[serde(default)]
    pub schemas: Option<Schemas>,
    #[serde(default)]
    pub rules: Vec<Spanned<ResourceRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceRule {
    #[serde(default)]
    pub actions: Vec<Spanned<String>>,
    #[serde(default)]
    pub roles: Vec<Spanned<String>>,
    #[serde(default)]
    pub derived_roles: Vec<Spanned<String>>,
    #[serde(default)]
    pub condition: Option<Spanned<Condition>>,
    pub effect: Spanned<String>,
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub output: Option<Spanned<Output>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Schemas {
    #[serde(default)]
    pub principal_schema: Option<SchemaRef>,
    #[serde(default)]
    pub resource_schema: Option<SchemaRef>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SchemaRef {
    pub r#ref: Spanned<String>,
    #[serde(default)]
    pub ignore_when: Option<IgnoreWhen>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IgnoreWhen {
    #[serde(default)]
    pub actions: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrincipalPolicy {
    pub principal: Spanned<String>,
    pub version: Spanned<String>,
    #[serde(default)]
    pub scope: Option<Spanned<String>>,
    #[serde(default)]
    pub scope_permissions: Option<Spanned<String>>,
    #[serde(default)]
    pub variables: Option<Variables>,
    #[serde(default)]
    pub constants: Option<Constants>,
    #[serde(default)]
    pub rules: Vec<Spanned<PrincipalRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrincipalRule {
    pub resource: Spanned<String>,
    #[serde(default)]
    pub actions: Vec<Spanned<PrincipalAction>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrincipalAction {
    pub action: Spanned<String>,
    pub effect: Spanned<String>,
    #[serde(default)]
    pub condition: Option<Spanned<Condition>>,
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub output: Option<Spanned<Output>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DerivedRoles {
    pub name: Spanned<String>,
    #[serde(default)]
    pub definitions: Vec<Spanned<RoleDef>>,
    #[serde(default)]
    pub variables: Option<Variables>,
    #[serde(default)]
    pub constants: Option<Constants>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleDef {
    pub name: Spanned<String>,
    #[serde(default)]
    pub parent_roles: Vec<Spanned<String>>,
    #[serde(default)]
    pub condition: Option<Spanned<Condition>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportVariables {
    pub name: Spanned<String>,
    #[serde(default)]
    pub definitions: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportConstants {
    pub name: Spanned<String>,
    #[serde(default)]
    pub definitions: BTreeMap<String, Spanned<Json>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolePolicy {
    pub role: Spanned<String>,
    #[serde(default)]
    pub version: Option<Spanned<String>>,
    #[serde(default)]
    pub scope: Option<Spanned<String>>,
    #[serde(default)]
    pub parent_roles: Vec<Spanned<String>>,
    /// Deprecated and ignored by Cerbos.
    #[serde(default)]
    pub scope_permissions: Option<Spanned<String>>,
    #[serde(default)]
    pub variables: Option<Variables>,
    #[serde(default)]
    pub constants: Option<Constants>,
    #[serde(default)]
    pub rules: Vec<Spanned<RoleRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleRule {
    pub resource: Spanned<String>,
    #[serde(default)]
    pub allow_actions: Vec<Spanned<String>>,
    #[serde(default)]
    pub condition: Option<Spanned<Condition>>,
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub output: Option<Spanned<Output>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Condition {
    #[serde(rename = "match", default)]
    pub match_: Option<Spanned<Match>>,
    /// Present in the proto but rejected by Cerbos ("unsupported feature").
    #[serde(default)]
    pub script: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Match {
    #[serde(default)]
    pub expr: Option<Spanned<String>>,
    #[serde(default)]
    pub all: Option<MatchList>,
    #[serde(default)]
    pub any: Option<MatchList>,
    #[serde(default)]
    pub none: Option<MatchList>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MatchList {
    #[serde(default)]
    pub of: Vec<Spanned<Match>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Output {
    /// Deprecated form of `when.ruleActivated`.
    #[serde(default)]
    pub expr: Option<Spanned<String>>,
    #[serde(default)]
    pub when: Option<OutputWhen>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutputWhen {
    #[serde(default)]
    pub rule_activated: Option<Spanned<String>>,
    #[serde(default)]
    pub condition_not_met: Option<Spanned<String>>,
}

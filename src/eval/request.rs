//! Cerbos engine `CheckInput` / `CheckOutput` in their protojson form (camelCase; empty fields omitted).
use crate::policy::Effect;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value as Json};

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckInput {
    #[serde(default)]
    pub request_id: String,
    pub resource: ResourceInput,
    pub principal: PrincipalInput,
    #[serde(deserialize_with = "string_list")]
    pub actions: Vec<String>,
    #[serde(default)]
    pub aux_data: Option<AuxData>,
}

/// A list of strings, refusing a lone string (which some front ends would split into characters).
pub fn string_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of strings")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(s) = seq.next_element::<String>()? {
                out.push(s);
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrincipalInput {
    pub id: String,
    #[serde(default)]
    pub policy_version: String,
    #[serde(default)]
    pub scope: String,
    #[serde(deserialize_with = "string_list")]
    pub roles: Vec<String>,
    #[serde(default)]
    pub attr: Map<String, Json>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceInput {
    pub kind: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub policy_version: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub attr: Map<String, Json>,
}

/// Engine-level aux data: already-verified JWT claims.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuxData {
    #[serde(default)]
    pub jwt: Map<String, Json>,
    #[serde(default)]
    pub jwts: Map<String, Json>,
}

impl CheckInput {
    /// Checks what serde cannot: the request must name something to decide.
    pub fn validate(&self) -> Result<(), String> {
        if self.resource.kind.is_empty() {
            return Err("resource.kind must not be empty".into());
        }
        if self.actions.is_empty() {
            return Err("actions must list at least one action".into());
        }
        if self.principal.roles.is_empty() {
            return Err("principal.roles must list at least one role".into());
        }
        crate::naming::check_scope(&self.principal.scope, "principal.scope")?;
        crate::naming::check_scope(&self.resource.scope, "resource.scope")
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ActionEffect {
    pub effect: Effect,
    pub policy: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OutputEntry {
    pub src: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val: Option<Json>,
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct CelError {
    pub expression: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EvaluationError {
    pub cel_error: CelError,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ValidationError {
    pub path: String,
    pub message: String,
    pub source: &'static str,
}

/// Actions in request order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionEffects(pub Vec<(String, ActionEffect)>);

impl Serialize for ActionEffects {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[derive(Debug, Clone, Serialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CheckOutput {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub request_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resource_id: String,
    pub actions: ActionEffects,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub effective_derived_roles: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub validation_errors: Vec<ValidationError>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<OutputEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evaluation_errors: Vec<EvaluationError>,
    /// Whether a condition, variable or output evaluated for this decision read `now()`
    /// (warden's own; not part of Cerbos's `CheckOutput`, so never serialized).
    #[serde(skip)]
    pub used_now: bool,
}

impl CheckOutput {
    pub fn effect(&self, action: &str) -> Option<&ActionEffect> {
        self.actions.0.iter().find(|(a, _)| a == action).map(|(_, e)| e)
    }
}

//! How an engine decides: the settings of Cerbos's engine configuration that apply per check.
use crate::cel::Vars;

/// What happens when attributes do not match the policy's schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaEnforcement {
    None,
    Warn,
    Reject,
}

impl std::str::FromStr for SchemaEnforcement {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(SchemaEnforcement::None),
            "warn" => Ok(SchemaEnforcement::Warn),
            "reject" => Ok(SchemaEnforcement::Reject),
            other => Err(format!("schema_enforcement must be \"none\", \"warn\" or \"reject\", not {other:?}")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Cerbos's `engine.globals`, as CEL values (`Vars::from_json_map` converts JSON once).
    pub globals: Vars,
    pub lenient_scope_search: bool,
    pub schema_enforcement: SchemaEnforcement,
    /// Cerbos's strict evaluation: a condition that fails to evaluate denies the action.
    pub strict_evaluation: bool,
    /// Used when a request leaves the policy version empty.
    pub default_policy_version: String,
    /// Used when a request leaves the scope empty.
    pub default_scope: String,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            globals: Vars::new(),
            lenient_scope_search: false,
            schema_enforcement: SchemaEnforcement::None,
            strict_evaluation: false,
            default_policy_version: "default".into(),
            default_scope: String::new(),
        }
    }
}

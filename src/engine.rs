//! The engine: a compiled policy set that can be swapped atomically, plus its evaluation settings.
use crate::compile::{self, table::RuleTable};
use crate::eval::{self, CheckInput, CheckOutput, EvalConf};
use crate::policy::{self, PolicyErrors, Problem};
use chrono::{DateTime, FixedOffset, Utc};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

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
    pub globals: serde_json::Map<String, serde_json::Value>,
    pub lenient_scope_search: bool,
    pub schema_enforcement: SchemaEnforcement,
    pub default_policy_version: String,
    pub default_scope: String,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            globals: serde_json::Map::new(),
            lenient_scope_search: false,
            schema_enforcement: SchemaEnforcement::None,
            default_policy_version: "default".into(),
            default_scope: String::new(),
        }
    }
}

/// Where the policies come from, so that a reload reads them again.
#[derive(Debug, Clone)]
pub enum PolicySource {
    Directory(PathBuf),
    /// (name used in error messages, YAML or JSON text)
    Documents(Vec<(String, String)>),
}

pub struct Engine {
    source: PolicySource,
    conf: EvalConf,
    config: EngineConfig,
    table: RwLock<Arc<RuleTable>>,
}

/// Parses and compiles a whole policy set; every problem of every file is reported together.
pub fn load(source: &PolicySource) -> Result<RuleTable, PolicyErrors> {
    let docs = match source {
        PolicySource::Directory(dir) => policy::store::read_policy_dir(dir).map_err(PolicyErrors)?,
        PolicySource::Documents(d) => d.clone(),
    };
    let mut parsed = Vec::with_capacity(docs.len());
    let mut problems: Vec<Problem> = Vec::new();
    for (name, text) in &docs {
        match policy::parse_policy(name, text) {
            Ok(p) => parsed.push(p),
            Err(mut e) => problems.append(&mut e),
        }
    }
    if !problems.is_empty() {
        return Err(PolicyErrors(problems));
    }
    compile::compile(parsed)
}

impl Engine {
    pub fn new(source: PolicySource, config: EngineConfig) -> Result<Engine, PolicyErrors> {
        let table = load(&source)?;
        let conf = EvalConf {
            default_policy_version: config.default_policy_version.clone(),
            default_scope: config.default_scope.clone(),
            lenient_scope_search: config.lenient_scope_search,
            globals: crate::cel::json_to_value(&serde_json::Value::Object(config.globals.clone())),
        };
        Ok(Engine { source, conf, config, table: RwLock::new(Arc::new(table)) })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn source(&self) -> &PolicySource {
        &self.source
    }

    /// The policy set in force; a check holds it for its whole duration.
    pub fn table(&self) -> Arc<RuleTable> {
        self.table.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Compiles the source again and swaps the new set in only if it compiles completely.
    pub fn reload(&self) -> Result<(), PolicyErrors> {
        let table = load(&self.source)?;
        *self.table.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(table);
        Ok(())
    }

    /// Decides each input. `now` is fixed once for the whole batch, as Cerbos does.
    pub fn check(&self, inputs: &[CheckInput], now: Option<DateTime<FixedOffset>>) -> Vec<CheckOutput> {
        let now = now.unwrap_or_else(|| Utc::now().fixed_offset());
        let table = self.table();
        inputs.iter().map(|i| eval::check(&table, &self.conf, i, now)).collect()
    }
}

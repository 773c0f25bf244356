//! Records (what a decision hands over) and the entries built from them, field for field as
//! Cerbos's protojson writes a `DecisionLogEntry`: camelCase names, empty fields left out.
use super::filter::Filters;
use crate::compile::scope_parents;
use crate::compile::table::RuleTable;
use crate::eval::request::{AuxData, PrincipalInput};
use crate::eval::{CheckInput, CheckOutput, EvalConf};
use crate::plan::{PlanInput, PlanResourcesResponse};
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use rustc_hash::FxHashMap;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeSet;
use std::sync::Arc;

/// What one decision leaves for its log entry. Everything is moved in, nothing is copied.
pub enum Record {
    /// `check`, `is_allowed`, `decision_table`, `check_resources_json`: one entry for the whole batch.
    Check { table: Arc<RuleTable>, inputs: Vec<CheckInput>, outputs: Vec<CheckOutput>, now: DateTime<FixedOffset>, context: Option<Json> },
    /// `plan_resources`, `plan_resources_json`.
    Plan { table: Arc<RuleTable>, input: PlanInput, response: PlanResourcesResponse, now: DateTime<FixedOffset>, context: Option<Json> },
    /// A request refused before any decision (an invalid bearer token): `checkResources.error`.
    Error { error: String, now: DateTime<FixedOffset>, context: Option<Json> },
}

/// Builds entries for one engine: its evaluation settings (to retrace which policies a decision
/// reached), where its policies come from, and the filters.
pub struct EntryBuilder {
    conf: EvalConf,
    /// Cerbos's `policySource` (e.g. `{"disk": {"directory": ...}}`), if the source has a Cerbos name.
    policy_source: Option<Json>,
    /// `driver` of every policy's source attributes (`disk` for a directory).
    driver: &'static str,
    /// Whether the app gave `policy_source` (else it is the loader's).
    source_given: bool,
    filters: Filters,
    /// Policy key -> source file, for the policy set last seen (rebuilt when the set changes).
    files: Option<(Arc<RuleTable>, FxHashMap<String, String>)>,
}

impl EntryBuilder {
    pub fn new(conf: EvalConf, policy_source: Option<Json>, driver: &'static str, filters: Filters) -> EntryBuilder {
        EntryBuilder { conf, policy_source, source_given: false, driver, filters, files: None }
    }

    /// The entry for a record, or None when the filters leave nothing to log.
    pub fn build(&mut self, record: Record, policy_version: Option<&str>) -> Option<Json> {
        let (now, context) = match &record {
            Record::Check { now, context, .. } | Record::Plan { now, context, .. } | Record::Error { now, context, .. } => (*now, context.clone()),
        };
        let mut entry = Map::new();
        entry.insert("callId".into(), Json::String(call_id(now)));
        entry.insert("timestamp".into(), Json::String(timestamp(now)));
        let context = context.unwrap_or(Json::Null);
        if let Some(peer) = context.get("peer").filter(|p| p.as_object().is_some_and(|o| !o.is_empty())) {
            entry.insert("peer".into(), peer.clone());
        }
        match record {
            Record::Check { table, inputs, outputs, now, .. } => {
                let trail = self.check_trail(&table, &inputs, now);
                let method = json!({
                    "inputs": inputs.iter().map(input_json).collect::<Vec<_>>(),
                    "outputs": serde_json::to_value(&outputs).unwrap_or(Json::Null),
                });
                entry.insert("checkResources".into(), method);
                entry.insert("auditTrail".into(), trail);
            }
            Record::Plan { table, input, response, .. } => {
                let trail = self.plan_trail(&table, &input);
                let output = plan_output_json(&input, &response);
                entry.insert("planResources".into(), json!({"input": plan_input_json(&input), "output": output}));
                entry.insert("auditTrail".into(), trail);
            }
            Record::Error { error, .. } => {
                entry.insert("checkResources".into(), json!({"error": error}));
            }
        }
        if let Some(m) = context.get("metadata").and_then(|m| self.filters.metadata(m)) {
            entry.insert("metadata".into(), m);
        }
        if let Some(s) = self.source(policy_version) {
            entry.insert("policySource".into(), s);
        }
        if let Some(rc) = context.get("requestContext").filter(|r| r.as_object().is_some_and(|o| !o.is_empty())) {
            entry.insert("requestContext".into(), rc.clone());
        }
        let mut entry = Json::Object(entry);
        self.filters.mask.apply(&mut entry);
        Some(entry)
    }

    /// Says where the policies come from instead of the engine's loader (a Cerbos `PolicySource`,
    /// e.g. `{"git": {"repositoryUrl": ..., "branch": ...}}`); the version goes into its version field.
    pub fn with_policy_source(mut self, source: Json) -> EntryBuilder {
        self.policy_source = Some(source);
        self.source_given = true;
        self
    }

    /// `policySource`, carrying the version of the set that decided (a git commit, a bundle
    /// digest) in the field Cerbos has for it: `git.hash`, a hub bundle's `bundleId`, an embedded
    /// PDP's `commitHash`. A directory (or in-memory set) with a version is a local bundle.
    fn source(&self, policy_version: Option<&str>) -> Option<Json> {
        let Some(v) = policy_version else { return self.policy_source.clone() };
        let mut s = match (&self.policy_source, self.source_given) {
            (Some(s), true) => s.clone(),
            (Some(s), false) => json!({"hub": {"localBundle": {"path": s.pointer("/disk/directory").cloned().unwrap_or(Json::Null)}}}),
            (None, _) => json!({"hub": {"localBundle": {}}}),
        };
        let field = if s.get("git").is_some() {
            "/git/hash"
        } else if s.pointer("/hub/remoteBundle").is_some() {
            "/hub/remoteBundle/bundleId"
        } else if s.pointer("/hub/localBundle").is_some() {
            "/hub/localBundle/bundleId"
        } else if s.pointer("/hub/embeddedBundle").is_some() {
            "/hub/embeddedBundle/bundleId"
        } else if s.get("embeddedPdp").is_some() {
            "/embeddedPdp/commitHash"
        } else {
            return Some(s);
        };
        if let Some((parent, key)) = field.rsplit_once('/') {
            if let Some(Json::Object(o)) = s.pointer_mut(parent) {
                o.insert(key.to_string(), Json::String(v.to_string()));
                o.retain(|_, x| !x.is_null());
            }
        }
        Some(s)
    }

    /// Cerbos's audit trail of a check: every policy one of the decision's rule rows came from,
    /// with the policies that policy inherits from (its parent scopes), and their source attributes.
    /// The rows reached are retraced by explaining each input against the same policy set and `now`.
    fn check_trail(&mut self, table: &Arc<RuleTable>, inputs: &[CheckInput], now: DateTime<FixedOffset>) -> Json {
        let mut reached: BTreeSet<String> = BTreeSet::new();
        for input in inputs {
            let (_, explanation) = crate::eval::check_explained(table, &self.conf, input, now);
            for action in explanation.actions {
                reached.extend(action.steps.into_iter().map(|s| s.policy));
            }
        }
        self.trail(table, reached)
    }

    /// The audit trail of a plan: the policies of the principal's and the resource kind's scope chains.
    fn plan_trail(&mut self, table: &Arc<RuleTable>, input: &PlanInput) -> Json {
        let version = |v: &str| if v.is_empty() { self.conf.default_policy_version.clone() } else { v.to_string() };
        let scope = |s: &str| crate::eval::check::scope_value(s, &self.conf.default_scope).to_string();
        let r = crate::compile::resource_policy_key(&input.resource.kind, &version(&input.resource.policy_version), &scope(&input.resource.scope));
        let p = principal_key(&input.principal, &version(&input.principal.policy_version), &scope(&input.principal.scope));
        self.trail(table, [r, p].into_iter().collect())
    }

    fn trail(&mut self, table: &Arc<RuleTable>, reached: BTreeSet<String>) -> Json {
        if !self.files.as_ref().is_some_and(|(t, _)| Arc::ptr_eq(t, table)) {
            let files = table.meta.iter().map(|m| (m.key.clone(), m.file.clone())).collect();
            self.files = Some((table.clone(), files));
        }
        let files = &self.files.as_ref().expect("just set").1;
        let mut effective = Map::new();
        for key in &reached {
            for k in lineage(key) {
                if let Some(file) = files.get(&k) {
                    effective.insert(k, json!({"attributes": {"driver": self.driver, "source": file}}));
                }
            }
        }
        effective.sort_keys();
        if effective.is_empty() {
            json!({})
        } else {
            json!({ "effectivePolicies": effective })
        }
    }
}

fn principal_key(p: &PrincipalInput, version: &str, scope: &str) -> String {
    crate::compile::policy_key(&crate::compile::principal_policy_fqn(&p.id, version, scope)).to_string()
}

/// A policy key and the keys of the policies it inherits from (role policies inherit nothing):
/// `resource.doc.vdefault/a.b` -> itself, `.../a`, `resource.doc.vdefault`.
fn lineage(key: &str) -> Vec<String> {
    let mut out = vec![key.to_string()];
    if key.starts_with("role.") {
        return out;
    }
    if let Some((base, scope)) = key.split_once('/') {
        out.extend(scope_parents(scope).map(|s| if s.is_empty() { base.to_string() } else { format!("{base}/{s}") }));
    }
    out
}

/// A ULID carrying the decision's time, as Cerbos's `audit.NewID`.
fn call_id(now: DateTime<FixedOffset>) -> String {
    ulid::Ulid::from_datetime(std::time::SystemTime::from(now.with_timezone(&Utc))).to_string()
}

/// RFC 3339 in UTC with as many fractional digits as needed (0, 3, 6 or 9), as protojson writes it.
pub fn timestamp(now: DateTime<FixedOffset>) -> String {
    now.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn put_str(o: &mut Map<String, Json>, k: &str, v: &str) {
    if !v.is_empty() {
        o.insert(k.into(), Json::String(v.to_string()));
    }
}

fn put_map(o: &mut Map<String, Json>, k: &str, v: &Map<String, Json>) {
    if !v.is_empty() {
        o.insert(k.into(), Json::Object(v.clone()));
    }
}

fn principal_json(p: &PrincipalInput) -> Json {
    let mut o = Map::new();
    put_str(&mut o, "id", &p.id);
    put_str(&mut o, "policyVersion", &p.policy_version);
    o.insert("roles".into(), json!(p.roles));
    put_map(&mut o, "attr", &p.attr);
    put_str(&mut o, "scope", &p.scope);
    Json::Object(o)
}

fn aux_json(a: &Option<AuxData>) -> Option<Json> {
    let a = a.as_ref()?;
    let mut o = Map::new();
    put_map(&mut o, "jwt", &a.jwt);
    (!o.is_empty()).then_some(Json::Object(o))
}

/// A `cerbos.engine.v1.CheckInput` in protojson.
pub fn input_json(i: &CheckInput) -> Json {
    let mut o = Map::new();
    put_str(&mut o, "requestId", &i.request_id);
    let mut r = Map::new();
    put_str(&mut r, "kind", &i.resource.kind);
    put_str(&mut r, "policyVersion", &i.resource.policy_version);
    put_str(&mut r, "id", &i.resource.id);
    put_map(&mut r, "attr", &i.resource.attr);
    put_str(&mut r, "scope", &i.resource.scope);
    o.insert("resource".into(), Json::Object(r));
    o.insert("principal".into(), principal_json(&i.principal));
    o.insert("actions".into(), json!(i.actions));
    if let Some(a) = aux_json(&i.aux_data) {
        o.insert("auxData".into(), a);
    }
    Json::Object(o)
}

/// A `cerbos.engine.v1.PlanResourcesInput` in protojson.
fn plan_input_json(i: &PlanInput) -> Json {
    let mut o = Map::new();
    put_str(&mut o, "requestId", &i.request_id);
    if i.actions.len() == 1 {
        o.insert("action".into(), json!(i.actions[0]));
    }
    o.insert("actions".into(), json!(i.actions));
    o.insert("principal".into(), principal_json(&i.principal));
    let mut r = Map::new();
    put_str(&mut r, "kind", &i.resource.kind);
    put_map(&mut r, "attr", &i.resource.attr);
    put_str(&mut r, "policyVersion", &i.resource.policy_version);
    put_str(&mut r, "scope", &i.resource.scope);
    o.insert("resource".into(), Json::Object(r));
    if let Some(a) = aux_json(&i.aux_data) {
        o.insert("auxData".into(), a);
    }
    Json::Object(o)
}

/// A `cerbos.engine.v1.PlanResourcesOutput` in protojson, from the public response the caller got.
fn plan_output_json(i: &PlanInput, response: &PlanResourcesResponse) -> Json {
    let resp = serde_json::to_value(response).unwrap_or(Json::Null);
    let mut o = Map::new();
    put_str(&mut o, "requestId", &i.request_id);
    if i.actions.len() == 1 {
        o.insert("action".into(), json!(i.actions[0]));
    }
    put_str(&mut o, "kind", &i.resource.kind);
    put_str(&mut o, "policyVersion", &i.resource.policy_version);
    put_str(&mut o, "scope", &i.resource.scope);
    if let Some(f) = resp.get("filter") {
        o.insert("filter".into(), f.clone());
    }
    if let Some(d) = resp.pointer("/meta/filterDebug") {
        o.insert("filterDebug".into(), d.clone());
    }
    if let Some(v) = resp.get("validationErrors") {
        o.insert("validationErrors".into(), v.clone());
    }
    o.insert("actions".into(), json!(i.actions));
    Json::Object(o)
}

impl EntryBuilder {
    /// A builder for `engine`'s decisions: its evaluation settings and policy source.
    pub fn for_engine(engine: &crate::engine::Engine, filters: Filters) -> EntryBuilder {
        let (source, driver) = match engine.source() {
            crate::engine::PolicySource::Directory(d) => (Some(json!({"disk": {"directory": d.display().to_string()}})), "disk"),
            // Policies handed over in memory: no Cerbos store name; each keeps its document name as `source`.
            crate::engine::PolicySource::Documents(_) => (None, "inline"),
        };
        EntryBuilder::new(engine.eval_conf().clone(), source, driver, filters)
    }
}

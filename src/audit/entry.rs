//! Records (what a decision hands over) and the entries built from them, field for field as
//! Cerbos's protojson writes a `DecisionLogEntry`: camelCase names, empty fields left out.
use super::filter::Filters;
use crate::api::plan::PlanResourcesResponse;
use crate::compile::table::RuleTable;
use crate::eval::request::{AuxData, PrincipalInput};
use crate::eval::{CheckInput, CheckOutput, EngineConfig};
use crate::naming::scope_parents;
use crate::plan::PlanInput;
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use rustc_hash::FxHashMap;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{json, Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What one decision leaves for its log entry. Everything is moved in, nothing is copied.
pub enum Record {
    /// `check`, `is_allowed`, `decision_table`, `check_resources_json`: one entry for the whole batch.
    Check { table: Arc<RuleTable>, inputs: Vec<CheckInput>, outputs: Vec<CheckOutput>, now: DateTime<FixedOffset>, context: Option<Json> },
    /// `plan_resources`, `plan_resources_json`.
    Plan { table: Arc<RuleTable>, input: Box<PlanInput>, response: Box<PlanResourcesResponse>, now: DateTime<FixedOffset>, context: Option<Json> },
    /// A request refused before any decision (an invalid bearer token): `checkResources.error`.
    Error { error: String, now: DateTime<FixedOffset>, context: Option<Json> },
}

/// Builds entries for one engine: its evaluation settings (to retrace which policies a decision
/// reached), where its policies come from, and the filters.
pub struct EntryBuilder {
    conf: EngineConfig,
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
    pub fn new(conf: EngineConfig, policy_source: Option<Json>, driver: &'static str, filters: Filters) -> EntryBuilder {
        EntryBuilder { conf, policy_source, source_given: false, driver, filters, files: None }
    }

    /// The entry for a record as one line of JSON (no newline), or None when nothing is logged.
    /// The entry is written straight from the record's values; a mask needs it as a tree first.
    pub fn build(&mut self, record: Record, policy_version: Option<&str>) -> Option<Vec<u8>> {
        let (now, context) = match &record {
            Record::Check { now, context, .. } | Record::Plan { now, context, .. } | Record::Error { now, context, .. } => (*now, context.as_ref()),
        };
        let part = |key: &str| context.and_then(|c| c.get(key)).filter(|v| v.as_object().is_some_and(|o| !o.is_empty()));
        let mut entry = Entry {
            call_id: call_id(now),
            timestamp: timestamp(now),
            peer: part("peer"),
            check_resources: None,
            plan_resources: None,
            metadata: part("metadata").and_then(|m| self.filters.metadata(m)),
            audit_trail: None,
            policy_source: self.source(policy_version),
            request_context: part("requestContext"),
        };
        match &record {
            Record::Check { table, inputs, outputs, now, .. } => {
                entry.audit_trail = Some(self.check_trail(table, inputs, *now));
                entry.check_resources = Some(CheckResources { inputs: Inputs(inputs), outputs, error: None });
            }
            Record::Plan { table, input, response, .. } => {
                entry.audit_trail = Some(self.plan_trail(table, input));
                entry.plan_resources = Some(json!({"input": plan_input_json(input), "output": plan_output_json(input, response)}));
            }
            Record::Error { error, .. } => {
                entry.check_resources = Some(CheckResources { inputs: Inputs(&[]), outputs: &[], error: Some(error) });
            }
        }
        if self.filters.mask.is_empty() {
            return serde_json::to_vec(&entry).ok();
        }
        let mut tree = serde_json::to_value(&entry).ok()?;
        self.filters.mask.apply(&mut tree);
        serde_json::to_vec(&tree).ok()
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
    fn check_trail(&mut self, table: &Arc<RuleTable>, inputs: &[CheckInput], now: DateTime<FixedOffset>) -> Trail {
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
    fn plan_trail(&mut self, table: &Arc<RuleTable>, input: &PlanInput) -> Trail {
        let version = |v: &str| if v.is_empty() { self.conf.default_policy_version.clone() } else { v.to_string() };
        let scope = |s: &str| crate::eval::check::scope_value(s, &self.conf.default_scope).to_string();
        let r = crate::naming::resource_policy_key(&input.resource.kind, &version(&input.resource.policy_version), &scope(&input.resource.scope));
        let p = principal_key(&input.principal, &version(&input.principal.policy_version), &scope(&input.principal.scope));
        self.trail(table, [r, p].into_iter().collect())
    }

    fn trail(&mut self, table: &Arc<RuleTable>, reached: BTreeSet<String>) -> Trail {
        if !self.files.as_ref().is_some_and(|(t, _)| Arc::ptr_eq(t, table)) {
            let files = table.meta.iter().map(|m| (m.key.clone(), m.file.clone())).collect();
            self.files = Some((table.clone(), files));
        }
        let files = &self.files.as_ref().expect("just set").1;
        let mut effective = BTreeMap::new();
        for key in &reached {
            for k in lineage(key) {
                if let Some(file) = files.get(&k) {
                    effective.insert(k, SourceAttributes { attributes: Attributes { driver: self.driver, source: file.clone() } });
                }
            }
        }
        Trail { effective_policies: effective }
    }
}

/// `DecisionLogEntry`, borrowing what it can from the record.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    call_id: String,
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer: Option<&'a Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    check_resources: Option<CheckResources<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan_resources: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audit_trail: Option<Trail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_source: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_context: Option<&'a Json>,
}

#[derive(Serialize)]
struct CheckResources<'a> {
    #[serde(skip_serializing_if = "Inputs::is_empty")]
    inputs: Inputs<'a>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    outputs: &'a [CheckOutput],
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// `auditTrail`: `{}` when no policy was reached, as protojson writes an empty map.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Trail {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    effective_policies: BTreeMap<String, SourceAttributes>,
}

#[derive(Serialize)]
struct SourceAttributes {
    attributes: Attributes,
}

#[derive(Serialize)]
struct Attributes {
    driver: &'static str,
    source: String,
}

/// Engine `CheckInput`s in protojson.
struct Inputs<'a>(&'a [CheckInput]);

impl Inputs<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Inputs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(InputJson))
    }
}

struct InputJson<'a>(&'a CheckInput);

impl Serialize for InputJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let i = self.0;
        let mut m = s.serialize_map(None)?;
        if !i.request_id.is_empty() {
            m.serialize_entry("requestId", &i.request_id)?;
        }
        m.serialize_entry("resource", &ResourceJson(&i.resource))?;
        m.serialize_entry("principal", &PrincipalJson(&i.principal))?;
        m.serialize_entry("actions", &i.actions)?;
        if let Some(a) = i.aux_data.as_ref().filter(|a| !a.jwt.is_empty()) {
            m.serialize_entry("auxData", &json!({"jwt": a.jwt}))?;
        }
        m.end()
    }
}

/// Writes the non-empty string fields, then `attr` if any (protojson leaves empty fields out).
fn fields<S: SerializeMap>(m: &mut S, strings: &[(&str, &str)]) -> Result<(), S::Error> {
    for (k, v) in strings {
        if !v.is_empty() {
            m.serialize_entry(k, v)?;
        }
    }
    Ok(())
}

struct ResourceJson<'a>(&'a crate::eval::request::ResourceInput);

impl Serialize for ResourceJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = s.serialize_map(None)?;
        fields(&mut m, &[("kind", &r.kind), ("policyVersion", &r.policy_version), ("id", &r.id)])?;
        if !r.attr.is_empty() {
            m.serialize_entry("attr", &r.attr)?;
        }
        fields(&mut m, &[("scope", &r.scope)])?;
        m.end()
    }
}

struct PrincipalJson<'a>(&'a PrincipalInput);

impl Serialize for PrincipalJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.0;
        let mut m = s.serialize_map(None)?;
        fields(&mut m, &[("id", &p.id), ("policyVersion", &p.policy_version)])?;
        m.serialize_entry("roles", &p.roles)?;
        if !p.attr.is_empty() {
            m.serialize_entry("attr", &p.attr)?;
        }
        fields(&mut m, &[("scope", &p.scope)])?;
        m.end()
    }
}

fn principal_key(p: &PrincipalInput, version: &str, scope: &str) -> String {
    crate::naming::policy_key(&crate::naming::principal_policy_fqn(&p.id, version, scope)).to_string()
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
    serde_json::to_value(PrincipalJson(p)).unwrap_or(Json::Null)
}

fn aux_json(a: &Option<AuxData>) -> Option<Json> {
    let a = a.as_ref()?;
    let mut o = Map::new();
    put_map(&mut o, "jwt", &a.jwt);
    (!o.is_empty()).then_some(Json::Object(o))
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
        EntryBuilder::new(engine.config().clone(), source, driver, filters)
    }
}

//! The engine: a compiled policy set that can be swapped atomically, plus its evaluation settings.
use crate::compile::{self, table::RuleTable};
use crate::eval::{self, CheckInput, CheckOutput};
pub use crate::eval::{EngineConfig, SchemaEnforcement};
use crate::policy::{self, PolicyErrors, Problem};
use chrono::{DateTime, FixedOffset, Utc};
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex, RwLock};
use std::time::Duration;

/// Where the policies come from, so that a reload reads them again.
#[derive(Debug, Clone)]
pub enum PolicySource {
    Directory(PathBuf),
    /// (name used in error messages, YAML or JSON text)
    Documents(Vec<(String, String)>),
}

pub struct Engine {
    source: PolicySource,
    config: EngineConfig,
    table: RwLock<Arc<RuleTable>>,
    /// Kept alive while the engine watches its directory; dropping it stops the watch thread.
    watcher: Mutex<Option<notify::RecommendedWatcher>>,
    /// Where decisions are logged, if anywhere (src/audit); the bindings hand records to it.
    audit_log: Option<Arc<crate::audit::AuditLog>>,
    /// Where the set in force came from (a git commit, a bundle digest), as the loader said;
    /// replaced together with the table under its write lock.
    policy_version: RwLock<Option<String>>,
}

/// What a watch reports after each reload it attempts.
pub type ReloadListener = Box<dyn Fn(Result<(), &PolicyErrors>) + Send + 'static>;

/// Changes closer together than this are one reload (editors write files in several steps).
const WATCH_DEBOUNCE: Duration = Duration::from_millis(250);

/// Parses and compiles a whole policy set; every problem of every file is reported together.
pub fn load(source: &PolicySource) -> Result<RuleTable, PolicyErrors> {
    let (docs, schemas) = match source {
        PolicySource::Directory(dir) => {
            (policy::store::read_policy_dir(dir).map_err(PolicyErrors)?, crate::schema::SchemaStore::from_dir(&dir.join("_schemas")))
        }
        PolicySource::Documents(d) => (d.clone(), crate::schema::SchemaStore::empty()),
    };
    let mut parsed = Vec::with_capacity(docs.len());
    let mut problems: Vec<Problem> = Vec::new();
    for result in parse_all(&docs) {
        match result {
            Ok(p) => parsed.push(p),
            Err(mut e) => problems.append(&mut e),
        }
    }
    if !problems.is_empty() {
        return Err(PolicyErrors(problems));
    }
    compile::compile(parsed, schemas)
}

/// Parses every document, results in document order. Parsing is most of a large load and each
/// document parses on its own, so large sets are split over the available cores.
fn parse_all(docs: &[(String, String)]) -> Vec<Result<policy::SourcePolicy, Vec<Problem>>> {
    /// Below this many documents per thread, starting threads costs more than it saves.
    const MIN_PER_THREAD: usize = 256;
    let parse = |(name, text): &(String, String)| policy::parse_policy(name, text);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(docs.len() / MIN_PER_THREAD);
    if threads <= 1 {
        return docs.iter().map(parse).collect();
    }
    let chunk = docs.len().div_ceil(threads);
    let parse_part = move |part: &[(String, String)]| part.iter().map(parse).collect::<Vec<_>>();
    std::thread::scope(|s| {
        // A part whose thread cannot be started is parsed here, when its turn comes.
        let parts: Vec<_> = docs.chunks(chunk).map(|part| (part, std::thread::Builder::new().spawn_scoped(s, move || parse_part(part)).ok())).collect();
        parts
            .into_iter()
            .flat_map(|(part, handle)| match handle {
                Some(h) => h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
                None => parse_part(part),
            })
            .collect()
    })
}

impl Engine {
    pub fn new(source: PolicySource, config: EngineConfig) -> Result<Engine, PolicyErrors> {
        let table = load(&source)?;
        Ok(Engine { source, config, table: RwLock::new(Arc::new(table)), watcher: Mutex::new(None), audit_log: None, policy_version: RwLock::new(None) })
    }

    /// Logs this engine's decisions to `log` (see src/audit).
    pub fn set_audit_log(&mut self, log: Arc<crate::audit::AuditLog>) {
        self.audit_log = Some(log);
    }

    pub fn audit_log(&self) -> Option<&Arc<crate::audit::AuditLog>> {
        self.audit_log.as_ref()
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
    /// The new set's version is unknown: `policy_version` becomes `None`.
    pub fn reload(&self) -> Result<(), PolicyErrors> {
        self.reload_as(None)
    }

    /// `reload`, recording `version` as the version of the new set if it compiles.
    pub fn reload_as(&self, version: Option<String>) -> Result<(), PolicyErrors> {
        let table = load(&self.source)?;
        let mut current = self.table.write().unwrap_or_else(|e| e.into_inner());
        self.set_policy_version(version);
        *current = Arc::new(table);
        Ok(())
    }

    /// The version of the set in force, if whoever loaded it said.
    pub fn policy_version(&self) -> Option<String> {
        self.policy_version.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records the version of the set in force (after `new`, which knows none).
    pub fn set_policy_version(&self, version: Option<String>) {
        // The decision log stamps each record with the version when it is queued.
        if let Some(log) = &self.audit_log {
            log.set_policy_version(version.as_deref());
        }
        *self.policy_version.write().unwrap_or_else(|e| e.into_inner()) = version;
    }

    /// Reloads whenever files under the policy directory change, reporting each attempt to
    /// `listener`. A set that fails to compile is reported and the last good set keeps serving.
    pub fn watch(self: &Arc<Self>, listener: ReloadListener) -> Result<(), String> {
        use notify::Watcher;
        let PolicySource::Directory(dir) = &self.source else {
            return Err("only an engine loaded from a directory can watch it".into());
        };
        let (tx, rx) = mpsc::channel::<()>();
        let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
            if ev.is_ok_and(|e| !e.kind.is_access()) {
                let _ = tx.send(());
            }
        })
        .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
        watcher.watch(dir, notify::RecursiveMode::Recursive).map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
        let engine = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("warden-policy-watch".into())
            .spawn(move || {
                // Ends when the watcher (owned by the engine) is dropped and the channel closes.
                while rx.recv().is_ok() {
                    while rx.recv_timeout(WATCH_DEBOUNCE).is_ok() {}
                    let Some(engine) = engine.upgrade() else { break };
                    match engine.reload() {
                        Ok(()) => listener(Ok(())),
                        Err(e) => listener(Err(&e)),
                    }
                }
            })
            .map_err(|e| format!("cannot start the watch thread: {e}"))?;
        *self.watcher.lock().unwrap_or_else(|e| e.into_inner()) = Some(watcher);
        Ok(())
    }

    /// Decides one input and explains the decision (rules reached, condition values, derived roles).
    pub fn explain(&self, input: &CheckInput, now: Option<DateTime<FixedOffset>>) -> (CheckOutput, eval::Explanation) {
        let now = now.unwrap_or_else(|| Utc::now().fixed_offset());
        eval::check_explained(&self.table(), &self.config, input, now)
    }

    /// Decides each input. `now` is fixed once for the whole batch, as Cerbos does.
    pub fn check(&self, inputs: &[CheckInput], now: Option<DateTime<FixedOffset>>) -> Vec<CheckOutput> {
        let now = now.unwrap_or_else(|| Utc::now().fixed_offset());
        let table = self.table();
        inputs.iter().map(|i| eval::check(&table, &self.config, i, now)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(effect: &str) -> String {
        format!("apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  resource: doc\n  version: default\n  rules:\n    - actions: [read]\n      roles: [user]\n      effect: {effect}\n")
    }

    fn read_effect(e: &Engine) -> String {
        let input: CheckInput = serde_json::from_value(json!({
            "principal": {"id": "u", "roles": ["user"]},
            "resource": {"kind": "doc", "id": "1"},
            "actions": ["read"]
        }))
        .unwrap();
        e.check(&[input], None)[0].effect("read").unwrap().effect.to_string()
    }

    #[test]
    fn broken_reload_keeps_the_last_good_set() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("doc.yaml");
        std::fs::write(&file, policy("EFFECT_ALLOW")).unwrap();
        let e = Engine::new(PolicySource::Directory(dir.path().into()), EngineConfig::default()).unwrap();
        assert_eq!(read_effect(&e), "EFFECT_ALLOW");

        std::fs::write(&file, policy("EFFECT_MAYBE")).unwrap();
        let err = e.reload().unwrap_err();
        assert_eq!(err.0[0].file, "doc.yaml");
        assert_eq!(err.0[0].line, 8);
        assert_eq!(read_effect(&e), "EFFECT_ALLOW", "the old set still serves");

        std::fs::write(&file, policy("EFFECT_DENY")).unwrap();
        e.reload().unwrap();
        assert_eq!(read_effect(&e), "EFFECT_DENY");
    }

    #[test]
    fn policy_version_follows_the_set_in_force() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("doc.yaml");
        std::fs::write(&file, policy("EFFECT_ALLOW")).unwrap();
        let e = Engine::new(PolicySource::Directory(dir.path().into()), EngineConfig::default()).unwrap();
        assert_eq!(e.policy_version(), None);
        e.set_policy_version(Some("v1".into()));
        assert_eq!(e.policy_version().as_deref(), Some("v1"));

        std::fs::write(&file, policy("EFFECT_MAYBE")).unwrap();
        assert!(e.reload_as(Some("v2".into())).is_err());
        assert_eq!(e.policy_version().as_deref(), Some("v1"), "a broken set does not change the version");

        std::fs::write(&file, policy("EFFECT_DENY")).unwrap();
        e.reload_as(Some("v3".into())).unwrap();
        assert_eq!((e.policy_version().as_deref(), read_effect(&e).as_str()), (Some("v3"), "EFFECT_DENY"));
        e.reload().unwrap();
        assert_eq!(e.policy_version(), None, "a plain reload cannot know the version");
    }

    #[test]
    fn large_sets_parse_in_document_order() {
        // Enough documents to be split over threads; every 100th is broken.
        let docs: Vec<(String, String)> = (0..1000)
            .map(|i| {
                (
                    format!("p{i:04}.yaml"),
                    if i % 100 == 7 { policy("EFFECT_MAYBE") } else { policy("EFFECT_ALLOW").replace("resource: doc", &format!("resource: doc{i}")) },
                )
            })
            .collect();
        let parsed = parse_all(&docs);
        assert_eq!(parsed.len(), docs.len());
        for (i, r) in parsed.iter().enumerate() {
            match r {
                Ok(p) => assert_eq!(p.file, docs[i].0),
                Err(e) => {
                    assert_eq!(i % 100, 7);
                    assert_eq!(e[0].file, docs[i].0);
                }
            }
        }
        let err = load(&PolicySource::Documents(docs)).unwrap_err();
        let files: Vec<&str> = err.0.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(files, (0..10).map(|k| format!("p{:04}.yaml", k * 100 + 7)).collect::<Vec<_>>());
    }

    /// Whether `now()` was read, per decision: only expressions actually evaluated count.
    #[test]
    fn used_now_reports_only_evaluated_reads_of_now() {
        let doc = r#"
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  variables:
    local:
      late: now() > timestamp("2000-01-01T00:00:00Z")
  rules:
    - actions: [plain]
      roles: [user]
      effect: EFFECT_ALLOW
    - actions: [timed]
      roles: [user]
      effect: EFFECT_ALLOW
      condition:
        match:
          expr: timestamp(R.attr.at).timeSince() > duration("1h")
    - actions: [short]
      roles: [user]
      effect: EFFECT_ALLOW
      condition:
        match:
          expr: R.attr.flag && now() > timestamp("2000-01-01T00:00:00Z")
    - actions: [timed]
      roles: [admin]
      effect: EFFECT_ALLOW
      condition:
        match:
          expr: now() > timestamp("2000-01-01T00:00:00Z")
    - actions: [late]
      roles: [user]
      effect: EFFECT_ALLOW
      condition:
        match:
          expr: V.late
    - actions: [emitting]
      roles: [user]
      effect: EFFECT_ALLOW
      output:
        when:
          ruleActivated: string(now())
"#;
        let plain = doc.replace("      late: now() > timestamp(\"2000-01-01T00:00:00Z\")\n", "      late: true\n");
        let engine = |text: &str| Engine::new(PolicySource::Documents(vec![("doc.yaml".into(), text.to_string())]), EngineConfig::default()).unwrap();
        let used_now = |e: &Engine, roles: &[&str], actions: &[&str], flag: bool| -> bool {
            let input: CheckInput = serde_json::from_value(json!({
                "principal": {"id": "u", "roles": roles},
                "resource": {"kind": "doc", "id": "1", "attr": {"at": "2000-01-01T00:00:00Z", "flag": flag}},
                "actions": actions
            }))
            .unwrap();
            e.check(&[input], None)[0].used_now
        };
        let (with_var, without_var) = (engine(doc), engine(&plain));
        // The variables a policy uses are evaluated when the policy is reached, as Cerbos does.
        assert!(used_now(&with_var, &["user"], &["plain"], false));
        assert!(!used_now(&without_var, &["user"], &["plain"], false));
        assert!(!used_now(&without_var, &["guest"], &["timed"], false), "no rule reached");
        assert!(used_now(&without_var, &["user"], &["timed"], false), "timeSince() reads now()");
        assert!(used_now(&without_var, &["admin"], &["timed"], false));
        assert!(!used_now(&without_var, &["user"], &["short"], false), "short-circuited before now()");
        assert!(used_now(&without_var, &["user"], &["short"], true));
        assert!(used_now(&without_var, &["user"], &["emitting"], false), "an output reads now()");
        assert!(used_now(&without_var, &["user"], &["plain", "timed"], false));
    }

    /// Cerbos matches a role policy's allowActions with `MatchesGlob`: a glob even without `*`.
    #[test]
    fn role_policy_allow_actions_match_as_globs() {
        let role = "apiVersion: api.cerbos.dev/v1\nrolePolicy:\n  role: editor\n  rules:\n    - resource: doc\n      allowActions: [\"re?d\", \"{list,search}\", edit]\n";
        let docs = vec![
            ("role.yaml".to_string(), role.to_string()),
            ("doc.yaml".to_string(), policy("EFFECT_ALLOW").replace("[read]", "[\"*\"]").replace("[user]", "[editor]")),
        ];
        let e = Engine::new(PolicySource::Documents(docs), EngineConfig::default()).unwrap();
        let allowed = |action: &str| {
            let input: CheckInput = serde_json::from_value(json!({
                "principal": {"id": "u", "roles": ["editor"]},
                "resource": {"kind": "doc", "id": "1"},
                "actions": [action]
            }))
            .unwrap();
            e.check(&[input], None)[0].effect(action).unwrap().effect == crate::policy::Effect::Allow
        };
        for action in ["read", "rexd", "list", "search", "edit"] {
            assert!(allowed(action), "{action}");
        }
        assert!(!allowed("delete") && !allowed("re:d"));
    }

    #[test]
    fn watch_reloads_on_change() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("doc.yaml");
        std::fs::write(&file, policy("EFFECT_ALLOW")).unwrap();
        let e = Arc::new(Engine::new(PolicySource::Directory(dir.path().into()), EngineConfig::default()).unwrap());
        let (tx, rx) = mpsc::channel();
        e.watch(Box::new(move |r| {
            let _ = tx.send(r.is_ok());
        }))
        .unwrap();
        std::fs::write(&file, policy("EFFECT_DENY")).unwrap();
        // Bounded wait: the watch reports within a few debounce periods.
        assert!(rx.recv_timeout(Duration::from_secs(10)).unwrap());
        assert_eq!(read_effect(&e), "EFFECT_DENY");
    }
}

/// Policies whose size once made loading quadratic; each must load in time linear in its size.
#[cfg(test)]
mod large_loads {
    use super::*;
    use std::fmt::Write;

    fn load_one(text: String) -> RuleTable {
        let t = std::time::Instant::now();
        let table = load(&PolicySource::Documents(vec![("big.yaml".into(), text)])).unwrap();
        // Printed for comparison by hand (`--nocapture`); no timing is asserted.
        println!("loaded in {:.2?}", t.elapsed());
        table
    }

    fn check_one(table: &RuleTable, action: &str, attr: serde_json::Value) -> String {
        let input: CheckInput = serde_json::from_value(serde_json::json!({
            "principal": {"id": "u", "roles": ["user"]},
            "resource": {"kind": "doc", "id": "1", "attr": attr},
            "actions": [action]
        }))
        .unwrap();
        eval::check(table, &EngineConfig::default(), &input, Utc::now().fixed_offset()).effect(action).unwrap().effect.to_string()
    }

    #[test]
    fn a_rule_with_100k_actions() {
        let mut text = String::from("apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  resource: doc\n  version: default\n  rules:\n    - roles: [user]\n      effect: EFFECT_ALLOW\n      actions:\n");
        for i in 0..100_000 {
            writeln!(text, "        - a{i}").unwrap();
        }
        let table = load_one(text);
        assert_eq!(check_one(&table, "a99999", serde_json::json!({})), "EFFECT_ALLOW");
        assert_eq!(check_one(&table, "b", serde_json::json!({})), "EFFECT_DENY");
    }

    #[test]
    fn a_chain_of_10k_variables() {
        let n = 10_000;
        let mut text =
            String::from("apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  resource: doc\n  version: default\n  variables:\n    local:\n      v0: R.attr.n\n");
        for i in 1..n {
            writeln!(text, "      v{i}: V.v{} + 1.0", i - 1).unwrap();
        }
        write!(text, "  rules:\n    - actions: [read]\n      roles: [user]\n      effect: EFFECT_ALLOW\n      condition:\n        match:\n          expr: V.v{} == {}.0\n", n - 1, n - 1).unwrap();
        let table = load_one(text);
        assert_eq!(check_one(&table, "read", serde_json::json!({"n": 0})), "EFFECT_ALLOW");
        assert_eq!(check_one(&table, "read", serde_json::json!({"n": 1})), "EFFECT_DENY");
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    use serde_json::json;

    /// Rough per-decision cost without Python: `cargo test --release --lib timing -- --ignored --nocapture`.
    /// `WARDEN_TIMING_DECISIONS=n` sets how many decisions are timed (e.g. fewer under callgrind).
    #[test]
    #[ignore = "a measurement, not a test; run by hand"]
    fn time_contacts_decision() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/contacts/policies");
        let e = Engine::new(PolicySource::Directory(dir), EngineConfig::default()).unwrap();
        let input: CheckInput = serde_json::from_value(json!({
            "principal": {"id": "u1", "roles": ["user"], "attr": {}},
            "resource": {"kind": "contact", "id": "abc123", "attr": {"owner_id": "u1"}},
            "actions": ["update"]
        }))
        .unwrap();
        let inputs = vec![input];
        let now = Some(Utc::now().fixed_offset());
        let n: u32 = std::env::var("WARDEN_TIMING_DECISIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000);
        for _ in 0..n.min(10_000) {
            std::hint::black_box(e.check(&inputs, now));
        }
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(e.check(&inputs, now));
        }
        println!("engine.check 1x1: {:.3} µs", t.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
}

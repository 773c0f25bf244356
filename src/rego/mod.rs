//! In-process Rego on `regorus`: OPA policies decided without an OPA server.
//!
//! A [`Rego`] holds one compiled set ([`Compiled`]): the policies (Rego v0 or v1, chosen per
//! file), the data documents (`data.*`) and the JWT built-ins regorus leaves out
//! ([`builtins`], backed by `crate::jwt`). Each policy is parsed and checked at load: syntax
//! errors, calls to OPA built-ins that are not available here (`http.send`, ...) and undefined
//! functions fail the load with the file and line, never a silent `false` at decision time.
//!
//! Evaluation clones nothing per decision: regorus engines are `&mut` while evaluating, so a
//! small pool of prepared engines serves concurrent callers. [`Rego::reload`] compiles a new set
//! and swaps it in atomically; a set that fails keeps the last good one serving.
pub mod budget;
pub mod builtins;
pub mod check;
pub mod recursion;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use regorus::Value as RValue;
use serde_json::{Map, Value as Json};

/// Which Rego syntax a policy is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// `import rego.v1` means v1; otherwise v1 if the file parses as v1, else v0.
    Auto,
    V0,
    V1,
}

impl Syntax {
    pub fn parse(s: &str) -> Option<Syntax> {
        match s {
            "auto" => Some(Syntax::Auto),
            "v0" => Some(Syntax::V0),
            "v1" => Some(Syntax::V1),
            _ => None,
        }
    }
}

/// Error kinds: `Load` (a policy or data document is refused; the message names the file and
/// line), `Eval` (evaluation failed: a built-in error, a conflict, a limit), `Input` (bad
/// argument: query, path, body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Load,
    Eval,
    Input,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegoError {
    pub kind: ErrorKind,
    pub message: String,
}

impl RegoError {
    pub fn load(m: impl Into<String>) -> Self {
        RegoError { kind: ErrorKind::Load, message: m.into() }
    }
    pub fn eval(m: impl Into<String>) -> Self {
        RegoError { kind: ErrorKind::Eval, message: m.into() }
    }
    pub fn input(m: impl Into<String>) -> Self {
        RegoError { kind: ErrorKind::Input, message: m.into() }
    }
}

impl std::fmt::Display for RegoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RegoError {}

/// One policy module: a name for messages (the file path) and its text.
#[derive(Clone, Debug)]
pub struct PolicyText {
    pub name: String,
    pub text: String,
}

/// One data document merged into `data`: at `path` (`[]` = the root), from a file or a value.
#[derive(Clone, Debug)]
pub enum DataSource {
    File(PathBuf),
    Value(Json),
}

/// Where a set comes from; `reload` reads it again.
#[derive(Clone, Debug)]
pub enum RegoSource {
    /// `.rego` files under a directory (recursively, sorted), `*_test.rego` skipped; `data.json` /
    /// `data.yaml` / `data.yml` files are merged at their directory's path, as in OPA bundles.
    Directory(PathBuf),
    Policies(Vec<PolicyText>),
}

#[derive(Clone, Debug)]
pub struct RegoConfig {
    pub source: RegoSource,
    pub data: Vec<DataSource>,
    pub syntax: Syntax,
}

/// One compiled, immutable set of policies + data.
pub struct Compiled {
    proto: regorus::Engine,
    pool: Mutex<Vec<regorus::Engine>>,
    /// Policy files in load order, with the syntax each was read as.
    pub files: Vec<(String, Syntax)>,
    pub packages: Vec<String>,
}

const POOL_MAX: usize = 16;

impl Compiled {
    fn with_engine<R>(&self, f: impl FnOnce(&mut regorus::Engine) -> Result<R, RegoError>) -> Result<R, RegoError> {
        let engine = self.pool.lock().ok().and_then(|mut p| p.pop());
        let mut engine = engine.unwrap_or_else(|| self.proto.clone());
        match catch_unwind(AssertUnwindSafe(|| budget::scope(|| f(&mut engine)))) {
            Ok(r) => {
                if let Ok(mut p) = self.pool.lock() {
                    if p.len() < POOL_MAX {
                        p.push(engine);
                    }
                }
                r
            }
            // The engine may be inconsistent after a panic: drop it, report an error.
            Err(_) => Err(RegoError::eval("internal error: the Rego interpreter panicked during evaluation")),
        }
    }
}

fn rvalue_to_json(v: &RValue) -> Result<Option<Json>, RegoError> {
    if *v == RValue::Undefined {
        return Ok(None);
    }
    serde_json::to_value(v).map(Some).map_err(|e| RegoError::eval(format!("result is not JSON: {e}")))
}

/// `data.a.b.c` (identifiers only): evaluated as a rule path, the fast way.
fn is_simple_ref(q: &str) -> bool {
    let mut parts = q.split('.');
    parts.next() == Some("data")
        && q.contains('.')
        && parts.all(|p| {
            let mut c = p.chars();
            matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_') && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        })
}

fn anyhow_msg(e: &anyhow::Error) -> String {
    format!("{e:#}")
}

/// An evaluation error: a breach of the time limit in words, others as regorus says them.
fn eval_error(e: &anyhow::Error) -> RegoError {
    RegoError::eval(budget::time_limit_message(e).unwrap_or_else(|| anyhow_msg(e)))
}

impl Compiled {
    /// Build and prepare a set. Every error names the file (and line for policies).
    pub fn build(config: &RegoConfig) -> Result<Compiled, RegoError> {
        let (policies, bundle_data) = match &config.source {
            RegoSource::Directory(dir) => read_directory(dir)?,
            RegoSource::Policies(p) => (p.clone(), vec![]),
        };
        if policies.is_empty() {
            return Err(RegoError::load(match &config.source {
                RegoSource::Directory(d) => format!("{}: no .rego files found", d.display()),
                RegoSource::Policies(_) => "no policies given".to_string(),
            }));
        }
        let mut engine = regorus::Engine::new();
        // OPA's default: a built-in error makes the expression undefined (not strict).
        engine.set_strict_builtin_errors(false);
        builtins::register(&mut engine).map_err(|e| RegoError::load(format!("registering built-ins: {e:#}")))?;
        budget::register(&mut engine).map_err(|e| RegoError::load(format!("registering built-ins: {e:#}")))?;
        let ext_names = builtins::names();

        let mut files = Vec::with_capacity(policies.len());
        let mut modules = Vec::with_capacity(policies.len());
        for p in &policies {
            let (module, syntax) = check::parse(&p.name, &p.text, config.syntax)?;
            modules.push(module);
            engine.set_rego_v0(syntax == Syntax::V0);
            engine.add_policy(p.name.clone(), p.text.clone()).map_err(|e| RegoError::load(format!("{}: {}", p.name, anyhow_msg(&e))))?;
            files.push((p.name.clone(), syntax));
        }
        check::check_calls(&modules, &ext_names)?;
        recursion::check_recursion(&modules)?;

        for (path, src) in bundle_data.iter().map(|(p, s)| (p.as_slice(), s)).chain(config.data.iter().map(|d| (&[][..], d))) {
            let (name, value) = match src {
                DataSource::File(f) => (f.display().to_string(), read_data_file(f)?),
                DataSource::Value(v) => ("data".to_string(), v.clone()),
            };
            if !value.is_object() && path.is_empty() {
                return Err(RegoError::load(format!("{name}: a data document must be a JSON object at the top level")));
            }
            let mut value = value;
            for seg in path.iter().rev() {
                let mut m = Map::new();
                m.insert(seg.clone(), value);
                value = Json::Object(m);
            }
            engine.add_data(RValue::from(value)).map_err(|e| RegoError::load(format!("{name}: {}", anyhow_msg(&e))))?;
        }

        let packages = engine.get_packages().map_err(|e| RegoError::load(anyhow_msg(&e)))?;
        // Prepare now (analysis, scheduling), so that errors surface at load and clones start ready.
        engine.set_input(RValue::new_object());
        engine.eval_query("true".to_string(), false).map_err(|e| RegoError::load(anyhow_msg(&e)))?;
        Ok(Compiled { proto: engine, pool: Mutex::new(Vec::new()), files, packages })
    }

    /// The value of `query` (a rule path like `data.pkg.allow`, or any Rego expression/query)
    /// for `input`: the first result's first expression; `None` when undefined.
    pub fn eval(&self, query: &str, input: RValue) -> Result<Option<Json>, RegoError> {
        let q = query.trim();
        if q.is_empty() {
            return Err(RegoError::input("empty query"));
        }
        self.with_engine(|e| {
            e.set_input(input);
            if is_simple_ref(q) {
                // Not a rule path (a package, a partial object's prefix): evaluated as a query below.
                match e.eval_rule(q.to_string()) {
                    Ok(v) => return rvalue_to_json(&v),
                    Err(err) if budget::is_breach(&err) => return Err(eval_error(&err)),
                    Err(_) => {}
                }
            }
            let r = e.eval_query(q.to_string(), false).map_err(|e| eval_error(&e))?;
            match r.result.first().and_then(|row| row.expressions.first()) {
                Some(expr) => rvalue_to_json(&expr.value),
                None => Ok(None),
            }
        })
    }

    /// OPA's full result set for `query`: `[{"expressions": [{"value", "text", "location"}], "bindings": {...}}]`.
    pub fn query(&self, query: &str, input: RValue) -> Result<Json, RegoError> {
        self.with_engine(|e| {
            e.set_input(input);
            let r = e.eval_query(query.to_string(), false).map_err(|e| eval_error(&e))?;
            let v = serde_json::to_value(&r).map_err(|e| RegoError::eval(e.to_string()))?;
            Ok(v.get("result").cloned().unwrap_or(Json::Array(vec![])))
        })
    }

    /// `allow`-style: `true` only when the rule is `true`; undefined is `false`; a non-boolean
    /// value is an error (a policy bug, not a denial to hide).
    pub fn allowed(&self, rule: &str, input: RValue) -> Result<bool, RegoError> {
        match self.eval(rule, input)? {
            None => Ok(false),
            Some(Json::Bool(b)) => Ok(b),
            Some(other) => Err(RegoError::eval(format!("{rule} is not a boolean (it is {}); allowed() needs a true/false rule", type_of(&other)))),
        }
    }

    /// OPA's `POST /v1/data/<path>` with body `{"input": ...}`: `{"result": value}`, or `{}` when
    /// the document is undefined.
    pub fn eval_data_api(&self, path: &str, body: &Json) -> Result<Json, RegoError> {
        let query = data_path_query(path)?;
        let input = match body {
            Json::Object(m) => {
                if let Some(k) = m.keys().find(|k| k.as_str() != "input") {
                    return Err(RegoError::input(format!("body: unexpected field {} (OPA's data API body is {{\"input\": ...}})", Json::String(k.clone()))));
                }
                m.get("input").cloned()
            }
            Json::Null => None,
            _ => return Err(RegoError::input("body: must be an object {\"input\": ...}")),
        };
        let input = input.map(RValue::from).unwrap_or(RValue::Undefined);
        let mut out = Map::new();
        if let Some(v) = self.eval(&query, input)? {
            out.insert("result".into(), v);
        }
        Ok(Json::Object(out))
    }
}

fn type_of(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// `demoapi/authz/allow` → `data.demoapi.authz.allow`; other segments are quoted (`data["a-b"]`).
pub fn data_path_query(path: &str) -> Result<String, RegoError> {
    let path = path.trim_matches('/');
    let path = path.strip_prefix("v1/data").map(|p| p.trim_start_matches('/')).unwrap_or(path);
    let mut q = String::from("data");
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        let ident = seg.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ident {
            q.push('.');
            q.push_str(seg);
        } else {
            q.push('[');
            q.push_str(&serde_json::to_string(seg).map_err(|e| RegoError::input(e.to_string()))?);
            q.push(']');
        }
    }
    Ok(q)
}

fn read_data_file(f: &Path) -> Result<Json, RegoError> {
    let text = crate::fswalk::read_text(f).map_err(|e| RegoError::load(format!("{}: {e}", f.display())))?;
    let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "json" => serde_json::from_str(&text).map_err(|e| RegoError::load(format!("{}:{}:{}: invalid JSON: {e}", f.display(), e.line(), e.column()))),
        "yaml" | "yml" => serde_saphyr::from_str::<Json>(&text).map_err(|e| RegoError::load(format!("{}: invalid YAML: {e}", f.display()))),
        _ => Err(RegoError::load(format!("{}: data documents must be .json, .yaml or .yml", f.display()))),
    }
}

type BundleData = Vec<(Vec<String>, DataSource)>;

/// The `.rego` files (without `*_test.rego`) and `data.json|yaml|yml` documents under `dir`,
/// each sorted; hidden entries skipped. The walk and the reads are [`crate::fswalk`]'s.
fn read_directory(dir: &Path) -> Result<(Vec<PolicyText>, BundleData), RegoError> {
    if !dir.is_dir() {
        return Err(RegoError::load(format!("{}: not a directory", dir.display())));
    }
    let hidden = |name: &str| name.starts_with('.');
    let wanted =
        |name: &str| !hidden(name) && ((name.ends_with(".rego") && !name.ends_with("_test.rego")) || matches!(name, "data.json" | "data.yaml" | "data.yml"));
    let found = crate::fswalk::walk(
        dir,
        |d, _| if hidden(&d.file_name().to_string_lossy()) { crate::fswalk::DirChoice::Skip } else { crate::fswalk::DirChoice::Enter },
        wanted,
    );
    if let Some((path, why)) = found.problems.first() {
        return Err(RegoError::load(format!("{}: {why}", path.display())));
    }
    let (rego, data): (Vec<PathBuf>, Vec<PathBuf>) = found.files.into_iter().partition(|p| p.extension().is_some_and(|e| e == "rego"));
    let mut policies = Vec::with_capacity(rego.len());
    for p in rego {
        let text = crate::fswalk::read_text(&p).map_err(|e| RegoError::load(format!("{}: {e}", p.display())))?;
        policies.push(PolicyText { name: p.display().to_string(), text });
    }
    let bundle = data
        .into_iter()
        .map(|p| {
            let rel = p
                .parent()
                .and_then(|parent| parent.strip_prefix(dir).ok())
                .map(|r| r.components().map(|c| c.as_os_str().to_string_lossy().to_string()).collect::<Vec<_>>());
            (rel.unwrap_or_default(), DataSource::File(p))
        })
        .collect();
    Ok((policies, bundle))
}

/// A reloadable set: the current [`Compiled`] behind an atomic swap.
pub struct Rego {
    config: Mutex<RegoConfig>,
    current: RwLock<Arc<Compiled>>,
}

impl Rego {
    pub fn new(config: RegoConfig) -> Result<Rego, RegoError> {
        let compiled = Compiled::build(&config)?;
        Ok(Rego { config: Mutex::new(config), current: RwLock::new(Arc::new(compiled)) })
    }

    pub fn from_directory(dir: impl Into<PathBuf>, data: Vec<DataSource>) -> Result<Rego, RegoError> {
        Rego::new(RegoConfig { source: RegoSource::Directory(dir.into()), data, syntax: Syntax::Auto })
    }

    pub fn from_policies(policies: Vec<PolicyText>, data: Vec<DataSource>) -> Result<Rego, RegoError> {
        Rego::new(RegoConfig { source: RegoSource::Policies(policies), data, syntax: Syntax::Auto })
    }

    /// The set serving now (cheap: one `Arc` clone).
    pub fn current(&self) -> Arc<Compiled> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn config(&self) -> RegoConfig {
        match self.config.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Compile the source again (re-reading the directory), or `policies` if given (for sets built
    /// from strings). On failure the error is returned and the last good set keeps serving.
    pub fn reload(&self, policies: Option<Vec<PolicyText>>) -> Result<(), RegoError> {
        let mut config = self.config();
        if let Some(p) = policies {
            config.source = RegoSource::Policies(p);
        }
        let compiled = Compiled::build(&config)?;
        let compiled = Arc::new(compiled);
        match self.current.write() {
            Ok(mut g) => *g = compiled,
            Err(p) => *p.into_inner() = compiled,
        }
        if let Ok(mut c) = self.config.lock() {
            *c = config;
        }
        Ok(())
    }

    pub fn eval(&self, query: &str, input: RValue) -> Result<Option<Json>, RegoError> {
        self.current().eval(query, input)
    }

    pub fn allowed(&self, rule: &str, input: RValue) -> Result<bool, RegoError> {
        self.current().allowed(rule, input)
    }

    /// Several inputs against one query, on one set (a reload midway does not split a batch).
    pub fn eval_batch(&self, query: &str, inputs: Vec<RValue>) -> Vec<Result<Option<Json>, RegoError>> {
        let c = self.current();
        inputs.into_iter().map(|i| c.eval(query, i)).collect()
    }

    pub fn eval_data_api(&self, path: &str, body: &Json) -> Result<Json, RegoError> {
        self.current().eval_data_api(path, body)
    }

    pub fn query(&self, query: &str, input: RValue) -> Result<Json, RegoError> {
        self.current().query(query, input)
    }
}

/// JSON → regorus value (input documents).
pub fn input_value(v: Json) -> RValue {
    RValue::from(v)
}

#[cfg(test)]
mod tests;

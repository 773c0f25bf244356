//! Cerbos attribute-schema validation (`internal/schema/*.go` at cerbos 69bed7f).
//!
//! Schemas live in `_schemas/` at the root of the policy directory and are referenced as
//! `cerbos:///path.json`. They are compiled lazily with `boon` (JSON Schema draft 2020-12, format
//! and content assertions on, as Cerbos sets `AssertFormat`/`AssertContent`), cached per ref
//! (errors included, like Cerbos's manager cache), and validation errors are reported with the
//! messages of santhosh-tekuri/jsonschema v5 (see [`message`]), flattened to leaves as
//! `internal/schema/error.go` does.
//!
//! Refs resolve as Cerbos's `DefaultResolver` does for the schemes that need no network:
//! `cerbos:` (and scheme-less URLs inside a cerbos schema) read `_schemas/<path>`; `file:` reads
//! the local file (a bare relative ref such as `blah.json` becomes a file URL relative to the
//! current directory, as in v5). `http(s):` schemas are not fetched: they fail to load with v5's
//! `no Loader found for <url>` (Cerbos's PDP would fetch them).

mod message;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::error::Error;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use boon::{CompileError, Compiler, Draft, SchemaIndex, Schemas, UrlLoader};
use serde_json::{Map, Number, Value};

#[cfg(test)]
use message::{go_float, quote};

/// Where a schema is referenced from: `schemas.principalSchema` / `schemas.resourceSchema`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRefSpec {
    /// The schema URL, normally `cerbos:///path.json`.
    pub uri: String,
    /// `ignoreWhen.actions`: globs; the side is not validated if every requested action matches.
    pub ignore_actions: Vec<String>,
}

/// One validation error, as Cerbos's `cerbos.schema.v1.ValidationError`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ValidationError {
    /// JSON pointer of the failing value (`"/"` for the attr object itself); empty for a schema
    /// that failed to load.
    pub path: String,
    pub message: String,
    /// `"SOURCE_PRINCIPAL"` or `"SOURCE_RESOURCE"`.
    pub source: &'static str,
}

/// Which attributes a schema applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Principal,
    Resource,
}

impl Source {
    /// The proto enum name used in `validationErrors`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Principal => "SOURCE_PRINCIPAL",
            Source::Resource => "SOURCE_RESOURCE",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Source::Principal => "principal",
            Source::Resource => "resource",
        }
    }
}

/// Cerbos's message for a schema that could not be loaded (`NewLoadErr`), e.g.
/// `Failed to load principal schema "cerbos:///x.json": schema _schemas/x.json doesn't exist`.
/// `reason` is what [`SchemaStore::check_ref`] returns.
pub fn load_failure_message(source: Source, uri: &str, reason: &str) -> String {
    format!("Failed to load {} schema {}: {reason}", source.noun(), message::go_quote(uri))
}

struct Compiled {
    schemas: Schemas,
    index: SchemaIndex,
    /// The documents the loader read, by URL (and by root `$id`), to look keywords up.
    docs: HashMap<String, Value>,
}

impl Compiled {
    /// The schema object at `loc` (`url#/json/pointer`).
    fn schema_at(&self, loc: &str) -> Option<Value> {
        let (url, frag) = loc.split_once('#').unwrap_or((loc, ""));
        let doc = self.docs.get(url)?;
        doc.pointer(&percent_decode(frag)).cloned()
    }
}

type Docs = Arc<Mutex<HashMap<String, Value>>>;

type Entry = Arc<Result<Compiled, String>>;

/// Compiled schemas, cached per ref. `Send + Sync`; compile happens on first use of a ref.
pub struct SchemaStore {
    dir: Option<PathBuf>,
    cache: Mutex<HashMap<String, Entry>>,
}

impl fmt::Debug for SchemaStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchemaStore").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl Default for SchemaStore {
    fn default() -> Self {
        Self::empty()
    }
}

impl SchemaStore {
    /// A store reading `cerbos:///…` refs from `schemas_dir` (the policy directory's `_schemas`
    /// folder, which need not exist). Schemas are compiled lazily and cached.
    pub fn from_dir(schemas_dir: &Path) -> SchemaStore {
        SchemaStore { dir: Some(schemas_dir.to_path_buf()), cache: Mutex::new(HashMap::new()) }
    }

    /// A store with no `_schemas` folder: every `cerbos:` ref fails to load as missing.
    pub fn empty() -> SchemaStore {
        SchemaStore { dir: None, cache: Mutex::new(HashMap::new()) }
    }

    /// Forgets every compiled schema and cached load error (Cerbos purges its cache on a store
    /// reload); the next use of a ref reads it again.
    pub fn clear(&self) {
        self.cache.lock().expect("schema cache poisoned").clear();
    }

    /// Checks that `uri` loads and compiles (for policy-load time). The error is Cerbos's reason,
    /// e.g. `schema _schemas/x.json doesn't exist`; wrap it with [`load_failure_message`] for the
    /// full `Failed to load principal schema "…": …` text.
    pub fn check_ref(&self, uri: &str) -> Result<(), String> {
        match self.load(uri).as_ref() {
            Ok(_) => Ok(()),
            Err(e) => Err(e.clone()),
        }
    }

    /// Validates one check input (Cerbos `ValidateCheckInput`). Errors are principal ones then
    /// resource ones, each in tree order (Cerbos does not sort them).
    pub fn validate(
        &self,
        principal: Option<&SchemaRefSpec>,
        resource: Option<&SchemaRefSpec>,
        principal_attr: &Map<String, Value>,
        resource_attr: &Map<String, Value>,
        actions: &[String],
    ) -> Vec<ValidationError> {
        let mut out = self.validate_attr(Source::Principal, principal, principal_attr, actions, false);
        out.extend(self.validate_attr(Source::Resource, resource, resource_attr, actions, false));
        out
    }

    /// Validates a plan-resources input (Cerbos `ValidatePlanResourcesInput`): as [`validate`]
    /// with the single action, except that resource `required` errors are dropped (resource
    /// attributes are optional for query planning).
    ///
    /// [`validate`]: SchemaStore::validate
    pub fn validate_plan_resources(
        &self,
        principal: Option<&SchemaRefSpec>,
        resource: Option<&SchemaRefSpec>,
        principal_attr: &Map<String, Value>,
        resource_attr: &Map<String, Value>,
        actions: &[String],
    ) -> Vec<ValidationError> {
        let mut out = self.validate_attr(Source::Principal, principal, principal_attr, actions, false);
        out.extend(self.validate_attr(Source::Resource, resource, resource_attr, actions, true));
        out
    }

    fn validate_attr(
        &self,
        source: Source,
        spec: Option<&SchemaRefSpec>,
        attr: &Map<String, Value>,
        actions: &[String],
        drop_required: bool,
    ) -> Vec<ValidationError> {
        let Some(spec) = spec else { return Vec::new() };
        if spec.uri.is_empty() {
            return Vec::new();
        }
        if !spec.ignore_actions.is_empty() && actions_to_validate(&spec.ignore_actions, actions).is_empty() {
            return Vec::new();
        }
        let entry = self.load(&spec.uri);
        let compiled = match entry.as_ref() {
            Ok(c) => c,
            Err(reason) => {
                return vec![ValidationError { path: String::new(), message: load_failure_message(source, &spec.uri, reason), source: source.as_str() }]
            }
        };
        // Cerbos validates `structpb` values: every number is a float64.
        let instance = as_float64(&Value::Object(attr.clone()));
        match compiled.schemas.validate(&instance, compiled.index) {
            Ok(()) => Vec::new(),
            Err(err) => message::leaves(&err, &instance, &|loc| compiled.schema_at(loc))
                .into_iter()
                .filter(|l| !(drop_required && l.keyword == Some("required")))
                .map(|l| ValidationError { path: if l.location.is_empty() { "/".to_owned() } else { l.location }, message: l.message, source: source.as_str() })
                .collect(),
        }
    }

    fn load(&self, uri: &str) -> Entry {
        if let Some(e) = self.cache.lock().expect("schema cache poisoned").get(uri) {
            return e.clone();
        }
        // Compile outside the lock; a concurrent compile of the same ref is harmless.
        let entry = Arc::new(self.compile(uri));
        self.cache.lock().expect("schema cache poisoned").entry(uri.to_owned()).or_insert(entry).clone()
    }

    fn compile(&self, uri: &str) -> Result<Compiled, String> {
        let mut compiler = Compiler::new();
        compiler.set_default_draft(Draft::V2020_12);
        compiler.enable_format_assertions();
        compiler.enable_content_assertions();
        for format in V5_FORMATS {
            compiler.register_format(*format);
        }
        let docs: Docs = Arc::default();
        compiler.use_loader(Box::new(Loader { dir: self.dir.clone(), docs: docs.clone() }));
        let mut schemas = Schemas::new();
        let result = compiler.compile(uri, &mut schemas);
        drop(compiler);
        let docs = std::mem::take(&mut *docs.lock().expect("schema docs poisoned"));
        match result {
            Ok(index) => Ok(Compiled { schemas, index, docs }),
            Err(e) => Err(compile_error_message(uri, &e)),
        }
    }
}

/// Aligns boon's `format` registry with v5's (`format.go` `Formats`): v5 has no `idn-hostname`
/// or `idn-email` (so they always pass), and has the old aliases `ip-address` (ipv4) and `uriref`
/// (uri-reference). The formats both know keep boon's checks.
const V5_FORMATS: &[boon::Format] = &[
    boon::Format { name: "idn-hostname", func: format_any },
    boon::Format { name: "idn-email", func: format_any },
    boon::Format { name: "ip-address", func: format_ipv4 },
    boon::Format { name: "uriref", func: format_uri_reference },
];

fn format_any(_: &Value) -> Result<(), Box<dyn Error>> {
    Ok(())
}

fn format_ipv4(v: &Value) -> Result<(), Box<dyn Error>> {
    if let Value::String(s) = v {
        s.parse::<std::net::Ipv4Addr>()?;
    }
    Ok(())
}

fn format_uri_reference(v: &Value) -> Result<(), Box<dyn Error>> {
    if let Value::String(s) = v {
        if s.contains('\\') {
            return Err("contains \\\\".into());
        }
        url::Url::parse("http://example.com/")?.join(s)?;
    }
    Ok(())
}

/// `filterActionsToValidate`: the actions that match none of the ignore globs.
fn actions_to_validate<'a>(ignore: &[String], actions: &'a [String]) -> Vec<&'a String> {
    let globs: Vec<Option<regex::Regex>> = ignore.iter().map(|g| crate::glob::compile(g)).collect();
    actions.iter().filter(|a| !globs.iter().any(|g| g.as_ref().is_some_and(|r| r.is_match(a)))).collect()
}

fn as_float64(v: &Value) -> Value {
    match v {
        Value::Number(n) => n.as_f64().and_then(Number::from_f64).map(Value::Number).unwrap_or(Value::Null),
        Value::Array(a) => Value::Array(a.iter().map(as_float64).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), as_float64(v))).collect()),
        other => other.clone(),
    }
}

// ---- loading ------------------------------------------------------------------------------

/// Cerbos's `notFoundErr`.
#[derive(Debug)]
struct NotFound {
    url: String,
    scheme: String,
    full_path: String,
}

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "schema {} does not exist", message::go_quote(&self.full_path))
    }
}

impl Error for NotFound {}

/// An error whose text is already v5's (without the `jsonschema: ` prefix).
#[derive(Debug)]
struct Plain(String);

impl fmt::Display for Plain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for Plain {}

struct Loader {
    dir: Option<PathBuf>,
    docs: Docs,
}

impl UrlLoader for Loader {
    fn load(&self, url: &str) -> Result<Value, Box<dyn Error>> {
        let mut doc = self.read(url)?;
        defer_const_enum(&mut doc);
        let mut docs = self.docs.lock().expect("schema docs poisoned");
        if let Some(id) = doc.get("$id").and_then(Value::as_str) {
            if let Ok(abs) = url::Url::parse(url).and_then(|base| base.join(id)) {
                let abs = abs.as_str().split('#').next().unwrap_or_default().to_owned();
                docs.insert(abs, doc.clone());
            }
        }
        docs.insert(url.to_owned(), doc.clone());
        Ok(doc)
    }
}

impl Loader {
    fn read(&self, url: &str) -> Result<Value, Box<dyn Error>> {
        let u = url::Url::parse(url)?;
        match u.scheme() {
            "cerbos" => {
                let rel = percent_decode(u.path().trim_start_matches('/'));
                let not_found = || NotFound { url: url.to_owned(), scheme: "cerbos".into(), full_path: format!("_schemas/{rel}") };
                let Some(dir) = &self.dir else {
                    return Err(Box::new(not_found()));
                };
                match std::fs::read(dir.join(&rel)) {
                    Ok(bytes) => parse_json(url, &bytes),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Box::new(not_found())),
                    Err(e) => Err(Box::new(Plain(format!("failed to read {url}: {e}")))),
                }
            }
            "file" => {
                let path = u.to_file_path().map_err(|_| Plain(format!("invalid file url {url}")))?;
                match std::fs::read(&path) {
                    Ok(bytes) => parse_json(url, &bytes),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        Err(Box::new(NotFound { url: url.to_owned(), scheme: "file".into(), full_path: path.to_string_lossy().into_owned() }))
                    }
                    Err(e) => Err(Box::new(Plain(format!("open {}: {e}", path.display())))),
                }
            }
            _ => Err(Box::new(Plain(format!("no Loader found for {url}")))),
        }
    }
}

/// boon stops at a failed `const` or `enum`; v5 goes on with the schema's other keywords and
/// reports their errors too. Moving `const`/`enum` into an appended `allOf` entry gives boon v5's
/// behaviour (same leaf messages and locations; Cerbos reports no keyword locations).
fn defer_const_enum(schema: &mut Value) {
    const MAPS: &[&str] = &["properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"];
    const ONE: &[&str] = &[
        "additionalProperties",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "propertyNames",
        "unevaluatedProperties",
        "unevaluatedItems",
        "contentSchema",
        "additionalItems",
        "items",
    ];
    const LISTS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems", "items"];
    let Value::Object(obj) = schema else { return };
    for (k, v) in obj.iter_mut() {
        let k = k.as_str();
        if MAPS.contains(&k) {
            if let Value::Object(m) = v {
                m.values_mut().for_each(defer_const_enum);
            }
        } else if ONE.contains(&k) && v.is_object() {
            defer_const_enum(v);
        } else if LISTS.contains(&k) {
            if let Value::Array(a) = v {
                a.iter_mut().for_each(defer_const_enum);
            }
        }
    }
    if !matches!(obj.get("allOf"), None | Some(Value::Array(_))) {
        return;
    }
    let mut moved = Vec::new();
    if let Some(c) = obj.remove("const") {
        moved.push(Value::Object(Map::from_iter([("const".to_owned(), c)])));
    }
    if matches!(obj.get("enum"), Some(Value::Array(_))) {
        let e = obj.remove("enum").expect("enum present");
        moved.push(Value::Object(Map::from_iter([("enum".to_owned(), e)])));
    }
    if moved.is_empty() {
        return;
    }
    match obj.entry("allOf").or_insert_with(|| Value::Array(Vec::new())) {
        Value::Array(a) => a.extend(moved),
        _ => unreachable!("allOf checked above"),
    }
}

/// v5's `unmarshal`: the first JSON value of the document; a second value after it is an error,
/// anything else after it is ignored (Go's `Decoder.Token` returns no token for it).
fn parse_json(url: &str, bytes: &[u8]) -> Result<Value, Box<dyn Error>> {
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
    let doc = match stream.next() {
        Some(Ok(v)) => v,
        Some(Err(e)) => return Err(Box::new(Plain(format!("invalid json {url}: {e}")))),
        None => return Err(Box::new(Plain(format!("invalid json {url}: EOF")))),
    };
    if let Some(Ok(next)) = stream.next() {
        let t = match &next {
            Value::Object(_) => "{".to_owned(),
            Value::Array(_) => "[".to_owned(),
            other => message::go_v(other),
        };
        return Err(Box::new(Plain(format!("invalid json {url}: invalid character {t} after top-level value"))));
    }
    Ok(doc)
}

pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(x) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Cerbos's reason for a schema that failed to load (`manager.LoadSchema`), from boon's error.
fn compile_error_message(uri: &str, err: &CompileError) -> String {
    if let CompileError::LoadUrlError { src, .. } = err {
        if let Some(nf) = src.downcast_ref::<NotFound>() {
            let abs = absolute_path(uri);
            return if nf.scheme == "file" && Some(nf.full_path.as_str()) == abs.as_deref() {
                format!("schema {uri} doesn't exist")
            } else if nf.url != uri {
                format!("schema {} referenced by {uri} doesn't exist", nf.full_path)
            } else {
                format!("schema {} doesn't exist", nf.full_path)
            };
        }
    }
    let abs_url = match url::Url::parse(uri) {
        Ok(u) => u.to_string(),
        Err(_) => match absolute_path(uri) {
            Some(p) => url::Url::from_file_path(&p).map(|u| u.to_string()).unwrap_or_else(|_| uri.to_owned()),
            None => uri.to_owned(),
        },
    };
    let reason = match err {
        CompileError::LoadUrlError { src, .. } => src.to_string(),
        CompileError::ValidationError { src, .. } => metaschema_error(src),
        other => other.to_string(),
    };
    format!("jsonschema {abs_url} compilation failed: {reason}")
}

/// v5's `ValidationError.Error()` for a schema that fails its metaschema:
/// `'<instance loc>' does not validate with <metaschema>#<keyword loc>: <message>`, for the
/// first leaf.
fn metaschema_error(err: &boon::ValidationError) -> String {
    let meta = err.schema_url.split('#').next().unwrap_or_default();
    // v5 prints the leaf reached by following the first cause at each level.
    let mut leaf = err;
    while let Some(first) = leaf.causes.first() {
        leaf = first;
    }
    let out = err.basic_output();
    let mut unit = None;
    if let boon::OutputError::Branch(units) = &out.error {
        unit = units.iter().find(|u| matches!(u.error, boon::OutputError::Leaf(k) if std::ptr::eq(k, &leaf.kind)));
    }
    let keyword_location = unit.map(|u| u.keyword_location.clone()).unwrap_or_default();
    let msg = message::messages(&leaf.kind, None, None).into_iter().next().map(|m| m.0).unwrap_or_default();
    format!("{} does not validate with {meta}#{keyword_location}: {msg}", message::quote(&message::pointer(&leaf.instance_location)),)
}

/// Go's `filepath.Abs` (cleaned, not resolving symlinks).
fn absolute_path(p: &str) -> Option<String> {
    let path = Path::new(p);
    let joined = if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir().ok()?.join(path) };
    let mut clean = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                clean.pop();
            }
            Component::CurDir => {}
            other => clean.push(other.as_os_str()),
        }
    }
    Some(clean.to_string_lossy().into_owned())
}

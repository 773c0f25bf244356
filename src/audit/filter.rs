//! What an entry leaves out, as Cerbos configures it: request metadata by key
//! (`audit.includeMetadataKeys` / `excludeMetadataKeys`) and fields by path (Cerbos Hub's
//! `audit.hub.mask`, e.g. `inputs[*].principal.attr.ssn`).
use serde_json::{Map, Value as Json};

/// Metadata keys never logged, whatever the configuration (Cerbos's `alwaysExcludeMetadataKeys`).
const ALWAYS_EXCLUDED: [&str; 2] = ["authorization", "grpc-trace-bin"];

#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub include_metadata_keys: Vec<String>,
    pub exclude_metadata_keys: Vec<String>,
    pub mask: Mask,
}

impl Filters {
    /// The logged `metadata` from the request's (`{key: value or [values]}`), or None. As in
    /// Cerbos, nothing is logged unless include or exclude keys are configured; exclusion wins.
    pub fn metadata(&self, given: &Json) -> Option<Json> {
        if self.include_metadata_keys.is_empty() && self.exclude_metadata_keys.is_empty() {
            return None;
        }
        let given = given.as_object()?;
        let mut out = Map::new();
        for (key, value) in given {
            let k = key.to_ascii_lowercase();
            let included = self.include_metadata_keys.is_empty() || self.include_metadata_keys.iter().any(|i| i.eq_ignore_ascii_case(&k));
            let excluded = ALWAYS_EXCLUDED.contains(&k.as_str()) || self.exclude_metadata_keys.iter().any(|e| e.eq_ignore_ascii_case(&k));
            if !included || excluded {
                continue;
            }
            let values = match value {
                Json::Array(a) => a.iter().map(|v| Json::String(v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect(),
                Json::String(s) => vec![Json::String(s.clone())],
                other => vec![Json::String(other.to_string())],
            };
            let mut mv = Map::new();
            mv.insert("values".into(), Json::Array(values));
            out.insert(k, Json::Object(mv));
        }
        (!out.is_empty()).then_some(Json::Object(out))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    All,
}

/// Fields removed from every entry, by section (`peer`, `metadata`, `checkResources`,
/// `planResources`), each a list of paths within that section.
#[derive(Debug, Clone, Default)]
pub struct Mask {
    paths: Vec<(String, Vec<Step>)>,
}

impl Mask {
    /// Parses `{section: [path, ...]}`; errors name the section and path.
    pub fn new(sections: &[(String, Vec<String>)]) -> Result<Mask, String> {
        let mut paths = Vec::new();
        for (section, list) in sections {
            let name = match section.as_str() {
                "peer" | "metadata" | "checkResources" | "planResources" => section.clone(),
                other => return Err(format!("mask: unknown section {other:?} (expected peer, metadata, checkResources or planResources)")),
            };
            for p in list {
                let steps = parse_path(p).map_err(|e| format!("mask.{name}: {p:?}: {e}"))?;
                paths.push((name.clone(), steps));
            }
        }
        Ok(Mask { paths })
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    pub fn apply(&self, entry: &mut Json) {
        for (section, steps) in &self.paths {
            if let Some(target) = entry.get_mut(section.as_str()) {
                remove(target, steps);
            }
        }
    }
}

fn parse_path(p: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for part in p.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if name.is_empty() && (rest.is_empty() || steps.is_empty()) {
            return Err("empty field name".into());
        }
        if !name.is_empty() {
            steps.push(Step::Key(name.to_string()));
        }
        while let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or("unclosed [")?;
            let index = &r[..end];
            steps.push(if index == "*" { Step::All } else { Step::Index(index.parse().map_err(|_| format!("bad index [{index}]"))?) });
            rest = &r[end + 1..];
        }
        if !rest.is_empty() {
            return Err(format!("unexpected {rest:?}"));
        }
    }
    if steps.is_empty() {
        return Err("empty path".into());
    }
    Ok(steps)
}

fn remove(v: &mut Json, steps: &[Step]) {
    let Some((first, rest)) = steps.split_first() else { return };
    if rest.is_empty() {
        match (first, v) {
            (Step::Key(k), Json::Object(o)) => {
                o.shift_remove(k);
            }
            (Step::Index(i), Json::Array(a)) if *i < a.len() => {
                a.remove(*i);
            }
            (Step::All, Json::Array(a)) => a.clear(),
            (Step::All, Json::Object(o)) => o.clear(),
            _ => {}
        }
        return;
    }
    match (first, v) {
        (Step::Key(k), Json::Object(o)) => {
            if let Some(x) = o.get_mut(k) {
                remove(x, rest);
            }
        }
        (Step::Index(i), Json::Array(a)) => {
            if let Some(x) = a.get_mut(*i) {
                remove(x, rest);
            }
        }
        (Step::All, Json::Array(a)) => a.iter_mut().for_each(|x| remove(x, rest)),
        (Step::All, Json::Object(o)) => o.values_mut().for_each(|x| remove(x, rest)),
        _ => {}
    }
}

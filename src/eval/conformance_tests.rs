//! Cerbos's engine conformance cases, run straight from the shared test data (the pytest suite runs them too,
//! through the Python API; this copy lets `cargo test` catch engine regressions without Python).
use crate::engine::{Engine, EngineConfig, PolicySource};
use crate::eval::CheckInput;
use serde_json::{json, Value};
use std::path::PathBuf;

fn testdata() -> Option<PathBuf> {
    crate::shared_data::shared_data("conformance/cerbos/internal/test/testdata")
}

/// The data, once the test has checked that it is there.
fn present_testdata() -> PathBuf {
    testdata().expect("the test returns early without the shared data")
}

fn engine(lenient: bool) -> Engine {
    engine_with(lenient, crate::engine::SchemaEnforcement::None)
}

fn engine_with(lenient: bool, enforcement: crate::engine::SchemaEnforcement) -> Engine {
    let config = EngineConfig {
        schema_enforcement: enforcement,
        globals: crate::cel::Vars::from_json_map(json!({"environment": "test"}).as_object().unwrap()),
        lenient_scope_search: lenient,
        ..Default::default()
    };
    Engine::new(PolicySource::Directory(present_testdata().join("store")), config).expect("the conformance store compiles")
}

/// Normalises a CheckOutput for comparison: derived roles as a sorted set, outputs sorted by src.
fn normalise(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        // protojson accepts proto field names too; some cases use them.
        if let Some(x) = o.remove("effective_derived_roles") {
            o.insert("effectiveDerivedRoles".into(), x);
        }
        // An empty scope is the proto default, the same as no scope.
        if let Some(Value::Object(actions)) = o.get_mut("actions") {
            for a in actions.values_mut() {
                if a.get("scope").is_some_and(|s| s == "") {
                    a.as_object_mut().unwrap().remove("scope");
                }
            }
        }
        if let Some(Value::Array(a)) = o.get_mut("effectiveDerivedRoles") {
            a.sort_by_key(|x| x.to_string());
        }
        if let Some(Value::Array(a)) = o.get_mut("validationErrors") {
            a.sort_by_key(|x| (x["source"].to_string(), x["path"].to_string()));
        }
        if let Some(Value::Array(a)) = o.get_mut("outputs") {
            a.sort_by_key(|x| x["src"].to_string());
        }
        for k in ["effectiveDerivedRoles", "outputs", "evaluationErrors", "validationErrors"] {
            if o.get(k).is_some_and(|x| x.as_array().is_some_and(|a| a.is_empty())) {
                o.remove(k);
            }
        }
    }
    v
}

fn run_dir(dir: &str, lenient: bool, failures: &mut Vec<String>) -> usize {
    run_dir_with(dir, &engine(lenient), lenient, failures)
}

fn run_dir_with(dir: &str, e: &Engine, lenient: bool, failures: &mut Vec<String>) -> usize {
    let mut n = 0;
    let mut paths: Vec<_> = std::fs::read_dir(present_testdata().join(dir)).unwrap().flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.extension().and_then(|x| x.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let case: Value = serde_saphyr::from_str(&text).unwrap();
        let inputs: Vec<CheckInput> = serde_json::from_value(case["inputs"].clone()).unwrap();
        let outputs = e.check(&inputs, None);
        for (i, (have, want)) in outputs.iter().zip(case["wantOutputs"].as_array().unwrap()).enumerate() {
            n += 1;
            let have = normalise(serde_json::to_value(have).unwrap());
            let want = normalise(want.clone());
            if have != want {
                failures.push(format!(
                    "{dir}/{} [{}] input {i}:\n  want {want}\n  have {have}",
                    path.file_name().unwrap().to_string_lossy(),
                    if lenient { "lenient" } else { "strict" }
                ));
            }
        }
    }
    n
}

#[test]
fn engine_cases() {
    if testdata().is_none() {
        return;
    }
    let mut failures = Vec::new();
    let mut n = run_dir("engine", false, &mut failures);
    n += run_dir("engine", true, &mut failures);
    n += run_dir("engine_strict_scope_search", false, &mut failures);
    n += run_dir("engine_lenient_scope_search", true, &mut failures);
    for (dir, enforcement) in [("warn", crate::engine::SchemaEnforcement::Warn), ("reject", crate::engine::SchemaEnforcement::Reject)] {
        n += run_dir_with(&format!("engine_schema_enforcement/{dir}"), &engine_with(false, enforcement), false, &mut failures);
    }
    assert!(n > 50, "too few cases ran: {n}");
    assert!(failures.is_empty(), "{} of {n} outputs differ:\n{}", failures.len(), failures.join("\n"));
}

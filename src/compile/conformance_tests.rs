//! Cerbos's compile-error cases (testdata/compile): each `.input` txtar is unpacked into a
//! directory and loaded; cases with `wantErrors` must fail with the same files, kinds and lines.
use crate::engine::{load, PolicySource};
use serde_json::Value;
use std::path::PathBuf;

fn testdata() -> Option<PathBuf> {
    crate::shared_data::shared_data("conformance/cerbos/internal/test/testdata/compile")
}

/// Unpacks a txtar archive (`-- name --` headers) into `dir`.
pub(crate) fn unpack_txtar(text: &str, dir: &std::path::Path) {
    let mut current: Option<(String, String)> = None;
    let flush = |cur: &mut Option<(String, String)>| {
        if let Some((name, body)) = cur.take() {
            let path = dir.join(&name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        }
    };
    for line in text.split_inclusive('\n') {
        let t = line.trim_end();
        if t.starts_with("-- ") && t.ends_with(" --") && t.len() > 6 {
            flush(&mut current);
            current = Some((t[3..t.len() - 3].trim().to_string(), String::new()));
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
        }
    }
    flush(&mut current);
}

/// Cases that need a part of the engine that is not in this crate yet, with the reason.
const PENDING: &[(&str, &str)] = &[];

#[test]
fn compile_cases() {
    let Some(testdata) = testdata() else { return };
    let mut failures = Vec::new();
    let mut ran = 0;
    let mut paths: Vec<_> = std::fs::read_dir(&testdata).unwrap().flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".yaml") || PENDING.iter().any(|(n, _)| *n == name) {
            continue;
        }
        ran += 1;
        let case: Value = serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let input = std::fs::read_to_string(path.with_file_name(format!("{name}.input"))).unwrap();
        unpack_txtar(&input, dir.path());
        // Cerbos's compile harness resolves schemas from testdata/schema/fs.
        std::os::unix::fs::symlink(testdata.join("../schema/fs/_schemas"), dir.path().join("_schemas")).unwrap();
        let result = load(&PolicySource::Directory(dir.path().to_path_buf()));
        let want = case["wantErrors"].as_array().cloned().unwrap_or_default();
        match (&result, want.is_empty()) {
            (Ok(_), true) => {}
            (Err(e), true) => failures.push(format!("{name}: should load, got {e}")),
            (Ok(_), false) => failures.push(format!("{name}: should fail with {} errors, loaded", want.len())),
            (Err(e), false) => {
                let mut have: Vec<(String, String, u32)> = e.0.iter().map(|p| (p.file.clone(), p.kind.clone(), p.line)).collect();
                for w in &want {
                    let file = w["file"].as_str().unwrap_or("").to_string();
                    let kind = w["error"].as_str().unwrap_or("").to_string();
                    let line = w["position"]["line"].as_u64().map(|l| l as u32);
                    let found = have.iter().position(|(f, k, l)| *f == file && *k == kind && line.is_none_or(|x| x == *l));
                    match found {
                        Some(i) => {
                            have.remove(i);
                        }
                        None => failures.push(format!(
                            "{name}: missing error {file} / {kind} / line {line:?} ({}); got:\n    {}",
                            w["description"],
                            e.0.iter().map(|p| format!("{} [{}] {}", p, p.kind, p.line)).collect::<Vec<_>>().join("\n    ")
                        )),
                    }
                }
                // Cerbos compiles one unit (mainDef and what it imports) and stops at its first failing
                // policy; a directory load also reports other files' problems and problems Cerbos's
                // store index finds (e.g. missing ancestors), so only extras of a wanted kind count.
                have.retain(|(f, k, _)| want.iter().any(|w| w["file"].as_str() == Some(f.as_str()) && w["error"].as_str() == Some(k.as_str())));
                if !have.is_empty() {
                    failures.push(format!("{name}: unexpected errors {have:?}"));
                }
            }
        }
    }
    assert!(ran >= 20, "only {ran} compile cases ran");
    assert!(failures.is_empty(), "{} compile cases differ:\n{}", failures.len(), failures.join("\n"));
}

//! Reading a policy directory the way Cerbos's disk store does.
use super::err::Problem;
use crate::fswalk::{self, DirChoice};
use std::path::Path;

/// Whether a file found while walking a policy directory holds a policy.
/// Test suites, hidden entries, `testdata/` and `_schemas/` are not policies.
fn is_policy_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let is_doc = lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json");
    let is_test = ["_test.yaml", "_test.yml", "_test.json"].iter().any(|s| lower.ends_with(s));
    is_doc && !is_test && !name.starts_with('.')
}

fn is_skipped_dir(name: &str, depth: usize) -> bool {
    name.starts_with('.') || name == "testdata" || (name == "_schemas" && depth == 0)
}

/// Lists policy files under `root` (sorted, paths relative to `root` with `/`), with their text.
/// The walk and the reads are [`crate::fswalk`]'s: loops and non-regular files skipped, size capped.
pub fn read_policy_dir(root: &Path) -> Result<Vec<(String, String)>, Vec<Problem>> {
    if !root.is_dir() {
        return Err(vec![Problem::new(&root.display().to_string(), (0, 0), "policy directory does not exist or is not a directory")]);
    }
    let found = fswalk::walk(
        root,
        |dir, depth| {
            let name = dir.file_name().to_string_lossy();
            if name == "_schemas" && depth > 0 {
                DirChoice::Refuse("`_schemas` is only allowed at the root of the policy directory".to_string())
            } else if is_skipped_dir(&name, depth) {
                DirChoice::Skip
            } else {
                DirChoice::Enter
            }
        },
        is_policy_file,
    );
    let mut problems: Vec<Problem> = found.problems.iter().map(|(path, why)| Problem::new(&relative(root, path), (0, 0), why.as_str())).collect();
    let mut out = Vec::with_capacity(found.files.len());
    for path in found.files {
        let rel = relative(root, &path);
        match fswalk::read_text(&path) {
            Ok(text) => out.push((rel, text)),
            Err(e) => problems.push(Problem::new(&rel, (0, 0), e)),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_filter() {
        assert!(is_policy_file("a.yaml"));
        assert!(is_policy_file("a.JSON"));
        assert!(!is_policy_file("a_test.yaml"));
        assert!(!is_policy_file(".hidden.yaml"));
        assert!(!is_policy_file("README.md"));
    }
}

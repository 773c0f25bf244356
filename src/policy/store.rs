//! Reading a policy directory the way Cerbos's disk store does.
use super::err::Problem;
use std::path::{Path, PathBuf};

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
pub fn read_policy_dir(root: &Path) -> Result<Vec<(String, String)>, Vec<Problem>> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    if !root.is_dir() {
        return Err(vec![Problem::new(&root.display().to_string(), (0, 0), "policy directory does not exist or is not a directory")]);
    }
    walk(root, root, 0, &mut files, &mut problems);
    files.sort();
    let mut out = Vec::with_capacity(files.len());
    for path in files {
        let rel = relative(root, &path);
        match std::fs::read_to_string(&path) {
            Ok(text) => out.push((rel, text)),
            Err(e) => problems.push(Problem::new(&rel, (0, 0), format!("cannot read file: {e}"))),
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

fn walk(root: &Path, dir: &Path, depth: usize, files: &mut Vec<PathBuf>, problems: &mut Vec<Problem>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(Problem::new(&relative(root, dir), (0, 0), format!("cannot read directory: {e}")));
            return;
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let path = entry.path();
        // Follow symlinks like Cerbos's fs walk does for files; a broken link is reported by the read.
        let is_dir = path.is_dir();
        if is_dir {
            if name == "_schemas" && depth > 0 {
                problems.push(Problem::new(&relative(root, &path), (0, 0), "`_schemas` is only allowed at the root of the policy directory"));
                continue;
            }
            if !is_skipped_dir(&name, depth) {
                walk(root, &path, depth + 1, files, problems);
            }
        } else if is_policy_file(&name) {
            files.push(path);
        }
    }
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

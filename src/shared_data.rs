//! Where the tests find the data kept outside the repository (Cerbos's conformance suite, the
//! published JOSE vectors): the directory named by `WARDEN_SHARED`, else `../shared` beside the
//! repository. Without it the tests that need it return early: Rust has no runtime skip, so each
//! one says so on stderr and, when `WARDEN_SKIP_LOG` names a file, appends a line to it, which
//! `make cargo-test` counts and prints. A `WARDEN_SHARED` naming no directory is an error, so a
//! typo cannot silently skip the conformance suites.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The environment variable naming the shared test data directory.
pub(crate) const VAR: &str = "WARDEN_SHARED";

/// `rel` inside the shared test data, or `None` (the skip recorded) when the data is absent.
pub(crate) fn shared_data(rel: &str) -> Option<PathBuf> {
    match std::env::var_os(VAR).filter(|v| !v.is_empty()) {
        Some(dir) => {
            let root = PathBuf::from(dir);
            assert!(root.is_dir(), "{VAR}={} is not a directory (unset {VAR} to skip the tests that need the shared data)", root.display());
            Some(root.join(rel))
        }
        None => {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new("/")).join("shared");
            if root.is_dir() {
                return Some(root.join(rel));
            }
            record_skip(&format!("no shared test data at {} (set {VAR} to its directory)", root.display()));
            None
        }
    }
}

/// Reports a test that returned early (libtest names each test's thread after the test); the
/// log line is `reason<TAB>test`.
fn record_skip(reason: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("?");
    eprintln!("SKIPPED {test}: {reason}");
    if let Some(log) = std::env::var_os("WARDEN_SKIP_LOG") {
        // One short append per skip: O_APPEND keeps concurrent test threads' lines whole.
        if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(log) {
            let _ = file.write_all(format!("{reason}\t{test}\n").as_bytes());
        }
    }
}

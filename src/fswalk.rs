//! Walking a policy directory and reading its files, the one way both the policy store and
//! Rego bundles do it. A directory tree is untrusted input too: symlinks are followed (Cerbos's
//! disk store follows them) but a link back to an ancestor is a loop, skipped with a warning
//! instead of walked forever; entries that are not regular files (FIFOs, sockets, devices,
//! which block or never end when read) are skipped with a warning; and a file larger than
//! [`MAX_FILE_BYTES`] is an error naming it, instead of a read until memory runs out.
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use walkdir::{DirEntry, WalkDir};

/// The largest file read from a policy directory: 16 MiB, far above any policy or data
/// document written by hand, far below what would strain the process that loads it.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// What to do with a directory met while walking.
pub enum DirChoice {
    Enter,
    Skip,
    /// Not walked, and reported as a problem with this message.
    Refuse(String),
}

/// The files kept, in path order, and the problems met (path, message).
#[derive(Default)]
pub struct Found {
    pub files: Vec<PathBuf>,
    pub problems: Vec<(PathBuf, String)>,
}

/// Walks `root` recursively. `dir` decides for each directory below `root` (its entry and its
/// depth, 0 for the root's own children); `file` keeps a file by name. Loops and non-regular
/// files are logged as warnings and skipped.
pub fn walk(root: &Path, mut dir: impl FnMut(&DirEntry, usize) -> DirChoice, file: impl Fn(&str) -> bool) -> Found {
    let mut found = Found::default();
    let mut refused = Vec::new();
    let entries = WalkDir::new(root).follow_links(true).into_iter().filter_entry(|e| {
        if e.depth() == 0 || !e.file_type().is_dir() {
            return true;
        }
        match dir(e, e.depth() - 1) {
            DirChoice::Enter => true,
            DirChoice::Skip => false,
            DirChoice::Refuse(why) => {
                refused.push((e.path().to_path_buf(), why));
                false
            }
        }
    });
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().unwrap_or(root).to_path_buf();
                if let Some(ancestor) = e.loop_ancestor() {
                    log::warn!(target: "warden", "{}: skipped: a symbolic link back to {} (a loop)", path.display(), ancestor.display());
                } else if path.is_dir() || path.file_name().is_some_and(|n| file(&n.to_string_lossy())) {
                    let why = e.io_error().map_or_else(|| e.to_string(), |io| io.to_string());
                    found.problems.push((path, format!("cannot read: {why}")));
                }
                continue;
            }
        };
        let kind = entry.file_type();
        if kind.is_dir() || !file(&entry.file_name().to_string_lossy()) {
            continue;
        }
        if !kind.is_file() {
            log::warn!(target: "warden", "{}: skipped: not a regular file", entry.path().display());
            continue;
        }
        found.files.push(entry.into_path());
    }
    found.problems.extend(refused);
    found.files.sort();
    found
}

/// Reads a file found by [`walk`] (or named by the caller) as UTF-8 text, refusing it when it
/// is not a regular file or is larger than [`MAX_FILE_BYTES`]. The error says why, without the
/// path (callers prefix their own form of it).
pub fn read_text(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read file: {e}"))?;
    if !meta.is_file() {
        return Err("cannot read file: not a regular file".to_string());
    }
    let too_large = || format!("file is larger than the {} MiB limit for policy and data files", MAX_FILE_BYTES / (1024 * 1024));
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let mut text = String::new();
    // `take`: a file that grows between the size check and the read still stops at the cap.
    File::open(path).and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_string(&mut text)).map_err(|e| format!("cannot read file: {e}"))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn yaml(name: &str) -> bool {
        name.ends_with(".yaml")
    }

    fn names(root: &Path, found: &Found) -> Vec<String> {
        found.files.iter().map(|p| p.strip_prefix(root).unwrap().display().to_string()).collect()
    }

    #[test]
    fn symlink_loops_end_and_linked_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/a.yaml"), "a").unwrap();
        for link in ["l1", "l2", "l3"] {
            symlink(".", root.join(link)).unwrap();
        }
        symlink("..", root.join("sub/up")).unwrap();
        symlink("sub/a.yaml", root.join("b.yaml")).unwrap();
        let found = walk(root, |_, _| DirChoice::Enter, yaml);
        assert_eq!(names(root, &found), vec!["b.yaml", "sub/a.yaml"]);
        assert!(found.problems.is_empty(), "{:?}", found.problems);
    }

    #[test]
    fn fifos_and_devices_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert!(std::process::Command::new("mkfifo").arg(root.join("pipe.yaml")).status().unwrap().success());
        symlink("/dev/zero", root.join("zero.yaml")).unwrap();
        std::fs::write(root.join("ok.yaml"), "ok").unwrap();
        let found = walk(root, |_, _| DirChoice::Enter, yaml);
        assert_eq!(names(root, &found), vec!["ok.yaml"]);
        assert_eq!(read_text(&root.join("zero.yaml")).unwrap_err(), "cannot read file: not a regular file");
    }

    #[test]
    fn files_over_the_cap_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.yaml");
        File::create(&big).unwrap().set_len(MAX_FILE_BYTES + 1).unwrap();
        assert_eq!(read_text(&big).unwrap_err(), "file is larger than the 16 MiB limit for policy and data files");
        let at_cap = dir.path().join("cap.yaml");
        File::create(&at_cap).unwrap().set_len(MAX_FILE_BYTES).unwrap();
        assert_eq!(read_text(&at_cap).unwrap().len() as u64, MAX_FILE_BYTES);
    }
}

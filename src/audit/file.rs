//! The JSON-lines file sink: one entry per line, rotated by size as `logging`'s
//! `RotatingFileHandler` does (`log.jsonl` -> `log.jsonl.1` -> ... -> `log.jsonl.<backups>`).
use super::queue::{Sink, SinkError};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub struct FileSink {
    path: PathBuf,
    /// Rotate before a line would take the file past this size; 0: never rotate.
    max_bytes: u64,
    backups: u32,
    out: BufWriter<File>,
    size: u64,
}

fn open(path: &Path) -> Result<(BufWriter<File>, u64), String> {
    let f = OpenOptions::new().create(true).append(true).open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    Ok((BufWriter::with_capacity(64 * 1024, f), size))
}

impl FileSink {
    pub fn new(path: PathBuf, max_bytes: u64, backups: u32) -> Result<FileSink, String> {
        let (out, size) = open(&path)?;
        Ok(FileSink { path, max_bytes, backups, out, size })
    }

    fn backup(&self, n: u32) -> PathBuf {
        let mut s = self.path.clone().into_os_string();
        s.push(format!(".{n}"));
        PathBuf::from(s)
    }

    fn rotate(&mut self) -> Result<(), String> {
        self.out.flush().map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        if self.backups == 0 {
            // No backups kept: start the file again.
            File::create(&self.path).map_err(|e| format!("cannot truncate {}: {e}", self.path.display()))?;
        } else {
            for n in (1..self.backups).rev() {
                let from = self.backup(n);
                if from.exists() {
                    std::fs::rename(&from, self.backup(n + 1)).map_err(|e| format!("cannot rotate {}: {e}", from.display()))?;
                }
            }
            std::fs::rename(&self.path, self.backup(1)).map_err(|e| format!("cannot rotate {}: {e}", self.path.display()))?;
        }
        let (out, size) = open(&self.path)?;
        self.out = out;
        self.size = size;
        Ok(())
    }
}

impl Sink for FileSink {
    fn write(&mut self, entries: Vec<Vec<u8>>) -> Result<(), SinkError> {
        let total = entries.len() as u64;
        for (i, e) in entries.iter().enumerate() {
            self.write_one(e).map_err(|message| SinkError { lost: total - i as u64, message })?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.out.flush().map_err(|e| SinkError { lost: 0, message: format!("cannot write {}: {e}", self.path.display()) })
    }
}

impl FileSink {
    fn write_one(&mut self, line: &[u8]) -> Result<(), String> {
        let n = line.len() as u64 + 1;
        if self.max_bytes > 0 && self.size > 0 && self.size + n > self.max_bytes {
            self.rotate()?;
        }
        let written = self.out.write_all(line).and_then(|()| self.out.write_all(b"\n"));
        written.map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        self.size += n;
        Ok(())
    }
}

//! Load-time problems: each names the file, line and column, and all problems of a load are kept.
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub file: String,
    /// 1-based; 0 when the problem has no position (e.g. an unreadable file).
    pub line: u32,
    pub column: u32,
    /// A stable slug naming the kind of problem (Cerbos's wording, e.g. `unknown derived role`).
    pub kind: String,
    pub message: String,
}

impl Problem {
    pub fn new(file: &str, (line, column): (u32, u32), message: impl Into<String>) -> Self {
        Problem { file: file.to_string(), line, column, kind: "invalid policy".to_string(), message: message.into() }
    }

    /// A problem of a named kind, so tools and tests can match the kind rather than the text.
    pub fn of(kind: &str, file: &str, at: (u32, u32), message: impl Into<String>) -> Self {
        Problem { file: file.to_string(), line: at.0, column: at.1, kind: kind.to_string(), message: message.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

/// A load that failed: never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyErrors(pub Vec<Problem>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "{} problem{} in policies:", n, if n == 1 { "" } else { "s" })?;
        for p in &self.0 {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyErrors {}

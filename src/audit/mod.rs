//! Decision logs in Cerbos's `DecisionLogEntry` JSON shape (`cerbos.audit.v1`), written off the
//! decision path: a decision hands what it already has (inputs, outputs, the policy set it used,
//! `now`) to a bounded queue (`queue`); a writer thread turns each record into an entry (`entry`,
//! with the filters of `filter`) and hands it to a sink (`file`, or one the bindings provide).
pub mod entry;
pub mod file;
pub mod filter;
pub mod queue;

pub use entry::{EntryBuilder, Record};
pub use filter::{Filters, Mask};
pub use queue::{AuditLog, AuditStats, ErrorReporter, OnFull, Settings, Sink, SinkError};

#[cfg(test)]
mod tests;

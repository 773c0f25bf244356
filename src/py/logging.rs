//! Forwards the core's `log` warnings (files skipped while walking a policy directory, ...) to
//! Python's `logging`, on the logger named by the record's target (`warden`).
use pyo3::prelude::*;

struct ToPython;

impl log::Log for ToPython {
    /// warden's own records only: a dependency logging from one of its internal threads (an HTTP
    /// client's runtime) while a Python thread holding the GIL waits on that thread would wait
    /// for the GIL forever.
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn && metadata.target() == "warden"
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let method = if record.level() == log::Level::Error { "error" } else { "warning" };
        let message = record.args().to_string();
        Python::attach(|py| {
            // A logging failure (interpreter shutting down) must not become an error of the load.
            let _ =
                py.import("logging").and_then(|m| m.call_method1("getLogger", (record.target(),))).and_then(|logger| logger.call_method1(method, (message,)));
        });
    }

    fn flush(&self) {}
}

/// Installs the forwarder once per process (a second call, or another logger, is left alone).
pub fn install() {
    if log::set_logger(&ToPython).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
}

//! Decision logs from Python (`audit=`; src/audit holds the queue, the writer and the entries):
//! the `audit=` settings read, the Python sinks (a callable, a `logging` logger), the request
//! context the web integrations set, and each decision handed to the engine's log.
use super::values::{self, Path};
use crate::audit::{AuditLog, EntryBuilder, Filters, Mask, OnFull, Record, Settings, Sink, SinkError};
use crate::engine::Engine;
use crate::eval::{CheckInput, CheckOutput};
use chrono::{DateTime, FixedOffset, Utc};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};
use serde_json::Value as Json;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// Every log started, so that they can be flushed when the interpreter exits.
static LOGS: Mutex<Vec<Weak<AuditLog>>> = Mutex::new(Vec::new());

/// Calls a Python callable with each entry as a dict (read by `json.loads`, the quickest way
/// from JSON text to Python objects).
struct CallableSink {
    callable: Py<PyAny>,
    loads: Py<PyAny>,
}

/// Logs each entry's JSON on a `logging` logger.
struct LoggingSink {
    logger: Py<PyAny>,
    level: i32,
}

impl Sink for CallableSink {
    fn write(&mut self, entries: Vec<Vec<u8>>) -> Result<(), SinkError> {
        let n = entries.len() as u64;
        Python::try_attach(|py| {
            let mut failed = 0;
            let mut first = None;
            for e in &entries {
                let call = self.loads.bind(py).call1((PyBytes::new(py, e),)).and_then(|d| self.callable.bind(py).call1((d,)));
                if let Err(err) = call {
                    failed += 1;
                    first.get_or_insert_with(|| err.to_string());
                }
            }
            match first {
                None => Ok(()),
                Some(message) => Err(SinkError { lost: failed, message: format!("the decision-log sink raised: {message}") }),
            }
        })
        .unwrap_or(Err(SinkError { lost: n, message: "the interpreter is shutting down".into() }))
    }
}

impl Sink for LoggingSink {
    fn write(&mut self, entries: Vec<Vec<u8>>) -> Result<(), SinkError> {
        let n = entries.len() as u64;
        Python::try_attach(|py| {
            let logger = self.logger.bind(py);
            if !logger.call_method1("isEnabledFor", (self.level,)).and_then(|b| b.is_truthy()).unwrap_or(true) {
                return Ok(());
            }
            for e in &entries {
                let text = PyString::from_bytes(py, e).map_err(|err| SinkError { lost: n, message: err.to_string() })?;
                logger.call_method1("log", (self.level, text)).map_err(|err| SinkError { lost: n, message: err.to_string() })?;
            }
            Ok(())
        })
        .unwrap_or(Err(SinkError { lost: n, message: "the interpreter is shutting down".into() }))
    }
}

fn get<'py>(d: &Bound<'py, PyDict>, key: &str) -> PyResult<Bound<'py, PyAny>> {
    d.get_item(key)?.ok_or_else(|| PyValueError::new_err(format!("audit: missing {key}")))
}

/// Reads `audit=` (through `warden.audit._settings`) and starts the engine's log.
pub fn start(py: Python<'_>, engine: &mut Engine, audit: &Bound<'_, PyAny>) -> PyResult<()> {
    let d = py.import("warden.audit")?.call_method1("_settings", (audit,))?.cast_into::<PyDict>()?;
    let sink_spec: Bound<'_, PyTuple> = get(&d, "sink")?.extract()?;
    let kind: String = sink_spec.get_item(0)?.extract()?;
    let sink: Box<dyn Sink> = match kind.as_str() {
        "file" => {
            let path: std::path::PathBuf = sink_spec.get_item(1)?.extract()?;
            Box::new(
                crate::audit::file::FileSink::new(path, sink_spec.get_item(2)?.extract()?, sink_spec.get_item(3)?.extract()?).map_err(PyValueError::new_err)?,
            )
        }
        "logging" => Box::new(LoggingSink { logger: sink_spec.get_item(1)?.unbind(), level: sink_spec.get_item(2)?.extract()? }),
        _ => Box::new(CallableSink { callable: sink_spec.get_item(1)?.unbind(), loads: py.import("json")?.getattr("loads")?.unbind() }),
    };
    let on_full: String = get(&d, "on_full")?.extract()?;
    let settings = Settings {
        capacity: get(&d, "queue_size")?.extract()?,
        on_full: on_full.parse::<OnFull>().map_err(|e| PyValueError::new_err(format!("audit: {e}")))?,
        sample_rate: get(&d, "sample_rate")?.extract()?,
        ignore_allow_all: get(&d, "ignore_allow_all")?.extract()?,
        plan_ignore_all: get(&d, "plan_ignore_all")?.extract()?,
        plan_ignore_always_allow: get(&d, "plan_ignore_always_allow")?.extract()?,
    };
    let mask: Vec<(String, Vec<String>)> = get(&d, "mask")?.extract()?;
    let filters = Filters {
        include_metadata_keys: get(&d, "include_metadata_keys")?.extract()?,
        exclude_metadata_keys: get(&d, "exclude_metadata_keys")?.extract()?,
        mask: Mask::new(&mask).map_err(|e| PyValueError::new_err(format!("audit: {e}")))?,
    };
    let logger: Py<PyAny> = py.import("logging")?.call_method1("getLogger", ("warden.audit",))?.unbind();
    let on_error = Box::new(move |message: &str| {
        Python::try_attach(|py| {
            let _ = logger.bind(py).call_method1("error", ("decision log: %s", message));
        });
    });
    let mut builder = EntryBuilder::for_engine(engine, filters);
    let source = get(&d, "policy_source")?;
    if !source.is_none() {
        builder = builder.with_policy_source(values::value::<Json>(&source, &Path::root("audit.policy_source"))?);
    }
    let log = AuditLog::start(settings, builder, sink, on_error).map_err(|e| PyValueError::new_err(format!("audit: {e}")))?;
    let log = Arc::new(log);
    let mut logs = LOGS.lock().unwrap_or_else(|e| e.into_inner());
    logs.retain(|w| w.strong_count() > 0);
    logs.push(Arc::downgrade(&log));
    engine.set_audit_log(log);
    Ok(())
}

/// The request the web integrations attached (`warden.audit.request_context`), as entry fields.
fn context(py: Python<'_>) -> Option<Json> {
    // The variable's bound `get`, looked up once: reading it is then one call.
    static GET: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let get = GET.get_or_try_init(py, || py.import("warden.audit")?.getattr("_request_context")?.getattr("get").map(Bound::unbind)).ok()?;
    let value = get.bind(py).call0().ok()?;
    if value.is_none() {
        return None;
    }
    values::value::<Json>(&value, &Path::root("request context")).ok()
}

/// Queues a record; a full queue with `on_full="block"` waits with the GIL released (the writer
/// may need it for a Python sink).
fn submit(py: Python<'_>, log: &AuditLog, r: Record) {
    if let Err(r) = log.try_submit(r) {
        match log.on_full() {
            OnFull::Drop => log.on_full_queue(*r),
            OnFull::Block => py.detach(move || log.on_full_queue(*r)),
        }
    }
}

/// Decides `inputs` against one policy set and `now` (so that the writer retraces the same
/// decision), reads the inputs and outputs with `read`, then logs the decision.
pub fn decide_logged<R>(
    py: Python<'_>,
    engine: &Arc<Engine>,
    log: &AuditLog,
    inputs: Vec<CheckInput>,
    now: Option<DateTime<FixedOffset>>,
    read: impl FnOnce(&[CheckInput], &[CheckOutput]) -> R,
) -> R {
    let table = engine.table();
    let now = now.unwrap_or_else(|| Utc::now().fixed_offset());
    let decide = |table: &crate::compile::table::RuleTable, inputs: &[CheckInput]| -> Vec<CheckOutput> {
        inputs.iter().map(|i| crate::eval::check(table, engine.config(), i, now)).collect()
    };
    let outputs = if inputs.len() >= super::engine::RELEASE_GIL_FROM { py.detach(|| decide(&table, &inputs)) } else { decide(&table, &inputs) };
    let result = read(&inputs, &outputs);
    if log.wants_check(&outputs) {
        submit(py, log, Record::Check { table, inputs, outputs, now, context: context(py) });
    }
    result
}

/// `now` fixed for a decision the engine logs (the entry's timestamp, and what the writer
/// retraces); left as given otherwise.
pub fn now_if_logged(engine: &Engine, now: Option<DateTime<FixedOffset>>) -> Option<DateTime<FixedOffset>> {
    match (now, engine.audit_log()) {
        (None, Some(_)) => Some(Utc::now().fixed_offset()),
        (now, _) => now,
    }
}

/// Logs a plan (`plan_resources`, `plan_resources_json`).
pub fn log_plan(py: Python<'_>, engine: &Engine, input: crate::plan::PlanInput, response: crate::api::plan::PlanResourcesResponse, now: DateTime<FixedOffset>) {
    let Some(log) = engine.audit_log() else { return };
    let kind = response.filter.get("kind").and_then(Json::as_str).unwrap_or("");
    if log.wants_plan(kind) {
        submit(py, log, Record::Plan { table: engine.table(), input: Box::new(input), response: Box::new(response), now, context: context(py) });
    }
}

/// Logs a request refused before any decision (an invalid token).
pub fn log_error(py: Python<'_>, engine: &Engine, error: String) {
    let Some(log) = engine.audit_log() else { return };
    submit(py, log, Record::Error { error, now: Utc::now().fixed_offset(), context: context(py) });
}

/// `Engine.flush_audit`: waits (GIL released) until the entries so far reached the sink.
pub fn flush(py: Python<'_>, engine: &Engine, timeout: Option<f64>) -> PyResult<bool> {
    let Some(log) = engine.audit_log() else { return Ok(true) };
    let timeout = match timeout {
        Some(t) if !(t.is_finite() && t >= 0.0) => return Err(PyValueError::new_err("timeout must be a non-negative number of seconds")),
        t => t.map(Duration::from_secs_f64),
    };
    Ok(py.detach(|| log.flush(timeout)))
}

/// `Engine.audit_stats`: the log's counters, or None without a log.
pub fn stats<'py>(py: Python<'py>, engine: &Engine) -> PyResult<Option<Bound<'py, PyDict>>> {
    let Some(log) = engine.audit_log() else { return Ok(None) };
    let s = log.stats();
    let d = PyDict::new(py);
    d.set_item("queued", s.queued)?;
    d.set_item("processed", s.processed)?;
    d.set_item("dropped", s.dropped)?;
    d.set_item("failed", s.failed)?;
    Ok(Some(d))
}

/// Flushes every live log (at interpreter exit), each for at most `timeout` seconds.
#[pyfunction]
pub fn _flush_audit_logs(py: Python<'_>, timeout: f64) {
    let logs: Vec<Arc<AuditLog>> = LOGS.lock().unwrap_or_else(|e| e.into_inner()).iter().filter_map(Weak::upgrade).collect();
    py.detach(|| {
        for log in logs {
            log.flush(Some(Duration::from_secs_f64(timeout.max(0.0))));
        }
    });
}

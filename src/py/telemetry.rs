//! What `warden.telemetry` reads and hooks. Counters and a latency histogram live in atomics, cheap
//! enough for every decision; spans are made by a Python hook, called only for calls made inside
//! a trace (OpenTelemetry's current context holds a span) unless the app asked for every call.
//! Everything here is off (one relaxed load per call) until `warden.telemetry.instrument()`.
use crate::eval::{CheckInput, CheckOutput};
use crate::jwt::{ErrorKind, RemoteKeySet, VerifyError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::RwLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

static ON: AtomicBool = AtomicBool::new(false);

/// Upper bounds of the decision latency buckets, in microseconds; one more bucket holds the rest.
pub const BOUNDS_US: [u64; 16] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 50_000, 100_000, 1_000_000];

/// Token failure reasons, in `ErrorKind` order (`WouldBlock` is never a failure the caller sees).
const REASONS: [&str; 10] = [
    "malformed",
    "invalid_header",
    "unsupported_algorithm",
    "unknown_key",
    "invalid_signature",
    "expired",
    "not_yet_valid",
    "invalid_claims",
    "inactive",
    "unavailable",
];

struct Counters {
    allowed: AtomicU64,
    denied: AtomicU64,
    plans: AtomicU64,
    /// Check calls (batches) by latency bucket, their total nanoseconds and their number.
    buckets: [AtomicU64; BOUNDS_US.len() + 1],
    latency_ns: AtomicU64,
    calls: AtomicU64,
    token_failures: [AtomicU64; REASONS.len()],
    jwks_fetches: AtomicU64,
    jwks_failures: AtomicU64,
    reloads: AtomicU64,
    reload_failures: AtomicU64,
}

static COUNTERS: Counters = Counters {
    allowed: AtomicU64::new(0),
    denied: AtomicU64::new(0),
    plans: AtomicU64::new(0),
    buckets: [const { AtomicU64::new(0) }; BOUNDS_US.len() + 1],
    latency_ns: AtomicU64::new(0),
    calls: AtomicU64::new(0),
    token_failures: [const { AtomicU64::new(0) }; REASONS.len()],
    jwks_fetches: AtomicU64::new(0),
    jwks_failures: AtomicU64::new(0),
    reloads: AtomicU64::new(0),
    reload_failures: AtomicU64::new(0),
};

/// The Python side: `hook(kind, start_ns, end_ns, attributes)` makes one span; `context` is
/// OpenTelemetry's context variable and `span_key` the key of the current span in it.
struct Hook {
    hook: Py<PyAny>,
    context: Py<PyAny>,
    span_key: Py<PyAny>,
    always: bool,
}

static HOOK: RwLock<Option<Hook>> = RwLock::new(None);

/// When a call started, if telemetry is on.
pub struct Timer {
    start: Instant,
}

/// Starts timing a call; `None` (and nothing else happens) while telemetry is off.
#[inline]
pub fn start() -> Option<Timer> {
    ON.load(Relaxed).then(|| Timer { start: Instant::now() })
}

fn epoch_ns(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// Calls the span hook if the call was made inside a trace (or always, if so configured).
fn span(py: Python<'_>, timer: &Timer, kind: &str, attributes: impl FnOnce(&Bound<'_, PyDict>) -> PyResult<()>) {
    let result = (|| -> PyResult<()> {
        // The hook is cloned out of the lock: it may turn telemetry off (which takes the lock to write).
        let hook = {
            let guard = HOOK.read().unwrap_or_else(|e| e.into_inner());
            let Some(h) = guard.as_ref() else { return Ok(()) };
            if !h.always {
                let current = h.context.bind(py).call_method0(pyo3::intern!(py, "get"))?;
                if !current.cast::<PyDict>().is_ok_and(|c| c.contains(h.span_key.bind(py)).unwrap_or(false)) {
                    return Ok(());
                }
            }
            h.hook.clone_ref(py)
        };
        let attrs = PyDict::new(py);
        attributes(&attrs)?;
        // One clock read for the wall times: the end is now, the start is the call's duration before.
        let end = SystemTime::now();
        let start = end.checked_sub(timer.start.elapsed()).unwrap_or(end);
        hook.bind(py).call1((kind, epoch_ns(start), epoch_ns(end), attrs))?;
        Ok(())
    })();
    if let Err(e) = result {
        // Telemetry must never fail a decision: report the hook's error and go on.
        e.write_unraisable(py, None);
    }
}

/// Records a batch of decisions: effects, latency, and a span with Cerbos's attributes.
pub fn checked(py: Python<'_>, timer: Option<Timer>, engine: &crate::engine::Engine, inputs: &[CheckInput], outputs: &[CheckOutput]) {
    let Some(timer) = timer else { return };
    let elapsed = timer.start.elapsed();
    let (mut allowed, mut denied) = (0u64, 0u64);
    for out in outputs {
        for (_, e) in &out.actions.0 {
            if super::results::allows(e) {
                allowed += 1;
            } else {
                denied += 1;
            }
        }
    }
    let c = &COUNTERS;
    c.allowed.fetch_add(allowed, Relaxed);
    c.denied.fetch_add(denied, Relaxed);
    let us = elapsed.as_micros() as u64;
    c.buckets[BOUNDS_US.iter().position(|&b| us <= b).unwrap_or(BOUNDS_US.len())].fetch_add(1, Relaxed);
    c.latency_ns.fetch_add(elapsed.as_nanos() as u64, Relaxed);
    c.calls.fetch_add(1, Relaxed);
    span(py, &timer, "check", |a| {
        a.set_item("warden.batch.size", inputs.len())?;
        a.set_item("warden.decisions.allowed", allowed)?;
        a.set_item("warden.decisions.denied", denied)?;
        a.set_item("warden.policy_set.version", engine.policy_version())?;
        if let Some(first) = inputs.first() {
            a.set_item("warden.principal.id", &first.principal.id)?;
            a.set_item("warden.resource.kind", &first.resource.kind)?;
            if !first.request_id.is_empty() {
                a.set_item("cerbos.request.id", &first.request_id)?;
            }
        }
        if let ([input], [out]) = (inputs, outputs) {
            a.set_item("cerbos.request.resource_id", &input.resource.id)?;
            if let [(action, e)] = out.actions.0.as_slice() {
                a.set_item("warden.action", action)?;
                a.set_item("warden.effect", e.effect.as_str())?;
                a.set_item("cerbos.policy.fqn", &e.policy)?;
            } else {
                a.set_item("warden.actions", PyList::new(py, out.actions.0.iter().map(|(name, _)| name))?)?;
            }
        }
        Ok(())
    });
}

/// Records a query plan and its span.
pub fn planned(py: Python<'_>, timer: Option<Timer>, engine: &crate::engine::Engine, principal_id: &str, kind: &str, actions: &[String], filter: &str) {
    let Some(timer) = timer else { return };
    COUNTERS.plans.fetch_add(1, Relaxed);
    span(py, &timer, "plan", |a| {
        a.set_item("warden.principal.id", principal_id)?;
        a.set_item("warden.resource.kind", kind)?;
        a.set_item("warden.actions", PyList::new(py, actions)?)?;
        a.set_item("warden.plan.filter", filter)?;
        a.set_item("warden.policy_set.version", engine.policy_version())
    });
}

/// Records a token verification and, when it fetched keys (`fetches_before` is the remote key
/// set's fetch count before), the JWKS fetch it made.
pub fn verified<T>(py: Python<'_>, timer: Option<Timer>, result: &Result<T, VerifyError>, remote: Option<&RemoteKeySet>, fetches_before: u64) {
    let Some(timer) = timer else { return };
    if matches!(result, Err(e) if e.kind == ErrorKind::WouldBlock) {
        return; // not an answer: the caller verifies again off the event loop, and that call is recorded
    }
    let reason = match result {
        Err(e) if e.kind != ErrorKind::WouldBlock => Some(reason(e.kind)),
        _ => None,
    };
    if let Some(r) = reason {
        COUNTERS.token_failures[REASONS.iter().position(|x| *x == r).unwrap_or(REASONS.len() - 1)].fetch_add(1, Relaxed);
    }
    if let Some(remote) = remote {
        jwks_fetched(py, &timer, remote, fetches_before);
    }
    span(py, &timer, "verify", |a| {
        a.set_item("warden.token.valid", reason.is_none())?;
        a.set_item("warden.token.failure_reason", reason)?;
        if let Err(e) = result {
            a.set_item("warden.error", e.description.as_ref())?;
        }
        Ok(())
    });
}

/// Records an explicit key refresh (`JWTVerifier.refresh_keys`).
pub fn refreshed(py: Python<'_>, timer: Option<Timer>, remote: &RemoteKeySet, fetches_before: u64) {
    if let Some(timer) = timer {
        jwks_fetched(py, &timer, remote, fetches_before);
    }
}

/// The JWKS (and discovery) requests made since `fetches_before`, with a span covering the call
/// that made them (the fetch happens inside the verifier; its own start is not visible here).
fn jwks_fetched(py: Python<'_>, timer: &Timer, remote: &RemoteKeySet, fetches_before: u64) {
    let fetched = remote.fetch_count().saturating_sub(fetches_before);
    if fetched == 0 {
        return;
    }
    let error = remote.status().last_error;
    COUNTERS.jwks_fetches.fetch_add(fetched, Relaxed);
    if error.is_some() {
        COUNTERS.jwks_failures.fetch_add(1, Relaxed);
    }
    span(py, timer, "jwks", |a| {
        a.set_item("warden.jwks.requests", fetched)?;
        a.set_item("warden.error", error.as_deref())
    });
}

/// Records a policy reload (`Engine.reload`, a watch, a policy source) and its span.
pub fn reloaded(py: Python<'_>, timer: Option<Timer>, engine: &crate::engine::Engine, error: Option<String>) {
    let Some(timer) = timer else { return };
    COUNTERS.reloads.fetch_add(1, Relaxed);
    if error.is_some() {
        COUNTERS.reload_failures.fetch_add(1, Relaxed);
    }
    span(py, &timer, "reload", |a| {
        a.set_item("warden.policy_set.version", engine.policy_version())?;
        a.set_item("warden.error", error)
    });
}

fn reason(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Malformed => REASONS[0],
        ErrorKind::InvalidHeader => REASONS[1],
        ErrorKind::UnsupportedAlgorithm => REASONS[2],
        ErrorKind::UnknownKey => REASONS[3],
        ErrorKind::InvalidSignature => REASONS[4],
        ErrorKind::Expired => REASONS[5],
        ErrorKind::NotYetValid => REASONS[6],
        ErrorKind::InvalidClaims => REASONS[7],
        ErrorKind::Inactive => REASONS[8],
        ErrorKind::Unavailable | ErrorKind::WouldBlock => REASONS[9],
    }
}

/// Turns telemetry on with the span hook (see `warden.telemetry.instrument`).
#[pyfunction]
#[pyo3(name = "_telemetry_enable")]
fn enable(hook: Py<PyAny>, context: Py<PyAny>, span_key: Py<PyAny>, always: bool) {
    *HOOK.write().unwrap_or_else(|e| e.into_inner()) = Some(Hook { hook, context, span_key, always });
    ON.store(true, Relaxed);
}

/// Turns telemetry off; the counters keep their values (they are cumulative).
#[pyfunction]
#[pyo3(name = "_telemetry_disable")]
fn disable() {
    ON.store(false, Relaxed);
    *HOOK.write().unwrap_or_else(|e| e.into_inner()) = None;
}

/// The cumulative counters, for OpenTelemetry's observable instruments.
#[pyfunction]
#[pyo3(name = "_telemetry_counters")]
fn counters(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let c = &COUNTERS;
    let d = PyDict::new(py);
    d.set_item("allowed", c.allowed.load(Relaxed))?;
    d.set_item("denied", c.denied.load(Relaxed))?;
    d.set_item("plans", c.plans.load(Relaxed))?;
    d.set_item("latency_bounds_us", BOUNDS_US.to_vec())?;
    d.set_item("latency_buckets", c.buckets.iter().map(|b| b.load(Relaxed)).collect::<Vec<_>>())?;
    d.set_item("latency_ns", c.latency_ns.load(Relaxed))?;
    d.set_item("calls", c.calls.load(Relaxed))?;
    let failures = PyDict::new(py);
    for (name, n) in REASONS.iter().zip(&c.token_failures) {
        failures.set_item(name, n.load(Relaxed))?;
    }
    d.set_item("token_failures", failures)?;
    d.set_item("jwks_fetches", c.jwks_fetches.load(Relaxed))?;
    d.set_item("jwks_failures", c.jwks_failures.load(Relaxed))?;
    d.set_item("reloads", c.reloads.load(Relaxed))?;
    d.set_item("reload_failures", c.reload_failures.load(Relaxed))?;
    Ok(d)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(enable, m)?)?;
    m.add_function(wrap_pyfunction!(disable, m)?)?;
    m.add_function(wrap_pyfunction!(counters, m)?)?;
    Ok(())
}

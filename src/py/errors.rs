//! The one place core errors, and panics, become Python exceptions: every exception class of
//! `warden._core` is defined here, with the conversion from the core error it stands for.
//! (Bad Python values are reported where they are read, by `values::Path`, naming the field.)
use crate::jwt::{ConfigError, ErrorKind as TokenErrorKind, VerifyError};
use crate::policy::PolicyErrors;
use crate::rego::{ErrorKind as RegoErrorKind, RegoError as CoreRegoError};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyType};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

create_exception!(warden, PolicyError, PyException, "Policies failed to load. `.errors` lists every problem as a dict with `file`, `line`, `column`, `kind` (a stable slug such as `unknown derived role`) and `message`; str() shows them as `file:line:col: message`.");
create_exception!(
    warden,
    InternalError,
    PyException,
    "A bug in warden: a Rust panic stopped at the Python boundary (the call did nothing; the details are logged on the `warden` logger). Please report it."
);

create_exception!(warden, RegoError, PyException, "A Rego policy set could not be loaded or evaluated.");
create_exception!(
    warden,
    RegoLoadError,
    RegoError,
    "Policies or data documents were refused at load (syntax, unsupported built-in, undefined function, bad data); the message names the file and line. On reload the last good set keeps serving."
);
create_exception!(warden, RegoEvalError, RegoError, "Evaluation failed (a conflict, a built-in error in strict mode, a limit, a non-boolean allow rule).");

create_exception!(
    warden,
    InvalidToken,
    PyException,
    "The bearer token was refused. `error` and `description` are ready for an RFC 6750 WWW-Authenticate header."
);
create_exception!(warden, MalformedToken, InvalidToken, "The token is not a well-formed compact JWS (size, segments, base64url, JSON, duplicate members).");
create_exception!(warden, InvalidHeader, InvalidToken, "The token's header asks for processing warden refuses (crit, typ, cty, zip, b64).");
create_exception!(warden, UnsupportedAlgorithm, InvalidToken, "The token's alg is none, unknown, or not allowed for the selected key.");
create_exception!(warden, UnknownKey, InvalidToken, "No configured key matches the token's kid.");
create_exception!(warden, InvalidSignature, InvalidToken, "The token's signature does not verify.");
create_exception!(warden, ExpiredToken, InvalidToken, "The token's exp is in the past (beyond the leeway).");
create_exception!(warden, InvalidClaims, InvalidToken, "A claim is missing, of the wrong type, or has the wrong value.");
create_exception!(warden, NotYetValid, InvalidClaims, "The token's nbf or iat is in the future (beyond the leeway).");
create_exception!(warden, InactiveToken, InvalidToken, "The authorization server says the token is not active.");
create_exception!(warden, ProviderUnavailable, InvalidToken, "Keys or the authorization server could not be reached; the token was not checked.");

/// Policies that failed to load, each problem as a dict in `.errors`.
pub fn policy_error(py: Python<'_>, e: &PolicyErrors) -> PyErr {
    let err = PolicyError::new_err(e.to_string());
    let list = PyList::empty(py);
    for p in &e.0 {
        let d = PyDict::new(py);
        let _ = d.set_item("file", &p.file);
        let _ = d.set_item("line", p.line);
        let _ = d.set_item("column", p.column);
        let _ = d.set_item("kind", &p.kind);
        let _ = d.set_item("message", &p.message);
        let _ = list.append(d);
    }
    let _ = err.value(py).setattr("errors", list);
    err
}

pub fn rego_error(e: CoreRegoError) -> PyErr {
    match e.kind {
        RegoErrorKind::Load => RegoLoadError::new_err(e.message),
        RegoErrorKind::Eval => RegoEvalError::new_err(e.message),
        RegoErrorKind::Input => PyValueError::new_err(e.message),
    }
}

/// A refused token as the matching `InvalidToken` subclass, with `description` set.
pub fn token_error(py: Python<'_>, e: VerifyError) -> PyErr {
    let description = e.description.into_owned();
    let err = match e.kind {
        TokenErrorKind::Malformed => MalformedToken::new_err(description.clone()),
        TokenErrorKind::InvalidHeader => InvalidHeader::new_err(description.clone()),
        TokenErrorKind::UnsupportedAlgorithm => UnsupportedAlgorithm::new_err(description.clone()),
        TokenErrorKind::UnknownKey => UnknownKey::new_err(description.clone()),
        TokenErrorKind::InvalidSignature => InvalidSignature::new_err(description.clone()),
        TokenErrorKind::Expired => ExpiredToken::new_err(description.clone()),
        TokenErrorKind::NotYetValid => NotYetValid::new_err(description.clone()),
        TokenErrorKind::InvalidClaims => InvalidClaims::new_err(description.clone()),
        TokenErrorKind::Inactive => InactiveToken::new_err(description.clone()),
        TokenErrorKind::Unavailable | TokenErrorKind::WouldBlock => ProviderUnavailable::new_err(description.clone()),
    };
    // Setting an attribute on a fresh exception instance cannot fail in practice; if it did, the
    // exception still carries the description as its message.
    let _ = err.value(py).setattr("description", description);
    err
}

/// A verifier, introspector or tokeninfo configuration that cannot work.
pub fn config_error(e: ConfigError) -> PyErr {
    PyValueError::new_err(e.0)
}

/// Runs the body of a Python entry point (`what`, e.g. `Engine.check`); a panic inside becomes
/// `InternalError` and a log line on the `warden` logger instead of `PanicException`, which is a
/// `BaseException` that `except Exception` would miss. The last line of defence: panics are bugs.
pub fn guard<T>(what: &str, body: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| Err(internal_error(what, payload.as_ref())))
}

fn internal_error(what: &str, payload: &(dyn Any + Send)) -> PyErr {
    let cause = payload.downcast_ref::<&str>().copied().or_else(|| payload.downcast_ref::<String>().map(String::as_str)).unwrap_or("(no message)");
    let message = format!("internal error in {what}: {cause} (a bug in warden; please report it)");
    Python::attach(|py| {
        if let Ok(logger) = py.import("logging").and_then(|m| m.call_method1("getLogger", ("warden",))) {
            let _ = logger.call_method1("error", ("%s", &message));
        }
    });
    InternalError::new_err(message)
}

fn set_token_class_attrs(ty: &Bound<'_, PyType>, error: &str, status: u16) -> PyResult<()> {
    ty.setattr("error", error)?;
    ty.setattr("status_code", status)?;
    ty.setattr("description", "")?;
    Ok(())
}

/// Adds every exception class to `warden._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    set_token_class_attrs(&py.get_type::<InvalidToken>(), "invalid_token", 401)?;
    set_token_class_attrs(&py.get_type::<ProviderUnavailable>(), "temporarily_unavailable", 503)?;
    m.add("PolicyError", py.get_type::<PolicyError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    m.add("RegoError", py.get_type::<RegoError>())?;
    m.add("RegoLoadError", py.get_type::<RegoLoadError>())?;
    m.add("RegoEvalError", py.get_type::<RegoEvalError>())?;
    m.add("InvalidToken", py.get_type::<InvalidToken>())?;
    m.add("MalformedToken", py.get_type::<MalformedToken>())?;
    m.add("InvalidHeader", py.get_type::<InvalidHeader>())?;
    m.add("UnsupportedAlgorithm", py.get_type::<UnsupportedAlgorithm>())?;
    m.add("UnknownKey", py.get_type::<UnknownKey>())?;
    m.add("InvalidSignature", py.get_type::<InvalidSignature>())?;
    m.add("ExpiredToken", py.get_type::<ExpiredToken>())?;
    m.add("InvalidClaims", py.get_type::<InvalidClaims>())?;
    m.add("NotYetValid", py.get_type::<NotYetValid>())?;
    m.add("InactiveToken", py.get_type::<InactiveToken>())?;
    m.add("ProviderUnavailable", py.get_type::<ProviderUnavailable>())?;
    Ok(())
}

//! Python bindings for `crate::jwt`: the verifier, introspection and tokeninfo (their
//! `InvalidToken` exceptions are in `errors`). Network and crypto run with the GIL released.
use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{Map, Value};

use super::errors::{config_error as config_err, guard, token_error as token_err};
use super::values::map_to_dict;
use crate::jwt::algorithms;
use crate::jwt::keys::is_pem;
use crate::jwt::token::normalize_typ;
use crate::jwt::{
    AlgSet, CachePolicy, ClaimRules, ErrorKind, FetchMode, HttpOptions, Introspector, IntrospectorConfig, JwksSource, KeySet, KeySource, RemoteKeySet,
    TokenInfo, TokenInfoConfig, Verifier, VerifierConfig, VerifyError,
};

fn seconds(value: f64, field: &str) -> PyResult<Duration> {
    if !value.is_finite() || !(0.0..=1e9).contains(&value) {
        return Err(PyValueError::new_err(format!("{field}: must be a non-negative number of seconds")));
    }
    Ok(Duration::from_secs_f64(value))
}

fn parse_algorithms(names: &[String]) -> PyResult<AlgSet> {
    let mut algs = Vec::with_capacity(names.len());
    for name in names {
        match algorithms::parse(name) {
            Some(a) => algs.push(a),
            None => {
                return Err(PyValueError::new_err(format!(
                    "algorithms: {} is not supported (supported: {})",
                    crate::jwt::error::quoted(name),
                    AlgSet::of(&algorithms::ALL).names()
                )))
            }
        }
    }
    Ok(AlgSet::of(&algs))
}

fn to_dict<'py>(py: Python<'py>, claims: &Map<String, Value>) -> PyResult<Bound<'py, PyAny>> {
    Ok(map_to_dict(py, claims)?.into_any())
}

/// Log pending key-set events (fetch failures, skipped keys) on `warden.jwt`.
fn log_events(py: Python<'_>, remote: &RemoteKeySet) -> PyResult<()> {
    if !remote.has_events() {
        return Ok(());
    }
    let logger = py.import("logging")?.call_method1("getLogger", ("warden.jwt",))?;
    for event in remote.take_events() {
        logger.call_method1("warning", (event,))?;
    }
    Ok(())
}

/// The Rust verifier behind `warden.JWTVerifier`; use that class instead.
#[pyclass(module = "warden._core", name = "JWTVerifierCore", frozen)]
pub struct PyVerifier {
    inner: Arc<Verifier>,
}

#[pymethods]
impl PyVerifier {
    #[new]
    #[pyo3(signature = (*, jwks=None, jwks_url=None, key=None, issuer=None, audience=None,
        algorithms=None, leeway=30, required_claims=vec!["exp".to_owned()], expected_claims=None,
        allowed_typ=vec!["JWT".to_owned(), "at+jwt".to_owned(), "application/at+jwt".to_owned()],
        max_token_bytes=16384, max_lifetime=None, allow_any_audience=false, discovery=false, http_timeout=5.0, max_response_bytes=524288,
        jwks_min_ttl=60.0, jwks_max_ttl=86400.0, jwks_default_ttl=900.0, unknown_kid_cooldown=30.0,
        max_stale=86400.0, failure_backoff=1.0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        jwks: Option<String>,
        jwks_url: Option<String>,
        key: Option<Vec<u8>>,
        issuer: Option<String>,
        audience: Option<Vec<String>>,
        algorithms: Option<Vec<String>>,
        leeway: u64,
        required_claims: Vec<String>,
        expected_claims: Option<String>,
        allowed_typ: Vec<String>,
        max_token_bytes: usize,
        max_lifetime: Option<u64>,
        allow_any_audience: bool,
        discovery: bool,
        http_timeout: f64,
        max_response_bytes: usize,
        jwks_min_ttl: f64,
        jwks_max_ttl: f64,
        jwks_default_ttl: f64,
        unknown_kid_cooldown: f64,
        max_stale: f64,
        failure_backoff: f64,
    ) -> PyResult<Self> {
        guard("JWTVerifier.__init__", || {
            let allowed = algorithms.as_deref().map(parse_algorithms).transpose()?;
            let given = [jwks.is_some(), jwks_url.is_some(), key.is_some(), discovery].iter().filter(|g| **g).count();
            if given != 1 {
                return Err(PyValueError::new_err("keys: give exactly one of jwks=, jwks_url=, key= or discovery=True (with issuer=)"));
            }
            let keys = if let Some(text) = jwks {
                KeySource::Static(Arc::new(KeySet::from_jwks_json(&text).map_err(config_err)?))
            } else if let Some(pem) = key.as_ref().filter(|k| is_pem(k)) {
                KeySource::Static(Arc::new(KeySet::from_pem(pem, None).map_err(config_err)?))
            } else if let Some(secret) = key {
                if !allowed.is_some_and(|a| a.iter().all(algorithms::is_hmac)) {
                    return Err(PyValueError::new_err("algorithms: an HMAC secret needs algorithms=[\"HS256\"] (or HS384/HS512)"));
                }
                KeySource::Static(Arc::new(KeySet::from_hmac_secret(&secret, None).map_err(config_err)?))
            } else {
                let source = if discovery {
                    let Some(iss) = &issuer else {
                        return Err(PyValueError::new_err("issuer: required with discovery=True"));
                    };
                    JwksSource::Discovery { issuer: iss.clone() }
                } else {
                    let url = jwks_url.unwrap_or_default();
                    JwksSource::Url(crate::jwt::http::endpoint(&url, "jwks_url").map_err(config_err)?)
                };
                let http = HttpOptions { timeout: seconds(http_timeout, "http_timeout")?, max_body_bytes: max_response_bytes };
                let policy = CachePolicy {
                    min_ttl: seconds(jwks_min_ttl, "jwks_min_ttl")?,
                    max_ttl: seconds(jwks_max_ttl, "jwks_max_ttl")?,
                    default_ttl: seconds(jwks_default_ttl, "jwks_default_ttl")?,
                    unknown_kid_cooldown: seconds(unknown_kid_cooldown, "unknown_kid_cooldown")?,
                    max_stale: seconds(max_stale, "max_stale")?,
                    failure_backoff: seconds(failure_backoff, "failure_backoff")?,
                };
                KeySource::Remote(RemoteKeySet::new(source, &http, policy, allowed).map_err(config_err)?)
            };
            let expected = match expected_claims {
                None => Vec::new(),
                Some(text) => match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Object(m)) => m.into_iter().collect(),
                    _ => return Err(PyValueError::new_err("expected_claims: must be a mapping of claim name to value")),
                },
            };
            if audience.as_ref().is_some_and(|a| a.is_empty()) {
                return Err(PyValueError::new_err("audience: must not be empty"));
            }
            let mut config = VerifierConfig::new(keys);
            config.algorithms = allowed;
            config.claims = ClaimRules { issuer, audience, leeway, required: required_claims, expected, max_lifetime, allow_any_audience };
            config.header.allowed_typ = allowed_typ.iter().map(|t| normalize_typ(t)).collect();
            config.header.max_token_bytes = max_token_bytes;
            let verifier = Verifier::new(config).map_err(config_err)?;
            if let Some(set) = verifier.static_keys().filter(|s| !s.skipped.is_empty()) {
                // Once, at construction: the same line a fetched key set logs when it skips keys.
                let logger = py.import("logging")?.call_method1("getLogger", ("warden.jwt",))?;
                logger.call_method1("warning", (format!("JWKS: skipped keys: {}", set.skipped.join("; ")),))?;
            }
            Ok(PyVerifier { inner: Arc::new(verifier) })
        })
    }

    /// Verify a compact JWT and return its claims as a dict.
    /// Raises a subclass of `warden.InvalidToken` when the token is refused.
    /// May fetch keys; the GIL is released meanwhile.
    fn verify<'py>(&self, py: Python<'py>, token: &str) -> PyResult<Bound<'py, PyAny>> {
        guard("JWTVerifier.verify", || {
            let verifier = &*self.inner;
            let timer = super::telemetry::start();
            let fetches = verifier.remote_keys().map_or(0, |r| r.fetch_count());
            let result = py.detach(|| verifier.verify(token));
            super::telemetry::verified(py, timer, &result, verifier.remote_keys(), fetches);
            if let Some(remote) = verifier.remote_keys() {
                log_events(py, remote)?;
            }
            match result {
                Ok(claims) => to_dict(py, &claims),
                Err(e) => Err(token_err(py, e)),
            }
        })
    }

    /// Verify without any network access: the claims, or None when a key fetch
    /// is needed first (the async path then verifies in a worker thread).
    fn verify_cached<'py>(&self, py: Python<'py>, token: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        guard("JWTVerifier.verify_cached", || {
            let verifier = &*self.inner;
            let timer = super::telemetry::start();
            let result = py.detach(|| verifier.verify_with(token, FetchMode::CacheOnly));
            super::telemetry::verified(py, timer, &result, None, 0);
            match result {
                Ok(claims) => to_dict(py, &claims).map(Some),
                Err(e) if e.kind == ErrorKind::WouldBlock => Ok(None),
                Err(e) => Err(token_err(py, e)),
            }
        })
    }

    /// Fetch the remote key set now; returns the number of usable keys.
    fn refresh_keys(&self, py: Python<'_>) -> PyResult<usize> {
        guard("JWTVerifier.refresh_keys", || {
            let Some(remote) = self.inner.remote_keys() else {
                return Err(PyValueError::new_err("refresh_keys: this verifier has no remote key set"));
            };
            let timer = super::telemetry::start();
            let fetches = remote.fetch_count();
            let result = py.detach(|| remote.refresh());
            super::telemetry::refreshed(py, timer, remote, fetches);
            log_events(py, remote)?;
            result.map_err(|e| token_err(py, VerifyError::unavailable(format!("signing keys are unavailable: {e}"))))
        })
    }

    /// State of the remote key cache: fetches, keys, age_seconds, expires_in_seconds, last_error.
    fn key_status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        guard("JWTVerifier.key_status", || {
            let d = PyDict::new(py);
            if let Some(remote) = self.inner.remote_keys() {
                let s = remote.status();
                d.set_item("fetches", s.fetches)?;
                d.set_item("keys", s.keys)?;
                d.set_item("age_seconds", s.age.map(|a| a.as_secs_f64()))?;
                d.set_item("expires_in_seconds", s.expires_in.map(|a| a.as_secs_f64()))?;
                d.set_item("last_error", s.last_error)?;
            }
            Ok(d)
        })
    }
}

/// The Rust RFC 7662 client behind `warden.Introspector`.
#[pyclass(module = "warden._core", name = "IntrospectorCore", frozen)]
pub struct PyIntrospector {
    inner: Arc<Introspector>,
}

#[pymethods]
impl PyIntrospector {
    #[new]
    #[pyo3(signature = (url, client_id, client_secret, *, token_type_hint=Some("access_token".to_owned()), issuer=None,
        audience=None, max_cache=60.0, cache_capacity=10000, max_token_bytes=16384, http_timeout=5.0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        url: &str,
        client_id: &str,
        client_secret: &str,
        token_type_hint: Option<String>,
        issuer: Option<String>,
        audience: Option<Vec<String>>,
        max_cache: f64,
        cache_capacity: usize,
        max_token_bytes: usize,
        http_timeout: f64,
    ) -> PyResult<Self> {
        guard("Introspector.__init__", || {
            let mut config = IntrospectorConfig::new(url, client_id, client_secret);
            config.token_type_hint = token_type_hint;
            config.issuer = issuer;
            config.audience = audience;
            config.max_cache = seconds(max_cache, "max_cache")?;
            config.cache_capacity = cache_capacity;
            config.max_token_bytes = max_token_bytes;
            config.http.timeout = seconds(http_timeout, "http_timeout")?;
            Ok(PyIntrospector { inner: Arc::new(Introspector::new(config).map_err(config_err)?) })
        })
    }

    /// Introspect the token; the active token's claims as a dict, else `InvalidToken`.
    fn verify<'py>(&self, py: Python<'py>, token: &str) -> PyResult<Bound<'py, PyAny>> {
        guard("Introspector.verify", || {
            let inner = &*self.inner;
            let timer = super::telemetry::start();
            let result = py.detach(|| inner.introspect(token));
            super::telemetry::verified(py, timer, &result, None, 0);
            match result {
                Ok(claims) => to_dict(py, &claims),
                Err(e) => Err(token_err(py, e)),
            }
        })
    }

    /// Number of cached answers.
    #[getter]
    fn cached_entries(&self) -> PyResult<usize> {
        guard("Introspector.cached_entries", || Ok(self.inner.cached_entries()))
    }
}

/// The Rust tokeninfo client behind `warden.TokenInfo`.
#[pyclass(module = "warden._core", name = "TokenInfoCore", frozen)]
pub struct PyTokenInfo {
    inner: Arc<TokenInfo>,
}

#[pymethods]
impl PyTokenInfo {
    #[new]
    #[pyo3(signature = (url, *, max_cache=60.0, cache_capacity=10000, max_token_bytes=16384, http_timeout=5.0))]
    fn new(url: &str, max_cache: f64, cache_capacity: usize, max_token_bytes: usize, http_timeout: f64) -> PyResult<Self> {
        guard("TokenInfo.__init__", || {
            let mut config = TokenInfoConfig::new(url);
            config.max_cache = seconds(max_cache, "max_cache")?;
            config.cache_capacity = cache_capacity;
            config.max_token_bytes = max_token_bytes;
            config.http.timeout = seconds(http_timeout, "http_timeout")?;
            Ok(PyTokenInfo { inner: Arc::new(TokenInfo::new(config).map_err(config_err)?) })
        })
    }

    /// Look the token up; its tokeninfo answer (uid, scope, realm, ...) as a dict, else `InvalidToken`.
    fn verify<'py>(&self, py: Python<'py>, token: &str) -> PyResult<Bound<'py, PyAny>> {
        guard("TokenInfo.verify", || {
            let inner = &*self.inner;
            let timer = super::telemetry::start();
            let result = py.detach(|| inner.check(token));
            super::telemetry::verified(py, timer, &result, None, 0);
            match result {
                Ok(claims) => to_dict(py, &claims),
                Err(e) => Err(token_err(py, e)),
            }
        })
    }

    #[getter]
    fn cached_entries(&self) -> PyResult<usize> {
        guard("TokenInfo.cached_entries", || Ok(self.inner.cached_entries()))
    }
}

/// OIDC discovery for `issuer`: a dict with `issuer`, `jwks_uri` and
/// `introspection_endpoint` (None when absent). Runs with the GIL released.
#[pyfunction]
#[pyo3(signature = (issuer, *, http_timeout=5.0))]
fn discover_provider<'py>(py: Python<'py>, issuer: &str, http_timeout: f64) -> PyResult<Bound<'py, PyDict>> {
    guard("discover_provider", || {
        let http = HttpOptions { timeout: seconds(http_timeout, "http_timeout")?, ..HttpOptions::default() };
        crate::jwt::discovery::discovery_url(issuer).map_err(config_err)?;
        let client = crate::jwt::http::HttpClient::new(&http).map_err(config_err)?;
        let found = py.detach(|| crate::jwt::discovery::discover(&client, issuer));
        let metadata = found.map_err(|e| token_err(py, VerifyError::unavailable(format!("OIDC discovery failed: {e}"))))?;
        let d = PyDict::new(py);
        d.set_item("issuer", metadata.issuer)?;
        d.set_item("jwks_uri", metadata.jwks_uri.as_str())?;
        d.set_item("introspection_endpoint", metadata.introspection_endpoint.map(|u| u.to_string()))?;
        Ok(d)
    })
}

/// Add the JWT classes to `warden._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyVerifier>()?;
    m.add_class::<PyIntrospector>()?;
    m.add_class::<PyTokenInfo>()?;
    m.add_function(wrap_pyfunction!(discover_provider, m)?)?;
    Ok(())
}

//! A JWKS fetched from the network and cached.
//!
//! Policy (what the common libraries get wrong, see ATTACKS.md §F):
//! - fetched lazily; cached for the server's `Cache-Control: max-age`, clamped
//!   to `[min_ttl, max_ttl]`; refreshed in the background once 3/4 of it is used;
//! - an unknown `kid` triggers at most one refetch per `unknown_kid_cooldown`,
//!   single-flight, and the kid is remembered as unknown (negative cache);
//! - a failed refresh keeps the last good key set serving for up to `max_stale`
//!   past its expiry and is reported as an event; a failed first fetch is not
//!   cached: the next request retries (after `failure_backoff`);
//! - `oct` keys in a remote JWKS are ignored (see `KeySet::from_remote_jwks`).
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use reqwest::Url;

use super::algorithms::AlgSet;
use super::discovery;
use super::error::{ConfigError, VerifyError};
use super::http::{self, HttpClient, HttpOptions};
use super::keys::{KeySet, Selection};

/// Whether a lookup may wait on the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchMode {
    /// Fetch when needed (blocking the calling thread).
    Network,
    /// Answer from the cache only; `ErrorKind::WouldBlock` when a fetch is needed.
    CacheOnly,
}

/// Where the key set comes from.
#[derive(Debug, Clone)]
pub enum JwksSource {
    Url(Url),
    /// `jwks_uri` from the issuer's OIDC discovery document.
    Discovery {
        issuer: String,
    },
}

/// Cache timing; see the module documentation.
#[derive(Debug, Clone)]
pub struct CachePolicy {
    pub min_ttl: Duration,
    pub max_ttl: Duration,
    /// TTL when the response has no `Cache-Control: max-age`.
    pub default_ttl: Duration,
    pub unknown_kid_cooldown: Duration,
    /// How long past its expiry a key set keeps serving while refreshes fail.
    pub max_stale: Duration,
    /// Least time between two fetch attempts after a failure.
    pub failure_backoff: Duration,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            min_ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(24 * 3600),
            default_ttl: Duration::from_secs(15 * 60),
            unknown_kid_cooldown: Duration::from_secs(30),
            max_stale: Duration::from_secs(24 * 3600),
            failure_backoff: Duration::from_secs(1),
        }
    }
}

/// Most unknown kids remembered; the map is cleared when it would grow past this.
const MAX_UNKNOWN_KIDS: usize = 1024;
/// Most undelivered events kept.
const MAX_EVENTS: usize = 64;

#[derive(Default)]
struct State {
    keys: Option<Arc<KeySet>>,
    fetched_at: Option<Instant>,
    expires_at: Option<Instant>,
    /// Bumped by every fetch attempt; lets waiters reuse a concurrent fetch's outcome.
    generation: u64,
    last_failure: Option<(Instant, String)>,
    last_unknown_kid_fetch: Option<Instant>,
    unknown_kids: HashMap<String, Instant>,
    background_refresh: bool,
    jwks_url: Option<Url>,
}

struct Inner {
    source: JwksSource,
    restrict_to: Option<AlgSet>,
    http: HttpClient,
    policy: CachePolicy,
    state: Mutex<State>,
    fetch_lock: Mutex<()>,
    fetches: AtomicU64,
    events: Mutex<Vec<String>>,
    has_events: AtomicBool,
}

/// A snapshot of the cache, for monitoring.
#[derive(Debug, Clone)]
pub struct Status {
    pub fetches: u64,
    pub keys: usize,
    pub age: Option<Duration>,
    pub expires_in: Option<Duration>,
    pub last_error: Option<String>,
}

/// A remote JWKS with the caching policy above. Cheap to clone (shared state).
#[derive(Clone)]
pub struct RemoteKeySet(Arc<Inner>);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not take verification down with it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl RemoteKeySet {
    pub fn new(source: JwksSource, http: &HttpOptions, policy: CachePolicy, restrict_to: Option<AlgSet>) -> Result<Self, ConfigError> {
        if let JwksSource::Discovery { issuer } = &source {
            discovery::discovery_url(issuer)?;
        }
        Ok(RemoteKeySet(Arc::new(Inner {
            source,
            restrict_to,
            http: HttpClient::new(http)?,
            policy,
            state: Mutex::new(State::default()),
            fetch_lock: Mutex::new(()),
            fetches: AtomicU64::new(0),
            events: Mutex::new(Vec::new()),
            has_events: AtomicBool::new(false),
        })))
    }

    /// A key set able to answer for `kid`, fetching per the policy when allowed.
    /// The caller still selects the key; an unknown kid is an `UnknownKey` error here.
    pub fn keys_for(&self, kid: Option<&str>, mode: FetchMode) -> Result<Arc<KeySet>, VerifyError> {
        let inner = &self.0;
        let policy = &inner.policy;
        let now = Instant::now();
        let (keys, fresh, stale_ok, generation, backing_off, last_error) = {
            let mut st = lock(&inner.state);
            let fresh = st.expires_at.is_some_and(|t| now < t);
            let stale_ok = st.expires_at.is_some_and(|t| now < t + policy.max_stale);
            let backing_off = st.last_failure.as_ref().is_some_and(|(t, _)| now < *t + policy.failure_backoff);
            if fresh && !st.background_refresh {
                if let (Some(fetched), Some(expires)) = (st.fetched_at, st.expires_at) {
                    if now >= fetched + (expires - fetched) * 3 / 4 {
                        st.background_refresh = true;
                        self.spawn_background_refresh(st.generation);
                    }
                }
            }
            (st.keys.clone(), fresh, stale_ok, st.generation, backing_off, st.last_failure.as_ref().map(|(_, e)| e.clone()))
        };
        match keys {
            Some(keys) if fresh => {
                let Some(kid) = kid else { return Ok(keys) };
                if !matches!(keys.select(Some(kid)), Selection::UnknownKid) {
                    return Ok(keys);
                }
                {
                    let mut st = lock(&inner.state);
                    let cooling = |t: &Instant| now < *t + policy.unknown_kid_cooldown;
                    if st.unknown_kids.get(kid).is_some_and(cooling) || st.last_unknown_kid_fetch.as_ref().is_some_and(cooling) {
                        remember_unknown(&mut st, kid, now);
                        return Err(unknown_kid());
                    }
                    if mode == FetchMode::CacheOnly {
                        return Err(VerifyError::would_block());
                    }
                    // Claim the refetch slot before fetching, so concurrent misses do not queue fetches.
                    st.last_unknown_kid_fetch = Some(now);
                }
                match inner.refresh(generation) {
                    Ok(new) if !matches!(new.select(Some(kid)), Selection::UnknownKid) => Ok(new),
                    _ => {
                        remember_unknown(&mut lock(&inner.state), kid, now);
                        Err(unknown_kid())
                    }
                }
            }
            Some(stale) => {
                if mode == FetchMode::CacheOnly {
                    return Err(VerifyError::would_block());
                }
                let result = if backing_off { Err(last_error.unwrap_or_default()) } else { inner.refresh(generation) };
                match result {
                    Ok(new) => Ok(new),
                    Err(_) if stale_ok => Ok(stale),
                    Err(e) => Err(VerifyError::unavailable(format!("signing keys are unavailable: {e}"))),
                }
            }
            None => {
                if mode == FetchMode::CacheOnly {
                    return Err(VerifyError::would_block());
                }
                let result = if backing_off { Err(last_error.unwrap_or_default()) } else { inner.refresh(generation) };
                result.map_err(|e| VerifyError::unavailable(format!("signing keys are unavailable: {e}")))
            }
        }
    }

    /// Fetch now, whatever the cache state (e.g. on an operator's signal).
    pub fn refresh(&self) -> Result<usize, String> {
        let generation = lock(&self.0.state).generation;
        self.0.refresh(generation).map(|k| k.len())
    }

    fn spawn_background_refresh(&self, generation: u64) {
        let inner = self.0.clone();
        let spawned = std::thread::Builder::new().name("warden-jwks-refresh".into()).spawn(move || {
            let _ = inner.refresh(generation);
            lock(&inner.state).background_refresh = false;
        });
        if spawned.is_err() {
            // The synchronous refresh at expiry still happens.
            lock(&self.0.state).background_refresh = false;
        }
    }

    /// Number of JWKS (and discovery) requests made so far.
    pub fn fetch_count(&self) -> u64 {
        self.0.fetches.load(Ordering::Relaxed)
    }

    /// Whether events (fetch failures, skipped keys) wait to be taken.
    pub fn has_events(&self) -> bool {
        self.0.has_events.load(Ordering::Relaxed)
    }

    /// Take the pending events, oldest first.
    pub fn take_events(&self) -> Vec<String> {
        self.0.has_events.store(false, Ordering::Relaxed);
        std::mem::take(&mut *lock(&self.0.events))
    }

    pub fn status(&self) -> Status {
        let st = lock(&self.0.state);
        let now = Instant::now();
        Status {
            fetches: self.fetch_count(),
            keys: st.keys.as_ref().map_or(0, |k| k.len()),
            age: st.fetched_at.map(|t| now - t),
            expires_in: st.expires_at.map(|t| t.saturating_duration_since(now)),
            last_error: st.last_failure.as_ref().map(|(_, e)| e.clone()),
        }
    }
}

fn unknown_kid() -> VerifyError {
    VerifyError::unknown_key("no signing key matches the token's kid")
}

fn remember_unknown(st: &mut State, kid: &str, now: Instant) {
    if st.unknown_kids.len() >= MAX_UNKNOWN_KIDS {
        st.unknown_kids.clear();
    }
    st.unknown_kids.insert(kid.to_owned(), now);
}

impl Inner {
    fn event(&self, msg: String) {
        let mut events = lock(&self.events);
        if events.len() < MAX_EVENTS {
            events.push(msg);
        }
        self.has_events.store(true, Ordering::Relaxed);
    }

    /// Fetch once, single-flight: if another caller fetched since `seen_generation`,
    /// its outcome is reused instead of fetching again.
    fn refresh(&self, seen_generation: u64) -> Result<Arc<KeySet>, String> {
        let _flight = lock(&self.fetch_lock);
        {
            let st = lock(&self.state);
            if st.generation != seen_generation {
                return match (&st.last_failure, &st.keys) {
                    (None, Some(keys)) => Ok(keys.clone()),
                    (Some((_, e)), _) => Err(e.clone()),
                    (None, None) => Err("no key set".to_owned()),
                };
            }
        }
        let outcome = self.fetch();
        let now = Instant::now();
        let mut st = lock(&self.state);
        st.generation += 1;
        match outcome {
            Ok((set, ttl)) => {
                if !set.skipped.is_empty() {
                    self.event(format!("JWKS: skipped keys: {}", set.skipped.join("; ")));
                }
                let set = Arc::new(set);
                st.keys = Some(set.clone());
                st.fetched_at = Some(now);
                st.expires_at = Some(now + ttl);
                st.last_failure = None;
                st.unknown_kids.clear();
                Ok(set)
            }
            Err(e) => {
                let serving = match (&st.keys, st.fetched_at) {
                    (Some(_), Some(t)) => format!("; still serving the key set fetched {} s ago", (now - t).as_secs()),
                    _ => String::new(),
                };
                self.event(format!("JWKS fetch failed: {e}{serving}"));
                st.last_failure = Some((now, e.clone()));
                Err(e)
            }
        }
    }

    fn jwks_url(&self) -> Result<Url, String> {
        match &self.source {
            JwksSource::Url(u) => Ok(u.clone()),
            JwksSource::Discovery { issuer } => {
                if let Some(u) = lock(&self.state).jwks_url.clone() {
                    return Ok(u);
                }
                self.fetches.fetch_add(1, Ordering::Relaxed);
                let metadata = discovery::discover(&self.http, issuer)?;
                lock(&self.state).jwks_url = Some(metadata.jwks_uri.clone());
                Ok(metadata.jwks_uri)
            }
        }
    }

    fn fetch(&self) -> Result<(KeySet, Duration), String> {
        let url = self.jwks_url()?;
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let resp = self.http.get(&url)?;
        if resp.status != 200 {
            return Err(format!("JWKS endpoint {} answered HTTP {}", http::url_for_logs(&url), resp.status));
        }
        let mut set = KeySet::from_remote_jwks(&resp.body).map_err(|e| e.0)?;
        if let Some(allowed) = self.restrict_to {
            set = set.restrict(allowed).map_err(|e| e.0)?;
        }
        if set.is_empty() {
            let why = if set.skipped.is_empty() { String::new() } else { format!(" (skipped: {})", set.skipped.join("; ")) };
            return Err(format!("JWKS at {} has no usable signing keys{why}", http::url_for_logs(&url)));
        }
        let p = &self.policy;
        let ttl = resp.max_age.unwrap_or(p.default_ttl).clamp(p.min_ttl, p.max_ttl.max(p.min_ttl));
        Ok((set, ttl))
    }
}

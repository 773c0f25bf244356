//! RFC 7662 token introspection: ask the authorization server whether a token
//! is active (e.g. Okta `/v1/introspect`), authenticating with client credentials.
//! Answers are cached no longer than the token's `exp` and `max_cache`.
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Url;
use serde_json::{Map, Value};

use super::error::{ConfigError, ErrorKind, VerifyError};
use super::http::{self, HttpClient, HttpOptions};
use super::strict_json;
use super::token_cache::TokenCache;

#[derive(Debug, Clone)]
pub struct IntrospectorConfig {
    pub url: String,
    pub client_id: String,
    pub client_secret: String,
    /// `token_type_hint` sent with each request (RFC 7662 §2.1).
    pub token_type_hint: Option<String>,
    /// When set, the answer's `iss` must equal it.
    pub issuer: Option<String>,
    /// When set, the answer's `aud` must contain one of these.
    pub audience: Option<Vec<String>>,
    /// Longest time an active answer is reused.
    pub max_cache: Duration,
    pub cache_capacity: usize,
    pub max_token_bytes: usize,
    pub http: HttpOptions,
}

impl IntrospectorConfig {
    pub fn new(url: &str, client_id: &str, client_secret: &str) -> Self {
        IntrospectorConfig {
            url: url.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            token_type_hint: Some("access_token".to_owned()),
            issuer: None,
            audience: None,
            max_cache: Duration::from_secs(60),
            cache_capacity: 10_000,
            max_token_bytes: 16 * 1024,
            http: HttpOptions::default(),
        }
    }
}

pub struct Introspector {
    config: IntrospectorConfig,
    url: Url,
    http: HttpClient,
    cache: TokenCache,
}

pub(crate) fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// Common first checks for a bearer token sent to a remote checker.
pub(crate) fn check_token_shape(token: &str, max_bytes: usize) -> Result<(), VerifyError> {
    if token.is_empty() {
        return Err(VerifyError::malformed("token is empty"));
    }
    if token.len() > max_bytes {
        return Err(VerifyError::malformed(format!("token is {} bytes; the limit is {max_bytes}", token.len())));
    }
    // RFC 6750 §2.1 b64token characters only.
    let ok = token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b));
    if !ok {
        return Err(VerifyError::malformed("token contains characters not allowed in a bearer token"));
    }
    Ok(())
}

impl Introspector {
    pub fn new(config: IntrospectorConfig) -> Result<Self, ConfigError> {
        let url = http::endpoint(&config.url, "url")?;
        if config.client_id.is_empty() {
            return Err(ConfigError::new("client_id: must not be empty"));
        }
        let http = HttpClient::new(&config.http)?;
        let cache = TokenCache::new(config.cache_capacity);
        Ok(Introspector { config, url, http, cache })
    }

    /// Introspect `token`; the claims of an active token, or why it is refused.
    pub fn introspect(&self, token: &str) -> Result<Arc<Map<String, Value>>, VerifyError> {
        check_token_shape(token, self.config.max_token_bytes)?;
        if let Some(hit) = self.cache.get(token) {
            return Ok(hit);
        }
        let mut form = vec![("token", token)];
        if let Some(hint) = &self.config.token_type_hint {
            form.push(("token_type_hint", hint));
        }
        let resp = self
            .http
            .post_form(&self.url, &form, Some((&self.config.client_id, &self.config.client_secret)))
            .map_err(|e| VerifyError::unavailable(format!("introspection failed: {e}")))?;
        if resp.status != 200 {
            return Err(VerifyError::unavailable(format!("introspection endpoint answered HTTP {}", resp.status)));
        }
        let answer = strict_json::parse_object(&resp.body).map_err(|e| VerifyError::unavailable(format!("introspection answer is not a JSON object: {e}")))?;
        // RFC 7662 §2.2: only a boolean `true` means active.
        if answer.get("active") != Some(&Value::Bool(true)) {
            return Err(VerifyError::new(ErrorKind::Inactive, "token is not active"));
        }
        let now = now_secs();
        let exp = match answer.get("exp") {
            None => None,
            Some(Value::Number(n)) => n.as_f64(),
            Some(_) => return Err(VerifyError::claims("introspection \"exp\" must be a number")),
        };
        if exp.is_some_and(|e| e <= now) {
            return Err(VerifyError::new(ErrorKind::Expired, "token has expired"));
        }
        if let Some(want) = &self.config.issuer {
            if answer.get("iss").and_then(Value::as_str) != Some(want.as_str()) {
                return Err(VerifyError::claims("introspection \"iss\" does not match the expected issuer"));
            }
        }
        if let Some(want) = &self.config.audience {
            let found = match answer.get("aud") {
                Some(Value::String(s)) => want.contains(s),
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).any(|s| want.iter().any(|w| w == s)),
                _ => false,
            };
            if !found {
                return Err(VerifyError::claims("introspection \"aud\" does not contain the expected audience"));
            }
        }
        let claims = Arc::new(answer);
        let until_exp = exp.map_or(self.config.max_cache, |e| Duration::from_secs_f64((e - now).max(0.0)));
        self.cache.put(token, claims.clone(), until_exp.min(self.config.max_cache));
        Ok(claims)
    }

    pub fn cached_entries(&self) -> usize {
        self.cache.len()
    }
}

//! OAuth2 tokeninfo as used by STUPS/Zalando resource servers:
//! `GET {url}?access_token=...` answers `uid`, `scope` (array), `realm`, `expires_in`.
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use serde_json::{Map, Value};

use super::error::{ConfigError, ErrorKind, VerifyError};
use super::http::{self, HttpClient, HttpOptions};
use super::introspect::check_token_shape;
use super::strict_json;
use super::token_cache::TokenCache;

#[derive(Debug, Clone)]
pub struct TokenInfoConfig {
    pub url: String,
    /// Longest time an answer is reused (never past `expires_in`).
    pub max_cache: Duration,
    pub cache_capacity: usize,
    pub max_token_bytes: usize,
    pub http: HttpOptions,
}

impl TokenInfoConfig {
    pub fn new(url: &str) -> Self {
        TokenInfoConfig {
            url: url.to_owned(),
            max_cache: Duration::from_secs(60),
            cache_capacity: 10_000,
            max_token_bytes: 16 * 1024,
            http: HttpOptions::default(),
        }
    }
}

pub struct TokenInfo {
    config: TokenInfoConfig,
    url: Url,
    http: HttpClient,
    cache: TokenCache,
}

impl TokenInfo {
    pub fn new(config: TokenInfoConfig) -> Result<Self, ConfigError> {
        let url = http::endpoint(&config.url, "url")?;
        let http = HttpClient::new(&config.http)?;
        let cache = TokenCache::new(config.cache_capacity);
        Ok(TokenInfo { config, url, http, cache })
    }

    /// Look `token` up; its tokeninfo answer, or why it is refused.
    pub fn check(&self, token: &str) -> Result<Arc<Map<String, Value>>, VerifyError> {
        check_token_shape(token, self.config.max_token_bytes)?;
        if let Some(hit) = self.cache.get(token) {
            return Ok(hit);
        }
        let mut url = self.url.clone();
        url.query_pairs_mut().append_pair("access_token", token);
        let resp = self.http.get(&url).map_err(|e| VerifyError::unavailable(format!("tokeninfo failed: {e}")))?;
        match resp.status {
            200 => {}
            400 | 401 | 403 | 404 => {
                let why = strict_json::parse_object(&resp.body)
                    .ok()
                    .and_then(|m| m.get("error_description").or_else(|| m.get("error")).and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_else(|| format!("HTTP {}", resp.status));
                return Err(VerifyError::new(ErrorKind::Inactive, format!("token is not valid: {why}")));
            }
            s => return Err(VerifyError::unavailable(format!("tokeninfo endpoint answered HTTP {s}"))),
        }
        let answer = strict_json::parse_object(&resp.body).map_err(|e| VerifyError::unavailable(format!("tokeninfo answer is not a JSON object: {e}")))?;
        if !answer.get("uid").is_some_and(Value::is_string) {
            return Err(VerifyError::claims("tokeninfo answer has no string \"uid\""));
        }
        if let Some(scope) = answer.get("scope") {
            if !scope.as_array().is_some_and(|a| a.iter().all(Value::is_string)) {
                return Err(VerifyError::claims("tokeninfo \"scope\" must be an array of strings"));
            }
        }
        let expires_in = match answer.get("expires_in") {
            None => None,
            Some(Value::Number(n)) => n.as_f64(),
            Some(_) => return Err(VerifyError::claims("tokeninfo \"expires_in\" must be a number")),
        };
        if expires_in.is_some_and(|e| e <= 0.0) {
            return Err(VerifyError::new(ErrorKind::Expired, "token has expired"));
        }
        let claims = Arc::new(answer);
        let ttl = expires_in.map_or(self.config.max_cache, |e| Duration::from_secs_f64(e.min(1e9)));
        self.cache.put(token, claims.clone(), ttl.min(self.config.max_cache));
        Ok(claims)
    }

    pub fn cached_entries(&self) -> usize {
        self.cache.len()
    }
}

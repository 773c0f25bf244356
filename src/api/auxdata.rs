//! Cerbos's aux-data JWT key sets: tokens in a `CheckResources` request's `auxData` are verified
//! with the engine's named key sets and their claims become `request.auxData.jwt` in conditions.
use super::TokenVerifier;
use crate::jwt::{ConfigError, KeySet, KeySource, Verifier, VerifierConfig};
use serde_json::{Map, Value as Json};

/// Where one key set comes from.
pub enum KeySetSpec {
    /// JWKS or single-JWK JSON text, or PEM text.
    Local(String),
    /// A JWKS URL, fetched and cached (HTTPS, or HTTP on loopback).
    Remote(String),
}

pub struct KeySets {
    sets: Vec<(String, Verifier)>,
}

impl KeySets {
    pub fn new(specs: Vec<(String, KeySetSpec)>) -> Result<KeySets, ConfigError> {
        let mut sets = Vec::with_capacity(specs.len());
        for (id, spec) in specs {
            let keys = match spec {
                KeySetSpec::Remote(url) => KeySource::from_url(&url),
                KeySetSpec::Local(text) if crate::jwt::keys::is_pem(text.as_bytes()) => {
                    KeySet::from_pem(text.as_bytes(), None).map(|k| KeySource::Static(k.into()))
                }
                KeySetSpec::Local(text) => KeySource::from_jwks_json(&text),
            }
            .map_err(|e| ConfigError::new(format!("jwt_keysets[{id:?}]: {e}")))?;
            let mut config = VerifierConfig::new(keys);
            // As Cerbos: signature, `exp`/`nbf`/`iat` when present; no audience or issuer policy.
            config.claims.required = Vec::new();
            config.claims.allow_any_audience = true;
            let verifier = Verifier::new(config).map_err(|e| ConfigError::new(format!("jwt_keysets[{id:?}]: {e}")))?;
            sets.push((id, verifier));
        }
        Ok(KeySets { sets })
    }
}

impl TokenVerifier for KeySets {
    fn verify(&self, token: &str, key_set_id: Option<&str>) -> Result<Map<String, Json>, String> {
        let verifier = match key_set_id.filter(|s| !s.is_empty()) {
            Some(id) => self.sets.iter().find(|(k, _)| k == id).map(|(_, v)| v).ok_or_else(|| format!("keyset not found: {id}"))?,
            None if self.sets.len() == 1 => &self.sets[0].1,
            None => return Err("cannot determine keyset to use: set keySetId (more than one key set is configured)".into()),
        };
        verifier.verify(token).map_err(|e| e.to_string())
    }
}

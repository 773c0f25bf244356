//! The verifier: header checks, key selection bound to `alg`, signature, claims.
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::algorithms::{self, AlgSet};
use super::claims::ClaimRules;
use super::error::{ConfigError, ErrorKind, VerifyError};
pub use super::jwks::FetchMode;
use super::jwks::RemoteKeySet;
use super::keys::{check_algorithm_mix, KeySet, Selection};
use super::token::{self, HeaderRules};

/// Largest leeway accepted: clock skew is bounded, not a way to extend lifetimes.
pub const MAX_LEEWAY_SECS: u64 = 600;

/// Where the verifier's keys come from.
#[derive(Clone)]
pub enum KeySource {
    Static(Arc<KeySet>),
    Remote(RemoteKeySet),
}

impl KeySource {
    /// Keys from a JWKS or single JWK given as JSON text.
    pub fn from_jwks_json(text: &str) -> Result<KeySource, ConfigError> {
        Ok(KeySource::Static(Arc::new(KeySet::from_jwks_json(text)?)))
    }

    /// Keys fetched from a JWKS URL with the default cache policy and HTTP limits.
    pub fn from_url(url: &str) -> Result<KeySource, ConfigError> {
        let url = super::http::endpoint(url, "jwks_url")?;
        let remote = RemoteKeySet::new(super::jwks::JwksSource::Url(url), &super::http::HttpOptions::default(), super::jwks::CachePolicy::default(), None)?;
        Ok(KeySource::Remote(remote))
    }
}

/// Everything a [`Verifier`] checks.
#[derive(Clone)]
pub struct VerifierConfig {
    pub keys: KeySource,
    /// When set, only these algorithms are accepted (still bound per key).
    pub algorithms: Option<AlgSet>,
    pub claims: ClaimRules,
    pub header: HeaderRules,
}

impl VerifierConfig {
    pub fn new(keys: KeySource) -> Self {
        VerifierConfig { keys, algorithms: None, claims: ClaimRules::default(), header: HeaderRules::default() }
    }
}

/// A configured JWT verifier. Thread-safe; share it.
#[derive(Clone)]
pub struct Verifier {
    keys: KeySource,
    algorithms: Option<AlgSet>,
    claims: ClaimRules,
    header: HeaderRules,
}

/// A token whose signature verified, before claim checks.
#[derive(Debug)]
pub struct VerifiedJws {
    pub alg: super::algorithms::Algorithm,
    pub kid: Option<String>,
    pub payload: Vec<u8>,
}

fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

impl Verifier {
    /// Check the configuration and build the verifier.
    pub fn new(config: VerifierConfig) -> Result<Verifier, ConfigError> {
        let VerifierConfig { mut keys, algorithms, claims, header } = config;
        if claims.leeway > MAX_LEEWAY_SECS {
            return Err(ConfigError::new(format!("leeway: {} s is more than the {MAX_LEEWAY_SECS} s allowed", claims.leeway)));
        }
        if header.max_token_bytes == 0 {
            return Err(ConfigError::new("max_token_bytes: must be positive"));
        }
        if let Some(allowed) = algorithms {
            if allowed.is_empty() {
                return Err(ConfigError::new("algorithms: must name at least one algorithm"));
            }
            check_algorithm_mix(allowed)?;
            if let KeySource::Static(set) = &keys {
                let restricted = (**set).clone().restrict(allowed)?;
                if restricted.is_empty() {
                    return Err(ConfigError::new(format!("algorithms: no configured key can verify any of {}", allowed.names())));
                }
                keys = KeySource::Static(Arc::new(restricted));
            }
        }
        if let KeySource::Static(set) = &keys {
            let hmac = set.keys().iter().any(|k| k.algs.iter().any(algorithms::is_hmac));
            let public = set.keys().iter().any(|k| k.algs.iter().any(|a| !algorithms::is_hmac(a)));
            if hmac && public && algorithms.is_none() {
                return Err(ConfigError::new("jwks: mixes HMAC secrets and public keys; pass `algorithms` to choose one kind, or use two verifiers"));
            }
        }
        Ok(Verifier { keys, algorithms, claims, header })
    }

    /// Verify a compact JWT and return its claims. May fetch keys (blocking).
    pub fn verify(&self, token: &str) -> Result<Map<String, Value>, VerifyError> {
        self.verify_with(token, FetchMode::Network)
    }

    /// As [`Verifier::verify`], choosing whether the network may be used.
    pub fn verify_with(&self, token: &str, mode: FetchMode) -> Result<Map<String, Value>, VerifyError> {
        let jws = self.verify_signature(token, mode)?;
        let claims = token::decode_claims_bytes(&jws.payload)?;
        self.claims.check(&claims, now_secs())?;
        Ok(claims)
    }

    /// Check the header and the signature only; the payload is returned undecoded.
    /// Used for JWS test vectors whose payload is not a claims set.
    pub fn verify_signature(&self, token: &str, mode: FetchMode) -> Result<VerifiedJws, VerifyError> {
        let jws = token::parse(token, &self.header)?;
        let alg = jws.header.alg;
        if let Some(allowed) = self.algorithms {
            if !allowed.contains(alg) {
                return Err(VerifyError::alg(format!("algorithm {} is not allowed", algorithms::name(alg))));
            }
        }
        let kid = jws.header.kid.as_deref();
        let fetched;
        let set: &KeySet = match &self.keys {
            KeySource::Static(set) => set,
            KeySource::Remote(remote) => {
                fetched = remote.keys_for(kid, mode)?;
                &fetched
            }
        };
        let key = match set.select(kid) {
            Selection::Found(key) => key,
            Selection::UnknownKid => return Err(VerifyError::unknown_key("no signing key matches the token's kid")),
            Selection::Unusable(why) => return Err(VerifyError::unknown_key(format!("the token's kid names a key that was skipped as unusable: {why}"))),
            Selection::KidRequired => {
                return Err(VerifyError::unknown_key("token has no kid and several signing keys are configured"));
            }
            Selection::Empty => return Err(VerifyError::unavailable("no signing keys are available")),
        };
        // The algorithm is bound to the key: the header only chooses among the key's own.
        if !key.algs.contains(alg) {
            return Err(VerifyError::alg(format!("algorithm {} is not allowed for this key (allowed: {})", algorithms::name(alg), key.algs.names())));
        }
        let signature = token::decode_segment(jws.signature_b64, "signature")?;
        let verifies = key.verify(alg, jws.signing_input.as_bytes(), &signature);
        if !verifies {
            return Err(VerifyError::new(ErrorKind::InvalidSignature, "signature is not valid"));
        }
        let payload = token::decode_segment(jws.payload_b64, "payload")?;
        Ok(VerifiedJws { alg, kid: jws.header.kid, payload })
    }

    /// The remote key set, when keys come from the network.
    pub fn remote_keys(&self) -> Option<&RemoteKeySet> {
        match &self.keys {
            KeySource::Remote(r) => Some(r),
            KeySource::Static(_) => None,
        }
    }

    /// The keys given at construction (`None` for keys fetched from the network).
    pub fn static_keys(&self) -> Option<&KeySet> {
        match &self.keys {
            KeySource::Static(set) => Some(set),
            KeySource::Remote(_) => None,
        }
    }

    pub fn claim_rules(&self) -> &ClaimRules {
        &self.claims
    }
}

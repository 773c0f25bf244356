//! Bearer-token authentication: compact JWS/JWT verification with keys bound to
//! algorithms, JWKS fetching and caching, OIDC discovery, RFC 7662 introspection
//! and STUPS-style tokeninfo. Plain Rust, usable without Python.
//!
//! The usual entry point is [`Verifier`]:
//! ```no_run
//! use _core::jwt::{KeySet, KeySource, Verifier, VerifierConfig};
//! let keys = KeySet::from_jwks_json(r#"{"keys":[]}"#).unwrap();
//! let mut config = VerifierConfig::new(KeySource::Static(keys.into()));
//! config.claims.issuer = Some("https://issuer.example".into());
//! let verifier = Verifier::new(config).unwrap();
//! let claims = verifier.verify("eyJ...").unwrap();
//! ```

pub mod algorithms;
pub mod claims;
pub mod discovery;
pub mod error;
pub mod http;
pub mod introspect;
pub mod jwks;
pub mod keys;
pub mod signature;
pub mod strict_json;
pub mod token;
pub mod token_cache;
pub mod tokeninfo;
pub mod verify;

pub use algorithms::AlgSet;
pub use claims::ClaimRules;
pub use error::{ConfigError, ErrorKind, VerifyError};
pub use http::HttpOptions;

pub use introspect::{Introspector, IntrospectorConfig};
pub use jwks::{CachePolicy, JwksSource, RemoteKeySet};
pub use keys::{Key, KeySet};
pub use tokeninfo::{TokenInfo, TokenInfoConfig};

pub use verify::{FetchMode, KeySource, Verifier, VerifierConfig};

#[cfg(test)]
mod vector_tests;

#[cfg(test)]
mod jwks_tests;

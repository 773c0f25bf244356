//! Error types: `VerifyError` for a token that is refused (or could not be
//! checked), `ConfigError` for a configuration that is refused.
use std::borrow::Cow;

/// Why a token was refused. Each kind maps to one Python exception class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Not a well-formed compact JWS: size, segments, base64url, JSON, duplicate keys.
    Malformed,
    /// A header the verifier will not process: `crit`, `typ`, `cty`, `zip`, `b64`.
    InvalidHeader,
    /// `alg` is missing, `none`, unknown, or not allowed for the selected key.
    UnsupportedAlgorithm,
    /// No configured key matches the token's `kid`.
    UnknownKey,
    /// The signature does not verify.
    InvalidSignature,
    /// `exp` is in the past (beyond the leeway).
    Expired,
    /// `nbf` or `iat` is in the future (beyond the leeway).
    NotYetValid,
    /// A registered or expected claim is missing, of the wrong type or value.
    InvalidClaims,
    /// Introspection / tokeninfo said the token is not active.
    Inactive,
    /// Keys or the authorization server could not be reached; the token was not checked.
    Unavailable,
    /// Internal: answering needs a network fetch and the caller asked not to block.
    WouldBlock,
}

/// A refused token: what kind of failure, and a description safe to show the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{description}")]
pub struct VerifyError {
    pub kind: ErrorKind,
    pub description: Cow<'static, str>,
}

impl VerifyError {
    pub fn new(kind: ErrorKind, description: impl Into<Cow<'static, str>>) -> Self {
        VerifyError { kind, description: description.into() }
    }
    pub fn malformed(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Malformed, d)
    }
    pub fn header(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::InvalidHeader, d)
    }
    pub fn alg(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::UnsupportedAlgorithm, d)
    }
    pub fn claims(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::InvalidClaims, d)
    }
    pub fn unknown_key(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::UnknownKey, d)
    }
    pub fn unavailable(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unavailable, d)
    }
    pub(crate) fn would_block() -> Self {
        Self::new(ErrorKind::WouldBlock, "a network fetch is needed")
    }
}

/// A configuration that is refused; the message names the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl ConfigError {
    pub fn new(msg: impl Into<String>) -> Self {
        ConfigError(msg.into())
    }
}

/// A value from a token, a key set or a provider's answer, quoted and escaped as a JSON string:
/// safe in a log line or an error message, whatever characters it holds.
pub fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

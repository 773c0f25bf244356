//! Splitting a compact JWS and checking its protected header.
//!
//! Everything here runs before any key lookup or signature check, so it must
//! be cheap and must not trust anything it reads.
use super::algorithms::Algorithm;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use super::algorithms;
use super::error::VerifyError;
use super::strict_json;

/// Longest `kid` accepted; `kid` is an opaque map key, never a path or query.
pub const MAX_KID_BYTES: usize = 1024;

/// Which `typ` header values are accepted, and how large a token may be.
#[derive(Debug, Clone)]
pub struct HeaderRules {
    /// Normalized (lower-case, without `application/`) accepted `typ` values.
    /// An absent `typ` is always accepted.
    pub allowed_typ: Vec<String>,
    pub max_token_bytes: usize,
}

impl Default for HeaderRules {
    fn default() -> Self {
        HeaderRules { allowed_typ: ["JWT", "at+jwt", "application/at+jwt"].iter().map(|t| normalize_typ(t)).collect(), max_token_bytes: 16 * 1024 }
    }
}

/// RFC 7515 §4.1.9: media types compare case-insensitively and `application/` may be omitted.
pub fn normalize_typ(typ: &str) -> String {
    let lower = typ.to_ascii_lowercase();
    match lower.strip_prefix("application/") {
        Some(rest) => rest.to_owned(),
        None => lower,
    }
}

/// The header members the verifier acts on.
#[derive(Debug, Clone)]
pub struct Header {
    pub alg: Algorithm,
    pub kid: Option<String>,
}

/// A compact JWS split into its parts, with a checked header.
#[derive(Debug)]
pub struct CompactJws<'a> {
    pub header: Header,
    /// `BASE64URL(header) "." BASE64URL(payload)`: the bytes that were signed.
    pub signing_input: &'a str,
    pub payload_b64: &'a str,
    pub signature_b64: &'a str,
}

/// Decode one base64url segment strictly: no padding, no `+/`, no whitespace,
/// no non-canonical trailing bits (RFC 7515 §2).
pub fn decode_segment(segment: &str, what: &'static str) -> Result<Vec<u8>, VerifyError> {
    URL_SAFE_NO_PAD.decode(segment).map_err(|_| VerifyError::malformed(format!("{what} is not valid unpadded base64url")))
}

/// Split `token`, enforce the size limit first, and parse and check the header.
pub fn parse<'a>(token: &'a str, rules: &HeaderRules) -> Result<CompactJws<'a>, VerifyError> {
    if token.len() > rules.max_token_bytes {
        return Err(VerifyError::malformed(format!("token is {} bytes; the limit is {}", token.len(), rules.max_token_bytes)));
    }
    if token.is_empty() {
        return Err(VerifyError::malformed("token is empty"));
    }
    let mut dots = token.match_indices('.').map(|(i, _)| i);
    let (first, second) = match (dots.next(), dots.next(), dots.next()) {
        (Some(a), Some(b), None) => (a, b),
        (Some(_), Some(_), Some(_)) if token.matches('.').count() == 4 => {
            return Err(VerifyError::malformed("token has 5 segments (JWE); only signed JWTs are accepted"));
        }
        _ => {
            let hint = if token.starts_with("Bearer ") || token.starts_with("bearer ") { " (remove the \"Bearer \" prefix)" } else { "" };
            return Err(VerifyError::malformed(format!("token must have 3 dot-separated segments{hint}")));
        }
    };
    let header_b64 = &token[..first];
    let payload_b64 = &token[first + 1..second];
    let signature_b64 = &token[second + 1..];
    if header_b64.is_empty() {
        return Err(VerifyError::malformed("header segment is empty"));
    }
    let header_bytes = decode_segment(header_b64, "header")?;
    let header_json = strict_json::parse_object(&header_bytes).map_err(|e| VerifyError::malformed(format!("header is not a valid JSON object: {e}")))?;
    // Header first, so `alg: none` is reported as such whatever the signature segment holds.
    let header = check_header(&header_json, rules)?;
    // An empty payload is a valid JWS (RFC 7515); it fails later as "not a JSON object".
    if signature_b64.is_empty() {
        return Err(VerifyError::malformed("signature segment is empty"));
    }
    Ok(CompactJws { header, signing_input: &token[..second], payload_b64, signature_b64 })
}

/// Whether `typ` is in `allowed` (normalized), comparing as RFC 7515 §4.1.9 says
/// without allocating: case-insensitive, `application/` optional.
fn typ_allowed(typ: &str, allowed: &[String]) -> bool {
    const PREFIX: &str = "application/";
    let bare = match typ.get(..PREFIX.len()) {
        Some(p) if p.eq_ignore_ascii_case(PREFIX) => &typ[PREFIX.len()..],
        _ => typ,
    };
    allowed.iter().any(|a| a.eq_ignore_ascii_case(bare))
}

fn check_header(h: &Map<String, Value>, rules: &HeaderRules) -> Result<Header, VerifyError> {
    // One pass over the members (headers are small), then the checks in a fixed
    // order so that, e.g., `alg: none` is always reported as such.
    let (mut alg, mut kid, mut typ) = (None, None, None);
    let (mut crit, mut b64, mut cty, mut zip) = (false, None, false, false);
    for (name, value) in h {
        match name.as_str() {
            "alg" => alg = Some(value),
            "kid" => kid = Some(value),
            "typ" => typ = Some(value),
            "crit" => crit = true,
            "b64" => b64 = Some(value),
            "cty" => cty = true,
            "zip" | "enc" => zip = true,
            // `jku`, `x5u`, `jwk`, `x5c` and others are ignored on purpose: keys
            // come only from the configured key set (RFC 8725 §3.10).
            _ => {}
        }
    }
    let alg = match alg {
        None => return Err(VerifyError::alg("header has no \"alg\"")),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("none") => {
            return Err(VerifyError::alg("alg \"none\" is never accepted"));
        }
        Some(Value::String(s)) if s.is_empty() => return Err(VerifyError::alg("header \"alg\" is empty")),
        Some(Value::String(s)) => {
            algorithms::parse(s).ok_or_else(|| VerifyError::alg(format!("unsupported algorithm {}", super::error::quoted(truncate(s, 32)))))?
        }
        Some(_) => return Err(VerifyError::malformed("header \"alg\" is not a string")),
    };
    let kid = match kid {
        None => None,
        Some(Value::String(s)) if s.len() > MAX_KID_BYTES => {
            return Err(VerifyError::malformed(format!("header \"kid\" is longer than {MAX_KID_BYTES} bytes")));
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(VerifyError::malformed("header \"kid\" is not a string")),
    };
    // RFC 7515 §4.1.11: a recipient MUST reject a token whose `crit` lists
    // extensions it does not understand; warden implements none, and an empty
    // or malformed `crit` is invalid too.
    if crit {
        return Err(VerifyError::header("header \"crit\" lists extensions this verifier does not implement"));
    }
    // RFC 7797 unencoded payloads change what is signed; only b64=true is the normal form.
    if b64.is_some_and(|v| v != &Value::Bool(true)) {
        return Err(VerifyError::header("header \"b64\" (unencoded payload) is not accepted"));
    }
    if cty {
        return Err(VerifyError::header("header \"cty\" (nested token) is not accepted"));
    }
    if zip {
        return Err(VerifyError::header("compressed or encrypted tokens (\"zip\"/\"enc\") are not accepted"));
    }
    match typ {
        Some(Value::String(t)) if !typ_allowed(t, &rules.allowed_typ) => {
            return Err(VerifyError::header(format!("header \"typ\" {} is not accepted", super::error::quoted(truncate(t, 64)))));
        }
        Some(Value::String(_)) | None => {}
        Some(_) => return Err(VerifyError::malformed("header \"typ\" is not a string")),
    }
    Ok(Header { alg, kid })
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Parse a decoded payload as a JSON object with no duplicate members.
pub fn decode_claims_bytes(payload: &[u8]) -> Result<Map<String, Value>, VerifyError> {
    strict_json::parse_object(payload).map_err(|e| VerifyError::malformed(format!("payload is not a valid JSON object: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::error::ErrorKind;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }
    fn tok(header: &str) -> String {
        format!("{}.{}.c2ln", b64(header), b64("{}"))
    }
    fn kind(t: &str) -> ErrorKind {
        parse(t, &HeaderRules::default()).unwrap_err().kind
    }

    #[test]
    fn header_rules() {
        assert!(parse(&tok(r#"{"alg":"RS256","kid":"k"}"#), &HeaderRules::default()).is_ok());
        assert_eq!(kind(&tok(r#"{"alg":"none"}"#)), ErrorKind::UnsupportedAlgorithm);
        assert_eq!(kind(&tok(r#"{"alg":"nOnE"}"#)), ErrorKind::UnsupportedAlgorithm);
        assert_eq!(kind(&tok(r#"{"typ":"JWT"}"#)), ErrorKind::UnsupportedAlgorithm);
        assert_eq!(kind(&tok(r#"{"alg":"HS1"}"#)), ErrorKind::UnsupportedAlgorithm);
        assert_eq!(kind(&tok(r#"{"alg":"RS256","crit":[]}"#)), ErrorKind::InvalidHeader);
        assert_eq!(kind(&tok(r#"{"alg":"RS256","typ":"dpop+jwt"}"#)), ErrorKind::InvalidHeader);
        assert!(parse(&tok(r#"{"alg":"RS256","typ":"application/AT+JWT"}"#), &HeaderRules::default()).is_ok());
        assert_eq!(kind(&tok(r#"{"alg":"RS256","cty":"JWT"}"#)), ErrorKind::InvalidHeader);
        assert_eq!(kind(&tok(r#"{"alg":"RS256","kid":7}"#)), ErrorKind::Malformed);
        assert_eq!(kind(&tok(r#"{"alg":"none","alg":"RS256"}"#)), ErrorKind::Malformed);
    }

    #[test]
    fn structure() {
        assert_eq!(kind(""), ErrorKind::Malformed);
        assert_eq!(kind(".."), ErrorKind::Malformed);
        assert_eq!(kind("a.b.c.d.e"), ErrorKind::Malformed);
        let t = tok(r#"{"alg":"RS256"}"#);
        assert_eq!(kind(&format!("Bearer {t}")), ErrorKind::Malformed);
        let padded = format!("{}=.{}", b64(r#"{"alg":"RS256"}"#), "e30.c2ln");
        assert_eq!(kind(&padded), ErrorKind::Malformed);
        let big = "a".repeat(16 * 1024 + 1);
        assert!(parse(&big, &HeaderRules::default()).unwrap_err().description.contains("limit"));
    }
}

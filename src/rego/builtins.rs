//! OPA's `io.jwt.*` built-ins, which regorus 0.14 does not have, registered as regorus
//! extensions and backed by warden's JWT code (`crate::jwt`: key parsing, aws-lc signature
//! checks). Behaviour follows OPA's `v1/topdown/tokens.go`:
//!
//! * `io.jwt.decode(t)` → `[header, payload, signature_hex]` (no verification; nested `cty: JWT`
//!   tokens are decoded recursively).
//! * `io.jwt.verify_<alg>(t, cert_or_secret)` → `true`/`false`. For asymmetric algorithms the key
//!   is a PEM `CERTIFICATE` or `PUBLIC KEY`, a JWK or a JWKS; a header `kid` matching a JWKS key
//!   selects that key, otherwise every key whose `alg` is unset or equals the token's is tried. A
//!   key of the wrong type or a bad signature gives `false`.
//! * `io.jwt.decode_verify(t, constraints)` → `[true, header, payload]` or `[false, {}, {}]`.
//!   Constraints: exactly one of `cert`/`secret`; `alg`, `iss`, `aud` (strings), `time` (ns;
//!   default now). A token with an `aud` claim needs a matching `aud` constraint; `exp`/`nbf`
//!   are checked against `time`. Unknown constraint keys are errors.
//!
//! Errors (malformed tokens or keys, bad argument types) make the call undefined, as OPA does by
//! default (non-strict built-in errors), so a policy denies rather than fails; the message is
//! kept nowhere. Differences from OPA: warden refuses RSA keys under 2048 bits (the call is then
//! undefined), and ES512 is not available (`io.jwt.verify_es512` fails the load as unsupported).
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::jwt::algorithms::Algorithm;
use anyhow::{anyhow, bail, Result};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use regorus::{Engine, Value};
use serde_json::{Map, Value as Json};

use crate::jwt::algorithms;
use crate::jwt::keys::{Key, KeyType};
use crate::jwt::signature::Material;
use crate::jwt::{AlgSet, KeySet};

const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The verify built-ins: name and the algorithm it checks.
const VERIFY: &[(&str, Algorithm)] = &[
    ("io.jwt.verify_rs256", Algorithm::RS256),
    ("io.jwt.verify_rs384", Algorithm::RS384),
    ("io.jwt.verify_rs512", Algorithm::RS512),
    ("io.jwt.verify_ps256", Algorithm::PS256),
    ("io.jwt.verify_ps384", Algorithm::PS384),
    ("io.jwt.verify_ps512", Algorithm::PS512),
    ("io.jwt.verify_es256", Algorithm::ES256),
    ("io.jwt.verify_es384", Algorithm::ES384),
    ("io.jwt.verify_hs256", Algorithm::HS256),
    ("io.jwt.verify_hs384", Algorithm::HS384),
    ("io.jwt.verify_hs512", Algorithm::HS512),
    ("io.jwt.verify_eddsa", Algorithm::EdDSA),
];

/// Names of the extensions `register` adds (for the load-time call check).
pub fn names() -> Vec<&'static str> {
    let mut v = vec!["io.jwt.decode", "io.jwt.decode_verify"];
    v.extend(VERIFY.iter().map(|(n, _)| *n));
    v
}

/// A parsed key with what OPA compares: its `kid` and, for JWKs that name one, its `alg`.
#[derive(Clone)]
struct VKey {
    key: Key,
    kid: Option<String>,
    alg: Option<Algorithm>,
}

/// Parsed keys by their source text: policies pass the same PEM/JWKS string on every decision.
#[derive(Default)]
struct KeyCache {
    map: Mutex<HashMap<String, Arc<Vec<VKey>>>>,
}

const KEY_CACHE_MAX: usize = 256;

impl KeyCache {
    fn get(&self, text: &str) -> Result<Arc<Vec<VKey>>> {
        if let Some(k) = self.map.lock().ok().and_then(|m| m.get(text).cloned()) {
            return Ok(k);
        }
        let keys = Arc::new(parse_keys(text)?);
        if let Ok(mut m) = self.map.lock() {
            if m.len() >= KEY_CACHE_MAX {
                m.clear();
            }
            m.insert(text.to_string(), keys.clone());
        }
        Ok(keys)
    }
}

/// Results of pure built-ins (`io.jwt.decode`, `io.jwt.verify_*`: functions of their arguments
/// only) by argument text: a client sends the same bearer token on every request for its
/// lifetime, so decisions after the first skip base64, JSON and signature work. Bounded; cleared
/// when full. `decode_verify` is not cached (it depends on the clock).
#[derive(Default)]
struct ResultCache {
    map: Mutex<HashMap<String, Value>>,
}

const RESULT_CACHE_MAX: usize = 1024;

impl ResultCache {
    fn get_or(&self, key: String, f: impl FnOnce() -> Result<Value>) -> Result<Value> {
        if let Some(v) = self.map.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(v);
        }
        let v = f()?;
        if let Ok(mut m) = self.map.lock() {
            if m.len() >= RESULT_CACHE_MAX {
                m.clear();
            }
            m.insert(key, v.clone());
        }
        Ok(v)
    }
}

fn b64(part: &str, what: &str) -> Result<Vec<u8>> {
    B64URL.decode(part.as_bytes()).map_err(|e| anyhow!("JWT {what} had invalid encoding: {e}"))
}

struct Token<'a> {
    header_b64: &'a str,
    payload_b64: &'a str,
    signature_b64: &'a str,
}

fn split(token: &str) -> Result<Token<'_>> {
    if !token.contains('.') {
        bail!("encoded JWT had no period separators");
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        bail!("encoded JWT must have 3 sections, found {}", parts.len());
    }
    Ok(Token { header_b64: parts[0], payload_b64: parts[1], signature_b64: parts[2] })
}

fn json_object(bytes: &[u8], what: &str) -> Result<Map<String, Json>> {
    match serde_json::from_slice::<Json>(bytes) {
        Ok(Json::Object(m)) => Ok(m),
        Ok(_) => bail!("JWT {what} must be a JSON object"),
        Err(e) => bail!("JWT {what} is not valid JSON: {e}"),
    }
}

fn header_of(t: &Token<'_>) -> Result<Map<String, Json>> {
    let h = json_object(&b64(t.header_b64, "header")?, "header")?;
    if h.contains_key("enc") {
        bail!("JWT is a JWE object, which is not supported");
    }
    Ok(h)
}

fn str_arg<'a>(v: &'a Value, pos: usize, name: &str) -> Result<&'a str> {
    v.as_string().map(|s| s.as_ref()).map_err(|_| anyhow!("{name}: operand {pos} must be string"))
}

fn to_value(j: Json) -> Value {
    Value::from(j)
}

/// Parse a JSON object straight into a regorus value (the hot path of `io.jwt.decode`).
fn rvalue_object(bytes: &[u8], what: &str) -> Result<Value> {
    let text = std::str::from_utf8(bytes).map_err(|_| anyhow!("JWT {what} is not UTF-8"))?;
    let v = Value::from_json_str(text).map_err(|e| anyhow!("JWT {what} is not valid JSON: {e}"))?;
    if !matches!(v, Value::Object(_)) {
        bail!("JWT {what} must be a JSON object");
    }
    Ok(v)
}

fn field<'a>(obj: &'a Value, name: &str) -> Option<&'a Value> {
    obj.as_object().ok()?.get(&Value::from(name))
}

fn decode(token: &str) -> Result<Value> {
    let t = split(token)?;
    let header = rvalue_object(&b64(t.header_b64, "header")?, "header")?;
    if field(&header, "enc").is_some() {
        bail!("JWT is a JWE object, which is not supported");
    }
    let payload_bytes = b64(t.payload_b64, "payload")?;
    if field(&header, "cty").and_then(|v| v.as_string().ok()).is_some_and(|s| s.as_ref() == "JWT") {
        let inner = String::from_utf8(payload_bytes).map_err(|_| anyhow!("nested JWT is not UTF-8"))?;
        return decode(inner.trim_matches(|c| c == '"' || c == '\''));
    }
    let payload = rvalue_object(&payload_bytes, "payload")?;
    let sig = b64(t.signature_b64, "signature")?;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(sig.len() * 2);
    for b in &sig {
        hex.push(HEX[(b >> 4) as usize] as char);
        hex.push(HEX[(b & 15) as usize] as char);
    }
    Ok(Value::from(vec![header, payload, Value::from(hex)]))
}

// --- keys ------------------------------------------------------------------

/// DER TLV: (tag, content, whole element, rest).
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8], &[u8])> {
    let tag = *b.first()?;
    let l0 = *b.get(1)? as usize;
    let (len, hdr) = if l0 < 0x80 {
        (l0, 2)
    } else {
        let n = l0 & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    if end > b.len() {
        return None;
    }
    Some((tag, &b[hdr..end], &b[..end], &b[end..]))
}

/// The SubjectPublicKeyInfo of an X.509 certificate (DER), as a DER element.
fn certificate_spki(der: &[u8]) -> Option<Vec<u8>> {
    let (0x30, cert, _, _) = tlv(der)? else { return None };
    let (0x30, tbs, _, _) = tlv(cert)? else { return None };
    let mut rest = tbs;
    let (tag, _, _, r) = tlv(rest)?;
    if tag == 0xA0 {
        rest = r; // explicit version
    }
    // serialNumber, signature, issuer, validity, subject
    for _ in 0..5 {
        let (_, _, _, r) = tlv(rest)?;
        rest = r;
    }
    let (0x30, _, spki, _) = tlv(rest)? else { return None };
    Some(spki.to_vec())
}

fn keyset_keys(set: KeySet) -> Vec<VKey> {
    set.keys().iter().map(|k| VKey { key: k.clone(), kid: k.kid.clone(), alg: None }).collect()
}

/// OPA's `getKeysFromCertOrJWK`: a PEM certificate or public key, a JWK, or a JWKS.
fn parse_keys(text: &str) -> Result<Vec<VKey>> {
    let trimmed = text.trim();
    if crate::jwt::keys::is_pem(trimmed.as_bytes()) {
        let parsed = pem::parse(trimmed).map_err(|e| anyhow!("failed to parse a PEM block: {e}"))?;
        let spki_pem = match parsed.tag() {
            "CERTIFICATE" => {
                let spki = certificate_spki(parsed.contents()).ok_or_else(|| anyhow!("failed to parse a PEM certificate"))?;
                pem::encode(&pem::Pem::new("PUBLIC KEY", spki))
            }
            "PUBLIC KEY" | "RSA PUBLIC KEY" => trimmed.to_string(),
            _ => bail!("failed to extract a Key from the PEM certificate"),
        };
        let set = KeySet::from_pem(spki_pem.as_bytes(), None).map_err(|e| anyhow!("{}", e.0))?;
        return Ok(keyset_keys(set));
    }
    let v: Json = serde_json::from_str(trimmed).map_err(|e| anyhow!("failed to parse a JWK key (set): {e}"))?;
    let jwks = match v {
        Json::Object(ref m) if m.contains_key("keys") => v,
        Json::Object(_) => serde_json::json!({ "keys": [v] }),
        _ => bail!("failed to parse a JWK key (set): not a JSON object"),
    };
    let set = KeySet::from_jwks_json(&jwks.to_string()).map_err(|e| anyhow!("{}", e.0))?;
    // A JWK naming an `alg` is bound to it (KeySet did that); OPA then skips it unless the token's
    // alg matches. A key bound to one alg out of a wider family is such a key.
    Ok(set
        .keys()
        .iter()
        .map(|k| {
            let alg = if k.algs.iter().count() == 1 && k.key_type.family().iter().count() > 1 { k.algs.iter().next() } else { None };
            VKey { kid: k.kid.clone(), key: k.clone(), alg }
        })
        .collect())
}

/// HMAC key for any secret length (OPA accepts short secrets; warden's verifier config does not).
fn hmac_key(secret: &[u8], alg: Algorithm) -> Result<Key> {
    Key::new(None, KeyType::Hmac { bytes: secret.len() }, AlgSet::of(&[alg]), Material::Secret(secret.to_vec())).map_err(|e| anyhow!(e))
}

fn verify_with_keys(keys: &[VKey], kid: Option<&str>, header_alg: Option<Algorithm>, alg: Algorithm, msg: &[u8], sig: &[u8]) -> bool {
    if let Some(kid) = kid.filter(|k| !k.is_empty()) {
        if let Some(k) = keys.iter().find(|k| k.kid.as_deref() == Some(kid)) {
            return k.key.verify(alg, msg, sig);
        }
    }
    keys.iter().any(|k| match k.alg {
        None => k.key.verify(alg, msg, sig),
        Some(ka) => header_alg == Some(ka) && k.key.verify(alg, msg, sig),
    })
}

fn verify_builtin(keys: &KeyCache, alg: Algorithm, token: &str, key_text: &str) -> Result<bool> {
    let t = split(token)?;
    let sig = b64(t.signature_b64, "signature")?;
    let header = header_of(&t)?;
    let kid = header.get("kid").and_then(Json::as_str);
    let header_alg = header.get("alg").and_then(Json::as_str).and_then(algorithms::parse);
    let msg = format!("{}.{}", t.header_b64, t.payload_b64);
    if algorithms::is_hmac(alg) {
        return Ok(hmac_key(key_text.as_bytes(), alg)?.verify(alg, msg.as_bytes(), &sig));
    }
    let keys = keys.get(key_text)?;
    Ok(verify_with_keys(&keys, kid, header_alg, alg, msg.as_bytes(), &sig))
}

// --- decode_verify -----------------------------------------------------------

struct Constraints {
    keys: Option<Arc<Vec<VKey>>>,
    secret: Option<String>,
    alg: Option<String>,
    iss: Option<String>,
    aud: Option<String>,
    time_ns: f64,
}

fn constraints(v: &Value, cache: &KeyCache) -> Result<Constraints> {
    let obj = v.as_object().map_err(|_| anyhow!("io.jwt.decode_verify: operand 2 must be object"))?;
    let mut c = Constraints { keys: None, secret: None, alg: None, iss: None, aud: None, time_ns: -1.0 };
    for (k, val) in obj.iter() {
        let name = k.as_string().map(|s| s.to_string()).unwrap_or_else(|_| k.to_string());
        let s = || val.as_string().map(|s| s.to_string()).map_err(|_| anyhow!("{name} constraint: must be a string"));
        match name.as_str() {
            "cert" => c.keys = Some(cache.get(&s()?)?),
            "secret" => c.secret = Some(s()?),
            "alg" => c.alg = Some(s()?),
            "iss" => c.iss = Some(s()?),
            "aud" => c.aud = Some(s()?),
            "time" => {
                // Nanoseconds exceed f64's exact integers; regorus's as_f64 refuses those.
                let t = val
                    .as_i64()
                    .map(|i| i as f64)
                    .or_else(|_| val.as_u64().map(|u| u as f64))
                    .or_else(|_| val.as_f64())
                    .map_err(|_| anyhow!("token time constraint: must be a number"))?;
                if t < 0.0 {
                    bail!("token time constraint: must not be negative");
                }
                c.time_ns = t;
            }
            other => bail!("unknown token validation constraint: {other}"),
        }
    }
    // OPA treats an empty secret as absent.
    if c.secret.as_deref() == Some("") {
        c.secret = None;
    }
    match (c.keys.is_some(), c.secret.is_some()) {
        (true, true) => bail!("duplicate key constraints"),
        (false, false) => bail!("no key constraint"),
        _ => {}
    }
    if c.time_ns < 0.0 {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| anyhow!(e))?;
        c.time_ns = now.as_nanos() as f64;
    }
    Ok(c)
}

fn unverified() -> Value {
    to_value(serde_json::json!([false, {}, {}]))
}

fn decode_verify(token: &str, cons: &Value, cache: &KeyCache) -> Result<Value> {
    let c = constraints(cons, cache)?;
    let mut current = token.to_string();
    let (header, payload_bytes) = loop {
        let t = split(&current)?;
        let header = header_of(&t)?;
        // RFC 7515: alg required; an unknown critical header parameter invalidates the token.
        let Some(alg_name) = header.get("alg").and_then(Json::as_str).map(str::to_owned) else {
            return Ok(unverified());
        };
        if let Some(crit) = header.get("crit") {
            let Some(list) = crit.as_array().filter(|l| !l.is_empty()) else { bail!("crit: must be a nonempty list") };
            let known = ["alg", "kid", "typ", "cty", "crit"];
            if list.iter().any(|c| c.as_str().is_some_and(|n| !known.contains(&n) && header.contains_key(n))) {
                return Ok(unverified());
            }
        }
        if c.alg.as_deref().is_some_and(|a| a != alg_name) {
            return Ok(unverified());
        }
        let sig = b64(t.signature_b64, "signature")?;
        let Some(alg) = algorithms::parse(&alg_name) else { return Ok(unverified()) };
        let msg = format!("{}.{}", t.header_b64, t.payload_b64);
        let ok = if let Some(keys) = &c.keys {
            let kid = header.get("kid").and_then(Json::as_str);
            !algorithms::is_hmac(alg) && verify_with_keys(keys, kid, Some(alg), alg, msg.as_bytes(), &sig)
        } else {
            let secret = c.secret.as_deref().unwrap_or("");
            algorithms::is_hmac(alg) && hmac_key(secret.as_bytes(), alg)?.verify(alg, msg.as_bytes(), &sig)
        };
        if !ok {
            return Ok(unverified());
        }
        let payload_bytes = b64(t.payload_b64, "payload")?;
        if header.get("cty").and_then(Json::as_str).is_some_and(|s| s.eq_ignore_ascii_case("JWT")) {
            current = String::from_utf8(payload_bytes).map_err(|_| anyhow!("nested JWT is not UTF-8"))?;
            continue;
        }
        break (header, payload_bytes);
    };
    let payload = json_object(&payload_bytes, "payload")?;
    if let Some(iss) = &c.iss {
        if payload.get("iss").and_then(Json::as_str) != Some(iss.as_str()) {
            return Ok(unverified());
        }
    }
    match payload.get("aud") {
        Some(aud) => {
            let want = c.aud.as_deref().unwrap_or("");
            let ok = match aud {
                Json::String(s) => s == want,
                Json::Array(a) => a.iter().any(|x| x.as_str() == Some(want)),
                _ => false,
            };
            if !ok {
                return Ok(unverified());
            }
        }
        None if c.aud.is_some() => return Ok(unverified()),
        None => {}
    }
    let now_s = c.time_ns / 1e9;
    if let Some(exp) = payload.get("exp") {
        let exp = exp.as_f64().ok_or_else(|| anyhow!("exp value must be a number"))?;
        if now_s >= exp {
            return Ok(unverified());
        }
    }
    if let Some(nbf) = payload.get("nbf") {
        let nbf = nbf.as_f64().ok_or_else(|| anyhow!("nbf value must be a number"))?;
        if now_s < nbf {
            return Ok(unverified());
        }
    }
    Ok(to_value(Json::Array(vec![Json::Bool(true), Json::Object(header), Json::Object(payload)])))
}

/// Built-in errors make the call undefined (OPA's default, non-strict).
fn lenient(r: Result<Value>) -> Result<Value> {
    Ok(r.unwrap_or(Value::Undefined))
}

pub fn register(engine: &mut Engine) -> Result<()> {
    let cache = Arc::new(KeyCache::default());
    let results = Arc::new(ResultCache::default());
    {
        let results = results.clone();
        engine.add_extension(
            "io.jwt.decode".into(),
            1,
            Box::new(move |args: Vec<Value>| lenient(str_arg(&args[0], 1, "io.jwt.decode").and_then(|t| results.get_or(format!("d\0{t}"), || decode(t))))),
        )?;
    }
    {
        let cache = cache.clone();
        engine.add_extension(
            "io.jwt.decode_verify".into(),
            2,
            Box::new(move |args: Vec<Value>| lenient(str_arg(&args[0], 1, "io.jwt.decode_verify").and_then(|t| decode_verify(t, &args[1], &cache)))),
        )?;
    }
    for (name, alg) in VERIFY {
        let cache = cache.clone();
        let results = results.clone();
        let alg = *alg;
        let name_s: &'static str = name;
        engine.add_extension(
            name.to_string(),
            2,
            Box::new(move |args: Vec<Value>| {
                lenient((|| {
                    let token = str_arg(&args[0], 1, name_s)?;
                    let key = str_arg(&args[1], 2, name_s)?;
                    results.get_or(format!("{name_s}\0{key}\0{token}"), || verify_builtin(&cache, alg, token, key).map(Value::from))
                })())
            }),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_opa_example() {
        // OPA docs' HS256 example token (header {"alg":"HS256","typ":"JWT"}).
        let t = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        let v = serde_json::to_value(decode(t).unwrap()).unwrap();
        assert_eq!(v[0], serde_json::json!({"alg": "HS256", "typ": "JWT"}));
        assert_eq!(v[1]["name"], "John Doe");
        assert_eq!(v[2], "49f94ac7044948c78a285d904f87f0a4c7897f7e8f3a4eb2255fda750b2cc397");
        // the well-known secret of that example
        let keys = KeyCache::default();
        assert!(verify_builtin(&keys, Algorithm::HS256, t, "your-256-bit-secret").unwrap());
        assert!(!verify_builtin(&keys, Algorithm::HS256, t, "other").unwrap());
        assert!(!verify_builtin(&keys, Algorithm::HS384, t, "your-256-bit-secret").unwrap());
        assert!(split("abc").is_err());
        assert!(split("a.b").is_err());
    }

    #[test]
    fn der_walk_refuses_garbage() {
        assert!(certificate_spki(&[0x30, 0x03, 0x02, 0x01]).is_none());
        assert!(tlv(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
    }
}

//! Verification keys and key sets, each key bound to the algorithms it may verify.
//!
//! The binding comes from the JWK's `alg` or, when absent, from the key's type
//! and curve; a token's `alg` header only *selects* among those, so a public key
//! can never be used as an HMAC secret (alg confusion, RFC 8725 §3.1).
use std::collections::HashMap;

use base64::alphabet;
use base64::engine::general_purpose::GeneralPurpose;
use base64::engine::{DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine;

use super::signature::{self, Material, SignatureCheck};
use serde_json::{Map, Value};

use super::algorithms::{self, AlgSet, Algorithm};
use super::error::{quoted, ConfigError};
use super::strict_json;

/// RSA moduli shorter than this are refused (RFC 7518 §3.3, NIST SP 800-131A).
pub const MIN_RSA_BITS: usize = 2048;

/// JWK members are base64url; tolerate padding, which changes nothing signed.
const JWK_B64: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent));

/// What kind of key this is, for binding and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Rsa { bits: usize },
    EcP256,
    EcP384,
    Ed25519,
    Hmac { bytes: usize },
}

impl KeyType {
    /// Algorithms a key of this type may verify when its JWK names no `alg`.
    pub fn family(self) -> AlgSet {
        use Algorithm::*;
        match self {
            KeyType::Rsa { .. } => AlgSet::of(&[RS256, RS384, RS512, PS256, PS384, PS512]),
            KeyType::EcP256 => AlgSet::of(&[ES256]),
            KeyType::EcP384 => AlgSet::of(&[ES384]),
            KeyType::Ed25519 => AlgSet::of(&[EdDSA]),
            KeyType::Hmac { bytes } => {
                let fits: Vec<Algorithm> = [HS256, HS384, HS512].into_iter().filter(|a| bytes >= algorithms::min_hmac_key_len(*a)).collect();
                AlgSet::of(&fits)
            }
        }
    }
}

/// Where a key set came from: a remote JWKS is held to stricter rules
/// (no shared secrets) and unusable keys are skipped rather than refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Local,
    Remote,
}

/// One verification key.
#[derive(Clone)]
pub struct Key {
    pub kid: Option<String>,
    pub key_type: KeyType,
    /// The algorithms this key may verify.
    pub algs: AlgSet,
    /// The key parsed once per allowed algorithm.
    checks: Vec<(Algorithm, SignatureCheck)>,
}

impl Key {
    /// A key bound to `algs`, parsed for each of them now.
    pub fn new(kid: Option<String>, key_type: KeyType, algs: AlgSet, material: Material) -> Result<Key, String> {
        let mut checks = Vec::new();
        for alg in algs.iter() {
            checks.push((alg, signature::prepare(&material, alg)?));
        }
        Ok(Key { kid, key_type, algs, checks })
    }

    /// Verify `signature` over `message` with `alg`; false when `alg` is not bound to this key.
    #[inline]
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        self.checks.iter().find(|(a, _)| *a == alg).is_some_and(|(_, check)| check.verify(message, signature))
    }

    fn restricted(self, algs: AlgSet) -> Key {
        let checks = self.checks.into_iter().filter(|(a, _)| algs.contains(*a)).collect();
        Key { algs, checks, ..self }
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key").field("kid", &self.kid).field("key_type", &self.key_type).field("algs", &self.algs.names()).finish()
    }
}

/// The outcome of choosing a key for a token.
#[derive(Debug)]
pub enum Selection<'a> {
    Found(&'a Key),
    /// The token's `kid` is not in the set.
    UnknownKid,
    /// The token has no `kid` and the set has several keys (no "try every key").
    KidRequired,
    /// The token's `kid` names a key of the set that was skipped as unusable (the reason).
    Unusable(&'a str),
    Empty,
}

/// A set of verification keys, looked up by `kid`.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<Key>,
    by_kid: HashMap<String, usize>,
    /// Keys that were skipped and why (unsupported type, `use: enc`, too weak, ...).
    pub skipped: Vec<String>,
    /// The `kid`s of skipped keys, with why: tokens naming them are refused with the reason.
    unusable: HashMap<String, String>,
}

impl KeySet {
    /// A key set from a JWKS (`{"keys": [...]}`) or a single JWK, given locally. Keys that
    /// cannot be used (malformed, too weak, not meant for signatures, of unsupported types)
    /// are skipped as for a fetched JWKS (listed in `skipped`); the set is refused only when
    /// no usable key remains, with the reasons.
    pub fn from_jwks_json(text: &str) -> Result<KeySet, ConfigError> {
        let value = strict_json::parse_value(text.as_bytes()).map_err(|e| ConfigError::new(format!("jwks: not valid JSON: {e}")))?;
        Self::from_jwks_value(&value, Origin::Local)
    }

    /// A key set from a JWKS document fetched over the network: `oct` keys are
    /// ignored, unusable keys are skipped (and listed in `skipped`).
    pub fn from_remote_jwks(body: &[u8]) -> Result<KeySet, ConfigError> {
        let value = strict_json::parse_value(body).map_err(|e| ConfigError::new(format!("JWKS response is not valid JSON: {e}")))?;
        if !value.get("keys").is_some_and(Value::is_array) {
            return Err(ConfigError::new("JWKS response has no \"keys\" array"));
        }
        Self::from_jwks_value(&value, Origin::Remote)
    }

    /// A key set from a parsed JWKS or single JWK.
    pub fn from_jwks_value(value: &Value, origin: Origin) -> Result<KeySet, ConfigError> {
        let (entries, single): (Vec<&Value>, bool) = match value {
            Value::Object(o) if o.contains_key("keys") => match &o["keys"] {
                Value::Array(a) => (a.iter().collect(), false),
                _ => return Err(ConfigError::new("jwks.keys: must be an array")),
            },
            Value::Object(o) if o.contains_key("kty") => (vec![value], true),
            _ => return Err(ConfigError::new("jwks: must be a JWK set ({\"keys\": [...]}) or a single JWK")),
        };
        let mut set = KeySet::default();
        for (i, entry) in entries.into_iter().enumerate() {
            let field = if single { "jwk".to_owned() } else { format!("jwks.keys[{i}]") };
            let kid = entry.get("kid").and_then(Value::as_str);
            let parsed = match entry {
                Value::Object(obj) => parse_jwk(obj, &field, origin),
                _ => Err(format!("{field}: must be a JSON object")),
            };
            // Identity providers publish legacy keys beside current ones: one unusable key
            // costs only the tokens that name it, from a pasted JWKS as from a fetched one.
            let skipped = match parsed {
                Ok(Parsed::Key(key)) => set.push(key, &field).err(),
                Ok(Parsed::Skip(why)) => Some(why),
                Err(e) => Some(e),
            };
            if let Some(why) = skipped {
                set.skip(kid, why);
            }
        }
        if origin == Origin::Local && set.keys.is_empty() {
            // One key: its own error, which names the field; several: each reason.
            return Err(ConfigError::new(match set.skipped.as_slice() {
                [] => "jwks: no usable signing keys".to_owned(),
                [why] => format!("{why}; no usable signing keys remain"),
                all => format!("jwks: no usable signing keys (skipped: {})", all.join("; ")),
            }));
        }
        Ok(set)
    }

    /// A key set holding one PEM public key (SPKI `PUBLIC KEY` or PKCS#1
    /// `RSA PUBLIC KEY`): RSA, EC P-256/P-384 or Ed25519.
    pub fn from_pem(pem_text: &[u8], kid: Option<&str>) -> Result<KeySet, ConfigError> {
        let key = pem_key(pem_text, kid)?;
        let mut set = KeySet::default();
        set.push(key, "key").map_err(ConfigError::new)?;
        Ok(set)
    }

    /// A key set holding one HMAC secret; refused when shorter than the hash
    /// output of every requested algorithm (RFC 7518 §3.2).
    pub fn from_hmac_secret(secret: &[u8], kid: Option<&str>) -> Result<KeySet, ConfigError> {
        if secret.len() < 32 {
            return Err(ConfigError::new(format!("key: HMAC secret is {} bytes; at least 32 are required (RFC 7518 §3.2)", secret.len())));
        }
        let key_type = KeyType::Hmac { bytes: secret.len() };
        let key = Key::new(kid.map(str::to_owned), key_type, key_type.family(), Material::Secret(secret.to_vec()))
            .map_err(|e| ConfigError::new(format!("key: {e}")))?;
        let mut set = KeySet::default();
        set.push(key, "key").map_err(ConfigError::new)?;
        Ok(set)
    }

    /// Records a key that cannot be used, and why (with its `kid`, when it has one).
    fn skip(&mut self, kid: Option<&str>, why: String) {
        let why = match kid {
            Some(kid) if !why.contains("(kid ") => format!("{why} (kid {})", quoted(kid)),
            _ => why,
        };
        if let Some(kid) = kid {
            if !self.by_kid.contains_key(kid) {
                self.unusable.entry(kid.to_owned()).or_insert_with(|| why.clone());
            }
        }
        self.skipped.push(why);
    }

    fn push(&mut self, key: Key, field: &str) -> Result<(), String> {
        if let Some(kid) = &key.kid {
            if self.by_kid.contains_key(kid) {
                return Err(format!("{field}: duplicate kid {}, the first key with it is kept", quoted(kid)));
            }
            self.by_kid.insert(kid.clone(), self.keys.len());
        }
        self.keys.push(key);
        Ok(())
    }

    /// Keep only `allowed` algorithms on every key; keys left with none are dropped.
    /// Refuses an allow-list that mixes HMAC and public-key algorithms (RFC 8725 §3.1).
    pub fn restrict(self, allowed: AlgSet) -> Result<KeySet, ConfigError> {
        check_algorithm_mix(allowed)?;
        let mut out = KeySet { skipped: self.skipped, unusable: self.unusable, ..KeySet::default() };
        for key in self.keys {
            let algs = key.algs.intersect(allowed);
            if algs.is_empty() {
                let which = key.kid.as_deref().map_or_else(|| "a key without kid".to_owned(), |k| format!("key (kid {})", quoted(k)));
                out.skip(key.kid.as_deref(), format!("{which}: none of its algorithms ({}) is in `algorithms`", key.algs.names()));
                continue;
            }
            out.push(key.restricted(algs), "key").map_err(ConfigError::new)?;
        }
        Ok(out)
    }

    /// Choose the key for a token: by `kid`; without a `kid` only when the set
    /// has exactly one key. A lone key without a `kid` matches any token `kid`.
    pub fn select(&self, kid: Option<&str>) -> Selection<'_> {
        match (kid, self.keys.len()) {
            (Some(kid), 0) if self.unusable.contains_key(kid) => Selection::Unusable(&self.unusable[kid]),
            (_, 0) => Selection::Empty,
            (Some(kid), n) => match self.by_kid.get(kid) {
                Some(&i) => Selection::Found(&self.keys[i]),
                None if self.unusable.contains_key(kid) => Selection::Unusable(&self.unusable[kid]),
                None if n == 1 && self.keys[0].kid.is_none() => Selection::Found(&self.keys[0]),
                None => Selection::UnknownKid,
            },
            (None, 1) => Selection::Found(&self.keys[0]),
            (None, _) => Selection::KidRequired,
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }
    /// Whether any key is an HMAC secret.
    pub fn has_hmac(&self) -> bool {
        self.keys.iter().any(|k| matches!(k.key_type, KeyType::Hmac { .. }))
    }
}

/// Whether key text is PEM (a `-----BEGIN` block, after leading white space) rather than a
/// JWK/JWKS document, an HMAC secret or a path: the one test every reader of key text uses.
pub fn is_pem(text: &[u8]) -> bool {
    text.trim_ascii_start().starts_with(b"-----BEGIN")
}

/// Refuse an algorithm allow-list mixing HMAC with public-key algorithms.
pub fn check_algorithm_mix(allowed: AlgSet) -> Result<(), ConfigError> {
    let hmac: Vec<_> = allowed.iter().filter(|a| algorithms::is_hmac(*a)).collect();
    let public: Vec<_> = allowed.iter().filter(|a| !algorithms::is_hmac(*a)).collect();
    if !hmac.is_empty() && !public.is_empty() {
        return Err(ConfigError::new(format!(
            "algorithms: mixes HMAC ({}) and public-key ({}) algorithms; use one verifier per kind of key",
            algorithms::name(hmac[0]),
            algorithms::name(public[0])
        )));
    }
    Ok(())
}

enum Parsed {
    Key(Key),
    Skip(String),
}

fn str_member<'a>(obj: &'a Map<String, Value>, name: &str, field: &str) -> Result<Option<&'a str>, String> {
    match obj.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{field}.{name}: must be a string")),
    }
}

fn b64_member(obj: &Map<String, Value>, name: &str, field: &str) -> Result<Vec<u8>, String> {
    let s = str_member(obj, name, field)?.ok_or_else(|| format!("{field}.{name}: missing"))?;
    let bytes = JWK_B64.decode(s).map_err(|_| format!("{field}.{name}: not valid base64url"))?;
    if bytes.is_empty() {
        return Err(format!("{field}.{name}: empty"));
    }
    Ok(bytes)
}

fn parse_jwk(obj: &Map<String, Value>, field: &str, origin: Origin) -> Result<Parsed, String> {
    let kty = str_member(obj, "kty", field)?.ok_or_else(|| format!("{field}.kty: missing"))?;
    let kid = str_member(obj, "kid", field)?.map(str::to_owned);
    let label = match &kid {
        Some(k) => format!("{field} (kid {})", quoted(k)),
        None => field.to_owned(),
    };
    // RFC 7517 §4.2-4.3: keys published for encryption must not verify signatures.
    if let Some(u) = str_member(obj, "use", field)? {
        if u != "sig" {
            return Ok(Parsed::Skip(format!("{label}: use {} is not \"sig\"", quoted(u))));
        }
    }
    if let Some(ops) = obj.get("key_ops") {
        let verify = match ops {
            Value::Array(a) => a.iter().any(|o| o == "verify"),
            _ => return Err(format!("{field}.key_ops: must be an array of strings")),
        };
        if !verify {
            return Ok(Parsed::Skip(format!("{label}: key_ops does not include \"verify\"")));
        }
    }
    let declared_alg = str_member(obj, "alg", field)?;
    let (key_type, material) = match kty {
        "RSA" => {
            let n = b64_member(obj, "n", field)?;
            let e = b64_member(obj, "e", field)?;
            let bits = bit_length(&n);
            if bits < MIN_RSA_BITS {
                return Err(format!("{field}.n: RSA key is {bits} bits; at least {MIN_RSA_BITS} are required"));
            }
            (KeyType::Rsa { bits }, Material::Rsa { n, e })
        }
        "EC" => {
            let crv = str_member(obj, "crv", field)?.ok_or_else(|| format!("{field}.crv: missing"))?;
            let (key_type, size) = match crv {
                "P-256" => (KeyType::EcP256, 32),
                "P-384" => (KeyType::EcP384, 48),
                other => return Ok(Parsed::Skip(format!("{label}: EC curve {} is not supported", quoted(other)))),
            };
            let x = b64_member(obj, "x", field)?;
            let y = b64_member(obj, "y", field)?;
            if x.len() != size || y.len() != size {
                return Err(format!("{field}: EC {crv} coordinates must be {size} bytes each"));
            }
            let mut point = Vec::with_capacity(1 + 2 * size);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            (key_type, Material::EcPoint(point))
        }
        "OKP" => {
            let crv = str_member(obj, "crv", field)?.ok_or_else(|| format!("{field}.crv: missing"))?;
            if crv != "Ed25519" {
                return Ok(Parsed::Skip(format!("{label}: OKP curve {} is not supported", quoted(crv))));
            }
            let x = b64_member(obj, "x", field)?;
            if x.len() != 32 {
                return Err(format!("{field}.x: Ed25519 public key must be 32 bytes"));
            }
            (KeyType::Ed25519, Material::Ed25519(x))
        }
        "oct" => {
            if origin == Origin::Remote {
                return Ok(Parsed::Skip(format!("{label}: symmetric (oct) keys from a remote JWKS are ignored")));
            }
            let k = b64_member(obj, "k", field)?;
            let min = declared_alg.and_then(algorithms::parse).map_or(32, algorithms::min_hmac_key_len);
            if k.len() < min {
                return Err(format!("{field}.k: HMAC secret is {} bytes; at least {min} are required (RFC 7518 §3.2)", k.len()));
            }
            (KeyType::Hmac { bytes: k.len() }, Material::Secret(k))
        }
        other => return Ok(Parsed::Skip(format!("{label}: key type {} is not supported", quoted(other)))),
    };
    let family = key_type.family();
    let algs = match declared_alg {
        None => family,
        Some(name) => match algorithms::parse(name) {
            Some(alg) if family.contains(alg) => AlgSet::of(&[alg]),
            Some(alg) => {
                return Err(format!("{field}.alg: {} cannot be used with a {kty} key of this kind", algorithms::name(alg)));
            }
            // An encryption algorithm (RSA-OAEP, ECDH-ES...) or one warden does not implement.
            None => return Ok(Parsed::Skip(format!("{label}: alg {} is not a supported signature algorithm", quoted(name)))),
        },
    };
    // Parsing here also validates the key (e.g. an EC point not on its curve).
    Key::new(kid, key_type, algs, material).map(Parsed::Key).map_err(|e| format!("{field}: {e}"))
}

fn bit_length(big_endian: &[u8]) -> usize {
    match big_endian.iter().position(|b| *b != 0) {
        None => 0,
        Some(i) => (big_endian.len() - i) * 8 - big_endian[i].leading_zeros() as usize,
    }
}

// DER encodings of the AlgorithmIdentifier OIDs in a SubjectPublicKeyInfo.
const OID_RSA: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn pem_key(pem_text: &[u8], kid: Option<&str>) -> Result<Key, ConfigError> {
    let parsed = pem::parse(pem_text).map_err(|e| ConfigError::new(format!("key: not a PEM public key: {e}")))?;
    let der = parsed.contents();
    let kid = kid.map(str::to_owned);
    let rsa = |der: &[u8]| -> Result<Key, ConfigError> {
        let public = aws_lc_rs::rsa::PublicKey::from_der(der).map_err(|e| ConfigError::new(format!("key: invalid RSA public key: {e}")))?;
        let c = aws_lc_rs::rsa::PublicKeyComponents::<Vec<u8>>::from(&public);
        let bits = bit_length(&c.n);
        if bits < MIN_RSA_BITS {
            return Err(ConfigError::new(format!("key: RSA key is {bits} bits; at least {MIN_RSA_BITS} are required")));
        }
        let key_type = KeyType::Rsa { bits };
        Key::new(kid.clone(), key_type, key_type.family(), Material::Rsa { n: c.n, e: c.e }).map_err(|e| ConfigError::new(format!("key: {e}")))
    };
    match parsed.tag() {
        "RSA PUBLIC KEY" => rsa(der),
        "PUBLIC KEY" if contains(der, OID_RSA) => rsa(der),
        "PUBLIC KEY" => {
            let (key_type, point_len) = if contains(der, OID_P256) {
                (KeyType::EcP256, 65)
            } else if contains(der, OID_P384) {
                (KeyType::EcP384, 97)
            } else if contains(der, OID_ED25519) {
                (KeyType::Ed25519, 32)
            } else {
                return Err(ConfigError::new("key: unsupported public key type (RSA, EC P-256/P-384 and Ed25519 are supported)"));
            };
            // The key is the BIT STRING that ends the SPKI: 0x00 (no unused bits) then the key bytes.
            if der.len() < point_len + 1 || der[der.len() - point_len - 1] != 0 {
                return Err(ConfigError::new("key: malformed SubjectPublicKeyInfo"));
            }
            let raw = &der[der.len() - point_len..];
            let material = match key_type {
                KeyType::Ed25519 => Material::Ed25519(raw.to_vec()),
                _ if raw[0] == 4 => Material::EcPoint(raw.to_vec()),
                _ => return Err(ConfigError::new("key: only uncompressed EC points are supported")),
            };
            Key::new(kid, key_type, key_type.family(), material).map_err(|e| ConfigError::new(format!("key: {e}")))
        }
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => Err(ConfigError::new("key: a private key was given; configure the public key only")),
        other => Err(ConfigError::new(format!("key: unsupported PEM block {}", quoted(other)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";

    fn rsa_jwk(extra: &str) -> String {
        format!(r#"{{"kty":"RSA","n":"{RSA_N}","e":"AQAB"{extra}}}"#)
    }

    #[test]
    fn binds_alg_from_jwk_or_type() {
        let set = KeySet::from_jwks_json(&format!(r#"{{"keys":[{},{}]}}"#, rsa_jwk(r#","kid":"a","alg":"PS256""#), rsa_jwk(r#","kid":"b""#))).unwrap();
        let Selection::Found(a) = set.select(Some("a")) else { panic!() };
        assert_eq!(a.algs.names(), "PS256");
        let Selection::Found(b) = set.select(Some("b")) else { panic!() };
        assert_eq!(b.algs.names(), "RS256, RS384, RS512, PS256, PS384, PS512");
        assert!(matches!(set.select(None), Selection::KidRequired));
        assert!(matches!(set.select(Some("zz")), Selection::UnknownKid));
    }

    #[test]
    fn refuses_weak_and_inconsistent_keys() {
        let short = r#"{"kty":"oct","k":"c2VjcmV0"}"#;
        assert!(KeySet::from_jwks_json(short).unwrap_err().0.contains("jwk.k: HMAC secret is 6 bytes"));
        let rs_on_oct = r#"{"kty":"oct","alg":"RS256","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#;
        assert!(KeySet::from_jwks_json(rs_on_oct).unwrap_err().0.contains("jwk.alg"));
        let small_rsa = r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#;
        assert!(KeySet::from_jwks_json(small_rsa).unwrap_err().0.contains("bits"));
        let dup = format!(r#"{{"keys":[{},{}]}}"#, rsa_jwk(r#","kid":"a""#), rsa_jwk(r#","kid":"a""#));
        let set = KeySet::from_jwks_json(&dup).unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(set.skipped, vec![r#"jwks.keys[1]: duplicate kid "a", the first key with it is kept (kid "a")"#]);
        assert!(KeySet::from_hmac_secret(b"secret", None).is_err());
    }

    #[test]
    fn skips_encryption_keys_and_remote_secrets() {
        let enc = format!(r#"{{"keys":[{},{}]}}"#, rsa_jwk(r#","kid":"e","use":"enc""#), rsa_jwk(r#","kid":"s","use":"sig""#));
        let set = KeySet::from_jwks_json(&enc).unwrap();
        assert_eq!(set.len(), 1);
        assert!(matches!(set.select(Some("e")), Selection::Unusable(w) if w.contains("use \"enc\" is not \"sig\"")));
        let only_enc = format!(r#"{{"keys":[{}]}}"#, rsa_jwk(r#","use":"enc""#));
        assert!(KeySet::from_jwks_json(&only_enc).unwrap_err().0.contains("no usable signing keys"));
        let remote = br#"{"keys":[{"kty":"oct","kid":"h","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}"#;
        let set = KeySet::from_remote_jwks(remote).unwrap();
        assert!(set.is_empty() && set.skipped[0].contains("oct"));
    }

    #[test]
    fn a_weak_key_in_a_given_set_is_skipped_and_tokens_naming_it_refused() {
        let weak = r#"{"kty":"RSA","kid":"legacy","n":"AQAB","e":"AQAB"}"#;
        let set = KeySet::from_jwks_json(&format!(r#"{{"keys":[{weak},{}]}}"#, rsa_jwk(r#","kid":"current""#))).unwrap();
        assert_eq!(set.len(), 1);
        assert!(matches!(set.select(Some("current")), Selection::Found(_)));
        let why = r#"jwks.keys[0].n: RSA key is 17 bits; at least 2048 are required (kid "legacy")"#;
        assert_eq!(set.skipped, vec![why]);
        assert!(matches!(set.select(Some("legacy")), Selection::Unusable(w) if w == why));
        // The same set from the network behaves the same way.
        let remote = KeySet::from_remote_jwks(format!(r#"{{"keys":[{weak},{}]}}"#, rsa_jwk(r#","kid":"current""#)).as_bytes()).unwrap();
        assert_eq!(remote.skipped, set.skipped);
        // Only weak keys: nothing usable remains, refused with the reasons.
        let err = KeySet::from_jwks_json(&format!(r#"{{"keys":[{weak}]}}"#)).unwrap_err().0;
        assert_eq!(err, format!("{why}; no usable signing keys remain"));
        let err = KeySet::from_jwks_json(&format!(r#"{{"keys":[{weak},{weak}]}}"#)).unwrap_err().0;
        assert!(err.starts_with(&format!("jwks: no usable signing keys (skipped: {why}; jwks.keys[1].n")), "{err}");
    }

    #[test]
    fn messages_name_keys_in_words() {
        let set = KeySet::from_jwks_json(&format!(r#"{{"keys":[{},{}]}}"#, rsa_jwk(r#","kid":"rsa1-ps","alg":"PS256""#), rsa_jwk(""))).unwrap();
        let set = set.restrict(AlgSet::of(&[Algorithm::ES256])).unwrap();
        assert_eq!(
            set.skipped,
            vec![
                r#"key (kid "rsa1-ps"): none of its algorithms (PS256) is in `algorithms`"#,
                "a key without kid: none of its algorithms (RS256, RS384, RS512, PS256, PS384, PS512) is in `algorithms`",
            ]
        );
        let odd = KeySet::from_jwks_json(&format!(r#"{{"keys":[{{"kty":"EC","crv":"P-521\n","kid":"k"}},{}]}}"#, rsa_jwk(""))).unwrap();
        assert_eq!(odd.skipped, vec![r#"jwks.keys[0] (kid "k"): EC curve "P-521\n" is not supported"#]);
    }

    #[test]
    fn pem_is_told_from_other_key_text_in_one_place() {
        assert!(is_pem(b"-----BEGIN PUBLIC KEY-----\n"));
        assert!(is_pem(b" \n\t-----BEGIN CERTIFICATE-----"));
        assert!(!is_pem(br#"{"keys": []}"#));
        assert!(!is_pem(b"a-32-byte-hmac-secret-----BEGIN"));
    }

    /// Signatures are checked with aws-lc directly; jsonwebtoken is only the tests' reference.
    #[test]
    fn jsonwebtoken_is_a_test_dependency_only() {
        let manifest = include_str!("../../Cargo.toml");
        let (runtime, dev) = manifest.split_once("[dev-dependencies]").unwrap();
        assert!(!runtime.contains("jsonwebtoken ="));
        assert!(dev.contains("jsonwebtoken ="));
    }

    #[test]
    fn refuses_mixed_algorithm_lists() {
        let set = KeySet::from_jwks_json(&rsa_jwk("")).unwrap();
        let err = set.restrict(AlgSet::of(&[Algorithm::HS256, Algorithm::RS256])).unwrap_err();
        assert!(err.0.starts_with("algorithms: mixes HMAC"));
    }
}

//! Signature checks with keys parsed once, at configuration.
//!
//! These are the aws-lc primitives `jsonwebtoken`'s `aws_lc_rs` backend uses
//! (same algorithms and parameters), but `jsonwebtoken::crypto::verify` clones
//! the key and re-parses it (RSA modulus, EC point) on every call; keeping the
//! parsed key removes that from the per-token cost. The vector tests check that
//! both paths give the same answers.
use super::algorithms::Algorithm;
use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self as sig, ParsedPublicKey, VerificationAlgorithm};

/// A key prepared for one algorithm.
#[derive(Clone)]
pub enum SignatureCheck {
    Hmac(Box<hmac::Key>),
    Public(ParsedPublicKey),
}

impl SignatureCheck {
    /// Whether `signature` is valid for `message` (constant-time for HMAC).
    #[inline]
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            SignatureCheck::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
            SignatureCheck::Public(key) => key.verify_sig(message, signature).is_ok(),
        }
    }
}

/// The raw key material a check is built from.
pub enum Material {
    /// Big-endian modulus and exponent.
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// Uncompressed SEC1 point `04 || x || y`.
    EcPoint(Vec<u8>),
    /// 32-byte Ed25519 public key.
    Ed25519(Vec<u8>),
    Secret(Vec<u8>),
}

fn public_algorithm(alg: Algorithm) -> Option<&'static dyn VerificationAlgorithm> {
    Some(match alg {
        Algorithm::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
        Algorithm::ES256 => &sig::ECDSA_P256_SHA256_FIXED,
        Algorithm::ES384 => &sig::ECDSA_P384_SHA384_FIXED,
        Algorithm::EdDSA => &sig::ED25519,
        _ => return None,
    })
}

fn hmac_algorithm(alg: Algorithm) -> Option<hmac::Algorithm> {
    match alg {
        Algorithm::HS256 => Some(hmac::HMAC_SHA256),
        Algorithm::HS384 => Some(hmac::HMAC_SHA384),
        Algorithm::HS512 => Some(hmac::HMAC_SHA512),
        _ => None,
    }
}

/// DER length octets.
fn der_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn der_uint(value: &[u8], out: &mut Vec<u8>) {
    let trimmed = &value[value.iter().take_while(|b| **b == 0).count().min(value.len().saturating_sub(1))..];
    let pad = trimmed.first().is_some_and(|b| b & 0x80 != 0);
    out.push(0x02);
    der_len(trimmed.len() + pad as usize, out);
    if pad {
        out.push(0);
    }
    out.extend_from_slice(trimmed);
}

/// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    der_uint(n, &mut body);
    der_uint(e, &mut body);
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(0x30);
    der_len(body.len(), &mut out);
    out.extend_from_slice(&body);
    out
}

/// Prepare `material` for `alg`; an error says why the key cannot be used.
pub fn prepare(material: &Material, alg: Algorithm) -> Result<SignatureCheck, String> {
    if let Some(h) = hmac_algorithm(alg) {
        return match material {
            Material::Secret(secret) => Ok(SignatureCheck::Hmac(Box::new(hmac::Key::new(h, secret)))),
            _ => Err("an HMAC algorithm needs a secret key".to_owned()),
        };
    }
    let verification = public_algorithm(alg).ok_or_else(|| "unsupported algorithm".to_owned())?;
    let parsed = match material {
        Material::Rsa { n, e } => ParsedPublicKey::new(verification, rsa_public_key_der(n, e)),
        Material::EcPoint(point) => ParsedPublicKey::new(verification, point),
        Material::Ed25519(x) => ParsedPublicKey::new(verification, x),
        Material::Secret(_) => return Err("a public-key algorithm cannot use a secret".to_owned()),
    };
    parsed.map(SignatureCheck::Public).map_err(|e| format!("key rejected: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_integers() {
        let mut out = Vec::new();
        der_uint(&[0x00, 0x00, 0x80], &mut out);
        assert_eq!(out, [0x02, 0x02, 0x00, 0x80]);
        out.clear();
        der_uint(&[0x01, 0x00, 0x01], &mut out);
        assert_eq!(out, [0x02, 0x03, 0x01, 0x00, 0x01]);
        let mut long = Vec::new();
        der_len(300, &mut long);
        assert_eq!(long, [0x82, 0x01, 0x2c]);
    }
}

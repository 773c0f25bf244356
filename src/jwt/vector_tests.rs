//! Published JOSE test vectors (`jwt/vectors` in the shared test data, read in place; see SOURCE.md there):
//! RFC 7515 Appendix A, RFC 7520 / RFC 8037 cookbook, Wycheproof JWS.
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use super::keys::{KeySet, Origin};
use super::verify::{FetchMode, KeySource, Verifier, VerifierConfig};

fn vectors() -> Option<PathBuf> {
    crate::shared_data::shared_data("jwt/vectors")
}

/// A vector file, or `None` (the test returns early) without the shared data.
fn load(rel: &str) -> Option<Value> {
    let text = std::fs::read_to_string(vectors()?.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    Some(serde_json::from_str(&text).unwrap())
}

/// A verifier for `jwk` (public members only), or the configuration error.
fn verifier_for(jwk: &Value) -> Result<Verifier, String> {
    if !jwk.is_object() {
        return Err("no single key".into());
    }
    let mut public = jwk.clone();
    if public["kty"] != "oct" {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            public.as_object_mut().unwrap().remove(private);
        }
    }
    let set = KeySet::from_jwks_value(&public, Origin::Local).map_err(|e| e.0)?;
    Verifier::new(VerifierConfig::new(KeySource::Static(Arc::new(set)))).map_err(|e| e.0)
}

fn check(v: &Verifier, token: &str) -> Result<Vec<u8>, String> {
    v.verify_signature(token, FetchMode::Network).map(|j| j.payload).map_err(|e| format!("{:?}: {}", e.kind, e.description))
}

#[test]
fn rfc7515_appendix_a() {
    let Some(doc) = load("rfc7515_appendix_a.json") else { return };
    for vector in doc["vectors"].as_array().unwrap() {
        let name = vector["name"].as_str().unwrap();
        let compact = vector["compact"].as_str().unwrap();
        let outcome = match verifier_for(&vector["key_jwk"]) {
            Ok(v) => check(&v, compact),
            Err(e) => Err(format!("config: {e}")),
        };
        match (vector["alg"].as_str(), vector["expected"].as_str().unwrap()) {
            // A.4 is ES512 (P-521), which warden does not implement: refused, never accepted.
            (Some("ES512"), _) => assert!(outcome.is_err(), "{name}"),
            (_, e) if e.starts_with("valid") => assert_eq!(outcome.unwrap(), vector["payload_utf8"].as_str().unwrap().as_bytes(), "{name}"),
            (_, _) => assert!(outcome.is_err(), "{name} must be rejected"),
        }
    }
}

#[test]
fn rfc7520_cookbook_and_rfc8037() {
    let Some(dir) = vectors().map(|v| v.join("rfc7520")) else { return };
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_str().unwrap().to_owned();
        if !file.starts_with("jws_") && !file.starts_with("curve25519") && !file.starts_with("rfc7797") {
            continue;
        }
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let key = if doc["input"]["key"].is_object() { &doc["input"]["key"] } else { &doc["input"]["jwk"] };
        let alg = doc["input"]["alg"].as_str().unwrap_or("");
        let verifier = verifier_for(key);
        let compact = doc["output"]["compact"].as_str();
        // Detached-payload and JSON-serialization examples must never verify as bearer tokens.
        for form in ["json", "json_flat"] {
            if let (Some(json), Ok(v)) = (doc["output"][form].as_object(), &verifier) {
                assert!(check(v, &Value::Object(json.clone()).to_string()).is_err(), "{file} {form}");
            }
        }
        let Some(compact) = compact else { continue };
        let outcome = verifier.clone().and_then(|v| check(&v, compact));
        let must_accept = matches!(file.as_str(), f if f.starts_with("jws_4_1") || f.starts_with("jws_4_2") || f.starts_with("jws_4_4") || f.starts_with("jws_4_7") || f.starts_with("curve25519"));
        if must_accept {
            let payload = outcome.unwrap_or_else(|e| panic!("{file} ({alg}): {e}"));
            assert!(!payload.is_empty(), "{file}");
        } else {
            // ES512 (4.3), detached payload (4.5), unprotected header (4.6), b64:false (RFC 7797).
            assert!(outcome.is_err(), "{file} ({alg}) must be rejected");
        }
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} cookbook files checked");
}

#[test]
fn wycheproof_jws() {
    // Where warden's answer differs from Wycheproof's, on purpose:
    let deviations: &[(u64, bool, &str)] = &[
        // RFC 7520 Figure 20 signs PS384 with a key whose JWK says alg PS256: warden
        // binds the algorithm to the JWK's `alg` (ATTACKS.md A3), so it refuses.
        (346, false, "alg bound to the JWK"),
        (350, false, "alg bound to the JWK"),
        // ES512 / P-521 is not implemented (jsonwebtoken 11): refused (ATTACKS.md A4).
        (347, false, "ES512 unsupported"),
        (351, false, "ES512 unsupported"),
        // A '?' inside a segment: Wycheproof's reference decoder skips it; RFC 7515 §2
        // base64url has no such character, so warden refuses (ATTACKS.md E1).
        (372, false, "strict base64url"),
        (373, false, "strict base64url"),
        // These two are byte-for-byte the valid tc357 (their padding was lost
        // upstream), so a correct verifier accepts them.
        (367, true, "identical to tc357"),
        (370, true, "identical to tc357"),
    ];
    let Some(doc) = load("wycheproof/json_web_signature_test.json") else { return };
    let mut counts = [0usize; 3];
    let mut failures = Vec::new();
    for group in doc["testGroups"].as_array().unwrap() {
        let jwk = if group["public"].is_object() { &group["public"] } else { &group["private"] };
        let verifier = verifier_for(jwk);
        for test in group["tests"].as_array().unwrap() {
            let id = &test["tcId"];
            let token = match &test["jws"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let outcome = verifier.clone().and_then(|v| check(&v, &token));
            let mut result = test["result"].as_str().unwrap();
            if let Some((_, accept, _)) = deviations.iter().find(|d| Some(d.0) == id.as_u64()) {
                result = if *accept { "valid" } else { "invalid" };
            }
            match (result, &outcome) {
                ("valid", Ok(_)) => counts[0] += 1,
                ("invalid", Err(_)) => counts[1] += 1,
                ("acceptable", _) => counts[2] += 1,
                _ => failures.push(format!("tc{id} {} ({result}): {:?}", test["comment"], outcome.map(|p| String::from_utf8_lossy(&p).into_owned()))),
            }
        }
    }
    assert!(failures.is_empty(), "{} Wycheproof JWS failures:\n{}", failures.len(), failures.join("\n"));
    assert!(counts[0] > 0 && counts[1] > 300, "{counts:?}");
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// Primitive-level Wycheproof vectors through the same keys and crypto calls the
/// verifier uses (PEM keys via `KeySet::from_pem`): psychic ECDSA signatures,
/// DER/length mutations, Ed25519 S >= L, PKCS#1 and PSS padding mutations.
#[test]
fn wycheproof_primitives() {
    use crate::jwt::algorithms::{self, Algorithm};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use jsonwebtoken::DecodingKey;
    let files = [
        ("ecdsa_secp256r1_sha256_p1363_test.json", Algorithm::ES256),
        ("ecdsa_secp384r1_sha384_p1363_test.json", Algorithm::ES384),
        ("ed25519_test.json", Algorithm::EdDSA),
        ("rsa_signature_2048_sha256_test.json", Algorithm::RS256),
        ("rsa_pss_2048_sha256_mgf1_32_test.json", Algorithm::PS256),
        ("hmac_sha256_test.json", Algorithm::HS256),
    ];
    let mut failures = Vec::new();
    let mut checked = 0;
    for (file, alg) in files {
        let Some(doc) = load(&format!("wycheproof/{file}")) else { return };
        for group in doc["testGroups"].as_array().unwrap() {
            if alg == Algorithm::HS256 && (group["tagSize"] != 256 || group["keySize"].as_u64().unwrap() < 256) {
                continue; // truncated tags and short keys are refused at configuration
            }
            let pem = group["publicKeyPem"].as_str().unwrap_or_default().as_bytes();
            // jsonwebtoken's own key for the same material: the reference to compare with.
            let reference_key = match alg {
                Algorithm::HS256 => None,
                Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem).ok(),
                Algorithm::EdDSA => DecodingKey::from_ed_pem(pem).ok(),
                _ => DecodingKey::from_rsa_pem(pem).ok(),
            };
            let key = if alg == Algorithm::HS256 {
                None
            } else {
                match KeySet::from_pem(group["publicKeyPem"].as_str().unwrap().as_bytes(), None) {
                    Ok(set) => Some(set),
                    Err(e) => {
                        let must_fail = group["tests"].as_array().unwrap().iter().all(|t| t["result"] != "valid");
                        assert!(must_fail, "{file}: key refused ({e}) but it has valid tests");
                        continue;
                    }
                }
            };
            for test in group["tests"].as_array().unwrap() {
                let msg = hex(test["msg"].as_str().unwrap());
                let hmac_set;
                let (sig, set) = match &key {
                    Some(set) => (hex(test["sig"].as_str().unwrap()), set),
                    None => {
                        hmac_set = KeySet::from_hmac_secret(&hex(test["key"].as_str().unwrap()), None).unwrap();
                        (hex(test["tag"].as_str().unwrap()), &hmac_set)
                    }
                };
                let key = &set.keys()[0];
                // warden's pre-parsed check and jsonwebtoken's aws_lc_rs backend must agree.
                let ok = key.verify(alg, &msg, &sig);
                let reference_alg: jsonwebtoken::Algorithm = algorithms::name(alg).parse().unwrap();
                let reference = match &reference_key {
                    Some(k) => jsonwebtoken::crypto::verify(&URL_SAFE_NO_PAD.encode(&sig), &msg, k, reference_alg).unwrap_or(false),
                    None => jsonwebtoken::crypto::verify(
                        &URL_SAFE_NO_PAD.encode(&sig),
                        &msg,
                        &DecodingKey::from_secret(&hex(test["key"].as_str().unwrap())),
                        reference_alg,
                    )
                    .unwrap_or(false),
                };
                let result = test["result"].as_str().unwrap();
                checked += 1;
                if ok != reference || (result == "valid" && !ok) || (result == "invalid" && ok) {
                    failures.push(format!("{file} tc{} {} ({result}): accepted={ok} jsonwebtoken={reference}", test["tcId"], test["comment"]));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert!(checked > 1000, "{checked}");
}

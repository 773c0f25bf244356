//! What each fuzz target does with one input, shared by the `cargo fuzz` targets (`fuzz/`) and by
//! `cargo test`, which replays the committed corpora (`fuzz/corpus/<target>/`) through the same
//! functions. Each function takes any bytes and must return: an error or a decision is fine, a
//! panic, an abort, a stack overflow or a hang is a finding.
//!
//! Inputs are text with a small framing, so that the corpora stay readable and the fuzzer can
//! reach the later stages (evaluation) with inputs that pass the earlier ones (loading):
//! * `policy`: YAML or JSON policy documents, split into files at lines `#%file`.
//! * `cel`: an expression on the first line; the rest, if any, the request as JSON.
//! * `token`: a compact JWS; or, when it has a newline, a JOSE header and a claims set (JSON, one
//!   per line) that are encoded and signed here with the test secret, so that the claim checks are
//!   reached too.
//! * `rego`: Rego policy text; after a line `#%input`, the input document as JSON.
use std::sync::{Arc, LazyLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, FixedOffset};
use serde_json::{json, Value as Json};

use crate::api::plan::PlanResourcesRequest;
use crate::api::{CerbosApi, RequestLimits};
use crate::cel;
use crate::eval::CheckInput;
use crate::jwt::{self, KeySet, KeySource, Verifier, VerifierConfig};
use crate::rego::{self, PolicyText, Rego};
use crate::{Engine, EngineConfig, PolicySource};

/// The targets, named as `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/`.
pub const TARGETS: [(&str, fn(&[u8])); 4] = [("policy", policy), ("cel", cel), ("token", token), ("rego", rego)];

/// Separates policy files in a `policy` input.
const FILE_SEPARATOR: &str = "\n#%file\n";
/// Separates the policy from the input document in a `rego` input.
const INPUT_SEPARATOR: &str = "\n#%input\n";

/// A fixed time, so that a replayed input decides as it did when it was found.
fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z").expect("a valid timestamp")
}

/// Attributes the example policies read, so that their conditions are evaluated, not just refused.
fn principal_json() -> Json {
    json!({
        "id": "u1",
        "roles": ["user", "admin", "employee", "manager"],
        "attr": {"department": "marketing", "geography": "GB", "team": "design", "managed_geographies": "GB", "tags": ["a", "b"], "level": 3}
    })
}

fn resource_json(kind: &str) -> Json {
    json!({
        "kind": kind,
        "id": "r1",
        "attr": {"owner": "u1", "ownerId": "u1", "department": "marketing", "geography": "GB", "status": "PENDING_APPROVAL", "public": true, "tags": ["b", "c"], "amount": 1200.5}
    })
}

const ACTIONS: [&str; 8] = ["read", "view", "create", "update", "delete", "approve", "write", "*"];

/// The values of `resource:` and `principal:` keys in the text (YAML or JSON): the kinds a policy
/// is about.
fn kinds_named_in(text: &str) -> Vec<String> {
    let mut kinds: Vec<String> = ["resource", "principal"]
        .iter()
        .flat_map(|key| text.match_indices(key).map(|(i, _)| &text[i + key.len()..]))
        .filter_map(|rest| {
            let value = rest.trim_start_matches('"').trim_start().strip_prefix(':')?.trim_start();
            let value = value.trim_start_matches(['"', '\'']);
            let end = value.find(['"', '\'', ',', '}', '\n']).unwrap_or(value.len());
            let value = value[..end].trim();
            (!value.is_empty() && value.len() <= 64).then(|| value.to_owned())
        })
        .take(4)
        .collect();
    kinds.push("doc".into());
    kinds
}

/// Policy text → parse → compile; when it loads, decide, explain and plan requests about the kinds
/// it names.
pub fn policy(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let docs: Vec<(String, String)> = text.split(FILE_SEPARATOR).enumerate().map(|(i, t)| (format!("fuzz{i}.yaml"), t.to_owned())).collect();
    let Ok(engine) = Engine::new(PolicySource::Documents(docs), EngineConfig::default()) else { return };
    let api = CerbosApi::new(std::sync::Arc::new(engine), RequestLimits::CERBOS);
    let engine = api.engine();
    for kind in kinds_named_in(&text) {
        let principal = principal_json();
        let resource = resource_json(&kind);
        let check = json!({"principal": principal, "resource": resource, "actions": ACTIONS});
        if let Ok(input) = serde_json::from_value::<CheckInput>(check) {
            let outputs = engine.check(std::slice::from_ref(&input), Some(now()));
            let _ = serde_json::to_string(&outputs[0]);
            let _ = engine.explain(&input, Some(now()));
        }
        let plan = json!({"action": "read", "principal": principal_json(), "resource": {"kind": kind, "attr": {"owner": "u1"}}});
        if let Ok(req) = serde_json::from_value::<PlanResourcesRequest>(plan) {
            if let Ok(resp) = api.plan_resources(&req, Some(now())) {
                let _ = serde_json::to_string(&resp);
            }
        }
    }
}

/// A CEL expression → compile → evaluate against a request (given as JSON, or a fixed one), and
/// the result converted to JSON as rule outputs are.
pub fn cel(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (expr, request) = text.split_once('\n').unwrap_or((&text, ""));
    let Ok(compiled) = cel::compile(expr) else { return };
    let request = serde_json::from_str::<Json>(request).ok().and_then(|r| cel::Request::from_json(&r).ok());
    let request = match request {
        Some(r) => r,
        None => match cel::Request::from_json(&json!({"principal": principal_json(), "resource": resource_json("doc")})) {
            Ok(r) => r,
            Err(e) => unreachable!("the fixed request is valid: {e}"),
        },
    };
    let mut variables = cel::Vars::new();
    variables.insert_json("flag", &json!(true));
    variables.insert_json("names", &json!(["a", "b"]));
    let roles = || Ok(vec!["owner".to_owned()]);
    let activation = cel::Activation::new(&request).with_variables(&variables).with_runtime_fn(&roles).with_now(now());
    if let Ok(value) = cel::eval(&compiled, &activation) {
        let _ = cel::value_to_json(&value);
    }
    let _ = cel::eval_bool(&compiled, &activation);
}

/// The HMAC secret the `token` target's verifier holds.
/// 64 bytes: long enough for HS256, HS384 and HS512 (RFC 7518 §3.2).
pub const TOKEN_SECRET: &[u8] = b"warden-fuzz-secret-of-64-bytes-so-that-every-hmac-alg-accepts-it";
/// What the `token` target's verifier expects of the claims.
pub const TOKEN_ISSUER: &str = "https://issuer.example";
pub const TOKEN_AUDIENCE: &str = "api";

/// A public key (P-256) for the asymmetric path: signatures never verify, parsing them is fuzzed.
const TOKEN_EC_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEF1dHUMF+cBL89LA7FI5TKEBG0c0Q
mhDDZi5VpgA0vK/gN5qlL4Qw+wKr3/q6lBlLIRgKB/3RUNf6wVja+jRA0w==
-----END PUBLIC KEY-----
";

fn verifier(keys: KeySet) -> Verifier {
    let mut config = VerifierConfig::new(KeySource::Static(Arc::new(keys)));
    config.claims.issuer = Some(TOKEN_ISSUER.into());
    config.claims.audience = Some(vec![TOKEN_AUDIENCE.into()]);
    config.claims.expected = vec![("scope".into(), json!("read"))];
    match Verifier::new(config) {
        Ok(v) => v,
        Err(e) => unreachable!("the fixed verifier configuration is valid: {e}"),
    }
}

static VERIFIERS: LazyLock<[Verifier; 2]> = LazyLock::new(|| {
    let hmac = KeySet::from_hmac_secret(TOKEN_SECRET, None);
    let ec = KeySet::from_pem(TOKEN_EC_PUBLIC_PEM.as_bytes(), Some("ec1"));
    match (hmac, ec) {
        (Ok(h), Ok(e)) => [verifier(h), verifier(e)],
        (h, e) => unreachable!("the fixed keys are valid: {:?} {:?}", h.err(), e.err()),
    }
});

/// `header.claims.signature` of a JOSE header and a claims set, signed with [`TOKEN_SECRET`] by
/// the HMAC the header's `alg` names (HS256 when it names another or none).
pub fn sign_with_test_secret(header: &[u8], claims: &[u8]) -> String {
    let alg = serde_json::from_slice::<Json>(header).ok().and_then(|h| h.get("alg").and_then(Json::as_str).map(str::to_owned));
    let hmac = match alg.as_deref() {
        Some("HS384") => aws_lc_rs::hmac::HMAC_SHA384,
        Some("HS512") => aws_lc_rs::hmac::HMAC_SHA512,
        _ => aws_lc_rs::hmac::HMAC_SHA256,
    };
    let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims));
    let tag = aws_lc_rs::hmac::sign(&aws_lc_rs::hmac::Key::new(hmac, TOKEN_SECRET), signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// A token → parse (compact serialization, JOSE header) → signature → claims, with fixed keys.
pub fn token(data: &[u8]) {
    let token = match data.iter().position(|&b| b == b'\n') {
        Some(i) => sign_with_test_secret(&data[..i], &data[i + 1..]),
        None => String::from_utf8_lossy(data).into_owned(),
    };
    for v in VERIFIERS.iter() {
        let _ = v.verify_with(&token, jwt::FetchMode::CacheOnly);
    }
    if let Ok(jws) = jwt::token::parse(&token, &jwt::token::HeaderRules::default()) {
        if let Ok(payload) = jwt::token::decode_segment(jws.payload_b64, "payload") {
            let _ = jwt::token::decode_claims_bytes(&payload);
        }
    }
}

/// Rego policy text → load (parse, checks) → evaluate all of `data` and each package's `allow`
/// for an input (given as JSON, or `{}`).
pub fn rego(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (policy, input) = text.split_once(INPUT_SEPARATOR).unwrap_or((&text, ""));
    let input = serde_json::from_str::<Json>(input).unwrap_or_else(|_| json!({"user": "alice", "roles": ["admin"], "action": "read"}));
    let Ok(set) = Rego::from_policies(vec![PolicyText { name: "fuzz.rego".into(), text: policy.to_owned() }], Vec::new()) else { return };
    let _ = set.eval("data", rego::input_value(input.clone()));
    for package in set.current().packages.clone() {
        let _ = set.allowed(&format!("{package}.allow"), rego::input_value(input.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn corpus_dir(target: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target)
    }

    /// Every committed corpus file (seeds and reproducers of past findings) runs through its
    /// target: an error or a decision, never a panic. A hang shows as this test not finishing.
    #[test]
    fn committed_corpora_replay() {
        for (target, run) in TARGETS {
            let dir = corpus_dir(target);
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).map(|e| e.unwrap().path()).collect();
            files.sort();
            assert!(files.len() >= 10, "{target}: only {} corpus files", files.len());
            for file in files {
                let data = std::fs::read(&file).unwrap();
                run(&data);
            }
        }
    }

    /// Runs `target` on a file of `fuzz/findings/` (reproducers of findings not fixed yet) on its
    /// own thread, and fails if it has not returned within a bound far above any normal input's
    /// time (inputs of this size take milliseconds): a hang, not a speed measurement.
    fn returns_within_bound(target: fn(&[u8]), finding: &str) {
        let data = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(finding)).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            target(&data);
            let _ = tx.send(());
        });
        assert!(rx.recv_timeout(std::time::Duration::from_secs(30)).is_ok(), "{finding} did not return within 30 s");
    }

    /// Found by the `rego` target: the parser backtracked at each unclosed `{` (comprehension,
    /// then set or object), so the time doubled with each level: 16 levels took 17 s, 20 did not
    /// return. Fixed in the vendored regorus parser (`may_be_compr`: an unclosed bracket cannot
    /// start a comprehension).
    #[test]
    fn rego_nested_braces_do_not_hang() {
        returns_within_bound(rego, "rego/timeout-nested-braces");
        returns_within_bound(rego, "rego/timeout-nested-braces-found");
    }

    /// Found by the `rego` target: as above with `[` (14 unclosed levels took 3.4 s).
    #[test]
    fn rego_nested_brackets_do_not_hang() {
        returns_within_bound(rego, "rego/timeout-nested-brackets");
        returns_within_bound(rego, "rego/timeout-nested-brackets-found");
    }

    #[test]
    fn kinds_are_read_from_yaml_and_json() {
        assert_eq!(kinds_named_in("resourcePolicy:\n  resource: \"leave_request\"\n"), ["leave_request", "doc"]);
        assert_eq!(kinds_named_in("{\"principalPolicy\": {\"principal\": \"bob\", \"version\": \"default\"}}"), ["bob", "doc"]);
    }

    /// The `token` framing signs what it is given: a well-formed claims set verifies.
    #[test]
    fn signed_tokens_reach_the_claim_checks() {
        let claims = format!(r#"{{"iss":"{TOKEN_ISSUER}","aud":"{TOKEN_AUDIENCE}","exp":4102444800,"scope":"read"}}"#);
        let token = sign_with_test_secret(br#"{"alg":"HS256","typ":"JWT"}"#, claims.as_bytes());
        let claims = VERIFIERS[0].verify_with(&token, jwt::FetchMode::CacheOnly).unwrap();
        assert_eq!(claims["scope"], "read");
        let token = sign_with_test_secret(br#"{"alg":"HS512"}"#, br#"{"iss":"x","exp":4102444800}"#);
        let err = VERIFIERS[0].verify_with(&token, jwt::FetchMode::CacheOnly).unwrap_err();
        assert!(err.to_string().contains("iss"), "{err}");
    }
}

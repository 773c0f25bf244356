//! The remote JWKS cache policy against a tiny HTTP server on 127.0.0.1
//! (the Python tests cover the same ground through the full API).
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::error::ErrorKind;
use super::http::{endpoint, HttpOptions};
use super::jwks::{CachePolicy, FetchMode, JwksSource, RemoteKeySet};
use super::verify::{KeySource, Verifier, VerifierConfig};

struct Server {
    url: String,
    requests: Arc<AtomicU64>,
    /// 0 = serve the JWKS; otherwise answer this status.
    status: Arc<AtomicU16>,
}

fn serve(jwks: String, max_age: u32) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicU64::new(0));
    let status = Arc::new(AtomicU16::new(0));
    let (r, s) = (requests.clone(), status.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            r.fetch_add(1, Ordering::SeqCst);
            let code = s.load(Ordering::SeqCst);
            let (head, body) =
                if code == 0 { (format!("200 OK\r\ncache-control: max-age={max_age}"), jwks.clone()) } else { (format!("{code} Error"), "{}".to_owned()) };
            let _ = write!(stream, "HTTP/1.1 {head}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
        }
    });
    Server { url, requests, status }
}

fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

fn token(key: &Ed25519KeyPair, kid: &str) -> String {
    let header = b64(format!(r#"{{"alg":"EdDSA","kid":"{kid}"}}"#).as_bytes());
    let payload = b64(br#"{"sub":"u","exp":4102444800}"#);
    let input = format!("{header}.{payload}");
    format!("{input}.{}", b64(key.sign(input.as_bytes()).as_ref()))
}

fn setup(max_age: u32, policy: CachePolicy) -> (Server, Ed25519KeyPair, Verifier) {
    let key = Ed25519KeyPair::generate().unwrap();
    let jwks = format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"{}"}}]}}"#, b64(key.public_key().as_ref()));
    let server = serve(jwks, max_age);
    let http = HttpOptions { timeout: Duration::from_secs(2), ..HttpOptions::default() };
    let source = JwksSource::Url(endpoint(&server.url, "jwks_url").unwrap());
    let remote = RemoteKeySet::new(source, &http, policy, None).unwrap();
    let verifier = Verifier::new(VerifierConfig::new(KeySource::Remote(remote))).unwrap();
    (server, key, verifier)
}

fn test_policy() -> CachePolicy {
    CachePolicy { failure_backoff: Duration::ZERO, ..CachePolicy::default() }
}

#[test]
fn lazy_cached_and_storm_bounded() {
    let (server, key, verifier) = setup(300, test_policy());
    assert_eq!(server.requests.load(Ordering::SeqCst), 0);
    for _ in 0..5 {
        assert_eq!(verifier.verify(&token(&key, "k1")).unwrap()["sub"], "u");
    }
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
    for i in 0..100 {
        let err = verifier.verify(&token(&key, &format!("random-{i}"))).unwrap_err();
        assert_eq!(err.kind, ErrorKind::UnknownKey);
    }
    assert_eq!(server.requests.load(Ordering::SeqCst), 2);
}

#[test]
fn stale_keys_serve_during_an_outage_and_cache_only_mode_never_fetches() {
    let policy = CachePolicy { min_ttl: Duration::ZERO, ..test_policy() };
    let (server, key, verifier) = setup(0, policy);
    let t = token(&key, "k1");
    assert_eq!(verifier.verify_with(&t, FetchMode::CacheOnly).unwrap_err().kind, ErrorKind::WouldBlock);
    assert_eq!(server.requests.load(Ordering::SeqCst), 0);
    verifier.verify(&t).unwrap();
    server.status.store(500, Ordering::SeqCst);
    verifier.verify(&t).unwrap();
    assert_eq!(server.requests.load(Ordering::SeqCst), 2);
    let remote = verifier.remote_keys().unwrap();
    assert!(remote.take_events()[0].contains("HTTP 500"));
    assert!(remote.status().last_error.unwrap().contains("HTTP 500"));
}

#[test]
fn first_fetch_failure_is_retried() {
    let (server, key, verifier) = setup(300, test_policy());
    server.status.store(503, Ordering::SeqCst);
    let t = token(&key, "k1");
    assert_eq!(verifier.verify(&t).unwrap_err().kind, ErrorKind::Unavailable);
    server.status.store(0, Ordering::SeqCst);
    assert!(verifier.verify(&t).is_ok());
    assert_eq!(server.requests.load(Ordering::SeqCst), 2);
}

#[test]
fn refreshes_in_the_background_before_expiry() {
    let policy = CachePolicy { min_ttl: Duration::ZERO, ..test_policy() };
    let (server, key, verifier) = setup(4, policy);
    let t = token(&key, "k1");
    verifier.verify(&t).unwrap();
    // Past 3/4 of the 4 s TTL, a verification starts a refresh and does not wait for it.
    std::thread::sleep(Duration::from_millis(3100));
    verifier.verify_with(&t, FetchMode::CacheOnly).unwrap();
    let remote = verifier.remote_keys().unwrap();
    // Bounded wait for the background fetch to land (the key set gets younger).
    for _ in 0..250 {
        if remote.status().age.unwrap() < Duration::from_millis(2000) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(remote.status().age.unwrap() < Duration::from_millis(2000));
    assert_eq!(server.requests.load(Ordering::SeqCst), 2);
}

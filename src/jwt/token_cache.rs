//! A small bounded cache of remote token checks (introspection, tokeninfo),
//! keyed by SHA-256 of the token so tokens themselves are not kept in memory.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

type Digest = [u8; 32];
type Entry = (Instant, Arc<Map<String, Value>>);

pub struct TokenCache {
    entries: Mutex<HashMap<Digest, Entry>>,
    capacity: usize,
}

fn digest(token: &str) -> Digest {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

impl TokenCache {
    pub fn new(capacity: usize) -> Self {
        TokenCache { entries: Mutex::new(HashMap::new()), capacity }
    }

    pub fn get(&self, token: &str) -> Option<Arc<Map<String, Value>>> {
        if self.capacity == 0 {
            return None;
        }
        let key = digest(token);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(&key) {
            Some((until, claims)) if Instant::now() < *until => Some(claims.clone()),
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, token: &str, claims: Arc<Map<String, Value>>, ttl: Duration) {
        if self.capacity == 0 || ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity {
            entries.retain(|_, (until, _)| now < *until);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(digest(token), (now + ttl, claims));
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

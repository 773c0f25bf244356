//! The signing algorithms warden accepts, and small sets of them.
//!
//! `none` is not representable, so it can never be allowed.

/// A JOSE signature algorithm warden can check (RFC 7518 §3.1 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    HS256,
    HS384,
    HS512,
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
}

/// Every algorithm the verifier can check, in a fixed order (bit positions of [`AlgSet`]).
pub const ALL: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The JOSE name of an algorithm.
pub fn name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::EdDSA => "EdDSA",
    }
}

/// Parse a JOSE algorithm name exactly (case-sensitive, RFC 7515 §4.1.1).
pub fn parse(name_: &str) -> Option<Algorithm> {
    ALL.iter().copied().find(|a| name(*a) == name_)
}

/// Whether `alg` is an HMAC (shared-secret) algorithm.
pub fn is_hmac(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

/// Minimum HMAC key length in bytes: the hash output size (RFC 7518 §3.2).
pub fn min_hmac_key_len(alg: Algorithm) -> usize {
    match alg {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    }
}

fn bit(alg: Algorithm) -> u16 {
    ALL.iter().position(|a| *a == alg).map_or(0, |i| 1 << i)
}

/// A set of algorithms, used to bind algorithms to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlgSet(u16);

impl AlgSet {
    pub const EMPTY: AlgSet = AlgSet(0);

    pub fn of(algs: &[Algorithm]) -> AlgSet {
        AlgSet(algs.iter().fold(0, |acc, a| acc | bit(*a)))
    }
    pub fn contains(self, alg: Algorithm) -> bool {
        self.0 & bit(alg) != 0
    }
    pub fn intersect(self, other: AlgSet) -> AlgSet {
        AlgSet(self.0 & other.0)
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = Algorithm> {
        ALL.into_iter().filter(move |a| self.contains(*a))
    }
    /// Names joined by ", ", for messages.
    pub fn names(self) -> String {
        self.iter().map(name).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_is_exact() {
        assert_eq!(parse("RS256"), Some(Algorithm::RS256));
        assert_eq!(parse("rs256"), None);
        assert_eq!(parse("none"), None);
        assert_eq!(parse("ES512"), None);
        for a in ALL {
            assert_eq!(parse(name(a)), Some(a));
        }
    }

    #[test]
    fn sets() {
        let s = AlgSet::of(&[Algorithm::RS256, Algorithm::PS256]);
        assert!(s.contains(Algorithm::PS256) && !s.contains(Algorithm::HS256));
        assert_eq!(s.names(), "RS256, PS256");
        assert!(s.intersect(AlgSet::of(&[Algorithm::HS256])).is_empty());
    }
}

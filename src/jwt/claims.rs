//! Checks on the registered claims (RFC 7519 §4.1) and on expected claim values.
use serde_json::{Map, Value};

use super::error::{ErrorKind, VerifyError};
use super::strict_json::type_name;

/// Latest `exp`/`nbf`/`iat` accepted: 9999-12-31T23:59:59Z. Bounds absurd
/// values (e.g. a 300-digit number parsed as a float) without guessing lifetimes.
pub const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

/// What the claims of an accepted token must satisfy.
#[derive(Debug, Clone)]
pub struct ClaimRules {
    /// `iss` must equal this exactly.
    pub issuer: Option<String>,
    /// `aud` (string or array of strings) must contain one of these.
    pub audience: Option<Vec<String>>,
    /// Clock skew allowed on `exp`, `nbf`, `iat`, in seconds.
    pub leeway: u64,
    /// Claims that must be present.
    pub required: Vec<String>,
    /// Claims that must be present with exactly this value (e.g. Cognito `token_use`).
    pub expected: Vec<(String, Value)>,
    /// When set, `exp` may be at most this many seconds in the future.
    pub max_lifetime: Option<u64>,
    /// Accept a present `aud` when no `audience` is configured (RFC 7519 says
    /// reject). For Cerbos-compatible aux-data verification, which ignores `aud`.
    pub allow_any_audience: bool,
}

impl Default for ClaimRules {
    fn default() -> Self {
        ClaimRules {
            issuer: None,
            audience: None,
            leeway: 30,
            required: vec!["exp".to_owned()],
            expected: Vec::new(),
            max_lifetime: None,
            allow_any_audience: false,
        }
    }
}

/// The registered claims, found in one pass over the claims (no hashing).
#[derive(Default)]
struct Registered<'a> {
    exp: Option<&'a Value>,
    nbf: Option<&'a Value>,
    iat: Option<&'a Value>,
    iss: Option<&'a Value>,
    aud: Option<&'a Value>,
    sub: Option<&'a Value>,
    jti: Option<&'a Value>,
}

impl<'a> Registered<'a> {
    fn collect(claims: &'a Map<String, Value>) -> Self {
        let mut r = Registered::default();
        for (name, value) in claims {
            let slot = match name.as_str() {
                "exp" => &mut r.exp,
                "nbf" => &mut r.nbf,
                "iat" => &mut r.iat,
                "iss" => &mut r.iss,
                "aud" => &mut r.aud,
                "sub" => &mut r.sub,
                "jti" => &mut r.jti,
                _ => continue,
            };
            *slot = Some(value);
        }
        r
    }

    fn has(&self, claims: &Map<String, Value>, name: &str) -> bool {
        match name {
            "exp" => self.exp.is_some(),
            "nbf" => self.nbf.is_some(),
            "iat" => self.iat.is_some(),
            "iss" => self.iss.is_some(),
            "aud" => self.aud.is_some(),
            "sub" => self.sub.is_some(),
            "jti" => self.jti.is_some(),
            _ => claims.contains_key(name),
        }
    }
}

fn numeric_date(value: Option<&Value>, name: &str) -> Result<Option<f64>, VerifyError> {
    match value {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(v) if v.is_finite() && v.abs() <= MAX_NUMERIC_DATE => Ok(Some(v)),
            _ => Err(VerifyError::claims(format!("claim \"{name}\" is out of range"))),
        },
        Some(other) => Err(VerifyError::claims(format!("claim \"{name}\" must be a number, not {}", type_name(other)))),
    }
}

impl ClaimRules {
    /// Check `claims` at time `now` (seconds since the epoch).
    pub fn check(&self, claims: &Map<String, Value>, now: f64) -> Result<(), VerifyError> {
        let reg = Registered::collect(claims);
        for name in &self.required {
            if !reg.has(claims, name) {
                return Err(VerifyError::claims(format!("required claim \"{name}\" is missing")));
            }
        }
        let leeway = self.leeway as f64;
        let exp = numeric_date(reg.exp, "exp")?;
        let nbf = numeric_date(reg.nbf, "nbf")?;
        let iat = numeric_date(reg.iat, "iat")?;
        if let Some(exp) = exp {
            if exp + leeway <= now {
                return Err(VerifyError::new(ErrorKind::Expired, "token has expired"));
            }
            if let Some(max) = self.max_lifetime {
                if exp - now > max as f64 + leeway {
                    return Err(VerifyError::claims(format!("claim \"exp\" is more than {max} s in the future")));
                }
            }
        }
        if let Some(nbf) = nbf {
            if nbf - leeway > now {
                return Err(VerifyError::new(ErrorKind::NotYetValid, "token is not valid yet (nbf)"));
            }
        }
        if let Some(iat) = iat {
            if iat - leeway > now {
                return Err(VerifyError::new(ErrorKind::NotYetValid, "token was issued in the future (iat); check clock skew"));
            }
        }
        match reg.iss {
            Some(Value::String(iss)) => {
                if let Some(want) = &self.issuer {
                    if iss != want {
                        return Err(VerifyError::claims("claim \"iss\" does not match the expected issuer"));
                    }
                }
            }
            Some(other) => return Err(VerifyError::claims(format!("claim \"iss\" must be a string, not {}", type_name(other)))),
            None if self.issuer.is_some() => return Err(VerifyError::claims("claim \"iss\" is missing")),
            None => {}
        }
        self.check_audience(reg.aud)?;
        for (name, value) in [("sub", reg.sub), ("jti", reg.jti)] {
            if let Some(v) = value {
                if !v.is_string() {
                    return Err(VerifyError::claims(format!("claim \"{name}\" must be a string, not {}", type_name(v))));
                }
            }
        }
        for (name, want) in &self.expected {
            match claims.get(name) {
                Some(v) if v == want => {}
                Some(_) => return Err(VerifyError::claims(format!("claim \"{name}\" does not have the expected value"))),
                None => return Err(VerifyError::claims(format!("claim \"{name}\" is missing"))),
            }
        }
        Ok(())
    }

    fn check_audience(&self, aud: Option<&Value>) -> Result<(), VerifyError> {
        let values: Vec<&str> = match aud {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) => out.push(s.as_str()),
                        _ => return Err(VerifyError::claims("claim \"aud\" must be a string or an array of strings")),
                    }
                }
                out
            }
            Some(_) => return Err(VerifyError::claims("claim \"aud\" must be a string or an array of strings")),
        };
        match &self.audience {
            Some(want) => {
                if aud.is_none() {
                    return Err(VerifyError::claims("claim \"aud\" is missing"));
                }
                if !values.iter().any(|v| want.iter().any(|w| w == v)) {
                    return Err(VerifyError::claims("claim \"aud\" does not contain the expected audience"));
                }
            }
            // RFC 7519 §4.1.3: a recipient that is not named in a present `aud` must reject.
            None if aud.is_some() && !self.allow_any_audience => {
                return Err(VerifyError::claims("token has an \"aud\" claim but no audience is configured"));
            }
            None => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: f64 = 1_700_000_000.0;

    fn rules() -> ClaimRules {
        ClaimRules {
            issuer: Some("https://iss".into()),
            audience: Some(vec!["api".into()]),
            required: vec!["exp".into(), "iss".into(), "aud".into()],
            ..ClaimRules::default()
        }
    }
    fn kind(v: Value) -> Option<ErrorKind> {
        let Value::Object(m) = v else { panic!() };
        rules().check(&m, NOW).err().map(|e| e.kind)
    }
    fn ok() -> Value {
        json!({"iss": "https://iss", "aud": "api", "exp": NOW + 60.0, "sub": "u"})
    }
    fn with(k: &str, v: Value) -> Value {
        let mut t = ok();
        t[k] = v;
        t
    }

    #[test]
    fn accepts_good_claims_and_leeway() {
        assert_eq!(kind(ok()), None);
        assert_eq!(kind(with("exp", json!(NOW - 10.0))), None);
        assert_eq!(kind(with("aud", json!(["x", "api"]))), None);
        assert_eq!(kind(with("nbf", json!(NOW + 10.0))), None);
    }

    #[test]
    fn time_claims() {
        assert_eq!(kind(with("exp", json!(NOW - 31.0))), Some(ErrorKind::Expired));
        assert_eq!(kind(with("exp", json!("4102444800"))), Some(ErrorKind::InvalidClaims));
        assert_eq!(kind(with("exp", json!(true))), Some(ErrorKind::InvalidClaims));
        assert_eq!(kind(with("exp", Value::Null)), Some(ErrorKind::InvalidClaims));
        assert_eq!(kind(with("exp", json!(-1))), Some(ErrorKind::Expired));
        assert_eq!(kind(with("exp", json!(1e300))), Some(ErrorKind::InvalidClaims));
        assert_eq!(kind(with("nbf", json!(NOW + 100.0))), Some(ErrorKind::NotYetValid));
        assert_eq!(kind(with("iat", json!(NOW + 100.0))), Some(ErrorKind::NotYetValid));
        assert_eq!(kind(with("iat", json!("now"))), Some(ErrorKind::InvalidClaims));
    }

    #[test]
    fn iss_aud_sub() {
        for bad in [json!("https://is"), json!("https://iss/"), json!(["https://iss"]), json!(1)] {
            assert_eq!(kind(with("iss", bad)), Some(ErrorKind::InvalidClaims));
        }
        for bad in [json!("ap"), json!([]), json!([["api"]]), json!({"a": "api"}), json!("apis")] {
            assert_eq!(kind(with("aud", bad)), Some(ErrorKind::InvalidClaims));
        }
        assert_eq!(kind(with("sub", json!(5))), Some(ErrorKind::InvalidClaims));
        let mut missing = ok();
        missing.as_object_mut().unwrap().remove("aud");
        assert_eq!(kind(missing), Some(ErrorKind::InvalidClaims));
    }
}

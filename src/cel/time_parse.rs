//! `duration(string)` and `timestamp(string)` as Go parses them (cel-go uses
//! `time.ParseDuration` and `time.Parse(time.RFC3339, s)`): the crate's own parsers are
//! more lenient (`2021-01-01 00:00:00Z`, `t`/`z`) or stricter (`.5s`, `+1h`, `µs`).

use cel::common::types::{CelDuration, CelTimestamp, DURATION_TYPE, STRING_TYPE, TIMESTAMP_TYPE};
use cel::common::value::CowVal;
use cel::{DeclarationError, Env};

use super::errors::fn_error;
use super::funcs::{str_arg, FnResult};

pub(crate) const TO_DURATION: &str = "@duration";
pub(crate) const TO_TIMESTAMP: &str = "@timestamp";

const OVER: u64 = 1 << 63;

/// Go's `time.ParseDuration`, in nanoseconds.
pub(crate) fn parse_go_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {orig:?}");
    let mut s = orig.as_bytes();
    let mut neg = false;
    if let Some(&c) = s.first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            s = &s[1..];
        }
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        // [0-9]*
        let mut v: u64 = 0;
        let mut i = 0;
        while i < s.len() && s[i].is_ascii_digit() {
            if v > (OVER - 1) / 10 {
                return Err(invalid());
            }
            v = v * 10 + u64::from(s[i] - b'0');
            if v > OVER {
                return Err(invalid());
            }
            i += 1;
        }
        let pre = i > 0;
        s = &s[i..];
        // (\.[0-9]*)?
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let mut i = 0;
            let mut overflow = false;
            while i < s.len() && s[i].is_ascii_digit() {
                if !overflow {
                    if f > (OVER - 1) / 10 {
                        overflow = true;
                    } else {
                        let y = f * 10 + u64::from(s[i] - b'0');
                        if y > OVER {
                            overflow = true;
                        } else {
                            f = y;
                            scale *= 10.0;
                        }
                    }
                }
                i += 1;
            }
            post = i > 0;
            s = &s[i..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        // unit
        let mut i = 0;
        while i < s.len() && !(s[i] == b'.' || s[i].is_ascii_digit()) {
            i += 1;
        }
        if i == 0 {
            return Err(format!("time: missing unit in duration {orig:?}"));
        }
        let unit_text = String::from_utf8_lossy(&s[..i]).into_owned();
        s = &s[i..];
        let unit: u64 = match unit_text.as_str() {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60 * 1_000_000_000,
            "h" => 3600 * 1_000_000_000,
            _ => return Err(format!("time: unknown unit {unit_text:?} in duration {orig:?}")),
        };
        if v > OVER / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > OVER {
                return Err(invalid());
            }
        }
        d += v;
        if d > OVER {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((d as i128).wrapping_neg() as i64);
    }
    if d > OVER - 1 {
        return Err(invalid());
    }
    Ok(d as i64)
}

/// Go's `time.Parse(time.RFC3339, s)` plus CEL's year range (0001-9999).
pub(crate) fn parse_go_timestamp(s: &str) -> Result<chrono::DateTime<chrono::FixedOffset>, String> {
    let bad = || format!("cannot parse {s:?} as RFC 3339");
    let b = s.as_bytes();
    // Layout "2006-01-02T15:04:05Z07:00": fixed-width fields, upper-case T and Z, optional
    // fraction after the seconds, seconds below 60.
    let digits = |r: std::ops::Range<usize>| b.get(r.clone()).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    let ok_prefix = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !ok_prefix || &b[17..19] >= b"60".as_slice() {
        return Err(bad());
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
    }
    let zone = &s[i..];
    let zone_ok = zone == "Z"
        || (zone.len() == 6
            && (zone.starts_with('+') || zone.starts_with('-'))
            && zone.as_bytes()[3] == b':'
            && zone[1..3].bytes().all(|c| c.is_ascii_digit())
            && zone[4..6].bytes().all(|c| c.is_ascii_digit()));
    if !zone_ok {
        return Err(bad());
    }
    // chrono wants '.' for the fraction.
    let normalized = if b.get(19) == Some(&b',') { format!("{}.{}", &s[..19], &s[20..]) } else { s.to_owned() };
    let t = chrono::DateTime::parse_from_rfc3339(&normalized).map_err(|_| bad())?;
    use chrono::Datelike;
    let year = t.with_timezone(&chrono::Utc).year();
    if !(1..=9999).contains(&year) {
        return Err("timestamp overflow".into());
    }
    Ok(t)
}

fn to_duration<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    match str_arg(args[0].as_ref()) {
        Some(s) => parse_go_duration(s)
            .map(|ns| CowVal::owned(CelDuration::from(chrono::Duration::nanoseconds(ns))))
            .map_err(|_| fn_error("type conversion error from 'string' to 'google.protobuf.Duration'")),
        None => delegate("duration", args),
    }
}

fn to_timestamp<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    match str_arg(args[0].as_ref()) {
        Some(s) => match parse_go_timestamp(s) {
            Ok(t) => Ok(CowVal::owned(CelTimestamp::from(t))),
            Err(e) if e == "timestamp overflow" => Err(fn_error(e)),
            Err(_) => Err(fn_error("type conversion error from 'string' to 'google.protobuf.Timestamp'")),
        },
        None => delegate("timestamp", args),
    }
}

/// Any other argument type goes to the standard overloads.
fn delegate<'b, 'v>(name: &str, args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    match super::env::env().find_overload(name, &args) {
        Some(f) => f(args),
        None => Err(cel::ExecutionError::no_such_overload(name, args.iter().map(|a| a.get_type().name().to_owned()).collect())),
    }
}

pub(crate) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload(TO_DURATION, "go_duration", vec![cel::common::types::DYN_TYPE], to_duration)?;
    env.add_overload(TO_TIMESTAMP, "go_timestamp", vec![cel::common::types::DYN_TYPE], to_timestamp)?;
    let _ = (STRING_TYPE, DURATION_TYPE, TIMESTAMP_TYPE);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cel::tests_util::{check, check_err};
    use serde_json::json;

    #[test]
    fn go_durations() {
        for (s, ns) in [
            ("0", 0i64),
            ("5s", 5_000_000_000),
            ("30s", 30_000_000_000),
            ("1478s", 1_478_000_000_000),
            ("-5s", -5_000_000_000),
            ("+5s", 5_000_000_000),
            ("-0", 0),
            ("+0", 0),
            ("5.0s", 5_000_000_000),
            ("5.6s", 5_600_000_000),
            ("5.s", 5_000_000_000),
            (".5s", 500_000_000),
            ("1.0s", 1_000_000_000),
            ("1.00s", 1_000_000_000),
            ("1.004s", 1_004_000_000),
            ("1.0040s", 1_004_000_000),
            ("100.00100s", 100_001_000_000),
            ("10ns", 10),
            ("11us", 11_000),
            ("12µs", 12_000),
            ("12μs", 12_000),
            ("13ms", 13_000_000),
            ("14s", 14_000_000_000),
            ("15m", 900_000_000_000),
            ("16h", 57_600_000_000_000),
            ("3h30m", 12_600_000_000_000),
            ("10.5s4m", 250_500_000_000),
            ("-2m3.4s", -123_400_000_000),
            ("1h2m3s4ms5us6ns", 3_723_004_005_006),
            ("39h9m14.425s", 140_954_425_000_000),
            ("52763797000ns", 52_763_797_000),
            ("0.3333333333333333333h", 1_200_000_000_000),
            ("9007199254740993ns", 9_007_199_254_740_993),
            ("9223372036854775807ns", i64::MAX),
            ("9223372036854775.807us", i64::MAX),
            ("-9223372036854775808ns", i64::MIN),
        ] {
            assert_eq!(parse_go_duration(s), Ok(ns), "{s}");
        }
        for s in ["", "3", "-", "s", ".", "-.", ".s", "+.s", "1d", "\u{0}1s", "9223372036854775808ns", "9223372036854775.808us"] {
            assert!(parse_go_duration(s).is_err(), "{s:?} should fail");
        }
    }

    #[test]
    fn go_timestamps() {
        assert!(parse_go_timestamp("2021-04-20T10:00:20.021-05:00").is_ok());
        assert!(parse_go_timestamp("2021-04-20T10:00:20Z").is_ok());
        for s in [
            "2021-04-20 10:00:20Z",
            "2021-04-20t10:00:20Z",
            "2021-04-20T10:00:20z",
            "2021-04-20T10:00:60Z",
            "2021-04-20",
            "2021-4-20T10:00:20Z",
            "2021-04-20T10:00:20+0500",
        ] {
            assert!(parse_go_timestamp(s).is_err(), "{s:?} should fail");
        }
        check("duration('.5s') == duration('500ms') && duration('1µs') == duration('1000ns')", json!(true));
        check("duration(duration('1s'))", json!("1s"));
        check("timestamp(0)", json!("1970-01-01T00:00:00Z"));
        check_err("timestamp(P.id + '2021-04-20 10:00:20Z')", "type conversion error from 'string' to 'google.protobuf.Timestamp'");
        check_err("duration(P.id)", "type conversion error from 'string' to 'google.protobuf.Duration'");
        check_err("duration(1.5)", "no such overload: duration(double)");
    }
}

//! What one Rego evaluation may cost: time, and the bytes its built-ins build.
//!
//! regorus allocates what a built-in asks for at once (`numbers.range(1, 1e9)`,
//! `net.cidr_expand("0.0.0.0/0")`, `sprintf("%10000000000d", …)`, strings doubled by `concat`),
//! and an allocation the machine cannot satisfy aborts the process that embeds warden. So the
//! built-ins whose result can be much larger than their arguments are registered again as
//! extensions (regorus looks extensions up before its built-ins) that first estimate the size
//! of what the call would build from its arguments, charge it to the evaluation's budget, and
//! only then call regorus's own implementation. A breach is an evaluation error (never an
//! undefined value that `not` could turn into `true`), which denies as every evaluation error
//! does. regorus's execution timer bounds the time of the rest (comprehensions, rule fan-out).
use std::cell::Cell;
use std::num::NonZeroU32;
use std::time::Duration;

use anyhow::{bail, Result};
use regorus::unstable::{Expr, Ref, Source, Span, BUILTINS};
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value};

/// Bytes one evaluation's built-ins may build (the same budget as a CEL evaluation's).
pub const MAX_BYTES: u64 = 32 << 20;

/// Wall-clock time one evaluation may take; regorus checks it cooperatively as it works.
pub const MAX_TIME: Duration = Duration::from_secs(1);

/// How every breach message starts.
const BREACH: &str = "Rego evaluation budget exceeded";

/// What an element of an array, set or object costs beyond its own contents (a `Value`).
const ELEMENT_BYTES: u64 = 16;

thread_local! {
    /// Bytes the evaluation running on this thread may still build.
    static LEFT: Cell<u64> = const { Cell::new(MAX_BYTES) };
}

/// Runs one evaluation with a full budget (evaluations on one thread never nest).
pub fn scope<R>(f: impl FnOnce() -> R) -> R {
    LEFT.with(|l| l.set(MAX_BYTES));
    let r = f();
    LEFT.with(|l| l.set(MAX_BYTES));
    r
}

fn charge(name: &str, bytes: u64) -> Result<()> {
    LEFT.with(|left| {
        if bytes > left.get() {
            bail!("{BREACH}: `{name}` would build about {bytes} bytes, and one evaluation may build at most {MAX_BYTES} bytes")
        }
        left.set(left.get() - bytes);
        Ok(())
    })
}

/// The bytes `v` takes, counted up to `limit` (a value shared many times over is counted each
/// time: that is what printing or copying it builds). Iterative: values can nest deeply.
fn size_of(v: &Value, limit: u64) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        total = total.saturating_add(ELEMENT_BYTES);
        match v {
            Value::String(s) => total = total.saturating_add(s.len() as u64),
            Value::Number(_) => total = total.saturating_add(ELEMENT_BYTES),
            Value::Array(a) => stack.extend(a.iter()),
            Value::Set(s) => stack.extend(s.iter()),
            Value::Object(o) => o.iter().for_each(|(k, v)| {
                stack.push(k);
                stack.push(v);
            }),
            Value::Null | Value::Bool(_) | Value::Undefined => {}
        }
        if total > limit {
            return total;
        }
    }
    total
}

fn int(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) => n.as_i64().map(i128::from).or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i128)),
        _ => None,
    }
}

fn text(v: &Value) -> &str {
    match v {
        Value::String(s) => s,
        _ => "",
    }
}

/// Elements of `numbers.range(a, b)` / `numbers.range_step(a, b, step)`.
fn range_len(a: &Value, b: &Value, step: i128) -> u64 {
    match (int(a), int(b)) {
        (Some(a), Some(b)) if step > 0 => u64::try_from((b - a).unsigned_abs() / step.unsigned_abs() + 1).unwrap_or(u64::MAX),
        _ => 0,
    }
}

/// Addresses of `net.cidr_expand(cidr)`.
fn cidr_len(cidr: &str) -> u64 {
    match cidr.parse::<ipnet::IpNet>() {
        Ok(net) => 1u64.checked_shl(u32::from(net.max_prefix_len() - net.prefix_len())).unwrap_or(u64::MAX),
        Err(_) => 0,
    }
}

/// Widths and precisions written in a `sprintf` format (`%10000000000d`, `%.99f`), and the
/// number of verbs.
fn format_widths(format: &str) -> (u64, u64) {
    let (mut widths, mut verbs) = (0u64, 0u64);
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            continue;
        }
        verbs += 1;
        let mut number = 0u64;
        while let Some(&c) = chars.peek() {
            if let Some(d) = c.to_digit(10) {
                number = number.saturating_mul(10).saturating_add(u64::from(d));
            } else if matches!(c, '.' | '+' | '-' | '#' | ' ' | '[' | ']' | '*') {
                widths = widths.saturating_add(number);
                number = 0;
            } else {
                break;
            }
            chars.next();
        }
        widths = widths.saturating_add(number);
    }
    (widths, verbs)
}

/// Occurrences of `old` in `s` (Go's `strings.Replace` with an empty `old` inserts at every
/// character boundary).
fn occurrences(s: &str, old: &str) -> u64 {
    if old.is_empty() {
        s.chars().count() as u64 + 1
    } else {
        s.matches(old).count() as u64
    }
}

/// The bytes a call would build, from its arguments.
fn estimate(name: &str, args: &[Value]) -> u64 {
    let per_element = |n: u64, each: u64| n.saturating_mul(ELEMENT_BYTES + each);
    let size = |v: &Value| size_of(v, MAX_BYTES.saturating_mul(8));
    match (name, args) {
        ("numbers.range", [a, b]) => per_element(range_len(a, b, 1), ELEMENT_BYTES),
        ("numbers.range_step", [a, b, step]) => per_element(range_len(a, b, int(step).unwrap_or(0)), ELEMENT_BYTES),
        ("net.cidr_expand", [cidr]) => per_element(cidr_len(text(cidr)), 40),
        ("sprintf", [format, values]) => {
            let (widths, verbs) = format_widths(text(format));
            (text(format).len() as u64).saturating_add(widths).saturating_add(verbs.saturating_mul(size(values)))
        }
        ("concat", [delimiter, items]) => {
            let n = match items {
                Value::Array(a) => a.len(),
                Value::Set(s) => s.len(),
                _ => 0,
            };
            size(items).saturating_add((text(delimiter).len() as u64).saturating_mul(n as u64))
        }
        ("array.concat", [a, b]) => size(a).saturating_add(size(b)),
        ("replace", [s, old, new]) => {
            let s = text(s);
            (s.len() as u64).saturating_add(occurrences(s, text(old)).saturating_mul(text(new).len() as u64))
        }
        ("strings.replace_n", [patterns, s]) => {
            let s = text(s);
            let mut total = s.len() as u64;
            if let Value::Object(o) = patterns {
                for (old, new) in o.iter() {
                    total = total.saturating_add(occurrences(s, text(old)).saturating_mul(text(new).len() as u64));
                }
            }
            total
        }
        ("split", [s, delimiter]) => {
            let s = text(s);
            per_element(occurrences(s, text(delimiter)), 0).saturating_add(s.len() as u64)
        }
        ("json.marshal" | "json.marshal_with_options" | "yaml.marshal", [v, ..]) => size(v).saturating_mul(6),
        ("base64.encode" | "base64url.encode" | "base64url.encode_no_pad" | "hex.encode", [v]) => size(v).saturating_mul(2),
        ("json.unmarshal" | "yaml.unmarshal", [v]) => (text(v).len() as u64).saturating_mul(ELEMENT_BYTES),
        _ => 0,
    }
}

/// The built-ins re-registered with a size check, and how many arguments each takes.
const SIZED: &[&str] = &[
    "numbers.range",
    "numbers.range_step",
    "net.cidr_expand",
    "sprintf",
    "concat",
    "array.concat",
    "replace",
    "strings.replace_n",
    "split",
    "json.marshal",
    "json.marshal_with_options",
    "yaml.marshal",
    "base64.encode",
    "base64url.encode",
    "base64url.encode_no_pad",
    "hex.encode",
    "json.unmarshal",
    "yaml.unmarshal",
];

thread_local! {
    /// A span and parameter expressions for calling regorus's built-ins from outside the
    /// interpreter; they only serve the built-ins' own error messages, which are not kept
    /// (a failing built-in makes the call undefined, as in OPA's default mode).
    static CALL_SITE: (Span, Vec<Ref<Expr>>) = {
        let source = Source::from_contents("<built-in>".to_string(), "_".to_string()).expect("a one-character source");
        let span = Span { source, line: 1, col: 1, start: 0, end: 1 };
        let params = (0..4).map(|_| Ref::new(Expr::Null { span: span.clone(), value: Value::Null, eidx: 0 })).collect();
        (span, params)
    };
}

/// Registers the sized built-ins on `engine`, and its time limit.
pub fn register(engine: &mut Engine) -> Result<()> {
    engine.set_execution_timer_config(ExecutionTimerConfig { limit: MAX_TIME, check_interval: NonZeroU32::new(256).expect("non-zero") });
    for &name in SIZED {
        let Some(&(builtin, nargs)) = BUILTINS.get(name) else {
            // Not compiled into this regorus (a feature left out): nothing to wrap.
            continue;
        };
        engine.add_extension(
            name.to_string(),
            nargs,
            Box::new(move |args: Vec<Value>| {
                charge(name, estimate(name, &args))?;
                let result = CALL_SITE.with(|(span, params)| builtin(span, &params[..args.len().min(params.len())], &args, false));
                match result {
                    Ok(v) => Ok(v),
                    // regorus's own limits stay errors; other built-in errors make the call
                    // undefined (OPA's default, non-strict built-in errors).
                    Err(e) if e.downcast_ref::<regorus::LimitError>().is_some() => Err(e),
                    Err(_) => Ok(Value::Undefined),
                }
            }),
        )?;
    }
    Ok(())
}

/// Whether `e` is a breach of the budget (time or bytes), not an error of the query itself.
pub fn is_breach(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<regorus::LimitError>().is_some()) || format!("{e:#}").contains(BREACH)
}

/// A regorus time-limit error in words, or `None` for other errors.
pub fn time_limit_message(e: &anyhow::Error) -> Option<String> {
    e.chain().find_map(|c| c.downcast_ref::<regorus::LimitError>()).map(|limit| match limit {
        regorus::LimitError::TimeLimitExceeded { .. } => {
            format!("{BREACH}: the evaluation took longer than its limit of {} s", MAX_TIME.as_secs_f64())
        }
        other => format!("{BREACH}: {other}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates() {
        assert_eq!(range_len(&Value::from(1), &Value::from(1_000_000_000), 1), 1_000_000_000);
        assert_eq!(range_len(&Value::from(5), &Value::from(1), 1), 5);
        assert_eq!(cidr_len("0.0.0.0/0"), 1 << 32);
        assert_eq!(cidr_len("::/0"), u64::MAX);
        assert_eq!(cidr_len("10.0.0.0/30"), 4);
        assert_eq!(format_widths("%10000000000d"), (10_000_000_000, 1));
        assert_eq!(format_widths("100%% %s and %-5.2f"), (7, 2));
    }
}

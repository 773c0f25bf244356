//! The rest of Cerbos's library and the cel-go extensions the crate lacks: `id`,
//! `timeSince` (with `now()` coming from the request), `json.encode`, `regex.*`, and the
//! internal helpers the compile-time rewrites call (`@has_field`, `@pairs`, `@mapInsert`).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use cel::common::types::{
    CelDuration, CelInt, CelList, CelMap, CelMapKey, CelOptional, CelString, CelTimestamp, DYN_TYPE, INT_TYPE, LIST_TYPE, MAP_TYPE, STRING_TYPE, TIMESTAMP_TYPE,
};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError};

use super::errors::{fn_error, message_of};
use super::funcs::{bool_val, int_arg, str_arg, string_val, type_names, FnResult};
use super::values::{json_text, val_to_json, MsgVal};

pub(crate) const HAS_FIELD: &str = "@has_field";
pub(crate) const TIME_SINCE: &str = "@timeSince";
pub(crate) const PAIRS: &str = "@pairs";
pub(crate) const MAP_INSERT: &str = "@mapInsert";
pub(crate) const TO_STRING: &str = "@string";
pub(crate) const MATCHES: &str = "@matches";
pub(crate) const INDEX_OF: &str = "@indexOf";
pub(crate) const LAST_INDEX_OF: &str = "@lastIndexOf";

pub(crate) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload("id", "id_overload", vec![DYN_TYPE], identity)?;
    env.add_overload(TIME_SINCE, "timeSince_overload", vec![TIMESTAMP_TYPE, TIMESTAMP_TYPE], time_since)?;
    env.add_overload("json.encode", "json_encode", vec![DYN_TYPE], json_encode)?;
    env.add_overload("regex.replace", "regex_replace_string_string_string", vec![STRING_TYPE, STRING_TYPE, STRING_TYPE], regex_replace)?;
    env.add_overload("regex.replace", "regex_replace_string_string_string_int", vec![STRING_TYPE, STRING_TYPE, STRING_TYPE, INT_TYPE], regex_replace)?;
    env.add_overload("regex.extract", "regex_extract_string_string", vec![STRING_TYPE, STRING_TYPE], regex_extract)?;
    env.add_overload("regex.extractAll", "regex_extractAll_string_string", vec![STRING_TYPE, STRING_TYPE], regex_extract_all)?;
    env.add_overload(HAS_FIELD, "has_field", vec![DYN_TYPE, STRING_TYPE], has_field)?;
    env.add_overload(TO_STRING, "to_string", vec![DYN_TYPE], to_string)?;
    env.add_overload(MATCHES, "matches_cached", vec![DYN_TYPE, DYN_TYPE], matches)?;
    env.add_overload(INDEX_OF, "index_of_offset", vec![DYN_TYPE, DYN_TYPE, DYN_TYPE], index_of_offset)?;
    env.add_overload(LAST_INDEX_OF, "last_index_of_offset", vec![DYN_TYPE, DYN_TYPE, DYN_TYPE], last_index_of_offset)?;
    env.add_overload(PAIRS, "pairs", vec![DYN_TYPE], pairs)?;
    env.add_overload(MAP_INSERT, "@mapInsert_map_key_value", vec![MAP_TYPE, DYN_TYPE, DYN_TYPE], map_insert)?;
    env.add_overload(MAP_INSERT, "@mapInsert_map_map", vec![MAP_TYPE, MAP_TYPE], map_insert)?;
    let _ = LIST_TYPE;
    Ok(())
}

fn identity<'b, 'v>(mut args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(args.remove(0))
}

/// `timeSince(ts)` rewritten to `@timeSince(ts, now)`: the request's `now` minus `ts`.
fn time_since<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let ts = args[0].downcast_ref::<CelTimestamp>().map(|t| *t.inner());
    let now = args[1].downcast_ref::<CelTimestamp>().map(|t| *t.inner());
    match (ts, now) {
        (Some(ts), Some(now)) => Ok(CowVal::owned(CelDuration::from(now.signed_duration_since(ts)))),
        _ => Err(fn_error("no such overload")),
    }
}

/// `string(x)`, rewritten to `@string(x)`: doubles and timestamps print as Go prints them
/// (`%g`, RFC 3339 in the timestamp's own offset); everything else goes to the standard
/// `string` overloads.
fn to_string<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    if let Some(d) = args[0].downcast_ref::<cel::common::types::CelDouble>() {
        return Ok(string_val(super::values::go_g_format(*d.inner())));
    }
    if let Some(t) = args[0].downcast_ref::<CelTimestamp>() {
        return Ok(string_val(super::values::format_timestamp(t.inner())));
    }
    match super::env::env().find_overload("string", &args) {
        Some(f) => f(args),
        None => Err(ExecutionError::no_such_overload("string", type_names(&args).into_iter().map(str::to_owned).collect())),
    }
}

/// `s.matches(re)` / `matches(s, re)`, rewritten to `@matches(s, re)` so that the pattern is
/// compiled once, not on every evaluation.
fn matches<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    match (str_arg(args[0].as_ref()), str_arg(args[1].as_ref())) {
        (Some(text), Some(pattern)) => {
            let re = cached_regex(pattern).map_err(fn_error)?;
            Ok(bool_val(re.is_match(text)))
        }
        _ => Err(ExecutionError::no_such_overload("matches", type_names(&args).into_iter().map(str::to_owned).collect())),
    }
}

/// `s.indexOf(sub, offset)` as cel-go (since v0.22): an offset past the end finds nothing
/// rather than failing.
/// The string, substring and offset of `indexOf`/`lastIndexOf`, or cel-go's overload error.
fn offset_args<'a>(name: &str, args: &'a [CowVal<'_, '_>]) -> Result<(&'a str, &'a str, i64), ExecutionError> {
    match (str_arg(args[0].as_ref()), str_arg(args[1].as_ref()), int_arg(args[2].as_ref())) {
        (Some(t), Some(s), Some(o)) => Ok((t, s, o)),
        _ => Err(super::errors::no_such_overload_fn(name, &type_names(args))),
    }
}

fn index_of_offset<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (text, sub, _) = offset_args("indexOf", &args)?;
    let off = int_arg(args[2].as_ref()).unwrap_or_default();
    if off < 0 {
        return Err(fn_error(format!("index out of range: {off}")));
    }
    let runes: Vec<char> = text.chars().collect();
    let subr: Vec<char> = sub.chars().collect();
    let n = runes.len() as i64;
    if subr.is_empty() {
        return Ok(CowVal::owned(CelInt::from(off.min(n))));
    }
    if off >= n {
        return Ok(CowVal::owned(CelInt::from(-1)));
    }
    let found = (off as usize..runes.len().saturating_sub(subr.len() - 1)).find(|&i| runes[i..i + subr.len()] == subr[..]).map_or(-1, |i| i as i64);
    Ok(CowVal::owned(CelInt::from(found)))
}

/// `s.lastIndexOf(sub, offset)` as cel-go: searches backwards from `offset`.
fn last_index_of_offset<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (text, sub, _) = offset_args("lastIndexOf", &args)?;
    let off = int_arg(args[2].as_ref()).unwrap_or_default();
    if off < 0 {
        return Err(fn_error(format!("index out of range: {off}")));
    }
    let runes: Vec<char> = text.chars().collect();
    let subr: Vec<char> = sub.chars().collect();
    let n = runes.len() as i64;
    if subr.is_empty() {
        return Ok(CowVal::owned(CelInt::from(off.min(n))));
    }
    if off >= n {
        return Ok(CowVal::owned(CelInt::from(-1)));
    }
    let start = off.min(n - subr.len() as i64);
    let found = (0..=start.max(-1)).rev().filter(|&i| i >= 0).find(|&i| runes[i as usize..i as usize + subr.len()] == subr[..]).unwrap_or(-1);
    Ok(CowVal::owned(CelInt::from(found)))
}

fn json_encode<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let j = val_to_json(args[0].as_ref()).map_err(fn_error)?;
    let mut out = String::new();
    json_text(&j, &mut out);
    Ok(string_val(out))
}

// ---------------------------------------------------------------------------------------------
// Regexes: compiled once per pattern (patterns are nearly always literals).

/// The largest program one regex may compile to: a pattern that needs more is an error (as
/// RE2's "expression too large"). `\pL{35}` alone needs about 2 MiB.
const REGEX_PROGRAM_LIMIT: usize = 1 << 20;
/// The lazy DFA cache of one regex (the `regex` crate's default is 2 MiB).
const REGEX_DFA_LIMIT: usize = 256 << 10;
/// What the cache may hold: each regex counts for the program size it needed (to within a factor
/// of four) plus its DFA cache. The cache is cleared when an insertion would pass either bound.
const REGEX_CACHE_BYTES: usize = 32 << 20;
const REGEX_CACHE_ENTRIES: usize = 512;

struct RegexCache {
    entries: HashMap<String, (Arc<regex::Regex>, usize)>,
    bytes: usize,
}

static REGEX_CACHE: LazyLock<RwLock<RegexCache>> = LazyLock::new(|| RwLock::new(RegexCache { entries: HashMap::new(), bytes: 0 }));

/// Compiles `pattern`, caching the result process-wide (bounded by count and size, cleared
/// when full).
pub(crate) fn cached_regex(pattern: &str) -> Result<Arc<regex::Regex>, String> {
    if let Ok(c) = REGEX_CACHE.read() {
        if let Some((r, _)) = c.entries.get(pattern) {
            return Ok(r.clone());
        }
    }
    let (re, bytes) = compile_regex(pattern)?;
    let re = Arc::new(re);
    if let Ok(mut c) = REGEX_CACHE.write() {
        if c.entries.len() >= REGEX_CACHE_ENTRIES || c.bytes + bytes > REGEX_CACHE_BYTES {
            c.entries.clear();
            c.bytes = 0;
        }
        if c.entries.insert(pattern.to_owned(), (re.clone(), bytes)).is_none() {
            c.bytes += bytes;
        }
    }
    Ok(re)
}

/// Compiles `pattern` within [`REGEX_PROGRAM_LIMIT`], with the smallest of a few program limits
/// it fits in (most patterns fit the first): returns the regex and what it may take in memory.
fn compile_regex(pattern: &str) -> Result<(regex::Regex, usize), String> {
    let translated = re2_to_rust(pattern);
    for limit in [REGEX_PROGRAM_LIMIT / 16, REGEX_PROGRAM_LIMIT / 4, REGEX_PROGRAM_LIMIT] {
        match regex::RegexBuilder::new(&translated).size_limit(limit).dfa_size_limit(REGEX_DFA_LIMIT).build() {
            Ok(re) => return Ok((re, limit + REGEX_DFA_LIMIT)),
            Err(regex::Error::CompiledTooBig(_)) => continue,
            Err(e) => return Err(format!("error parsing regexp: {e}")),
        }
    }
    Err(format!("error parsing regexp: expression too large (it compiles to more than {} MiB)", REGEX_PROGRAM_LIMIT >> 20))
}

/// The memory the regex cache accounts for, in bytes.
#[cfg(test)]
fn regex_cache_bytes() -> usize {
    REGEX_CACHE.read().map(|c| c.bytes).unwrap_or(0)
}

/// Rewrites the few places where RE2 (Go's `regexp`, what cel-go uses) and the `regex`
/// crate read the same pattern differently: RE2's `\d \w \s \b` are ASCII-only, and inside a
/// character class RE2 takes `[`, `&&` and `~~` literally where the crate nests or combines
/// classes.
pub(crate) fn re2_to_rust(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let Some(&n) = chars.get(i + 1) else {
                out.push(c);
                break;
            };
            let repl = match (in_class, n) {
                (false, 'd') => Some("[0-9]"),
                (false, 'D') => Some("[^0-9]"),
                (false, 'w') => Some("[0-9A-Za-z_]"),
                (false, 'W') => Some("[^0-9A-Za-z_]"),
                (false, 's') => Some("[\\t\\n\\f\\r ]"),
                (false, 'S') => Some("[^\\t\\n\\f\\r ]"),
                (false, 'b') => Some("(?-u:\\b)"),
                (false, 'B') => Some("(?-u:\\B)"),
                (true, 'd') => Some("0-9"),
                (true, 'D') => Some("[^0-9]"),
                (true, 'w') => Some("0-9A-Za-z_"),
                (true, 'W') => Some("[^0-9A-Za-z_]"),
                (true, 's') => Some("\\t\\n\\f\\r "),
                (true, 'S') => Some("[^\\t\\n\\f\\r ]"),
                _ => None,
            };
            match repl {
                Some(r) => out.push_str(r),
                None => {
                    out.push(c);
                    out.push(n);
                }
            }
            i += 2;
            continue;
        }
        if !in_class {
            out.push(c);
            if c == '[' {
                in_class = true;
                // A leading `^` and then a leading `]` are part of the class.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            i += 1;
            continue;
        }
        match c {
            ']' => {
                in_class = false;
                out.push(c);
            }
            '[' if chars.get(i + 1) == Some(&':') => {
                // A POSIX class such as `[:alpha:]`: copy it whole.
                let end = (i + 2..chars.len().saturating_sub(1)).find(|&j| chars[j] == ':' && chars[j + 1] == ']');
                match end {
                    Some(j) => {
                        out.extend(&chars[i..=j + 1]);
                        i = j + 2;
                        continue;
                    }
                    None => out.push_str("\\["),
                }
            }
            '[' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

fn s<'a>(v: &'a CowVal<'_, '_>) -> &'a str {
    str_arg(v.as_ref()).unwrap_or_default()
}

/// cel-go's replacement expansion: `\N` is group N, `\\` a backslash, anything else an error.
fn expand_replacement(caps: &regex::Captures<'_>, groups: usize, repl: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = repl.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(next) = chars.next() else {
            return Err(format!("invalid replacement string: '{repl}' \\ not allowed at end"));
        };
        if next == '\\' {
            out.push('\\');
            continue;
        }
        let Some(n) = next.to_digit(10) else {
            return Err(format!("invalid replacement string: '{repl}' \\ must be followed by a digit or \\"));
        };
        let n = n as usize;
        if n > groups {
            return Err(format!("replacement string references group {n} but regex has only {groups} group(s)"));
        }
        if let Some(m) = caps.get(n) {
            out.push_str(m.as_str());
        }
    }
    Ok(out)
}

fn regex_replace<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (target, pattern, repl) = (s(&args[0]), s(&args[1]), s(&args[2]));
    let mut count = args.get(3).and_then(|a| int_arg(a.as_ref())).unwrap_or(-1);
    if count == 0 {
        return Ok(string_val(target.to_owned()));
    }
    if count < 0 {
        count = -1;
    }
    let re = cached_regex(pattern).map_err(fn_error)?;
    let groups = re.captures_len() - 1;
    let mut out = String::with_capacity(target.len());
    let mut last = 0;
    for (done, caps) in re.captures_iter(target).enumerate() {
        if count != -1 && done as i64 >= count {
            break;
        }
        let m = caps.get(0).expect("group 0 always matches");
        let r = expand_replacement(&caps, groups, repl).map_err(fn_error)?;
        // The result grows by what each match adds: charged before it is written.
        super::budget::charge_bytes((m.start() - last + r.len()) as u64)?;
        out.push_str(&target[last..m.start()]);
        out.push_str(&r);
        last = m.end();
    }
    out.push_str(&target[last..]);
    Ok(string_val(out))
}

fn regex_extract<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (target, pattern) = (s(&args[0]), s(&args[1]));
    let re = cached_regex(pattern).map_err(fn_error)?;
    if re.captures_len() - 1 > 1 {
        return Err(fn_error(format!("regular expression has more than one capturing group: {pattern:?}")));
    }
    let Some(caps) = re.captures(target) else {
        return Ok(CowVal::owned(CelOptional::none()));
    };
    let found = if re.captures_len() > 1 {
        match caps.get(1).map(|m| m.as_str()).filter(|s| !s.is_empty()) {
            Some(g) => g.to_owned(),
            None => return Ok(CowVal::owned(CelOptional::none())),
        }
    } else {
        caps.get(0).map(|m| m.as_str().to_owned()).unwrap_or_default()
    };
    Ok(CowVal::owned(CelOptional::of(Box::new(CelString::from(found)))))
}

fn regex_extract_all<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (target, pattern) = (s(&args[0]), s(&args[1]));
    let re = cached_regex(pattern).map_err(fn_error)?;
    let groups = re.captures_len() - 1;
    if groups > 1 {
        return Err(fn_error(format!("regular expression has more than one capturing group: {pattern:?}")));
    }
    let mut out: Vec<Box<dyn Val>> = Vec::new();
    for caps in re.captures_iter(target) {
        let m = if groups == 1 { caps.get(1).map(|m| m.as_str()).unwrap_or("") } else { &caps[0] };
        if groups == 1 && m.is_empty() {
            continue;
        }
        out.push(Box::new(CelString::from(m.to_owned())));
    }
    Ok(CowVal::owned(CelList::from(out)))
}

// ---------------------------------------------------------------------------------------------
// Helpers behind the compile-time rewrites

/// `has(x.f)`, as cel-go evaluates it for Cerbos: proto3 presence on a protobuf message,
/// key presence on a map or on `V`/`C`/`G`, the inner value of a present optional, and
/// `false` on anything else (cel-go's default, without `errorOnBadPresenceTest`).
fn has_field<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(bool_val(has_in(args[0].as_ref(), s(&args[1]))?))
}

fn has_in(v: &dyn Val, field: &str) -> Result<bool, ExecutionError> {
    if let Some(m) = v.downcast_ref::<MsgVal>() {
        return m.has_field(field).ok_or_else(|| fn_error(format!("no such field '{field}'")));
    }
    if let Some(o) = v.downcast_ref::<CelOptional>() {
        return match o.option() {
            Some(inner) => has_in(inner, field),
            None => Ok(false),
        };
    }
    if v.downcast_ref::<CelList>().is_some() {
        // A list cannot be indexed by a field name.
        return Err(fn_error("unsupported index type 'string' in list"));
    }
    let key = CelString::from(field);
    match v.as_indexer() {
        Some(ix) => match ix.get(&key) {
            Ok(_) => Ok(true),
            Err(ExecutionError::NoSuchKey(_)) => Ok(false),
            Err(e) => Err(fn_error(message_of(&e))),
        },
        None => Ok(false),
    }
}

/// `[[key, value], ...]` for a map, `[[index, element], ...]` for a list: what the
/// two-variable comprehensions iterate over.
fn pairs<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let a = args[0].as_ref();
    // A copy of every element, each in a two-element list.
    let n = super::budget::scan_steps(a);
    super::budget::charge_bytes(super::budget::copy_bytes(a) + n * 3 * super::budget::ELEMENT_BYTES)?;
    let mut out: Vec<Box<dyn Val + 'v>> = Vec::new();
    if let Some(l) = a.downcast_ref::<CelList>() {
        for (i, e) in l.inner().iter().enumerate() {
            out.push(Box::new(CelList::from(vec![Box::new(CelInt::from(i as i64)) as Box<dyn Val + 'v>, e.clone_as_boxed()])));
        }
    } else if let Some(m) = a.downcast_ref::<CelMap>() {
        for (k, v) in m.inner() {
            out.push(Box::new(CelList::from(vec![k.inner().clone_as_boxed(), v.clone_as_boxed()])));
        }
    } else {
        return Err(fn_error(format!("unsupported comprehension range type: {}", super::errors::go_type_of(a.get_type().name()))));
    }
    Ok(CowVal::owned(CelList::from(out)))
}

/// `@mapInsert(m, k, v)` / `@mapInsert(m, other)`: a copy of `m` with the new entries;
/// an existing key is an error, as in cel-go.
fn map_insert<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let Some(m) = args[0].downcast_ref::<CelMap>() else {
        return Err(fn_error("no such overload"));
    };
    // Each insertion copies the map (its result is a new accumulator): linear work, transient.
    super::budget::charge_steps(m.inner().len() as u64)?;
    super::budget::charge_bytes(args[1..].iter().map(|a| super::budget::copy_bytes(a.as_ref())).sum())?;
    let mut out: HashMap<CelMapKey<'v>, Box<dyn Val + 'v>> = m.inner().iter().map(|(k, v)| (k.clone(), v.clone_as_boxed())).collect();
    let mut insert = |k: &(dyn Val + 'v), v: &(dyn Val + 'v)| -> Result<(), ExecutionError> {
        let key = CelMapKey::try_from(k.clone_as_boxed()).map_err(|_| {
            let text = val_to_json(k).map(|j| j.to_string()).unwrap_or_default();
            fn_error(super::errors::unsupported_key(k.get_type().name(), &text))
        })?;
        if out.contains_key(&key) {
            return Err(fn_error(format!(
                "insert failed: key {} already exists",
                val_to_json(k).map(|j| j.to_string().trim_matches('"').to_owned()).unwrap_or_default()
            )));
        }
        out.insert(key, v.clone_as_boxed());
        Ok(())
    };
    if args.len() == 3 {
        insert(args[1].as_ref(), args[2].as_ref())?;
    } else if let Some(other) = args[1].downcast_ref::<CelMap>() {
        for (k, v) in other.inner() {
            insert(k.inner(), v.as_ref())?;
        }
    }
    Ok(CowVal::owned(CelMap::from(out)))
}

#[cfg(test)]
mod tests {
    use crate::cel::tests_util::{check, check_err};
    use serde_json::json;

    /// Compiled regexes are bounded in size, one by one and in the cache: `\pL{35}x{N}`, 520 of
    /// which grew memory by 886 MB, is refused; smaller distinct patterns stay within the cache's
    /// budget.
    #[test]
    fn regex_cache_is_bounded_by_size() {
        // A pattern built when evaluating fails the evaluation; a literal one fails the load.
        check_err(r"'a'.matches('\\pL{35}' + 'x')", "error parsing regexp: expression too large (it compiles to more than 1 MiB)");
        assert!(crate::cel::compile(r"'a'.matches('\\pL{35}x')").is_err());
        // Distinct patterns of a few hundred KB each: more than the cache's size holds.
        for n in 0..120 {
            let _ = super::cached_regex(&format!("\\pL{{8}}x{{{n}}}"));
            assert!(super::regex_cache_bytes() <= super::REGEX_CACHE_BYTES);
        }
        check(r"'abc'.matches('^[a-c]+$')", json!(true));
    }

    #[test]
    fn re2_semantics() {
        check(r#"'\u0663'.matches('\\d')"#, json!(false));
        check(r#"'a1'.matches('^\\w\\d$')"#, json!(true));
        check(r#"'x-y_z'.matches('^[\\w-]+$')"#, json!(true));
        check(r#"'é'.matches('^\\w$')"#, json!(false));
        check(r#"'é'.matches('^.$')"#, json!(true));
        check(r#"'['.matches('^[[]$')"#, json!(true));
        check(r#"'&'.matches('^[a&&b]$')"#, json!(true));
        check(r#"']'.matches('^[]a]$') && 'b'.matches('^[^]a]$')"#, json!(true));
        check(r#"'x'.matches('^[[:alpha:]]$') && !'1'.matches('^[[:alpha:]]$')"#, json!(true));
        check(r#"'a b'.matches('a\\sb') && 'ab'.matches('\\bab\\b') && 'a'.matches('\\D')"#, json!(true));
        check(r#"regex.replace('a1b22', '\\d+', '#')"#, json!("a#b#"));
    }

    #[test]
    fn index_of_with_offset() {
        check("'tacocat'.indexOf('a', 30)", json!(-1));
        check("'tacocat'.indexOf('a', 2)", json!(5));
        check("'tacocat'.indexOf('', 30)", json!(7));
        check("'tacocat'.lastIndexOf('a', 30)", json!(-1));
        check("'tacocat'.lastIndexOf('a', 4)", json!(1));
        check("'tacocat'.lastIndexOf('cat', 6)", json!(4));
        check("'ab'.lastIndexOf('abc', 1)", json!(-1));
        check("'tacocat'.indexOf('a')", json!(1));
        check_err("'tacocat'.indexOf('a', -1)", "index out of range: -1");
        check_err("P.attr.n.indexOf('a', 1)", "no such overload: indexOf(double, string, int)");
    }

    #[test]
    fn regex_functions() {
        check(r#"regex.replace("banana", "a", "i")"#, json!("binini"));
        check(r#"regex.replace("banana", "a", "i", 1)"#, json!("binana"));
        check(r#"regex.replace("banana", "a", "i", 0)"#, json!("banana"));
        check(r#"regex.replace("banana", "b(a).*", r"\1")"#, json!("a"));
        check(r#"regex.replace("abc", "(b)", "[\\1\\\\]")"#, json!("a[b\\]c"));
        check_err(r#"regex.replace("abc", "(b)", "\\2")"#, "replacement string references group 2 but regex has only 1 group(s)");
        check(r#"regex.extract("hello world", "hello(.*)") == optional.of(" world")"#, json!(true));
        check(r#"regex.extract("hello", "xyz").hasValue()"#, json!(false));
        check(r#"regex.extract("hello", "l+").value()"#, json!("ll"));
        check(r#"regex.extractAll("a bb a cc", "a")"#, json!(["a", "a"]));
        check(r#"regex.extractAll("id:1 id:22", "id:(\\d+)")"#, json!(["1", "22"]));
        check(r#"regex.extractAll("a bb a cc", "x")"#, json!([]));
        check_err(r#"regex.extract("a", "(a)(b)")"#, r#"regular expression has more than one capturing group: "(a)(b)""#);
    }

    #[test]
    fn string_conversion_like_go() {
        check("string(1.0)", json!("1"));
        check("string(123456.0)", json!("123456"));
        check("string(1e6)", json!("1e+06"));
        check("string(1234567.0)", json!("1.234567e+06"));
        check("string(0.0001)", json!("0.0001"));
        check("string(0.00001)", json!("1e-05"));
        check("string(-2.5)", json!("-2.5"));
        check("string(1.0/0.0)", json!("+Inf"));
        check("string(P.attr.n)", json!("42"));
        check("string(timestamp('2021-04-20T10:00:20.021-05:00'))", json!("2021-04-20T10:00:20.021-05:00"));
        check("string(1) + string(true) + string(b'x') + string('s') + string(duration('1m'))", json!("1truexs60s"));
        check("string(hierarchy('a.b'))", json!("a.b"));
    }

    #[test]
    fn json_encode_and_id() {
        check(r#"json.encode({"b": [1, 2.5, "x"], "a": true, "n": null})"#, json!(r#"{"a":true,"b":[1,2.5,"x"],"n":null}"#));
        check(r#"json.encode(P.attr)"#, json!(r#"{"department":"marketing","n":42}"#));
        check(r#"id(42)"#, json!(42));
    }
}

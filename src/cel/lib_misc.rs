//! The rest of Cerbos's library and the cel-go extensions the crate lacks: `id`,
//! `timeSince` (with `now()` coming from the request), `json.encode`, `regex.*`, and the
//! internal helpers the compile-time rewrites call (`@has_field`, `@pairs`, `@mapInsert`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cel::common::types::{
    CelDuration, CelInt, CelList, CelMap, CelMapKey, CelOptional, CelString, CelTimestamp, DYN_TYPE,
    INT_TYPE, LIST_TYPE, MAP_TYPE, STRING_TYPE, TIMESTAMP_TYPE,
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

pub(crate) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload("id", "id_overload", vec![DYN_TYPE], identity)?;
    env.add_overload(TIME_SINCE, "timeSince_overload", vec![TIMESTAMP_TYPE, TIMESTAMP_TYPE], time_since)?;
    env.add_overload("json.encode", "json_encode", vec![DYN_TYPE], json_encode)?;
    env.add_overload("regex.replace", "regex_replace_string_string_string", vec![STRING_TYPE, STRING_TYPE, STRING_TYPE], regex_replace)?;
    env.add_overload(
        "regex.replace",
        "regex_replace_string_string_string_int",
        vec![STRING_TYPE, STRING_TYPE, STRING_TYPE, INT_TYPE],
        regex_replace,
    )?;
    env.add_overload("regex.extract", "regex_extract_string_string", vec![STRING_TYPE, STRING_TYPE], regex_extract)?;
    env.add_overload("regex.extractAll", "regex_extractAll_string_string", vec![STRING_TYPE, STRING_TYPE], regex_extract_all)?;
    env.add_overload(HAS_FIELD, "has_field", vec![DYN_TYPE, STRING_TYPE], has_field)?;
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

fn json_encode<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let j = val_to_json(args[0].as_ref()).map_err(fn_error)?;
    let mut out = String::new();
    json_text(&j, &mut out);
    Ok(string_val(out))
}

// ---------------------------------------------------------------------------------------------
// Regexes: compiled once per pattern (patterns are nearly always literals).

/// Compiles `pattern`, caching the result process-wide (bounded, cleared when full).
pub(crate) fn cached_regex(pattern: &str) -> Result<Arc<regex::Regex>, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Ok(c) = cache.lock() {
        if let Some(r) = c.get(pattern) {
            return Ok(r.clone());
        }
    }
    let re = Arc::new(
        regex::RegexBuilder::new(pattern)
            .size_limit(1 << 22)
            .build()
            .map_err(|e| format!("error parsing regexp: {e}"))?,
    );
    if let Ok(mut c) = cache.lock() {
        if c.len() >= 512 {
            c.clear();
        }
        c.insert(pattern.to_owned(), re.clone());
    }
    Ok(re)
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
    let mut done = 0i64;
    for caps in re.captures_iter(target) {
        if count != -1 && done >= count {
            break;
        }
        let m = caps.get(0).expect("group 0 always matches");
        let r = expand_replacement(&caps, groups, repl).map_err(fn_error)?;
        out.push_str(&target[last..m.start()]);
        out.push_str(&r);
        last = m.end();
        done += 1;
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

/// `has(msg.f)` on a protobuf message: proto3 presence, not mere field existence.
fn has_field<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let field = s(&args[1]);
    if let Some(m) = args[0].downcast_ref::<MsgVal>() {
        return match m.has_field(field) {
            Some(b) => Ok(bool_val(b)),
            None => Err(fn_error(format!("no such field '{field}'"))),
        };
    }
    // Not a message after all (e.g. shadowed by a comprehension variable): `has()` as usual.
    let key = CelString::from(field);
    match args[0].as_indexer() {
        Some(ix) => match ix.get(&key) {
            Ok(_) => Ok(bool_val(true)),
            Err(ExecutionError::NoSuchKey(_)) => Ok(bool_val(false)),
            Err(e) => Err(fn_error(message_of(&e))),
        },
        None => Err(fn_error(format!("no such overload: has({})", type_names(&args)[0]))),
    }
}

/// `[[key, value], ...]` for a map, `[[index, element], ...]` for a list: what the
/// two-variable comprehensions iterate over.
fn pairs<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let a = args[0].as_ref();
    let mut out: Vec<Box<dyn Val + 'v>> = Vec::new();
    if let Some(l) = a.downcast_ref::<CelList>() {
        for (i, e) in l.inner().iter().enumerate() {
            out.push(Box::new(CelList::from(vec![
                Box::new(CelInt::from(i as i64)) as Box<dyn Val + 'v>,
                e.clone_as_boxed(),
            ])));
        }
    } else if let Some(m) = a.downcast_ref::<CelMap>() {
        for (k, v) in m.inner() {
            out.push(Box::new(CelList::from(vec![k.inner().clone_as_boxed(), v.clone_as_boxed()])));
        }
    } else {
        return Err(fn_error(format!("cannot iterate over {}", a.get_type().name())));
    }
    Ok(CowVal::owned(CelList::from(out)))
}

/// `@mapInsert(m, k, v)` / `@mapInsert(m, other)`: a copy of `m` with the new entries;
/// an existing key is an error, as in cel-go.
fn map_insert<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let Some(m) = args[0].downcast_ref::<CelMap>() else {
        return Err(fn_error("no such overload"));
    };
    let mut out: HashMap<CelMapKey<'v>, Box<dyn Val + 'v>> =
        m.inner().iter().map(|(k, v)| (k.clone(), v.clone_as_boxed())).collect();
    let mut insert = |k: &(dyn Val + 'v), v: &(dyn Val + 'v)| -> Result<(), ExecutionError> {
        let key = CelMapKey::try_from(k.clone_as_boxed())
            .map_err(|_| fn_error(format!("unsupported key type: {}", k.get_type().name())))?;
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
    fn json_encode_and_id() {
        check(r#"json.encode({"b": [1, 2.5, "x"], "a": true, "n": null})"#, json!(r#"{"a":true,"b":[1,2.5,"x"],"n":null}"#));
        check(r#"json.encode(P.attr)"#, json!(r#"{"department":"marketing","n":42}"#));
        check(r#"id(42)"#, json!(42));
    }
}

//! The cel-go extension functions whose result can be much larger than their arguments
//! (`join` with a long separator, `replace` of an empty string, `split` into one-character
//! strings, `lists.range`), with the `cel` crate's semantics and errors, charging the evaluation
//! budget for the result before allocating it. Calls are rewritten to these at compile time
//! (`l.join(s)` -> `@join(l, s)`).

use cel::common::types::{CelInt, CelList, CelString, DYN_TYPE};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError};

use super::budget::{charge_bytes, charge_steps, ELEMENT_BYTES};
use super::funcs::{int_arg, list_arg, str_arg, type_names, FnResult};

pub(crate) const JOIN: &str = "@join";
pub(crate) const REPLACE: &str = "@replace";
pub(crate) const SPLIT: &str = "@split";
pub(crate) const RANGE: &str = "@range";

/// cel-go's upper bound for `lists.range` (as in the `cel` crate).
const MAX_RANGE_SIZE: i64 = 1_000_000;

pub(crate) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload(JOIN, "@join_1", vec![DYN_TYPE], join)?;
    env.add_overload(JOIN, "@join_2", vec![DYN_TYPE, DYN_TYPE], join)?;
    env.add_overload(REPLACE, "@replace_3", vec![DYN_TYPE, DYN_TYPE, DYN_TYPE], replace)?;
    env.add_overload(REPLACE, "@replace_4", vec![DYN_TYPE, DYN_TYPE, DYN_TYPE, DYN_TYPE], replace)?;
    env.add_overload(SPLIT, "@split_2", vec![DYN_TYPE, DYN_TYPE], split)?;
    env.add_overload(SPLIT, "@split_3", vec![DYN_TYPE, DYN_TYPE, DYN_TYPE], split)?;
    env.add_overload(RANGE, "@range_1", vec![DYN_TYPE], range)?;
    Ok(())
}

/// Which calls are rewritten, and to what: `(function, member call, argument counts, internal name)`.
pub(crate) fn rewrite_target(function: &str, member: bool, args: usize) -> Option<&'static str> {
    match (function, member, args) {
        ("join", true, 0 | 1) => Some(JOIN),
        ("replace", true, 2 | 3) => Some(REPLACE),
        ("split", true, 1 | 2) => Some(SPLIT),
        ("distinct", true, 0) => Some(super::lib_sets::DISTINCT),
        _ => None,
    }
}

/// The interpreter's error for a member call no overload matches.
fn no_overload(function: &str, args: &[CowVal<'_, '_>]) -> ExecutionError {
    ExecutionError::no_such_overload(function, type_names(args).into_iter().map(str::to_owned).collect())
}

/// `list.join()` / `list.join(sep)`.
fn join<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (Some(list), sep) = (list_arg(args[0].as_ref()), args.get(1).map(|s| str_arg(s.as_ref()))) else {
        return Err(no_overload("join", &args));
    };
    let sep = match sep {
        None => "",
        Some(Some(s)) => s,
        Some(None) => return Err(no_overload("join", &args)),
    };
    let mut parts = Vec::with_capacity(list.len());
    for item in list {
        match str_arg(item.as_ref()) {
            Some(s) => parts.push(s),
            None => return Err(ExecutionError::UnexpectedType { got: item.get_type().name().to_owned(), want: "string".to_owned() }),
        }
    }
    let size = parts.iter().map(|p| p.len() as u64).sum::<u64>() + (sep.len() as u64).saturating_mul(parts.len().saturating_sub(1) as u64);
    charge_bytes(size)?;
    Ok(CowVal::owned(CelString::from(parts.join(sep))))
}

/// `s.replace(from, to)` / `s.replace(from, to, n)`: the first `n` occurrences, all when `n` is negative.
fn replace<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let strs = (str_arg(args[0].as_ref()), str_arg(args[1].as_ref()), str_arg(args[2].as_ref()));
    let n = match args.get(3).map(|n| int_arg(n.as_ref())) {
        None => Some(-1),
        Some(n) => n,
    };
    let ((Some(s), Some(from), Some(to)), Some(n)) = (strs, n) else {
        return Err(no_overload("replace", &args));
    };
    // Occurrences of an empty `from`: one before each code point and one at the end.
    let found = if from.is_empty() { s.chars().count() as u64 + 1 } else { s.matches(from).count() as u64 };
    charge_steps(s.len() as u64 / 64)?;
    let replaced = match u64::try_from(n) {
        Ok(n) => found.min(n),
        Err(_) => found,
    };
    charge_bytes((s.len() as u64).saturating_add(replaced.saturating_mul(to.len() as u64)))?;
    let out = match usize::try_from(n) {
        Ok(n) => s.replacen(from, to, n),
        Err(_) => s.replace(from, to),
    };
    Ok(CowVal::owned(CelString::from(out)))
}

/// `s.split(sep)` / `s.split(sep, n)`: at most `n` parts, the last holding the rest; none when
/// `n` is zero, all when it is negative. An empty separator splits between code points.
fn split<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let n = match args.get(2).map(|n| int_arg(n.as_ref())) {
        None => Some(-1),
        Some(n) => n,
    };
    let (Some(s), Some(sep), Some(n)) = (str_arg(args[0].as_ref()), str_arg(args[1].as_ref()), n) else {
        return Err(no_overload("split", &args));
    };
    let pieces = if sep.is_empty() { s.chars().count() as u64 } else { s.matches(sep).count() as u64 + 1 };
    let pieces = match u64::try_from(n) {
        Ok(n) => pieces.min(n),
        Err(_) => pieces,
    };
    charge_bytes((s.len() as u64).saturating_add(pieces.saturating_mul(ELEMENT_BYTES)))?;
    let parts: Vec<&str> = match (usize::try_from(n), sep.is_empty()) {
        (Ok(0), _) => Vec::new(),
        (Ok(n), true) => {
            let mut parts: Vec<&str> = Vec::new();
            let mut rest = s;
            while let Some(c) = rest.chars().next() {
                if parts.len() + 1 == n {
                    break;
                }
                let (head, tail) = rest.split_at(c.len_utf8());
                parts.push(head);
                rest = tail;
            }
            if !rest.is_empty() {
                parts.push(rest);
            }
            parts
        }
        (Ok(n), false) => s.splitn(n, sep).collect(),
        (Err(_), true) => s.char_indices().map(|(i, c)| &s[i..i + c.len_utf8()]).collect(),
        (Err(_), false) => s.split(sep).collect(),
    };
    let items: Vec<Box<dyn Val + 'v>> = parts.into_iter().map(|p| Box::new(CelString::from(p.to_owned())) as Box<dyn Val + 'v>).collect();
    Ok(CowVal::owned(CelList::from(items)))
}

/// `lists.range(n)`: the ints from 0 up to, but excluding, `n`.
fn range<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let Some(n) = int_arg(args[0].as_ref()) else {
        return Err(ExecutionError::no_such_overload("lists.range", type_names(&args).into_iter().map(str::to_owned).collect()));
    };
    if n < 0 {
        return Err(super::errors::fn_error(format!("size must be non-negative, got {n}")));
    }
    if n > MAX_RANGE_SIZE {
        return Err(super::errors::fn_error(format!("size {n} exceeds maximum allowed ({MAX_RANGE_SIZE})")));
    }
    charge_bytes(n as u64 * ELEMENT_BYTES)?;
    let items: Vec<Box<dyn Val + 'v>> = (0..n).map(|i| Box::new(CelInt::from(i)) as Box<dyn Val + 'v>).collect();
    Ok(CowVal::owned(CelList::from(items)))
}

#[cfg(test)]
mod tests {
    use crate::cel::tests_util::{check, check_err};
    use serde_json::json;

    /// The rewritten functions answer as the `cel` crate's do.
    #[test]
    fn same_answers_as_the_extension_functions() {
        check("['a', 'b'].join()", json!("ab"));
        check("['a', 'b'].join('-')", json!("a-b"));
        check("[].join('-')", json!(""));
        check("'banana'.replace('a', 'o')", json!("bonono"));
        check("'banana'.replace('a', 'o', 2)", json!("bonona"));
        check("'banana'.replace('a', 'o', -1)", json!("bonono"));
        check("'ab'.replace('', '-')", json!("-a-b-"));
        check("'a,b,c'.split(',')", json!(["a", "b", "c"]));
        check("'a,b,c'.split(',', 2)", json!(["a", "b,c"]));
        check("'a,b,c'.split(',', 0)", json!([]));
        check("'abc'.split('')", json!(["a", "b", "c"]));
        check("'abc'.split('', 2)", json!(["a", "bc"]));
        check("lists.range(3)", json!([0, 1, 2]));
        check_err("lists.range(-1)", "size must be non-negative, got -1");
        check_err("[1].join()", "no such overload");
    }
}

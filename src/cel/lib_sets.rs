//! List-as-set functions: Cerbos's `except`, `intersect`, `hasIntersection`, `isSubset`
//! (global and member forms, plus the deprecated snake_case names) and cel-go's
//! `sets.contains`, `sets.equivalent`, `sets.intersects`.
//!
//! Membership is CEL equality, so `[1.0].isSubset([1])` holds, as in Cerbos since the
//! mixed int/double fix. Each runs in linear time: one list is hashed, the other looked up
//! (Cerbos's nested loops took seconds on two 50,000-element lists).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use cel::common::types::{CelBool, CelDouble, CelInt, CelList, CelMap, CelString, CelUInt, DYN_TYPE, LIST_TYPE};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env};

use super::budget::charge_steps;
use super::errors::no_such_overload_fn;
use super::funcs::{bool_val, list_arg, type_names, FnResult};

pub(crate) const DISTINCT: &str = "@distinct";

pub(crate) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    let lists = || vec![LIST_TYPE, LIST_TYPE];
    for (name, f) in [
        ("except", except as super::funcs::Fn),
        ("intersect", intersect),
        ("hasIntersection", has_intersection),
        ("has_intersection", has_intersection),
        ("isSubset", is_subset),
        ("is_subset", is_subset),
    ] {
        env.add_overload(name, &format!("{name}_overload"), lists(), f)?;
        env.add_member_overload(name, &format!("{name}_member_overload"), LIST_TYPE, vec![LIST_TYPE], f)?;
    }
    env.add_overload("sets.contains", "list_sets_contains_list", lists(), sets_contains)?;
    env.add_overload("sets.equivalent", "list_sets_equivalent_list", lists(), sets_equivalent)?;
    env.add_overload("sets.intersects", "list_sets_intersects_list", lists(), has_intersection)?;
    env.add_overload(DISTINCT, "@distinct_dyn", vec![DYN_TYPE], distinct)?;
    Ok(())
}

type ListPair<'a, 'v> = (&'a [Box<dyn Val + 'v>], &'a [Box<dyn Val + 'v>]);

fn two_lists<'a, 'b, 'v>(name: &str, args: &'a [CowVal<'b, 'v>]) -> Result<ListPair<'a, 'v>, cel::ExecutionError> {
    match (args.first().and_then(|a| list_arg(a.as_ref())), args.get(1).and_then(|a| list_arg(a.as_ref()))) {
        (Some(a), Some(b)) if args.len() == 2 => {
            // Linear work: hashing one list, looking the other up.
            charge_steps(a.len() as u64 + b.len() as u64)?;
            Ok((a, b))
        }
        _ => Err(no_such_overload_fn(name, &type_names(args))),
    }
}

/// Elements of the first list that are not in the second.
fn except<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (a, b) = two_lists("except", &args)?;
    let b = ValueSet::of(b);
    let items: Vec<Box<dyn Val + 'v>> = a.iter().filter(|e| !b.contains(e.as_ref())).map(|e| e.clone_as_boxed()).collect();
    Ok(CowVal::owned(CelList::from(items)))
}

/// Elements of the shorter list that are in the longer one, in the shorter list's order.
fn intersect<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (mut a, mut b) = two_lists("intersect", &args)?;
    if a.len() > b.len() {
        std::mem::swap(&mut a, &mut b);
    }
    let b = ValueSet::of(b);
    let items: Vec<Box<dyn Val + 'v>> = a.iter().filter(|e| b.contains(e.as_ref())).map(|e| e.clone_as_boxed()).collect();
    Ok(CowVal::owned(CelList::from(items)))
}

fn has_intersection<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (a, b) = two_lists("hasIntersection", &args)?;
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let small = ValueSet::of(small);
    Ok(bool_val(large.iter().any(|e| small.contains(e.as_ref()))))
}

/// Whether every element of the first list is in the second.
fn is_subset<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (a, b) = two_lists("isSubset", &args)?;
    let b = ValueSet::of(b);
    Ok(bool_val(a.iter().all(|e| b.contains(e.as_ref()))))
}

/// cel-go's `sets.contains(list, sublist)`: every element of the second is in the first.
fn sets_contains<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (a, b) = two_lists("sets.contains", &args)?;
    let a = ValueSet::of(a);
    Ok(bool_val(b.iter().all(|e| a.contains(e.as_ref()))))
}

fn sets_equivalent<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (a, b) = two_lists("sets.equivalent", &args)?;
    let (sa, sb) = (ValueSet::of(a), ValueSet::of(b));
    Ok(bool_val(a.iter().all(|e| sb.contains(e.as_ref())) && b.iter().all(|e| sa.contains(e.as_ref()))))
}

/// `list.distinct()`, rewritten to `@distinct(list)`: the first of each set of equal elements,
/// in order (CEL equality: `1`, `1u` and `1.0` are one element).
fn distinct<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let Some(list) = list_arg(args[0].as_ref()) else {
        return Err(cel::ExecutionError::no_such_overload("distinct", type_names(&args).into_iter().map(str::to_owned).collect()));
    };
    charge_steps(list.len() as u64)?;
    let mut seen = ValueSet::default();
    let mut items: Vec<Box<dyn Val + 'v>> = Vec::new();
    for e in list {
        if seen.insert(e.as_ref()) {
            items.push(e.clone_as_boxed());
        }
    }
    Ok(CowVal::owned(CelList::from(items)))
}

/// A set of values under CEL equality, looked up by a hash that equal values share: numbers
/// hash by their `f64` value (so `1`, `1u` and `1.0` meet), lists element-wise, maps
/// regardless of order, other values by type; `equals` decides within a bucket.
#[derive(Default)]
struct ValueSet<'a, 'v> {
    buckets: HashMap<u64, Vec<&'a (dyn Val + 'v)>>,
}

impl<'a, 'v> ValueSet<'a, 'v> {
    fn of(items: &'a [Box<dyn Val + 'v>]) -> Self {
        let mut set = ValueSet { buckets: HashMap::with_capacity(items.len()) };
        for e in items {
            set.insert(e.as_ref());
        }
        set
    }

    /// Adds `v`; false if an equal value was there.
    fn insert(&mut self, v: &'a (dyn Val + 'v)) -> bool {
        let bucket = self.buckets.entry(hash_of(v)).or_default();
        if bucket.iter().any(|e| e.equals(v)) {
            return false;
        }
        bucket.push(v);
        true
    }

    fn contains(&self, v: &dyn Val) -> bool {
        self.buckets.get(&hash_of(v)).is_some_and(|bucket| bucket.iter().any(|e| e.equals(v)))
    }
}

fn hash_of(v: &dyn Val) -> u64 {
    let mut h = DefaultHasher::new();
    hash_into(v, &mut h);
    h.finish()
}

fn hash_into(v: &dyn Val, h: &mut DefaultHasher) {
    let number = |f: f64| if f == 0.0 { 0.0f64.to_bits() } else { f.to_bits() };
    if let Some(i) = v.downcast_ref::<CelInt>() {
        (0u8, number(*i.inner() as f64)).hash(h);
    } else if let Some(u) = v.downcast_ref::<CelUInt>() {
        (0u8, number(*u.inner() as f64)).hash(h);
    } else if let Some(d) = v.downcast_ref::<CelDouble>() {
        (0u8, number(*d.inner())).hash(h);
    } else if let Some(s) = v.downcast_ref::<CelString>() {
        (1u8, s.inner()).hash(h);
    } else if let Some(b) = v.downcast_ref::<CelBool>() {
        (2u8, *b.inner()).hash(h);
    } else if let Some(l) = v.downcast_ref::<CelList>() {
        (3u8, l.inner().len()).hash(h);
        for e in l.inner() {
            hash_into(e.as_ref(), h);
        }
    } else if let Some(m) = v.downcast_ref::<CelMap>() {
        // Order-independent: the sum of the entries' hashes.
        let entries = m.inner().iter().fold(0u64, |acc, (k, val)| {
            let mut eh = DefaultHasher::new();
            hash_into(k.inner(), &mut eh);
            hash_into(val.as_ref(), &mut eh);
            acc.wrapping_add(eh.finish())
        });
        (4u8, m.inner().len(), entries).hash(h);
    } else {
        (5u8, v.get_type().name()).hash(h);
    }
}

#[cfg(test)]
mod tests {
    use crate::cel::tests_util::{check, check_err};
    use serde_json::json;

    #[test]
    fn set_functions() {
        check("except([1, 2, 3], [2])", json!([1, 3]));
        check("[1, 2, 3].except([2, 3])", json!([1]));
        check("intersect([1, 2, 3], [3, 1])", json!([3, 1]));
        check("[1, 2, 3].intersect([3, 1, 9, 8])", json!([1, 3]));
        check("hasIntersection(['a'], ['b', 'a'])", json!(true));
        check("has_intersection(['a'], ['b'])", json!(false));
        check("['a'].hasIntersection([])", json!(false));
        check("isSubset(['a'], ['b', 'a'])", json!(true));
        check("['a', 'c'].is_subset(['b', 'a'])", json!(false));
        check("[1.0].isSubset([1])", json!(true));
        check("sets.contains([1, 2], [2])", json!(true));
        check("sets.contains([2], [1, 2])", json!(false));
        check("sets.equivalent([1, 2, 2], [2, 1])", json!(true));
        check("sets.equivalent([1, 2], [2])", json!(false));
        check("sets.intersects([1, 2], [3, 2])", json!(true));
        check_err("except('a', [1])", "no such overload: except(string, list)");
    }
}

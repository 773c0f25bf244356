//! List-as-set functions: Cerbos's `except`, `intersect`, `hasIntersection`, `isSubset`
//! (global and member forms, plus the deprecated snake_case names) and cel-go's
//! `sets.contains`, `sets.equivalent`, `sets.intersects`.
//!
//! Membership is CEL equality, so `[1.0].isSubset([1])` holds, as in Cerbos since the
//! mixed int/double fix.

use cel::common::types::{CelList, LIST_TYPE};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env};

use super::errors::no_such_overload_fn;
use super::funcs::{bool_val, list_arg, list_contains, type_names, FnResult};

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
    Ok(())
}

type ListPair<'a, 'v> = (&'a [Box<dyn Val + 'v>], &'a [Box<dyn Val + 'v>]);

fn two_lists<'a, 'b, 'v>(name: &str, args: &'a [CowVal<'b, 'v>]) -> Result<ListPair<'a, 'v>, cel::ExecutionError> {
    match (args.first().and_then(|a| list_arg(a.as_ref())), args.get(1).and_then(|a| list_arg(a.as_ref()))) {
        (Some(a), Some(b)) if args.len() == 2 => Ok((a, b)),
        _ => Err(no_such_overload_fn(name, &type_names(args))),
    }
}

/// Elements of the first list that are not in the second.
fn except<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (a, b) = two_lists("except", &args)?;
    let items: Vec<Box<dyn Val + 'v>> = a.iter().filter(|e| !list_contains(b, e.as_ref())).map(|e| e.clone_as_boxed()).collect();
    Ok(CowVal::owned(CelList::from(items)))
}

/// Elements of the shorter list that are in the longer one, in the shorter list's order.
fn intersect<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (mut a, mut b) = two_lists("intersect", &args)?;
    if a.len() > b.len() {
        std::mem::swap(&mut a, &mut b);
    }
    let items: Vec<Box<dyn Val + 'v>> = a.iter().filter(|e| list_contains(b, e.as_ref())).map(|e| e.clone_as_boxed()).collect();
    Ok(CowVal::owned(CelList::from(items)))
}

fn has_intersection<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (a, b) = two_lists("hasIntersection", &args)?;
    Ok(bool_val(a.iter().any(|e| list_contains(b, e.as_ref()))))
}

/// Whether every element of the first list is in the second.
fn is_subset<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (a, b) = two_lists("isSubset", &args)?;
    Ok(bool_val(a.iter().all(|e| list_contains(b, e.as_ref()))))
}

/// cel-go's `sets.contains(list, sublist)`: every element of the second is in the first.
fn sets_contains<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (a, b) = two_lists("sets.contains", &args)?;
    Ok(bool_val(b.iter().all(|e| list_contains(a, e.as_ref()))))
}

fn sets_equivalent<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (a, b) = two_lists("sets.equivalent", &args)?;
    Ok(bool_val(a.iter().all(|e| list_contains(b, e.as_ref())) && b.iter().all(|e| list_contains(a, e.as_ref()))))
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

//! `hierarchy(...)`: Cerbos's `cerbos.lib.hierarchy` (internal/conditions/types/hierarchy.go).

use std::any::Any;

use cel::common::traits::{Indexer, Sizer};
use cel::common::types::{CelInt, CelString, Type, LIST_TYPE, STRING_TYPE};
use cel::common::value::{CowVal, StaticVal, Val};
use cel::{DeclarationError, Env, ExecutionError};

use super::errors::fn_error;
use super::funcs::{bool_val, str_arg, string_items, string_slice_error, string_val, FnResult};

pub(crate) static HIERARCHY_TYPE: Type = Type::new_unspecified_type("cerbos.lib.hierarchy");

/// A dot-separated path such as `a.b.c`, as its segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Hierarchy(pub Vec<String>);

impl Val for Hierarchy {
    fn get_type(&self) -> &Type {
        &HIERARCHY_TYPE
    }
    fn cel_type() -> &'static Type {
        &HIERARCHY_TYPE
    }
    fn as_indexer<'b, 'v>(&'b self) -> Option<&'b (dyn Indexer + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }
    fn as_sizer(&self) -> Option<&dyn Sizer> {
        Some(self)
    }
    fn equals(&self, other: &dyn Val) -> bool {
        other.downcast_ref::<Hierarchy>().is_some_and(|o| o == self)
    }
    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}
impl StaticVal for Hierarchy {}

impl Sizer for Hierarchy {
    fn size(&self) -> CelInt {
        CelInt::from(self.0.len() as i64)
    }
}

impl Indexer for Hierarchy {
    fn get<'b, 'v>(&'b self, idx: &dyn Val) -> Result<CowVal<'b, 'v>, ExecutionError>
    where
        Self: 'v,
    {
        let Some(i) = idx.downcast_ref::<CelInt>() else {
            return Err(fn_error(format!("unsupported index type '{}'", idx.get_type().name())));
        };
        let i = *i.inner();
        if i < 0 || i as u64 >= self.0.len() as u64 {
            return Err(fn_error("index out of range"));
        }
        Ok(CowVal::owned(CelString::from(self.0[i as usize].clone())))
    }
    fn steal<'v>(self: Box<Self>, idx: &dyn Val) -> Result<Box<dyn Val + 'v>, ExecutionError>
    where
        Self: 'v,
    {
        self.get(idx).map(CowVal::into_owned)
    }
}

pub(crate) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_type(HIERARCHY_TYPE.to_owned())?;
    env.add_overload("hierarchy", "hierarchy_string", vec![STRING_TYPE], hierarchy_from)?;
    env.add_overload("hierarchy", "hierarchy_stringarray", vec![LIST_TYPE], hierarchy_from)?;
    env.add_overload("hierarchy", "hierarchy_hierarchy", vec![HIERARCHY_TYPE.to_owned()], hierarchy_from)?;
    env.add_overload("hierarchy", "hierarchy_string_string", vec![STRING_TYPE, STRING_TYPE], hierarchy_delim)?;
    env.add_overload("size", "hierarchy_size_global", vec![HIERARCHY_TYPE.to_owned()], size)?;
    env.add_member_overload("size", "hierarchy_size", HIERARCHY_TYPE.to_owned(), vec![], size)?;
    env.add_overload("string", "hierarchy_to_string", vec![HIERARCHY_TYPE.to_owned()], to_string)?;
    let h = || HIERARCHY_TYPE.to_owned();
    env.add_member_overload("ancestorOf", "ancestorOf", h(), vec![h()], ancestor_of)?;
    env.add_member_overload("commonAncestors", "commonAncestors", h(), vec![h()], common_ancestors)?;
    env.add_member_overload("descendentOf", "descendentOf", h(), vec![h()], descendent_of)?;
    env.add_member_overload("immediateChildOf", "immediateChildOf", h(), vec![h()], immediate_child_of)?;
    env.add_member_overload("immediateParentOf", "immediateParentOf", h(), vec![h()], immediate_parent_of)?;
    env.add_member_overload("overlaps", "overlaps", h(), vec![h()], overlaps)?;
    env.add_member_overload("siblingOf", "siblingOf", h(), vec![h()], sibling_of)?;
    Ok(())
}

fn h<'a>(v: &'a CowVal<'_, '_>) -> &'a [String] {
    // The overload's signature guarantees the type.
    v.downcast_ref::<Hierarchy>().map(|h| h.0.as_slice()).unwrap_or(&[])
}

fn hierarchy_from<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let a = args[0].as_ref();
    if let Some(h) = a.downcast_ref::<Hierarchy>() {
        return Ok(CowVal::owned(h.clone()));
    }
    if let Some(s) = str_arg(a) {
        return Ok(CowVal::owned(Hierarchy(s.split('.').map(str::to_owned).collect())));
    }
    match string_items(a) {
        Some(items) => Ok(CowVal::owned(Hierarchy(items))),
        None => Err(string_slice_error(a)),
    }
}

fn hierarchy_delim<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let s = str_arg(args[0].as_ref()).unwrap_or_default();
    let d = str_arg(args[1].as_ref()).unwrap_or_default();
    // Go's strings.Split with an empty separator splits into UTF-8 characters.
    let parts: Vec<String> = if d.is_empty() { s.chars().map(String::from).collect() } else { s.split(d).map(str::to_owned).collect() };
    Ok(CowVal::owned(Hierarchy(parts)))
}

fn size<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(CowVal::owned(CelInt::from(h(&args[0]).len() as i64)))
}

fn to_string<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(string_val(h(&args[0]).join(".")))
}

fn is_prefix(short: &[String], long: &[String]) -> bool {
    short.iter().zip(long).all(|(a, b)| a == b)
}

fn ancestor_of_impl(h: &[String], child: &[String]) -> bool {
    child.len() > h.len() && is_prefix(h, child)
}

fn immediate_parent_of_impl(h: &[String], child: &[String]) -> bool {
    child.len() == h.len() + 1 && is_prefix(h, child)
}

fn ancestor_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(bool_val(ancestor_of_impl(h(&args[0]), h(&args[1]))))
}

fn descendent_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(bool_val(ancestor_of_impl(h(&args[1]), h(&args[0]))))
}

fn immediate_parent_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(bool_val(immediate_parent_of_impl(h(&args[0]), h(&args[1]))))
}

fn immediate_child_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(bool_val(immediate_parent_of_impl(h(&args[1]), h(&args[0]))))
}

/// Common leading segments; when both have the same length the last segment is left out,
/// so a hierarchy is not its own common ancestor.
fn common_ancestors<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (a, b) = (h(&args[0]), h(&args[1]));
    let (mut short, mut long) = if b.len() < a.len() { (b, a) } else { (a, b) };
    if short.len() == long.len() && !long.is_empty() {
        short = &short[..short.len() - 1];
        long = &long[..long.len() - 1];
    }
    let out: Vec<String> = short.iter().zip(long).take_while(|(x, y)| x == y).map(|(x, _)| x.clone()).collect();
    Ok(CowVal::owned(Hierarchy(out)))
}

fn overlaps<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (a, b) = (h(&args[0]), h(&args[1]));
    Ok(bool_val(is_prefix(a, b)))
}

/// Same length and same parent (a hierarchy is its own sibling, as in Cerbos).
fn sibling_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let (a, b) = (h(&args[0]), h(&args[1]));
    let same = a.len() == b.len() && (a.is_empty() || a[..a.len() - 1] == b[..b.len() - 1]);
    Ok(bool_val(same))
}

#[cfg(test)]
mod tests {
    use crate::cel::tests_util::{check, check_err};
    use serde_json::json;

    #[test]
    fn hierarchy_functions() {
        check(r#"hierarchy("a.b.c") == hierarchy(["a","b","c"])"#, json!(true));
        check(r#"hierarchy("a:b:c", ":").size() == 3"#, json!(true));
        check(r#"size(hierarchy("a.b"))"#, json!(2));
        check(r#"hierarchy("a.b").ancestorOf(hierarchy("a.b.c.d"))"#, json!(true));
        check(r#"hierarchy("a.b").ancestorOf(hierarchy("a.b"))"#, json!(false));
        check(r#"hierarchy("a.b.c.d").descendentOf(hierarchy("a.b"))"#, json!(true));
        check(r#"hierarchy("a.b.c").immediateChildOf(hierarchy("a.b"))"#, json!(true));
        check(r#"hierarchy("a.b.c.d").immediateChildOf(hierarchy("a.b"))"#, json!(false));
        check(r#"hierarchy("a.b").immediateParentOf(hierarchy("a.b.c"))"#, json!(true));
        check(r#"hierarchy("a.b.c").overlaps(hierarchy("a.b.c.d.e"))"#, json!(true));
        check(r#"hierarchy("a.b.x").overlaps(hierarchy("a.b.c.d.e"))"#, json!(false));
        check(r#"hierarchy("a.b.c").siblingOf(hierarchy("a.b.d"))"#, json!(true));
        check(r#"hierarchy("a.b.c").siblingOf(hierarchy("a.x.d"))"#, json!(false));
        check(r#"string(hierarchy("foo.bar.baz").commonAncestors(hierarchy("foo.bar")))"#, json!("foo.bar"));
        check(r#"string(hierarchy("a.b.c").commonAncestors(hierarchy("a.b.c")))"#, json!("a.b"));
        check(r#"hierarchy("a.b.c.d")[1]"#, json!("b"));
        check_err(r#"hierarchy("a.b")[5]"#, "index out of range");
        check_err(r#"hierarchy([1, 2])"#, "failed to convert list to string slice: type conversion error from int to 'string'");
    }
}

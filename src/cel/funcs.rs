//! Small helpers shared by the function implementations.

use cel::common::types::{CelBool, CelInt, CelList, CelString};
use cel::common::value::{CowVal, Val};
use cel::ExecutionError;

/// What every overload looks like to the interpreter.
pub(crate) type FnResult<'b, 'v> = Result<CowVal<'b, 'v>, ExecutionError>;

pub(crate) fn str_arg(v: &dyn Val) -> Option<&str> {
    v.downcast_ref::<CelString>().map(|s| s.inner())
}

pub(crate) fn list_arg<'a, 'v>(v: &'a (dyn Val + 'v)) -> Option<&'a [Box<dyn Val + 'v>]> {
    v.downcast_ref::<CelList>().map(|l| l.inner())
}

pub(crate) fn int_arg(v: &dyn Val) -> Option<i64> {
    v.downcast_ref::<CelInt>().map(|i| *i.inner())
}

pub(crate) fn bool_val<'b, 'v>(b: bool) -> CowVal<'b, 'v> {
    CowVal::Borrowed(if b { &CelBool::TRUE } else { &CelBool::FALSE })
}

pub(crate) fn string_val<'b, 'v>(s: String) -> CowVal<'b, 'v> {
    CowVal::owned(CelString::from(s))
}

/// The runtime type names of the arguments, for `no such overload: f(a, b)`.
pub(crate) fn type_names<'a>(args: &'a [CowVal<'_, '_>]) -> Vec<&'a str> {
    args.iter().map(|a| a.get_type().name()).collect()
}

/// A list of strings, or `None` if an element is not a string.
pub(crate) fn string_items(v: &dyn Val) -> Option<Vec<String>> {
    list_arg(v)?.iter().map(|e| str_arg(e.as_ref()).map(str::to_owned)).collect()
}

/// cel-go's `ConvertToNative([]string)` error for a list holding something else.
pub(crate) fn string_slice_error(v: &dyn Val) -> ExecutionError {
    let bad = list_arg(v).and_then(|l| l.iter().find(|e| str_arg(e.as_ref()).is_none())).map(|e| e.get_type().name().to_owned()).unwrap_or_default();
    super::errors::fn_error(format!("failed to convert list to string slice: type conversion error from {bad} to 'string'"))
}

/// An overload's implementation, as `Env::add_overload` takes it.
pub(crate) type Fn = cel::common::functions::Function;

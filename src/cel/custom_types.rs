//! Cerbos's own value types, for copying them out of an evaluation.

use std::any::Any;

use cel::common::value::Val;

use super::hierarchy::Hierarchy;
use super::network::{Cidr, Ip};
use super::spiffe::{Matcher, SpiffeId, TrustDomain};
use super::values::MsgVal;

/// An owned copy of one of our types, or `None` if `v` is not one.
pub(crate) fn clone_custom(v: &dyn Any) -> Option<Box<dyn Val + 'static>> {
    macro_rules! try_clone {
        ($($t:ty),*) => {$(
            if let Some(x) = v.downcast_ref::<$t>() {
                return Some(x.clone_as_boxed());
            }
        )*};
    }
    try_clone!(Hierarchy, Ip, Cidr, SpiffeId, TrustDomain, Matcher, MsgVal);
    None
}

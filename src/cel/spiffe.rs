//! SPIFFE helpers (Cerbos `internal/conditions/types/spiffe.go`, parsing as go-spiffe v2's
//! `spiffeid` package does).

use std::any::Any;

use cel::common::types::{Type, LIST_TYPE, STRING_TYPE};
use cel::common::value::{CowVal, StaticVal, Val};
use cel::{DeclarationError, Env};

use super::errors::{fn_error, no_such_overload_fn};
use super::funcs::{bool_val, list_arg, str_arg, string_val, type_names, FnResult};

pub(crate) static SPIFFE_ID_TYPE: Type = Type::new_unspecified_type("cerbos.lib.spiffeID");
pub(crate) static TRUST_DOMAIN_TYPE: Type = Type::new_unspecified_type("cerbos.lib.spiffeTrustDomain");
pub(crate) static MATCHER_TYPE: Type = Type::new_unspecified_type("cerbos.lib.spiffeMatcher");

const ERR_BAD_TD_CHAR: &str = "trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores";
const ERR_BAD_PATH_CHAR: &str = "path segment characters are limited to letters, numbers, dots, dashes, and underscores";
const ERR_DOT_SEGMENT: &str = "path cannot contain dot segments";
const ERR_NO_LEADING_SLASH: &str = "path must have a leading slash";
const ERR_EMPTY: &str = "cannot be empty";
const ERR_EMPTY_SEGMENT: &str = "path cannot contain empty segments";
const ERR_MISSING_TD: &str = "trust domain is missing";
const ERR_TRAILING_SLASH: &str = "path cannot have a trailing slash";
const ERR_WRONG_SCHEME: &str = "scheme is missing or invalid";
const SCHEME: &str = "spiffe://";

/// A SPIFFE ID: the whole string and where its path starts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SpiffeId {
    id: String,
    path_idx: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TrustDomain(String);

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Matcher {
    Any,
    OneOf(Vec<SpiffeId>),
    MemberOf(TrustDomain),
}

fn valid_td_char(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.' || c == b'_'
}

fn valid_path_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_'
}

fn validate_path(path: &str) -> Result<(), &'static str> {
    let p = path.as_bytes();
    if p.is_empty() {
        return Ok(());
    }
    if p[0] != b'/' {
        return Err(ERR_NO_LEADING_SLASH);
    }
    let (mut start, mut end) = (0, 0);
    while end < p.len() {
        let c = p[end];
        if c == b'/' {
            match &path[start..end] {
                "/" => return Err(ERR_EMPTY_SEGMENT),
                "/." | "/.." => return Err(ERR_DOT_SEGMENT),
                _ => {}
            }
            start = end;
            end += 1;
            continue;
        }
        if !valid_path_char(c) {
            return Err(ERR_BAD_PATH_CHAR);
        }
        end += 1;
    }
    match &path[start..end] {
        "/" => Err(ERR_TRAILING_SLASH),
        "/." | "/.." => Err(ERR_DOT_SEGMENT),
        _ => Ok(()),
    }
}

pub(crate) fn parse_id(id: &str) -> Result<SpiffeId, &'static str> {
    if id.is_empty() {
        return Err(ERR_EMPTY);
    }
    if !id.starts_with(SCHEME) {
        return Err(ERR_WRONG_SCHEME);
    }
    let b = id.as_bytes();
    let mut i = SCHEME.len();
    while i < b.len() {
        if b[i] == b'/' {
            break;
        }
        if !valid_td_char(b[i]) {
            return Err(ERR_BAD_TD_CHAR);
        }
        i += 1;
    }
    if i == SCHEME.len() {
        return Err(ERR_MISSING_TD);
    }
    validate_path(&id[i..])?;
    Ok(SpiffeId { id: id.to_owned(), path_idx: i })
}

pub(crate) fn parse_trust_domain(s: &str) -> Result<TrustDomain, &'static str> {
    if s.is_empty() {
        return Err(ERR_MISSING_TD);
    }
    if s.contains(":/") {
        return parse_id(s).map(|id| id.trust_domain());
    }
    if !s.bytes().all(valid_td_char) {
        return Err(ERR_BAD_TD_CHAR);
    }
    Ok(TrustDomain(s.to_owned()))
}

impl SpiffeId {
    fn trust_domain(&self) -> TrustDomain {
        TrustDomain(self.id[SCHEME.len()..self.path_idx].to_owned())
    }
    fn path(&self) -> &str {
        &self.id[self.path_idx..]
    }
}

impl Matcher {
    fn matches(&self, id: &SpiffeId) -> bool {
        match self {
            Matcher::Any => true,
            Matcher::OneOf(ids) => ids.contains(id),
            Matcher::MemberOf(td) => id.trust_domain() == *td,
        }
    }
}

impl Val for SpiffeId {
    fn get_type(&self) -> &Type {
        &SPIFFE_ID_TYPE
    }
    fn cel_type() -> &'static Type {
        &SPIFFE_ID_TYPE
    }
    fn equals(&self, other: &dyn Val) -> bool {
        if let Some(o) = other.downcast_ref::<SpiffeId>() {
            return o.id == self.id;
        }
        str_arg(other).is_some_and(|s| s == self.id)
    }
    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}
impl StaticVal for SpiffeId {}

impl Val for TrustDomain {
    fn get_type(&self) -> &Type {
        &TRUST_DOMAIN_TYPE
    }
    fn cel_type() -> &'static Type {
        &TRUST_DOMAIN_TYPE
    }
    fn equals(&self, other: &dyn Val) -> bool {
        if let Some(o) = other.downcast_ref::<TrustDomain>() {
            return o == self;
        }
        str_arg(other).is_some_and(|s| parse_trust_domain(s).is_ok_and(|td| td == *self))
    }
    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}
impl StaticVal for TrustDomain {}

impl Val for Matcher {
    fn get_type(&self) -> &Type {
        &MATCHER_TYPE
    }
    fn cel_type() -> &'static Type {
        &MATCHER_TYPE
    }
    fn equals(&self, _other: &dyn Val) -> bool {
        false
    }
    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}
impl StaticVal for Matcher {}

fn id_error(e: &str) -> cel::ExecutionError {
    fn_error(format!("failed to parse SPIFFE ID: {e}"))
}

fn td_error(e: &str) -> cel::ExecutionError {
    fn_error(format!("failed to parse SPIFFE trust domain: {e}"))
}

fn spiffe_id<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let s = str_arg(args[0].as_ref()).unwrap_or_default();
    parse_id(s).map(CowVal::owned).map_err(id_error)
}

fn spiffe_trust_domain<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let a = args[0].as_ref();
    if let Some(id) = a.downcast_ref::<SpiffeId>() {
        return Ok(CowVal::owned(id.trust_domain()));
    }
    if let Some(td) = a.downcast_ref::<TrustDomain>() {
        return Ok(CowVal::owned(td.clone()));
    }
    let s = str_arg(a).unwrap_or_default();
    parse_trust_domain(s).map(CowVal::owned).map_err(td_error)
}

fn match_any<'b, 'v>(_args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(CowVal::owned(Matcher::Any))
}

fn match_exact<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let a = args[0].as_ref();
    let id = match a.downcast_ref::<SpiffeId>() {
        Some(id) => id.clone(),
        None => parse_id(str_arg(a).unwrap_or_default()).map_err(id_error)?,
    };
    Ok(CowVal::owned(Matcher::OneOf(vec![id])))
}

fn match_one_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let items = list_arg(args[0].as_ref()).unwrap_or(&[]);
    if let Some(ids) = items.iter().map(|e| e.downcast_ref::<SpiffeId>().cloned()).collect::<Option<Vec<_>>>() {
        return Ok(CowVal::owned(Matcher::OneOf(ids)));
    }
    let parsed = items.iter().map(|e| str_arg(e.as_ref()).and_then(|s| parse_id(s).ok())).collect::<Option<Vec<_>>>();
    match parsed {
        Some(ids) => Ok(CowVal::owned(Matcher::OneOf(ids))),
        None => Err(fn_error("no such overload")),
    }
}

fn match_trust_domain<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let a = args[0].as_ref();
    let td = match a.downcast_ref::<TrustDomain>() {
        Some(td) => td.clone(),
        None => parse_trust_domain(str_arg(a).unwrap_or_default()).map_err(td_error)?,
    };
    Ok(CowVal::owned(Matcher::MemberOf(td)))
}

fn is_member_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    match (args[0].downcast_ref::<SpiffeId>(), args[1].downcast_ref::<TrustDomain>()) {
        (Some(id), Some(td)) => Ok(bool_val(id.trust_domain() == *td)),
        _ => Err(no_such_overload_fn("isMemberOf", &type_names(&args))),
    }
}

fn id_path<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(string_val(args[0].downcast_ref::<SpiffeId>().map(|i| i.path().to_owned()).unwrap_or_default()))
}

fn id_trust_domain<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    match args[0].downcast_ref::<SpiffeId>() {
        Some(id) => Ok(CowVal::owned(id.trust_domain())),
        None => Err(fn_error("no such overload")),
    }
}

fn td_id<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let td = args[0].downcast_ref::<TrustDomain>().map(|t| t.0.clone()).unwrap_or_default();
    Ok(string_val(if td.is_empty() { String::new() } else { format!("{SCHEME}{td}") }))
}

fn td_name<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(string_val(args[0].downcast_ref::<TrustDomain>().map(|t| t.0.clone()).unwrap_or_default()))
}

fn matches_id<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let Some(m) = args[0].downcast_ref::<Matcher>() else {
        return Err(fn_error("no such overload"));
    };
    let id = match args[1].downcast_ref::<SpiffeId>() {
        Some(id) => id.clone(),
        None => parse_id(str_arg(args[1].as_ref()).unwrap_or_default()).map_err(|e| fn_error(format!("invalid SPIFFE ID: {e}")))?,
    };
    Ok(bool_val(m.matches(&id)))
}

fn to_string<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let a = args[0].as_ref();
    if let Some(id) = a.downcast_ref::<SpiffeId>() {
        return Ok(string_val(id.id.clone()));
    }
    if let Some(td) = a.downcast_ref::<TrustDomain>() {
        return Ok(string_val(td.0.clone()));
    }
    Err(fn_error("no such overload"))
}

pub(crate) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    let id = || SPIFFE_ID_TYPE.to_owned();
    let td = || TRUST_DOMAIN_TYPE.to_owned();
    let m = || MATCHER_TYPE.to_owned();
    env.add_type(id())?;
    env.add_type(td())?;
    env.add_type(m())?;
    env.add_overload("spiffeID", "spiffeID_string", vec![STRING_TYPE], spiffe_id)?;
    env.add_overload("spiffeTrustDomain", "spiffeTrustDomain_string", vec![STRING_TYPE], spiffe_trust_domain)?;
    env.add_overload("spiffeTrustDomain", "spiffeTrustDomain_spiffeID", vec![id()], spiffe_trust_domain)?;
    env.add_overload("spiffeTrustDomain", "spiffeTrustDomain_td", vec![td()], spiffe_trust_domain)?;
    env.add_overload("spiffeMatchAny", "spiffeMatchAny", vec![], match_any)?;
    env.add_overload("spiffeMatchExact", "spiffeMatchExact_spiffeID", vec![id()], match_exact)?;
    env.add_overload("spiffeMatchExact", "spiffeMatchExact_string", vec![STRING_TYPE], match_exact)?;
    env.add_overload("spiffeMatchOneOf", "spiffeMatchOneOf_list", vec![LIST_TYPE], match_one_of)?;
    env.add_overload("spiffeMatchTrustDomain", "spiffeMatchTrustDomain_td", vec![td()], match_trust_domain)?;
    env.add_overload("spiffeMatchTrustDomain", "spiffeMatchTrustDomain_string", vec![STRING_TYPE], match_trust_domain)?;
    env.add_member_overload("isMemberOf", "isMemberOf", id(), vec![td()], is_member_of)?;
    env.add_member_overload("path", "spiffeID_path", id(), vec![], id_path)?;
    env.add_member_overload("trustDomain", "spiffeID_trustDomain", id(), vec![], id_trust_domain)?;
    env.add_member_overload("id", "spiffeTrustDomain_id", td(), vec![], td_id)?;
    env.add_member_overload("name", "spiffeTrustDomain_name", td(), vec![], td_name)?;
    env.add_member_overload("matchesID", "matchesID_spiffeID", m(), vec![id()], matches_id)?;
    env.add_member_overload("matchesID", "matchesID_string", m(), vec![STRING_TYPE], matches_id)?;
    env.add_overload("string", "spiffeID_to_string", vec![id()], to_string)?;
    env.add_overload("string", "spiffeTrustDomain_to_string", vec![td()], to_string)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cel::tests_util::{check, check_err};
    use serde_json::json;

    #[test]
    fn spiffe_functions() {
        check(r#"spiffeID("spiffe://cerbos.dev/ns/privileged").path()"#, json!("/ns/privileged"));
        check(r#"spiffeID("spiffe://cerbos.dev/ns/privileged").trustDomain().name()"#, json!("cerbos.dev"));
        check(r#"spiffeID("spiffe://cerbos.dev/ns/privileged").trustDomain().id()"#, json!("spiffe://cerbos.dev"));
        check(r#"spiffeID("spiffe://cerbos.dev/ns/x").isMemberOf(spiffeTrustDomain("spiffe://cerbos.dev"))"#, json!(true));
        check(r#"spiffeID("spiffe://cerbos.dev/ns/x").isMemberOf(spiffeTrustDomain("other.dev"))"#, json!(false));
        check(r#"spiffeMatchAny().matchesID(spiffeID("spiffe://a/b"))"#, json!(true));
        check(r#"spiffeMatchExact(spiffeID("spiffe://a/b")).matchesID("spiffe://a/b")"#, json!(true));
        check(r#"spiffeMatchExact("spiffe://a/b").matchesID("spiffe://a/c")"#, json!(false));
        check(r#"spiffeMatchOneOf(["spiffe://a/b", "spiffe://a/c"]).matchesID("spiffe://a/c")"#, json!(true));
        check(r#"spiffeMatchOneOf([spiffeID("spiffe://a/b")]).matchesID("spiffe://a/c")"#, json!(false));
        check(r#"spiffeMatchTrustDomain("cerbos.dev").matchesID("spiffe://cerbos.dev/x")"#, json!(true));
        check(r#"spiffeMatchTrustDomain(spiffeTrustDomain("x.dev")).matchesID("spiffe://cerbos.dev/x")"#, json!(false));
        check(r#"spiffeID("spiffe://a/b") == spiffeID("spiffe://a/b")"#, json!(true));
        check(r#"string(spiffeID("spiffe://a/b"))"#, json!("spiffe://a/b"));
        check_err(r#"spiffeID("http://a/b")"#, "failed to parse SPIFFE ID: scheme is missing or invalid");
        check_err(
            r#"spiffeID("spiffe://A/b")"#,
            "failed to parse SPIFFE ID: trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores",
        );
        check_err(r#"spiffeID("spiffe://a/b/")"#, "failed to parse SPIFFE ID: path cannot have a trailing slash");
        check_err(r#"spiffeMatchAny().matchesID("x")"#, "invalid SPIFFE ID: scheme is missing or invalid");
    }
}

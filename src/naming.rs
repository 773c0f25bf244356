//! Names every stage agrees on: what a well-formed scope is (policies at load and requests at the
//! API boundary are checked against the same rule, in Cerbos's words), and Cerbos's policy names
//! (`internal/namer`): the fully qualified names and keys under which the compiler files policies
//! and the evaluator looks them up.
use std::sync::LazyLock;

/// Cerbos's rule for scopes (protovalidate `string.pattern` on `scope` fields of policies and
/// requests): empty, `.` (the root), or dot-separated names, with no leading, trailing or doubled
/// dot. `\w` is ASCII here, as in RE2.
pub const SCOPE_PATTERN: &str = r"^(^$|\.|[0-9a-zA-Z][\w\-]*(\.\w[\w\-]*)*)$";

/// Whether `scope` matches [`SCOPE_PATTERN`] (checked by hand: a scope is read on every request).
pub fn is_valid_scope(scope: &str) -> bool {
    if scope.is_empty() || scope == "." {
        return true;
    }
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    scope.split('.').enumerate().all(|(i, segment)| match segment.as_bytes() {
        [first, rest @ ..] => (if i == 0 { first.is_ascii_alphanumeric() } else { word(*first) }) && rest.iter().all(|&c| word(c) || c == b'-'),
        [] => false,
    })
}

/// Refuses a malformed scope at `field` with protovalidate's message, as Cerbos's API does.
pub fn check_scope(scope: &str, field: &str) -> Result<(), String> {
    if is_valid_scope(scope) {
        Ok(())
    } else {
        Err(format!("{field}: value does not match regex pattern `{SCOPE_PATTERN}`"))
    }
}

pub const DEFAULT_VERSION: &str = "default";

static OLD_NAME_RE: LazyLock<regex::Regex> = LazyLock::new(|| regex::Regex::new(r"^[[:alpha:]][\w@.\-/]*(:[[:alpha:]][\w@.\-/]*)*$").unwrap());
static INVALID_IDENT_RE: LazyLock<regex::Regex> = LazyLock::new(|| regex::Regex::new(r"[^\w.]+").unwrap());

/// Cerbos keeps pre-0.30 names stable by replacing non-word characters (`album:object` -> `album_object`).
pub fn sanitize(v: &str) -> String {
    sanitized(v).into_owned()
}

/// [`sanitize`] without allocating when nothing changes (names of word characters and dots).
pub fn sanitized(v: &str) -> std::borrow::Cow<'_, str> {
    if v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.') {
        return std::borrow::Cow::Borrowed(v);
    }
    if OLD_NAME_RE.is_match(v) {
        INVALID_IDENT_RE.replace_all(v, "_")
    } else {
        std::borrow::Cow::Borrowed(v)
    }
}

fn with_scope(fqn: String, scope: &str) -> String {
    if scope.is_empty() {
        fqn
    } else {
        format!("{fqn}/{scope}")
    }
}

pub fn resource_policy_fqn(resource: &str, version: &str, scope: &str) -> String {
    with_scope(format!("cerbos.resource.{}.v{}", sanitize(resource), sanitize(version)), scope)
}

pub fn principal_policy_fqn(principal: &str, version: &str, scope: &str) -> String {
    with_scope(format!("cerbos.principal.{}.v{}", sanitize(principal), sanitize(version)), scope)
}

pub fn role_policy_fqn(role: &str, version: &str, scope: &str) -> String {
    let version = if version.is_empty() { DEFAULT_VERSION } else { version };
    with_scope(format!("cerbos.role.{}.v{}", sanitize(role), sanitize(version)), scope)
}

/// The key (FQN without `cerbos.`) of a resource policy, built with one allocation.
pub fn resource_policy_key(resource: &str, version: &str, scope: &str) -> String {
    let (r, v) = (sanitized(resource), sanitized(version));
    let mut key = String::with_capacity(11 + r.len() + v.len() + scope.len());
    key.push_str("resource.");
    key.push_str(&r);
    key.push_str(".v");
    key.push_str(&v);
    if !scope.is_empty() {
        key.push('/');
        key.push_str(scope);
    }
    key
}

pub fn policy_key(fqn: &str) -> &str {
    fqn.strip_prefix("cerbos.").unwrap_or(fqn)
}

/// The scope and its ancestors, most specific first, ending with the root "".
pub fn scope_parents(scope: &str) -> impl Iterator<Item = &str> {
    let bytes = scope.as_bytes();
    (0..bytes.len()).rev().filter(move |&i| bytes[i] == b'.' || i == 0).map(move |i| &scope[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_match_cerbos_pattern() {
        let re = regex::Regex::new(&SCOPE_PATTERN.replace(r"\w", "[0-9A-Za-z_]")).unwrap();
        let cases = [
            "",
            ".",
            "acme",
            "acme.hr",
            "acme.hr.uk",
            "a_b-c.d-e",
            "acme._x",
            "A9",
            "0.1",
            ".acme",
            "acme.",
            "a..b",
            "..",
            "-a",
            "_a",
            "a.-b",
            "a b",
            "a.b.",
            "é",
            "acme.é",
            "a/b",
            "a.b..c",
        ];
        for s in cases {
            assert_eq!(is_valid_scope(s), re.is_match(s), "{s:?}");
        }
        for bad in [".acme", "acme.", "a..b"] {
            assert_eq!(check_scope(bad, "resource.scope").unwrap_err(), format!("resource.scope: value does not match regex pattern `{SCOPE_PATTERN}`"));
        }
    }
}

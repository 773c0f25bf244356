//! Names every stage agrees on: what a well-formed scope is. Policies (at load) and requests (at
//! the API boundary) are checked against the same rule, in Cerbos's words.

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

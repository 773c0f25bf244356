//! Cerbos's wildcards: `github.com/gobwas/glob` compiled with `:` as the separator, used for
//! action, role and resource keys of rules and for a schema's `ignoreWhen` actions. `*` matches
//! within one `:`-separated part, `**` across parts, `?` one character of a part, `[a-z]`/`[!a-z]`
//! a class, `{a,b}` alternatives, `\` escapes. A bare `*` matches everything (Cerbos treats it
//! as `**`). Each glob is translated to an anchored regex once.
use regex::Regex;

/// A key of the rule table: Cerbos indexes a key as a glob only if it contains `*`; any other key
/// is compared literally.
#[derive(Debug, Clone)]
pub enum Pattern {
    Any,
    Literal(String),
    Glob(String, Regex),
}

impl Pattern {
    pub fn new(p: &str) -> Result<Pattern, String> {
        if p == "*" || p == "**" {
            return Ok(Pattern::Any);
        }
        if !p.contains('*') {
            return Ok(Pattern::Literal(p.to_string()));
        }
        compile(p).map(|re| Pattern::Glob(p.to_string(), re)).ok_or_else(|| format!("invalid wildcard `{p}`"))
    }

    /// Cerbos's `av == action || MatchesGlob(av, action)`: any text is also a glob (role
    /// policies' `allowActions` match this way, so `a?b` allows `axb`). Text that is no valid glob
    /// and has no `*` is compared literally, as Cerbos's equality test still matches it.
    pub fn glob(p: &str) -> Result<Pattern, String> {
        if p.contains(['?', '[', '{', '\\']) && !p.contains('*') {
            return Ok(compile(p).map_or_else(|| Pattern::Literal(p.to_string()), |re| Pattern::Glob(p.to_string(), re)));
        }
        Pattern::new(p)
    }

    pub fn matches(&self, s: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Literal(l) => l == s,
            Pattern::Glob(_, re) => re.is_match(s),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Pattern::Any => "*",
            Pattern::Literal(l) | Pattern::Glob(l, _) => l,
        }
    }

    pub fn literal(&self) -> Option<&str> {
        match self {
            Pattern::Literal(l) => Some(l),
            _ => None,
        }
    }
}

/// Compiles a glob to an anchored regex. `None` if the glob is malformed (Cerbos logs it and
/// treats it as matching nothing).
pub fn compile(glob: &str) -> Option<Regex> {
    let glob = if glob == "*" { "**" } else { glob };
    let mut re = String::from("^");
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    translate(&chars, &mut i, &mut re, false)?;
    if i != chars.len() {
        return None;
    }
    re.push('$');
    Regex::new(&re).ok()
}
/// Translates until the end or, inside `{...}`, until the closing `}` (left unconsumed).
fn translate(c: &[char], i: &mut usize, re: &mut String, in_alt: bool) -> Option<()> {
    while *i < c.len() {
        let ch = c[*i];
        match ch {
            '*' => {
                if c.get(*i + 1) == Some(&'*') {
                    re.push_str("(?s:.*)");
                    *i += 2;
                } else {
                    re.push_str("[^:]*");
                    *i += 1;
                }
            }
            '?' => {
                re.push_str("[^:]");
                *i += 1;
            }
            '[' => {
                *i += 1;
                let mut class = String::from("[");
                if c.get(*i) == Some(&'!') {
                    class.push('^');
                    *i += 1;
                }
                let start = *i;
                while *i < c.len() && c[*i] != ']' {
                    let x = c[*i];
                    if x == '-' && *i > start && c.get(*i + 1).is_some_and(|n| *n != ']') {
                        class.push('-');
                    } else {
                        class.push_str(&regex::escape(&x.to_string()));
                    }
                    *i += 1;
                }
                if *i >= c.len() || *i == start {
                    return None;
                }
                *i += 1; // ']'
                class.push(']');
                re.push_str(&class);
            }
            '{' => {
                *i += 1;
                re.push_str("(?:");
                loop {
                    translate(c, i, re, true)?;
                    match c.get(*i) {
                        Some(',') => {
                            re.push('|');
                            *i += 1;
                        }
                        Some('}') => {
                            *i += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
                re.push(')');
            }
            ',' | '}' if in_alt => return Some(()),
            '\\' => {
                let next = *c.get(*i + 1)?;
                re.push_str(&regex::escape(&next.to_string()));
                *i += 2;
            }
            other => {
                re.push_str(&regex::escape(&other.to_string()));
                *i += 1;
            }
        }
    }
    if in_alt {
        return None;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(glob: &str, value: &str) -> bool {
        compile(glob).is_some_and(|r| r.is_match(value))
    }

    #[test]
    fn gobwas_semantics_with_colon_separator() {
        assert!(matches("*", "view:public"));
        assert!(matches("*", "a:b:c"));
        assert!(matches("view:*", "view:public"));
        assert!(!matches("view:*", "view:public:x"));
        assert!(!matches("view:*", "view"));
        assert!(matches("view:**", "view:public:x"));
        assert!(matches("view:**", "view:a\nb"), "** matches any character");
        assert!(matches("a:*:d", "a:x:d"));
        assert!(!matches("a:*:d", "a:x"));
        assert!(matches("v?ew:*", "view:x"));
        assert!(!matches("a?b", "a:b"), "? does not match the separator");
        assert!(matches("{view,edit}:*", "edit:x"));
        assert!(!matches("{view,edit}:*", "delete:x"));
        assert!(matches("[a-c]x", "bx"));
        assert!(!matches("[!a-c]x", "bx"));
        assert!(matches("v[0-9]:*", "v1:a"));
        assert!(!matches("v[0-9]:*", "vx:a"));
        assert!(matches("[.]x", ".x") && !matches("[.]x", "ax"), "class members are literal");
        assert!(matches(r"a\*b", "a*b") && !matches(r"a\*b", "axb"));
        assert!(matches("a.b", "a.b"));
        assert!(!matches("a.b", "axb"));
        for malformed in ["[", "[]", "a[b", "{a,b", "a\\"] {
            assert!(compile(malformed).is_none(), "{malformed}");
        }
    }

    #[test]
    fn keys_are_globs_only_with_a_star() {
        assert!(Pattern::new("*").unwrap().matches(""));
        assert!(Pattern::new("view:*").unwrap().matches("view:public"));
        let literal = Pattern::new("a?b").unwrap();
        assert!(literal.matches("a?b") && !literal.matches("axb"));
        assert_eq!(Pattern::new("v[:*").unwrap_err(), "invalid wildcard `v[:*`");
        let glob = Pattern::glob("a?b").unwrap();
        assert!(glob.matches("axb") && !glob.matches("a:b"), "Cerbos's MatchesGlob reads any text as a glob");
        assert!(Pattern::glob("{read,list}").unwrap().matches("list"));
        assert!(Pattern::glob("read").unwrap().literal() == Some("read"));
        let malformed = Pattern::glob("a[").unwrap();
        assert!(malformed.matches("a[") && !malformed.matches("ab"));
    }
}

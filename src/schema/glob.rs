//! Cerbos's action globs (`internal/util/globs_common.go`): gobwas/glob compiled with `:` as the
//! separator, a bare `*` being treated as `**`. Translated to a regex once per expression.

use regex::Regex;

/// Compiles a gobwas-style glob to an anchored regex. `None` if the glob is malformed (Cerbos
/// logs it and treats it as matching nothing).
pub(crate) fn compile(glob: &str) -> Option<Regex> {
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
pub(crate) fn matches(glob: &str, value: &str) -> bool {
    compile(glob).is_some_and(|r| r.is_match(value))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn cerbos_globs() {
        assert!(matches("*", "view:public"));
        assert!(matches("*", "a:b:c"));
        assert!(matches("view:*", "view:public"));
        assert!(!matches("view:*", "view:public:x"));
        assert!(matches("view:**", "view:public:x"));
        assert!(!matches("view:*", "defer"));
        assert!(matches("view:public", "view:public"));
        assert!(!matches("view:public", "view:publicx"));
        assert!(matches("v?ew:*", "view:x"));
        assert!(matches("{view,edit}:*", "edit:x"));
        assert!(matches("[a-c]x", "bx"));
        assert!(!matches("[!a-c]x", "bx"));
        assert!(matches("a.b", "a.b"));
        assert!(!matches("a.b", "axb"));
        assert!(!matches("[", "["));
    }
}

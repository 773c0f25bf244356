//! Cerbos's wildcard matching (gobwas/glob with ':' as separator).
//! A bare `*` matches everything; in any other pattern `*` stops at ':'.
//! A key is a glob only if it contains `*`; otherwise it is compared literally.
use regex::Regex;

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
        let re = Regex::new(&glob_to_regex(p)?).map_err(|e| format!("invalid wildcard `{p}`: {e}"))?;
        Ok(Pattern::Glob(p.to_string(), re))
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

/// Translates gobwas syntax (`*`, `**`, `?`, `[...]`, `[!...]`, `{a,b}`, `\` escapes) to an anchored regex.
fn glob_to_regex(p: &str) -> Result<String, String> {
    let mut out = String::from("^");
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut brace_depth = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' => {
                if i + 1 < chars.len() && chars[i + 1] == '*' {
                    out.push_str(".*");
                    i += 1;
                } else {
                    out.push_str("[^:]*");
                }
            }
            '?' => out.push_str("[^:]"),
            '[' => {
                let end = chars[i + 1..].iter().position(|&c| c == ']').map(|e| e + i + 1).ok_or_else(|| format!("invalid wildcard `{p}`: unclosed `[`"))?;
                let mut class: String = chars[i + 1..end].iter().collect();
                if let Some(rest) = class.strip_prefix('!') {
                    class = format!("^{rest}");
                }
                out.push('[');
                out.push_str(&class.replace('\\', "\\\\").replace('[', "\\["));
                out.push(']');
                i = end;
            }
            '{' => {
                brace_depth += 1;
                out.push_str("(?:");
            }
            '}' if brace_depth > 0 => {
                brace_depth -= 1;
                out.push(')');
            }
            ',' if brace_depth > 0 => out.push('|'),
            '\\' if i + 1 < chars.len() => {
                i += 1;
                out.push_str(&regex::escape(&chars[i].to_string()));
            }
            other => out.push_str(&regex::escape(&other.to_string())),
        }
        i += 1;
    }
    if brace_depth != 0 {
        return Err(format!("invalid wildcard `{p}`: unclosed `{{`"));
    }
    out.push('$');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_star_matches_everything() {
        let p = Pattern::new("*").unwrap();
        assert!(p.matches("view:public:x"));
        assert!(p.matches(""));
    }

    #[test]
    fn star_stops_at_separator() {
        let p = Pattern::new("view:*").unwrap();
        assert!(p.matches("view:public"));
        assert!(!p.matches("view"));
        assert!(!p.matches("view:a:b"));
        let p = Pattern::new("a:*:d").unwrap();
        assert!(p.matches("a:x:d"));
        assert!(!p.matches("a:x"));
    }

    #[test]
    fn keys_without_star_are_literal() {
        let p = Pattern::new("a?b").unwrap();
        assert!(p.matches("a?b"));
        assert!(!p.matches("axb"));
    }

    #[test]
    fn alternatives_and_classes() {
        let p = Pattern::new("{read,write}:*").unwrap();
        assert!(p.matches("read:x"));
        assert!(!p.matches("delete:x"));
        let p = Pattern::new("v[0-9]:*").unwrap();
        assert!(p.matches("v1:a"));
        assert!(!p.matches("vx:a"));
    }
}

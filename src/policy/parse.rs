//! Text (YAML or JSON) to a checked policy document, collecting every problem with its position.
use super::err::Problem;
use super::model::*;
use regex::Regex;
use serde_saphyr::Spanned;
use std::sync::LazyLock;

pub const API_VERSION: &str = "api.cerbos.dev/v1";

/// Where a spanned value sits in its file (1-based line and column).
pub fn pos<T>(s: &Spanned<T>) -> (u32, u32) {
    let l = &s.referenced;
    (l.line() as u32, l.column() as u32)
}

/// Where a problem about a YAML node should point. For a node that begins on the line after its key
/// (a block scalar after `key: |-`, or a mapping after `key:`), the parser's span starts at the
/// content, while people (and Cerbos) expect the `|`/`>` indicator or the key.
pub fn node_start(text: &str, (line, column): (u32, u32)) -> (u32, u32) {
    if line < 2 {
        return (line, column);
    }
    let lines: Vec<&str> = text.lines().collect();
    let Some(current) = lines.get(line as usize - 1) else { return (line, column) };
    // Only when the span is at the first non-blank character of its line.
    let indent = current.len() - current.trim_start().len();
    if column as usize != indent + 1 {
        return (line, column);
    }
    let mut l = line as usize - 1;
    while l > 0 {
        l -= 1;
        let prev = lines[l].trim_end();
        if prev.trim().is_empty() {
            continue;
        }
        let last_token = prev.rsplit(|c: char| c.is_whitespace()).next().unwrap_or("");
        let is_indicator = !last_token.is_empty()
            && (last_token.starts_with('|') || last_token.starts_with('>'))
            && last_token[1..].chars().all(|c| c == '-' || c == '+' || c.is_ascii_digit());
        if is_indicator {
            let col = prev.len() - last_token.len() + 1;
            return ((l + 1) as u32, col as u32);
        }
        if prev.ends_with(':') {
            let key_indent = prev.len() - prev.trim_start().len();
            let key_col = if prev.trim_start().starts_with("- ") { key_indent + 3 } else { key_indent + 1 };
            return ((l + 1) as u32, key_col as u32);
        }
        break;
    }
    (line, column)
}

/// One parsed policy file.
#[derive(Debug)]
pub struct SourcePolicy {
    pub file: String,
    pub text: String,
    pub doc: PolicyDoc,
}

impl SourcePolicy {
    pub fn is_disabled(&self) -> bool {
        self.doc.disabled
    }
}

// Field patterns from Cerbos's proto validation rules.
static NAME_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[^!*?\[\]{}]+$").unwrap());
static VERSION_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\w+$").unwrap());
static ROLE_VERSION_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\w*$").unwrap());
static RULE_NAME_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^([a-zA-Z][\w@.\-]*)*$").unwrap());
static SET_NAME_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[\w\-.]+$").unwrap());

/// Parses one policy file. Returns every problem found, not just the first.
pub fn parse_policy(file: &str, text: &str) -> Result<SourcePolicy, Vec<Problem>> {
    let doc: PolicyDoc = serde_saphyr::from_str(text).map_err(|e| vec![yaml_problem(file, &e)])?;
    let mut problems = Vec::new();
    check_doc(file, &doc, &mut problems);
    if problems.is_empty() {
        Ok(SourcePolicy { file: file.to_string(), text: text.to_string(), doc })
    } else {
        Err(problems)
    }
}

fn yaml_problem(file: &str, e: &serde_saphyr::Error) -> Problem {
    let (line, column) = e.location().map(|l| (l.line() as u32, l.column() as u32)).unwrap_or((0, 0));
    // The crate's Display adds a source snippet; keep the first line, which is the message.
    let full = e.to_string();
    let msg = full.lines().find(|l| !l.trim().is_empty()).unwrap_or("invalid policy document").trim();
    let msg = msg.strip_prefix("error: ").unwrap_or(msg);
    Problem::new(file, (line, column), format!("invalid policy document: {msg}"))
}

fn check_doc(file: &str, doc: &PolicyDoc, out: &mut Vec<Problem>) {
    match &doc.api_version {
        None => out.push(Problem::new(file, (1, 1), format!("missing `apiVersion`: it must be `{API_VERSION}`"))),
        Some(v) if v.value != API_VERSION => {
            out.push(Problem::new(file, pos(v), format!("unsupported `apiVersion` `{}`: it must be `{API_VERSION}`", v.value)))
        }
        _ => {}
    }
    let kinds = [
        doc.resource_policy.is_some(),
        doc.principal_policy.is_some(),
        doc.derived_roles.is_some(),
        doc.export_variables.is_some(),
        doc.export_constants.is_some(),
        doc.role_policy.is_some(),
    ];
    let n = kinds.iter().filter(|k| **k).count();
    if n != 1 {
        out.push(Problem::new(
            file,
            (1, 1),
            format!(
                "a policy file must define exactly one of `resourcePolicy`, `principalPolicy`, `derivedRoles`, \
                 `exportVariables`, `exportConstants` or `rolePolicy` (found {n})"
            ),
        ));
    }
    let mut field = |ok: bool, at: (u32, u32), msg: String| {
        if !ok {
            out.push(Problem::new(file, at, msg));
        }
    };
    // Cerbos's validation message: a leading, trailing or doubled dot is refused at load.
    let check_scope = |s: &Option<Spanned<String>>, section: &str, field: &mut dyn FnMut(bool, (u32, u32), String)| {
        if let Some(s) = s {
            field(crate::naming::is_valid_scope(&s.value), pos(s), format!("{section}.scope: does not match regex pattern `{}`", crate::naming::SCOPE_PATTERN));
        }
    };
    let check_perm = |s: &Option<Spanned<String>>, field: &mut dyn FnMut(bool, (u32, u32), String)| {
        if let Some(s) = s {
            field(
                matches!(
                    s.value.as_str(),
                    "SCOPE_PERMISSIONS_UNSPECIFIED" | "SCOPE_PERMISSIONS_OVERRIDE_PARENT" | "SCOPE_PERMISSIONS_REQUIRE_PARENTAL_CONSENT_FOR_ALLOWS"
                ),
                pos(s),
                format!(
                    "invalid `scopePermissions` `{}`: use SCOPE_PERMISSIONS_OVERRIDE_PARENT or \
                     SCOPE_PERMISSIONS_REQUIRE_PARENTAL_CONSENT_FOR_ALLOWS",
                    s.value
                ),
            );
        }
    };
    let check_effect = |e: &Spanned<String>, field: &mut dyn FnMut(bool, (u32, u32), String)| {
        field(e.value == "EFFECT_ALLOW" || e.value == "EFFECT_DENY", pos(e), format!("invalid effect `{}`: use EFFECT_ALLOW or EFFECT_DENY", e.value));
    };
    let check_rule_name = |n: &Option<Spanned<String>>, field: &mut dyn FnMut(bool, (u32, u32), String)| {
        if let Some(n) = n {
            field(RULE_NAME_RE.is_match(&n.value), pos(n), format!("invalid rule name `{}`", n.value));
        }
    };
    let check_actions = |actions: &[Spanned<String>], at: (u32, u32), what: &str, field: &mut dyn FnMut(bool, (u32, u32), String)| {
        field(!actions.is_empty(), at, format!("`{what}` must list at least one action"));
        let mut seen = std::collections::HashSet::with_capacity(actions.len());
        for a in actions {
            field(!a.value.is_empty(), pos(a), "an action must not be empty".to_string());
            field(seen.insert(a.value.as_str()), pos(a), format!("action `{}` is listed twice", a.value));
        }
    };

    if let Some(rp) = &doc.resource_policy {
        let p = &rp.value;
        field(NAME_RE.is_match(&p.resource.value), pos(&p.resource), format!("invalid resource kind `{}`: wildcards are not allowed", p.resource.value));
        field(VERSION_RE.is_match(&p.version.value), pos(&p.version), format!("invalid version `{}`: use letters, digits and `_`", p.version.value));
        check_scope(&p.scope, "resourcePolicy", &mut field);
        check_perm(&p.scope_permissions, &mut field);
        for r in &p.rules {
            check_actions(&r.value.actions, pos(r), "actions", &mut field);
            check_effect(&r.value.effect, &mut field);
            check_rule_name(&r.value.name, &mut field);
        }
    }
    if let Some(pp) = &doc.principal_policy {
        let p = &pp.value;
        field(NAME_RE.is_match(&p.principal.value), pos(&p.principal), format!("invalid principal `{}`: wildcards are not allowed", p.principal.value));
        field(VERSION_RE.is_match(&p.version.value), pos(&p.version), format!("invalid version `{}`: use letters, digits and `_`", p.version.value));
        check_scope(&p.scope, "principalPolicy", &mut field);
        check_perm(&p.scope_permissions, &mut field);
        for r in &p.rules {
            field(!r.value.actions.is_empty(), pos(r), "a principal rule must list at least one action".to_string());
            for a in &r.value.actions {
                check_effect(&a.value.effect, &mut field);
                check_rule_name(&a.value.name, &mut field);
                field(!a.value.action.value.is_empty(), pos(&a.value.action), "an action must not be empty".to_string());
            }
        }
    }
    if let Some(dr) = &doc.derived_roles {
        let p = &dr.value;
        field(SET_NAME_RE.is_match(&p.name.value), pos(&p.name), format!("invalid derived roles name `{}`", p.name.value));
        field(!p.definitions.is_empty(), pos(dr), "`definitions` must define at least one derived role".to_string());
        for d in &p.definitions {
            field(SET_NAME_RE.is_match(&d.value.name.value), pos(&d.value.name), format!("invalid derived role name `{}`", d.value.name.value));
            field(!d.value.parent_roles.is_empty(), pos(d), format!("derived role `{}` must list at least one parent role", d.value.name.value));
        }
    }
    if let Some(ev) = &doc.export_variables {
        field(SET_NAME_RE.is_match(&ev.value.name.value), pos(&ev.value.name), format!("invalid export name `{}`", ev.value.name.value));
    }
    if let Some(ec) = &doc.export_constants {
        field(SET_NAME_RE.is_match(&ec.value.name.value), pos(&ec.value.name), format!("invalid export name `{}`", ec.value.name.value));
    }
    if let Some(rp) = &doc.role_policy {
        let p = &rp.value;
        field(NAME_RE.is_match(&p.role.value), pos(&p.role), format!("invalid role `{}`: wildcards are not allowed", p.role.value));
        if let Some(v) = &p.version {
            field(ROLE_VERSION_RE.is_match(&v.value), pos(v), format!("invalid version `{}`", v.value));
        }
        check_scope(&p.scope, "rolePolicy", &mut field);
        for r in &p.rules {
            check_actions(&r.value.allow_actions, pos(r), "allowActions", &mut field);
            check_rule_name(&r.value.name, &mut field);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_resource_policy() {
        let p = parse_policy(
            "a.yaml",
            "apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  resource: doc\n  version: default\n  rules:\n    - actions: [read]\n      roles: [user]\n      effect: EFFECT_ALLOW\n",
        )
        .unwrap();
        let rp = p.doc.resource_policy.unwrap();
        assert_eq!(rp.value.resource.value, "doc");
        assert_eq!(pos(&rp.value.resource), (3, 13));
    }

    #[test]
    fn unknown_field_names_line() {
        let e = parse_policy("a.yaml", "apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  resource: doc\n  version: default\n  foo: 1\n").unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(e[0].message.contains("foo"), "{}", e[0].message);
        assert_eq!(e[0].line, 5);
    }

    #[test]
    fn bad_effect_and_version_reported_together() {
        let e = parse_policy(
            "a.yaml",
            "apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  resource: doc\n  version: 'a b'\n  rules:\n    - actions: [read]\n      roles: [user]\n      effect: ALLOW\n",
        )
        .unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(e[1].line, 8);
    }

    #[test]
    fn malformed_scopes_are_refused_where_they_are_written() {
        let policies = [
            ("resourcePolicy", "resourcePolicy:\n  resource: doc\n  version: default\n"),
            ("principalPolicy", "principalPolicy:\n  principal: u\n  version: default\n"),
            ("rolePolicy", "rolePolicy:\n  role: admin\n"),
        ];
        for (section, head) in policies {
            for scope in [".acme", "acme.", "a..b"] {
                let text = format!("apiVersion: api.cerbos.dev/v1\n{head}  scope: \"{scope}\"\n");
                let e = parse_policy("a.yaml", &text).unwrap_err();
                let line = text.lines().position(|l| l.contains("scope:")).unwrap() as u32 + 1;
                assert_eq!((e.len(), e[0].line), (1, line), "{e:?}");
                assert_eq!(e[0].message, format!("{section}.scope: does not match regex pattern `{}`", crate::naming::SCOPE_PATTERN));
            }
            for scope in ["acme", "acme.hr", ".", ""] {
                let text = format!("apiVersion: api.cerbos.dev/v1\n{head}  scope: \"{scope}\"\n");
                assert!(!parse_policy("a.yaml", &text).err().unwrap_or_default().iter().any(|p| p.message.contains("scope")), "{scope:?}");
            }
        }
    }

    #[test]
    fn json_is_accepted() {
        let p = parse_policy(
            "a.json",
            "{\"apiVersion\": \"api.cerbos.dev/v1\", \"derivedRoles\": {\"name\": \"x\", \"definitions\": [{\"name\": \"o\", \"parentRoles\": [\"user\"]}]}}",
        )
        .unwrap();
        assert!(p.doc.derived_roles.is_some());
    }
}

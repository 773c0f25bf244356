//! Load-time checks regorus leaves to evaluation: which syntax a file is in, and whether every
//! function a policy calls exists. regorus only notices an unknown function when a decision
//! reaches the call (and `http.send` is a stub returning undefined), so a policy calling an
//! OPA built-in warden does not have would deny silently; here it fails the load instead, with
//! the file and line.
use std::collections::HashSet;

use regorus::unstable::{Expr, Literal, Module, Parser, Query, Rule, RuleHead, Source, BUILTINS};
use regorus::utils::get_path_string;

use super::{RegoError, Syntax};

fn parse_with(name: &str, text: &str, v1: bool) -> anyhow::Result<Module> {
    let source = Source::from_contents(name.to_string(), text.to_string())?;
    let mut parser = Parser::new(&source)?;
    if v1 {
        parser.enable_rego_v1()?;
    }
    parser.parse()
}

/// Line of the first `file:LINE` in a regorus message (0 if none), to pick the parse that got further.
fn error_line(msg: &str, name: &str) -> u32 {
    msg.find(name)
        .and_then(|i| msg[i + name.len()..].strip_prefix(':'))
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

fn has_rego_v1_import(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        l.starts_with("import") && l["import".len()..].trim_start().starts_with("rego.v1")
    })
}

/// Parse one policy. `Auto`: `import rego.v1` means v1; otherwise v1 if it parses as v1, else v0
/// (OPA 1.x's `--v0-compatible` files: `allow { ... }`, `default allow = false`). When neither
/// parses, the error is the one from the syntax that got further into the file.
pub fn parse(name: &str, text: &str, syntax: Syntax) -> Result<(Module, Syntax), RegoError> {
    let fmt = |e: anyhow::Error| format!("{e:#}");
    match syntax {
        Syntax::V1 => parse_with(name, text, true).map(|m| (m, Syntax::V1)).map_err(|e| RegoError::load(fmt(e))),
        Syntax::V0 => parse_with(name, text, false).map(|m| (m, Syntax::V0)).map_err(|e| RegoError::load(fmt(e))),
        Syntax::Auto => {
            if has_rego_v1_import(text) {
                return parse_with(name, text, true).map(|m| (m, Syntax::V1)).map_err(|e| RegoError::load(fmt(e)));
            }
            let e1 = match parse_with(name, text, true) {
                Ok(m) => return Ok((m, Syntax::V1)),
                Err(e) => fmt(e),
            };
            let e0 = match parse_with(name, text, false) {
                Ok(m) => return Ok((m, Syntax::V0)),
                Err(e) => fmt(e),
            };
            // A v1 parser stopping at a rule body without `if` means the file is written in v0.
            let looks_v0 = e1.contains("`if` keyword is required") || e1.contains("`contains` keyword is required");
            let msg = if looks_v0 || error_line(&e0, name) > error_line(&e1, name) {
                format!("{e0}\n(read as Rego v0: it is not valid Rego v1 either)")
            } else {
                format!("{e1}\n(read as Rego v1: it is not valid Rego v0 either)")
            };
            Err(RegoError::load(msg))
        }
    }
}

/// Namespaces of OPA's built-in functions: a call into one of these that is neither a regorus
/// built-in nor a warden extension is an OPA built-in this engine does not provide.
const OPA_NAMESPACES: &[&str] = &[
    "http",
    "io",
    "crypto",
    "net",
    "time",
    "graphql",
    "rego",
    "opa",
    "providers",
    "json",
    "yaml",
    "units",
    "regex",
    "glob",
    "strings",
    "uuid",
    "semver",
    "base64",
    "base64url",
    "hex",
    "urlquery",
    "object",
    "array",
    "bits",
    "numbers",
    "rand",
    "trace",
    "walk",
    "time",
    "test",
];
/// OPA built-ins without a namespace.
const OPA_PLAIN: &[&str] = &[
    "trace",
    "walk",
    "print",
    "opa",
    "internal",
    "sprintf",
    "indexof_n",
    "any",
    "all",
    "re_match",
    "set_diff",
    "cast_array",
    "cast_set",
    "cast_string",
    "cast_boolean",
    "cast_null",
    "cast_object",
    "net.cidr_overlap",
];

struct Ctx<'a> {
    builtins_ok: &'a HashSet<String>,
    functions: &'a HashSet<String>,
    /// Last components of user functions: lenient resolution through imports and aliases.
    function_tails: &'a HashSet<String>,
    package: String,
    imports: Vec<(String, String)>,
    errors: Vec<String>,
}

impl Ctx<'_> {
    fn call(&mut self, fcn: &Expr) {
        let Ok(name) = get_path_string(fcn, None) else { return };
        if self.builtins_ok.contains(&name) || name == "print" {
            return;
        }
        let mut candidates = vec![name.clone(), format!("{}.{}", self.package, name)];
        let first = name.split('.').next().unwrap_or("");
        for (alias, target) in &self.imports {
            if alias == first {
                candidates.push(format!("{target}{}", &name[first.len()..]));
            }
        }
        if candidates.iter().any(|c| self.functions.contains(c)) {
            return;
        }
        let tail = name.rsplit('.').next().unwrap_or("");
        if (name.starts_with("data.") || self.imports.iter().any(|(a, _)| a == first)) && self.function_tails.contains(tail) {
            return;
        }
        let span = fcn.span();
        let ns = name.split('.').next().unwrap_or("");
        let msg = if (name.contains('.') && OPA_NAMESPACES.contains(&ns)) || OPA_PLAIN.contains(&name.as_str()) {
            format!("unsupported built-in `{name}`: OPA provides it, warden's Rego engine does not (it would make every decision that reaches it undefined)")
        } else {
            format!("undefined function `{name}`")
        };
        self.errors.push(format!("{}:{}:{}: {msg}", span.source.get_path(), span.line, span.col));
    }

    fn expr(&mut self, e: &Expr) {
        match e {
            Expr::String { .. } | Expr::RawString { .. } | Expr::Number { .. } | Expr::Bool { .. } | Expr::Null { .. } | Expr::Var { .. } => {}
            Expr::Array { items, .. } | Expr::Set { items, .. } => items.iter().for_each(|i| self.expr(i)),
            Expr::Object { fields, .. } => {
                for (_, k, v) in fields {
                    self.expr(k);
                    self.expr(v);
                }
            }
            Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
                self.expr(term);
                self.query(query);
            }
            Expr::ObjectCompr { key, value, query, .. } => {
                self.expr(key);
                self.expr(value);
                self.query(query);
            }
            Expr::Call { fcn, params, .. } => {
                self.call(fcn);
                params.iter().for_each(|p| self.expr(p));
            }
            Expr::UnaryExpr { expr, .. } => self.expr(expr),
            Expr::RefDot { refr, .. } => self.expr(refr),
            Expr::RefBrack { refr, index, .. } => {
                self.expr(refr);
                self.expr(index);
            }
            Expr::BinExpr { lhs, rhs, .. } | Expr::BoolExpr { lhs, rhs, .. } | Expr::ArithExpr { lhs, rhs, .. } | Expr::AssignExpr { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            Expr::Membership { key, value, collection, .. } => {
                if let Some(k) = key {
                    self.expr(k);
                }
                self.expr(value);
                self.expr(collection);
            }
        }
    }

    fn query(&mut self, q: &Query) {
        for stmt in &q.stmts {
            match &stmt.literal {
                Literal::SomeVars { .. } => {}
                Literal::SomeIn { key, value, collection, .. } => {
                    if let Some(k) = key {
                        self.expr(k);
                    }
                    self.expr(value);
                    self.expr(collection);
                }
                Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => self.expr(expr),
                Literal::Every { domain, query, .. } => {
                    self.expr(domain);
                    self.query(query);
                }
            }
            for w in &stmt.with_mods {
                self.expr(&w.r#as);
            }
        }
    }

    fn rule(&mut self, r: &Rule) {
        match r {
            Rule::Spec { head, bodies, .. } => {
                match head {
                    RuleHead::Compr { assign, .. } => {
                        if let Some(a) = assign {
                            self.expr(&a.value);
                        }
                    }
                    RuleHead::Set { key, .. } => {
                        if let Some(k) = key {
                            self.expr(k);
                        }
                    }
                    RuleHead::Func { assign, .. } => {
                        if let Some(a) = assign {
                            self.expr(&a.value);
                        }
                    }
                }
                for b in bodies {
                    if let Some(a) = &b.assign {
                        self.expr(&a.value);
                    }
                    self.query(&b.query);
                }
            }
            Rule::Default { value, .. } => self.expr(value),
        }
    }
}

/// Every call in every module must be a regorus built-in, a warden extension (`extensions`) or a
/// function the policies define. All problems are reported together, each with file:line:col.
pub fn check_calls(modules: &[Module], extensions: &[&str]) -> Result<(), RegoError> {
    let mut builtins_ok: HashSet<String> = BUILTINS.keys().map(|k| k.to_string()).collect();
    builtins_ok.extend(extensions.iter().map(|s| s.to_string()));
    let mut functions = HashSet::new();
    let mut tails = HashSet::new();
    for m in modules {
        let Ok(pkg) = get_path_string(&m.package.refr, Some("data")) else { continue };
        for r in &m.policy {
            let refr = match r.as_ref() {
                Rule::Spec { head: RuleHead::Func { refr, .. }, .. } => refr,
                Rule::Default { refr, args, .. } if !args.is_empty() => refr,
                _ => continue,
            };
            if let Ok(p) = get_path_string(refr, Some(&pkg)) {
                tails.insert(p.rsplit('.').next().unwrap_or("").to_string());
                functions.insert(p);
            }
        }
    }
    let mut errors = Vec::new();
    for m in modules {
        let package = get_path_string(&m.package.refr, Some("data")).unwrap_or_default();
        let imports = m
            .imports
            .iter()
            .filter_map(|i| {
                let target = get_path_string(&i.refr, None).ok()?;
                let alias = match &i.r#as {
                    Some(s) => s.text().to_string(),
                    None => target.rsplit('.').next()?.to_string(),
                };
                Some((alias, target))
            })
            .collect();
        let mut ctx = Ctx { builtins_ok: &builtins_ok, functions: &functions, function_tails: &tails, package, imports, errors: vec![] };
        for r in &m.policy {
            ctx.rule(r);
        }
        errors.extend(ctx.errors);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(RegoError::load(errors.join("\n")))
    }
}

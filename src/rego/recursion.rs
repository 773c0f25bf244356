//! Recursion refused at load, as OPA's compiler refuses it (`rego_recursion_error`): regorus
//! evaluates a recursive function or rule until the native stack overflows, which kills the
//! process that embeds warden. The check builds the dependency graph of rules and functions
//! from the parsed modules (an edge for every call and every reference into `data` that can
//! reach a rule) and fails the load on any cycle, direct or mutual, naming its file:line and
//! the rules on the cycle.
//!
//! References are resolved as OPA resolves them: a variable declared in the rule (`:=`, `some`,
//! `every`, a function argument) is local; `data.…` is absolute; an import alias is replaced by
//! its target; any other name is a rule of the same package. A reference to a prefix of a rule's
//! path (`data.pkg` as a whole) depends on every rule under it.
use std::collections::{HashMap, HashSet};

use regorus::unstable::{AssignOp, Expr, Literal, Module, Query, Rule, RuleHead};
use regorus::utils::get_path_string;

use super::RegoError;

/// Cycles reported in one error at most (each is a separate policy bug).
const MAX_REPORTED: usize = 10;

/// The static part of a reference: `a.b["c"][x].d` → `["a", "b", "c"]`; empty when it does not
/// start at a variable.
fn static_path(e: &Expr, out: &mut Vec<String>) -> bool {
    match e {
        Expr::Var { span, .. } => {
            out.push(span.text().to_string());
            true
        }
        Expr::RefDot { refr, field, .. } => {
            let whole = static_path(refr, out);
            if whole {
                out.push(field.0.text().to_string());
            }
            whole
        }
        Expr::RefBrack { refr, index, .. } => {
            if !static_path(refr, out) {
                return false;
            }
            match index.as_ref() {
                Expr::String { value, .. } | Expr::RawString { value, .. } => match value.as_string() {
                    Ok(s) => {
                        out.push(s.to_string());
                        true
                    }
                    Err(_) => false,
                },
                _ => false,
            }
        }
        _ => false,
    }
}

/// Names a rule declares locally: function arguments, `:=` targets, `some`, `every` variables.
#[derive(Default)]
struct Locals(HashSet<String>);

impl Locals {
    fn vars_in(&mut self, e: &Expr) {
        match e {
            Expr::Var { span, .. } => {
                self.0.insert(span.text().to_string());
            }
            Expr::Array { items, .. } | Expr::Set { items, .. } => items.iter().for_each(|i| self.vars_in(i)),
            Expr::Object { fields, .. } => fields.iter().for_each(|(_, _, v)| self.vars_in(v)),
            _ => {}
        }
    }

    fn expr(&mut self, e: &Expr) {
        match e {
            Expr::AssignExpr { op: AssignOp::ColEq, lhs, rhs, .. } => {
                self.vars_in(lhs);
                self.expr(rhs);
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
            _ => {}
        }
    }

    fn query(&mut self, q: &Query) {
        for stmt in &q.stmts {
            match &stmt.literal {
                Literal::SomeVars { vars, .. } => vars.iter().for_each(|v| {
                    self.0.insert(v.text().to_string());
                }),
                Literal::SomeIn { key, value, .. } => {
                    if let Some(k) = key {
                        self.vars_in(k);
                    }
                    self.vars_in(value);
                }
                Literal::Every { key, value, query, .. } => {
                    if let Some(k) = key {
                        self.0.insert(k.text().to_string());
                    }
                    self.0.insert(value.text().to_string());
                    self.query(query);
                }
                Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => self.expr(expr),
            }
        }
    }
}

/// The rules of all modules by path, and which paths are prefixes of rule paths.
struct Rules {
    index: HashMap<String, usize>,
    /// `data.pkg` → every rule under it (strict prefixes of rule paths).
    under: HashMap<String, Vec<usize>>,
    /// Path and first definition (`file:line:col`) of each rule.
    nodes: Vec<(String, String)>,
}

impl Rules {
    fn add(&mut self, path: String, at: String) -> usize {
        if let Some(&i) = self.index.get(&path) {
            return i;
        }
        let i = self.nodes.len();
        let mut prefix = path.as_str();
        while let Some(dot) = prefix.rfind('.') {
            prefix = &prefix[..dot];
            self.under.entry(prefix.to_string()).or_default().push(i);
        }
        self.index.insert(path.clone(), i);
        self.nodes.push((path, at));
        i
    }

    /// Rules a reference to `path` depends on: the rule at a prefix of it, or every rule under it.
    fn reached_by(&self, path: &str, out: &mut Vec<usize>) {
        let mut end = 0;
        while end < path.len() {
            end = path[end + 1..].find('.').map(|i| end + 1 + i).unwrap_or(path.len());
            if let Some(&i) = self.index.get(&path[..end]) {
                out.push(i);
            }
        }
        if let Some(all) = self.under.get(path) {
            out.extend_from_slice(all);
        }
    }
}

/// The path a rule head defines (`data.pkg.name`), or `None` for heads without a static name.
fn head_path(r: &Rule, package: &str) -> Option<String> {
    let refr = match r {
        Rule::Spec { head: RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. } | RuleHead::Func { refr, .. }, .. } => refr,
        Rule::Default { refr, .. } => refr,
    };
    let mut parts = Vec::new();
    static_path(refr, &mut parts);
    (!parts.is_empty()).then(|| format!("{package}.{}", parts.join(".")))
}

/// Collects the rules one rule depends on.
struct Deps<'a> {
    rules: &'a Rules,
    package: &'a str,
    imports: &'a [(String, String)],
    locals: Locals,
    out: Vec<usize>,
}

impl Deps<'_> {
    fn reference(&mut self, parts: &[String]) {
        let Some(first) = parts.first() else { return };
        if first == "input" || first == "_" || self.locals.0.contains(first) {
            return;
        }
        let rest = parts[1..].join(".");
        let join = |head: &str| if rest.is_empty() { head.to_string() } else { format!("{head}.{rest}") };
        let path = if first == "data" {
            join("data")
        } else if let Some((_, target)) = self.imports.iter().find(|(alias, _)| alias == first) {
            if !target.starts_with("data") {
                return;
            }
            join(target)
        } else {
            join(&format!("{}.{first}", self.package))
        };
        self.rules.reached_by(&path, &mut self.out);
    }

    /// A reference chain: its static path, then the expressions inside its brackets.
    fn chain(&mut self, e: &Expr) {
        let mut parts = Vec::new();
        static_path(e, &mut parts);
        self.reference(&parts);
        let mut cur = e;
        loop {
            match cur {
                Expr::RefDot { refr, .. } => cur = refr,
                Expr::RefBrack { refr, index, .. } => {
                    self.expr(index);
                    cur = refr;
                }
                Expr::Var { .. } => break,
                other => {
                    self.expr(other);
                    break;
                }
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        match e {
            Expr::String { .. } | Expr::RawString { .. } | Expr::Number { .. } | Expr::Bool { .. } | Expr::Null { .. } => {}
            Expr::Var { .. } | Expr::RefDot { .. } | Expr::RefBrack { .. } => self.chain(e),
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
                let mut parts = Vec::new();
                if static_path(fcn, &mut parts) {
                    self.reference(&parts);
                }
                params.iter().for_each(|p| self.expr(p));
            }
            Expr::UnaryExpr { expr, .. } => self.expr(expr),
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
            // `with x as v`: `x` is replaced, not read; `v` is read.
            for w in &stmt.with_mods {
                self.expr(&w.r#as);
            }
        }
    }

    fn rule(&mut self, r: &Rule) {
        match r {
            Rule::Spec { head, bodies, .. } => {
                if let RuleHead::Func { args, .. } = head {
                    args.iter().for_each(|a| self.locals.vars_in(a));
                }
                for b in bodies {
                    self.locals.query(&b.query);
                }
                match head {
                    RuleHead::Compr { refr, assign, .. } | RuleHead::Func { refr, assign, .. } => {
                        self.head_keys(refr);
                        if let Some(a) = assign {
                            self.expr(&a.value);
                        }
                    }
                    RuleHead::Set { refr, key, .. } => {
                        self.head_keys(refr);
                        if let Some(k) = key {
                            self.expr(k);
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

    /// The bracketed keys of a rule head (`p[x]`, `p[f(y)]`) are read; its name is not.
    fn head_keys(&mut self, refr: &Expr) {
        let mut cur = refr;
        loop {
            match cur {
                Expr::RefDot { refr, .. } => cur = refr,
                Expr::RefBrack { refr, index, .. } => {
                    self.expr(index);
                    cur = refr;
                }
                _ => break,
            }
        }
    }
}

fn imports_of(m: &Module) -> Vec<(String, String)> {
    m.imports
        .iter()
        .filter_map(|i| {
            let target = get_path_string(&i.refr, None).ok()?;
            let alias = match &i.r#as {
                Some(s) => s.text().to_string(),
                None => target.rsplit('.').next()?.to_string(),
            };
            Some((alias, target))
        })
        .collect()
}

/// Fails when a rule or function depends on itself, directly or through others. Every cycle
/// found is reported (up to [`MAX_REPORTED`]), as `file:line:col: rego_recursion_error: rule
/// data.pkg.f is recursive: data.pkg.f -> data.pkg.g -> data.pkg.f`.
pub fn check_recursion(modules: &[Module]) -> Result<(), RegoError> {
    let mut rules = Rules { index: HashMap::new(), under: HashMap::new(), nodes: Vec::new() };
    let mut defined = Vec::new();
    for m in modules {
        let Ok(package) = get_path_string(&m.package.refr, Some("data")) else { continue };
        for r in &m.policy {
            if let Some(path) = head_path(r, &package) {
                let span = r.span();
                let at = format!("{}:{}:{}", span.source.get_path(), span.line, span.col);
                defined.push((rules.add(path, at), r.clone(), package.clone()));
            }
        }
    }
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); rules.nodes.len()];
    let mut module_imports = HashMap::new();
    for m in modules {
        if let Ok(package) = get_path_string(&m.package.refr, Some("data")) {
            module_imports.entry(package).or_insert_with(Vec::new).extend(imports_of(m));
        }
    }
    for (node, rule, package) in &defined {
        let imports = module_imports.get(package).map(Vec::as_slice).unwrap_or(&[]);
        let mut deps = Deps { rules: &rules, package, imports, locals: Locals::default(), out: Vec::new() };
        deps.rule(rule);
        edges[*node].extend(deps.out);
    }
    for e in &mut edges {
        e.sort_unstable();
        e.dedup();
    }
    let cycles = find_cycles(&edges);
    if cycles.is_empty() {
        return Ok(());
    }
    let messages: Vec<String> = cycles
        .iter()
        .map(|cycle| {
            let names: Vec<&str> = cycle.iter().chain(cycle.first()).map(|&i| rules.nodes[i].0.as_str()).collect();
            let (path, at) = &rules.nodes[cycle[0]];
            format!("{at}: rego_recursion_error: rule {path} is recursive: {}", names.join(" -> "))
        })
        .collect();
    Err(RegoError::load(messages.join("\n")))
}

/// Cycles of a directed graph, one per back edge found by an iterative depth-first search
/// (no native recursion: a chain of many rules must not overflow the stack here either).
fn find_cycles(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; edges.len()];
    let mut cycles = Vec::new();
    for root in 0..edges.len() {
        if mark[root] != Mark::New {
            continue;
        }
        // (node, next edge to follow); the stack is the current path.
        let mut stack = vec![(root, 0usize)];
        mark[root] = Mark::Open;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = edges[node].get(*next) {
                *next += 1;
                match mark[to] {
                    Mark::New => {
                        mark[to] = Mark::Open;
                        stack.push((to, 0));
                    }
                    Mark::Open => {
                        let start = stack.iter().position(|&(n, _)| n == to).unwrap_or(0);
                        cycles.push(stack[start..].iter().map(|&(n, _)| n).collect());
                        if cycles.len() >= MAX_REPORTED {
                            return cycles;
                        }
                    }
                    Mark::Done => {}
                }
            } else {
                mark[node] = Mark::Done;
                stack.pop();
            }
        }
    }
    cycles
}

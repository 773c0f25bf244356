//! Variables and constants of one policy (or one derived-roles set): definitions from local blocks,
//! imports and the deprecated top-level block. Redefinitions, undefined names, invalid names and
//! cycles are errors (Cerbos's wording); only the variables a policy uses are kept, in dependency
//! order with ties broken by name.
use super::table::Params;
use crate::cel::{self, CompiledExpr};
use crate::policy::model::{Constants, Variables};
use crate::policy::parse::pos;
use crate::policy::Problem;
use serde_json::Value as Json;
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Where a definition came from, for messages like Cerbos's.
#[derive(Clone)]
struct Origin {
    what: String,
    file: String,
    at: (u32, u32),
}

impl Origin {
    fn cite(&self) -> String {
        format!("{} ({}:{}:{})", self.what, self.file, self.at.0, self.at.1)
    }
}

#[derive(Clone)]
struct VarDef {
    expr: Arc<CompiledExpr>,
    origin: Origin,
}

pub struct ExportedVariables {
    pub file: String,
    defs: BTreeMap<String, (Arc<CompiledExpr>, (u32, u32))>,
}

pub struct ExportedConstants {
    pub file: String,
    defs: BTreeMap<String, (Json, (u32, u32))>,
}

#[derive(Default)]
pub struct Exports {
    pub variables: HashMap<String, ExportedVariables>,
    pub constants: HashMap<String, ExportedConstants>,
}

impl Exports {
    pub fn add_variables(&mut self, file: &str, name: &str, defs: &BTreeMap<String, Spanned<String>>, problems: &mut Vec<Problem>) {
        let mut out = BTreeMap::new();
        for (n, src) in defs {
            if let Err(m) = check_identifier(n) {
                problems.push(Problem::of("invalid variable name", file, pos(src), m));
            }
            if let Some(e) = compile_expr(file, src, problems) {
                out.insert(n.clone(), (e, pos(src)));
            }
        }
        self.variables.insert(name.to_string(), ExportedVariables { file: file.to_string(), defs: out });
    }

    pub fn add_constants(&mut self, file: &str, name: &str, defs: &BTreeMap<String, Spanned<Json>>, problems: &mut Vec<Problem>) {
        let mut out = BTreeMap::new();
        for (n, v) in defs {
            if let Err(m) = check_identifier(n) {
                problems.push(Problem::of("invalid constant name", file, pos(v), m));
            }
            out.insert(n.clone(), (v.value.clone(), pos(v)));
        }
        self.constants.insert(name.to_string(), ExportedConstants { file: file.to_string(), defs: out });
    }
}

thread_local! {
    /// Expressions compiled during the current [`with_compile_cache`] call, by source text:
    /// generated or copied policies repeat the same conditions many times.
    static COMPILED: std::cell::RefCell<Option<HashMap<String, Result<Arc<CompiledExpr>, String>>>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` with identical expression sources compiled once (compiling depends on the source
/// text only). The cache lives for this call only.
pub fn with_compile_cache<T>(f: impl FnOnce() -> T) -> T {
    struct Reset(Option<HashMap<String, Result<Arc<CompiledExpr>, String>>>);
    impl Drop for Reset {
        fn drop(&mut self) {
            COMPILED.with(|c| *c.borrow_mut() = self.0.take());
        }
    }
    // Restores what was there (None, or an outer call's cache), also on panic.
    let _reset = Reset(COMPILED.with(|c| c.borrow_mut().replace(HashMap::new())));
    f()
}

/// Compiles one expression, reporting `invalid expression` at its position.
pub fn compile_expr(file: &str, src: &Spanned<String>, problems: &mut Vec<Problem>) -> Option<Arc<CompiledExpr>> {
    let cached = COMPILED.with(|c| c.borrow().as_ref().and_then(|m| m.get(&src.value).cloned()));
    let result = cached.unwrap_or_else(|| {
        let result = cel::compile(&src.value).map(Arc::new).map_err(|e| e.to_string());
        COMPILED.with(|c| {
            if let Some(m) = c.borrow_mut().as_mut() {
                m.insert(src.value.clone(), result.clone());
            }
        });
        result
    });
    match result {
        Ok(e) => Some(e),
        Err(message) => {
            problems.push(Problem::of("invalid expression", file, pos(src), message));
            None
        }
    }
}

/// The variable and constant scope of one policy while it compiles.
pub struct ParamScope {
    file: String,
    variables: BTreeMap<String, VarDef>,
    /// Defined, but their expression did not compile (already reported).
    broken: BTreeSet<String>,
    constants: BTreeMap<String, Json>,
}

impl ParamScope {
    pub fn new(
        file: &str,
        variables: Option<&Variables>,
        top_level: Option<&BTreeMap<String, Spanned<String>>>,
        constants: Option<&Constants>,
        exports: &Exports,
        problems: &mut Vec<Problem>,
    ) -> ParamScope {
        let mut scope = ParamScope { file: file.to_string(), variables: BTreeMap::new(), broken: BTreeSet::new(), constants: BTreeMap::new() };

        // Every definition of every name, so a redefinition lists all of them as Cerbos does.
        let mut var_defs: BTreeMap<String, Vec<(Option<Arc<CompiledExpr>>, Origin)>> = BTreeMap::new();
        if let Some(v) = variables {
            for imp in &v.import {
                match exports.variables.get(&imp.value) {
                    Some(ev) => {
                        for (name, (expr, at)) in &ev.defs {
                            let origin = Origin { what: format!("import '{}'", imp.value), file: ev.file.clone(), at: *at };
                            var_defs.entry(name.clone()).or_default().push((Some(expr.clone()), origin));
                        }
                    }
                    None => problems.push(Problem::of("import not found", file, pos(imp), format!("Variables import '{}' cannot be found", imp.value))),
                }
            }
            for (name, src) in &v.local {
                if let Err(m) = check_identifier(name) {
                    problems.push(Problem::of("invalid variable name", file, pos(src), m));
                    continue;
                }
                let e = compile_expr(file, src, problems);
                let origin = Origin { what: "policy local variables".into(), file: file.into(), at: pos(src) };
                var_defs.entry(name.clone()).or_default().push((e, origin));
            }
        }
        if let Some(top) = top_level {
            for (name, src) in top {
                if let Err(m) = check_identifier(name) {
                    problems.push(Problem::of("invalid variable name", file, pos(src), m));
                    continue;
                }
                let e = compile_expr(file, src, problems);
                let origin = Origin { what: "deprecated top-level policy variables".into(), file: file.into(), at: pos(src) };
                var_defs.entry(name.clone()).or_default().push((e, origin));
            }
        }
        for (name, defs) in var_defs {
            if defs.len() > 1 {
                let cites: Vec<String> = defs.iter().map(|(_, o)| o.cite()).collect();
                let at = defs.iter().find(|(_, o)| o.file == file).map(|(_, o)| o.at).unwrap_or((0, 0));
                problems.push(Problem::of("variable redefined", file, at, format!("Variable '{name}' has multiple definitions in {}", join_and(&cites))));
                scope.broken.insert(name);
                continue;
            }
            match defs.into_iter().next() {
                Some((Some(expr), origin)) => {
                    scope.variables.insert(name, VarDef { expr, origin });
                }
                _ => {
                    scope.broken.insert(name);
                }
            }
        }

        if let Some(c) = constants {
            let mut const_defs: BTreeMap<String, Vec<(Json, Origin)>> = BTreeMap::new();
            for imp in &c.import {
                match exports.constants.get(&imp.value) {
                    Some(ec) => {
                        for (name, (value, at)) in &ec.defs {
                            let origin = Origin { what: format!("import '{}'", imp.value), file: ec.file.clone(), at: *at };
                            const_defs.entry(name.clone()).or_default().push((value.clone(), origin));
                        }
                    }
                    None => problems.push(Problem::of("import not found", file, pos(imp), format!("Constants import '{}' cannot be found", imp.value))),
                }
            }
            for (name, value) in &c.local {
                if let Err(m) = check_identifier(name) {
                    problems.push(Problem::of("invalid constant name", file, pos(value), m));
                    continue;
                }
                let origin = Origin { what: "policy local constants".into(), file: file.into(), at: pos(value) };
                const_defs.entry(name.clone()).or_default().push((value.value.clone(), origin));
            }
            for (name, defs) in const_defs {
                if defs.len() > 1 {
                    let cites: Vec<String> = defs.iter().map(|(_, o)| o.cite()).collect();
                    let at = defs.iter().find(|(_, o)| o.file == file).map(|(_, o)| o.at).unwrap_or((0, 0));
                    problems.push(Problem::of("constant redefined", file, at, format!("Constant '{name}' has multiple definitions in {}", join_and(&cites))));
                    continue;
                }
                if let Some((value, _)) = defs.into_iter().next() {
                    scope.constants.insert(name, value);
                }
            }
        }

        scope.check_variable_refs(problems);
        scope.check_cycles(problems);
        scope
    }

    /// Variables may only reference defined variables and constants.
    fn check_variable_refs(&self, problems: &mut Vec<Problem>) {
        for (name, def) in &self.variables {
            let at = def.origin.at;
            let file = &def.origin.file;
            for v in sorted(def.expr.variable_refs()) {
                if !self.variables.contains_key(v) && !self.broken.contains(v) {
                    problems.push(Problem::of("undefined variable", file, at, format!("Undefined variable '{v}' referenced in variable '{name}'")));
                }
            }
            for c in sorted(def.expr.constant_refs()) {
                if !self.constants.contains_key(c) {
                    problems.push(Problem::of("undefined constant", file, at, format!("Undefined constant '{c}' referenced in variable '{name}'")));
                }
            }
        }
    }

    fn check_cycles(&self, problems: &mut Vec<Problem>) {
        // Strongly connected components (Tarjan's algorithm, iterative so that a long chain of
        // variables cannot exhaust the stack): each non-trivial one, or a self-reference, is a cycle.
        let names: Vec<&str> = self.variables.keys().map(String::as_str).collect();
        let number: HashMap<&str, usize> = names.iter().enumerate().map(|(i, &n)| (n, i)).collect();
        let edges: Vec<Vec<usize>> =
            names.iter().map(|n| self.variables[*n].expr.variable_refs().iter().filter_map(|w| number.get(w.as_str()).copied()).collect()).collect();
        const UNVISITED: usize = usize::MAX;
        let (mut index, mut low, mut on) = (vec![UNVISITED; names.len()], vec![0; names.len()], vec![false; names.len()]);
        let (mut stack, mut comps, mut next_index) = (Vec::new(), Vec::new(), 0);
        // (vertex, how many of its edges have been followed)
        let mut calls: Vec<(usize, usize)> = Vec::new();
        for root in 0..names.len() {
            if index[root] != UNVISITED {
                continue;
            }
            calls.push((root, 0));
            while let Some(&mut (v, ref mut followed)) = calls.last_mut() {
                if *followed == 0 && index[v] == UNVISITED {
                    (index[v], low[v]) = (next_index, next_index);
                    next_index += 1;
                    stack.push(v);
                    on[v] = true;
                }
                if let Some(&w) = edges[v].get(*followed) {
                    *followed += 1;
                    if index[w] == UNVISITED {
                        calls.push((w, 0));
                    } else if on[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                calls.pop();
                if let Some(&(parent, _)) = calls.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on[w] = false;
                        comp.push(names[w]);
                        if w == v {
                            break;
                        }
                    }
                    comps.push(comp);
                }
            }
        }
        for mut comp in comps {
            comp.sort();
            let first = &self.variables[comp[0]];
            if comp.len() == 1 {
                if first.expr.variable_refs().iter().any(|r| r == comp[0]) {
                    problems.push(Problem::of(
                        "cyclical variable definitions",
                        &first.origin.file,
                        first.origin.at,
                        format!("Variable '{}' references itself", comp[0]),
                    ));
                }
                continue;
            }
            let cites: Vec<String> = comp
                .iter()
                .map(|n| {
                    let o = &self.variables[*n].origin;
                    format!("'{n}' ({}:{}:{})", o.file, o.at.0, o.at.1)
                })
                .collect();
            problems.push(Problem::of(
                "cyclical variable definitions",
                &first.origin.file,
                first.origin.at,
                format!("Variables {} form a cycle", join_and(&cites)),
            ));
        }
    }

    /// Checks that a condition or output only names defined variables and constants.
    pub fn check_refs(&self, expr: &CompiledExpr, at: (u32, u32), problems: &mut Vec<Problem>) {
        for v in sorted(expr.variable_refs()) {
            if !self.variables.contains_key(v) && !self.broken.contains(v) {
                problems.push(Problem::of("undefined variable", &self.file, at, format!("Undefined variable '{v}'")));
            }
        }
        for c in sorted(expr.constant_refs()) {
            if !self.constants.contains_key(c) {
                problems.push(Problem::of("undefined constant", &self.file, at, format!("Undefined constant '{c}'")));
            }
        }
    }

    /// The params for a set of expressions: the variables they use, transitively, in dependency order.
    pub fn params_for<'e>(&self, exprs: impl IntoIterator<Item = &'e CompiledExpr>, key: usize) -> Params {
        let mut used: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<String> = exprs.into_iter().flat_map(|e| e.variable_refs().iter().cloned()).collect();
        while let Some(n) = todo.pop() {
            if let Some(d) = self.variables.get(&n) {
                if used.insert(n) {
                    todo.extend(d.expr.variable_refs().iter().cloned());
                }
            }
        }
        // Kahn's algorithm, always taking the alphabetically first ready variable: each variable
        // counts the used variables it waits for, and is ready at zero.
        let mut waiting: BTreeMap<&str, usize> = BTreeMap::new();
        let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
        for n in &used {
            let deps: BTreeSet<&str> = self.variables[n].expr.variable_refs().iter().map(String::as_str).filter(|d| used.contains(*d) && *d != n).collect();
            waiting.insert(n, deps.len());
            for d in deps {
                dependents.entry(d).or_default().push(n);
            }
        }
        let mut ready: BTreeSet<&str> = waiting.iter().filter(|(_, &w)| w == 0).map(|(&n, _)| n).collect();
        let mut order = Vec::with_capacity(used.len());
        while !waiting.is_empty() {
            // A cycle was already reported; take the rest in name order.
            let Some(next) = ready.pop_first().or_else(|| waiting.keys().next().copied()) else { break };
            waiting.remove(next);
            order.push((next.to_string(), self.variables[next].expr.clone()));
            for d in dependents.get(next).into_iter().flatten() {
                if let Some(w) = waiting.get_mut(d) {
                    *w = w.saturating_sub(1);
                    if *w == 0 {
                        ready.insert(d);
                    }
                }
            }
        }
        let constants = cel::Vars::from_json_map(&self.constants.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        Params { key, constants, variables: order }
    }
}

fn sorted(v: &[String]) -> Vec<&String> {
    let mut v: Vec<&String> = v.iter().collect();
    v.sort();
    v.dedup();
    v
}

/// "a", "a and b", "a, b, and c" as Cerbos writes lists.
fn join_and(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        2 => format!("{} and {}", items[0], items[1]),
        n => format!("{}, and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// CEL identifiers: a letter or `_`, then letters, digits or `_`; not a reserved word.
pub fn check_identifier(s: &str) -> Result<(), String> {
    const RESERVED: &[&str] = &[
        "true",
        "false",
        "null",
        "in",
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
    ];
    if RESERVED.contains(&s) {
        return Err(format!("\"{s}\" is a reserved keyword and can't be used as an identifier"));
    }
    let mut chars = s.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("\"{s}\" is not a valid identifier"))
    }
}

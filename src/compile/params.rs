//! Variables and constants of one policy (or one derived-roles set): definitions from local blocks,
//! imports and the deprecated top-level block; redefinitions, undefined names and cycles are errors;
//! only the variables a policy uses are kept, in dependency order (ties broken by name).
use super::table::Params;
use crate::cel::{self, CompiledExpr};
use crate::policy::model::{Constants, Variables};
use crate::policy::parse::pos;
use crate::policy::Problem;
use serde_json::Value as Json;
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

pub struct ExportedVariables {
    pub file: String,
    pub definitions: BTreeMap<String, (Arc<CompiledExpr>, (u32, u32))>,
}

pub struct ExportedConstants {
    pub file: String,
    pub definitions: BTreeMap<String, Json>,
}

pub struct Exports {
    pub variables: HashMap<String, ExportedVariables>,
    pub constants: HashMap<String, ExportedConstants>,
}

/// The variable and constant scope of one policy while it compiles.
pub struct ParamScope {
    file: String,
    variables: BTreeMap<String, (Arc<CompiledExpr>, String)>,
    constants: BTreeMap<String, Json>,
}

pub fn compile_expr(file: &str, src: &Spanned<String>, what: &str, problems: &mut Vec<Problem>) -> Option<Arc<CompiledExpr>> {
    match cel::compile(&src.value) {
        Ok(e) => Some(Arc::new(e)),
        Err(e) => {
            problems.push(Problem::new(file, pos(src), format!("invalid expression in {what} `{}`: {}", src.value.trim(), e.message)));
            None
        }
    }
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
        let mut scope = ParamScope { file: file.to_string(), variables: BTreeMap::new(), constants: BTreeMap::new() };
        let mut define_var = |name: &str, expr: Option<Arc<CompiledExpr>>, origin: String, at: (u32, u32), problems: &mut Vec<Problem>| {
            if !is_identifier(name) {
                problems.push(Problem::new(file, at, format!("invalid variable name `{name}`: it must be a valid CEL identifier")));
                return;
            }
            if let Some((_, prev)) = scope.variables.get(name) {
                problems.push(Problem::new(file, at, format!("variable `{name}` is defined more than once ({prev} and {origin})")));
                return;
            }
            if let Some(e) = expr {
                scope.variables.insert(name.to_string(), (e, origin));
            }
        };
        if let Some(v) = variables {
            for imp in &v.import {
                match exports.variables.get(&imp.value) {
                    Some(ev) => {
                        for (name, (expr, _)) in &ev.definitions {
                            define_var(name, Some(expr.clone()), format!("import `{}`", imp.value), pos(imp), problems);
                        }
                    }
                    None => problems.push(Problem::new(file, pos(imp), format!("variables import `{}` not found: no `exportVariables` policy has that name", imp.value))),
                }
            }
            for (name, src) in &v.local {
                let e = compile_expr(file, src, &format!("variable `{name}`"), problems);
                define_var(name, e, "local".to_string(), pos(src), problems);
            }
        }
        if let Some(top) = top_level {
            for (name, src) in top {
                let e = compile_expr(file, src, &format!("variable `{name}`"), problems);
                define_var(name, e, "top-level `variables`".to_string(), pos(src), problems);
            }
        }
        if let Some(c) = constants {
            let mut origins: BTreeMap<String, String> = BTreeMap::new();
            let mut define_const = |name: &str, value: &Json, origin: String, at: (u32, u32), problems: &mut Vec<Problem>| {
                if !is_identifier(name) {
                    problems.push(Problem::new(file, at, format!("invalid constant name `{name}`: it must be a valid CEL identifier")));
                    return;
                }
                if let Some(prev) = origins.get(name) {
                    problems.push(Problem::new(file, at, format!("constant `{name}` is defined more than once ({prev} and {origin})")));
                    return;
                }
                origins.insert(name.to_string(), origin);
                scope.constants.insert(name.to_string(), value.clone());
            };
            for imp in &c.import {
                match exports.constants.get(&imp.value) {
                    Some(ec) => {
                        for (name, value) in &ec.definitions {
                            define_const(name, value, format!("import `{}`", imp.value), pos(imp), problems);
                        }
                    }
                    None => problems.push(Problem::new(file, pos(imp), format!("constants import `{}` not found: no `exportConstants` policy has that name", imp.value))),
                }
            }
            for (name, value) in &c.local {
                define_const(name, value, "local".to_string(), (0, 0), problems);
            }
        }
        scope.check_cycles(problems);
        scope
    }

    fn check_cycles(&self, problems: &mut Vec<Problem>) {
        // Depth-first search over variable references; report each cycle once.
        let mut state: HashMap<&str, u8> = HashMap::new(); // 1 = on stack, 2 = done
        fn visit<'a>(s: &'a ParamScope, n: &'a str, state: &mut HashMap<&'a str, u8>, stack: &mut Vec<&'a str>, problems: &mut Vec<Problem>) {
            match state.get(n) {
                Some(2) => return,
                Some(1) => {
                    let start = stack.iter().position(|x| *x == n).unwrap_or(0);
                    let mut cycle: Vec<&str> = stack[start..].to_vec();
                    cycle.push(n);
                    problems.push(Problem::new(&s.file, (0, 0), format!("variables form a cycle: {}", cycle.join(" -> "))));
                    return;
                }
                _ => {}
            }
            let Some((e, _)) = s.variables.get(n) else { return };
            state.insert(n, 1);
            stack.push(n);
            for d in e.variable_refs() {
                if let Some((k, _)) = s.variables.get_key_value(d.as_str()) {
                    visit(s, k, state, stack, problems);
                }
            }
            stack.pop();
            state.insert(n, 2);
        }
        for n in self.variables.keys() {
            let mut stack = Vec::new();
            visit(self, n, &mut state, &mut stack, problems);
        }
    }

    /// Checks that an expression only names defined variables and constants.
    pub fn check_refs(&self, expr: &CompiledExpr, at: (u32, u32), problems: &mut Vec<Problem>) {
        for v in expr.variable_refs() {
            if !self.variables.contains_key(v) {
                problems.push(Problem::new(&self.file, at, format!("undefined variable `{v}` in `{}`", expr.source().trim())));
            }
        }
        for c in expr.constant_refs() {
            if !self.constants.contains_key(c) {
                problems.push(Problem::new(&self.file, at, format!("undefined constant `{c}` in `{}`", expr.source().trim())));
            }
        }
    }

    /// The params for a set of expressions: the variables they use, transitively, in dependency order.
    pub fn params_for<'e>(&self, exprs: impl IntoIterator<Item = &'e CompiledExpr>, key: usize) -> Params {
        let mut used: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<String> = exprs.into_iter().flat_map(|e| e.variable_refs().iter().cloned()).collect();
        while let Some(n) = todo.pop() {
            if let Some((e, _)) = self.variables.get(&n) {
                if used.insert(n) {
                    todo.extend(e.variable_refs().iter().cloned());
                }
            }
        }
        // Kahn's algorithm, always taking the alphabetically first ready variable.
        let mut order = Vec::with_capacity(used.len());
        let mut remaining = used.clone();
        while !remaining.is_empty() {
            let next = remaining
                .iter()
                .find(|n| self.variables[*n].0.variable_refs().iter().all(|d| !remaining.contains(d) || d == *n))
                .cloned();
            // A cycle was already reported; take the rest in name order.
            let next = next.unwrap_or_else(|| remaining.iter().next().unwrap().clone());
            remaining.remove(&next);
            order.push((next.clone(), self.variables[&next].0.clone()));
        }
        let constants = cel::json_to_value(&Json::Object(self.constants.iter().map(|(k, v)| (k.clone(), v.clone())).collect()));
        Params { key, constants, variables: order }
    }
}

/// CEL identifiers: a letter or `_`, then letters, digits or `_`; not a reserved word.
pub fn is_identifier(s: &str) -> bool {
    const RESERVED: &[&str] = &[
        "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import",
        "let", "loop", "package", "namespace", "return", "var", "void", "while",
    ];
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.contains(&s)
}

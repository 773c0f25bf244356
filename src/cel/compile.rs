//! Compiling a condition: parse, rewrite what the `cel` crate cannot express directly, and
//! run the checks Cerbos's type-checker and AST validators would fail on.
//!
//! Rewrites (applied to the parsed AST, which the interpreter then runs as is):
//! * `now()` -> the identifier `@now`, which the activation resolves to the request's time;
//!   `timeSince(t)` / `t.timeSince()` -> `@timeSince(t, @now)`.
//! * `has(m.f)` on a protobuf message (`request`, `P`, `R`, `runtime`, ...) ->
//!   `@has_field(m, "f")`, giving proto3 presence (an empty `P.scope` is absent).
//! * `cel.bind(x, init, body)` and the two-variable comprehensions (`all(k, v, p)`,
//!   `exists`, `existsOne`/`exists_one`, `transformList`, `transformMap`,
//!   `transformMapEntry`) -> single-variable comprehensions the interpreter supports.
//!
//! Checks (reported as compile errors, in cel-go's words): syntax errors, undeclared
//! identifiers and functions, unknown fields of the request messages, indexing
//! `V`/`C`/`G` with `[]`, and invalid literal durations, timestamps, regexes, IPs and CIDRs.

use std::sync::Arc;

use cel::common::ast::{operators, CallExpr, ComprehensionExpr, Expr, IdedExpr, ListExpr, LiteralValue, SelectExpr};
use cel::common::types::{CelBool, CelInt, CelString};
use cel::{Context, Env};

use super::errors::{CompileError, CompileIssue};
use super::lib_misc::{cached_regex, HAS_FIELD, INDEX_OF, LAST_INDEX_OF, MAP_INSERT, MATCHES, PAIRS, TIME_SINCE, TO_STRING};
use super::lib_sized;
use super::limits::{self, Limits};
use super::time_parse::{TO_DURATION, TO_TIMESTAMP};

/// The identifier `now()` is rewritten to.
pub(crate) const NOW_IDENT: &str = "@now";
const ITER: &str = "@it";
const ACCU: &str = "@result";

/// What compiling found out about an expression.
#[derive(Default, Debug, Clone)]
pub(crate) struct Analysis {
    pub variables: Vec<String>,
    pub constants: Vec<String>,
    pub globals: Vec<String>,
    pub uses_runtime: bool,
    pub uses_now: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Msg {
    Request,
    Principal,
    Resource,
    AuxData,
    Runtime,
}

impl Msg {
    fn type_name(self) -> &'static str {
        match self {
            Msg::Request => "cerbos.engine.v1.Request",
            Msg::Principal => "cerbos.engine.v1.Request.Principal",
            Msg::Resource => "cerbos.engine.v1.Request.Resource",
            Msg::AuxData => "cerbos.engine.v1.AuxData",
            Msg::Runtime => "cerbos.engine.v1.Runtime",
        }
    }

    /// The field's own message type, `Some(None)` for a non-message field, `None` if unknown.
    fn field(self, f: &str) -> Option<Option<Msg>> {
        match (self, f) {
            (Msg::Request, "principal") => Some(Some(Msg::Principal)),
            (Msg::Request, "resource") => Some(Some(Msg::Resource)),
            (Msg::Request, "aux_data" | "auxData") => Some(Some(Msg::AuxData)),
            (Msg::Principal, "id" | "roles" | "attr" | "policy_version" | "policyVersion" | "scope") => Some(None),
            (Msg::Resource, "kind" | "id" | "attr" | "policy_version" | "policyVersion" | "scope") => Some(None),
            (Msg::AuxData, "jwt" | "jwts") => Some(None),
            (Msg::Runtime, "effective_derived_roles" | "effectiveDerivedRoles") => Some(None),
            _ => None,
        }
    }
}

struct State<'e> {
    env: &'e Arc<Env>,
    probe: Context<'static, 'static>,
    issues: Vec<(String, u64)>,
    analysis: Analysis,
}

fn ided(expr: Expr) -> IdedExpr {
    IdedExpr { id: 0, expr }
}

fn ident(name: &str) -> IdedExpr {
    ided(Expr::Ident(name.to_owned()))
}

fn call(name: &str, args: Vec<IdedExpr>) -> IdedExpr {
    ided(Expr::Call(CallExpr { func_name: name.to_owned(), target: None, args }))
}

fn lit_bool(b: bool) -> IdedExpr {
    ided(Expr::Literal(LiteralValue::Boolean(CelBool::from(b))))
}

fn lit_int(i: i64) -> IdedExpr {
    ided(Expr::Literal(LiteralValue::Int(CelInt::from(i))))
}

fn lit_str(s: &str) -> IdedExpr {
    ided(Expr::Literal(LiteralValue::String(CelString::from(s.to_owned()))))
}

fn empty_list() -> IdedExpr {
    ided(Expr::List(ListExpr::new(Vec::new())))
}

/// `cel.bind(name, init, body)`: a comprehension over nothing whose accumulator is `name`.
fn bind(name: &str, init: IdedExpr, body: IdedExpr) -> IdedExpr {
    ided(Expr::Comprehension(Box::new(ComprehensionExpr {
        iter_range: empty_list(),
        iter_var: "#unused".to_owned(),
        iter_var2: None,
        accu_var: name.to_owned(),
        accu_init: init,
        loop_cond: lit_bool(false),
        loop_step: ident(name),
        result: body,
    })))
}

/// Binds the two iteration variables from the current `@it` pair around `e`.
fn with_pair(k: &str, v: &str, e: IdedExpr) -> IdedExpr {
    let item = |i| call(operators::INDEX, vec![ident(ITER), lit_int(i)]);
    bind(k, item(0), bind(v, item(1), e))
}

fn simple_name(e: &IdedExpr) -> Option<String> {
    match &e.expr {
        Expr::Ident(n) => Some(n.clone()),
        _ => None,
    }
}

impl<'e> State<'e> {
    fn issue(&mut self, msg: impl Into<String>, id: u64) {
        self.issues.push((msg.into(), id));
    }

    /// Whether a function of that name (global or member) is declared.
    fn declared(&mut self, name: &str) -> bool {
        // `Context::add_function` refuses exactly the names the Env declares.
        self.probe.add_function(name, || false).is_err()
    }

    fn is_type_name(&self, name: &str) -> bool {
        self.env.types().find_type(name).is_some()
    }

    /// The message type `e` statically has, when it is a path into the request.
    fn msg_of(&self, e: &IdedExpr, scope: &[String]) -> Option<Msg> {
        match &e.expr {
            Expr::Ident(n) if !scope.contains(n) => match n.as_str() {
                "request" => Some(Msg::Request),
                "P" => Some(Msg::Principal),
                "R" => Some(Msg::Resource),
                "runtime" => Some(Msg::Runtime),
                _ => None,
            },
            Expr::Select(s) if !s.test => self.msg_of(&s.operand, scope)?.field(&s.field)?,
            _ => None,
        }
    }

    fn record_var_ref(&mut self, root: &str, field: &str) {
        let list = match root {
            "V" | "variables" => &mut self.analysis.variables,
            "C" | "constants" => &mut self.analysis.constants,
            "G" | "globals" => &mut self.analysis.globals,
            _ => return,
        };
        if !list.iter().any(|x| x == field) {
            list.push(field.to_owned());
        }
    }

    /// cel-go's compile-time check of `'...'.format([...])` with literal format and list.
    fn validate_format_call(&mut self, c: &CallExpr, id: u64) {
        let (Some(target), [arg]) = (c.target.as_deref(), c.args.as_slice()) else { return };
        let (Expr::Literal(LiteralValue::String(fmt)), Expr::List(list)) = (&target.expr, &arg.expr) else { return };
        if !list.optional_indices.is_empty() {
            return;
        }
        let mut clauses = 0;
        let mut chars = fmt.inner().chars().peekable();
        while let Some(ch) = chars.next() {
            if ch == '%' {
                if chars.peek() == Some(&'%') {
                    chars.next();
                } else {
                    clauses += 1;
                }
            }
        }
        if list.elements.len() > clauses {
            self.issue(format!("too many arguments supplied to string.format (expected {clauses}, got {})", list.elements.len()), id);
        }
    }

    fn validate_literal_call(&mut self, c: &CallExpr, id: u64) {
        let first = match c.args.first().map(|a| &a.expr) {
            Some(Expr::Literal(LiteralValue::String(s))) => s.inner().to_owned(),
            _ => return,
        };
        let arg_id = c.args[0].id;
        let _ = id;
        match (c.func_name.as_str(), c.target.is_some()) {
            ("duration", false) if super::time_parse::parse_go_duration(&first).is_err() => {
                self.issue("invalid duration argument", arg_id);
            }
            ("timestamp", false) if super::time_parse::parse_go_timestamp(&first).is_err() => {
                self.issue("invalid timestamp argument", arg_id);
            }
            ("matches", _) if cached_regex(&first).is_err() => {
                self.issue("invalid matches argument", arg_id);
            }
            ("ip", false) => {
                if let Err(e) = super::network::check_ip_literal(&first) {
                    self.issue(format!("invalid ip argument: {e}"), arg_id);
                }
            }
            ("cidr", false) => {
                if let Err(e) = super::network::check_cidr_literal(&first) {
                    self.issue(format!("invalid cidr argument: {e}"), arg_id);
                }
            }
            _ => {}
        }
    }

    /// Rewrites a node in place when needed; returns true if it did (so it is visited again).
    fn rewrite(&mut self, e: &mut IdedExpr, scope: &[String]) -> bool {
        let id = e.id;
        match &mut e.expr {
            Expr::Call(c) if c.target.is_none() && c.func_name == "now" && c.args.is_empty() && !scope.iter().any(|s| s == "now") => {
                self.analysis.uses_now = true;
                *e = IdedExpr { id, expr: Expr::Ident(NOW_IDENT.to_owned()) };
                true
            }
            Expr::Call(c) if c.func_name == "timeSince" && ((c.target.is_none() && c.args.len() == 1) || (c.target.is_some() && c.args.is_empty())) => {
                self.analysis.uses_now = true;
                let arg = match c.target.take() {
                    Some(t) => *t,
                    None => c.args.remove(0),
                };
                *e = IdedExpr { id, expr: Expr::Call(CallExpr { func_name: TIME_SINCE.to_owned(), target: None, args: vec![arg, ident(NOW_IDENT)] }) };
                true
            }
            Expr::Call(c) if c.target.is_none() && c.args.len() == 1 && matches!(c.func_name.as_str(), "string" | "duration" | "timestamp") => {
                // Checked before renaming: the literal validators look for these names.
                self.validate_literal_call(c, id);
                c.func_name = match c.func_name.as_str() {
                    "string" => TO_STRING,
                    "duration" => TO_DURATION,
                    _ => TO_TIMESTAMP,
                }
                .to_owned();
                true
            }
            Expr::Call(c) if c.target.is_some() && c.args.len() == 2 && matches!(c.func_name.as_str(), "indexOf" | "lastIndexOf") => {
                let name = if c.func_name == "indexOf" { INDEX_OF } else { LAST_INDEX_OF };
                let mut args = vec![*c.target.take().unwrap_or_default()];
                args.append(&mut c.args);
                *e = IdedExpr { id, expr: Expr::Call(CallExpr { func_name: name.to_owned(), target: None, args }) };
                true
            }
            Expr::Call(c)
                if c.target.is_some()
                    && lib_sized::rewrite_target(&c.func_name, true, c.args.len()).is_some()
                    && !c.target.as_deref().is_some_and(|t| self.is_namespace_call(t, &c.func_name, scope)) =>
            {
                // Budget-aware versions of `join`, `replace`, `split` (see `lib_sized`).
                let name = lib_sized::rewrite_target(&c.func_name, true, c.args.len()).unwrap_or_default();
                let mut args = vec![*c.target.take().unwrap_or_default()];
                args.append(&mut c.args);
                *e = IdedExpr { id, expr: Expr::Call(CallExpr { func_name: name.to_owned(), target: None, args }) };
                true
            }
            Expr::Call(c)
                if c.func_name == "range"
                    && c.args.len() == 1
                    && matches!(c.target.as_deref().map(|t| &t.expr), Some(Expr::Ident(n)) if n == "lists" && !scope.iter().any(|s| s == "lists")) =>
            {
                c.target = None;
                c.func_name = lib_sized::RANGE.to_owned();
                true
            }
            Expr::Call(c) if c.func_name == "matches" && ((c.target.is_none() && c.args.len() == 2) || (c.target.is_some() && c.args.len() == 1)) => {
                self.validate_literal_call(c, id);
                let mut args = Vec::with_capacity(2);
                if let Some(t) = c.target.take() {
                    args.push(*t);
                }
                args.append(&mut c.args);
                *e = IdedExpr { id, expr: Expr::Call(CallExpr { func_name: MATCHES.to_owned(), target: None, args }) };
                true
            }
            Expr::Call(c)
                if c.func_name == "bind" && c.args.len() == 3 && matches!(c.target.as_deref().map(|t| &t.expr), Some(Expr::Ident(n)) if n == "cel") =>
            {
                let Some(name) = simple_name(&c.args[0]) else {
                    self.issue("cel.bind() variable name must be a simple identifier", c.args[0].id);
                    return false;
                };
                let body = c.args.pop().unwrap_or_default();
                let init = c.args.pop().unwrap_or_default();
                *e = bind(&name, init, body);
                e.id = id;
                true
            }
            Expr::Call(c) if c.target.is_some() && is_two_var(&c.func_name, c.args.len()) => {
                let (Some(k), Some(v)) = (simple_name(&c.args[0]), simple_name(&c.args[1])) else {
                    let bad = if simple_name(&c.args[0]).is_none() { c.args[0].id } else { c.args[1].id };
                    self.issue("argument must be a simple name", bad);
                    return false;
                };
                if k == v {
                    self.issue(format!("duplicate variable name: {k}"), c.args[1].id);
                    return false;
                }
                if k == ACCU || v == ACCU || k == "__result__" || v == "__result__" {
                    self.issue("iteration variable overwrites accumulator variable", c.args[0].id);
                    return false;
                }
                let target = *c.target.take().unwrap_or_default();
                let mut rest: Vec<IdedExpr> = c.args.drain(2..).collect();
                let func = c.func_name.clone();
                *e = two_var(&func, target, &k, &v, &mut rest);
                e.id = id;
                true
            }
            Expr::Select(s) if s.test => {
                // A message field must exist; its presence is proto3 presence.
                if let Some(m) = self.msg_of(&s.operand, scope) {
                    if m.field(&s.field).is_none() {
                        self.issue(format!("undefined field '{}'", s.field), id);
                    }
                }
                // Record `has(V.x)` as a use of `x` before the select disappears.
                if let Expr::Ident(root) = &s.operand.expr {
                    if !scope.contains(root) {
                        let (root, field) = (root.clone(), s.field.clone());
                        self.record_var_ref(&root, &field);
                    }
                }
                let operand = std::mem::take(&mut *s.operand);
                let field = std::mem::take(&mut s.field);
                *e = IdedExpr { id, expr: Expr::Call(CallExpr { func_name: HAS_FIELD.to_owned(), target: None, args: vec![operand, lit_str(&field)] }) };
                true
            }
            _ => false,
        }
    }

    fn walk(&mut self, e: &mut IdedExpr, scope: &mut Vec<String>) {
        let mut guard = 0;
        while self.rewrite(e, scope) {
            guard += 1;
            if guard > 8 {
                break;
            }
        }
        let id = e.id;
        // A field path into the request (`R.attr.x`, `request.auxData.jwt.iss`) becomes one
        // dotted identifier that the activation resolves in a single step; the interpreter
        // would otherwise re-resolve it segment by segment. See `Activation::path_error`.
        let collapse = match &e.expr {
            Expr::Select(s) if !s.test => qualified(e).filter(|segs| {
                !scope.contains(&segs[0])
                    && match segs[0].as_str() {
                        "request" | "P" | "R" | "runtime" => true,
                        // Only `V.x` itself: what a variable holds can be anything.
                        "V" | "variables" | "C" | "constants" | "G" | "globals" => segs.len() == 2,
                        _ => false,
                    }
            }),
            _ => None,
        };
        match &mut e.expr {
            Expr::Unspecified => self.issue("invalid expression", id),
            Expr::Literal(_) => {}
            Expr::Ident(name) => {
                if scope.iter().any(|s| s == name) || name.starts_with('@') || name.contains('.') {
                    return;
                }
                match name.as_str() {
                    "request" | "P" | "R" | "V" | "variables" | "C" | "constants" | "G" | "globals" => {}
                    "runtime" => self.analysis.uses_runtime = true,
                    n if self.is_type_name(n) => {}
                    n => {
                        let msg = format!("undeclared reference to '{n}' (in container '')");
                        self.issue(msg, id);
                    }
                }
            }
            Expr::Select(s) => {
                // A qualified type name, e.g. `google.protobuf.Timestamp` in `type(t) == ...`.
                if let Some(mut segs) = qualified(&s.operand) {
                    if !scope.contains(&segs[0]) {
                        segs.push(s.field.clone());
                        if self.is_type_name(&segs.join(".")) {
                            return;
                        }
                    }
                }
                if let Expr::Ident(root) = &s.operand.expr {
                    if !scope.contains(root) {
                        let (root, field) = (root.clone(), s.field.clone());
                        self.record_var_ref(&root, &field);
                    }
                }
                if let Some(m) = self.msg_of(&s.operand, scope) {
                    if m.field(&s.field).is_none() {
                        let msg = format!("undefined field '{}'", s.field);
                        self.issue(msg, id);
                    }
                }
                self.walk(&mut s.operand, scope);
            }
            Expr::Call(c) => {
                self.check_call(c, id, scope);
                let namespaced = c.target.as_deref().is_some_and(|t| self.is_namespace_call(t, &c.func_name, scope));
                if let Some(t) = c.target.as_deref_mut() {
                    if !namespaced {
                        self.walk(t, scope);
                    }
                }
                for a in &mut c.args {
                    self.walk(a, scope);
                }
            }
            Expr::List(l) => {
                for el in &mut l.elements {
                    self.walk(el, scope);
                }
            }
            Expr::Map(m) => {
                for entry in &mut m.entries {
                    match &mut entry.expr {
                        cel::common::ast::EntryExpr::MapEntry(me) => {
                            self.walk(&mut me.key, scope);
                            self.walk(&mut me.value, scope);
                        }
                        cel::common::ast::EntryExpr::StructField(sf) => {
                            // The interpreter cannot evaluate a field entry in a map literal.
                            self.issue("unsupported map entry", entry.id);
                            self.walk(&mut sf.value, scope);
                        }
                    }
                }
            }
            Expr::Struct(st) => {
                let msg = format!("undeclared reference to '{}' (in container '')", st.type_name);
                self.issue(msg, id);
            }
            Expr::Comprehension(comp) => {
                self.walk(&mut comp.iter_range, scope);
                self.walk(&mut comp.accu_init, scope);
                let pushed = 2;
                scope.push(comp.iter_var.clone());
                scope.push(comp.accu_var.clone());
                if let Some(v2) = &comp.iter_var2 {
                    scope.push(v2.clone());
                }
                self.walk(&mut comp.loop_cond, scope);
                self.walk(&mut comp.loop_step, scope);
                self.walk(&mut comp.result, scope);
                let n = pushed + usize::from(comp.iter_var2.is_some());
                scope.truncate(scope.len() - n);
            }
        }
        if let Some(segs) = collapse {
            *e = IdedExpr { id, expr: Expr::Ident(segs.join(".")) };
        }
    }

    /// Whether `target.func(...)` is a call to the namespaced function `target.func`
    /// (`sets.contains`, `ip.isCanonical`, `optional.of`, ...).
    fn is_namespace_call(&mut self, target: &IdedExpr, func: &str, scope: &[String]) -> bool {
        let Some(segments) = qualified(target) else { return false };
        if scope.iter().any(|s| *s == segments[0]) {
            return false;
        }
        let name = format!("{}.{func}", segments.join("."));
        self.declared(&name)
    }

    fn check_call(&mut self, c: &CallExpr, id: u64, scope: &[String]) {
        let f = c.func_name.as_str();
        if f.starts_with('_') || f.starts_with('@') || f == operators::LOGICAL_NOT || f == operators::NEGATE {
            if f == operators::INDEX && c.args.len() == 2 {
                // `V["x"]` and `R["kind"]`: the checker has no index overload for these types.
                let target = match &c.args[0].expr {
                    Expr::Ident(n) if matches!(n.as_str(), "V" | "variables" | "C" | "constants" | "G" | "globals") && !scope.contains(n) => {
                        Some("cerbos.Variables")
                    }
                    _ => self.msg_of(&c.args[0], scope).map(Msg::type_name),
                };
                if let Some(target) = target {
                    let ty = match &c.args[1].expr {
                        Expr::Literal(LiteralValue::String(_)) => "string",
                        Expr::Literal(LiteralValue::Int(_)) => "int",
                        Expr::Literal(LiteralValue::UInt(_)) => "uint",
                        Expr::Literal(LiteralValue::Double(_)) => "double",
                        Expr::Literal(LiteralValue::Boolean(_)) => "bool",
                        _ => "dyn",
                    };
                    self.issue(format!("found no matching overload for '_[_]' applied to '({target}, {ty})'"), id);
                }
            }
            return;
        }
        self.validate_literal_call(c, id);
        if f == "format" {
            self.validate_format_call(c, id);
        }
        if let Some(t) = c.target.as_deref() {
            if self.is_namespace_call(t, f, scope) {
                return;
            }
        }
        if !self.declared(f) {
            self.issue(format!("undeclared reference to '{f}' (in container '')"), id);
        }
    }
}

fn qualified(e: &IdedExpr) -> Option<Vec<String>> {
    match &e.expr {
        Expr::Ident(n) => Some(vec![n.clone()]),
        Expr::Select(SelectExpr { operand, field, test: false }) => {
            let mut v = qualified(operand)?;
            v.push(field.clone());
            Some(v)
        }
        _ => None,
    }
}

fn is_two_var(f: &str, n: usize) -> bool {
    match f {
        "all" | "exists" | "existsOne" | "exists_one" => n == 3,
        "transformList" | "transformMap" | "transformMapEntry" => n == 3 || n == 4,
        _ => false,
    }
}

/// cel-go's two-variable comprehension macros, over `@pairs(target)`.
fn two_var(func: &str, target: IdedExpr, k: &str, v: &str, rest: &mut Vec<IdedExpr>) -> IdedExpr {
    let wrap = |e: IdedExpr| with_pair(k, v, e);
    let accu = || ident(ACCU);
    let (init, cond, step, result) = match func {
        "all" => {
            let p = rest.remove(0);
            (lit_bool(true), call(operators::NOT_STRICTLY_FALSE, vec![accu()]), call(operators::LOGICAL_AND, vec![accu(), wrap(p)]), accu())
        }
        "exists" => {
            let p = rest.remove(0);
            (
                lit_bool(false),
                call(operators::NOT_STRICTLY_FALSE, vec![call(operators::LOGICAL_NOT, vec![accu()])]),
                call(operators::LOGICAL_OR, vec![accu(), wrap(p)]),
                accu(),
            )
        }
        "existsOne" | "exists_one" => {
            let p = rest.remove(0);
            (
                lit_int(0),
                lit_bool(true),
                call(operators::CONDITIONAL, vec![wrap(p), call(operators::ADD, vec![accu(), lit_int(1)]), accu()]),
                call(operators::EQUALS, vec![accu(), lit_int(1)]),
            )
        }
        "transformList" => {
            let t = rest.pop().unwrap_or_default();
            let filter = rest.pop();
            let append = call(operators::ADD, vec![accu(), ided(Expr::List(ListExpr::new(vec![wrap(t)])))]);
            let step = match filter {
                Some(f) => call(operators::CONDITIONAL, vec![wrap(f), append, accu()]),
                None => append,
            };
            (empty_list(), lit_bool(true), step, accu())
        }
        _ => {
            // transformMap / transformMapEntry
            let t = rest.pop().unwrap_or_default();
            let filter = rest.pop();
            let insert = if func == "transformMap" { call(MAP_INSERT, vec![accu(), ident(k), t]) } else { call(MAP_INSERT, vec![accu(), t]) };
            let step = match filter {
                Some(f) => call(operators::CONDITIONAL, vec![f, insert, accu()]),
                None => insert,
            };
            let empty_map = ided(Expr::Map(cel::common::ast::MapExpr { entries: Vec::new() }));
            (empty_map, lit_bool(true), wrap(step), accu())
        }
    };
    ided(Expr::Comprehension(Box::new(ComprehensionExpr {
        iter_range: call(PAIRS, vec![target]),
        iter_var: ITER.to_owned(),
        iter_var2: None,
        accu_var: ACCU.to_owned(),
        accu_init: init,
        loop_cond: cond,
        loop_step: step,
        result,
    })))
}

/// Parses, rewrites and checks `source`.
pub(crate) fn compile(env: &Arc<Env>, source: &str, limits: &Limits) -> Result<(IdedExpr, Analysis), CompileError> {
    let parsed = env.parser().parse_with_source_info(source);
    let (mut expr, info) = match parsed {
        Ok(x) => x,
        Err(errs) => {
            let issues = errs
                .errors
                .iter()
                .map(|e| CompileIssue {
                    message: syntax_message(&e.msg),
                    line: u32::try_from(e.pos.0).ok().filter(|&l| l > 0),
                    column: u32::try_from(e.pos.1).ok().filter(|&c| c > 0),
                })
                .collect::<Vec<_>>();
            let issues = if issues.is_empty() { vec![CompileIssue { message: "Syntax error".into(), line: None, column: None }] } else { issues };
            // The parser's own nesting limit (brackets, calls) comes with a cascade of errors
            // in its debug form: one message says it.
            if errs.errors.iter().any(|e| e.msg.contains("Recursion limit of")) {
                let message = "max recursion depth exceeded: the expression nests more than 96 levels of parentheses, brackets or calls";
                return Err(CompileError::single(source, message));
            }
            return Err(CompileError { source: source.to_owned(), issues });
        }
    };
    // cel-go's parser stops at 250 levels; the `cel` crate's at 96 levels of parentheses,
    // arguments and literals only, not chains (`a + b + ...`, `x.f().g()`, `l[0][0]`).
    if limits::depth(&expr) > limits.max_nesting_depth {
        let message = format!("max recursion depth exceeded: the expression nests more than {} levels deep", limits.max_nesting_depth);
        return Err(CompileError::single(source, message));
    }
    let mut st = State { env, probe: Context::with_env(env.clone()), issues: Vec::new(), analysis: Analysis::default() };
    st.walk(&mut expr, &mut Vec::new());
    if !st.issues.is_empty() {
        let issues = st
            .issues
            .into_iter()
            .map(|(message, id)| {
                let (line, column) = position(&info, source, id);
                CompileIssue { message, line, column }
            })
            .collect();
        return Err(CompileError { source: source.to_owned(), issues });
    }
    super::budget::instrument(&mut expr);
    st.analysis.variables.sort();
    st.analysis.constants.sort();
    st.analysis.globals.sort();
    Ok((expr, st.analysis))
}

/// cel-go prefixes parser errors with `Syntax error: `.
fn syntax_message(msg: &str) -> String {
    // Go's ANTLR runtime reports a stray token after a complete expression as
    // "expecting <EOF>"; the Rust runtime lists the whole follow set. Print it as cel-go does.
    let msg = match msg.find("expecting {<EOF>,") {
        Some(i) if msg.ends_with('}') => format!("{}expecting <EOF>", &msg[..i]),
        _ => msg.to_owned(),
    };
    let msg = msg.as_str();
    if msg.starts_with("Syntax error") {
        msg.to_owned()
    } else if msg.contains("token recognition error")
        || msg.contains("mismatched input")
        || msg.contains("extraneous input")
        || msg.contains("no viable alternative")
        || msg.contains("missing ")
    {
        format!("Syntax error: {msg}")
    } else {
        msg.to_owned()
    }
}

fn position(info: &cel::common::ast::SourceInfo, source: &str, id: u64) -> (Option<u32>, Option<u32>) {
    let Some((start, _)) = info.offset_for(id) else { return (None, None) };
    let start = start as usize;
    let mut line = 1u32;
    let mut col = 1u32;
    for (i, ch) in source.char_indices() {
        if i >= start {
            break;
        }
        if ch == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (Some(line), Some(col))
}

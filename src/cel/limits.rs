//! What one expression may cost. When it is compiled: its size in code points and how deeply it
//! nests, as cel-go's parser limits them (`ExpressionSizeCodePointLimit`, `MaxRecursionDepth`).
//! When it is evaluated: its steps and the bytes it builds (see `budget`), and the stack its
//! evaluation needs, which is guaranteed from its depth so that no accepted expression can overflow
//! the stack of the thread that evaluates it (a web server's worker, the policy reload thread).

use cel::common::ast::{EntryExpr, Expr, IdedExpr};

/// Limits on one expression. [`Limits::default`] is what the engine uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest expression, in Unicode code points (cel-go's default: 100,000).
    pub max_expression_size: usize,
    /// The deepest nesting of operators, calls, selections and indexes (cel-go's parser
    /// recursion limit: 250). A chain `a + b + c` nests one level per operator; `&&` and `||`
    /// chains are balanced, so they nest by the logarithm of their length.
    pub max_nesting_depth: usize,
    /// Steps of one evaluation: one per comprehension iteration, plus one per element the list
    /// and set functions go through (Kubernetes' per-expression cost limit is 1,000,000 too).
    pub max_steps: u64,
    /// Bytes of the strings, lists and maps one evaluation builds (concatenations, list and map
    /// literals, comprehension results, `lists.range`, `join`, `replace`, `split`, ...).
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_expression_size: 100_000, max_nesting_depth: 250, max_steps: 1_000_000, max_bytes: 32 << 20 }
    }
}

/// Stack the `cel` crate's parser needs, about twice what was measured by running it on a fresh
/// stack and seeing how much of the stack it wrote (release: up to 6 KB per bracket level and
/// 250 bytes per code point; debug: 160 KB and 1.1 KB): per level of brackets
/// (parentheses, calls, lists, maps: its ANTLR rules recurse through every precedence level for
/// each), and per code point for the chains that nest without brackets (`1+1+…`, `x.f().g()`,
/// `l[0][0]`), which its tree visitor walks recursively.
#[cfg(debug_assertions)]
const PARSE_STACK: (usize, usize) = (192 << 10, 2 << 10);
#[cfg(not(debug_assertions))]
const PARSE_STACK: (usize, usize) = (12 << 10, 512);

/// Stack the interpreter needs per level of nesting of the compiled expression (its evaluation
/// function is one large frame per level): measured the same way, 2 KB in release, 40 KB in debug.
#[cfg(debug_assertions)]
const EVAL_STACK_PER_LEVEL: usize = 48 << 10;
#[cfg(not(debug_assertions))]
const EVAL_STACK_PER_LEVEL: usize = 4 << 10;

/// What a call needs below the recursion itself (the caller's frames, functions' own work).
const STACK_BASE: usize = 256 << 10;

/// The parser refuses more than 96 levels of brackets (`Recursion limit of 96 exceeded`): no
/// parse goes deeper than that.
const PARSER_BRACKET_LIMIT: usize = 100;

/// Runs `f` with at least the stack parsing `source` can need: on the current stack when enough
/// of it is left, else on a new one.
pub(crate) fn with_parse_stack<T>(source: &str, f: impl FnOnce() -> T) -> T {
    let need = STACK_BASE + bracket_depth(source).min(PARSER_BRACKET_LIMIT) * PARSE_STACK.0 + source.chars().count().saturating_mul(PARSE_STACK.1);
    stacker::maybe_grow(need, need, f)
}

/// How deeply brackets nest in `source`, counting those inside string literals too (an
/// overestimate is safe: it only asks for more stack).
fn bracket_depth(source: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in source.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Runs `f` with at least the stack evaluating (or walking) an expression `depth` levels deep
/// can need.
pub(crate) fn with_eval_stack<T>(depth: usize, f: impl FnOnce() -> T) -> T {
    let need = STACK_BASE + depth.saturating_mul(EVAL_STACK_PER_LEVEL);
    stacker::maybe_grow(need, need, f)
}

/// The nesting depth of `e` (a leaf is 1), computed without recursion so that any parsed
/// expression can be measured.
pub(crate) fn depth(e: &IdedExpr) -> usize {
    let mut deepest = 0;
    let mut todo: Vec<(&IdedExpr, usize)> = vec![(e, 1)];
    while let Some((e, d)) = todo.pop() {
        deepest = deepest.max(d);
        let d = d + 1;
        match &e.expr {
            Expr::Call(c) => {
                todo.extend(c.target.as_deref().map(|t| (t, d)));
                todo.extend(c.args.iter().map(|a| (a, d)));
            }
            Expr::Select(s) => todo.push((&s.operand, d)),
            Expr::List(l) => todo.extend(l.elements.iter().map(|x| (x, d))),
            Expr::Map(m) => {
                for entry in &m.entries {
                    match &entry.expr {
                        EntryExpr::MapEntry(me) => todo.extend([(&me.key, d), (&me.value, d)]),
                        EntryExpr::StructField(sf) => todo.push((&sf.value, d)),
                    }
                }
            }
            Expr::Struct(s) => {
                for entry in &s.entries {
                    match &entry.expr {
                        EntryExpr::MapEntry(me) => todo.extend([(&me.key, d), (&me.value, d)]),
                        EntryExpr::StructField(sf) => todo.push((&sf.value, d)),
                    }
                }
            }
            Expr::Comprehension(c) => todo.extend([(&c.iter_range, d), (&c.accu_init, d), (&c.loop_cond, d), (&c.loop_step, d), (&c.result, d)]),
            Expr::Literal(_) | Expr::Ident(_) | Expr::Unspecified => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cel::tests_util::run;
    use crate::cel::{compile, compile_with_limits};

    fn chain(kind: &str, n: usize) -> String {
        match kind {
            "plus" => vec!["1"; n].join(" + ") + " == 0",
            "eq" => "1".to_owned() + &" == 1".repeat(n),
            "size" => "'x'".to_owned() + &".size()".repeat(n) + " == 0",
            "index" => "[0]".to_owned() + &"[0]".repeat(n) + " == 0",
            "attr" => "R.attr".to_owned() + &".a".repeat(n) + " == 0",
            "not" => "!(".repeat(n) + "true" + &")".repeat(n),
            _ => unreachable!(),
        }
    }

    /// Chains as deep as the reproducers are compile errors that say why; they used to
    /// compile and then overflow the stack on the first check.
    #[test]
    fn deep_chains_are_compile_errors() {
        for kind in ["plus", "eq", "size", "index", "attr"] {
            let src = chain(kind, 4100);
            let err = compile(&src).unwrap_err();
            assert_eq!(err.messages(), ["max recursion depth exceeded: the expression nests more than 250 levels deep"], "{kind}");
            // The message names the expression without printing all of it.
            assert!(err.to_string().len() < 400, "{kind}: {}", err.to_string().len());
        }
    }

    /// What passes the limit evaluates, on a thread with a small stack too (the interpreter runs
    /// on a stack it is guaranteed).
    #[test]
    fn the_deepest_accepted_expressions_evaluate_on_a_small_stack() {
        let exprs: Vec<(String, Result<serde_json::Value, String>)> = vec![
            (chain("plus", 240), Ok(serde_json::json!(false))),
            (chain("eq", 240), Ok(serde_json::json!(false))),
            (chain("size", 240), Err("no such overload: size".to_owned())),
            (chain("attr", 240), Err("no such key: a".to_owned())),
            (chain("index", 240), Err("no such overload: _[_]".to_owned())),
            (chain("not", 40), Ok(serde_json::json!(true))),
        ];
        let handle = std::thread::Builder::new()
            .stack_size(128 << 10)
            .spawn(move || exprs.into_iter().map(|(src, want)| (run(&src), want)).collect::<Vec<_>>())
            .unwrap();
        for (got, want) in handle.join().unwrap() {
            assert_eq!(got, want);
        }
    }

    /// The size limit is cel-go's, with cel-go's message, checked before parsing; an expression
    /// just under it that nests deeply is parsed on a stack deep enough, and refused by depth.
    #[test]
    fn expression_size_limit() {
        let big = "1 + ".repeat(24_999) + "1";
        let err = compile(&(big.clone() + " + 1")).unwrap_err();
        assert_eq!(err.messages(), ["expression code point size exceeds limit: size: 100001, limit 100000"]);
        let handle = std::thread::Builder::new().stack_size(128 << 10).spawn(move || compile(&big).map(|_| ()).map_err(|e| e.messages().join(""))).unwrap();
        assert_eq!(handle.join().unwrap(), Err("max recursion depth exceeded: the expression nests more than 250 levels deep".to_owned()));
        let small = Limits { max_expression_size: 5, ..Limits::default() };
        assert!(compile_with_limits("1 + 1", &small).is_ok());
        assert!(compile_with_limits("1 + 10", &small).is_err());
    }

    /// Brackets nested past the parser's own limit are refused in one sentence (it used to be
    /// the parser's debug text, repeated).
    #[test]
    fn deep_brackets_are_refused_in_words() {
        for src in ["(".repeat(200) + "1" + &")".repeat(200), "[".repeat(200) + "1" + &"]".repeat(200), "size(".repeat(200) + "'x'" + &")".repeat(200)] {
            let err = compile(&src).unwrap_err();
            assert_eq!(err.messages(), ["max recursion depth exceeded: the expression nests more than 96 levels of parentheses, brackets or calls"]);
        }
    }

    /// Balanced `&&`/`||` chains nest by the logarithm of their length: long ones are fine.
    #[test]
    fn long_logical_chains_are_within_the_depth_limit() {
        let src = (0..2000).map(|i| format!("R.attr.x == {i}")).collect::<Vec<_>>().join(" || ");
        assert!(compile(&src).is_ok());
    }
}

#[cfg(test)]
mod loading_tests {
    use crate::engine::{Engine, EngineConfig, PolicySource};

    /// The policy loader reports an expression over a limit at its file and line, naming the
    /// expression (cut) and the limit; the rest of the policy set is not loaded.
    #[test]
    fn a_policy_with_a_too_deep_condition_does_not_load() {
        let expr = vec!["1"; 4100].join(" + ") + " == 0";
        let policy = format!(
            "apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  resource: doc\n  version: default\n  rules:\n    - actions: [read]\n      effect: EFFECT_ALLOW\n      roles: ['*']\n      condition:\n        match:\n          expr: {expr}\n"
        );
        let err = Engine::new(PolicySource::Documents(vec![("deep.yaml".into(), policy)]), EngineConfig::default()).err().expect("refused").to_string();
        assert!(err.contains("deep.yaml:11:"), "{err}");
        assert!(err.contains("Invalid expression `1 + 1 + 1"), "{err}");
        assert!(err.contains("… (16402 characters)`: [max recursion depth exceeded: the expression nests more than 250 levels deep]"), "{err}");
    }
}

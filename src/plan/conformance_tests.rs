//! Cerbos's query planner conformance cases, read in place from the shared corpus:
//! `query_planner/suite/*` (plans compared exactly, operands as unordered lists, as Cerbos's
//! `TestQueryPlan` compares them), `query_planner_filter/*` (normalisation and `filterDebug`)
//! and `ruletable/planner/testdata/ast_build_expr.yaml` (expressions to operands).
use cel::common::ast::{operators, CallExpr, ComprehensionExpr, Expr, IdedExpr};
use serde_json::{json, Value};
use std::path::PathBuf;

use super::expr::{call, comprehension, ident, list, lit_bool, map};
use super::filter::{normalise, Filter, Operand};
use super::PlanInput;
use crate::engine::{Engine, EngineConfig, PolicySource};

/// Cerbos's corpus in the shared test data; `None` (the skip recorded) when it is absent.
pub(super) fn cerbos() -> Option<PathBuf> {
    crate::shared_data::shared_data("conformance/cerbos")
}

/// `internal/test/testdata` of the corpus (callers have checked that it is there).
pub(super) fn testdata() -> PathBuf {
    cerbos().expect("the test returns early without the shared data").join("internal/test/testdata")
}

pub(super) fn yaml_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten().map(|e| e.path()).collect();
    paths.retain(|p| p.extension().is_some_and(|x| x == "yaml"));
    paths.sort();
    paths
}

pub(super) fn read_yaml(p: &std::path::Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(p).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Operands of every expression in a canonical order (the harness compares them as sets).
fn stabilise(op: &Operand) -> Operand {
    match op {
        Operand::Expression(e) => {
            let mut ops: Vec<Operand> = e.operands.iter().map(stabilise).collect();
            ops.sort_by_key(|o| o.to_json().to_string());
            Operand::expr(e.operator.clone(), ops)
        }
        other => other.clone(),
    }
}

fn stabilise_filter(f: &Filter) -> Value {
    Filter { kind: f.kind, condition: f.condition.as_ref().map(stabilise) }.to_json()
}

fn planner_engine(lenient: bool) -> Engine {
    let config = EngineConfig {
        globals: crate::cel::Vars::from_json_map(json!({"environment": "test"}).as_object().unwrap()),
        lenient_scope_search: lenient,
        ..Default::default()
    };
    Engine::new(PolicySource::Directory(testdata().join("query_planner/policies")), config).expect("the query planner store compiles")
}

/// Runs the suites of `dirs` in one mode; returns (cases run, failures).
fn run_suites(dirs: &[&str], lenient: bool) -> (usize, Vec<String>) {
    let engine = planner_engine(lenient);
    let now = chrono::DateTime::parse_from_rfc3339("2024-01-16T10:18:27.395+13:00").unwrap();
    let mut failures = Vec::new();
    let mut n = 0;
    for dir in dirs {
        for path in yaml_files(&testdata().join("query_planner/suite").join(dir)) {
            let suite = read_yaml(&path);
            for t in suite["tests"].as_array().unwrap() {
                n += 1;
                let actions = match (&t["actions"], &t["action"]) {
                    (Value::Array(a), _) => Value::Array(a.clone()),
                    (_, a) => json!([a]),
                };
                let input: PlanInput = serde_json::from_value(json!({
                    "requestId": "requestId",
                    "actions": actions,
                    "principal": suite["principal"],
                    "resource": t["resource"],
                    "auxData": {"jwt": {"customInt": 42}},
                }))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let name = format!("{dir}/{} {} {}", path.file_name().unwrap().to_string_lossy(), t["resource"]["kind"], actions);
                let want_err = t["wantErr"].as_bool().unwrap_or(false);
                match engine.plan(&input, Some(now)) {
                    Err(e) if !want_err => failures.push(format!("{name}: error {e}")),
                    Ok(out) if want_err => failures.push(format!("{name}: want an error, have {}", out.filter_debug)),
                    Err(_) => {}
                    Ok(out) => {
                        let want = Filter::from_json(&t["want"]).unwrap();
                        let (want, have) = (stabilise_filter(&want), stabilise_filter(&out.filter));
                        if want != have {
                            failures.push(format!("{name}:\n    want {want}\n    have {have}\n    debug {}", out.filter_debug));
                        }
                    }
                }
            }
        }
    }
    (n, failures)
}

#[test]
fn query_planner_suites() {
    if cerbos().is_none() {
        return;
    }
    let (n1, mut failures) = run_suites(&["common", "strict_scope_search"], false);
    let (n2, f2) = run_suites(&["common", "lenient_scope_search"], true);
    failures.extend(f2);
    assert!(n1 > 100 && n2 > 100, "too few cases ran: {n1}, {n2}");
    assert!(failures.is_empty(), "{} of {} plans differ:\n{}", failures.len(), n1 + n2, failures.join("\n"));
}

#[test]
fn query_planner_filter_cases() {
    if cerbos().is_none() {
        return;
    }
    let mut failures = Vec::new();
    let paths = yaml_files(&testdata().join("query_planner_filter"));
    for path in &paths {
        let case = read_yaml(path);
        let have = normalise(Filter::from_json(&case["input"]).unwrap());
        let want = Filter::from_json(&case["wantFilter"]).unwrap();
        let want_string = case["wantString"].as_str().unwrap_or_default();
        if have != want || have.debug_string() != want_string {
            failures.push(format!("{}: want {} {want_string:?}, have {} {:?}", path.display(), want.to_json(), have.to_json(), have.debug_string()));
        }
    }
    assert!(paths.len() >= 19, "too few cases: {}", paths.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// cel-go's two-variable comprehension macros (`ext.TwoVarComprehensions`), which the `cel`
/// crate's parser leaves as calls: the AST cases are written against cel-go's parse.
fn expand_two_var(e: IdedExpr) -> IdedExpr {
    let expr = match e.expr {
        Expr::Call(c) => {
            let args: Vec<IdedExpr> = c.args.into_iter().map(expand_two_var).collect();
            let target = c.target.map(|t| Box::new(expand_two_var(*t)));
            let names = |a: &[IdedExpr]| match (&a[0].expr, &a[1].expr) {
                (Expr::Ident(k), Expr::Ident(v)) => Some((k.clone(), v.clone())),
                _ => None,
            };
            let two_var = match (&target, c.func_name.as_str(), args.len()) {
                (Some(_), "all" | "exists" | "exists_one" | "existsOne", 3) | (Some(_), "transformList" | "transformMap" | "transformMapEntry", 3 | 4) => {
                    names(&args)
                }
                _ => None,
            };
            match (two_var, target) {
                (Some((k, v)), Some(t)) => return two_var_macro(&c.func_name, *t, k, v, args[2..].to_vec()),
                (_, target) => Expr::Call(CallExpr { func_name: c.func_name, target, args }),
            }
        }
        Expr::Comprehension(c) => {
            let c = *c;
            Expr::Comprehension(Box::new(ComprehensionExpr {
                iter_range: expand_two_var(c.iter_range),
                accu_init: expand_two_var(c.accu_init),
                loop_cond: expand_two_var(c.loop_cond),
                loop_step: expand_two_var(c.loop_step),
                result: expand_two_var(c.result),
                ..c
            }))
        }
        other => other,
    };
    IdedExpr { id: e.id, expr }
}

fn two_var_macro(func: &str, target: IdedExpr, k: String, v: String, mut rest: Vec<IdedExpr>) -> IdedExpr {
    let accu = || ident("@result");
    let int = |i: i64| IdedExpr { id: 0, expr: Expr::Literal(cel::common::ast::LiteralValue::Int(i.into())) };
    let (init, cond, step, result) = match func {
        "all" => (lit_bool(true), call(operators::NOT_STRICTLY_FALSE, vec![accu()]), call(operators::LOGICAL_AND, vec![accu(), rest.remove(0)]), accu()),
        "exists" => (
            lit_bool(false),
            call(operators::NOT_STRICTLY_FALSE, vec![call(operators::LOGICAL_NOT, vec![accu()])]),
            call(operators::LOGICAL_OR, vec![accu(), rest.remove(0)]),
            accu(),
        ),
        "exists_one" | "existsOne" => (
            int(0),
            lit_bool(true),
            call(operators::CONDITIONAL, vec![rest.remove(0), call(operators::ADD, vec![accu(), int(1)]), accu()]),
            call(operators::EQUALS, vec![accu(), int(1)]),
        ),
        _ => {
            let transform = rest.pop().unwrap();
            let filter = rest.pop();
            let (init, step) = match func {
                "transformList" => (list(vec![]), call(operators::ADD, vec![accu(), list(vec![transform])])),
                "transformMap" => (map(vec![]), call("cel.@mapInsert", vec![accu(), ident(&k), transform])),
                _ => (map(vec![]), call("cel.@mapInsert", vec![accu(), transform])),
            };
            let step = match filter {
                Some(f) => call(operators::CONDITIONAL, vec![f, step, accu()]),
                None => step,
            };
            (init, lit_bool(true), step, accu())
        }
    };
    comprehension(ComprehensionExpr {
        iter_range: target,
        iter_var: k,
        iter_var2: Some(v),
        accu_var: "@result".into(),
        accu_init: init,
        loop_cond: cond,
        loop_step: step,
        result,
    })
}

#[test]
fn ast_build_expr_cases() {
    let Some(corpus) = cerbos() else { return };
    let path = corpus.join("internal/ruletable/planner/testdata/ast_build_expr.yaml");
    let cases = read_yaml(&path);
    let mut failures = Vec::new();
    let cases = cases.as_object().unwrap();
    for (source, want) in cases {
        let parsed = crate::cel::planning::parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
        let have = super::operand::build(&expand_two_var(parsed));
        let want = Operand::from_json_opt(want).unwrap().unwrap();
        match have {
            Ok(have) if have == want => {}
            Ok(have) => failures.push(format!("{source}:\n    want {}\n    have {}", want.to_json(), have.to_json())),
            Err(e) => failures.push(format!("{source}: error {e}")),
        }
    }
    assert!(cases.len() >= 40, "too few cases: {}", cases.len());
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

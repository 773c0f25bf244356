//! Plans against the engine's own decisions: for the conformance planner store (its suites'
//! principals, kinds and actions) and the examples' policies, plan with no resource attribute
//! known, then generate resources whose attributes are drawn from the values the plan mentions
//! (and a few others), and require, for each one, that the filter holds exactly when `check`
//! allows. The filter is evaluated by writing it back as CEL and running the evaluator.
//! Left out, where Cerbos's planner and its check differ by design: resources for which `check`
//! reports a CEL error (a failing DENY condition is skipped by check, kept by the plan), and
//! those on which the filter itself fails to evaluate (an attribute of the wrong type: a
//! non-boolean is "false" for check, an error for `!x` in the filter). Tolerated: a plan that
//! excludes a resource a multi-role principal may act on (Cerbos's planner ANDs one role's
//! conditional DENY with another role's ALLOW, where check lets any role's ALLOW win). Never
//! tolerated: a plan that includes a resource check denies.
//! Exact plans ([`super::PlanOptions::exact`]) are held to more: on every resource, errors and
//! several roles included, the filter holds exactly when `check` allows.
use serde_json::{json, Map, Value};

use super::filter::{FilterKind, Operand};
use super::{PlanInput, PlanOptions};
use crate::cel::{self, Activation, AuxDataFields, PrincipalFields, Request, ResourceFields};
use crate::engine::{Engine, EngineConfig, PolicySource};
use crate::eval::CheckInput;

/// CEL functions called as methods (their receiver is the first operand).
const METHODS: &[&str] = &[
    "startsWith",
    "endsWith",
    "contains",
    "matches",
    "upperAscii",
    "lowerAscii",
    "timeSince",
    "ancestorOf",
    "descendentOf",
    "immediateChildOf",
    "immediateParentOf",
    "siblingOf",
    "overlaps",
    "getFullYear",
    "getHours",
];

fn value_cel(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format!("{:?}", n.as_f64().unwrap_or(0.0)),
        Value::String(s) => serde_json::to_string(s).unwrap(),
        Value::Array(a) => format!("[{}]", a.iter().map(value_cel).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => {
            format!("{{{}}}", o.iter().map(|(k, v)| format!("{}: {}", serde_json::to_string(k).unwrap(), value_cel(v))).collect::<Vec<_>>().join(", "))
        }
    }
}

/// The operand as CEL source.
fn cel_source(op: &Operand) -> String {
    let e = match op {
        Operand::Value(v) => return value_cel(v),
        Operand::Variable(name) => return name.clone(),
        Operand::Expression(e) => e,
    };
    let ops: Vec<String> = e.operands.iter().map(cel_source).collect();
    let bin = |sym: &str| format!("({} {sym} {})", ops[0], ops[1]);
    match e.operator.as_str() {
        "and" => format!("({})", ops.join(" && ")),
        "or" => format!("({})", ops.join(" || ")),
        "not" => format!("!({})", ops[0]),
        "eq" => bin("=="),
        "ne" => bin("!="),
        "lt" => bin("<"),
        "le" => bin("<="),
        "gt" => bin(">"),
        "ge" => bin(">="),
        "in" => bin("in"),
        "add" => bin("+"),
        "sub" => bin("-"),
        "mult" => bin("*"),
        "div" => bin("/"),
        "mod" => bin("%"),
        "index" => format!("{}[{}]", ops[0], ops[1]),
        "get-field" => format!("{}.{}", ops[0], ops[1]),
        "list" => format!("[{}]", ops.join(", ")),
        "if" => format!("({} ? {} : {})", ops[0], ops[1], ops[2]),
        "struct" => format!(
            "{{{}}}",
            e.operands
                .iter()
                .map(|f| match f {
                    Operand::Expression(sf) => format!("{}: {}", cel_source(&sf.operands[0]), cel_source(&sf.operands[1])),
                    other => cel_source(other),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        macro_name @ ("all" | "exists" | "exists_one" | "filter" | "map") => {
            let Operand::Expression(lambda) = &e.operands[1] else { panic!("{macro_name} without a lambda") };
            let parts: Vec<String> = lambda.operands.iter().map(cel_source).collect();
            // lambda operands: body, then one or two variables.
            let (body, vars) = parts.split_first().unwrap();
            format!("{}.{macro_name}({}, {body})", ops[0], vars.join(", "))
        }
        f if METHODS.contains(&f) => format!("{}.{f}({})", ops[0], ops[1..].join(", ")),
        f => format!("{f}({})", ops.join(", ")),
    }
}

/// Every value the operand mentions (lists also element by element).
fn values_in(op: &Operand, out: &mut Vec<Value>) {
    match op {
        Operand::Value(v) => {
            if let Value::Array(a) = v {
                out.extend(a.iter().cloned());
            }
            out.push(v.clone());
        }
        Operand::Variable(_) => {}
        Operand::Expression(e) => e.operands.iter().for_each(|o| values_in(o, out)),
    }
}

/// Resource attributes the operand reads (`request.resource.attr.<name>`).
fn attrs_in(op: &Operand, out: &mut Vec<String>) {
    match op {
        Operand::Variable(v) => {
            if let Some(rest) = v.strip_prefix("request.resource.attr.") {
                let name = rest.split('.').next().unwrap_or(rest).to_owned();
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
        Operand::Value(_) => {}
        Operand::Expression(e) => e.operands.iter().for_each(|o| attrs_in(o, out)),
    }
}

/// splitmix64: a seeded, dependency-free source of choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

struct Scenario {
    principal: Value,
    resource: Value,
    action: String,
}

/// An exact plan's condition on one request: each `isTrue(x)`, innermost first, replaced by
/// whether `x` evaluates to `true` on it (a failure or a non-boolean is false), then the rest
/// evaluated as CEL. `Err`: the rest failed (it should not: only `isTrue` leaves read the row).
fn eval_exact(op: &Operand, request: &Request<'_>) -> Result<bool, String> {
    let folded = fold_is_true(op, request)?;
    let src = cel_source(&folded);
    let compiled = cel::compile(&src).map_err(|e| format!("{src}: {e:?}"))?;
    cel::eval_bool(&compiled, &Activation::new(request)).map_err(|e| format!("{src}: {}", e.message))
}

fn fold_is_true(op: &Operand, request: &Request<'_>) -> Result<Operand, String> {
    let Operand::Expression(e) = op else { return Ok(op.clone()) };
    let operands = e.operands.iter().map(|o| fold_is_true(o, request)).collect::<Result<Vec<_>, _>>()?;
    if e.operator != super::IS_TRUE {
        return Ok(Operand::expr(e.operator.clone(), operands));
    }
    let src = cel_source(&operands[0]);
    let compiled = cel::compile(&src).map_err(|err| format!("{src}: {err:?}"))?;
    Ok(Operand::bool(cel::eval_bool(&compiled, &Activation::new(request)).unwrap_or(false)))
}

#[derive(Default, Debug)]
struct Counts {
    compared: usize,
    check_errors: usize,
    ill_typed: usize,
    multi_role_narrower: usize,
}

/// Compares plan and check for one scenario over `rows` generated resources, pushing mismatches.
fn compare(engine: &Engine, s: &Scenario, rows: usize, rng: &mut Rng, counts: &mut Counts, failures: &mut Vec<String>, exact: bool) {
    let now = chrono::DateTime::parse_from_rfc3339("2024-01-16T10:18:27.395+13:00").unwrap();
    let aux = json!({"jwt": {"customInt": 42}});
    let input: PlanInput = serde_json::from_value(json!({"actions": [s.action], "principal": s.principal, "resource": s.resource, "auxData": aux})).unwrap();
    let plan = match engine.plan_with(&input, Some(now), &PlanOptions { exact, ..Default::default() }) {
        Ok(p) => p,
        Err(e) => {
            failures.push(format!("{} {}: plan error {e}", s.resource["kind"], s.action));
            return;
        }
    };
    let (source, compiled) = match (&plan.filter.kind, &plan.filter.condition) {
        (FilterKind::Conditional, Some(_)) if exact => (plan.filter_debug.clone(), None),
        (FilterKind::Conditional, Some(c)) => {
            let src = cel_source(c);
            match cel::compile(&src) {
                Ok(x) => (src, Some(x)),
                Err(e) => {
                    failures.push(format!("{} {}: the filter {} does not compile as {src}: {e}", s.resource["kind"], s.action, plan.filter_debug));
                    return;
                }
            }
        }
        _ => (plan.filter_debug.clone(), None),
    };
    let mut pool: Vec<Value> = vec![json!(""), json!("x"), json!(0.0), json!(1.0), json!(true), json!(false), json!([]), json!(["a"]), Value::Null];
    pool.push(s.principal["id"].clone());
    let mut attrs = Vec::new();
    if let Some(c) = &plan.filter.condition {
        values_in(c, &mut pool);
        attrs_in(c, &mut attrs);
    }
    let principal: crate::eval::request::PrincipalInput = serde_json::from_value(s.principal.clone()).unwrap();
    for row in 0..rows {
        let mut attr = Map::new();
        for a in &attrs {
            attr.insert(a.clone(), rng.pick(&pool).clone());
        }
        let id = match rng.pick(&pool) {
            Value::String(s) => s.clone(),
            _ => format!("row{row}"),
        };
        let mut resource = s.resource.clone();
        resource["id"] = json!(id);
        resource["attr"] = Value::Object(attr.clone());
        let check: CheckInput = serde_json::from_value(json!({"actions": [s.action], "principal": s.principal, "resource": resource, "auxData": aux})).unwrap();
        let out = &engine.check(std::slice::from_ref(&check), Some(now))[0];
        if !out.evaluation_errors.is_empty() && !exact {
            counts.check_errors += 1;
            continue;
        }
        let allowed = out.effect(&s.action).is_some_and(|e| e.effect == crate::policy::Effect::Allow);
        let r = &check.resource;
        let p_scope = principal.scope.strip_prefix('.').unwrap_or(&principal.scope);
        let pi = PrincipalFields { id: &principal.id, roles: &principal.roles, attr: &principal.attr, policy_version: "", scope: p_scope };
        let ri = ResourceFields { kind: &r.kind, id: &r.id, attr: &r.attr, policy_version: &r.policy_version, scope: &r.scope };
        let claims = aux["jwt"].as_object().unwrap();
        let request = Request::borrowing(&pi, &ri, Some(&AuxDataFields { jwt: Some(claims), jwts: None }), now);
        let planned = match (&plan.filter.kind, &compiled, &plan.filter.condition) {
            (FilterKind::AlwaysAllowed, _, _) => true,
            (FilterKind::Conditional, _, Some(c)) if exact => match eval_exact(c, &request) {
                Ok(b) => b,
                Err(e) => {
                    failures.push(format!("{} {}: the exact plan {source} fails: {e}", s.resource["kind"], s.action));
                    continue;
                }
            },
            (FilterKind::AlwaysDenied, _, _) | (_, None, _) => false,
            (FilterKind::Conditional, Some(expr), _) => match cel::eval_bool(expr, &Activation::new(&request)) {
                Ok(b) => b,
                Err(_) => {
                    counts.ill_typed += 1;
                    continue;
                }
            },
        };
        counts.compared += 1;
        if !exact && !planned && allowed && principal.roles.len() > 1 {
            counts.multi_role_narrower += 1;
        } else if planned != allowed {
            failures.push(format!(
                "{} {} {}: check {allowed}, plan {planned} for attr {}; plan {source}",
                s.principal["id"],
                s.resource["kind"],
                s.action,
                Value::Object(attr)
            ));
        }
    }
}

fn planner_store_scenarios() -> (Engine, Vec<Scenario>) {
    let testdata = super::conformance_tests::testdata();
    let config = EngineConfig { globals: crate::cel::Vars::from_json_map(json!({"environment": "test"}).as_object().unwrap()), ..Default::default() };
    let engine = Engine::new(PolicySource::Directory(testdata.join("query_planner/policies")), config).unwrap();
    let mut scenarios = Vec::new();
    for dir in ["common", "strict_scope_search"] {
        for path in super::conformance_tests::yaml_files(&testdata.join("query_planner/suite").join(dir)) {
            let suite = super::conformance_tests::read_yaml(&path);
            for t in suite["tests"].as_array().unwrap() {
                let actions: Vec<String> = match (&t["actions"], &t["action"]) {
                    (Value::Array(a), _) => a.iter().map(|x| x.as_str().unwrap().to_owned()).collect(),
                    (_, a) => vec![a.as_str().unwrap().to_owned()],
                };
                let mut resource = t["resource"].clone();
                // Plan with nothing known; the generated rows supply every attribute.
                resource.as_object_mut().unwrap().remove("attr");
                for action in actions {
                    scenarios.push(Scenario { principal: suite["principal"].clone(), resource: resource.clone(), action });
                }
            }
        }
    }
    (engine, scenarios)
}

fn example_scenarios(example: &str, kind: &str, actions: &[&str], principals: &[Value]) -> (Engine, Vec<Scenario>) {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples").join(example).join("policies");
    let engine = Engine::new(PolicySource::Directory(dir), EngineConfig::default()).unwrap();
    let mut scenarios = Vec::new();
    for p in principals {
        for a in actions {
            scenarios.push(Scenario { principal: p.clone(), resource: json!({"kind": kind}), action: (*a).to_owned() });
        }
    }
    (engine, scenarios)
}

fn agree_with_checks(exact: bool) {
    let mut sets = Vec::new();
    // The examples always; the conformance planner store when the shared data is there.
    let with_store = super::conformance_tests::cerbos().is_some();
    if with_store {
        sets.push(planner_store_scenarios());
    }
    let users = [json!({"id": "alice", "roles": ["admin"]}), json!({"id": "bob", "roles": ["user"]}), json!({"id": "carol", "roles": ["guest"]})];
    sets.push(example_scenarios("contacts", "contact", &["read", "create", "update", "delete"], &users));
    sets.push(example_scenarios(
        "apples",
        "apples",
        &["ListApples", "GetApple", "DeleteApple"],
        &[json!({"id": "r", "roles": ["reader"]}), json!({"id": "a", "roles": ["admin"]})],
    ));
    let scoped = |id: &str, roles: &[&str], scope: &[&str]| json!({"id": id, "roles": roles, "attr": {"scope": scope}});
    sets.push(example_scenarios(
        "sales_orders",
        "sales_order",
        &["list", "read", "write"],
        &[
            scoped("c1", &["customers"], &["sales_order.read"]),
            scoped("e1", &["employees"], &["sales_order.read_all", "sales_order.write"]),
            scoped("x", &["customers"], &[]),
        ],
    ));
    let mut rng = Rng(0x5eed);
    let mut failures = Vec::new();
    let mut counts = Counts::default();
    let mut scenarios = 0;
    for (engine, set) in &sets {
        for s in set {
            scenarios += 1;
            compare(engine, s, 80, &mut rng, &mut counts, &mut failures, exact);
        }
    }
    eprintln!("exact {exact}: {scenarios} scenarios: {counts:?}");
    let least = if with_store { 6_000 } else { 500 };
    assert!(counts.compared > least, "too few comparisons over {scenarios} scenarios: {counts:?}");
    assert!(failures.is_empty(), "{} mismatches ({counts:?}):\n{}", failures.len(), failures.iter().take(40).cloned().collect::<Vec<_>>().join("\n"));
}

#[test]
fn plans_agree_with_checks() {
    agree_with_checks(false);
}

#[test]
fn exact_plans_equal_checks() {
    agree_with_checks(true);
}

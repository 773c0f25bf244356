//! Behaviour of the planner beyond Cerbos's conformance cases: partial evaluation (cel-go 0.30's
//! rules for unknowns and errors), literal forms of known values, strict evaluation, schemas,
//! and the public API shape.
use serde_json::{json, Value};

use super::{FilterKind, PlanInput};
use crate::api::plan::PlanResourcesRequest;
use crate::api::{CerbosApi, RequestLimits};
use crate::engine::{Engine, EngineConfig, PolicySource, SchemaEnforcement};

fn engine_with(rules: &str, config: EngineConfig) -> Engine {
    let policy = format!("apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  resource: doc\n  version: default\n  rules:\n{rules}");
    Engine::new(PolicySource::Documents(vec![("doc.yaml".into(), policy)]), config).unwrap_or_else(|e| panic!("{e:?}"))
}

/// One ALLOW rule for `read` by role `user` with condition `expr`.
fn engine_for(expr: &str) -> Engine {
    let rule = format!(
        "    - actions: [read]\n      roles: [user]\n      effect: EFFECT_ALLOW\n      condition:\n        match:\n          expr: {}\n",
        serde_json::to_string(expr).unwrap()
    );
    engine_with(&rule, EngineConfig { globals: crate::cel::Vars::from_json_map(json!({"env": "prod"}).as_object().unwrap()), ..Default::default() })
}

fn input(attr: Value) -> PlanInput {
    serde_json::from_value(json!({
        "actions": ["read"],
        "principal": {"id": "alice", "roles": ["user"], "attr": {"dept": "sales", "teams": ["a", "b"], "n": 3, "levels": {"a": 1, "b": 2}}},
        "resource": {"kind": "doc", "attr": attr},
    }))
    .unwrap()
}

fn now() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2024-05-01T10:00:00+02:00").unwrap()
}

/// The `filterDebug` of planning `read` under condition `expr`, with `attr` known.
fn plan_with(expr: &str, attr: Value) -> String {
    engine_for(expr).plan(&input(attr), Some(now())).unwrap().filter_debug
}

fn plan(expr: &str) -> String {
    plan_with(expr, json!({}))
}

#[test]
fn known_parts_fold_to_values() {
    assert_eq!(plan("R.attr.owner == P.id"), r#"(eq request.resource.attr.owner "alice")"#);
    assert_eq!(plan(r#"R.attr.team in P.attr.teams && G.env == "prod""#), r#"(in request.resource.attr.team ["a","b"])"#);
    assert_eq!(plan("R.attr.level > P.attr.n + 1.0"), "(gt request.resource.attr.level 4)");
    // Attribute numbers are doubles: `3.0 + 1` has no overload, so the condition fails.
    assert_eq!(plan("R.attr.level > P.attr.n + 1"), "(false)");
    assert_eq!(plan(r#"P.attr.dept == "hr" || R.attr.public"#), "request.resource.attr.public");
    assert_eq!(plan(r#"P.attr.dept == "sales" || R.attr.public"#), "(true)");
    // Known resource attributes are values; the others stay variables.
    assert_eq!(plan_with("R.attr.owner == P.id && R.attr.status == 'open'", json!({"owner": "alice"})), r#"(eq request.resource.attr.status "open")"#);
    assert_eq!(plan_with("R.attr.owner == P.id", json!({"owner": "bob"})), "(false)");
    // The resource's kind and scope are known, its id is not.
    assert_eq!(plan(r#"R.kind == "doc" && R.id != """#), r#"(ne request.resource.id "")"#);
}

#[test]
fn literal_forms_of_known_values() {
    assert_eq!(plan("R.attr.created < now()"), r#"(lt request.resource.attr.created (timestamp "2024-05-01T10:00:00+02:00"))"#);
    assert_eq!(plan(r#"R.attr.age > duration("90m")"#), r#"(gt request.resource.attr.age (duration "5400s"))"#);
    assert_eq!(plan("R.attr.level in P.attr.levels"), r#"(in request.resource.attr.level ["a","b"])"#);
    assert_eq!(plan(r#"R.attr.blob == b"ab""#), r#"(eq request.resource.attr.blob "YWI=")"#);
    // A value with no literal form keeps its (folded) construction.
    assert_eq!(
        plan(r#"hierarchy(R.attr.path).ancestorOf(hierarchy(P.attr.dept + ".x"))"#),
        r#"(ancestorOf (hierarchy request.resource.attr.path) (hierarchy "sales.x"))"#
    );
}

#[test]
fn errors_beat_unknowns_as_in_cel_go_0_30() {
    // An operand error ends a strict call: the condition is false (not a residual naming P.attr.nope).
    assert_eq!(plan("R.attr.x == P.attr.nope"), "(false)");
    assert_eq!(plan("P.attr.nope == R.attr.x"), "(false)");
    assert_eq!(plan("size(P.attr.nope) > R.attr.n"), "(false)");
    assert_eq!(plan("[R.attr.x, P.attr.nope].size() == 2"), "(false)");
    // `&&`/`||`: a deciding operand wins over an error; an unknown wins over an error.
    assert_eq!(plan("P.attr.nope && false"), "(false)");
    assert_eq!(plan("P.attr.nope || R.attr.x"), "(or request.principal.attr.nope request.resource.attr.x)");
    let out = engine_for("R.attr.x == P.attr.nope").plan(&input(json!({})), Some(now())).unwrap();
    assert_eq!(out.evaluation_errors[0].cel_error.message, "no such key: nope");
}

#[test]
fn pruning_follows_cel_go() {
    // `x in []` is false even with `x` unknown; a known `true` operand of `&&` drops out.
    assert_eq!(plan("R.attr.x in [] || R.attr.y"), "request.resource.attr.y");
    assert_eq!(plan("(P.attr.n == 3 && R.attr.a) || R.attr.b"), "(or request.resource.attr.a request.resource.attr.b)");
    // An unknown condition leaves both branches as written.
    assert_eq!(plan(r#"(R.attr.a ? P.attr.dept : "x") == "sales""#), r#"(eq (if request.resource.attr.a request.principal.attr.dept "x") "sales")"#);
    // Cerbos writes a presence test as `true`.
    assert_eq!(plan("has(R.attr.owner)"), "(true)");
    assert_eq!(plan("has(R.attr.owner) && R.attr.owner == P.id"), r#"(eq request.resource.attr.owner "alice")"#);
}

#[test]
fn presence_tests_on_request() {
    let e = engine_for("has(R.attr.owner) && R.attr.owner == P.id || !has(request.resource.attr.flag)");
    let options = super::PlanOptions { presence_tests: true, ..Default::default() };
    let out = e.plan_with(&input(json!({})), Some(now()), &options).unwrap();
    assert_eq!(
        out.filter_debug,
        r#"(or (and (has request.resource.attr.owner) (eq request.resource.attr.owner "alice")) (not (has request.resource.attr.flag)))"#
    );
    // Cerbos's plan of the same: `has` is `true`, so `!has(...)` drops out.
    let out = e.plan(&input(json!({})), Some(now())).unwrap();
    assert_eq!(out.filter_debug, r#"(eq request.resource.attr.owner "alice")"#);
}

#[test]
fn comprehensions() {
    // Over an unknown range: a lambda whose body folds what is known.
    assert_eq!(plan("R.attr.tags.exists(t, t in P.attr.teams)"), r#"(exists request.resource.attr.tags (lambda (in t ["a","b"]) t))"#);
    assert_eq!(plan("R.attr.m.all(k, v, v > P.attr.n)"), "(all request.resource.attr.m (lambda (gt v 3) k v))");
    // Over a short known range, expanded.
    assert_eq!(plan("P.attr.teams.exists(t, t == R.attr.team)"), r#"(or (eq "a" request.resource.attr.team) (eq "b" request.resource.attr.team))"#);
    assert_eq!(plan("P.attr.levels.all(k, v, R.attr.rank > v)"), "(and (gt request.resource.attr.rank 1) (gt request.resource.attr.rank 2))");
    // Fully known: folded.
    assert_eq!(plan("P.attr.teams.all(t, t.size() == 1) && R.attr.x"), "request.resource.attr.x");
    // A known range whose body decides early: no residual.
    assert_eq!(plan("P.attr.teams.exists(t, t == 'a' || R.attr.x)"), "(true)");
}

#[test]
fn variables_and_constants_are_inlined() {
    let policy = r#"apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  constants:
    local:
      limit: 10
  variables:
    local:
      mine: R.attr.owner == P.id
      small: R.attr.size < C.limit
  rules:
    - actions: [read]
      roles: [user]
      effect: EFFECT_ALLOW
      condition:
        match:
          all:
            of:
              - expr: V.mine
              - expr: variables.small
"#;
    let e = Engine::new(PolicySource::Documents(vec![("doc.yaml".into(), policy.into())]), EngineConfig::default()).unwrap();
    let out = e.plan(&input(json!({})), Some(now())).unwrap();
    assert_eq!(out.filter_debug, r#"(and (eq request.resource.attr.owner "alice") (lt request.resource.attr.size 10))"#);
}

#[test]
fn strict_evaluation_denies_on_error() {
    let rules = "    - actions: [read, write]\n      roles: [user]\n      effect: EFFECT_ALLOW\n      condition:\n        match:\n          any:\n            of:\n              - expr: P.attr.nope == 1\n              - expr: R.attr.public\n";
    let lax = engine_with(rules, EngineConfig::default()).plan(&input(json!({})), Some(now())).unwrap();
    assert_eq!(lax.filter_debug, "request.resource.attr.public");
    let strict = engine_with(rules, EngineConfig { strict_evaluation: true, ..Default::default() }).plan(&input(json!({})), Some(now())).unwrap();
    assert_eq!(strict.filter.kind, FilterKind::AlwaysDenied);
}

#[test]
fn no_policy_is_no_match() {
    let e = engine_for("true");
    let mut i = input(json!({}));
    i.resource.kind = "other".into();
    let out = e.plan(&i, Some(now())).unwrap();
    assert_eq!(out.filter.kind, FilterKind::AlwaysDenied);
    assert_eq!(out.filter_debug, "NO_MATCH");
    i.resource.kind = "doc".into();
    i.actions = vec!["delete".into()];
    assert_eq!(e.plan(&i, Some(now())).unwrap().filter_debug, "NO_MATCH");
}

#[test]
fn invalid_inputs_name_the_field() {
    let e = engine_for("true");
    let mut i = input(json!({}));
    i.actions.clear();
    assert!(e.plan(&i, None).unwrap_err().contains("actions"));
    let mut i = input(json!({}));
    i.principal.roles.clear();
    assert!(e.plan(&i, None).unwrap_err().contains("principal.roles"));
    let bad = |v: Value| serde_json::from_value::<PlanResourcesRequest>(v).map_err(|e| e.to_string()).and_then(|r| r.validate());
    let base = json!({"principal": {"id": "a", "roles": ["user"]}, "resource": {"kind": "doc"}});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    assert!(bad(base.clone()).unwrap_err().contains("'action' or 'actions'"));
    let mut both = with("actions", json!(["a"]));
    both["action"] = json!("b");
    assert!(bad(both).unwrap_err().contains("exactly one"));
    assert!(bad(with("actions", json!(["a", "a"]))).unwrap_err().contains("unique"));
    assert!(bad(with("actions", json!((0..21).map(|i| format!("a{i}")).collect::<Vec<_>>()))).unwrap_err().contains("at most 20"));
    assert!(bad(with("bogus", json!(1))).unwrap_err().contains("bogus"));
    assert!(bad(with("actions", json!("read"))).unwrap_err().contains("list"));
}

#[test]
fn public_response_shape() {
    let api = CerbosApi::new(std::sync::Arc::new(engine_for("R.attr.owner == P.id")), RequestLimits::CERBOS);
    let req: PlanResourcesRequest = serde_json::from_value(json!({
        "requestId": "r1", "action": "read", "includeMeta": true,
        "principal": {"id": "alice", "roles": ["user"]}, "resource": {"kind": "doc", "policyVersion": "default"},
    }))
    .unwrap();
    let resp = serde_json::to_value(api.plan_resources(&req, None).unwrap()).unwrap();
    assert_eq!(
        resp,
        json!({
            "requestId": "r1", "action": "read", "resourceKind": "doc", "policyVersion": "default",
            "filter": {"kind": "KIND_CONDITIONAL", "condition": {"expression": {"operator": "eq", "operands": [
                {"variable": "request.resource.attr.owner"}, {"value": "alice"}]}}},
            "meta": {"filterDebug": "(eq request.resource.attr.owner \"alice\")"},
        })
    );
    let req: PlanResourcesRequest = serde_json::from_value(json!({
        "actions": ["read", "write"], "principal": {"id": "alice", "roles": ["user"]}, "resource": {"kind": "doc"},
    }))
    .unwrap();
    let resp = serde_json::to_value(api.plan_resources(&req, None).unwrap()).unwrap();
    assert_eq!(resp, json!({"actions": ["read", "write"], "resourceKind": "doc", "filter": {"kind": "KIND_ALWAYS_DENIED"}}));
}

#[test]
fn schemas_validate_known_attributes_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("_schemas")).unwrap();
    std::fs::write(
        dir.path().join("_schemas/doc.json"),
        r#"{"type": "object", "required": ["owner"], "properties": {"owner": {"type": "string"}, "size": {"type": "number"}}}"#,
    )
    .unwrap();
    let policy = "apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  resource: doc\n  version: default\n  schemas:\n    resourceSchema:\n      ref: cerbos:///doc.json\n  rules:\n    - actions: [read]\n      roles: [user]\n      effect: EFFECT_ALLOW\n      condition:\n        match:\n          expr: R.attr.owner == P.id\n";
    std::fs::write(dir.path().join("doc.yaml"), policy).unwrap();
    for (enforcement, kind) in [(SchemaEnforcement::Warn, FilterKind::Conditional), (SchemaEnforcement::Reject, FilterKind::AlwaysDenied)] {
        let e = Engine::new(PolicySource::Directory(dir.path().into()), EngineConfig { schema_enforcement: enforcement, ..Default::default() }).unwrap();
        // A missing required attribute is no error when planning.
        let ok = e.plan(&input(json!({})), None).unwrap();
        assert!(ok.validation_errors.is_empty(), "{:?}", ok.validation_errors);
        assert_eq!(ok.filter.kind, FilterKind::Conditional);
        let bad = e.plan(&input(json!({"size": "big"})), None).unwrap();
        assert_eq!(bad.validation_errors.len(), 1, "{:?}", bad.validation_errors);
        assert_eq!(bad.validation_errors[0].path, "/size");
        assert_eq!(bad.filter.kind, kind);
    }
}

#[test]
fn several_actions_are_anded_and_scopes_reported() {
    let docs = vec![
        ("root.yaml".to_owned(), "apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  resource: doc\n  version: default\n  rules:\n    - actions: [read]\n      roles: [user]\n      effect: EFFECT_ALLOW\n      condition:\n        match:\n          expr: R.attr.public\n".to_owned()),
        ("acme.yaml".to_owned(), "apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  resource: doc\n  version: default\n  scope: acme\n  rules:\n    - actions: [write]\n      roles: [user]\n      effect: EFFECT_ALLOW\n      condition:\n        match:\n          expr: R.attr.owner == P.id\n".to_owned()),
    ];
    let e = Engine::new(PolicySource::Documents(docs), EngineConfig::default()).unwrap();
    let mut i = input(json!({}));
    i.resource.scope = "acme".into();
    i.actions = vec!["read".into(), "write".into()];
    let out = e.plan(&i, Some(now())).unwrap();
    assert_eq!(out.filter_debug, r#"(and (eq request.resource.attr.owner "alice") request.resource.attr.public)"#);
    assert_eq!(out.matched_scopes, vec![("read".to_owned(), String::new()), ("write".to_owned(), "acme".to_owned())]);
}

/// Rough per-plan cost without Python: `cargo test --release --lib plan::tests::time_contacts_plan -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a test; run by hand"]
fn time_contacts_plan() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/contacts/policies");
    let e = Engine::new(PolicySource::Directory(dir), EngineConfig::default()).unwrap();
    for action in ["update", "read"] {
        let i: PlanInput =
            serde_json::from_value(json!({"actions": [action], "principal": {"id": "bob", "roles": ["user"]}, "resource": {"kind": "contact"}})).unwrap();
        let now = Some(now());
        for _ in 0..10_000 {
            std::hint::black_box(e.plan(&i, now).unwrap());
        }
        let n = 100_000;
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(e.plan(&i, now).unwrap());
        }
        println!("engine.plan contact {action}: {:.3} µs", t.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
}

#[test]
fn conditions_the_planner_cannot_express_fail_with_their_source() {
    // Cerbos's planner cannot express a `cel.bind` over an unknown either (its loop step is no call).
    let err = engine_for("cel.bind(x, R.attr.a, x > 1)").plan(&input(json!({})), Some(now())).unwrap_err();
    assert!(err.contains("cel.bind(x, R.attr.a, x > 1)"), "{err}");
    // Known, it folds.
    assert_eq!(plan("cel.bind(x, P.attr.n, x > 1.0) && R.attr.y"), "request.resource.attr.y");
}

#[test]
fn budget_bookkeeping_never_shows_in_a_filter() {
    // The compile step wraps operands in `@steps`/`@bytes` calls that charge the evaluation budget
    // (planning runs under one budget per condition, as a check does).
    assert_eq!(
        plan(r#"R.attr.a + "x" == P.id && [R.attr.b, P.id].size() > 1"#),
        r#"(and (eq (add request.resource.attr.a "x") "alice") (gt (size (list request.resource.attr.b "alice")) 1))"#
    );
    assert_eq!(
        plan("R.attr.tags.map(t, t + '!').exists(t, t == P.id)"),
        r#"(exists (map request.resource.attr.tags (lambda (add t "!") t)) (lambda (eq t "alice") t))"#
    );
}

/// The `filterDebug` of a plan of `read` for `roles`, exact or as Cerbos plans.
fn plan_roles(e: &Engine, roles: &[&str], exact: bool) -> String {
    let mut inp = input(json!({}));
    inp.principal.roles = roles.iter().map(|r| r.to_string()).collect();
    let options = super::PlanOptions { exact, ..Default::default() };
    e.plan_with(&inp, Some(now()), &options).unwrap().filter_debug
}

fn exact_plan(e: &Engine, roles: &[&str]) -> String {
    plan_roles(e, roles, true)
}

#[test]
fn exact_plans_count_a_failed_leaf_false() {
    let rules = "    - actions: [read]\n      roles: [user]\n      effect: EFFECT_ALLOW\n
    - actions: [read]\n      roles: [user]\n      effect: EFFECT_DENY\n      condition:\n        match:\n          expr: R.attr.amount > 1000.5\n";
    let e = engine_with(rules, EngineConfig::default());
    // Cerbos's plan: `not(amount > 1000.5)` fails where amount is missing, excluding a row check allows.
    assert_eq!(plan_roles(&e, &["user"], false), "(not (gt request.resource.attr.amount 1000.5))");
    assert_eq!(exact_plan(&e, &["user"]), "(not (isTrue (gt request.resource.attr.amount 1000.5)))");
    // Each leaf of a `match` on its own, as check evaluates them.
    let e = engine_with(
        "    - actions: [read]\n      roles: [user]\n      effect: EFFECT_ALLOW\n      condition:\n        match:\n          none:\n            of:\n              - expr: R.attr.a == 1\n              - expr: R.attr.b == 2\n",
        EngineConfig::default(),
    );
    assert_eq!(exact_plan(&e, &["user"]), "(and (not (isTrue (eq request.resource.attr.a 1))) (not (isTrue (eq request.resource.attr.b 2))))");
    // Known leaves fold: nothing to wrap.
    assert_eq!(exact_plan(&engine_for("P.attr.n == 3"), &["user"]), "(true)");
    assert_eq!(exact_plan(&engine_for("R.attr.owner == P.id"), &["user"]), r#"(isTrue (eq request.resource.attr.owner "alice"))"#);
}

#[test]
fn exact_plans_take_roles_one_by_one() {
    let rules = "    - actions: [read]\n      roles: [user]\n      effect: EFFECT_ALLOW\n      condition:\n        match:\n          expr: R.attr.public\n
    - actions: [read]\n      roles: [employee]\n      effect: EFFECT_DENY\n      condition:\n        match:\n          expr: R.attr.secret\n
    - actions: [read]\n      roles: [employee]\n      effect: EFFECT_ALLOW\n";
    let e = engine_with(rules, EngineConfig::default());
    // Cerbos ANDs every role's DENY; check allows where one role allows.
    assert_eq!(plan_roles(&e, &["employee", "user"], false), "(not request.resource.attr.secret)");
    assert_eq!(exact_plan(&e, &["employee", "user"]), "(or (not (isTrue request.resource.attr.secret)) (isTrue request.resource.attr.public))");
    assert_eq!(exact_plan(&e, &["employee"]), "(not (isTrue request.resource.attr.secret))");
}

#[test]
fn exact_plans_are_refused_with_strict_evaluation() {
    let e =
        engine_with("    - actions: [read]\n      roles: [user]\n      effect: EFFECT_ALLOW\n", EngineConfig { strict_evaluation: true, ..Default::default() });
    let options = super::PlanOptions { exact: true, ..Default::default() };
    let err = e.plan_with(&input(json!({})), Some(now()), &options).unwrap_err();
    assert!(err.contains("strict evaluation"), "{err}");
}

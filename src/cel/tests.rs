//! Cerbos's `cel_eval` conformance cases, run as Cerbos's `TestSatisfiesCondition` does, plus
//! tests of the activation, errors and compile checks.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::*;

fn cel_eval_dir() -> Option<PathBuf> {
    crate::shared_data::shared_data("conformance/cerbos/internal/test/testdata/cel_eval")
}

/// A `Match` as Cerbos evaluates it (`SatisfiesCondition`): `all` stops at the first false,
/// `any` at the first true, `none` is true when no child is; an erroring expression counts
/// as false (non-strict mode), a non-boolean result too.
fn satisfies(m: &Value, act: &Activation<'_>) -> Result<bool, String> {
    let obj = m.as_object().ok_or("a Match must be an object")?;
    if let Some(e) = obj.get("expr") {
        let src = e.as_str().ok_or("expr must be a string")?;
        let compiled = compile(src).map_err(|e| e.to_string())?;
        return Ok(eval_bool(&compiled, act).unwrap_or(false));
    }
    let children = |k: &str| -> Result<Vec<Value>, String> { obj[k].get("of").and_then(|o| o.as_array()).cloned().ok_or(format!("{k}.of must be a list")) };
    if obj.contains_key("all") {
        for c in children("all")? {
            if !satisfies(&c, act)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    if obj.contains_key("any") {
        for c in children("any")? {
            if satisfies(&c, act)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if obj.contains_key("none") {
        for c in children("none")? {
            if satisfies(&c, act)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    Err(format!("unknown match: {m}"))
}

#[test]
fn cel_eval_conformance() {
    let Some(dir) = cel_eval_dir() else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no cases in {}", dir.display());
    let now = chrono::DateTime::parse_from_rfc3339("2021-04-22T10:05:20.021-05:00").unwrap();
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let case: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut req = match Request::from_json(&case["request"]) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{name}: bad request: {e}"));
                continue;
            }
        };
        req.set_now(now);
        let act = Activation::new(&req);
        let want_error = case.get("wantError").and_then(Value::as_bool).unwrap_or(false);
        let want = case.get("want").and_then(Value::as_bool).unwrap_or(false);
        match satisfies(&case["condition"], &act) {
            Err(e) if !want_error => failures.push(format!("{name}: unexpected error: {e}")),
            Ok(got) if want_error => failures.push(format!("{name}: wanted an error, got {got}")),
            Ok(got) if got != want => {
                // Say which leaf disagrees, to make the failure actionable.
                failures.push(format!("{name}: want {want}, got {got}; leaves: {}", leaves(&case["condition"], &act)));
            }
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), files.len(), failures.join("\n"));
}

fn leaves(m: &Value, act: &Activation<'_>) -> String {
    let mut out = Vec::new();
    fn walk(m: &Value, act: &Activation<'_>, out: &mut Vec<String>) {
        if let Some(e) = m.get("expr").and_then(Value::as_str) {
            let r = compile(e).map_err(|e| e.to_string()).and_then(|c| eval(&c, act).map_err(|e| e.message).map(|v| format!("{v:?}")));
            out.push(format!("`{}` => {r:?}", e.trim()));
            return;
        }
        for k in ["all", "any", "none"] {
            if let Some(of) = m.get(k).and_then(|x| x.get("of")).and_then(Value::as_array) {
                for c in of {
                    walk(c, act, out);
                }
            }
        }
    }
    walk(m, act, &mut out);
    out.join("\n    ")
}

// ---------------------------------------------------------------------------------------------

fn req() -> Request<'static> {
    tests_util::request()
}

fn eval_with(src: &str, act: &Activation<'_>) -> Result<Value, String> {
    let c = compile(src).map_err(|e| e.to_string())?;
    eval(&c, act).map_err(|e| e.message).and_then(|v| v.to_json())
}

#[test]
fn request_fields_both_spellings() {
    let r = Request::from_json(&json!({
        "principal": {"id": "p1", "roles": ["a", "b"], "attr": {"x": 1}, "policyVersion": "v1", "scope": "s.t"},
        "resource": {"kind": "doc", "id": "r1", "attr": {}, "policy_version": "v2"},
        "auxData": {"jwt": {"iss": "me"}, "jwts": {"t1": {"claims": {"sub": "u"}}}},
    }))
    .unwrap();
    let act = Activation::new(&r);
    for (src, want) in [
        ("P.id", json!("p1")),
        ("request.principal.policyVersion", json!("v1")),
        ("request.principal.policy_version", json!("v1")),
        ("R.policyVersion + R.policy_version", json!("v2v2")),
        ("R.scope", json!("")),
        ("P.attr.x == 1", json!(true)),
        ("P.attr.x + 1.5", json!(2.5)),
        ("request.auxData.jwt.iss", json!("me")),
        ("request.aux_data.jwts.t1.claims.sub", json!("u")),
        ("has(P.scope)", json!(true)),
        ("has(R.scope)", json!(false)),
        ("has(request.auxData)", json!(true)),
        ("has(P.attr.x)", json!(true)),
        ("has(P.attr.y)", json!(false)),
        ("'a' in P.roles", json!(true)),
        ("runtime.effectiveDerivedRoles", json!([])),
    ] {
        assert_eq!(eval_with(src, &act), Ok(want), "{src}");
    }
}

#[test]
fn missing_aux_data_behaves_like_an_empty_message() {
    let r = req();
    let act = Activation::new(&r);
    assert_eq!(eval_with("request.aux_data.jwt.aud", &act), Err("no such key: aud".into()));
    assert_eq!(eval_with("has(request.auxData)", &act), Ok(json!(false)));
    assert_eq!(eval_with("size(request.auxData.jwts)", &act), Ok(json!(0)));
}

#[test]
fn error_messages() {
    let r = req();
    let vars = Vars::new();
    let act = Activation::new(&r).with_variables(&vars);
    for (src, want) in [
        ("P.attr.ip_address", "no such key: ip_address"),
        ("P.attr.department.x", "no such key: x"),
        ("request.principal.attr.n.x.y", "no such key: x"),
        ("R.attr.tags.x", "unsupported index type 'string' in list"),
        ("request.aux_data.jwts.t.claims", "no such key: t"),
        ("V.missing", "undefined field 'missing'"),
        ("variables.missing", "undefined field 'missing'"),
        ("C.missing", "undefined field 'missing'"),
        ("C.missing && true", "undefined field 'missing'"),
        ("1 / 0", "division by zero"),
        ("1 % 0", "modulus by zero"),
        ("P.attr.n + 1", "no such overload"),
        ("P.attr.department < 1", "no such overload"),
        ("true + true", "no such overload: _+_"),
        ("{} + {}", "no such overload: _+_"),
        ("[1] < [2]", "no such overload: _<_"),
        ("-1u", "no such overload: -_"),
        ("-P.attr.department", "no such overload: -_"),
        ("'abc'[1]", "no such overload: _[_]"),
        ("1u - 1", "no such overload"),
        ("!P.attr.n", "no such overload"),
        ("P.attr.n ? 1 : 2", "no such overload"),
        ("P.attr.n && true", "no such overload"),
        ("1 in P.attr.n", "no such overload"),
        ("P.attr.n.matches('x')", "no such overload: matches(double, string)"),
        ("size(P.attr.n)", "no such overload: size"),
        ("P.attr.n.size()", "no such overload: size"),
        ("size(now())", "no such overload"),
        ("timestamp('9999-12-31T23:59:59Z') + duration('24h')", "timestamp overflow"),
        ("duration('2562047h') + duration('2562047h')", "duration overflow"),
        ("18446744073709551615u + 1u", "unsigned integer overflow"),
        ("9223372036854775807 * 2", "integer overflow"),
        ("P.attr.n.all(x, x)", "got 'types.Double', expected iterable type"),
        ("P.id.exists(k, v, true)", "unsupported comprehension range type: types.String"),
        ("R.attr.tags.startsWith('a')", "no such overload: startsWith(list, string)"),
        ("int(P.id)", "type conversion error from 'string' to 'int'"),
        ("double(P.id)", "type conversion error from 'string' to 'double'"),
        ("bool(P.id)", "type conversion error from 'string' to 'bool'"),
        ("duration(P.id)", "type conversion error from 'string' to 'google.protobuf.Duration'"),
        ("timestamp(P.id)", "type conversion error from 'string' to 'google.protobuf.Timestamp'"),
        ("timestamp(P.id + '10000-01-01T00:00:00Z')", "type conversion error from 'string' to 'google.protobuf.Timestamp'"),
        ("int(1e100)", "integer overflow"),
        ("base64.decode(P.id + '!')", "illegal base64 data at input byte 4"),
        ("[1][5]", "index out of bounds: 5"),
    ] {
        assert_eq!(eval_with(src, &act), Err(want.to_owned()), "{src}");
    }
    assert_eq!(eval_with("has(V.missing)", &act), Ok(json!(false)));
    // cel-go (as Cerbos configures it) answers false for a field of a non-container.
    assert_eq!(eval_with("has(P.attr.department.x)", &act), Ok(json!(false)));
    assert_eq!(eval_with("!has(P.attr.n.x)", &act), Ok(json!(true)));
    assert_eq!(eval_with("has(P.attr.missing.x)", &act), Err("no such key: missing".into()));
    assert_eq!(eval_with("has(R.attr.tags.x)", &act), Err("unsupported index type 'string' in list".into()));
    assert_eq!(eval_with("has({'a': {'b': 1}}.a.b) && !has({'a': {}}.a.b)", &act), Ok(json!(true)));
    assert_eq!(eval_with("has(optional.of({'a': 1}).a) && !has(optional.none().a)", &act), Ok(json!(true)));
    assert_eq!(eval_with("[{'a': 1}].exists(x, has(x.a))", &act), Ok(json!(true)));
}

#[test]
fn variables_constants_globals() {
    let r = req();
    let mut v = Vars::new();
    v.insert("flag", CelValue::from(true));
    v.insert("roles", json_to_value(&json!(["a", "b"])));
    let mut c = Vars::new();
    c.insert_json("one", &json!(1));
    let g = Vars::from_json_map(json!({"env": "test"}).as_object().unwrap());
    let act = Activation::new(&r).with_variables(&v).with_constants(&c).with_globals(&g);
    assert_eq!(eval_with("V.flag && variables.flag", &act), Ok(json!(true)));
    assert_eq!(eval_with("'a' in V.roles", &act), Ok(json!(true)));
    assert_eq!(eval_with("C.one == 1 && constants.one == 1.0", &act), Ok(json!(true)));
    assert_eq!(eval_with("G.env + globals.env", &act), Ok(json!("testtest")));
    assert_eq!(eval_with("has(G.env) && !has(G.nope)", &act), Ok(json!(true)));
}

#[test]
fn runtime_sources() {
    let r = req();
    let act = Activation::new(&r).with_runtime_roles(vec!["b".into(), "a".into()]);
    assert_eq!(eval_with("runtime.effective_derived_roles", &act), Ok(json!(["a", "b"])));
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let f = || {
        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(vec!["x".to_owned()])
    };
    let act = Activation::new(&r).with_runtime_fn(&f);
    assert_eq!(eval_with("'x' in runtime.effectiveDerivedRoles && size(runtime.effectiveDerivedRoles) == 1", &act), Ok(json!(true)));
    assert_eq!(eval_with("'x' in runtime.effectiveDerivedRoles", &act), Ok(json!(true)));
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    let act = Activation::new(&r).with_runtime_error("failed to compute effective derived roles [a]");
    assert_eq!(eval_with("'x' in runtime.effectiveDerivedRoles", &act), Err("failed to compute effective derived roles [a]".into()));
}

#[test]
fn eval_bool_non_bool_is_false() {
    let r = req();
    let act = Activation::new(&r);
    assert_eq!(eval_bool(&compile("42").unwrap(), &act), Ok(false));
    assert_eq!(eval_bool(&compile("'dude'").unwrap(), &act), Ok(false));
    assert_eq!(eval_bool(&compile("true").unwrap(), &act), Ok(true));
    assert!(eval_bool(&compile("P.attr.nope").unwrap(), &act).is_err());
}

#[test]
fn compile_analysis() {
    let c = compile("V.a && variables.b && C.x == G.y && constants.z in globals.w && V.a").unwrap();
    assert_eq!(c.variable_refs(), ["a", "b"]);
    assert_eq!(c.constant_refs(), ["x", "z"]);
    assert_eq!(c.global_refs(), ["w", "y"]);
    assert!(!c.uses_runtime() && !c.uses_now());
    let c = compile("'a' in runtime.effectiveDerivedRoles && now() > timestamp('2020-01-01T00:00:00Z')").unwrap();
    assert!(c.uses_runtime() && c.uses_now());
    assert!(compile("timestamp(P.attr.t).timeSince() > duration('1h')").unwrap().uses_now());
    // A comprehension variable named V is not the variables object.
    assert!(compile("[{'q': 1}].all(V, V.q == 1)").unwrap().variable_refs().is_empty());
}

#[test]
fn compile_errors() {
    for (src, want) in [
        ("wat", "undeclared reference to 'wat' (in container '')"),
        ("C.foo > V[\"bar\"]", "found no matching overload for '_[_]' applied to '(cerbos.Variables, string)'"),
        ("foo(1)", "undeclared reference to 'foo' (in container '')"),
        ("R['kind'] == 'x'", "found no matching overload for '_[_]' applied to '(cerbos.engine.v1.Request.Resource, string)'"),
        ("P.attr.x.frobnicate()", "undeclared reference to 'frobnicate' (in container '')"),
        ("P.nope == 1", "undefined field 'nope'"),
        ("request.auxData.nope", "undefined field 'nope'"),
        ("has(R.nope)", "undefined field 'nope'"),
        ("duration('1x')", "invalid duration argument"),
        ("timestamp('yesterday')", "invalid timestamp argument"),
        ("P.id.matches('[')", "invalid matches argument"),
        ("'%s %s'.format(['abc', 'def', 'ghi'])", "too many arguments supplied to string.format (expected 2, got 3)"),
        ("matches('[', P.id)", "invalid matches argument"),
    ] {
        let err = compile(src).expect_err(src);
        assert_eq!(err.messages(), [want], "{src}");
    }
    let err = compile("resource.attr.dev_record ^^ true").unwrap_err();
    assert!(err.messages()[0].starts_with("Syntax error"), "{err}");
    assert!(err.issues[0].line.is_some());
    assert_eq!(compile("wat").unwrap_err().to_string(), "Invalid expression `wat`: [undeclared reference to 'wat' (in container '')]");
    // Known functions, namespaces and types compile.
    for src in [
        "sets.contains([1], [1])",
        "math.greatest(1, 2) == 2",
        "optional.of(1).hasValue()",
        "ip.isCanonical('::1')",
        "base64.encode(b'x') != ''",
        "type(1) == int",
        "lists.range(3).size() == 3",
        "'a,b'.split(',').join('-') == 'a-b'",
        "[1, 2].map(x, x * 2).filter(y, y > 2) == [4]",
        "cel.bind(x, 1, x + 1) == 2",
        "{'a': 1}.all(k, v, k == 'a' && v == 1)",
        "dyn(1) == 1",
        "type(now()) == google.protobuf.Timestamp && type(P) != int",
        "P.attr.?missing.orValue(1) == 1",
        "[1, 2, 3].sortBy(x, -x) == [3, 2, 1]",
    ] {
        compile(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    }
}

#[test]
fn cel_go_extensions() {
    for (src, want) in [
        ("cel.bind(x, 'a', x + x)", json!("aa")),
        ("cel.bind(a, 1, cel.bind(b, 2, a + b))", json!(3)),
        ("[10, 20].all(i, v, v == (i + 1) * 10)", json!(true)),
        ("{'a': 'a', 'b': 'c'}.exists(k, v, k != v)", json!(true)),
        ("{'a': 'a', 'b': 'b'}.all(k, v, k == v)", json!(true)),
        ("[1, 2, 3].existsOne(i, v, v > 2)", json!(true)),
        ("[1, 2, 3].exists_one(i, v, v > 1)", json!(false)),
        ("[1, 2, 3].transformList(i, v, i * v)", json!([0, 2, 6])),
        ("[1, 2, 3].transformList(i, v, v > 1, v * 10)", json!([20, 30])),
        ("{'a': 1, 'b': 2}.transformMap(k, v, v + 1)", json!({"a": 2, "b": 3})),
        ("{'a': 1, 'b': 2}.transformMap(k, v, v > 1, v + 1)", json!({"b": 3})),
        ("{'a': 1}.transformMapEntry(k, v, {k + k: v})", json!({"aa": 1})),
        ("1 < 2.5 && 1 == 1.0 && 2u > 1 && 1.5 > 1", json!(true)),
        ("duration('3750s').getMinutes()", json!(62)),
        ("timestamp('2021-04-20T10:05:20.021-05:00').getHours('America/New_York')", json!(11)),
        ("now()", json!("2021-04-22T10:05:20.021-05:00")),
        ("timestamp('2021-04-21T10:05:20.021-05:00').timeSince()", json!("86400s")),
        ("timeSince(timestamp('2021-04-22T10:05:19.521-05:00'))", json!("0.5s")),
        ("math.least([3, 1, 2])", json!(1)),
        ("'%s-%d'.format(['a', 1])", json!("a-1")),
        ("[[1], [2, [3]]].flatten()", json!([1, 2, [3]])),
        ("'abc'.reverse()", json!("cba")),
        ("strings.quote('a\"b')", json!("\"a\\\"b\"")),
    ] {
        assert_eq!(tests_util::run(src), Ok(want), "{src}");
    }
}

#[test]
fn value_conversions() {
    let v = json_to_value(&json!({"a": [1, "x", null, true], "b": {"c": 2.5}}));
    assert_eq!(v.type_name(), "map");
    assert_eq!(value_to_json(&v), Ok(json!({"a": [1, "x", null, true], "b": {"c": 2.5}})));
    assert_eq!(tests_util::run("duration('1.5s')"), Ok(json!("1.5s")));
    assert_eq!(tests_util::run("duration('90m')"), Ok(json!("5400s")));
    assert_eq!(tests_util::run("timestamp('2021-04-22T10:05:20Z')"), Ok(json!("2021-04-22T10:05:20Z")));
    assert_eq!(tests_util::run("b'hi'"), Ok(json!("aGk=")));
    assert_eq!(tests_util::run("{1: 2}"), Ok(json!({"1": 2})));
    assert!(tests_util::run("hierarchy('a.b')").is_err());
    // A message converts as protojson does: JSON names, zero values omitted.
    assert_eq!(tests_util::run("R"), Ok(json!({"kind": "leave_request", "id": "XX125", "attr": {"bad": "1.2.3", "tags": ["a", "b"]}})));
    let c = CelValue::from_cel_value(cel::Value::Int(3)).unwrap();
    assert_eq!(c.to_cel_value(), Ok(cel::Value::Int(3)));
}

#[test]
fn never_panics_on_odd_input() {
    let r = req();
    let act = Activation::new(&r);
    for src in [
        "",
        "(",
        "1 +",
        "9223372036854775807 + 1",
        "-9223372036854775808 - 1",
        "[1][5]",
        "{'a': 1}[[]]",
        "'x' * 3",
        "size(1)",
        "1.0 / 0.0 > 1.0",
        "int(1e100)",
        "duration('99999999999999999999h')",
        "timestamp('9999-12-31T23:59:59Z') + duration('24h')",
        "lists.range(-1)",
        "'abc'.substring(5)",
        "'abc'.charAt(-1)",
        "hierarchy('a')[-1]",
        "regex.replace('a', '(', 'b')",
        "P.attr.department.matches(P.id)",
        "[1, 2].sortBy(x, [x])",
        "{}.transformMap(k, v, v)",
        "dyn([]).all(k, v, true)",
        "\"\\xff\"",
        "'\\u00e9'.size()",
        "math.bitShiftLeft(1, 100)",
    ] {
        if let Ok(c) = compile(src) {
            let _ = eval(&c, &act);
        }
    }
}

#[test]
fn syntax_errors_read_like_cel_go() {
    let err = compile("resource.attr.dev_record ^^ true").unwrap_err();
    assert_eq!(
        err.messages(),
        [
            "Syntax error: token recognition error at: '^'",
            "Syntax error: token recognition error at: '^'",
            "Syntax error: extraneous input 'true' expecting <EOF>"
        ]
    );
    assert_eq!((err.issues[0].line, err.issues[0].column), (Some(1), Some(26)));
    let err = compile("# YAML comment\nrequest.resource.attr.status == \"PENDING_APPROVAL\"").unwrap_err();
    assert_eq!(err.messages(), ["Syntax error: token recognition error at: '#'", "Syntax error: mismatched input 'comment' expecting <EOF>"]);
}

/// Rough cost of one evaluation (run with `--ignored --nocapture`, ideally optimised).
#[test]
#[ignore = "a measurement, not a test; run by hand"]
fn bench_simple_condition() {
    let r = req();
    let vars = Vars::new();
    for src in [
        "R.attr.tags[0] == \"a\"",
        "P.attr.department == \"marketing\" && \"employee\" in P.roles",
        "true",
        "'a' == 'a'",
        "R",
        "R.attr",
        "R.attr.tags",
        "[1, 2][0]",
        "V",
    ] {
        if std::env::var("BENCH_EXPR").is_ok_and(|f| f != src) {
            continue;
        }
        let c = compile(src).unwrap();
        let act = Activation::new(&r).with_variables(&vars);
        let n = 200_000;
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(run(&c, &act, |v| Ok(v.get_type().kind() == cel::common::types::Kind::Boolean)).unwrap());
        }
        println!("{src}: {:?} per eval", t.elapsed() / n);
    }
}

/// Compiles every CEL expression found in Cerbos's test data and prints the failures
/// (some are meant to fail). Run with `--ignored --nocapture`.
#[test]
#[ignore = "a survey that prints, not a test (some expressions are meant to fail); run by hand"]
fn compile_all_testdata_expressions() {
    fn walk_dir(p: &std::path::Path, out: &mut Vec<PathBuf>) {
        if let Ok(rd) = std::fs::read_dir(p) {
            for e in rd.flatten() {
                let path = e.path();
                if path.is_dir() {
                    walk_dir(&path, out);
                } else if path.to_string_lossy().ends_with(".yaml")
                    || path.to_string_lossy().ends_with(".yml")
                    || path.to_string_lossy().ends_with(".yaml.input")
                {
                    out.push(path);
                }
            }
        }
    }
    fn collect(v: &Value, key: &str, parent: &str, out: &mut Vec<String>) {
        match v {
            Value::String(s) if matches!(key, "expr" | "ruleActivated" | "conditionNotMet") => out.push(s.clone()),
            Value::String(s) if parent == "local" || parent == "variables" => out.push(s.clone()),
            Value::Object(m) => {
                for (k, c) in m {
                    if key == "constants" {
                        continue;
                    }
                    collect(c, k, key, out);
                }
            }
            Value::Array(a) => {
                for c in a {
                    collect(c, key, parent, out);
                }
            }
            _ => {}
        }
    }
    let Some(root) = crate::shared_data::shared_data("conformance/cerbos/internal/test/testdata") else { return };
    let mut files = Vec::new();
    walk_dir(&root, &mut files);
    files.sort();
    let (mut ok, mut bad) = (0, 0);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for doc in text.split("\n---") {
            let Ok(v) = serde_saphyr::from_str::<Value>(doc) else { continue };
            let mut exprs = Vec::new();
            collect(&v, "", "", &mut exprs);
            for e in exprs {
                match compile(&e) {
                    Ok(_) => ok += 1,
                    Err(err) => {
                        bad += 1;
                        println!("{}: {err}", f.strip_prefix(&root).unwrap().display());
                    }
                }
            }
        }
    }
    println!("compiled {ok}, failed {bad}");
}

#[test]
fn public_types_are_thread_safe() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CompiledExpr>();
    assert_send_sync::<Request<'static>>();
    assert_send_sync::<Vars>();
    assert_send_sync::<CelValue>();
    assert_send_sync::<Activation<'static>>();
    assert_send_sync::<CompileError>();
    assert_send_sync::<EvalError>();
}

#[test]
fn eval_json_converts_in_place() {
    let r = req();
    let act = Activation::new(&r);
    let c = compile(r#"{"id": P.id, "n": P.attr.n, "when": now(), "l": [1, 2.5]}"#).unwrap();
    assert_eq!(eval_json(&c, &act), Ok(json!({"id": "john", "n": 42, "when": "2021-04-22T10:05:20.021-05:00", "l": [1, 2.5]})));
    let c = compile("hierarchy('a.b')").unwrap();
    assert_eq!(eval_json(&c, &act).unwrap_err().message, "type conversion error from 'cerbos.lib.hierarchy' to 'google.protobuf.Value'");
}

#[test]
fn variables_can_build_on_each_other() {
    let r = req();
    let mut vars = Vars::new();
    for (name, src) in [("a", "P.attr.n + 1.0"), ("b", "V.a * 2.0"), ("c", "V.missing")] {
        let expr = compile(src).unwrap();
        let result = eval(&expr, &Activation::new(&r).with_variables(&vars));
        if let Ok(v) = result {
            vars.insert(name, v);
        }
    }
    let act = Activation::new(&r).with_variables(&vars);
    assert_eq!(eval_with("V.b", &act), Ok(json!(86)));
    assert_eq!(eval_with("V.c", &act), Err("undefined field 'c'".into()));
}

/// Cerbos's own `TestCerbosLib` table: each expression must evaluate to true, or fail
/// (at compile or evaluation time) when marked.
#[test]
fn cerbos_lib_table() {
    // As in Cerbos's test, now() is the current time.
    let r = Request::from_json(&json!({})).unwrap();
    let act = Activation::new(&r);
    let mut failures = Vec::new();
    for (src, want_err) in super::cerbos_lib_cases::CERBOS_LIB_CASES {
        let got = compile(src).map_err(|e| e.to_string()).and_then(|c| eval(&c, &act).map_err(|e| e.message));
        match (got, want_err) {
            (Err(_), true) => {}
            (Ok(v), false) if v.as_bool() == Some(true) => {}
            (got, _) => failures.push(format!("{src}: {got:?}")),
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn identifiers_follow_cerbos_rules() {
    for ok in ["_", "_0", "_x", "foo", "foo_bar", "foo42bar", "fooBar", "no", "x_", "x0", "yes"] {
        assert!(validate_identifier(ok).is_ok(), "{ok}");
    }
    for bad in ["", "0", "123", "false", "foo?", "in", "null", "true", "é"] {
        assert!(validate_identifier(bad).is_err(), "{bad}");
    }
    assert_eq!(validate_identifier("in"), Err("\"in\" is a reserved keyword and can't be used as an identifier".into()));
    assert_eq!(validate_identifier("foo?"), Err("\"foo?\" is not a valid identifier".into()));
}

/// Random combinations of expression fragments: nothing may panic (a caught panic would
/// surface as an "internal error").
#[test]
fn random_expressions_never_panic() {
    const ATOMS: &[&str] = &[
        "1",
        "-1",
        "2.5",
        "0",
        "0.0",
        "1u",
        "'a'",
        "''",
        "b'x'",
        "true",
        "null",
        "[]",
        "[1, 'a']",
        "{}",
        "{'k': 1}",
        "P",
        "R",
        "V",
        "P.attr",
        "R.attr.tags",
        "P.attr.n",
        "P.attr.department",
        "request.auxData.jwt",
        "runtime",
        "now()",
        "duration('1h')",
        "timestamp('2021-01-01T00:00:00Z')",
        "hierarchy('a.b')",
        "ip('::1')",
        "cidr('10.0.0.0/8')",
        "spiffeID('spiffe://a/b')",
        "optional.none()",
        "optional.of(1)",
        "lists.range(3)",
        "9223372036854775807",
    ];
    const BIN: &[&str] = &["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||", "in"];
    const WRAP: &[&str] = &[
        "size({})",
        "string({})",
        "int({})",
        "double({})",
        "type({})",
        "dyn({})",
        "has({}.x)",
        "{}.size()",
        "{}[0]",
        "{}['k']",
        "{}.all(x, x == x)",
        "{}.exists(k, v, k == v)",
        "{}.map(x, x)",
        "{}.filter(x, true)",
        "!{}",
        "-{}",
        "[{}]",
        "{{'k': {}}}",
        "{}.?k",
        "json.encode({})",
        "{}.timeSince()",
        "hierarchy({})",
        "isSubset({}, {})",
        "{}.startsWith('a')",
        "timestamp({})",
        "duration({})",
        "{}.matches('a')",
        "cel.bind(z, {}, z)",
        "{}.transformList(i, v, v)",
        "math.greatest({})",
        "{}.sort()",
        "{}.join(',')",
        "'%s'.format([{}])",
        "{}.getHours()",
        "{}.inIPAddrRange('10.0.0.0/8')",
        "basePath({})",
        "{}.ancestorOf({})",
    ];
    let r = req();
    let act = Activation::new(&r);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut internal = Vec::new();
    for _ in 0..3000 {
        let mut e = ATOMS[next(ATOMS.len())].to_owned();
        for _ in 0..(1 + next(3)) {
            e = match next(3) {
                0 => format!("({e}) {} ({})", BIN[next(BIN.len())], ATOMS[next(ATOMS.len())]),
                _ => WRAP[next(WRAP.len())].replace("{}", &format!("({e})")),
            };
        }
        if let Ok(c) = compile(&e) {
            if let Err(err) = eval(&c, &act) {
                if err.message.contains("internal error") {
                    internal.push(e);
                }
            }
        }
    }
    assert!(internal.is_empty(), "panics inside the interpreter:\n{}", internal.join("\n"));
}

/// Map keys of every type CEL allows (`int`, `uint`, `bool`, `string`) through every construct,
/// with cel-go's numeric key semantics: `1`, `1u` and `1.0` find the same entry.
#[test]
fn map_keys_of_every_type() {
    let run = tests_util::run;
    for (key, other_spelling, text) in [("1", "1u", "1"), ("2u", "2", "2"), ("true", "true", "true"), ("'k'", "'k'", "k")] {
        let map = format!("{{{key}: 'v'}}");
        // Literals, and conversion to JSON (JSON object keys are strings).
        assert_eq!(run(&map), Ok(json!({ text: "v" })), "{map}");
        // Indexing and `in`, with either spelling of a number.
        assert_eq!(run(&format!("{map}[{key}]")), Ok(json!("v")), "{map}");
        assert_eq!(run(&format!("{map}[{other_spelling}]")), Ok(json!("v")), "{map}");
        assert_eq!(run(&format!("{other_spelling} in {map}")), Ok(json!(true)), "{map}");
        // Equality between maps.
        assert_eq!(run(&format!("{map} == {{{other_spelling}: 'v'}}")), Ok(json!(true)), "{map}");
        assert_eq!(run(&format!("{map} == {{{other_spelling}: 'w'}}")), Ok(json!(false)), "{map}");
        // Comprehensions over the map, and maps built by comprehensions.
        assert_eq!(run(&format!("{map}.all(k, k == {key})")), Ok(json!(true)), "{map}");
        assert_eq!(run(&format!("{map}.exists(k, v, k == {key} && v == 'v')")), Ok(json!(true)), "{map}");
        assert_eq!(run(&format!("{map}.transformMap(k, v, v + '!')")), Ok(json!({ text: "v!" })), "{map}");
        assert_eq!(run(&format!("['v'].transformMapEntry(i, v, {{{key}: v}})")), Ok(json!({ text: "v" })), "{map}");
        assert_eq!(run(&format!("[{key}].transformMapEntry(i, k, {{k: i}})[{other_spelling}]")), Ok(json!(0)), "{map}");
    }
    // A list's index variable is an int: the map built from it has int keys.
    assert_eq!(run("['a', 'b'].transformMapEntry(i, v, {i: v})"), Ok(json!({"0": "a", "1": "b"})));
    assert_eq!(run("['a', 'b'].transformMap(i, v, v)[1u]"), Ok(json!("b")));
    assert_eq!(run("{1: 'a'}[1.0]"), Ok(json!("a")));
    assert_eq!(run("{1: 'a'}[1.5]"), Err("no such key: 1.5".to_owned()));
    assert_eq!(run("{1: 'a'}[2]"), Err("no such key: 2".to_owned()));
    // Keys of the four types side by side; keys that print alike keep the string key's value.
    assert_eq!(run("{true: 1, 1: 2, 'x': 3, 2u: 4}"), Ok(json!({"1": 2, "2": 4, "true": 1, "x": 3})));
    assert_eq!(run("{1: 'int', '1': 'string'}"), Ok(json!({"1": "string"})));
    // Other types are not map keys.
    assert_eq!(run("{1.5: 'a'}"), Err("unsupported key type: double (1.5): map keys are int, uint, bool or string".to_owned()));
    assert_eq!(run("[1.5].transformMapEntry(i, v, {v: i})"), Err("unsupported key type: double (1.5): map keys are int, uint, bool or string".to_owned()));
    // Values of an evaluation keep their keys.
    let v = eval(&compile("{1: 'a', 2u: 'b', true: 'c', 'd': 'e'}").unwrap(), &Activation::new(&req())).unwrap();
    assert_eq!(v.to_json(), Ok(json!({"1": "a", "2": "b", "true": "c", "d": "e"})));
}

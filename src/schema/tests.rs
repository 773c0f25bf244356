//! Cerbos's `internal/schema/schema_test.go` `TestValidate`, over every case in
//! `internal/test/testdata/schema/test_cases`, plus unit tests of the v5 message formatter.

use std::path::PathBuf;

use serde_json::{json, Map, Value};

use super::*;

fn testdata() -> Option<PathBuf> {
    crate::shared_data::shared_data("conformance/cerbos/internal/test/testdata/schema")
}

fn spec(v: &Value) -> Option<SchemaRefSpec> {
    let uri = v.get("ref")?.as_str()?.to_owned();
    let ignore_actions = v
        .pointer("/ignoreWhen/actions")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    Some(SchemaRefSpec { uri, ignore_actions })
}

fn attr(input: &Value, who: &str) -> Map<String, Value> {
    input.pointer(&format!("/{who}/attr")).and_then(Value::as_object).cloned().unwrap_or_default()
}

fn run_case(name: &str) {
    let Some(testdata) = testdata() else { return };
    let file = testdata.join("test_cases").join(format!("{name}.yaml"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let tc: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let store = SchemaStore::from_dir(&testdata.join("fs/_schemas"));
    let refs = tc.get("schemaRefs").cloned().unwrap_or(Value::Null);
    let p = refs.get("principalSchema").and_then(spec);
    let r = refs.get("resourceSchema").and_then(spec);

    let mut have = if let Some(input) = tc.get("checkInput") {
        let actions: Vec<String> = input["actions"].as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default();
        store.validate(p.as_ref(), r.as_ref(), &attr(input, "principal"), &attr(input, "resource"), &actions)
    } else if let Some(input) = tc.get("planResourcesInput") {
        let actions: Vec<String> = input["action"].as_str().map(|a| vec![a.to_owned()]).unwrap_or_default();
        store.validate_plan_resources(p.as_ref(), r.as_ref(), &attr(input, "principal"), &attr(input, "resource"), &actions)
    } else {
        panic!("{name}: unexpected test case input");
    };

    let mut want: Vec<ValidationError> = tc
        .get("wantValidationErrors")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| ValidationError {
                    path: e.get("path").and_then(Value::as_str).unwrap_or("").to_owned(),
                    message: e["message"].as_str().expect("message").to_owned(),
                    source: match e["source"].as_str() {
                        Some("SOURCE_PRINCIPAL") => "SOURCE_PRINCIPAL",
                        Some("SOURCE_RESOURCE") => "SOURCE_RESOURCE",
                        other => panic!("{name}: bad source {other:?}"),
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    // Cerbos compares sorted by (source, path); message breaks the remaining ties.
    let key = |e: &ValidationError| (e.source, e.path.clone(), e.message.clone());
    have.sort_by_key(key);
    want.sort_by_key(key);
    assert_eq!(have, want, "{name}: {}", tc["description"].as_str().unwrap_or(""));
}

macro_rules! cases {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {
        $( #[test] $(#[$m])* fn $name() { run_case(stringify!($name)); } )*
    };
}

cases! {
    check_input_00, check_input_01, check_input_02, check_input_03, check_input_04,
    check_input_05, check_input_06, check_input_07, check_input_08, check_input_09,
    check_input_10,
    #[ignore = "needs network: Cerbos GETs https://cerbos.dev/does_not_exist.json and reports the 404; warden does not fetch http(s) schemas"]
    check_input_11,
    check_input_12, check_input_13,
    #[ignore = "needs network: Cerbos GETs https://cerbos.dev/blah.json and reports the 404; warden does not fetch http(s) schemas"]
    check_input_14,
    plan_resources_input_00, plan_resources_input_01, plan_resources_input_02,
}

/// Every file in test_cases is listed above (so a new upstream case is not silently skipped).
#[test]
fn all_cases_listed() {
    let listed = [
        "check_input_00",
        "check_input_01",
        "check_input_02",
        "check_input_03",
        "check_input_04",
        "check_input_05",
        "check_input_06",
        "check_input_07",
        "check_input_08",
        "check_input_09",
        "check_input_10",
        "check_input_11",
        "check_input_12",
        "check_input_13",
        "check_input_14",
        "plan_resources_input_00",
        "plan_resources_input_01",
        "plan_resources_input_02",
    ];
    let Some(testdata) = testdata() else { return };
    let mut found: Vec<String> = std::fs::read_dir(testdata.join("test_cases"))
        .expect("test_cases dir")
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".yaml").map(str::to_owned))
        .collect();
    found.sort();
    assert_eq!(found, listed);
}

// ---- loading -------------------------------------------------------------------------------

fn fs_store() -> Option<SchemaStore> {
    Some(SchemaStore::from_dir(&testdata()?.join("fs/_schemas")))
}

#[test]
fn load_like_cerbos_test_load() {
    let Some(s) = fs_store() else { return };
    assert_eq!(s.check_ref("cerbos:///customer_relative.json"), Ok(()));
    assert_eq!(s.check_ref("cerbos:///customer_absolute.json"), Ok(()));
    assert_eq!(s.check_ref("cerbos:///subdir/customer_absolute.json"), Ok(()));
    assert!(s.check_ref("cerbos:///customer_bad.json").is_err());
    assert!(s.check_ref("cerbos:///blah.json").is_err());
    let file = testdata().unwrap().join("fs/_schemas/customer_absolute.json");
    assert_eq!(s.check_ref(&format!("file://{}", file.display())), Ok(()));
}

#[test]
fn invalid_schema_message() {
    // compile/invalid_schemas.yaml
    let Some(store) = fs_store() else { return };
    let err = store.check_ref("cerbos:///invalid.json").unwrap_err();
    assert_eq!(
        load_failure_message(Source::Principal, "cerbos:///invalid.json", &err),
        "Failed to load principal schema \"cerbos:///invalid.json\": jsonschema cerbos:///invalid.json compilation failed: '' does not validate with https://json-schema.org/draft/2020-12/schema#/type: expected object or boolean, but got string"
    );
}

#[test]
fn missing_schema_message() {
    // compile/missing_schemas.yaml
    let err = SchemaStore::empty().check_ref("cerbos:///non_existent_principal.json").unwrap_err();
    assert_eq!(
        load_failure_message(Source::Principal, "cerbos:///non_existent_principal.json", &err),
        "Failed to load principal schema \"cerbos:///non_existent_principal.json\": schema _schemas/non_existent_principal.json doesn't exist"
    );
    let Some(store) = fs_store() else { return };
    let err = store.check_ref("cerbos:///customer_invalid.json").unwrap_err();
    assert_eq!(err, "schema _schemas/non_existent_address.json referenced by cerbos:///customer_invalid.json doesn't exist");
}

#[test]
fn http_refs_are_not_fetched() {
    let Some(store) = fs_store() else { return };
    let err = store.check_ref("https://cerbos.dev/blah.json").unwrap_err();
    assert_eq!(err, "jsonschema https://cerbos.dev/blah.json compilation failed: no Loader found for https://cerbos.dev/blah.json");
}

#[test]
fn ignore_when_actions() {
    let ig = |g: &[&str], a: &[&str]| {
        let g: Vec<String> = g.iter().map(|s| s.to_string()).collect();
        let a: Vec<String> = a.iter().map(|s| s.to_string()).collect();
        actions_to_validate(&g, &a).into_iter().cloned().collect::<Vec<_>>()
    };
    assert!(ig(&["view:*"], &["view:public"]).is_empty());
    assert_eq!(ig(&["view:*"], &["view:public", "defer"]), vec!["defer"]);
    assert!(ig(&["*"], &["a:b:c"]).is_empty());
    assert_eq!(ig(&["view"], &["view:x"]), vec!["view:x"]);
}

// ---- messages ------------------------------------------------------------------------------

/// Compiles `schema` and returns the (path, message) leaves for `instance`.
fn errs(schema: Value, instance: Value) -> Vec<(String, String)> {
    let dir = std::env::temp_dir().join(format!("warden-schema-test-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("s.json"), schema.to_string()).unwrap();
    let store = SchemaStore::from_dir(&dir);
    let spec = SchemaRefSpec { uri: "cerbos:///s.json".into(), ignore_actions: vec![] };
    let Value::Object(attr) = instance else { panic!("instance must be an object") };
    let out = store.validate(Some(&spec), None, &attr, &Map::new(), &["a".to_owned()]);
    std::fs::remove_dir_all(&dir).ok();
    let mut v: Vec<(String, String)> = out.into_iter().map(|e| (e.path, e.message)).collect();
    v.sort();
    v
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn one(schema: Value, instance: Value) -> String {
    let e = errs(json!({"type": "object", "properties": {"x": schema}}), json!({ "x": instance }));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, "/x");
    e[0].1.clone()
}

#[test]
fn v5_messages_scalars() {
    assert_eq!(one(json!({"type": "string"}), json!(1)), "expected string, but got number");
    assert_eq!(one(json!({"type": "integer"}), json!(1.5)), "expected integer, but got number");
    assert_eq!(one(json!({"type": ["string", "null"]}), json!(true)), "expected string or null, but got boolean");
    assert!(errs(json!({"properties": {"x": {"type": "integer"}}}), json!({"x": 2.0})).is_empty());
    assert_eq!(one(json!({"enum": ["marketing", "engineering"]}), json!("x")), "value must be one of \"marketing\", \"engineering\"");
    assert_eq!(one(json!({"enum": [1, 2]}), json!(3)), "value must be one of \"1\", \"2\"");
    assert_eq!(one(json!({"enum": ["a"]}), json!("x")), "value must be \"a\"");
    assert_eq!(one(json!({"enum": [[1], 2]}), json!(3)), "enum failed");
    assert_eq!(one(json!({"const": "a"}), json!("b")), "value must be \"a\"");
    assert_eq!(one(json!({"const": null}), json!("b")), "value must be <nil>");
    assert_eq!(one(json!({"const": {"a": 1}}), json!("b")), "const failed");
    assert_eq!(one(json!({"minLength": 5}), json!("abc")), "length must be >= 5, but got 3");
    assert_eq!(one(json!({"maxLength": 2}), json!("abc")), "length must be <= 2, but got 3");
    assert_eq!(one(json!({"pattern": "^a+$"}), json!("b")), "does not match pattern '^a+$'");
    assert_eq!(one(json!({"minimum": 20}), json!(5)), "must be >= 20 but found 5");
    assert_eq!(one(json!({"maximum": 400}), json!(401.5)), "must be <= 400 but found 401.5");
    assert_eq!(one(json!({"exclusiveMinimum": 1.5}), json!(1.5)), "must be > 1.5 but found 1.5");
    assert_eq!(one(json!({"exclusiveMaximum": 1000000}), json!(2000000)), "must be < 1e+06 but found 2e+06");
    assert_eq!(one(json!({"multipleOf": 3}), json!(7)), "7 not multipleOf 3");
    assert_eq!(one(json!({"format": "date-time"}), json!("nope")), "'nope' is not valid 'date-time'");
    assert_eq!(one(json!({"format": "email"}), json!("nope")), "'nope' is not valid 'email'");
    assert_eq!(one(json!(false), json!(1)), "not allowed");
    assert_eq!(one(json!({"not": {"type": "number"}}), json!(1)), "not failed");
    assert_eq!(one(json!({"contentEncoding": "base64"}), json!("!!")), "value is not base64 encoded");
    assert_eq!(one(json!({"contentMediaType": "application/json"}), json!("{")), "value is not of mediatype 'application/json'");
}

#[test]
fn v5_messages_objects_and_arrays() {
    assert_eq!(one(json!({"required": ["a", "b"]}), json!({})), "missing properties: 'a', 'b'");
    assert_eq!(one(json!({"minProperties": 2}), json!({})), "minimum 2 properties allowed, but found 0 properties");
    assert_eq!(one(json!({"maxProperties": 0}), json!({"a": 1})), "maximum 0 properties allowed, but found 1 properties");
    assert_eq!(one(json!({"properties": {"a": true}, "additionalProperties": false}), json!({"a": 1, "b": 2})), "additionalProperties 'b' not allowed");
    assert_eq!(one(json!({"dependentRequired": {"a": ["b"]}}), json!({"a": 1})), "property 'b' is required, if 'a' property exists");
    assert_eq!(one(json!({"minItems": 2}), json!([1])), "minimum 2 items required, but found 1 items");
    assert_eq!(one(json!({"maxItems": 0}), json!([1])), "maximum 0 items required, but found 1 items");
    assert_eq!(one(json!({"uniqueItems": true}), json!([1, 2, 1])), "items at index 0 and 2 are equal");
    assert_eq!(one(json!({"contains": {"type": "string"}}), json!([])), "valid must be >= 1, but got 0");
    assert_eq!(one(json!({"contains": {"type": "string"}, "maxContains": 1}), json!(["a", "b"])), "valid must be <= 1, but got 2");
    assert_eq!(one(json!({"oneOf": [{"type": "number"}, {"minimum": 0}]}), json!(1)), "valid against schemas at indexes 0 and 1");
}

#[test]
fn nested_causes_are_flattened_to_leaves() {
    let e = errs(json!({"properties": {"x": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "integer"}}]}}}), json!({"x": [1, "a"]}));
    assert_eq!(e, vec![("/x".to_owned(), "expected string, but got array".to_owned()), ("/x/1".to_owned(), "expected integer, but got string".to_owned()),]);
    let e = errs(json!({"allOf": [{"required": ["a"]}, {"required": ["b"]}]}), json!({}));
    assert_eq!(e, vec![("/".to_owned(), "missing properties: 'a'".to_owned()), ("/".to_owned(), "missing properties: 'b'".to_owned()),]);
    let e = errs(json!({"propertyNames": {"maxLength": 1}}), json!({"ab": 1}));
    assert_eq!(e, vec![("/ab".to_owned(), "length must be <= 1, but got 2".to_owned())]);
    let e = errs(json!({"properties": {"a b": {"type": "string"}}}), json!({"a b": 1}));
    assert_eq!(e, vec![("/a%20b".to_owned(), "expected string, but got number".to_owned())]);
}

#[test]
fn go_float_formatting() {
    for (f, s) in [
        (0.0, "0"),
        (23.0, "23"),
        (2.75, "2.75"),
        (100000.0, "100000"),
        (1e6, "1e+06"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-2.5, "-2.5"),
        (1e21, "1e+21"),
        (1.5e-7, "1.5e-07"),
    ] {
        assert_eq!(go_float(f), s, "{f}");
    }
}

#[test]
fn v5_quote() {
    assert_eq!(quote("a"), "'a'");
    assert_eq!(quote("it's"), "'it\\'s'");
    assert_eq!(quote("say \"hi\""), "'say \"hi\"'");
    assert_eq!(quote("a\nb"), "'a\\nb'");
}

#[test]
fn store_is_send_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SchemaStore>();
}

#[test]
fn prefix_items_then_items_locations() {
    let e = errs(json!({"properties": {"x": {"prefixItems": [{"type": "string"}], "items": {"type": "string"}}}}), json!({"x": ["a", "b", 1]}));
    assert_eq!(e, vec![("/x/2".to_owned(), "expected string, but got number".to_owned())]);
}

#[test]
fn additional_items_locations_and_message() {
    let e = errs(
        json!({"$schema": "http://json-schema.org/draft-07/schema#", "properties": {"x": {"items": [{"type": "string"}], "additionalItems": {"type": "string"}}}}),
        json!({"x": ["a", "b", 1]}),
    );
    assert_eq!(e, vec![("/x/2".to_owned(), "expected string, but got number".to_owned())]);
    let e = errs(
        json!({"$schema": "http://json-schema.org/draft-07/schema#", "properties": {"x": {"items": [{"type": "string"}], "additionalItems": false}}}),
        json!({"x": ["a", "b", 1]}),
    );
    assert_eq!(e, vec![("/x".to_owned(), "only 1 items are allowed, but found 3 items".to_owned())]);
}

#[test]
fn unique_items_reports_v5_pair() {
    assert_eq!(one(json!({"uniqueItems": true}), json!([1, 2, 2, 1])), "items at index 1 and 2 are equal");
    assert_eq!(one(json!({"uniqueItems": true}), json!([{"a": 1, "b": 2}, {"b": 2, "a": 1.0}])), "items at index 0 and 1 are equal");
}

#[test]
fn nested_property_names() {
    let e = errs(json!({"properties": {"o": {"properties": {"p": {"propertyNames": {"maxLength": 1}}}}}}), json!({"o": {"p": {"a": 1, "bc": 2}}}));
    assert_eq!(e, vec![("/o/p/bc".to_owned(), "length must be <= 1, but got 2".to_owned())]);
}

#[test]
fn const_and_enum_do_not_stop_other_keywords() {
    let e = errs(json!({"properties": {"x": {"const": "a", "minLength": 5}}}), json!({"x": "b"}));
    assert_eq!(e, vec![("/x".to_owned(), "length must be >= 5, but got 1".to_owned()), ("/x".to_owned(), "value must be \"a\"".to_owned()),]);
    let e = errs(json!({"properties": {"x": {"enum": ["a", "bb"], "maxLength": 1, "allOf": [{"pattern": "^z"}]}}}), json!({"x": "cc"}));
    assert_eq!(
        e,
        vec![
            ("/x".to_owned(), "does not match pattern '^z'".to_owned()),
            ("/x".to_owned(), "length must be <= 1, but got 2".to_owned()),
            ("/x".to_owned(), "value must be one of \"a\", \"bb\"".to_owned()),
        ]
    );
    // type still stops everything, as in v5
    assert_eq!(errs(json!({"properties": {"x": {"type": "string", "const": "a"}}}), json!({"x": 1})).len(), 1);
}

#[test]
fn v5_format_registry() {
    assert!(errs(json!({"properties": {"x": {"format": "idn-email"}}}), json!({"x": "nope"})).is_empty());
    assert_eq!(one(json!({"format": "ip-address"}), json!("1.2.3")), "'1.2.3' is not valid 'ip-address'");
    assert_eq!(one(json!({"format": "ipv4"}), json!("1.2.3")), "'1.2.3' is not valid 'ipv4'");
    assert!(errs(json!({"properties": {"x": {"format": "uriref"}}}), json!({"x": "a/b"})).is_empty());
    assert!(errs(json!({"properties": {"x": {"format": "date-time"}}}), json!({"x": "2021-12-01T12:11:13+00:00"})).is_empty());
    assert!(errs(json!({"properties": {"x": {"format": "unknown-format"}}}), json!({"x": "zz"})).is_empty());
}

#[test]
fn compile_error_messages() {
    let check = |schema: Value| {
        let dir = std::env::temp_dir().join(format!("warden-schema-ce-{}-{}", std::process::id(), rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("s.json"), schema.to_string()).unwrap();
        let r = SchemaStore::from_dir(&dir).check_ref("cerbos:///s.json");
        std::fs::remove_dir_all(&dir).ok();
        r.unwrap_err()
    };
    let meta = "jsonschema cerbos:///s.json compilation failed: ";
    assert_eq!(
        check(json!({"type": 5})),
        format!("{meta}'/type' does not validate with https://json-schema.org/draft/2020-12/schema#/allOf/3/$ref/properties/type/anyOf/0/$ref/enum: value must be one of \"array\", \"boolean\", \"integer\", \"null\", \"number\", \"object\", \"string\"")
    );
    assert!(check(json!({"properties": {"a": {"minLength": -1}}}))
        .ends_with("'/properties/a/minLength' does not validate with https://json-schema.org/draft/2020-12/schema#/allOf/1/$ref/properties/properties/additionalProperties/$dynamicRef/allOf/3/$ref/properties/minLength/$ref/$ref/minimum: must be >= 0 but found -1"));
    assert!(check(json!({"pattern": "("})).ends_with("/properties/pattern/format: '(' is not valid 'regex'"));
    assert!(check(json!({"$ref": "#/$defs/nope"})).starts_with(meta));
}

#[test]
fn v5_messages_applicators() {
    let e = errs(json!({"properties": {"x": {"properties": {"a": true}, "unevaluatedProperties": false}}}), json!({"x": {"a": 1, "b": 2}}));
    assert_eq!(e, vec![("/x/b".to_owned(), "not allowed".to_owned())]);
    assert_eq!(one(json!({"if": {"type": "string"}, "then": {"minLength": 3}, "else": {"minimum": 0}}), json!("ab")), "length must be >= 3, but got 2");
    assert_eq!(one(json!({"if": {"type": "string"}, "then": {"minLength": 3}, "else": {"minimum": 0}}), json!(-1)), "must be >= 0 but found -1");
    assert_eq!(one(json!({"dependentSchemas": {"a": {"required": ["b"]}}}), json!({"a": 1})), "missing properties: 'b'");
    let e = errs(json!({"properties": {"x": {"oneOf": [{"type": "string"}, {"type": "boolean"}]}}}), json!({"x": 1}));
    assert_eq!(e, vec![("/x".to_owned(), "expected boolean, but got number".to_owned()), ("/x".to_owned(), "expected string, but got number".to_owned()),]);
    let e = errs(json!({"properties": {"x": {"contains": {"type": "string"}, "minContains": 2}}}), json!({"x": ["a", 1, 2]}));
    assert_eq!(e, vec![("/x/1".to_owned(), "expected string, but got number".to_owned()), ("/x/2".to_owned(), "expected string, but got number".to_owned()),]);
    let e = errs(json!({"$defs": {"s": {"type": "string"}}, "properties": {"x": {"$ref": "#/$defs/s"}}}), json!({"x": 1}));
    assert_eq!(e, vec![("/x".to_owned(), "expected string, but got number".to_owned())]);
}

#[test]
fn numbers_are_float64_like_structpb() {
    assert!(errs(json!({"properties": {"x": {"type": "integer"}}}), json!({"x": 1.0})).is_empty());
    assert_eq!(one(json!({"maximum": 10}), json!(9007199254740993_u64)), "must be <= 10 but found 9.007199254740992e+15");
}

#[test]
fn cache_and_clear() {
    let dir = std::env::temp_dir().join(format!("warden-schema-cache-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = SchemaStore::from_dir(&dir);
    assert!(store.check_ref("cerbos:///a.json").is_err());
    std::fs::write(dir.join("a.json"), r#"{"type": "object"}"#).unwrap();
    assert!(store.check_ref("cerbos:///a.json").is_err(), "load errors are cached, as in Cerbos");
    store.clear();
    assert_eq!(store.check_ref("cerbos:///a.json"), Ok(()));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn content_schema_on_bad_json_gives_both_v5_errors() {
    let e = errs(json!({"properties": {"x": {"contentMediaType": "application/json", "contentSchema": {"type": "object"}}}}), json!({"x": "{"}));
    assert_eq!(e, vec![("/x".to_owned(), "value is not of mediatype 'application/json'".to_owned()), ("/x".to_owned(), "value is not valid json".to_owned()),]);
    let e = errs(json!({"contentMediaType": "application/json", "contentSchema": {"type": "object"}}), json!({}));
    assert!(e.is_empty());
}

#[test]
fn content_schema_errors_are_located_at_the_string() {
    let e = errs(
        json!({"properties": {"o": {"properties": {"x": {"contentMediaType": "application/json", "contentSchema": {"required": ["a"], "properties": {"b": {"type": "string"}}}}}}}}),
        json!({"o": {"x": "{\"b\": 1}"}}),
    );
    assert_eq!(e, vec![("/o/x".to_owned(), "missing properties: 'a'".to_owned()), ("/o/x/b".to_owned(), "expected string, but got number".to_owned()),]);
}

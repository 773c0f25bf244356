//! Helpers for the unit tests: evaluate an expression against a small fixed request.

use serde_json::json;

use super::{compile, eval, Activation, Request, Vars};

pub(crate) fn request() -> Request<'static> {
    let mut r = Request::from_json(&json!({
        "principal": {"id": "john", "roles": ["employee"], "attr": {"department": "marketing", "n": 42}},
        "resource": {"kind": "leave_request", "id": "XX125", "attr": {"bad": "1.2.3", "tags": ["a", "b"]}},
    }))
    .expect("valid request");
    r.set_now(chrono::DateTime::parse_from_rfc3339("2021-04-22T10:05:20.021-05:00").unwrap());
    r
}

/// The result of `src` as JSON, or `Err(message)`.
pub(crate) fn run(src: &str) -> Result<serde_json::Value, String> {
    let expr = compile(src).map_err(|e| format!("compile: {e}"))?;
    let req = request();
    let vars = Vars::new();
    let act = Activation::new(&req).with_variables(&vars);
    let v = eval(&expr, &act).map_err(|e| e.message)?;
    v.to_json().map_err(|e| format!("to_json: {e}"))
}

#[track_caller]
pub(crate) fn check(src: &str, want: serde_json::Value) {
    assert_eq!(run(src), Ok(want), "{src}");
}

#[track_caller]
pub(crate) fn check_err(src: &str, want: &str) {
    assert_eq!(run(src), Err(want.to_owned()), "{src}");
}

#[allow(dead_code)]
pub(crate) fn unused() -> serde_json::Value {
    json!(null)
}

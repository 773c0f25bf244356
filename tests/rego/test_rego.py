"""warden.Rego: loading (v0/v1, data), evaluation shapes, unsupported built-ins, reload."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from warden.rego import Rego, RegoEvalError, RegoLoadError, http_input

V0 = """package demo.v0
default allow = false
allow {
    input.user == data.owner
}
roles[r] { r := input.roles[_] }
"""

V1 = """package demo.v1
import rego.v1
default allow := false
allow if input.user in data.admins
"""


def test_v0_and_v1_policies_side_by_side():
    r = Rego.from_policies([("v0.rego", V0), ("v1.rego", V1)], data={"owner": "alice", "admins": ["bob"]})
    assert r.files == [("v0.rego", "v0"), ("v1.rego", "v1")]
    assert r.allowed("data.demo.v0.allow", {"user": "alice"}) is True
    assert r.allowed("data.demo.v0.allow", {"user": "bob"}) is False
    assert r.allowed("data.demo.v1.allow", {"user": "bob"}) is True
    assert r.allowed("data.demo.v1.allow", {"user": "alice"}) is False
    assert r.eval("data.demo.v0.roles", {"roles": ["a", "b", "a"]}) == ["a", "b"]


def test_forced_syntax():
    with pytest.raises(RegoLoadError, match=r"p\.rego:3"):
        Rego.from_policies({"p.rego": V0.replace("package demo.v0", "package p")}, syntax="v1")
    with pytest.raises(ValueError, match="syntax"):
        Rego.from_policies([V0], syntax="v2")


def test_undefined_and_non_boolean():
    r = Rego.from_policies(['package p\nimport rego.v1\nallow if input.x == 1\nname := "n"\n'])
    assert r.eval("data.p.allow", {"x": 2}) is None
    assert r.allowed("data.p.allow", {"x": 2}) is False
    assert r.allowed("data.p.allow") is False  # no input at all
    assert r.eval("data.p.missing", {}) is None
    with pytest.raises(RegoEvalError, match="not a boolean"):
        r.allowed("data.p.name", {})


def test_queries_and_documents():
    r = Rego.from_policies(["package p\nx := 3\n"])
    assert r.eval("data.p.x + 1") == 4
    assert r.eval("data.p") == {"x": 3}
    rows = r.query("y := data.p.x * 2")
    assert rows[0]["bindings"] == {"y": 6}
    assert r.packages == ["data.p"]


def test_eval_data_api_matches_opa_rest_shape():
    r = Rego.from_policies([V0], data={"owner": "alice"})
    assert r.eval_data_api("demo/v0/allow", {"input": {"user": "alice"}}) == {"result": True}
    assert r.eval_data_api("/v1/data/demo/v0/allow", {"input": {"user": "eve"}}) == {"result": False}
    assert r.eval_data_api("demo/v0/nothing", {"input": {}}) == {}  # undefined: no "result"
    doc = r.eval_data_api("demo/v0", {"input": {"user": "alice", "roles": ["r"]}})
    assert doc["result"]["allow"] is True and doc["result"]["roles"] == ["r"]
    with pytest.raises(ValueError, match="inptu"):
        r.eval_data_api("demo/v0/allow", {"inptu": {}})


def test_eval_batch():
    r = Rego.from_policies([V0], data={"owner": "alice"})
    assert r.eval_batch("data.demo.v0.allow", [{"user": "alice"}, {"user": "x"}, {}]) == [True, False, False]
    with pytest.raises(TypeError, match=r"inputs\[1\]"):
        r.eval_batch("data.demo.v0.allow", [{}, {"a": object()}])


def test_data_documents_json_yaml_and_bundle_layout(tmp_path: Path):
    (tmp_path / "authz").mkdir()
    (tmp_path / "authz" / "policy.rego").write_text(
        "package authz\nimport rego.v1\nallow if input.user in data.roles.admins\nlevel := data.authz.settings.level\n"
    )
    (tmp_path / "authz" / "settings").mkdir()
    (tmp_path / "authz" / "settings" / "data.yaml").write_text("level: 3\n")
    roles = tmp_path / "roles.json"
    roles.write_text('{"roles": {"admins": ["ann"]}}')
    r = Rego.from_directory(tmp_path, data=[roles, {"extra": True}])
    assert r.allowed("data.authz.allow", {"user": "ann"})
    assert not r.allowed("data.authz.allow", {"user": "bob"})
    assert r.eval("data.authz.level") == 3
    assert r.eval("data.extra") is True


def test_bad_data_names_the_file(tmp_path: Path):
    (tmp_path / "p.rego").write_text("package p\n")
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": [1,}')
    with pytest.raises(RegoLoadError, match=r"bad\.json:1:"):
        Rego.from_directory(tmp_path, data=bad)
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(RegoLoadError, match=r"list\.json: a data document must be a JSON object"):
        Rego.from_policies(["package p\n"], data=[tmp_path / "list.json"])
    (tmp_path / "bad.yaml").write_text("a: [1\n")
    with pytest.raises(RegoLoadError, match=r"bad\.yaml: invalid YAML"):
        Rego.from_policies(["package p\n"], data=tmp_path / "bad.yaml")


def test_syntax_error_names_file_and_line(tmp_path: Path):
    (tmp_path / "ok.rego").write_text("package ok\n")
    (tmp_path / "broken.rego").write_text("package p\nimport rego.v1\n\nallow if {\n  input.x ==\n}\n")
    with pytest.raises(RegoLoadError, match=r"broken\.rego:\d+:\d+"):
        Rego.from_directory(tmp_path)


@pytest.mark.parametrize(
    "call, name",
    [
        ('resp := http.send({"method": "GET", "url": "https://example.com"})\n  resp.status_code == 200', "http.send"),
        ("crypto.x509.parse_certificates(input.cert)", "crypto.x509.parse_certificates"),
        ('net.lookup_ip_addr("example.com")', "net.lookup_ip_addr"),
        ("providers.aws.sign_req({}, {}, 0)", "providers.aws.sign_req"),
        ('io.jwt.encode_sign({"alg": "HS256"}, {}, {"kty": "oct", "k": "AA"})', "io.jwt.encode_sign"),
    ],
)
def test_unsupported_builtins_fail_the_load_with_file_and_line(call, name):
    src = f"package p\nimport rego.v1\n\nallow if {{\n  {call}\n}}\n"
    with pytest.raises(RegoLoadError) as exc:
        Rego.from_policies([("authz.rego", src)])
    msg = str(exc.value)
    assert "authz.rego:5:" in msg, msg
    assert f"unsupported built-in `{name}`" in msg, msg


def test_undefined_function_fails_the_load():
    with pytest.raises(RegoLoadError, match=r"u\.rego:3:\d+: undefined function `no_such_fn`"):
        Rego.from_policies([("u.rego", "package p\nimport rego.v1\nallow if no_such_fn(input)\n")])


def test_available_builtins_and_user_functions_load():
    src = """package p
import rego.v1
import data.lib
in_net if net.cidr_contains("10.0.0.0/8", input.ip)
recent if time.now_ns() - time.parse_rfc3339_ns(input.at) < 3600 * 1000000000
named if lib.is_admin(input.user)
matched if regex.match("^a", input.user)
"""
    lib = 'package lib\nimport rego.v1\nis_admin(u) if u == "ann"\n'
    r = Rego.from_policies([src, lib])
    assert r.allowed("data.p.in_net", {"ip": "10.1.2.3"})
    assert not r.allowed("data.p.in_net", {"ip": "11.1.2.3"})
    assert r.allowed("data.p.named", {"user": "ann"})
    assert r.allowed("data.p.matched", {"user": "ann"})


def test_reload_keeps_last_good_set(tmp_path: Path):
    p = tmp_path / "p.rego"
    p.write_text("package p\nimport rego.v1\nallow if input.x == 1\n")
    r = Rego.from_directory(tmp_path)
    assert r.allowed("data.p.allow", {"x": 1})
    p.write_text("package p\nimport rego.v1\nallow if http.send({}).status_code == 200\n")
    with pytest.raises(RegoLoadError, match=r"p\.rego:3:"):
        r.reload()
    assert r.allowed("data.p.allow", {"x": 1})  # last good set still serving
    p.write_text("package p\nimport rego.v1\nallow if input.x == 2\n")
    r.reload()
    assert not r.allowed("data.p.allow", {"x": 1})
    assert r.allowed("data.p.allow", {"x": 2})


def test_reload_from_policies():
    r = Rego.from_policies(["package p\nallow := true\n"])
    with pytest.raises(RegoLoadError):
        r.reload(["package p\nallow := \n"])
    assert r.allowed("data.p.allow")
    r.reload(["package p\nallow := false\n"])
    assert not r.allowed("data.p.allow")


def test_concurrent_decisions_during_reload():
    r = Rego.from_policies([V0], data={"owner": "alice"})
    errors = []

    def worker():
        try:
            for _ in range(300):
                assert r.eval_batch("data.demo.v0.allow", [{"user": "alice"}, {"user": "x"}]) == [True, False]
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(5):
        r.reload([V0])
    for t in threads:
        t.join()
    assert errors == []


def test_bad_arguments_are_errors_not_panics():
    r = Rego.from_policies([V0], data={"owner": "alice"})
    with pytest.raises(TypeError, match="input"):
        r.eval("data.demo.v0.allow", {"x": {1, 2}})
    with pytest.raises(TypeError):
        Rego.from_policies("package p")
    with pytest.raises(RegoLoadError, match="no policies"):
        Rego.from_policies([])
    with pytest.raises(RegoLoadError, match="not a directory"):
        Rego.from_directory("/nonexistent/dir")
    with pytest.raises(RegoEvalError):
        r.eval("data.demo.v0.allow +")


def test_http_input_shape():
    assert http_input("GET", "/sayhello", "tok") == {"method": "GET", "api": "/sayhello", "jwt": {"tokenValue": "tok"}}


def test_recursion_is_refused_at_load():
    """OPA refuses recursion at compile time (rego_recursion_error); evaluated, it would overflow
    the native stack of the process."""
    recursive = "package p\nf(n) = x { n > 0; x := f(n - 1) }\nallow { f(3) }\n"
    with pytest.raises(
        RegoLoadError,
        match=r"^f\.rego:2:1: rego_recursion_error: rule data\.p\.f is recursive: data\.p\.f -> data\.p\.f$",
    ):
        Rego.from_policies({"f.rego": recursive})
    mutual = {"a.rego": "package a\nx if data.b.y\n", "b.rego": "package b\ny if data.a.x\n"}
    with pytest.raises(RegoLoadError, match=r"data\.a\.x -> data\.b\.y -> data\.a\.x"):
        Rego.from_policies(mutual)

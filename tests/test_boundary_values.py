"""Python values at the boundary of the native core (issue 12.1, 12.4): values nested too deep or
containing themselves, and dicts changed while they are read, raise an error naming the field at
every entry point; a panic would become warden.InternalError. Each of these crashed the
interpreter (SIGSEGV) or raised PanicException, a BaseException, before."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pytest
import warden
from warden import Engine, Principal, Resource, ResourceList
from warden._core import MAX_DEPTH
from warden.rego import Rego

POLICY = {
    "apiVersion": "api.cerbos.dev/v1",
    "resourcePolicy": {
        "version": "default",
        "resource": "contact",
        "rules": [{"actions": ["read"], "effect": "EFFECT_ALLOW", "roles": ["user"]}],
    },
}
REGO = 'package x\nimport rego.v1\ndefault allow := false\nallow if input.user == "alice"\n'


def deep(levels: int):
    """A list nested `levels` deep, built without recursion."""
    value: object = "leaf"
    for _ in range(levels):
        value = [value]
    return value


def cyclic():
    a: dict = {}
    a["a"] = a
    return a


@pytest.fixture(scope="module")
def engine():
    return Engine.from_policies([POLICY])


@pytest.fixture(scope="module")
def client(engine):
    return warden.Client(engine)


@pytest.fixture(scope="module")
def rego():
    return Rego.from_policies([REGO])


def principal(**attr):
    return {"id": "bob", "roles": ["user"], "attr": attr}


def resource(**attr):
    return {"kind": "contact", "id": "c1", "attr": attr}


# Each entry point with a bad value `x` placed where a caller's data goes, and the path the error names.
ENTRY_POINTS = {
    "Engine.is_allowed": (
        lambda e, c, r, x: e.is_allowed(principal(x=x), resource(), action="read"),
        "principal.attr.x",
    ),
    "Engine.is_allowed aux_data": (
        lambda e, c, r, x: e.is_allowed(principal(), resource(), action="read", aux_data={"jwt": {"x": x}}),
        "aux_data.jwt.x",
    ),
    "Engine.check": (
        lambda e, c, r, x: e.check([{"principal": principal(), "resource": resource(x=x), "actions": ["read"]}]),
        "inputs[0].resource.attr.x",
    ),
    "Engine.decision_table": (
        lambda e, c, r, x: e.decision_table(principal(), [resource(), resource(x=x)], ["read"]),
        "resources[1].attr.x",
    ),
    "Engine.explain": (
        lambda e, c, r, x: e.explain({"principal": principal(x=x), "resource": resource(), "actions": ["read"]}),
        "input.principal.attr.x",
    ),
    "Engine.check_resources_json": (
        lambda e, c, r, x: e.check_resources_json(
            {"principal": principal(), "resources": [{"actions": ["read"], "resource": resource(x=x)}]}
        ),
        "request.resources[0].resource.attr.x",
    ),
    "Engine.from_policies dict": (
        lambda e, c, r, x: Engine.from_policies([{**POLICY, "x": x}]),
        "policies[0].x",
    ),
    "Engine.from_policies globals": (
        lambda e, c, r, x: Engine.from_policies([POLICY], globals={"x": x}),
        "globals.x",
    ),
    "Client.is_allowed models": (
        lambda e, c, r, x: c.is_allowed("read", Principal("bob", {"user"}, attr={"x": x}), Resource("c1", "contact")),
        "principal.attr.x",
    ),
    "Client.check_resources models": (
        lambda e, c, r, x: c.check_resources(
            Principal("bob", {"user"}), ResourceList().add(Resource("c1", "contact", attr={"x": x}), ["read"])
        ),
        "resources[0].resource.attr.x",
    ),
    "Rego.allowed input": (lambda e, c, r, x: r.allowed("data.x.allow", {"x": x}), "input.x"),
    "Rego.eval_batch inputs": (lambda e, c, r, x: r.eval_batch("data.x.allow", [{}, {"x": x}]), "inputs[1].x"),
    "Rego.eval_data_api body": (lambda e, c, r, x: r.eval_data_api("x/allow", {"input": {"x": x}}), "body.input.x"),
    "Rego.from_policies data": (lambda e, c, r, x: Rego.from_policies([REGO], data={"x": x}), "data.x"),
}


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=list(ENTRY_POINTS))
def test_a_value_that_contains_itself_is_refused(engine, client, rego, entry):
    call, path = ENTRY_POINTS[entry]
    with pytest.raises(ValueError) as info:
        call(engine, client, rego, cyclic())
    message = str(info.value)
    assert message == f"{path}.a: the value contains itself (it is {path}); a cycle cannot be converted"


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=list(ENTRY_POINTS))
def test_a_value_nested_too_deep_is_refused(engine, client, rego, entry):
    call, path = ENTRY_POINTS[entry]
    with pytest.raises(ValueError) as info:
        call(engine, client, rego, deep(10_000))
    message = str(info.value)
    assert message.startswith(f"{path}[0][0]") and message.endswith(f"…: nested more than {MAX_DEPTH} levels deep")


def test_nesting_within_the_limit_is_decided(engine, client, rego):
    value = deep(100)
    assert engine.is_allowed(principal(x=value), resource(), action="read")
    assert engine.check([{"principal": principal(), "resource": resource(x=value), "actions": ["read"]}])
    assert client.is_allowed("read", Principal("bob", {"user"}, attr={"x": value}), Resource("c1", "contact"))
    assert rego.allowed("data.x.allow", {"user": "alice", "x": value})


def test_the_limit_counts_levels_from_the_argument(engine):
    # principal (0) > attr (1) > x (2) > the lists: the deepest list allowed sits at level MAX_DEPTH - 1
    assert engine.is_allowed(principal(x=deep(MAX_DEPTH - 2)), resource(), action="read")
    with pytest.raises(ValueError, match="nested more than"):
        engine.is_allowed(principal(x=deep(MAX_DEPTH - 1)), resource(), action="read")


def test_shared_values_are_not_cycles(engine):
    shared = {"a": [1, 2]}
    assert engine.is_allowed(principal(x=shared, y=shared, z=[shared, shared]), resource(), action="read")


class Mutating(Mapping):
    """A mapping whose __getitem__ changes `target` (the dict being read around it)."""

    def __init__(self, target: dict, change):
        self.target = target
        self.change = change

    def __getitem__(self, key):
        self.change(self.target)
        return 1

    def __iter__(self):
        return iter(["k"])

    def __len__(self):
        return 1


def grow(d: dict) -> None:
    d[f"k{len(d)}"] = 0


def swap_first_key(d: dict) -> None:
    # same size, keys changed: the first key (already read) goes, a new one comes after the last
    first = next(iter(d))
    del d[first]
    d[first + "_"] = 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (grow, "dictionary changed size while it was read"),
        (swap_first_key, "dictionary keys changed while it was read"),
    ],
    ids=["grows", "keys-swapped"],
)
def test_a_dict_changed_while_read_is_an_error_not_a_panic(engine, client, rego, change, message):
    def attr():
        d: dict = {}
        d["m"] = Mutating(d, change)
        d["z"] = 1
        return d

    with pytest.raises(RuntimeError, match=f"^principal.attr: {message}$"):
        engine.is_allowed({"id": "bob", "roles": ["user"], "attr": attr()}, resource(), action="read")
    with pytest.raises(RuntimeError, match=f"^principal.attr: {message}$"):
        client.is_allowed("read", Principal("bob", {"user"}, attr=attr()), Resource("c1", "contact"))
    with pytest.raises(RuntimeError, match=f"^input: {message}$"):
        rego.allowed("data.x.allow", attr())


def test_mappings_are_read_as_dicts(engine):
    class Attrs(Mapping):
        def __init__(self, data):
            self.data = data

        def __getitem__(self, key):
            return self.data[key]

        def __iter__(self):
            return iter(self.data)

        def __len__(self):
            return len(self.data)

    assert engine.is_allowed(principal(nested=Attrs({"a": Attrs({"b": [1]})})), resource(), action="read")
    looped: dict = {}
    looped["self"] = Attrs(looped)
    with pytest.raises(ValueError, match=r"^principal\.attr\.x\.self\.self: the value contains itself"):
        engine.is_allowed(principal(x=looped), resource(), action="read")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "principal.attr.x: nan is not a JSON number"),
        (float("inf"), "principal.attr.x: inf is not a JSON number"),
        (10**400, "principal.attr.x: integer too large for a JSON number"),
        (b"bytes", "principal.attr.x: bytes is not a JSON value"),
        ({1: "a"}, "principal.attr.x: keys must be str, not int"),
        ({"a": {1, 2}}, "principal.attr.x.a: set is not a JSON value"),
        ("\ud800", "principal.attr.x: UnicodeEncodeError: 'utf-8' codec can't encode character"),
    ],
    ids=["nan", "inf", "huge-int", "bytes", "int-key", "set", "lone-surrogate"],
)
def test_values_with_no_json_form_name_the_field(engine, value, message):
    with pytest.raises((TypeError, ValueError)) as info:
        engine.is_allowed(principal(x=value), resource(), action="read")
    assert str(info.value).startswith(message), str(info.value)


def test_big_integers_become_doubles(engine):
    assert engine.is_allowed(principal(x=2**70, y=-(2**63), z=2**64 - 1), resource(), action="read")


def test_a_panic_becomes_internal_error_and_a_log_line(caplog):
    assert issubclass(warden.InternalError, Exception)
    assert warden.errors.InternalError is warden.InternalError
    with caplog.at_level(logging.ERROR, logger="warden"):
        with pytest.raises(warden.InternalError, match="internal error in _panic_for_test: boom") as info:
            warden._core._panic_for_test("boom")
    assert "a bug in warden" in str(info.value)
    assert [r.name for r in caplog.records] == ["warden"]
    assert "boom" in caplog.records[0].getMessage()


def test_engine_is_allowed_takes_the_action_by_keyword(engine):
    with pytest.raises(TypeError):
        engine.is_allowed(principal(), resource(), "read")  # type: ignore[misc]
    assert engine.is_allowed(principal(), resource(), action="read")

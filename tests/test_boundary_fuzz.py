"""Property test of the Python boundary (issue 12, fuzzing): generated values (deep, cyclic, odd
types, huge ints, NaN, bytes, mappings with side effects, ...) thrown at every argument of Engine,
Client, Rego, JWTVerifier and the models. Each call must return (a decision, a value) or raise a
subclass of Exception: never PanicException (a BaseException), never a crash of the interpreter.

The example count is bounded for `make test`; a longer run:
    WARDEN_FUZZ_PROFILE=long make pytest PYTEST_FLAGS="tests/test_boundary_fuzz.py -q"
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from typing import Any, Callable

import pytest
import warden
from warden import Engine, JWTVerifier, Principal, Resource, ResourceAction, ResourceList
from warden.models import CheckResourcesResponse
from warden.rego import Rego

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is in the test extra (pip install -e .[test])")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

settings.register_profile(
    "quick",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile(
    "long",
    max_examples=4000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
PROFILE = settings.get_profile(os.environ.get("WARDEN_FUZZ_PROFILE", "quick"))

POLICY = {
    "apiVersion": "api.cerbos.dev/v1",
    "resourcePolicy": {
        "version": "default",
        "resource": "contact",
        "rules": [
            {
                "actions": ["read"],
                "effect": "EFFECT_ALLOW",
                "roles": ["user"],
                "condition": {"match": {"expr": "R.attr.owner == P.id || has(R.attr.k)"}},
            }
        ],
    },
}
REGO = "package x\nimport rego.v1\ndefault allow := false\nallow if input.user == data.admin\n"
SECRET = "a-shared-secret-long-enough-for-hs256-and-then-some"
PRINCIPAL = {"id": "bob", "roles": ["user"], "attr": {}}
RESOURCE = {"kind": "contact", "id": "c1", "attr": {"owner": "bob"}}


# --------------------------------------------------------------------------- #
# hostile values


def deep_list(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = [value]
    return value


def deep_dict(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = {"a": value}
    return value


def cyclic(value: Any, through_list: bool) -> Any:
    if through_list:
        loop: list = [value]
        loop.append(loop)
        return loop
    d: dict = {"v": value}
    d["self"] = d
    return d


class Proxy(Mapping):
    """A well-behaved mapping over a dict."""

    def __init__(self, data: dict):
        self.data = data

    def __getitem__(self, key):
        return self.data[key]

    def __iter__(self):
        return iter(self.data)

    def __len__(self):
        return len(self.data)


class SideEffects(Mapping):
    """A mapping whose reads change `target` (the dict it sits in), raise, or lie."""

    def __init__(self, effect: str):
        self.effect = effect
        self.target: dict = {}
        self.reads = 0

    def __getitem__(self, key):
        self.reads += 1
        if self.effect == "grow":
            self.target[f"new{self.reads}"] = self.reads
        elif self.effect == "shrink":
            self.target.clear()
        elif self.effect == "swap" and self.target:
            first = next(iter(self.target))
            del self.target[first]
            self.target[first + "_"] = 0
        elif self.effect == "raise":
            raise ValueError("boom")
        elif self.effect == "vary":
            return [self.reads] * self.reads
        elif self.effect == "self":
            return self
        return self.reads

    def __iter__(self):
        if self.effect == "lying-keys":
            return iter([1, None, b"k"])
        return iter(["k"])

    def __len__(self):
        return 1 if self.effect != "lying-len" else -1


def side_effects(value: Any, effect: str) -> dict:
    m = SideEffects(effect)
    d = {"before": value, "m": m, "after": value}
    m.target = d
    return d


class Attrs:
    """An object with a `keys` attribute that is not a mapping, and attributes that raise."""

    keys = 3

    def __getattr__(self, name):
        raise RuntimeError(f"no {name}")


class OddStr(str):
    pass


class OddInt(int):
    def __index__(self):
        raise ValueError("no index")


class OddFloat(float):
    pass


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**63, 2**64, -(2**63) - 1, 10**400, -(10**400), OddInt(5)]),
    st.floats(),
    st.builds(OddFloat, st.floats()),
    st.text(max_size=8),
    st.sampled_from(["\ud800", "a\x00b", "", " ", "EFFECT_ALLOW", "read", "*", "user", OddStr("bob")]),
    st.binary(max_size=8),
    st.builds(object),
    st.builds(Attrs),
    st.builds(Principal, st.text(max_size=4), st.frozensets(st.text(max_size=4), max_size=2)),
    st.builds(Resource, st.text(max_size=4), st.text(max_size=4)),
)


def containers(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(st.text(max_size=6), children, max_size=4),
        st.dictionaries(st.one_of(st.integers(), st.none(), st.binary(max_size=2)), children, max_size=2),
        st.frozensets(st.text(max_size=3), max_size=3),
        st.sets(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=6), children, max_size=3).map(Proxy),
        st.builds(
            side_effects,
            children,
            st.sampled_from(["grow", "shrink", "swap", "raise", "vary", "self", "lying-keys", "lying-len"]),
        ),
    )


JSONISH = st.recursive(SCALARS, containers, max_leaves=12)
HOSTILE = st.one_of(
    JSONISH,
    st.integers(0, 3000).map(deep_list),
    st.integers(0, 3000).map(deep_dict),
    st.builds(cyclic, JSONISH, st.booleans()),
    # well-formed requests with one hostile part
    JSONISH.map(lambda x: {**PRINCIPAL, "attr": {"x": x}}),
    JSONISH.map(lambda x: {**RESOURCE, "attr": {"owner": x, "k": x}}),
)


def signed_token(claims: Any) -> str:
    """An HS256 token over `claims` as JSON (values JSON cannot hold become their repr)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    try:
        payload = json.dumps(claims, default=repr).encode()
    except (ValueError, TypeError, RecursionError):
        payload = b"{}"
    signing_input = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(payload)
    signature = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(signature)


def survives(call: Callable[[], Any]) -> None:
    """A decision, a value, or an Exception; anything else (a BaseException) fails the test."""
    try:
        call()
    except Exception:
        pass


# --------------------------------------------------------------------------- #
# the entry points, each with the hostile value in one argument

ENGINE = Engine.from_policies([POLICY])
CLIENT = warden.Client(ENGINE)
REGO_SET = Rego.from_policies([REGO], data={"admin": "alice"})
VERIFIER = JWTVerifier(key=SECRET, algorithms=["HS256"])

ENGINE_CALLS: list[Callable[[Any], Any]] = [
    lambda x: ENGINE.is_allowed(x, RESOURCE, action="read"),
    lambda x: ENGINE.is_allowed({"id": x, "roles": ["user"]}, RESOURCE, action="read"),
    lambda x: ENGINE.is_allowed({"id": "bob", "roles": x}, RESOURCE, action="read"),
    lambda x: ENGINE.is_allowed(PRINCIPAL, x, action="read"),
    lambda x: ENGINE.is_allowed(PRINCIPAL, {"kind": "contact", "id": "c", "attr": x}, action="read"),
    lambda x: ENGINE.is_allowed(PRINCIPAL, {"kind": x, "id": "c"}, action="read"),
    lambda x: ENGINE.is_allowed(PRINCIPAL, RESOURCE, action=x),
    lambda x: ENGINE.is_allowed(PRINCIPAL, RESOURCE, action="read", aux_data=x),
    lambda x: ENGINE.is_allowed(PRINCIPAL, RESOURCE, action="read", aux_data={"jwt": x}),
    lambda x: ENGINE.is_allowed(PRINCIPAL, RESOURCE, action="read", now=x),
    lambda x: ENGINE.check(x),
    lambda x: ENGINE.check([x]),
    lambda x: ENGINE.check([{"principal": PRINCIPAL, "resource": RESOURCE, "actions": x}]),
    lambda x: ENGINE.check([{"principal": x, "resource": RESOURCE, "actions": ["read"], "auxData": {"jwts": x}}]),
    lambda x: ENGINE.decision_table(PRINCIPAL, x, ["read"]),
    lambda x: ENGINE.decision_table(PRINCIPAL, [RESOURCE, x], ["read"]),
    lambda x: ENGINE.decision_table(x, [RESOURCE], x),
    lambda x: ENGINE.explain(x),
    lambda x: ENGINE.explain({"principal": PRINCIPAL, "resource": x, "actions": ["read"]}),
    lambda x: ENGINE.check_resources_json(x),
    lambda x: ENGINE.check_resources_json({"principal": x, "resources": [{"actions": ["read"], "resource": RESOURCE}]}),
    lambda x: ENGINE.check_resources_json(
        {"principal": PRINCIPAL, "resources": [{"actions": ["read"], "resource": RESOURCE}], "auxData": x}
    ),
    lambda x: ENGINE.plan_resources(x, {"kind": "contact"}, "read"),
    lambda x: ENGINE.plan_resources(PRINCIPAL, x, "read"),
    lambda x: ENGINE.plan_resources(PRINCIPAL, {"kind": "contact", "attr": x}, ["read"], presence_tests=True),
    lambda x: ENGINE.plan_resources(PRINCIPAL, {"kind": "contact"}, x),
    lambda x: ENGINE.plan_resources(PRINCIPAL, {"kind": "contact"}, "read", aux_data=x, now=x),
    lambda x: ENGINE.plan_resources_json(x),
    lambda x: ENGINE.plan_resources_json({"action": "read", "principal": x, "resource": {"kind": "contact"}}),
    lambda x: ENGINE.plan_resources_json(
        {"action": "read", "principal": PRINCIPAL, "resource": {"kind": "contact", "attr": x}}
    ),
]

CLIENT_CALLS: list[Callable[[Any], Any]] = [
    lambda x: CLIENT.is_allowed(x, PRINCIPAL, RESOURCE),
    lambda x: CLIENT.is_allowed("read", x, RESOURCE),
    lambda x: CLIENT.is_allowed("read", PRINCIPAL, x),
    lambda x: CLIENT.is_allowed("read", Principal("bob", {"user"}, attr={"x": x}), Resource("c", "contact")),
    lambda x: CLIENT.is_allowed("read", PRINCIPAL, RESOURCE, aux_data=x),
    lambda x: CLIENT.check_resources(PRINCIPAL, x),
    lambda x: CLIENT.check_resources(x, [{"resource": RESOURCE, "actions": ["read"]}]),
    lambda x: CLIENT.check_resources(PRINCIPAL, [{"resource": RESOURCE, "actions": x}], request_id=x),
    lambda x: CLIENT.check_resources(PRINCIPAL, ResourceList([ResourceAction(x, ["read"])])),
    lambda x: CLIENT.check_resources(PRINCIPAL, [ResourceAction(Resource("c", "contact", attr={"x": x}), {"read"})]),
    lambda x: CLIENT.with_principal(x).is_allowed("read", RESOURCE),
    lambda x: CLIENT.plan_resources("read", x, {"kind": "contact"}),
    lambda x: CLIENT.plan_resources(x, PRINCIPAL, {"kind": "contact", "attr": x}),
]

REGO_CALLS: list[Callable[[Any], Any]] = [
    lambda x: REGO_SET.allowed("data.x.allow", x),
    lambda x: REGO_SET.allowed("data.x.allow", {"user": x}),
    lambda x: REGO_SET.eval("input", x),
    lambda x: REGO_SET.query("data.x.allow", x),
    lambda x: REGO_SET.eval_batch("data.x.allow", x),
    lambda x: REGO_SET.eval_batch("data.x.allow", [{}, x]),
    lambda x: REGO_SET.eval_data_api("x/allow", x),
    lambda x: REGO_SET.eval_data_api("x/allow", {"input": x}),
    lambda x: REGO_SET.eval(x, {}),
]

TOKEN_AND_MODEL_CALLS: list[Callable[[Any], Any]] = [
    lambda x: VERIFIER.verify(x),
    lambda x: VERIFIER.principal(x),
    lambda x: VERIFIER.verify_cached(x),
    # well-formed tokens (signed with the verifier's secret) whose claims are the generated value
    lambda x: VERIFIER.verify(signed_token(x)),
    lambda x: VERIFIER.verify(signed_token({"exp": 4102444800, "sub": x, "aud": x})),
    lambda x: JWTVerifier(key=SECRET, algorithms=["HS256"], expected_claims=x),
    lambda x: JWTVerifier(key=SECRET, algorithms=x),
    lambda x: JWTVerifier(jwks=x),
    lambda x: JWTVerifier(key=SECRET, algorithms=["HS256"], audience=x, leeway=x),
    lambda x: Principal.from_dict(x),
    lambda x: Principal("bob", {"user"}, attr={"x": x}).to_json(),
    lambda x: Resource("c", "contact", attr=x).to_dict(),
    lambda x: CheckResourcesResponse.from_dict(x),
]

LOAD_CALLS: list[Callable[[Any], Any]] = [
    lambda x: Engine.from_policies([x]),
    lambda x: Engine.from_policies(x),
    lambda x: Engine.from_policies([POLICY], globals=x),
    lambda x: Engine.from_policies([POLICY], jwt_keysets=x),
    lambda x: Rego.from_policies(x),
    lambda x: Rego.from_policies([REGO], data=x),
    lambda x: Rego.from_policies({"p.rego": x}),
]


@settings(PROFILE)
@given(call=st.sampled_from(ENGINE_CALLS), value=HOSTILE)
def test_engine_boundary(call, value):
    survives(lambda: call(value))


@settings(PROFILE)
@given(call=st.sampled_from(CLIENT_CALLS), value=HOSTILE)
def test_client_boundary(call, value):
    survives(lambda: call(value))


@settings(PROFILE)
@given(call=st.sampled_from(REGO_CALLS), value=HOSTILE)
def test_rego_boundary(call, value):
    survives(lambda: call(value))


@settings(PROFILE)
@given(call=st.sampled_from(TOKEN_AND_MODEL_CALLS), value=HOSTILE)
def test_token_and_model_boundary(call, value):
    survives(lambda: call(value))


@settings(PROFILE)
@given(call=st.sampled_from(LOAD_CALLS), value=HOSTILE)
def test_loading_boundary(call, value):
    survives(lambda: call(value))


def test_the_strategies_reach_the_checks():
    """The generated families do reach the boundary checks (else the properties would test little)."""
    assert VERIFIER.verify(signed_token({"exp": 4102444800, "sub": "bob"}))["sub"] == "bob"
    with pytest.raises(ValueError, match="contains itself"):
        ENGINE.is_allowed({**PRINCIPAL, "attr": {"x": cyclic(1, False)}}, RESOURCE, action="read")
    with pytest.raises(ValueError, match="nested more than"):
        ENGINE.is_allowed({**PRINCIPAL, "attr": {"x": deep_dict(3000)}}, RESOURCE, action="read")
    with pytest.raises(RuntimeError, match="changed size"):
        ENGINE.is_allowed({**PRINCIPAL, "attr": side_effects(1, "grow")}, RESOURCE, action="read")
    with pytest.raises(ValueError, match="boom"):
        ENGINE.is_allowed({**PRINCIPAL, "attr": side_effects(1, "raise")}, RESOURCE, action="read")

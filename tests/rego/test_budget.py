"""A Rego evaluation has a budget (bytes its built-ins build, and time): built-ins asked for
more than the machine has are an evaluation error (`RegoEvalError`, which denies), not an
aborted process. Each case would abort the interpreter without the budget."""

from __future__ import annotations

import pytest
from warden.rego import Rego, RegoEvalError

POLICY = """package b
import rego.v1
range_size := count(numbers.range(1, input.n))
expanded := count(net.cidr_expand(input.cidr))
padded := sprintf(input.format, [1])
doubled := concat("", [input.s, input.s])
allow if range_size > 0
"""


@pytest.fixture(scope="module")
def rego() -> Rego:
    return Rego.from_policies({"b.rego": POLICY})


@pytest.mark.parametrize(
    ("query", "inp", "builtin"),
    [
        ("data.b.range_size", {"n": 1_000_000_000}, "numbers.range"),
        ("data.b.expanded", {"cidr": "0.0.0.0/0"}, "net.cidr_expand"),
        ("data.b.padded", {"format": "%10000000000d"}, "sprintf"),
        ("data.b.doubled", {"s": "x" * (20 << 20)}, "concat"),
    ],
)
def test_oversized_builtins_are_evaluation_errors(rego: Rego, query: str, inp: dict, builtin: str) -> None:
    with pytest.raises(RegoEvalError, match=f"Rego evaluation budget exceeded: `{builtin}` would build about"):
        rego.eval(query, inp)


def test_a_breach_denies_and_the_next_evaluation_has_a_full_budget(rego: Rego) -> None:
    with pytest.raises(RegoEvalError):
        rego.allowed("data.b.allow", {"n": 1_000_000_000})
    assert rego.allowed("data.b.allow", {"n": 10}) is True
    assert rego.eval("data.b.expanded", {"cidr": "10.0.0.0/24"}) == 256
    assert rego.eval("data.b.padded", {"format": "%3d"}) == "  1"

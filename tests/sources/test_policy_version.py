"""Engine.policy_version: the label of the set in force, swapped with it and only with it."""

from __future__ import annotations

import pytest
from warden import Engine
from warden.errors import PolicyError

POLICY = """\
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  rules:
    - actions: ["read"]
      roles: ["user"]
      effect: {effect}
"""

INPUT = {"principal": {"id": "u1", "roles": ["user"]}, "resource": {"kind": "doc", "id": "d1"}, "actions": ["read"]}


def effect(engine: Engine) -> str:
    return engine.check([INPUT])[0]["actions"]["read"]["effect"]


def test_constructors_record_the_given_version(tmp_path):
    (tmp_path / "doc.yaml").write_text(POLICY.format(effect="EFFECT_ALLOW"))
    assert Engine.from_directory(tmp_path).policy_version is None
    assert Engine.from_directory(tmp_path, policy_version="abc123").policy_version == "abc123"
    assert Engine.from_policies([POLICY.format(effect="EFFECT_ALLOW")], policy_version="v7").policy_version == "v7"
    with pytest.raises(ValueError, match="policy_version must not be empty"):
        Engine.from_policies([POLICY.format(effect="EFFECT_ALLOW")], policy_version="")


def test_reload_swaps_the_version_with_the_set_and_keeps_it_on_failure(tmp_path):
    policy = tmp_path / "doc.yaml"
    policy.write_text(POLICY.format(effect="EFFECT_ALLOW"))
    engine = Engine.from_directory(tmp_path, policy_version="v1")

    policy.write_text(POLICY.format(effect="EFFECT_MAYBE"))
    with pytest.raises(PolicyError):
        engine.reload(policy_version="v2")
    assert (engine.policy_version, effect(engine)) == ("v1", "EFFECT_ALLOW")

    policy.write_text(POLICY.format(effect="EFFECT_DENY"))
    engine.reload(policy_version="v3")
    assert (engine.policy_version, effect(engine)) == ("v3", "EFFECT_DENY")

    engine.reload()
    assert engine.policy_version is None, "a reload that names no version cannot keep the old label"


def test_policy_version_is_read_only(tmp_path):
    engine = Engine.from_policies([POLICY.format(effect="EFFECT_ALLOW")], policy_version="v1")
    with pytest.raises(AttributeError):
        engine.policy_version = "v2"  # type: ignore[misc]

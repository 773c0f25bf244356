"""Behaviour of the native warden.Engine API (the conformance surface) and the CLI."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap

import pytest
import warden
from warden import Engine
from warden.errors import PolicyError

CONTACT_POLICY = "resource.contact.vdefault"


def check_input(principal_id="bob", roles=("user",), owner="bob", actions=("read", "update"), **extra):
    return {
        "requestId": "req-1",
        "principal": {"id": principal_id, "roles": list(roles), "attr": {}},
        "resource": {"kind": "contact", "id": "abc123", "attr": {"owner_id": owner}},
        "actions": list(actions),
        **extra,
    }


def test_check_output_shape(contacts_policies):
    engine = Engine.from_directory(contacts_policies)
    (out,) = engine.check([check_input(owner="someone")])
    assert out["requestId"] == "req-1"
    assert out["resourceId"] == "abc123"
    assert out["actions"]["read"]["effect"] == "EFFECT_ALLOW"
    assert out["actions"]["read"]["policy"] == CONTACT_POLICY
    assert out["actions"]["update"]["effect"] == "EFFECT_DENY"
    assert out["actions"]["update"].get("scope", "") == ""
    # protojson omits empty fields
    for key in ("effectiveDerivedRoles", "validationErrors", "outputs", "evaluationErrors"):
        assert key not in out or out[key], key


def test_check_batches_keep_input_order(contacts_policies):
    engine = Engine.from_directory(contacts_policies)
    inputs = [check_input(owner="bob"), check_input(owner="x"), check_input("alice", ["admin"], owner="x")]
    outs = engine.check(inputs)
    assert [o["actions"]["update"]["effect"] for o in outs] == ["EFFECT_ALLOW", "EFFECT_DENY", "EFFECT_ALLOW"]
    assert engine.check([]) == []


def test_no_matching_policy(contacts_policies):
    engine = Engine.from_directory(contacts_policies)
    inp = check_input()
    inp["resource"]["kind"] = "invoice"
    (out,) = engine.check([inp])
    assert out["actions"]["read"] == {"effect": "EFFECT_DENY", "policy": "NO_MATCH"} or (
        out["actions"]["read"]["effect"] == "EFFECT_DENY" and out["actions"]["read"]["policy"] == "NO_MATCH"
    )


def test_derived_roles_reported(contacts_policies):
    engine = Engine.from_directory(contacts_policies.parent / "policies_derived_roles")
    (mine, theirs) = engine.check([check_input(owner="bob"), check_input(owner="x")])
    assert mine["effectiveDerivedRoles"] == ["owner"]
    assert mine["actions"]["update"]["effect"] == "EFFECT_ALLOW"
    assert "effectiveDerivedRoles" not in theirs or theirs["effectiveDerivedRoles"] == []


POLICY_WITH_GLOBALS_AND_NOW = textwrap.dedent(
    """\
    apiVersion: api.cerbos.dev/v1
    resourcePolicy:
      version: default
      resource: document
      rules:
        - actions: ["view"]
          effect: EFFECT_ALLOW
          roles: ["*"]
          condition:
            match:
              all:
                of:
                  - expr: G.environment == "test"
                  - expr: timestamp(R.attr.expires) > now()
    """
)


def doc_input(expires="2030-01-01T00:00:00Z"):
    return {
        "principal": {"id": "p", "roles": ["any"]},
        "resource": {"kind": "document", "id": "d1", "attr": {"expires": expires}},
        "actions": ["view"],
    }


@pytest.mark.parametrize(
    "now",
    ["2029-12-31T23:59:59Z", dt.datetime(2029, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)],
    ids=["str", "datetime"],
)
def test_from_policies_with_globals_and_now(now):
    engine = Engine.from_policies([POLICY_WITH_GLOBALS_AND_NOW], globals={"environment": "test"})
    assert engine.check([doc_input()], now=now)[0]["actions"]["view"]["effect"] == "EFFECT_ALLOW"
    later = "2030-06-01T00:00:00Z"
    assert engine.check([doc_input()], now=later)[0]["actions"]["view"]["effect"] == "EFFECT_DENY"
    other_env = Engine.from_policies([POLICY_WITH_GLOBALS_AND_NOW], globals={"environment": "prod"})
    assert other_env.check([doc_input()], now=now)[0]["actions"]["view"]["effect"] == "EFFECT_DENY"


def test_from_policies_accepts_dicts():
    policy = {
        "apiVersion": "api.cerbos.dev/v1",
        "resourcePolicy": {
            "version": "default",
            "resource": "contact",
            "rules": [{"actions": ["*"], "effect": "EFFECT_ALLOW", "roles": ["admin"]}],
        },
    }
    engine = Engine.from_policies([policy])
    (out,) = engine.check([check_input("alice", ["admin"], actions=["delete"])])
    assert out["actions"]["delete"]["effect"] == "EFFECT_ALLOW"


def test_loader_ignores_what_cerbos_ignores(tmp_path, contacts_policies):
    (tmp_path / "contact.yaml").write_text((contacts_policies / "contact.yaml").read_text())
    broken = "this: is: not: a policy ["
    for ignored in (".hidden.yaml", ".hidden_dir/p.yaml", "testdata/p.yaml", "_schemas/p.yaml", "contact_test.yaml"):
        path = tmp_path / ignored
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(broken)
    (tmp_path / "disabled.yaml").write_text(
        "apiVersion: api.cerbos.dev/v1\ndisabled: true\nresourcePolicy:\n  version: default\n  resource: contact\n"
        "  rules:\n    - actions: ['*']\n      effect: EFFECT_ALLOW\n      roles: ['*']\n"
    )
    engine = Engine.from_directory(tmp_path)
    (out,) = engine.check([check_input(roles=["guest"])])
    assert out["actions"]["read"]["effect"] == "EFFECT_DENY"


# --------------------------------------------------------------------------- #
# errors

BAD_EXPR_POLICY = textwrap.dedent(
    """\
    apiVersion: api.cerbos.dev/v1
    resourcePolicy:
      version: default
      resource: contact
      rules:
        - actions: ["update"]
          effect: EFFECT_ALLOW
          roles: ["user"]
          name: owner-only
          condition:
            match:
              expr: request.resource.attr.owner_id ==
    """
)


def test_bad_expression_names_file_and_line(tmp_path):
    (tmp_path / "contact.yaml").write_text(BAD_EXPR_POLICY)
    with pytest.raises(PolicyError) as info:
        Engine.from_directory(tmp_path)
    errors = info.value.errors
    assert len(errors) >= 1
    err = errors[0]
    assert set(err) >= {"file", "line", "column", "message"}
    assert err["file"].endswith("contact.yaml")
    assert err["line"] == 12  # the `expr:` line
    assert f"contact.yaml:{err['line']}:{err['column']}: " in str(info.value)


def test_every_broken_file_is_reported(tmp_path):
    # two files that fail to parse: both are reported (compile errors come once every file parses, as in Cerbos)
    (tmp_path / "a.yaml").write_text('apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  resource: "contact\n')
    (tmp_path / "b.yaml").write_text("apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  version: default\n  rules: [\n")
    with pytest.raises(PolicyError) as info:
        Engine.from_directory(tmp_path)
    files = {e["file"].rsplit("/", 1)[-1] for e in info.value.errors}
    assert files == {"a.yaml", "b.yaml"}
    for name in ("a.yaml", "b.yaml"):
        assert name in str(info.value)


def test_policy_error_is_exported_everywhere():
    assert warden.PolicyError is PolicyError
    assert issubclass(PolicyError, Exception)


def test_broken_policy_text():
    with pytest.raises(PolicyError):
        Engine.from_policies(["resourcePolicy: [not a mapping"])


@pytest.mark.parametrize(
    ("mutate", "exc_types", "field"),
    [
        (lambda i: i.pop("principal"), (ValueError, TypeError), "principal"),
        (lambda i: i.__setitem__("actions", "read"), (ValueError, TypeError), "actions"),
        (lambda i: i["principal"].__setitem__("roles", 5), (ValueError, TypeError), "roles"),
        (lambda i: i["resource"].pop("kind"), (ValueError, TypeError), "kind"),
    ],
    ids=["no-principal", "actions-str", "roles-int", "no-kind"],
)
def test_engine_bad_input_names_the_field(contacts_policies, mutate, exc_types, field):
    engine = Engine.from_directory(contacts_policies)
    inp = check_input()
    mutate(inp)
    with pytest.raises(exc_types) as info:
        engine.check([inp])
    assert field in str(info.value)


def test_engine_rejects_bad_options(contacts_policies):
    with pytest.raises((ValueError, TypeError), match="schema_enforcement"):
        Engine.from_directory(contacts_policies, schema_enforcement="sometimes")


# --------------------------------------------------------------------------- #
# CLI


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "warden", *args], capture_output=True, text=True, check=False)


def test_cli_compile_ok(contacts_policies):
    proc = run_cli("compile", str(contacts_policies))
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout


def test_cli_compile_reports_every_error(tmp_path):
    (tmp_path / "contact.yaml").write_text(BAD_EXPR_POLICY)
    proc = run_cli("compile", str(tmp_path))
    assert proc.returncode == 1
    first = proc.stderr.splitlines()[0]
    assert "contact.yaml:12:" in first, proc.stderr


def test_cli_usage_error():
    assert run_cli().returncode == 2


def test_decision_table_matches_check(contacts_policies):
    """One principal, many resources: the same answers as check(), as rows of booleans."""
    engine = Engine.from_directory(contacts_policies)
    principal = {"id": "bob", "roles": ["user"], "attr": {}}
    resources = [
        {"kind": "contact", "id": f"c{i}", "attr": {"owner_id": "bob" if i % 3 == 0 else "eve"}} for i in range(10)
    ]
    actions = ["read", "update", "delete", "approve"]
    table = engine.decision_table(principal, resources, actions)
    outputs = engine.check([{"principal": principal, "resource": r, "actions": actions} for r in resources])
    assert table == [[o["actions"][a]["effect"] == "EFFECT_ALLOW" for a in actions] for o in outputs]
    assert table[0] == [True, True, True, False] and table[1] == [True, False, False, False]
    # model objects, a tuple of resources, a single resource (GIL kept), admin
    admin = warden.Principal("ann", {"admin"})
    assert engine.decision_table(admin, (warden.Resource("c1", "contact", attr={"owner_id": "eve"}),), ["delete"]) == [
        [True]
    ]
    assert engine.decision_table(principal, [], ["read"]) == []


def test_decision_table_refuses_bad_input(contacts_policies):
    engine = Engine.from_directory(contacts_policies)
    principal = {"id": "bob", "roles": ["user"]}
    resource = {"kind": "contact", "id": "c1"}
    with pytest.raises(TypeError, match="not a single string"):
        engine.decision_table(principal, [resource], "read")
    with pytest.raises(ValueError, match="at least one action"):
        engine.decision_table(principal, [resource], [])
    with pytest.raises(TypeError, match="expected a list of resources"):
        engine.decision_table(principal, resource, ["read"])
    with pytest.raises((TypeError, ValueError), match=r"resources\[1\]"):
        engine.decision_table(principal, [resource, {"id": "c2"}], ["read"])
    with pytest.raises((TypeError, ValueError), match="principal"):
        engine.decision_table({"roles": ["user"]}, [resource], ["read"])

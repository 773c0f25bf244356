"""Cerbos's engine conformance cases, run against warden's engine.

Runs, straight from ``../shared/conformance/cerbos/internal/test/testdata``,
the way Cerbos's ``internal/engine/engine_test.go`` does:

* ``engine/``: every case with strict *and* with lenient scope search
  (``TestCheck`` + ``TestCheckWithLenientScopeSearch``);
* ``engine_strict_scope_search/``: strict; ``engine_lenient_scope_search/``: lenient;
* ``engine_schema_enforcement/{warn,reject}/``: that schema enforcement.

The engine is built from ``store/`` with globals ``{"environment": "test"}``,
one ``Engine.check`` call per case (``now()`` is the real time, fixed per
call). Per output it compares requestId, resourceId, each action's
effect/policy/scope, effectiveDerivedRoles as a set, outputs (sorted by src),
validationErrors (sorted by source and path) and evaluationErrors exactly.
``wantDecisionLogs`` (audit entries) are not compared.

One pytest item per case and mode, e.g. ``engine/case_00:lenient``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conformance.cerbos_data import TESTDATA, case_files, load_case, require_testdata

# Cases expected to fail until the named feature lands, keyed by case name
# ("engine/case_24") or by case name and mode ("engine/case_24:lenient").
# The value is the reason shown by pytest; name the missing feature.
XFAIL: dict[str, str] = {}

GLOBALS = {"environment": "test"}

MODES: dict[str, dict[str, Any]] = {
    "strict": {"lenient_scope_search": False, "schema_enforcement": "none"},
    "lenient": {"lenient_scope_search": True, "schema_enforcement": "none"},
    "warn": {"lenient_scope_search": False, "schema_enforcement": "warn"},
    "reject": {"lenient_scope_search": False, "schema_enforcement": "reject"},
}

SUITES: list[tuple[str, tuple[str, ...]]] = [
    ("engine", ("strict", "lenient")),
    ("engine_strict_scope_search", ("strict",)),
    ("engine_lenient_scope_search", ("lenient",)),
    ("engine_schema_enforcement/warn", ("warn",)),
    ("engine_schema_enforcement/reject", ("reject",)),
]

require_testdata()


def _params() -> list:
    params = []
    for subdir, modes in SUITES:
        for name, path in case_files(subdir):
            for mode in modes:
                case_id = f"{name}:{mode}"
                reason = XFAIL.get(case_id) or XFAIL.get(name)
                marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
                params.append(pytest.param(name, path, mode, id=case_id, marks=marks))
    return params


_ENGINES: dict[str, Any] = {}


def _engine(mode: str):
    """One engine per mode for the whole session (a load error is re-raised per case)."""
    if mode not in _ENGINES:
        from warden import Engine

        try:
            _ENGINES[mode] = Engine.from_directory(TESTDATA / "store", globals=GLOBALS, **MODES[mode])
        except Exception as exc:  # noqa: BLE001 (reported by every case of that mode)
            _ENGINES[mode] = exc
    engine = _ENGINES[mode]
    if isinstance(engine, Exception):
        pytest.fail(f"the store did not load ({mode}): {type(engine).__name__}: {engine}", pytrace=False)
    return engine


# --------------------------------------------------------------------------- #
# normalisation: protojson omits empty fields, so absent == empty


def _actions(out: dict) -> dict[str, tuple[str, str, str]]:
    return {
        name: (a.get("effect", ""), a.get("policy", ""), a.get("scope", ""))
        for name, a in (out.get("actions") or {}).items()
    }


def _outputs(out: dict) -> list[dict]:
    entries = [{k: v for k, v in entry.items() if v not in (None, "")} for entry in (out.get("outputs") or [])]
    return sorted(entries, key=lambda e: e.get("src", ""))


def _validation_errors(out: dict) -> list[tuple[str, str, str]]:
    return sorted(
        (e.get("source", ""), e.get("path", ""), e.get("message", "")) for e in (out.get("validationErrors") or [])
    )


def _proto_json_names(message: dict) -> dict:
    """protojson also accepts proto field names (``effective_derived_roles``); some cases use them."""
    return {_camel(key): value for key, value in message.items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _compare(want: dict, have: dict) -> list[str]:
    want = _proto_json_names(want)
    problems = []
    for key in ("requestId", "resourceId"):
        if want.get(key, "") != have.get(key, ""):
            problems.append(f"{key}: want {want.get(key, '')!r}, got {have.get(key, '')!r}")
    want_actions, have_actions = _actions(want), _actions(have)
    for name in sorted(want_actions.keys() | have_actions.keys()):
        w, h = want_actions.get(name), have_actions.get(name)
        if w != h:
            fmt = lambda d: "missing" if d is None else f"{d[0]} by {d[1]!r}" + (f" scope {d[2]!r}" if d[2] else "")  # noqa: E731
            problems.append(f"action {name!r}: want {fmt(w)}, got {fmt(h)}")
    want_edr = set(want.get("effectiveDerivedRoles") or [])
    have_edr = set(have.get("effectiveDerivedRoles") or [])
    if want_edr != have_edr:
        problems.append(f"effectiveDerivedRoles: want {sorted(want_edr)}, got {sorted(have_edr)}")
    if _outputs(want) != _outputs(have):
        problems.append(f"outputs:\n    want {_json(_outputs(want))}\n    got  {_json(_outputs(have))}")
    if _validation_errors(want) != _validation_errors(have):
        problems.append(
            f"validationErrors:\n    want {_json(_validation_errors(want))}\n    got  {_json(_validation_errors(have))}"
        )
    want_errors = want.get("evaluationErrors") or []
    have_errors = have.get("evaluationErrors") or []
    if want_errors != have_errors:
        problems.append(f"evaluationErrors:\n    want {_json(want_errors)}\n    got  {_json(have_errors)}")
    extra = set(have) - {
        "requestId",
        "resourceId",
        "actions",
        "effectiveDerivedRoles",
        "validationErrors",
        "outputs",
        "evaluationErrors",
    }
    if extra:
        problems.append(f"unexpected output fields: {sorted(extra)}")
    return problems


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@pytest.mark.parametrize(("name", "path", "mode"), _params())
def test_engine_case(name: str, path, mode: str) -> None:
    case = load_case(path)
    inputs = case.get("inputs") or []
    engine = _engine(mode)
    if case.get("wantError"):
        with pytest.raises(Exception):  # noqa: B017 (Cerbos only checks that the call errors)
            engine.check(inputs)
        return
    outputs = engine.check(inputs)
    wants = case.get("wantOutputs") or []
    report = []
    if len(outputs) != len(wants):
        report.append(f"want {len(wants)} outputs, got {len(outputs)}")
    for i, (want, have) in enumerate(zip(wants, outputs, strict=False)):
        problems = _compare(want, have)
        if problems:
            resource = inputs[i].get("resource", {})
            report.append(
                f"input {i} (principal {inputs[i].get('principal', {}).get('id')!r}, "
                f"resource {resource.get('kind')!r}/{resource.get('id')!r}):"
            )
            report.extend("  " + p for p in problems)
    if report:
        header = f"{name} [{mode}]: {case.get('description', '')}\n{path}\n"
        pytest.fail(header + "\n".join(report), pytrace=False)


def test_every_suite_has_cases() -> None:
    """Guard against a moved data dir silently running nothing."""
    for subdir, _ in SUITES:
        assert list(case_files(subdir)), f"no cases under {TESTDATA / subdir}"

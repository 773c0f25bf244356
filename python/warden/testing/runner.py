"""Running Cerbos test suites against warden's engine, with Cerbos's semantics.

The results are plain dicts in the shape of Cerbos's ``cerbos.policy.v1.TestResults``
JSON (what ``cerbos compile --output=json`` prints), built the way
``internal/verify`` builds them: one ``Check`` per (test table, principal,
resource) with all of the table's actions; an action that an expectation does
not list expects ``EFFECT_DENY``; test options replace suite options entirely.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from warden.testing import loader
from warden.testing.gotext import go_quote
from warden.testing.yamlproto import Problem

RESULT_ORDER = {
    "RESULT_UNSPECIFIED": 0,
    "RESULT_SKIPPED": 1,
    "RESULT_PASSED": 2,
    "RESULT_FAILED": 3,
    "RESULT_ERRORED": 4,
}
NOW_NOT_PROVIDED = "a policy used a time-based condition, but `now` was not provided in the test options"
SKIP_REASON_NAME = "Test name did not match the provided pattern"
SKIP_REASON_RESOURCE = "Resource matched a policy that was excluded from the bundle"
SKIP_REASON_PRINCIPAL = "Principal matched a policy that was excluded from the bundle"
# Cerbos's zero time (Go's time.Time{}), the value of now() when no `now` option is given.
ZERO_TIME = "0001-01-01T00:00:00Z"


class SuiteError(Exception):
    """A suite cannot run; the message is the ``error`` of the suite's result (as Cerbos words it)."""


# --------------------------------------------------------------------------- expansion


@dataclass
class PolicyTest:
    """One expanded test: a test table applied to one principal and one resource."""

    suite_name: str
    table_name: str
    principal_key: str
    resource_key: str
    description: str
    skip: bool
    skip_reason: str
    principal: Dict[str, Any]
    resource: Dict[str, Any]
    actions: List[str]
    aux_data: Optional[Dict[str, Any]]
    expected: Dict[str, str]
    expected_outputs: Dict[str, Dict[str, Any]]
    options: Dict[str, Any]
    line: int = 0

    def expected_effect(self, action: str) -> str:
        """The effect this test expects for ``action`` (``EFFECT_DENY`` unless listed)."""
        return self.expected.get(action) or "EFFECT_DENY"

    def to_cerbos(self) -> Dict[str, Any]:
        """This test as Cerbos's ``cerbos.policy.v1.Test`` JSON (for ``test_suite_run_get_tests`` comparisons)."""
        out: Dict[str, Any] = {
            "name": {
                "testTableName": self.table_name,
                "principalKey": self.principal_key,
                "resourceKey": self.resource_key,
            },
        }
        if self.description:
            out["description"] = self.description
        if self.skip:
            out["skip"] = True
        if self.skip_reason:
            out["skipReason"] = self.skip_reason
        inp: Dict[str, Any] = {"principal": self.principal, "resource": self.resource, "actions": self.actions}
        if self.aux_data:
            inp["auxData"] = self.aux_data
        out["input"] = inp
        if self.expected:
            out["expected"] = dict(self.expected)
        if self.expected_outputs:
            out["expectedOutputs"] = {a: {"entries": e} for a, e in self.expected_outputs.items()}
        if self.options:
            out["options"] = self.options
        return out


def _value_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


class _Lookups:
    """Fixture lookup: the suite's inline fixtures first, then ``testdata/``."""

    def __init__(self, suite: Dict[str, Any], fixtures: Optional[loader.Fixtures]):
        self.suite = suite
        self.fx = fixtures or loader.Fixtures()

    def principal(self, key: str) -> Dict[str, Any]:
        found = self.suite.get("principals", {}).get(key) or self.fx.principals.get(key)
        if found is None:
            raise SuiteError(f"principal {go_quote(key)} not found")
        return found

    def resource(self, key: str) -> Dict[str, Any]:
        found = self.suite.get("resources", {}).get(key) or self.fx.resources.get(key)
        if found is None:
            raise SuiteError(f"resource {go_quote(key)} not found")
        return found

    def aux_data(self, key: str) -> Optional[Dict[str, Any]]:
        if not key:
            return None
        found = self.suite.get("auxData", {}).get(key) or self.fx.aux_data.get(key)
        if found is None:
            raise SuiteError(f"auxData {go_quote(key)} not found")
        return found

    def principal_group(self, key: str) -> List[str]:
        for groups in (self.suite.get("principalGroups", {}), self.fx.principal_groups):
            if key in groups:
                return groups[key]
        raise SuiteError(f"principal group {go_quote(key)} not found")

    def resource_group(self, key: str) -> List[str]:
        for groups in (self.suite.get("resourceGroups", {}), self.fx.resource_groups):
            if key in groups:
                return groups[key]
        # Cerbos's message says "principal group" here too (run_test_suite.go lookupResourceGroup)
        raise SuiteError(f"principal group {go_quote(key)} not found")


def _collect(single: str, keys: List[str], groups: List[str], lookup_group: Callable[[str], List[str]]) -> List[str]:
    keys = [single] if single else list(keys)
    seen = set(keys)
    for group in groups:
        for member in lookup_group(group):
            if member not in seen:
                keys.append(member)
                seen.add(member)
    return keys


def expand_table(suite: Dict[str, Any], table: Dict[str, Any], fixtures: Optional[loader.Fixtures]) -> List[PolicyTest]:
    """The tests of one test table (principals x resources), as Cerbos's ``buildTests``.

    Raises :class:`SuiteError` with Cerbos's message for expectations outside the
    input, unknown fixtures or groups, and conflicting expectations.
    """
    look = _Lookups(suite, fixtures)
    inp = table.get("input", {})
    input_actions: List[str] = inp.get("actions", [])
    action_set = set(input_actions)
    lookup: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for exp in table.get("expected", []):
        outputs: Dict[str, Dict[str, Any]] = {}
        for oe in exp.get("outputs", []):
            outputs[oe.get("action", "")] = {e.get("src", ""): e.get("val") for e in oe.get("expected", [])}
        unreachable = [a for a in outputs if a not in action_set]
        if unreachable:
            raise SuiteError(
                "found output expectations for actions that are not in the input actions list: "
                f"[{','.join(unreachable)}]"
            )
        principals = _collect(
            exp.get("principal", ""), exp.get("principals", []), exp.get("principalGroups", []), look.principal_group
        )
        resources = _collect(
            exp.get("resource", ""), exp.get("resources", []), exp.get("resourceGroups", []), look.resource_group
        )
        for p in principals:
            for r in resources:
                extra = sorted(a for a in exp.get("actions", {}) if a not in action_set)
                if extra:
                    raise SuiteError(
                        "found expectations for actions that do not exist in the input actions list: "
                        f"[{','.join(extra)}]"
                    )
                target = lookup.setdefault((p, r), {"actions": {}, "outputs": {}})
                for action, effect in exp.get("actions", {}).items():
                    if action in target["actions"] and target["actions"][action] != effect:
                        raise SuiteError(
                            f"found inconsistent expectations for principal {go_quote(p)} performing "
                            f"action {go_quote(action)} on resource {go_quote(r)}"
                        )
                    target["actions"].setdefault(action, effect)
                for action, entries in outputs.items():
                    have = target["outputs"].setdefault(action, {})
                    for src, val in entries.items():
                        if src in have and _value_key(have[src]) != _value_key(val):
                            raise SuiteError(
                                f"found inconsistent expectations for output {go_quote(src)} from "
                                f"principal {go_quote(p)} performing action {go_quote(action)} "
                                f"on resource {go_quote(r)}"
                            )
                        have.setdefault(src, val)
    default = {"actions": {a: "EFFECT_DENY" for a in input_actions}, "outputs": {}}
    principals = _collect("", inp.get("principals", []), inp.get("principalGroups", []), look.principal_group)
    resources = _collect("", inp.get("resources", []), inp.get("resourceGroups", []), look.resource_group)
    matrix = []
    for p in principals:
        for r in resources:
            matrix.append((p, r, lookup.pop((p, r), default)))
    for p, r in lookup:
        raise SuiteError(
            f"found an expectation for principal {go_quote(p)} and resource {go_quote(r)}, "
            "but at least one of these is not present in input"
        )
    options = table.get("options")
    if options is None:
        options = suite.get("options", {})
    tests = []
    for p, r, expectation in matrix:
        tests.append(
            PolicyTest(
                suite_name=suite.get("name", ""),
                table_name=table.get("name", ""),
                principal_key=p,
                resource_key=r,
                description=table.get("description", ""),
                skip=bool(table.get("skip")),
                skip_reason=table.get("skipReason", ""),
                principal=look.principal(p),
                resource=look.resource(r),
                actions=input_actions,
                aux_data=look.aux_data(inp.get("auxData", "")),
                expected=dict(expectation["actions"]),
                expected_outputs=dict(expectation["outputs"]),
                options=options or {},
                line=table.get("line", 0),
            )
        )
    return tests


# --------------------------------------------------------------------------- engines


class EnginePool:
    """Engines for one policy directory, one per option set a test needs (lenient scope search, globals)."""

    def __init__(
        self, policy_dir: Optional[str] = None, *, engine: Any = None, factory: Optional[Callable[..., Any]] = None
    ):
        """Either a policy directory (engines built on demand) or a ready ``engine`` (used for default options).

        ``factory(globals=..., lenient_scope_search=..., [strict_evaluation=True])`` builds an engine for other options.
        """
        self.policy_dir = policy_dir
        self._engines: Dict[str, Any] = {}
        if factory is None and policy_dir is not None:
            from warden._core import Engine

            def factory(**kwargs: Any) -> Any:
                return Engine.from_directory(policy_dir, **kwargs)

        self._factory = factory
        if engine is not None:
            self._engines[self._key({})] = engine

    @staticmethod
    def _key(options: Dict[str, Any]) -> str:
        return json.dumps(
            [
                bool(options.get("lenientScopeSearch")),
                bool(options.get("strictEvaluation")),
                options.get("globals") or {},
            ],
            sort_keys=True,
        )

    def engine_for(self, options: Dict[str, Any]) -> Any:
        """The engine configured for a test's options (built once per distinct option set)."""
        key = self._key(options)
        if key not in self._engines:
            if self._factory is None:
                raise RuntimeError("no policy directory to build an engine with these options from")
            kwargs: Dict[str, Any] = {
                "globals": options.get("globals") or None,
                "lenient_scope_search": bool(options.get("lenientScopeSearch")),
            }
            if options.get("strictEvaluation"):
                kwargs["strict_evaluation"] = True
            self._engines[key] = self._factory(**kwargs)
        return self._engines[key]


def _scope_value(scope: str) -> str:
    return scope[1:] if scope.startswith(".") else scope


def check_input(test: PolicyTest, actions: Iterable[str]) -> Dict[str, Any]:
    """The engine ``CheckInput`` of a test, with the ``defaultPolicyVersion``/``defaultScope`` options applied.

    The engine has no per-call default version or scope, so an empty ``policyVersion``
    or ``scope`` of the principal/resource is filled from the options here, which is
    what Cerbos's engine does with those options.
    """
    opts = test.options
    principal = dict(test.principal)
    resource = dict(test.resource)
    for obj in (principal, resource):
        if not obj.get("policyVersion") and opts.get("defaultPolicyVersion"):
            obj["policyVersion"] = opts["defaultPolicyVersion"]
        scope = obj.get("scope", "")
        if scope == "" and opts.get("defaultScope"):
            obj["scope"] = _scope_value(opts["defaultScope"])
        elif scope:
            obj["scope"] = _scope_value(scope)
    out: Dict[str, Any] = {"principal": principal, "resource": resource, "actions": list(actions)}
    if test.aux_data:
        out["auxData"] = test.aux_data
    return out


def values_equal(want: Any, got: Any) -> bool:
    """Equality of two ``google.protobuf.Value``s: numbers compare as doubles, bools are not numbers."""
    if isinstance(want, bool) or isinstance(got, bool):
        return isinstance(want, bool) and isinstance(got, bool) and want == got
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return float(want) == float(got)
    if isinstance(want, dict) and isinstance(got, dict):
        return want.keys() == got.keys() and all(values_equal(want[k], got[k]) for k in want)
    if isinstance(want, list) and isinstance(got, list):
        return len(want) == len(got) and all(values_equal(a, b) for a, b in zip(want, got, strict=False))
    return type(want) is type(got) and want == got


def run_test(pool: EnginePool, test: PolicyTest, actions: Optional[List[str]] = None) -> Dict[str, Dict[str, Any]]:
    """Results (Cerbos ``TestResults.Details`` dicts) of one expanded test, per action."""
    actions = list(test.actions if actions is None else actions)
    try:
        engine = pool.engine_for(test.options)
        inp = check_input(test, actions)
        if test.options.get("now"):
            output = engine.check([inp], now=test.options["now"])[0]
        else:
            # As Cerbos: without a `now` option, now() is the zero time and reading it errors the test.
            output = engine.check([inp], now=ZERO_TIME, report_used_now=True)[0]
            if output.pop("usedNow"):
                return {a: {"result": "RESULT_ERRORED", "error": NOW_NOT_PROVIDED} for a in actions}
    except Exception as exc:  # an engine or input error errors every action, as in Cerbos
        return {a: {"result": "RESULT_ERRORED", "error": str(exc)} for a in actions}
    results: Dict[str, Dict[str, Any]] = {}
    for action in actions:
        outputs = [o for o in output.get("outputs", []) if o.get("action") == action]
        actual_by_src = {o.get("src"): o for o in outputs}
        expected = test.expected_effect(action)
        decided = output.get("actions", {}).get(action)
        if decided is None:
            results[action] = {"result": "RESULT_ERRORED", "error": f"no result for action {go_quote(action)}"}
            continue
        actual = decided.get("effect")
        if actual != expected:
            results[action] = {"result": "RESULT_FAILED", "failure": {"expected": expected, "actual": actual}}
            continue
        failures = []
        for src, want in test.expected_outputs.get(action, {}).items():
            got = actual_by_src.get(src)
            if got is None:
                failures.append({"src": src, "missing": {"expected": want}})
            elif got.get("error"):
                failures.append({"src": src, "errored": {"expected": want, "error": got["error"]}})
            elif not values_equal(want, got.get("val")):
                failures.append({"src": src, "mismatched": {"actual": got.get("val"), "expected": want}})
        if failures:
            results[action] = {
                "result": "RESULT_FAILED",
                "failure": {"expected": expected, "actual": actual, "outputs": failures},
            }
            continue
        success: Dict[str, Any] = {"effect": actual}
        if outputs:
            success["outputs"] = outputs
        results[action] = {"result": "RESULT_PASSED", "success": success}
    return results


# --------------------------------------------------------------------------- suites


@dataclass
class TestSelection:
    """Which tests run: Cerbos's ``--run`` regexp and excluded policy FQNs (others are skipped, and counted)."""

    __test__ = False  # not a pytest test class

    run_regexp: Optional[str] = None
    excluded_resource_policies: List[str] = field(default_factory=list)
    excluded_principal_policies: List[str] = field(default_factory=list)

    def skip_reason(self, test: PolicyTest) -> Optional[str]:
        """Why ``test`` is skipped, in Cerbos's words, or None when it runs."""
        if self.run_regexp:
            name = (
                f"{test.suite_name}/testTableName:{json.dumps(test.table_name)} "
                f"principalKey:{json.dumps(test.principal_key)} resourceKey:{json.dumps(test.resource_key)}"
            )
            # Go's Test_TestName.String() is prototext; the regexp is matched against it like Cerbos does.
            if not re.search(self.run_regexp, name):
                return SKIP_REASON_NAME
        opts = test.options
        if self.excluded_resource_policies:
            r = test.resource
            fqn = _policy_fqn("resource", r.get("kind", ""), r, opts)
            if fqn in self.excluded_resource_policies:
                return SKIP_REASON_RESOURCE
        if self.excluded_principal_policies:
            p = test.principal
            fqn = _policy_fqn("principal", p.get("id", ""), p, opts)
            if fqn in self.excluded_principal_policies:
                return SKIP_REASON_PRINCIPAL
        if test.skip:
            return test.skip_reason
        return None


def _policy_fqn(kind: str, name: str, obj: Dict[str, Any], options: Dict[str, Any]) -> str:
    version = obj.get("policyVersion") or options.get("defaultPolicyVersion") or "default"
    scope = _scope_value(obj.get("scope", "")) or options.get("defaultScope", "")
    fqn = f"cerbos.{kind}.{name.replace('@', '_')}.v{version.replace('.', '_')}"
    return f"{fqn}/{scope}" if scope else fqn


@dataclass
class LoadedSuite:
    """A suite file loaded and expanded, or the error that stops it from running."""

    file: str
    path: str
    name: str = "Unknown"
    description: str = ""
    error: Optional[str] = None
    error_file: Optional[str] = None  # the file that ``problems`` (and ``line:col`` in ``error``) refer to
    problems: List[Problem] = field(default_factory=list)  # the problems of ``error``, with their positions
    skip_reason: Optional[str] = None
    tests: List[PolicyTest] = field(default_factory=list)


class FixtureCache:
    """``testdata/`` fixtures per directory, loaded once."""

    def __init__(self) -> None:
        self._cache: Dict[str, Any] = {}

    def get(self, directory: str) -> Optional[loader.Fixtures]:
        """The fixtures of ``directory`` (None when it does not exist); raises :class:`loader.FixtureError`."""
        if directory not in self._cache:
            if not os.path.isdir(directory):
                self._cache[directory] = None
            else:
                try:
                    self._cache[directory] = loader.load_fixtures(directory)
                except loader.FixtureError as exc:
                    self._cache[directory] = exc
        value = self._cache[directory]
        if isinstance(value, Exception):
            raise value
        return value


def load_suite(root: str, file: str, fixtures: Optional[FixtureCache] = None) -> LoadedSuite:
    """Load the suite ``file`` (relative to ``root``), its ``testdata/`` fixtures, and expand its tests."""
    fixtures = fixtures or FixtureCache()
    path = os.path.join(root, file)
    out = LoadedSuite(file=file, path=path)
    try:
        suite = loader.load_suite_document(path)
    except loader.SuiteFormatError as exc:
        out.error = "failed to load test suite:\n" + "\n".join(map(str, exc.problems))
        out.error_file = path
        out.problems = exc.problems
        return out
    except OSError as exc:
        out.error = f"failed to load test suite: {exc}"
        return out
    out.name = suite.get("name", "")
    out.description = suite.get("description", "")
    fixture_dir = os.path.join(os.path.dirname(file), loader.FIXTURE_DIR)
    try:
        fx = fixtures.get(os.path.join(root, fixture_dir))
    except loader.FixtureError as exc:
        out.error = f"failed to load test fixtures from {os.path.normpath(fixture_dir)}: {exc}"
        out.error_file = exc.path
        out.problems = exc.problems
        return out
    look = _Lookups(suite, fx)
    for kind, groups, exists in (
        ("principal", suite.get("principalGroups", {}), look.principal),
        ("resource", suite.get("resourceGroups", {}), look.resource),
    ):
        for group, members in groups.items():
            for member in members:
                try:
                    exists(member)
                except SuiteError:
                    out.error = (
                        f"Invalid {kind} groups in test suite: missing fixture "
                        f"{go_quote(member)} referenced in group {go_quote(group)}"
                    )
                    return out
    if suite.get("skip"):
        out.skip_reason = suite.get("skipReason", "")
        return out
    seen = set()
    dupes = []
    for table in suite.get("tests", []):
        if table.get("name") in seen:
            dupes.append(f"another test named {table.get('name')} already exists")
        seen.add(table.get("name"))
    if dupes:
        out.error = "Invalid test suite: " + "; ".join(dupes)
        return out
    for table in suite.get("tests", []):
        try:
            out.tests.extend(expand_table(suite, table, fx))
        except SuiteError as exc:
            out.tests = []
            out.error = f"Failed to load the test suite: invalid test {go_quote(table.get('name', ''))}: {exc}"
            return out
    return out


def located_error(loaded: LoadedSuite) -> str:
    """The suite's error for people: each problem as ``file:line:col: message`` (clickable).

    A problem Cerbos gives no position (a missing required field) points at the closest enclosing
    element instead: the fixture or test that lacks the field.
    """
    if loaded.error is None:
        return ""
    if not loaded.error_file:
        return f"{loaded.path}: {loaded.error}"
    where = os.path.relpath(loaded.error_file)
    if where.startswith(".."):
        where = loaded.error_file
    if not loaded.problems:
        return f"{where}: {loaded.error}"
    lines = [loaded.error.split("\n", 1)[0]]  # Cerbos's heading: "failed to load test suite:" ...
    for problem in loaded.problems:
        at = problem.where
        lines.append(f"{where}:{at[0]}:{at[1]}: {problem.message}" if at else f"{where}: {problem.message}")
    return "\n".join(lines)


def _tally(summary: Dict[str, Any], result: str, count: int = 1) -> None:
    counts = summary.setdefault("resultCounts", [])
    for t in counts:
        if t["result"] == result:
            t["count"] += count
            break
    else:
        counts.append({"result": result, "count": count})
        counts.sort(key=lambda t: RESULT_ORDER[t["result"]])


def _raise_overall(summary: Dict[str, Any], result: str) -> None:
    if RESULT_ORDER[result] > RESULT_ORDER[summary.get("overallResult", "RESULT_UNSPECIFIED")]:
        summary["overallResult"] = result


def _add_result(suite_result: Dict[str, Any], test: PolicyTest, action: str, details: Dict[str, Any]) -> None:
    def child(items: List[Dict[str, Any]], name: str, kids: str) -> Dict[str, Any]:
        for item in items:
            if item["name"] == name:
                return item
        item = {"name": name, kids: []}
        items.append(item)
        return item

    case = child(suite_result.setdefault("testCases", []), test.table_name, "principals")
    principal = child(case["principals"], test.principal_key, "resources")
    resource = child(principal["resources"], test.resource_key, "actions")
    resource["actions"].append({"name": action, "details": details})
    summary = suite_result["summary"]
    summary["testsCount"] = summary.get("testsCount", 0) + 1
    _tally(summary, details["result"])
    _raise_overall(summary, details["result"])


def run_loaded_suite(
    pool: EnginePool, loaded: LoadedSuite, selection: Optional[TestSelection] = None
) -> Dict[str, Any]:
    """The Cerbos ``TestResults.Suite`` dict of a loaded suite."""
    selection = selection or TestSelection()
    result: Dict[str, Any] = {"file": loaded.file, "name": loaded.name}
    if loaded.description:
        result["description"] = loaded.description
    result["summary"] = {}
    if loaded.error is not None:
        result["summary"]["overallResult"] = "RESULT_ERRORED"
        result["error"] = loaded.error
        return result
    if loaded.skip_reason is not None:
        result["summary"]["overallResult"] = "RESULT_SKIPPED"
        if loaded.skip_reason:
            result["skipReason"] = loaded.skip_reason
        return result
    for test in loaded.tests:
        reason = selection.skip_reason(test)
        if reason is not None:
            details: Dict[str, Any] = {"result": "RESULT_SKIPPED"}
            if reason:
                details["skipReason"] = reason
            for action in test.actions:
                _add_result(result, test, action, dict(details))
            continue
        per_action = run_test(pool, test)
        for action in test.actions:
            _add_result(result, test, action, per_action[action])
    return result


def run_suites(
    policy_dir: str,
    tests_dir: Optional[str] = None,
    *,
    pool: Optional[EnginePool] = None,
    selection: Optional[TestSelection] = None,
) -> Dict[str, Any]:
    """Run every suite under ``tests_dir`` (default: ``policy_dir``) and return Cerbos's ``TestResults`` dict."""
    tests_dir = tests_dir or policy_dir
    pool = pool or EnginePool(policy_dir)
    files, _ = loader.discover(tests_dir)
    cache = FixtureCache()
    results: Dict[str, Any] = {"suites": [], "summary": {}}
    for file in sorted(files):
        merge_suite_result(results, run_loaded_suite(pool, load_suite(tests_dir, file, cache), selection))
    return results


def merge_suite_result(results: Dict[str, Any], suite: Dict[str, Any]) -> None:
    """Append a suite's result to a ``TestResults`` dict and add its counts to the overall summary."""
    results["suites"].append(suite)
    s = suite["summary"]
    if s.get("testsCount"):
        results["summary"]["testsCount"] = results["summary"].get("testsCount", 0) + s["testsCount"]
    for t in s.get("resultCounts", []):
        _tally(results["summary"], t["result"], t["count"])
    _raise_overall(results["summary"], s.get("overallResult", "RESULT_UNSPECIFIED"))

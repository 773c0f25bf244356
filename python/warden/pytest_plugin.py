"""pytest plugin: Cerbos policy test suites (``*_test.yaml``) as pytest items, and policy fixtures.

Registered through the ``pytest11`` entry point, so installing warden is enough.
Configure the policy directories in ``pyproject.toml``/``pytest.ini``::

    [tool.pytest.ini_options]
    warden_policy_dirs = ["examples/contacts/policies"]

or on the command line: ``pytest --warden-policies examples/contacts/policies``.
Every (suite, test, principal, resource, action) row of the suites found under
those directories is one item, named ``<test> / <principal> / <resource> / <action>``,
so ``-k`` and ``-x`` work. A failing item shows the expected and actual effect and
the engine's explanation of the decision.

Fixtures: ``warden_engine`` (the engine of the first configured directory),
``assert_allowed`` / ``assert_denied`` (bound to it; see :mod:`warden.testing.explain`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

from warden.testing import explain as _explain
from warden.testing import loader as _loader
from warden.testing import rego_tests as _rego_tests
from warden.testing import runner as _runner
from warden.testing.formatters import render_value

_INI = "warden_policy_dirs"
_STATE_KEY = pytest.StashKey["_WardenState"]()


class _WardenState:
    """Per-session state: configured policy directories and their engines (built once)."""

    def __init__(self, dirs: List[Path]):
        self.dirs = dirs
        self.pools: Dict[Path, _runner.EnginePool] = {}
        self.compile_errors: Dict[Path, BaseException] = {}
        self.fixtures = _runner.FixtureCache()

    def policy_dir_of(self, path: Path) -> Optional[Path]:
        """The deepest configured directory that contains ``path``."""
        best = None
        for d in self.dirs:
            try:
                path.resolve().relative_to(d)
            except ValueError:
                continue
            if best is None or len(d.parts) > len(best.parts):
                best = d
        return best

    def pool(self, policy_dir: Path) -> _runner.EnginePool:
        """The engine pool of a policy directory; raises the ``PolicyError`` if the policies do not compile."""
        if policy_dir in self.compile_errors:
            raise self.compile_errors[policy_dir]
        if policy_dir not in self.pools:
            from warden._core import Engine

            try:
                engine = Engine.from_directory(str(policy_dir))
            except Exception as exc:
                self.compile_errors[policy_dir] = exc
                raise
            self.pools[policy_dir] = _runner.EnginePool(str(policy_dir), engine=engine)
        return self.pools[policy_dir]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("warden", "warden policy tests")
    group.addoption(
        "--warden-policies",
        action="append",
        default=[],
        metavar="DIR",
        dest="warden_policies",
        help="policy directory whose Cerbos test suites (*_test.yaml) run as tests (repeatable)",
    )
    parser.addini(
        _INI, type="paths", default=[], help="policy directories whose Cerbos test suites (*_test.yaml) run as tests"
    )


def pytest_configure(config: pytest.Config) -> None:
    cli_dirs = [Path(d).resolve() for d in config.getoption("warden_policies") or []]
    ini_dirs = [Path(p).resolve() for p in config.getini(_INI)]
    dirs = list(dict.fromkeys(cli_dirs + ini_dirs))
    config.stash[_STATE_KEY] = _WardenState(dirs)
    # Policy directories are collected even when they are outside the test paths, unless the
    # command line names specific tests (then only --warden-policies directories are added).
    explicit_args = getattr(config, "args_source", None) == pytest.Config.ArgsSource.ARGS
    extra = cli_dirs if explicit_args else dirs
    for d in extra:
        if not any(_is_within(d, Path(a.split("::")[0]).resolve()) for a in config.args):
            config.args.append(str(d))


def _is_within(path: Path, parent: Path) -> bool:
    try:
        path.relative_to(parent)
        return True
    except ValueError:
        return False


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Optional[pytest.File]:
    if _rego_tests.is_rego_test_file(file_path.name):
        rego_state: _WardenState = parent.config.stash[_STATE_KEY]
        rego_dir = rego_state.policy_dir_of(file_path)
        if rego_dir is None:
            return None
        return RegoTestFile.from_parent(parent, path=file_path, policy_dir=rego_dir)
    if not _loader.is_suite_file(file_path.name):
        return None
    state: _WardenState = parent.config.stash[_STATE_KEY]
    policy_dir = state.policy_dir_of(file_path)
    if policy_dir is None or _loader.FIXTURE_DIR in file_path.relative_to(policy_dir).parts[:-1]:
        return None
    return PolicySuiteFile.from_parent(parent, path=file_path, policy_dir=policy_dir)


class PolicySuiteFile(pytest.File):
    """One Cerbos test suite file; its items are the suite's (test, principal, resource, action) rows."""

    def __init__(self, *, policy_dir: Path, **kwargs: Any):
        super().__init__(**kwargs)
        self.policy_dir = policy_dir
        self._results: Dict[Tuple[str, str, str], Dict[str, Dict[str, Any]]] = {}

    def collect(self) -> Iterator[pytest.Item]:
        state: _WardenState = self.config.stash[_STATE_KEY]
        rel = os.path.relpath(self.path, self.policy_dir)
        loaded = _runner.load_suite(str(self.policy_dir), rel, state.fixtures)
        if loaded.error is not None:
            yield PolicySuiteProblem.from_parent(self, name="<suite>", problem=_runner.located_error(loaded))
            return
        if loaded.skip_reason is not None:
            yield PolicySuiteProblem.from_parent(
                self, name="<suite>", problem=None, skip_reason=loaded.skip_reason or "suite has skip: true"
            )
            return
        for test in loaded.tests:
            for action in test.actions:
                name = f"{test.table_name} / {test.principal_key} / {test.resource_key} / {action}"
                yield PolicyTestItem.from_parent(self, name=name, test=test, action=action)

    def results_for(self, test: _runner.PolicyTest) -> Dict[str, Dict[str, Any]]:
        """Results of all of a test's actions: one engine call per (test, principal, resource), as Cerbos."""
        key = (test.table_name, test.principal_key, test.resource_key)
        if key not in self._results:
            pool = self.config.stash[_STATE_KEY].pool(self.policy_dir)
            self._results[key] = _runner.run_test(pool, test)
        return self._results[key]


class RegoTestFile(pytest.File):
    """A ``*_test.rego`` file: each ``test_*`` rule is one item, as ``opa test`` runs them."""

    def __init__(self, *, policy_dir: Path, **kwargs: Any):
        super().__init__(**kwargs)
        self.policy_dir = policy_dir
        self._rego: Any = None

    def rego(self) -> Any:
        if self._rego is None:
            self._rego = _rego_tests.load_for_tests(self.policy_dir)
        return self._rego

    def collect(self) -> Iterator[pytest.Item]:
        try:
            package, rules = _rego_tests.find_test_rules(self.path.read_text())
        except ValueError as exc:
            raise self.CollectError(f"{self.path}: {exc}") from None
        for rule in rules:
            yield RegoTestItem.from_parent(self, name=rule, package=package)


class RegoTestItem(pytest.Item):
    """One ``test_*`` rule: passes when it evaluates to true."""

    def __init__(self, *, package: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.package = package

    def runtest(self) -> None:
        parent: Any = self.parent  # the RegoTestFile that collected this item
        passed, got = _rego_tests.run_rule(parent.rego(), self.package, self.name)
        if not passed:
            raise PolicyTestFailure(f"data.{self.package}.{self.name} is {got}, not true")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, PolicyTestFailure):
            return str(excinfo.value)
        return str(excinfo.value) if excinfo.errisinstance(Exception) else super().repr_failure(excinfo)

    def reportinfo(self) -> Tuple[Path, Optional[int], str]:
        return self.path, None, f"data.{self.package}.{self.name}"


class PolicyTestFailure(Exception):
    """A policy test row did not pass; the text is what the failure report shows."""


class PolicySuiteProblem(pytest.Item):
    """Stands for a suite that cannot run (it errors with Cerbos's message) or is skipped as a whole."""

    def __init__(self, *, problem: Optional[str], skip_reason: Optional[str] = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.problem = problem
        self.skip_reason = skip_reason

    def runtest(self) -> None:
        if self.skip_reason is not None:
            pytest.skip(self.skip_reason)
        raise PolicyTestFailure(f"the test suite {self.path} cannot run:\n{self.problem}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, PolicyTestFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> Tuple[Any, Optional[int], str]:
        return self.path, 0, f"{self.path.name}: suite"


def _policy_errors_text(policy_dir: Path, exc: BaseException) -> str:
    errors = getattr(exc, "errors", None) or []
    lines = [f"policies in {policy_dir} do not compile:"]
    if not errors:
        lines.append(f"  {exc}")
    for err in errors:
        path = os.path.join(str(policy_dir), err.get("file", ""))
        lines.append(f"  {path}:{err.get('line')}:{err.get('column')}: {err.get('message')}")
    return "\n".join(lines)


class PolicyTestItem(pytest.Item):
    """One (test, principal, resource, action) row of a Cerbos test suite."""

    def __init__(self, *, test: _runner.PolicyTest, action: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.test = test
        self.action = action

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, PolicySuiteFile)
        selection = _runner.TestSelection()
        reason = selection.skip_reason(self.test)
        if reason is not None:
            pytest.skip(reason or "test has skip: true")
        try:
            details = parent.results_for(self.test)[self.action]
        except Exception as exc:
            if hasattr(exc, "errors"):
                raise PolicyTestFailure(_policy_errors_text(parent.policy_dir, exc)) from None
            raise
        result = details.get("result")
        if result == "RESULT_PASSED":
            return
        raise PolicyTestFailure(self._failure_text(parent, details))

    def _failure_text(self, parent: PolicySuiteFile, details: Dict[str, Any]) -> str:
        t = self.test
        lines = [
            f"{t.suite_name} / {t.table_name}: principal {t.principal_key!r} on resource {t.resource_key!r}, "
            f"action {self.action!r}"
        ]
        if details.get("result") == "RESULT_ERRORED":
            lines.append(f"  error: {details.get('error')}")
            return "\n".join(lines)
        failure = details.get("failure", {})
        lines.append(f"  expected: {failure.get('expected')}")
        lines.append(f"  actual:   {failure.get('actual')}")
        for o in failure.get("outputs", []):
            if "missing" in o:
                lines.append(
                    f"  output {o['src']}: expected {render_value(o['missing'].get('expected'))}, "
                    "but the rule produced no such output"
                )
            elif "errored" in o:
                lines.append(
                    f"  output {o['src']}: expected {render_value(o['errored'].get('expected'))}, "
                    f"evaluation failed: {o['errored'].get('error')}"
                )
            elif "mismatched" in o:
                lines.append(
                    f"  output {o['src']}: expected {render_value(o['mismatched'].get('expected'))}, "
                    f"got {render_value(o['mismatched'].get('actual'))}"
                )
        try:
            pool = self.config.stash[_STATE_KEY].pool(parent.policy_dir)
            engine = pool.engine_for(t.options)
            now = t.options.get("now") or _runner.ZERO_TIME
            explanation = engine.explain(_runner.check_input(t, [self.action]), now=now)
            lines.append("explanation:")
            lines.extend("  " + line for line in _explain.format_explanation(explanation, self.action).splitlines())
        except Exception as exc:  # the failure itself matters more than its explanation
            lines.append(f"(no explanation: {exc})")
        return "\n".join(lines)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, PolicyTestFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> Tuple[Any, Optional[int], str]:
        return self.path, max(self.test.line - 1, 0), f"{self.path.name}: {self.name}"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def warden_engine(pytestconfig: pytest.Config) -> Any:
    """The engine of the first configured policy directory (``warden_policy_dirs`` / ``--warden-policies``)."""
    state: _WardenState = pytestconfig.stash[_STATE_KEY]
    if not state.dirs:
        pytest.fail(
            "warden_engine needs a policy directory: set warden_policy_dirs in the pytest configuration "
            "or pass --warden-policies DIR",
            pytrace=False,
        )
    try:
        pool = state.pool(state.dirs[0])
    except Exception as exc:
        if hasattr(exc, "errors"):
            pytest.fail(_policy_errors_text(state.dirs[0], exc), pytrace=False)
        raise
    return pool.engine_for({})


@pytest.fixture
def assert_allowed(warden_engine: Any) -> Callable[..., None]:
    """``assert_allowed(principal, resource, action_or_actions, *, aux_data=None, now=None)`` on ``warden_engine``."""

    def check(principal: Any, resource: Any, actions: Any, **kwargs: Any) -> None:
        __tracebackhide__ = True
        _explain.assert_allowed(warden_engine, principal, resource, actions, **kwargs)

    return check


@pytest.fixture
def assert_denied(warden_engine: Any) -> Callable[..., None]:
    """``assert_denied(principal, resource, action_or_actions, *, aux_data=None, now=None)`` on ``warden_engine``."""

    def check(principal: Any, resource: Any, actions: Any, **kwargs: Any) -> None:
        __tracebackhide__ = True
        _explain.assert_denied(warden_engine, principal, resource, actions, **kwargs)

    return check

"""Cerbos policy test suites for warden: loading, running, reporting, and explaining decisions.

* :func:`run_suites` runs every ``*_test.yaml`` under a directory and returns Cerbos's
  ``TestResults`` JSON shape; :mod:`warden.testing.formatters` prints it.
* :func:`format_explanation` renders ``Engine.explain(...)`` as text;
  :func:`assert_allowed` / :func:`assert_denied` fail with that explanation.
"""

from warden.testing.runner import (
    EnginePool,
    LoadedSuite,
    PolicyTest,
    SuiteError,
    TestSelection,
    expand_table,
    load_suite,
    run_loaded_suite,
    run_suites,
    run_test,
)

__all__ = [
    "EnginePool",
    "LoadedSuite",
    "PolicyTest",
    "SuiteError",
    "TestSelection",
    "expand_table",
    "load_suite",
    "run_loaded_suite",
    "run_suites",
    "run_test",
]

"""The ``warden`` command line (also ``python -m warden``).

``warden --version``
    Print the installed version.

``warden compile DIR``
    Load and compile the policies of ``DIR`` (every problem as ``file:line:col: message``),
    then run the Cerbos test suites (``*_test.yaml``) under ``DIR`` (or ``--tests DIR``),
    like ``cerbos compile``. ``--output pretty|json|junit``: ``json`` is Cerbos's
    ``TestResults`` JSON and ``junit`` Cerbos's JUnit XML. ``--run REGEX`` selects tests
    (others are reported skipped). Exit status 0 only when the policies compile and
    no test fails or errors.

``warden check --policies DIR [FILE]``
    Answer a Cerbos ``CheckResourcesRequest`` (JSON or YAML, from ``FILE`` or stdin) and
    print the ``CheckResourcesResponse`` JSON. ``--explain`` adds the explanation of each
    decision (as text, on stderr); the explanation does not see the request's ``auxData``
    (JWTs are verified by the PDP path only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, Optional, Sequence


def _parser() -> argparse.ArgumentParser:
    from warden import __version__

    parser = argparse.ArgumentParser(prog="warden", description="warden policy tools")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    compile_cmd = commands.add_parser(
        "compile",
        help="compile a policy directory, report every error, then run its test suites",
        description="Load and compile the policies of DIR, then run the Cerbos test suites (*_test.yaml) found "
        "under DIR (or --tests). Exit status 0 only when everything compiles and passes.",
    )
    compile_cmd.add_argument("directory", metavar="DIR", help="policy directory (loaded like Cerbos's disk store)")
    compile_cmd.add_argument("--tests", metavar="DIR", help="directory of test suites (default: DIR)")
    compile_cmd.add_argument(
        "--run", metavar="REGEX", help="run only tests whose 'suite/test name' matches REGEX (others are skipped)"
    )
    compile_cmd.add_argument(
        "--output",
        "-o",
        choices=["pretty", "json", "junit"],
        default="pretty",
        help="test report format: pretty (default), json (Cerbos TestResults), junit",
    )
    compile_cmd.add_argument("--skip-tests", action="store_true", help="only compile, do not run test suites")
    compile_cmd.add_argument("--verbose", "-v", action="store_true", help="list passing and skipped tests too")
    compile_cmd.add_argument(
        "--no-explain", action="store_true", help="do not explain failing decisions in the pretty report"
    )

    check_cmd = commands.add_parser(
        "check", help="answer a Cerbos CheckResources request (JSON or YAML) with the policies of a directory"
    )
    check_cmd.add_argument("--policies", metavar="DIR", required=True, help="policy directory")
    check_cmd.add_argument(
        "request", metavar="FILE", nargs="?", default="-", help="CheckResourcesRequest as JSON or YAML (default: stdin)"
    )
    check_cmd.add_argument("--now", metavar="RFC3339", help="the time now() returns (default: the current time)")
    check_cmd.add_argument("--explain", action="store_true", help="explain each decision on stderr")
    return parser


def _path(directory: str, file: str) -> str:
    """The error's file as a path from the current directory, when it is one inside ``directory``."""
    joined = os.path.join(directory, file)
    return joined if not os.path.isabs(file) and os.path.isfile(joined) else file


def _load_engine(directory: str) -> Any:
    """The engine of ``directory``, or None after printing every policy error to stderr."""
    from warden._core import Engine, PolicyError

    try:
        return Engine.from_directory(directory)
    except PolicyError as exc:
        errors = getattr(exc, "errors", None) or []
        if not errors:
            print(str(exc), file=sys.stderr)
        for err in errors:
            print(f"{_path(directory, err['file'])}:{err['line']}:{err['column']}: {err['message']}", file=sys.stderr)
        count = max(len(errors), 1)
        print(f"{directory}: {count} error{'s' if count != 1 else ''}", file=sys.stderr)
        return None
    except OSError as exc:
        print(f"{directory}: {exc.strerror or exc}", file=sys.stderr)
        return None


def _explainer(pool: Any, loaded_by_file: Dict[str, Any]) -> Any:
    """A callback for the pretty report: the explanation of one failing (test, principal, resource, action)."""
    from warden.testing import runner
    from warden.testing.explain import format_explanation

    def explain(suite: Dict[str, Any], case: str, principal: str, resource_and_action: str) -> str:
        resource, action = resource_and_action.split("\0", 1)
        loaded = loaded_by_file.get(suite.get("file", ""))
        if loaded is None:
            return ""
        for test in loaded.tests:
            if (test.table_name, test.principal_key, test.resource_key) == (case, principal, resource):
                engine = pool.engine_for(test.options)
                now = test.options.get("now") or runner.ZERO_TIME
                return "explanation:\n" + format_explanation(
                    engine.explain(runner.check_input(test, [action]), now=now), action
                )
        return ""

    return explain


def _compile(args: argparse.Namespace) -> int:
    from warden.testing import formatters, loader, runner

    directory = args.directory
    engine = _load_engine(directory)
    if engine is None:
        return 1
    if args.skip_tests:
        print(f"{directory}: ok")
        return 0
    tests_dir = args.tests or directory
    files, _ = loader.discover(tests_dir)
    if args.output == "pretty":
        print(f"{directory}: ok" + ("" if files else f" (no test suites under {tests_dir})"))
    if not files:
        if args.output == "json":
            print(formatters.format_json({"suites": [], "summary": {}}))
        elif args.output == "junit":
            print(formatters.format_junit({"suites": [], "summary": {}}))
        return 0
    pool = runner.EnginePool(directory, engine=engine)
    selection = runner.TestSelection(run_regexp=args.run)
    cache = runner.FixtureCache()
    loaded_by_file = {f: runner.load_suite(tests_dir, f, cache) for f in files}
    results: Dict[str, Any] = {"suites": [], "summary": {}}
    for f in files:
        runner.merge_suite_result(results, runner.run_loaded_suite(pool, loaded_by_file[f], selection))
    if args.output == "json":
        print(formatters.format_json(results))
    elif args.output == "junit":
        print(formatters.format_junit(results))
    else:
        explain = None if args.no_explain else _explainer(pool, loaded_by_file)
        located = {f: runner.located_error(s) for f, s in loaded_by_file.items() if s.error is not None}
        print(formatters.format_pretty(results, verbose=args.verbose, explain=explain, located_errors=located))
    overall = results["summary"].get("overallResult")
    return 1 if overall in ("RESULT_FAILED", "RESULT_ERRORED") else 0


def _read_request(source: str) -> Any:
    import yaml

    text = sys.stdin.read() if source == "-" else open(source, encoding="utf-8").read()
    try:
        return json.loads(text)
    except ValueError:
        return yaml.safe_load(text)


def _check(args: argparse.Namespace) -> int:
    engine = _load_engine(args.policies)
    if engine is None:
        return 1
    where = "stdin" if args.request == "-" else args.request
    try:
        request = _read_request(args.request)
    except OSError as exc:
        print(f"{where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # YAML syntax errors carry their own line/column
        print(f"{where}: not JSON or YAML: {exc}", file=sys.stderr)
        return 1
    if not isinstance(request, dict):
        print(f"{where}: expected a CheckResourcesRequest object", file=sys.stderr)
        return 1
    try:
        response = engine.check_resources_json(request, now=args.now)
    except (ValueError, TypeError) as exc:
        print(f"{where}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(response, indent=2, ensure_ascii=False, default=str))
    if args.explain:
        from warden.testing.explain import format_explanation

        for item in request.get("resources", []):
            inp = {
                "principal": request.get("principal"),
                "resource": item.get("resource"),
                "actions": item.get("actions", []),
            }
            res = item.get("resource") or {}
            print(f"--- {res.get('kind')} {res.get('id')}", file=sys.stderr)
            print(format_explanation(engine.explain(inp, now=args.now)), file=sys.stderr)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the ``warden`` command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "compile":
            return _compile(args)
        if args.command == "check":
            return _check(args)
    except BrokenPipeError:  # e.g. `warden compile DIR | head`: stop quietly
        sys.stdout = open(os.devnull, "w")
        return 1
    return 2  # unreachable: argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())

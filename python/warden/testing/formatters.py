"""Printing Cerbos ``TestResults`` dicts: ``pretty`` (for people), ``json`` (Cerbos's shape), ``junit`` (Cerbos's XML)."""

from __future__ import annotations

import json
import math
from typing import Any, Callable, Dict, List, Optional

RESULT_WORDS = {
    "RESULT_PASSED": "passed",
    "RESULT_FAILED": "failed",
    "RESULT_ERRORED": "errored",
    "RESULT_SKIPPED": "skipped",
}


def format_json(results: Dict[str, Any]) -> str:
    """Cerbos's ``TestResults`` JSON (``cerbos compile --output=json``), indented."""
    return json.dumps(results, indent=2, ensure_ascii=False)


def render_value(value: Any) -> str:
    """A ``google.protobuf.Value`` as compact protojson (``null``, ``1``, ``1.5``, ``{"a":"b"}``)."""

    def norm(v: Any) -> Any:
        if isinstance(v, float) and math.isfinite(v) and v.is_integer() and abs(v) < 1e21:
            return int(v)
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        if isinstance(v, list):
            return [norm(x) for x in v]
        return v

    return json.dumps(norm(value), separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _tally_text(summary: Dict[str, Any]) -> str:
    counts = {t["result"]: t["count"] for t in summary.get("resultCounts", [])}
    return ", ".join(f"{counts.get(r, 0)} {w}" for r, w in RESULT_WORDS.items())


def _failure_lines(details: Dict[str, Any]) -> List[str]:
    if "failure" in details:
        f = details["failure"]
        lines = [f"expected {f.get('expected')}, got {f.get('actual')}"]
        for o in f.get("outputs", []):
            if "missing" in o:
                lines.append(
                    f"output {o['src']}: expected {render_value(o['missing'].get('expected'))}, "
                    "but the rule produced no such output"
                )
            elif "errored" in o:
                lines.append(
                    f"output {o['src']}: expected {render_value(o['errored'].get('expected'))}, "
                    f"evaluation failed: {o['errored'].get('error')}"
                )
            elif "mismatched" in o:
                lines.append(
                    f"output {o['src']}: expected {render_value(o['mismatched'].get('expected'))}, "
                    f"got {render_value(o['mismatched'].get('actual'))}"
                )
        return lines
    if "error" in details:
        return [f"error: {details['error']}"]
    return []


def format_pretty(
    results: Dict[str, Any],
    *,
    verbose: bool = False,
    explain: Optional[Callable[[Dict[str, Any], str, str, str], str]] = None,
    located_errors: Optional[Dict[str, str]] = None,
) -> str:
    """A ``cerbos compile``-like report: per suite the counts, then each failure with what was expected.

    ``explain(suite, test_case_name, principal, resource_and_action)`` may add an
    explanation of the decision under each failure (the CLI passes one built on ``Engine.explain``).
    ``located_errors`` (by suite file) replaces a suite's error text, e.g. with ``file:line:col:`` positions.
    """
    out: List[str] = []
    for suite in results.get("suites", []):
        summary = suite.get("summary", {})
        overall = summary.get("overallResult", "RESULT_UNSPECIFIED")
        head = f"{suite.get('file')} ({suite.get('name')}): {RESULT_WORDS.get(overall, overall).upper()}"
        if suite.get("error"):
            out.append(head)
            text = (located_errors or {}).get(suite.get("file", "")) or suite["error"]
            out.extend("    " + line for line in text.splitlines())
            continue
        if overall == "RESULT_SKIPPED" and not suite.get("testCases"):
            reason = suite.get("skipReason")
            out.append(head + (f": {reason}" if reason else ""))
            continue
        out.append(f"{head}  [{_tally_text(summary)}]")
        for case in suite.get("testCases", []):
            for principal in case.get("principals", []):
                for resource in principal.get("resources", []):
                    for action in resource.get("actions", []):
                        details = action.get("details", {})
                        result = details.get("result")
                        label = f"{case['name']} / {principal['name']} / {resource['name']} / {action['name']}"
                        if result in ("RESULT_FAILED", "RESULT_ERRORED"):
                            out.append(f"  {RESULT_WORDS[result].upper()}  {label}")
                            out.extend("      " + line for line in _failure_lines(details))
                            if explain is not None and result == "RESULT_FAILED":
                                text = explain(
                                    suite, case["name"], principal["name"], f"{resource['name']}\0{action['name']}"
                                )
                                if text:
                                    out.extend("      " + line for line in text.splitlines())
                        elif verbose:
                            reason = details.get("skipReason")
                            word = RESULT_WORDS.get(result, result)
                            out.append(f"  {word:<7} {label}" + (f" ({reason})" if reason else ""))
    summary = results.get("summary", {})
    overall = summary.get("overallResult", "RESULT_UNSPECIFIED")
    suites = len(results.get("suites", []))
    out.append(
        f"{suites} suite{'s' if suites != 1 else ''}, {summary.get('testsCount', 0)} tests: "
        f"{_tally_text(summary)} => {RESULT_WORDS.get(overall, 'no tests').upper()}"
    )
    return "\n".join(out)


# --------------------------------------------------------------------------- JUnit (Cerbos's internal/verify/junit)

_SKIP_TEST_CASE = "This test was skipped"
_SKIP_SUITE = "This test suite was skipped"
_OUTPUT_ERROR_PREFIX = "Failed to evaluate output expression: "


def _esc(text: str) -> str:
    """Go's ``xml.EscapeText``."""
    table = {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&#34;",
        "'": "&#39;",
        "\t": "&#x9;",
        "\n": "&#xA;",
        "\r": "&#xD;",
    }
    return "".join(table.get(c, c) for c in text)


def _cdata(text: str) -> str:
    return "" if not text else "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def format_junit(results: Dict[str, Any], *, verbose: bool = True) -> str:
    """JUnit XML exactly as Cerbos's ``junit.Build`` + ``xml.MarshalIndent(.., "", "  ")`` writes it."""
    lines: List[str] = []
    error_count = skipped_count = failure_count = 0
    suites_xml: List[List[str]] = []
    for s in results.get("suites", []):
        summary = s.get("summary", {})
        overall = summary.get("overallResult")
        errors = failures = skipped = 0
        body: List[str] = []
        if overall == "RESULT_ERRORED":
            body.append(f'    <error type="RESULT_ERRORED">{_esc(s.get("error", ""))}</error>')
            errors += 1
            error_count += 1
        elif overall == "RESULT_SKIPPED":
            if verbose:
                body.append(f'    <skipped message="{_SKIP_SUITE}"></skipped>')
            skipped += 1
            skipped_count += 1
        body.append("    <properties></properties>")
        if overall in ("RESULT_PASSED", "RESULT_FAILED"):
            for tc in s.get("testCases", []):
                for p in tc.get("principals", []):
                    for r in p.get("resources", []):
                        for a in r.get("actions", []):
                            d = a.get("details", {})
                            body.append(
                                f'    <testcase file="{_esc(s.get("file", ""))}" '
                                f'classname="{_esc(p["name"] + "." + r["name"] + "." + a["name"])}" '
                                f'name="{_esc(tc["name"])}">'
                            )
                            result = d.get("result")
                            if result == "RESULT_ERRORED":
                                body.append(f'      <error type="RESULT_ERRORED">{_esc(d.get("error", ""))}</error>')
                                errors += 1
                            elif result == "RESULT_FAILED":
                                f = d.get("failure")
                                if f is not None:
                                    outs = f.get("outputs") or []
                                    msg = "Output expectation unsatisfied" if outs else "Effect expectation unsatisfied"
                                    body.append(f'      <failure type="RESULT_FAILED" message="{msg}">')
                                    if outs:
                                        body.append("        <outputs>")
                                        for o in outs:
                                            if "errored" in o:
                                                exp = render_value(o["errored"].get("expected"))
                                                act = _OUTPUT_ERROR_PREFIX + o["errored"].get("error", "")
                                            elif "mismatched" in o:
                                                exp = render_value(o["mismatched"].get("expected"))
                                                act = render_value(o["mismatched"].get("actual"))
                                            elif "missing" in o:
                                                exp, act = render_value(o["missing"].get("expected")), ""
                                            else:
                                                exp = act = ""
                                            body.extend(_output_xml(o["src"], exp, act))
                                        body.append("        </outputs>")
                                    body.append(f"        <actual>{_esc(f.get('actual', ''))}</actual>")
                                    body.append(f"        <expected>{_esc(f.get('expected', ''))}</expected>")
                                    body.append("      </failure>")
                                failures += 1
                            elif result == "RESULT_PASSED":
                                sc = d.get("success")
                                if sc is not None:
                                    body.append('      <success type="RESULT_PASSED">')
                                    outs = sc.get("outputs") or []
                                    if outs:
                                        body.append("        <outputs>")
                                        for o in outs:
                                            exp = render_value(o.get("val"))
                                            act = _OUTPUT_ERROR_PREFIX + o["error"] if o.get("error") else exp
                                            body.extend(_output_xml(o.get("src", ""), exp, act))
                                        body.append("        </outputs>")
                                    body.append(f"        <actual>{_esc(sc.get('effect', ''))}</actual>")
                                    body.append(f"        <expected>{_esc(sc.get('effect', ''))}</expected>")
                                    body.append("      </success>")
                            elif result == "RESULT_SKIPPED":
                                skipped += 1
                                body.insert(len(body), f'      <skipped message="{_SKIP_TEST_CASE}"></skipped>')
                            body.append("      <properties>")
                            for name, value in (
                                ("principal", p["name"]),
                                ("resource", r["name"]),
                                ("action", a["name"]),
                            ):
                                body.append(f'        <property name="{name}">{_esc(value)}</property>')
                            body.append("      </properties>")
                            body.append("    </testcase>")
        desc = f'description="{_esc(s["description"])}" ' if s.get("description") else ""
        head = (
            f'  <testsuite {desc}name="{_esc(s.get("name", ""))}" file="{_esc(s.get("file", ""))}" '
            f'errors="{errors}" failures="{failures}" skipped="{skipped}" tests="{summary.get("testsCount", 0)}">'
        )
        suites_xml.append([head] + body + ["  </testsuite>"])
    for t in results.get("summary", {}).get("resultCounts", []):
        if t["result"] == "RESULT_ERRORED":
            error_count += t["count"]
        elif t["result"] == "RESULT_FAILED":
            failure_count = t["count"]
        elif t["result"] == "RESULT_SKIPPED":
            skipped_count += t["count"]
    tests = results.get("summary", {}).get("testsCount", 0)
    lines.append(
        f'<testsuites errors="{error_count}" failures="{failure_count}" skipped="{skipped_count}" tests="{tests}">'
    )
    for block in suites_xml:
        lines.extend(block)
    lines.append("</testsuites>")
    return "\n".join(lines)


def _output_xml(src: str, expected: str, actual: str) -> List[str]:
    return [
        f'          <output src="{_esc(src)}">',
        f"            <expected>{_cdata(expected)}</expected>",
        f"            <actual>{_cdata(actual)}</actual>",
        "          </output>",
    ]

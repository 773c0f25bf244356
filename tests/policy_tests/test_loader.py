"""Suite and fixture loading: discovery rules and errors that name the file position and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from warden.testing.loader import SuiteFormatError, discover, load_suite_document
from warden.testing.runner import load_suite, located_error


def test_discovery_skips_testdata_and_matches_suffixes_case_insensitively(tmp_path: Path) -> None:
    for name in [
        "a_test.yaml",
        "sub/b_TEST.yml",
        "sub/c_test.json",
        "testdata/d_test.yaml",
        "e.yaml",
        "sub/testdata/f_test.yaml",
    ]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    suites, fixture_dirs = discover(str(tmp_path))
    assert suites == ["a_test.yaml", "sub/b_TEST.yml", "sub/c_test.json"]
    assert fixture_dirs == ["sub/testdata", "testdata"]


def _problems(tmp_path: Path, text: str) -> list:
    path = tmp_path / "s_test.yaml"
    path.write_text(text)
    with pytest.raises(SuiteFormatError) as info:
        load_suite_document(str(path))
    return [str(p) for p in info.value.problems]


def test_reading_stops_at_the_first_unknown_field(tmp_path: Path) -> None:
    # Cerbos's parser returns at the first field it does not know; validation does not run then
    assert _problems(tmp_path, "name: S\ntestz: []\nother: 1\n") == ['2:1 unknown field "testz"']


def test_yaml_syntax_error_has_a_position(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, "name: S\ntests: [\n")
    assert problem.startswith("3:1 invalid document:")


def test_json_suite_and_snake_case_fields(tmp_path: Path) -> None:
    suite = {
        "name": "J",
        "tests": [
            {
                "name": "t",
                "input": {"principals": ["p"], "resources": ["r"], "actions": ["a"], "aux_data": "x"},
                "expected": [{"principal": "p", "resource": "r", "actions": {"a": "EFFECT_DENY"}}],
            }
        ],
    }
    path = tmp_path / "j_test.json"
    path.write_text(json.dumps(suite))
    doc = load_suite_document(str(path))
    assert doc["tests"][0]["input"]["auxData"] == "x"


def test_located_error_points_at_the_fixture_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "testdata").mkdir()
    (tmp_path / "testdata" / "resources.yaml").write_text("resources:\n  r:\n    kind: k\n    idd: 1\n")
    (tmp_path / "s_test.yaml").write_text(
        "name: S\ntests: [{name: t, input: {principals: [p], resources: [r], actions: [a]},\n"
        "  expected: [{principal: p, resource: r, actions: {a: EFFECT_DENY}}]}]\n"
    )
    loaded = load_suite(str(tmp_path), "s_test.yaml")
    assert (
        loaded.error == 'failed to load test fixtures from testdata: failed to load resources:\n4:5 unknown field "idd"'
    )
    assert located_error(loaded).splitlines()[-1] == 'testdata/resources.yaml:4:5: unknown field "idd"'

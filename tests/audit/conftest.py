"""A small policy set for the decision-log tests: `doc` resources, `user` may read, not write."""

from __future__ import annotations

import pytest

# the web tests' identity provider and keys, for test_web.py
from tests.web.conftest import idp, stranger_key, web_key  # noqa: F401

POLICY = """
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  rules:
    - actions: [read]
      roles: [user]
      effect: EFFECT_ALLOW
"""

PRINCIPAL = {"id": "alice", "roles": ["user"], "attr": {"ssn": "123-45-6789", "team": "blue"}}
DOC = {"kind": "doc", "id": "d1", "attr": {"owner": "alice"}}


@pytest.fixture
def policies(tmp_path):
    d = tmp_path / "policies"
    d.mkdir()
    (d / "doc.yaml").write_text(POLICY)
    return d

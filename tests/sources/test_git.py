"""GitSource against a repository served by `git daemon` on 127.0.0.1, with commits pushed during the tests."""

from __future__ import annotations

import logging
import shutil

import pytest
from warden import PolicyError
from warden.sources import GitSource, PolicySourceError

from .servers import GitServer, effect, policy, wait_until

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="the git command is not installed")


@pytest.fixture
def server(tmp_path):
    s = GitServer(tmp_path).start()
    yield s
    s.stop()


def test_serves_the_branch_and_swaps_in_each_new_commit(server, tmp_path):
    first = server.commit({"doc.yaml": policy("EFFECT_ALLOW")})
    with GitSource(server.url, ref="main", poll_interval=None, cache_dir=tmp_path / "cache") as source:
        assert (source.version, source.engine.policy_version, effect(source.engine)) == (first, first, "EFFECT_ALLOW")
        assert source.poll() == "unchanged"

        second = server.commit({"doc.yaml": policy("EFFECT_DENY")})
        assert source.poll() == "updated"
        assert (source.version, effect(source.engine)) == (second, "EFFECT_DENY")
        assert source.status()["last_error"] is None


def test_a_broken_commit_is_logged_and_the_last_good_one_keeps_serving(server, caplog):
    good = server.commit({"doc.yaml": policy("EFFECT_ALLOW")})
    with GitSource(server.url, poll_interval=None) as source:
        server.commit({"doc.yaml": policy("EFFECT_MAYBE")}, "broken")
        with caplog.at_level(logging.ERROR, logger="warden.sources"):
            assert source.poll() == "failed"
        assert (source.version, effect(source.engine)) == (good, "EFFECT_ALLOW")
        assert "doc.yaml:8" in source.last_error
        assert f"keeping policy version {good}" in caplog.text
        # Still broken on the next poll: still failing, still serving the good commit.
        assert source.poll() == "failed"
        assert source.version == good

        fixed = server.commit({"doc.yaml": policy("EFFECT_DENY")}, "fixed")
        assert source.poll() == "updated"
        assert (source.version, effect(source.engine), source.last_error) == (fixed, "EFFECT_DENY", None)


def test_a_tag_and_a_subdirectory(server):
    server.commit({"policies/doc.yaml": policy("EFFECT_ALLOW"), "README.md": "not a policy"})
    server.tag("v1")
    tagged = server.commit({"policies/doc.yaml": policy("EFFECT_DENY")})
    with GitSource(server.url, ref="v1", path="policies", poll_interval=None) as source:
        assert effect(source.engine) == "EFFECT_ALLOW"
        assert source.poll() == "unchanged", "main moved, the tag did not"
        server.tag("v1")
        assert source.poll() == "updated"
        assert (source.version, effect(source.engine)) == (tagged, "EFFECT_DENY")


def test_the_server_going_away_keeps_the_last_version(server):
    good = server.commit({"doc.yaml": policy("EFFECT_ALLOW")})
    with GitSource(server.url, poll_interval=None, timeout=10) as source:
        server.stop()
        assert source.poll() == "failed"
        assert "git fetch" in source.last_error
        assert (source.version, effect(source.engine)) == (good, "EFFECT_ALLOW")


def test_the_first_fetch_must_succeed(server, tmp_path):
    server.commit({"doc.yaml": policy("EFFECT_MAYBE")})
    with pytest.raises(PolicyError):
        GitSource(server.url, poll_interval=None, cache_dir=tmp_path / "cache")
    with pytest.raises(PolicySourceError, match="git fetch"):
        GitSource(server.url, ref="no-such-branch", poll_interval=None)
    with pytest.raises(ValueError, match="ref"):
        GitSource(server.url, ref="--upload-pack=touch /tmp/x", poll_interval=None)


def test_the_polling_thread_picks_up_commits_and_stops_on_close(server):
    server.commit({"doc.yaml": policy("EFFECT_ALLOW")})
    source = GitSource(server.url, poll_interval=0.1)
    try:
        newer = server.commit({"doc.yaml": policy("EFFECT_DENY")})
        wait_until(lambda: source.version == newer, "the poll to pick up the commit", timeout=30)
        assert effect(source.engine) == "EFFECT_DENY"
    finally:
        source.close()
    assert source._thread is not None and not source._thread.is_alive()
    assert not source._cache.exists(), "the private cache is removed"
    assert effect(source.engine) == "EFFECT_DENY", "the engine keeps serving after close"


def test_decision_log_entries_name_the_repository_and_commit(server, tmp_path):
    first = server.commit({"doc.yaml": policy("EFFECT_ALLOW")})
    entries: list = []
    with GitSource(server.url, ref="main", poll_interval=None, audit=entries.append) as source:
        effect(source.engine)
        second = server.commit({"doc.yaml": policy("EFFECT_DENY")})
        assert source.poll() == "updated"
        effect(source.engine)
        source.engine.flush_audit()
    assert [e["policySource"] for e in entries] == [
        {"git": {"repositoryUrl": server.url, "branch": "main", "hash": first}},
        {"git": {"repositoryUrl": server.url, "branch": "main", "hash": second}},
    ]

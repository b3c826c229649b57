"""Reliability against a real git server on loopback (git daemon): pushes, refusals, outages."""

from __future__ import annotations

from conftest import run_cli
from conftest_daemon import DaemonRemote


def test_promotion_pushes_over_git_protocol(daemon_remote: DaemonRemote) -> None:
    r = daemon_remote
    assert r.url.startswith("git://127.0.0.1:")
    r.remote.commit("dev", {"apps/api/values.yaml": "image:\n  tag: '1.1.0'\n"}, "api 1.1.0")
    result = run_cli(r.clone.path, "promote", "dev", "stg", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["pushed"] is True
    assert r.remote.head("stg") == data["target_commit"]

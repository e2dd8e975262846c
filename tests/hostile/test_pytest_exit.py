"""A conformance run whose pytest did not run the checks is an error with the reason, never a complete run.

pytest's exit codes other than "checks ran" (0) and "checks failed" (1): 2 (interrupted, e.g. by
collection errors), 3 (internal error), 5 (nothing collected). The internal error here is a plugin
that crashes during collection (as the plugin's scan of sibling environment files once did on a
file that is not UTF-8), loaded through ``PYTEST_ADDOPTS``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow


def error_run(reports: Path) -> dict:
    meta = json.loads(((reports / "latest").resolve() / "run.json").read_text())
    assert meta["status"] == "error", meta
    return meta


def test_a_pytest_internal_error_makes_the_run_an_error_with_the_reason(hostile_env, target, reports, cli, tmp_path,
                                                                         monkeypatch):
    hostile_env(target.url)
    (tmp_path / "crashing_plugin.py").write_text(
        "def pytest_collection_modifyitems(items):\n"
        "    raise UnicodeDecodeError('utf-8', b'\\xff', 0, 1, 'invalid start byte')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p crashing_plugin")
    ran = cli("conformance", "hostile", "--suite", "goproxy", timeout=120)
    assert ran.returncode == 2, ran.stderr[-3000:]
    last = ran.stderr.strip().splitlines()[-1]
    assert last.startswith("gauntlet: error: conformance goproxy: pytest ended with exit code 3 (internal error)"), last
    assert "UnicodeDecodeError" in last and "the run is marked error" in last, last
    meta = error_run(reports)
    assert "exit code 3" in meta["errors"][0] and "exit code 3" in meta["unavailable"]["conformance:goproxy"]
    results = json.loads(((reports / "latest").resolve() / "results.json").read_text())
    protocol = next(c for c in results["claims"] if c["id"] == "athens-protocol")
    assert protocol["verdict"] == "not-checked" and any("exit code 3" in e for e in protocol["evidence"]), protocol
    path = hostile_env(target.url)
    data = yaml.safe_load(path.read_text())
    data["claims"], data["load_profiles"] = data["claims"][:1], {}  # the gate runs the suite alone
    path.write_text(yaml.safe_dump(data))
    gate = cli("gate", "hostile", "--json", timeout=120)
    assert gate.returncode == 3 and json.loads(gate.stdout)["status"] == "error", gate.stderr[-3000:]


def test_a_suite_that_collected_nothing_is_an_error_not_a_complete_run(write_env, env_data, reports, cli):
    env_data["claims"][0]["evidence"] = ["edge.https.*"]  # no check of the goproxy suite is evidence here
    write_env(env_data)
    ran = cli("conformance", "sample", "--suite", "goproxy", timeout=120)
    assert ran.returncode == 2, ran.stderr[-3000:]
    assert "pytest ended with exit code 5 (no check collected)" in ran.stderr.strip().splitlines()[-1]
    assert "exit code 5" in error_run(reports)["errors"][0]

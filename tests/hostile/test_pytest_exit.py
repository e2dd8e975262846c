"""A conformance run whose pytest did not run the checks is an error with the reason, never a complete run.

pytest's exit codes other than "checks ran" (0) and "checks failed" (1): 2 (interrupted, e.g. by
collection errors), 3 (internal error), 5 (nothing collected). The internal error here is a real
one: a file beside the environment that is not UTF-8 (the plugin's lenient scan of sibling files
does not survive it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def error_run(reports: Path) -> dict:
    meta = json.loads(((reports / "latest").resolve() / "run.json").read_text())
    assert meta["status"] == "error", meta
    return meta


def test_a_pytest_internal_error_makes_the_run_an_error_with_the_reason(hostile_env, target, env_dir, reports, cli):
    hostile_env(target.url)
    (env_dir / "broken.yaml").write_bytes(b"name: broken\ndescription: \xff\xfe not UTF-8\n")
    ran = cli("conformance", "hostile", "--suite", "goproxy", timeout=120)
    assert ran.returncode == 2, ran.stderr[-3000:]
    last = ran.stderr.strip().splitlines()[-1]
    assert last.startswith("gauntlet: error: conformance goproxy: pytest ended with exit code 3 (internal error)"), last
    assert "UnicodeDecodeError" in last and "the run is marked error" in last, last
    meta = error_run(reports)
    assert "exit code 3" in meta["errors"][0] and "exit code 3" in meta["unavailable"]["conformance:goproxy"]
    results = json.loads(((reports / "latest").resolve() / "results.json").read_text())
    for claim in results["claims"]:
        assert claim["verdict"] == "not-checked" and any("exit code 3" in e for e in claim["evidence"]), claim


def test_a_gate_whose_suite_collected_nothing_is_not_verified_and_an_error(write_env, env_data, reports, cli):
    env_data["claims"][1]["evidence"] = ["conformance:goproxy"]  # no check of the suite is evidence for these claims
    write_env(env_data)
    ran = cli("gate", "sample", "--json", timeout=120)
    assert ran.returncode == 3, ran.stderr[-3000:]
    assert "pytest ended with exit code 5 (no check collected)" in ran.stderr
    assert json.loads(ran.stdout)["status"] == "error"
    assert "exit code 5" in error_run(reports)["errors"][0]

"""The GOPROXY conformance suite against the real local tier: green when healthy, red on each protocol fault."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import gauntlet.local as local
from gauntlet import paths
from gauntlet.environment import load_environment

pytestmark = pytest.mark.local_stack


SUITE = [sys.executable, "-m", "gauntlet", "conformance", "local", "--suite", "goproxy", "-n", "2", "--json"]


def goproxy_suite() -> dict:
    proc = subprocess.run(SUITE, capture_output=True, text=True, timeout=600, cwd=paths.ROOT)
    assert proc.stdout, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def claim(out: dict, claim_id: str) -> dict:
    return next(c for c in out["claims"] if c["id"] == claim_id)


@pytest.mark.parametrize("stack", [()], indirect=True, ids=["healthy"])
def test_healthy_tier_verifies_the_protocol(stack):
    out = goproxy_suite()
    assert claim(out, "athens-protocol")["verdict"] == "verified", claim(out, "athens-protocol")["evidence"][:3]
    assert claim(out, "athens-no-git-hot-path")["verdict"] == "verified", claim(out, "athens-no-git-hot-path")["evidence"][:3]
    assert out["summary"]["violated"] == 0, [c["evidence"][:2] for c in out["claims"] if c["verdict"] == "violated"]


@pytest.mark.parametrize(("stack", "found"), [
    (("replica-500",), "500 text/html"),
    (("edge-strips-case-escapes",), "/github.com/!burnt!sushi/toml/@v/v1.3.2.zip: 404"),
    (("origin-404-as-403",), "403 text/plain"),
], indirect=["stack"], ids=["replica-500", "edge-strips-case-escapes", "origin-404-as-403"])
def test_protocol_fault_turns_the_claim_red(stack, found):
    fault = stack["faults"][0]
    assert "athens-protocol" in local.FAULTS[fault].claims_in(load_environment("local", paths.ROOT / "environments"))
    out = goproxy_suite()
    protocol = claim(out, "athens-protocol")
    assert protocol["verdict"] == "violated", f"{fault}: the suite did not catch it"
    evidence = "\n".join(protocol["evidence"])
    assert found in evidence and "expected" in evidence and "https://127.0.0.1:8443/" in evidence, evidence[:1500]


@pytest.mark.parametrize("stack", [()], indirect=True, ids=["healthy"])
def test_a_replica_killed_during_the_suite_is_a_component_finding_not_a_violation(stack):
    """One replica dies while the suite runs: what clients see through the edge and the load balancer holds, so the
    service claims stay verified; the dead replica is reported as a component finding, and violates nothing."""
    proc = subprocess.Popen(SUITE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=paths.ROOT)
    time.sleep(3)  # pytest and its workers are up and checking
    os.kill(stack["components"]["replica-2"]["pid"], signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=600)
    out = json.loads(stdout)
    assert out["summary"]["violated"] == 0, [(c["id"], c["evidence"][:2]) for c in out["claims"] if c["verdict"] == "violated"]
    protocol = claim(out, "athens-protocol")
    assert protocol["verdict"] == "verified", protocol["evidence"][:3]
    assert [(f["subject"], f["down"]) for f in protocol["findings"]] == [("athens-2", True)], protocol["findings"]
    assert "127.0.0.1:3002" in protocol["findings"][0]["observation"], protocol["findings"]
    assert claim(out, "athens-no-git-hot-path")["verdict"] == "verified", claim(out, "athens-no-git-hot-path")["evidence"][:3]
    assert proc.returncode == 0, stderr[-2000:]


@pytest.mark.parametrize("stack", [()], indirect=True, ids=["healthy"])
def test_a_replica_a_running_experiment_took_down_is_an_expected_finding(stack, tmp_path, monkeypatch):
    """While athens-replica-crash holds the environment's lock with replica-2 in its blast radius, a conformance run
    that finds replica-2 down reports it as expected: the experiment broke it."""
    from gauntlet.chaos.lock import EnvLock

    monkeypatch.setenv("GAUNTLET_LOCK_DIR", str(tmp_path / "locks"))
    with EnvLock("local", "athens-replica-crash") as lock:
        lock.record_breaks(["127.0.0.1:3002"])
        os.kill(stack["components"]["replica-2"]["pid"], signal.SIGKILL)
        out = goproxy_suite()
    findings = claim(out, "athens-protocol")["findings"]
    assert [(f["subject"], f["expected"]) for f in findings] == [("athens-2", True)], findings
    assert claim(out, "athens-protocol")["verdict"] == "verified"

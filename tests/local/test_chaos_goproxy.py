"""athens-replica-crash on the local GOPROXY tier: a replica process is killed while clients are served.

Run under ``flock /tmp/gauntlet-stack.lock``; the tier is left as found (tests/local/conftest.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gauntlet import paths
from gauntlet.local.goproxy_tier import running_pid

pytestmark = [pytest.mark.local_stack, pytest.mark.slow]


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GAUNTLET_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("GAUNTLET_LOCK_DIR", str(tmp_path / "locks"))
    return tmp_path


def gauntlet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gauntlet", *args], capture_output=True, text=True, timeout=600,
                          cwd=paths.ROOT, env=os.environ.copy())


def _run(folders: Path) -> Path:
    return (folders / "reports" / "latest").resolve()


def _checks(run: Path) -> dict[str, dict]:
    return {c["id"]: c for c in map(json.loads, (run / "checks.jsonl").read_text().splitlines())}


def test_a_crashed_replica_costs_no_client_request_and_is_restarted(stack, folders):
    killed = running_pid("replica-2")
    proc = gauntlet("chaos", "local", "athens-replica-crash", "--json")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    verdicts = {c["id"]: c["verdict"] for c in json.loads(proc.stdout)["claims"]}
    assert verdicts["athens-replica-failover"] == "verified"
    run = _run(folders)
    check = _checks(run)["chaos:athens-replica-crash"]
    assert check["outcome"] == "passed" and check["details"]["time_to_recovery_s"] is not None, check["message"]
    timeline = json.loads((run / "timeline-athens-replica-crash.json").read_text())
    pool = next(s for s in timeline["series"] if s["name"] == "replicas-up-at-the-load-balancer")
    assert min(v for _, v in pool["points"]) == 1.0, "HAProxy took the dead replica out of the pool"
    assert pool["points"][-1][1] == 2.0, "and back in after the rollback restarted it"
    assert running_pid("replica-2") not in (None, killed)
    journal = json.loads((run / "chaos" / "athens-replica-crash" / "journal.json").read_text())
    assert [(r["activity"]["name"], r["status"]) for r in journal["rollbacks"]] == [("restart-the-replica", "succeeded")]


@pytest.mark.parametrize("stack", [("lb-no-healthcheck",)], indirect=True)
def test_the_experiment_fails_when_the_load_balancer_keeps_sending_to_the_dead_replica(stack, folders):
    proc = gauntlet("chaos", "local", "athens-replica-crash", "--json")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    claims = {c["id"]: c for c in json.loads(proc.stdout)["claims"]}
    assert claims["athens-replica-failover"]["verdict"] == "violated"
    check = _checks(_run(folders))["chaos:athens-replica-crash"]
    assert check["outcome"] == "failed" and "invariant broken" in check["message"], check["message"]
    assert "load-balancer-serves-the-module-list" in check["message"] or "GET http://127.0.0.1:3100" in check["message"]
    assert running_pid("replica-2") is not None, "the rollback restarted the replica"


def test_with_the_failover_load_profile_errors_are_attributed_before_during_and_after(stack, folders):
    proc = gauntlet("chaos", "local", "athens-replica-crash", "--load", "failover", "--json")
    checks = _checks(_run(folders))
    assert proc.returncode == 0, {k: (c["outcome"], c["message"]) for k, c in checks.items()}
    assert next(c for c in json.loads(proc.stdout)["claims"] if c["id"] == "athens-replica-failover")["verdict"] == "verified"
    load = checks["chaos:athens-replica-crash"]["details"]["load"]
    assert set(load["phases"]) == {"before", "during", "after"}
    assert all(load["phases"][p]["requests"] > 0 for p in ("before", "during", "after")), load
    assert sum(load["phases"][p]["failures"] for p in load["phases"]) == 0
    failover = checks["load:failover:error_rate"]
    assert failover["outcome"] == "passed" and "inside the fault window of athens-replica-crash" in failover["message"]
    timeline = json.loads((_run(folders) / "timeline-athens-replica-crash.json").read_text())
    assert {"load failover p95", "load failover errors"} <= {s["name"] for s in timeline["series"]}


@pytest.mark.parametrize("stack", [("replica-git-on-hot-path",)], indirect=True)
def test_an_experiment_that_breaks_nothing_verifies_nothing(stack, folders):
    """Git on the serving path: every answer is slow, the windowed steady state does not hold before the method, so
    nothing is broken; the failover load beside it is not evidence, and the claim is not-checked (exit 3), not
    verified by a load run that never saw a fault."""
    proc = gauntlet("chaos", "local", "athens-replica-crash", "--load", "failover", "--json")
    assert proc.returncode == 3, proc.stdout[-3000:] + proc.stderr[-3000:]
    failover = next(c for c in json.loads(proc.stdout)["claims"] if c["id"] == "athens-replica-failover")
    assert failover["verdict"] == "not-checked", failover
    assert failover["evidence"][0].startswith("required evidence chaos.replica-crash.no-client-errors proved nothing: "
                                              "chaos:athens-replica-crash: not evidence: steady state not met before the "
                                              "method, nothing was broken"), failover["evidence"]
    assert "5 answers 0.2 s apart: p80" in failover["evidence"][0], "the window, not one sample, decided"
    checks = _checks(_run(folders))
    assert checks["load:failover:error_rate"]["outcome"] == "skipped"
    assert checks["load:failover:error_rate"]["message"].startswith("not evidence: no fault was injected")
    journal = json.loads((_run(folders) / "chaos" / "athens-replica-crash" / "journal.json").read_text())
    assert journal["run"] == [], "the method never ran: nothing was killed"


def test_the_failover_profile_alone_is_not_evidence(stack, folders):
    proc = gauntlet("load", "local", "--profile", "failover", "--json")
    assert proc.returncode == 3, proc.stderr[-3000:]
    failover = next(c for c in json.loads(proc.stdout)["claims"] if c["id"] == "athens-replica-failover")
    assert failover["verdict"] == "not-checked"
    assert "required evidence chaos.replica-crash.no-client-errors proved nothing" in failover["evidence"][0]
    assert not (_run(folders) / "load" / "failover").exists(), "no Locust run: a fault-window profile alone sends nothing"


def test_ctrl_c_during_the_outage_restarts_the_replica_and_leaves_the_journal(stack, folders, monkeypatch):
    experiment = json.loads((paths.ROOT / "chaos_experiments" / "athens-replica-crash.json").read_text())
    experiment["configuration"]["outage_s"] = 120
    shutil.copytree(paths.ROOT / "chaos_experiments", folders / "experiments")
    (folders / "experiments" / "athens-replica-crash.json").write_text(json.dumps(experiment))
    monkeypatch.setenv("GAUNTLET_CHAOS_EXPERIMENTS_DIR", str(folders / "experiments"))
    proc = subprocess.Popen([sys.executable, "-m", "gauntlet", "chaos", "local", "athens-replica-crash"], cwd=paths.ROOT,
                            env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while running_pid("replica-2") is not None:  # the crash is in
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1][-3000:]
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    assert running_pid("replica-2") is not None, "the rollback ran on Ctrl-C"
    run = _run(folders)
    journal = json.loads((run / "chaos" / "athens-replica-crash" / "journal.json").read_text())
    assert journal["status"] == "interrupted"
    assert [(r["activity"]["name"], r["status"]) for r in journal["rollbacks"]] == [("restart-the-replica", "succeeded")]
    assert _checks(run)["chaos:athens-replica-crash"]["outcome"] == "skipped"

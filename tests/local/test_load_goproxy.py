"""Load against the local GOPROXY tier: `gauntlet load` end to end, through the real edge (TLS,
the local CA), on loopback only. Run under the stack's lock:

    flock /tmp/gauntlet-stack.lock .venv/bin/pytest tests/local/test_load_goproxy.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from gauntlet import paths

pytestmark = [pytest.mark.local_stack, pytest.mark.slow]

SMOKE_CLAIMS = {"athens-protocol", "athens-no-git-hot-path"}


@pytest.fixture
def reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "reports"
    monkeypatch.setenv("GAUNTLET_REPORTS_DIR", str(folder))
    monkeypatch.delenv("GAUNTLET_ENVIRONMENTS_DIR", raising=False)
    return folder


def gauntlet_load(*args: str) -> tuple[subprocess.CompletedProcess, float, dict]:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "gauntlet", *args, "--json"], capture_output=True, text=True,
                          timeout=180, cwd=paths.ROOT)
    took = time.monotonic() - started
    assert proc.stdout, f"no JSON (exit {proc.returncode}): {proc.stderr[-3000:]}"
    return proc, took, json.loads(proc.stdout)


def verdicts(out: dict) -> dict[str, dict]:
    return {c["id"]: c for c in out["claims"] if c["verdict"] != "not-checked"}


def checks(out: dict) -> dict[str, dict]:
    return {c["id"]: c for c in json.loads((Path(out["report"]) / "results.json").read_text())["checks"]}


def test_smoke_verifies_its_slo_claims_in_under_a_minute(stack, reports):
    proc, took, out = gauntlet_load("load", "local", "--profile", "smoke")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert took < 60, f"gauntlet load local --profile smoke took {took:.1f} s"
    assert {k: v["verdict"] for k, v in verdicts(out).items()} == dict.fromkeys(SMOKE_CLAIMS, "verified")
    found = checks(out)
    assert set(found) == {"load:smoke:error_rate", "load:smoke:p95_ms"}
    assert found["load:smoke:p95_ms"]["message"].startswith("p95 ") and " ms <= 500 ms (" in found["load:smoke:p95_ms"]["message"]
    assert found["load:smoke:error_rate"]["details"]["ended_by"] == "duration"
    run = Path(out["report"])
    for artefact in ("load/smoke/locust.html", "load/smoke/locust_stats.csv", "load/smoke/locust_stats_history.csv",
                     "timeline-load-smoke.json"):
        assert (run / artefact).is_file(), f"{artefact} missing from the run folder"
    assert "load smoke" in proc.stderr and " rps " in proc.stderr and "p95 " in proc.stderr, "live progress on stderr"


def test_workers_give_the_same_verdict_structure(stack, reports):
    proc, took, out = gauntlet_load("load", "local", "--profile", "smoke", "--workers", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {k: v["verdict"] for k, v in verdicts(out).items()} == dict.fromkeys(SMOKE_CLAIMS, "verified")
    found = checks(out)
    assert {k: (c["claims"], c["outcome"]) for k, c in found.items()} == {
        "load:smoke:error_rate": (["athens-protocol"], "passed"), "load:smoke:p95_ms": (["athens-no-git-hot-path"], "passed")}
    assert found["load:smoke:p95_ms"]["details"]["workers"] == 2
    logs = sorted(p.name for p in (Path(out["report"]) / "load" / "smoke").glob("worker-*.log"))
    assert logs == ["worker-1.log", "worker-2.log"], "Locust's own worker processes ran the users"


def test_an_impossible_slo_is_violated_with_the_measured_figure(stack, reports, tmp_path, monkeypatch):
    data = yaml.safe_load((paths.ROOT / "environments" / "local.yaml").read_text())
    data["load_profiles"]["impossible"] = {**data["load_profiles"]["smoke"], "duration_s": 5,
                                           "slos": [{"claim": "athens-no-git-hot-path", "metric": "rps", "min": 100000}]}
    folder = tmp_path / "environments"
    folder.mkdir()
    (folder / "local.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    monkeypatch.setenv("GAUNTLET_ENVIRONMENTS_DIR", str(folder))
    proc, took, out = gauntlet_load("load", "local", "--profile", "impossible")
    assert proc.returncode == 1, proc.stderr[-3000:]
    claim = verdicts(out)["athens-no-git-hot-path"]
    assert claim["verdict"] == "violated"
    (evidence,) = claim["evidence"]
    assert evidence.startswith("load:impossible:rps: rps ") and " < 100000 (" in evidence, evidence


@pytest.mark.parametrize("stack", [("replica-500",)], indirect=True)
def test_replica_500_trips_the_error_rate_stop_condition_early(stack, reports):
    proc, took, out = gauntlet_load("load", "local", "--profile", "smoke")
    assert proc.returncode == 1, proc.stderr[-3000:]
    protocol = verdicts(out)["athens-protocol"]
    assert protocol["verdict"] == "violated"
    stop = checks(out)["load:smoke:stop"]
    assert stop["outcome"] == "failed" and stop["claims"] == ["athens-protocol"]
    assert stop["message"].startswith("stop condition: error rate "), stop["message"]
    assert "HTTP 500" in stop["message"], "the most frequent failure is named"
    assert stop["details"]["ended_by"] == "stop_condition" and stop["details"]["stop"]["at_s"] < 10
    assert took < 20, f"the run should end early, not after its 20 s: took {took:.1f} s"


def test_the_gate_runs_smoke_and_leaves_failover_to_its_chaos_experiment(stack, reports):
    from gauntlet import report
    from gauntlet.environment import load_environment
    from gauntlet.runner import run_evidence

    env = load_environment("local", paths.ROOT / "environments")
    run = report.new_run(env, "gate", "test")
    run_evidence(env, run, ["load:smoke", "load:failover"])
    document = report.finish(run, env, "complete")
    assert {c["id"]: c["verdict"] for c in document["claims"] if c["id"] in SMOKE_CLAIMS | {"athens-replica-failover"}} == {
        "athens-protocol": "verified", "athens-no-git-hot-path": "verified", "athens-replica-failover": "not-checked"}
    assert "athens-replica-crash" in document["run"]["unavailable"]["load:failover"]
    assert "<figure class=\"chart\"><figcaption>load smoke on local" in (run.dir / "index.html").read_text(), \
        "the report draws the load timeline"

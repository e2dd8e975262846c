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


def gauntlet_json(*args: str) -> tuple[subprocess.CompletedProcess, float, dict]:
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
    proc, took, out = gauntlet_json("load", "local", "--profile", "smoke")
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
    proc, took, out = gauntlet_json("load", "local", "--profile", "smoke", "--workers", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {k: v["verdict"] for k, v in verdicts(out).items()} == dict.fromkeys(SMOKE_CLAIMS, "verified")
    found = checks(out)
    assert {k: (c["claims"], c["outcome"]) for k, c in found.items()} == {
        "load:smoke:error_rate": (["athens-protocol"], "passed"), "load:smoke:p95_ms": (["athens-no-git-hot-path"], "passed")}
    assert found["load:smoke:p95_ms"]["details"]["workers"] == 2
    logs = sorted(p.name for p in (Path(out["report"]) / "load" / "smoke").glob("worker-*.log"))
    assert logs == ["worker-1.log", "worker-2.log"], "Locust's own worker processes ran the users"


def test_an_impossible_slo_is_violated_with_the_measured_figure(stack, reports, tmp_path, monkeypatch, local_env_data):
    data = local_env_data
    data["load_profiles"]["impossible"] = {**data["load_profiles"]["smoke"], "duration_s": 5,
                                           "slos": [{"metric": "rps", "min": 100000}]}
    next(c for c in data["claims"] if c["id"] == "athens-no-git-hot-path")["evidence"].append("load.rps@impossible")
    folder = tmp_path / "environments"
    folder.mkdir()
    (folder / "local.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    monkeypatch.setenv("GAUNTLET_ENVIRONMENTS_DIR", str(folder))
    proc, took, out = gauntlet_json("load", "local", "--profile", "impossible")
    assert proc.returncode == 1, proc.stderr[-3000:]
    claim = verdicts(out)["athens-no-git-hot-path"]
    assert claim["verdict"] == "violated"
    (evidence,) = claim["evidence"]
    assert evidence.startswith("load:impossible:rps: rps ") and " < 100000 (" in evidence, evidence


@pytest.mark.parametrize("stack", [("replica-500",)], indirect=True)
def test_replica_500_trips_the_error_rate_stop_condition_early(stack, reports):
    proc, took, out = gauntlet_json("load", "local", "--profile", "smoke")
    assert proc.returncode == 1, proc.stderr[-3000:]
    protocol = verdicts(out)["athens-protocol"]
    assert protocol["verdict"] == "violated"
    stop = checks(out)["load:smoke:stop"]
    assert stop["outcome"] == "failed" and stop["claims"] == ["athens-protocol"]
    assert stop["message"].startswith("stop condition: error rate "), stop["message"]
    assert "HTTP 500" in stop["message"], "the most frequent failure is named"
    assert stop["details"]["ended_by"] == "stop_condition" and stop["details"]["stop"]["at_s"] < 10
    assert took < 20, f"the run should end early, not after its 20 s: took {took:.1f} s"


@pytest.mark.parametrize("stack", [("replica-git-on-hot-path",)], indirect=True)
def test_git_on_the_serving_path_violates_the_p95_slo(stack, reports):
    proc, took, out = gauntlet_json("load", "local", "--profile", "smoke")
    assert proc.returncode == 1, proc.stderr[-3000:]
    found = verdicts(out)
    assert (found["athens-protocol"]["verdict"], found["athens-no-git-hot-path"]["verdict"]) == ("verified", "violated")
    (evidence,) = found["athens-no-git-hot-path"]["evidence"]
    assert evidence.startswith("load:smoke:p95_ms: p95 ") and " ms > 500 ms (" in evidence, evidence
    assert checks(out)["load:smoke:p95_ms"]["details"]["figures"]["p95_ms"] >= 800, "the 800 ms git fetch is measured"


def test_the_gate_runs_smoke_and_leaves_failover_to_its_chaos_experiment(stack, reports):
    from gauntlet import report, run_folder
    from gauntlet.environment import load_environment
    from gauntlet.runner import run_evidence

    env = load_environment("local", paths.ROOT / "environments")
    run = run_folder.new_run(env, "gate", "test")
    run_evidence(env, run, ["load:smoke", "load:failover"])
    document = report.finish(run, env, "complete")
    assert {c["id"]: c["verdict"] for c in document["claims"] if c["id"] in SMOKE_CLAIMS | {"athens-replica-failover"}} == {
        "athens-protocol": "verified", "athens-no-git-hot-path": "verified", "athens-replica-failover": "not-checked"}
    assert "athens-replica-crash" in document["run"]["unavailable"]["load:failover"]
    assert "<figure class=\"chart\"><figcaption>load smoke on local" in (run.dir / "index.html").read_text(), \
        "the report draws the load timeline"


def test_a_slower_second_gate_is_a_regression_in_history_report_and_exit_code(stack, reports, tmp_path, monkeypatch,
                                                                              local_env_data):
    """Two gates of the smoke claims, the second with git on the replicas' serving path. Its p95 SLO is
    loosened so that every claim stays verified: the regression alone fails the gate, because the
    environment asks for it (history.gate_on_regression)."""
    from gauntlet.local import goproxy_tier

    data = local_env_data
    data["history"] = {"gate_on_regression": True, "tolerance": 0.2}
    data["load_profiles"]["smoke"].update(duration_s=8, slos=[{"metric": "error_rate", "max": 0.01},
                                                              {"metric": "p95_ms", "max": 5000}])
    smoke = {"athens-protocol": ["load.error-rate@smoke"], "athens-no-git-hot-path": ["load.p95@smoke"]}
    for claim in data["claims"]:
        claim["gates"] = claim["id"] in SMOKE_CLAIMS
        if claim["gates"]:
            claim.update(evidence=smoke[claim["id"]], required=[])
            claim.pop("workloads", None)
    folder = tmp_path / "environments"
    folder.mkdir()
    (folder / "local.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    monkeypatch.setenv("GAUNTLET_ENVIRONMENTS_DIR", str(folder))

    proc, _, first = gauntlet_json("gate", "local")
    assert proc.returncode == 0 and first["regressions"] == [], proc.stderr[-3000:]
    goproxy_tier.up(["replica-git-on-hot-path"], progress=lambda _: None)
    proc, _, second = gauntlet_json("gate", "local")
    assert {k: v["verdict"] for k, v in verdicts(second).items()} == dict.fromkeys(SMOKE_CLAIMS, "verified")
    p95 = f"load:smoke:p95_ms: {checks(first)['load:smoke:p95_ms']['details']['figures']['p95_ms']:g} in {first['run']}, "
    assert any(r.startswith(p95) for r in second["regressions"]), second["regressions"]
    assert proc.returncode == 1, f"a regression with gate_on_regression must fail the gate: {proc.stderr[-3000:]}"

    shown = subprocess.run([sys.executable, "-m", "gauntlet", "history", "local"], capture_output=True, text=True,
                           timeout=60, cwd=paths.ROOT).stdout
    assert f"regression in {second['run']}: {p95}" in shown, shown
    page = (Path(second["report"]) / "index.html").read_text()
    assert "<h2>Regressions</h2>" in page and p95 in page

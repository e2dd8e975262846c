"""History and regressions: a worse second run is flagged against the previous comparable one."""

from __future__ import annotations

import pytest

from gauntlet import history, report, run_folder
from gauntlet.environment import load_environment
from gauntlet.ledger import CheckResult


@pytest.fixture
def env(write_env, env_data):
    write_env(env_data)
    return load_environment("sample")


def load_check(outcome: str, p95: float, rps: float) -> CheckResult:
    return CheckResult(id="load:smoke:p95", evidence="load", claims=("sample-fast",), outcome=outcome, kinds=("load.p95",),
                       message=f"p95 {p95} ms", details={"figures": {"p95_ms": p95, "rps": rps}})


def run_once(env, *results: CheckResult) -> dict:
    run = run_folder.new_run(env, "load", "gauntlet load sample --profile smoke")
    run.add_ran("load:smoke")
    for result in results:
        run.record(result)
    return report.finish(run, env, "complete")


def test_first_run_has_nothing_to_compare(env):
    assert run_once(env, load_check("passed", 100, 50))["regressions"] == []


def test_worse_second_run_is_flagged(env):
    first = run_once(env, load_check("passed", 100, 50))
    second = run_once(env, load_check("failed", 180, 30))
    assert second["previous"] == first["run"]["id"]
    assert second["regressions"] == [
        f"claim sample-fast: verified in {first['run']['id']}, violated now",
        f"load:smoke:p95:p95_ms: 100 in {first['run']['id']}, 180 now (tolerance 20%)",
        f"load:smoke:p95:rps: 50 in {first['run']['id']}, 30 now (tolerance 20%)",
    ]


def test_changes_within_tolerance_are_not_regressions(env):
    run_once(env, load_check("passed", 100, 50))
    assert run_once(env, load_check("passed", 115, 45))["regressions"] == []


def test_recent_lists_runs_newest_first_with_verdicts_and_figures(env):
    first = run_once(env, load_check("passed", 100, 50))
    second = run_once(env, load_check("passed", 90, 55))
    store = history.store_path()
    runs = history.recent(store, "sample")
    assert [r.id for r in runs] == [second["run"]["id"], first["run"]["id"]]
    assert runs[0].verdicts["sample-fast"] == "verified"
    assert history.trend(runs)["load:smoke:p95:p95_ms"] == [100.0, 90.0]


def test_other_kinds_are_not_comparable(env):
    run_once(env, load_check("passed", 100, 50))
    run = run_folder.new_run(env, "conformance", "c")
    assert report.finish(run, env, "complete")["previous"] is None


def test_history_command_shows_runs_and_trend(env):
    import json
    import subprocess
    import sys

    from gauntlet import paths

    first = run_once(env, load_check("passed", 100, 50))
    second = run_once(env, load_check("failed", 180, 30))
    proc = subprocess.run([sys.executable, "-m", "gauntlet", "history", "sample", "--json"],
                          capture_output=True, text=True, timeout=60, cwd=paths.ROOT)
    out = json.loads(proc.stdout)
    assert [r["verdicts"]["sample-fast"] for r in out["runs"]] == ["violated", "verified"]
    assert out["trend"]["load:smoke:p95:p95_ms"] == [100.0, 180.0]
    assert [r["regressions"] for r in out["runs"]] == [second["regressions"], []]
    table = subprocess.run([sys.executable, "-m", "gauntlet", "history", "sample"],
                           capture_output=True, text=True, timeout=60, cwd=paths.ROOT)
    assert "sample-fast" in table.stdout and "100 → 180" in table.stdout
    flagged = [line for line in table.stdout.splitlines() if line.startswith("regression in ")]
    assert flagged == [f"regression in {second['run']['id']}: {r}" for r in second["regressions"]], table.stdout
    assert first["run"]["id"] in flagged[0], "the run it is compared with is named"


def test_changes_within_the_noise_floor_are_not_regressions(env):
    run_once(env, load_check("passed", 1, 50))
    assert run_once(env, load_check("passed", 3, 50))["regressions"] == [], "p95 1 ms -> 3 ms on loopback is noise"
    assert run_once(env, load_check("passed", 12, 50))["regressions"] != [], "3 ms -> 12 ms is not"

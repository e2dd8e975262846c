"""SIGTERM (a CI cancel, a Kubernetes Job deleted) and SIGHUP (the terminal closed) end a run as Ctrl-C does.

The signal goes to gauntlet's pid alone, as ``kill -TERM <pid>`` sends it. Then, for ``load`` (one
process, one and two workers), ``conformance`` (with and without ``-n``) and ``chaos``: gauntlet exits
128 + the signal; no process it started is left running; the target gets no request after the exit;
and the run folder is finished as ``interrupted``, with its results, JUnit XML and page.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gauntlet import paths

pytestmark = pytest.mark.slow


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gauntlet", *args], cwd=paths.ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(what: str, condition, proc: subprocess.Popen, within_s: float = 60.0) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"{what}: not within {within_s:g} s (exit {proc.returncode}):\n{out[-2000:]}\n{err[-3000:]}")
        time.sleep(0.1)


def interrupt(proc: subprocess.Popen, sig: signal.Signals, within_s: float) -> tuple[float, str]:
    """``sig`` to gauntlet's pid; the time it exited and its stderr. Its exit must take at most ``within_s``."""
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=within_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"gauntlet still running {within_s:g} s after {sig.name}: {proc.communicate()[1][-3000:]}")
    exited = time.time()
    assert proc.returncode == 128 + sig, f"exit {proc.returncode} after {sig.name}, took {time.monotonic() - sent:.1f} s:\n{err[-3000:]}"
    assert "Traceback" not in err, err[-3000:]
    return exited, err


def assert_finished_interrupted(reports: Path) -> dict:
    run = (reports / "latest").resolve()
    meta = json.loads((run / "run.json").read_text())
    assert meta["status"] == "interrupted" and meta["finished"], meta
    for name in ("results.json", "junit.xml", "index.html"):
        assert (run / name).is_file(), f"{name} missing in {run}"
    assert json.loads((run / "results.json").read_text())["run"]["status"] == "interrupted"
    return meta


@pytest.mark.parametrize(("workers", "sig"), [(0, signal.SIGTERM), (1, signal.SIGHUP), (2, signal.SIGTERM)],
                         ids=["one-process-SIGTERM", "one-worker-SIGHUP", "two-workers-SIGTERM"])
def test_a_signalled_load_run_stops_every_locust_process_and_sends_nothing_after_exit(
        target, hostile_env, reports, leftovers, workers, sig):
    hostile_env(target.url)
    proc = start("load", "hostile", "--profile", "steady", "--workers", str(workers))
    wait_for("load reaching the target", lambda: len(target.requests) >= 30, proc)
    if workers:
        assert leftovers(), "the Locust processes run"
    exited, err = interrupt(proc, sig, within_s=30)
    assert leftovers() == [], f"processes left after {sig.name}"
    time.sleep(2.0)
    assert target.after(exited) == [], f"{len(target.after(exited))} requests reached the target after gauntlet exited"
    assert_finished_interrupted(reports)
    assert f"interrupted ({sig.name})" in err


@pytest.mark.parametrize(("workers", "sig"), [(None, signal.SIGTERM), (2, signal.SIGHUP)], ids=["SIGTERM", "n2-SIGHUP"])
@pytest.mark.parametrize("target", ["slow"], indirect=True)
def test_a_signalled_conformance_run_stops_pytest_and_its_workers_and_sends_nothing_after_exit(
        target, hostile_env, reports, leftovers, workers, sig):
    hostile_env(target.url, timeout_s=5)
    proc = start("conformance", "hostile", "--suite", "goproxy", *(["-n", str(workers)] if workers else []))
    wait_for("checks reaching the target", lambda: len(target.requests) >= (4 if workers else 2), proc)
    exited, err = interrupt(proc, sig, within_s=30)
    assert leftovers() == [], f"processes left after {sig.name}"
    time.sleep(2.0)
    assert target.after(exited) == [], f"{len(target.after(exited))} requests reached the target after gauntlet exited"
    assert_finished_interrupted(reports)


@pytest.mark.local_stack
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signalled_chaos_run_plays_its_rollback_and_leaves_nothing_running(stack, reports, leftovers, env_dir, tmp_path,
                                                                              monkeypatch, sig):
    from gauntlet.local.goproxy_tier import COMPONENTS, running_pid

    (env_dir / "local.yaml").write_text((paths.ROOT / "environments" / "local.yaml").read_text())
    experiment = json.loads((paths.ROOT / "chaos_experiments" / "athens-replica-crash.json").read_text())
    experiment["configuration"]["outage_s"] = 120
    shutil.copytree(paths.ROOT / "chaos_experiments", tmp_path / "experiments")
    (tmp_path / "experiments" / "athens-replica-crash.json").write_text(json.dumps(experiment))
    monkeypatch.setenv("GAUNTLET_CHAOS_EXPERIMENTS_DIR", str(tmp_path / "experiments"))
    monkeypatch.setenv("GAUNTLET_LOCK_DIR", str(tmp_path / "locks"))
    proc = start("chaos", "local", "athens-replica-crash")
    wait_for("the replica crashed", lambda: running_pid("replica-2") is None, proc)
    interrupt(proc, sig, within_s=120)
    assert running_pid("replica-2") is not None, "the rollback restarted the replica"
    stack_groups = frozenset(pid for pid in (running_pid(c.name) for c in COMPONENTS) if pid)
    assert leftovers(stack_groups) == [], f"processes left after {sig.name} (the local stack's own aside)"
    run = (reports / "latest").resolve()
    journal = json.loads((run / "chaos" / "athens-replica-crash" / "journal.json").read_text())
    assert [(r["activity"]["name"], r["status"]) for r in journal["rollbacks"]] == [("restart-the-replica", "succeeded")]
    assert_finished_interrupted(reports)
    check = json.loads((run / "checks.jsonl").read_text().splitlines()[-1])
    assert check["outcome"] == "skipped" and f"interrupted by {sig.name}" in check["message"], check

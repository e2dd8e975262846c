"""Locust's command lines, progress, the report's timeline, and load evidence in the gate."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import get_args

import pytest

from gauntlet import paths, run_folder
from gauntlet.environment import UserKind, load_environment
from gauntlet.load.params import LoadParams, StopParams
from gauntlet.load.runner import LOCUSTFILES, commands, progress_line, timeline
from gauntlet.runner import run_evidence

P = LoadParams(environment="local", profile="smoke", user="goproxy", host="https://127.0.0.1:8443", ca_bundle=None,
               server_name=None, shape="steady", users=5, spawn_rate=5, duration_s=20, max_requests=5000, steps=1,
               wait_s=(0.1, 0.5), stop=StopParams(0.05, None, 3))


def test_one_process_runs_the_users_file_and_the_shape_headless(tmp_path):
    (argv,) = commands(P, tmp_path)
    assert argv[:3] == [sys.executable, "-m", "locust"]
    assert argv[argv.index("-f") + 1] == f"{paths.ROOT / 'load/goproxy.py'},{paths.ROOT / 'load/shape.py'}"
    assert "--headless" in argv and "--host" not in argv, "the host (and its credentials) come from the environment"
    assert argv[argv.index("--gauntlet-profile") + 1] == "smoke" and argv[argv.index("--gauntlet-out") + 1] == str(tmp_path)
    assert argv[argv.index("--csv") + 1] == str(tmp_path / "locust") and "--csv-full-history" in argv
    assert argv[argv.index("--html") + 1] == str(tmp_path / "locust.html")


@pytest.mark.parametrize("kind", get_args(UserKind))
def test_every_user_kind_has_its_locustfile_whose_user_declares_the_kind(kind):
    text = (paths.ROOT / LOCUSTFILES[kind]).read_text()
    assert re.search(rf'^    kind = "{kind}"$', text, re.MULTILINE), f"{LOCUSTFILES[kind]}: no User class with kind = {kind!r}"


def test_workers_are_locusts_own_master_and_worker_processes_on_loopback(tmp_path):
    master, *workers = commands(P, tmp_path, workers=2, master_port=5599)
    assert len(workers) == 2
    assert master[master.index("--master-bind-host") + 1] == "127.0.0.1"
    assert master[master.index("--expect-workers") + 1] == "2" and "--master" in master
    for worker in workers:
        assert "--worker" in worker and worker[worker.index("--master-host") + 1] == "127.0.0.1"
        assert worker[worker.index("--master-port") + 1] == "5599"
        assert "--csv" not in worker and "--host" not in worker, "workers get the host from the master"


def test_progress_line_shows_rps_p95_and_errors():
    point = {"t": 12.0, "users": 5, "rps": 61.34, "p95_ms": 38.0, "error_rate": 0.0, "requests": 742}
    assert progress_line(P, point) == "load smoke  12 s/20 s  5 users  61.3 rps  p95 38 ms  errors 0.0 %  742/5 000 requests"
    assert "p95 -  errors -" in progress_line(P, {**point, "p95_ms": None, "error_rate": None})


def test_timeline_is_the_reports_chart_format_with_the_stop_marked():
    points = [{"t": 1.0, "p95_ms": 3.0, "rps": 60.0, "error_rate": 0.25}, {"t": 2.0, "p95_ms": None, "rps": 0.0, "error_rate": None}]
    trip = {"metric": "error_rate", "since_s": 0.0, "at_s": 3.0}
    chart = timeline(P, points, {"ended_by": "stop_condition", "elapsed_s": 3.0, "stop": trip})
    assert [s["name"] for s in chart["series"]] == ["p95", "rps", "errors"]
    assert chart["series"][0]["points"] == [[1.0, 3.0]] and chart["series"][2]["points"] == [[1.0, 25.0]]
    assert [m["t"] for m in chart["markers"]] == [0.0, 3.0]


def test_the_gate_runs_load_profiles_and_notes_those_that_need_a_chaos_experiment(write_env, env_data):
    env_data["load_profiles"]["failover"] = {**env_data["load_profiles"]["smoke"], "during": "athens-pod-loss"}
    env_data["claims"][2]["evidence"] = ["load.p95@failover"]
    write_env(env_data)
    env = load_environment("sample")
    run = run_folder.new_run(env, "gate", "gauntlet gate sample")
    ran = []
    run_evidence(env, run, ["load:smoke", "load:failover"], load_runner=lambda env, run, name, **kw: ran.append(name))
    assert ran == ["smoke"]
    assert run.meta["unavailable"] == {"load:failover": "runs only during the chaos experiment 'athens-pod-loss', not on its own"}


def test_a_fault_window_profile_run_on_its_own_is_not_evidence_and_sends_nothing(write_env, env_data, tmp_path):
    """``gauntlet load ENV --profile failover`` alone: no Locust, the SLO checks recorded as not evidence, the claim
    not-checked with the way to run it, and the run says it could not verify it (exit 3)."""
    env_data["load_profiles"]["failover"] = {**env_data["load_profiles"]["smoke"], "during": "athens-pod-loss",
                                             "endpoint": "edge"}
    env_data["claims"][1]["evidence"].append("load.p95@failover")
    env_data["claims"][1]["required"] = ["load.p95@failover"]
    write_env(env_data)
    proc = subprocess.run([sys.executable, "-m", "gauntlet", "load", "sample", "--profile", "failover", "--json"],
                          capture_output=True, text=True, timeout=60, cwd=paths.ROOT)
    assert proc.returncode == 3, proc.stderr
    fast = next(c for c in json.loads(proc.stdout)["claims"] if c["id"] == "sample-fast")
    assert fast["verdict"] == "not-checked"
    assert fast["evidence"] == ["required evidence load.p95@failover proved nothing: load:failover:p95_ms: not evidence: "
                                "load profile failover is evidence only inside the fault window of chaos experiment "
                                "athens-pod-loss: run `gauntlet chaos sample athens-pod-loss --load failover`"]
    assert not list((tmp_path / "reports").glob("*/load/failover")), "Locust never started"


def test_the_cli_and_the_harness_never_import_locust():
    code = ("import sys, gauntlet.cli, gauntlet.runner, gauntlet.load, gauntlet.load.runner;"
            "bad = [m for m in ('locust', 'gevent') if m in sys.modules]; assert not bad, bad")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=paths.ROOT)
    assert proc.returncode == 0, proc.stderr


def test_negative_workers_are_refused(write_env, env_data):
    from gauntlet.exceptions import ConfigError
    from gauntlet.load.runner import run_profile

    write_env(env_data)
    env = load_environment("sample")
    with pytest.raises(ConfigError, match="--workers: expected 0 or more"):
        run_profile(env, run_folder.new_run(env, "load", "x"), "smoke", workers=-1)


def test_a_profile_that_cannot_run_is_noted_and_the_gate_goes_on(write_env, env_data):
    write_env(env_data)  # the sample's goproxy profile names no module set
    env = load_environment("sample")
    run = run_folder.new_run(env, "gate", "gauntlet gate sample")
    run_evidence(env, run, ["load:smoke"])
    assert "cannot run: environment 'sample': load_profiles.smoke.modules" in run.meta["unavailable"]["load:smoke"]


def test_remote_workers_start_only_the_master_bound_where_asked(tmp_path):
    (master,) = commands(P, tmp_path, workers=4, remote="0.0.0.0:5557")
    assert master[master.index("--master-bind-host") + 1] == "0.0.0.0"
    assert master[master.index("--master-bind-port") + 1] == "5557"
    assert master[master.index("--expect-workers") + 1] == "4"


@pytest.mark.parametrize("bad", ["5557", "host:", ":5557", "host:99999"])
def test_a_bad_master_bind_is_refused(bad):
    from gauntlet.exceptions import ConfigError
    from gauntlet.load.runner import parse_bind

    with pytest.raises(ConfigError, match="--master-bind: expected HOST:PORT"):
        parse_bind(bad)

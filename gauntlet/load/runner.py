"""Runs one load profile with Locust's own CLI, in its own processes, into a run folder.

Locust monkey-patches its process with gevent, so it never runs in this one:
``python -m locust -f load/<user>.py,load/shape.py --headless`` (or a master
and ``--workers N`` worker processes, Locust's distributed mode on this
machine). The run folder gets ``timeline-load-<profile>.json`` (p95, rps and
errors over time, drawn by the report) and, in ``load/<profile>/``:

    locust_stats.csv, locust_stats_history.csv, locust_failures.csv,
    locust_exceptions.csv, locust.html     Locust's own report, as it wrote it
    locust.log, worker-N.log               its output
    series.jsonl                           the guard's per-second points (live progress)
    outcome.json                           how the run ended (duration, max_requests, stop_condition)

Bounds, three deep: the profile's shape ends at ``duration_s`` and the guard
in the Locust process ends the run at ``duration_s`` or ``max_requests``
whatever the shape says; this process terminates Locust if it is still
running ``STARTUP_S + duration_s + GRACE_S`` seconds after the start. Fan-out
is bounded before anything starts (:func:`check_workers`, :func:`check_users`).
"""

from __future__ import annotations

import csv
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import get_args

from gauntlet import children, paths
from gauntlet.environment import Environment, UserKind
from gauntlet.exceptions import ConfigError
from gauntlet.ledger import CheckResult
from gauntlet.load import figures as figures_
from gauntlet.load import slo
from gauntlet.load.params import LoadParams, resolve
from gauntlet.redact import redact_data
from gauntlet.run_folder import Run, write_atomic

#: user kind -> its locustfile, whose User class says ``kind = "<kind>"``.
LOCUSTFILES = {kind: f"load/{kind}.py" for kind in get_args(UserKind)}
SHAPE_FILE = "load/shape.py"
CSV_PREFIX = "locust"
STARTUP_S = 30.0  # Locust's imports and, in distributed mode, the workers connecting
GRACE_S = 30.0  # after duration_s: stopping users, writing CSV and HTML
WORKERS_MAX_WAIT_S = 20
REMOTE_WORKERS_MAX_WAIT_S = 120  # pods to be scheduled, images pulled
STOP_GRACE_S = 10.0  # SIGTERM to SIGKILL: Locust stops its users and writes its CSV and HTML report
REMOTE_WORKERS_MAX = 1000
USERS_PER_PROCESS = 5000  # one Locust process is one CPU core (gevent): beyond this it cannot keep up

Progress = Callable[[str], None]


def out_dir(run: Run, name: str) -> Path:
    return run.dir / "load" / name


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def commands(p: LoadParams, out: Path, workers: int = 0, master_port: int | None = None,
             remote: str | None = None) -> list[list[str]]:
    """Locust's command lines: one process, or a master followed by ``workers`` workers.

    ``remote`` (``HOST:PORT``): the workers run elsewhere (other machines, a Kubernetes
    Job); only the master is started, bound there, and it waits longer for them. No ``--host``:
    each process takes the endpoint from the environment, so no credential is on a command line.
    """
    files = f"{paths.ROOT / LOCUSTFILES[p.user]},{paths.ROOT / SHAPE_FILE}"
    gauntlet = ["--gauntlet-env", p.environment, "--gauntlet-profile", p.profile]
    main = [sys.executable, "-m", "locust", "-f", files, "--headless", *gauntlet,
            "--gauntlet-out", str(out), "--csv", str(out / CSV_PREFIX), "--csv-full-history",
            "--html", str(out / "locust.html"), "--only-summary", "--exit-code-on-error", "0"]
    if workers <= 0:
        return [main]
    if remote:
        host, _, port = remote.rpartition(":")
        return [[*main, "--master", "--master-bind-host", host, "--master-bind-port", port,
                 "--expect-workers", str(workers), "--expect-workers-max-wait", str(REMOTE_WORKERS_MAX_WAIT_S)]]
    port = str(master_port or free_port())
    master = [*main, "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", port,
              "--expect-workers", str(workers), "--expect-workers-max-wait", str(WORKERS_MAX_WAIT_S)]
    worker = [sys.executable, "-m", "locust", "-f", files, "--worker", "--master-host", "127.0.0.1",
              "--master-port", port, *gauntlet]
    return [master] + [list(worker) for _ in range(workers)]


def parse_bind(text: str) -> str:
    """``HOST:PORT`` for a master waiting for remote workers; a ConfigError names what is wrong."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--master-bind: expected HOST:PORT such as 0.0.0.0:5557, got {text!r}")
    return f"{host}:{port}"


def progress_line(p: LoadParams, point: dict) -> str:
    """``load smoke  12 s/20 s  5 users  61.3 rps  p95 38 ms  errors 0.0 %  742/5 000 requests``."""
    p95 = f"{point['p95_ms']:.0f} ms" if point.get("p95_ms") is not None else "-"
    errors = f"{point['error_rate'] * 100:.1f} %" if point.get("error_rate") is not None else "-"
    done = f"{point['requests']:,}/{p.max_requests:,}".replace(",", " ")
    return (f"load {p.profile}  {point['t']:.0f} s/{p.duration_s} s  {point['users']} users  {point['rps']:.1f} rps  "
            f"p95 {p95}  errors {errors}  {done} requests")


def check_workers(workers: int, remote: str | None = None) -> str | None:
    """Refuse (ConfigError) more local ``--workers`` than :func:`gauntlet.children.most_processes`, or more remote
    ones than :data:`REMOTE_WORKERS_MAX`; returns ``remote`` as ``HOST:PORT``."""
    if remote is None:
        children.check_fan_out("--workers", workers, "Locust worker processes")
        return None
    remote = parse_bind(remote)
    if workers < 1:
        raise ConfigError("--master-bind: remote workers need --workers N (how many to wait for)")
    if workers > REMOTE_WORKERS_MAX:
        raise ConfigError(f"--workers: {workers} remote workers is more than one Locust master serves: at most {REMOTE_WORKERS_MAX}")
    return remote


def check_users(p: LoadParams, workers: int) -> None:
    """Refuse (ConfigError) more users per Locust process than :data:`USERS_PER_PROCESS`."""
    processes = max(1, workers)
    if p.users > USERS_PER_PROCESS * processes:
        need = -(-p.users // USERS_PER_PROCESS)
        raise ConfigError(f"load_profiles.{p.profile}.users: {p.users} users in {processes} Locust process"
                          f"{'es' if processes > 1 else ''} is more than {USERS_PER_PROCESS} per process: "
                          f"run it with --workers {need} (workers elsewhere: load/README.md)")


def _last_error(log: Path) -> str:
    try:
        lines = [line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    return (errors or lines or ["empty log"])[-1][:300]


def _exceptions(prefix: Path, outcome: dict | None) -> str | None:
    """Exceptions the user code raised (a harness bug, not the target's): the first, if any.
    From the guard's outcome when there is one (Locust's CSV can miss the last second)."""
    path = prefix.with_name(prefix.name + "_exceptions.csv")
    rows = (outcome or {}).get("exceptions")
    if rows is None:
        try:
            rows = [{"count": r["Count"], "message": r["Message"]}
                    for r in csv.DictReader(path.read_text(encoding="utf-8").splitlines())]
        except OSError:
            return None
    if not rows:
        return None
    return f"the load user raised an exception {rows[0]['count']}x: {rows[0]['message']} (see {path})"


def execute(p: LoadParams, out: Path, *, workers: int = 0, progress: Progress | None = None,
            environments_dir: Path | None = None, remote: str | None = None,
            stop: threading.Event | None = None) -> dict:
    """Run Locust for ``p`` into ``out``; returns what happened (exit code, timing, problem).

    Each Locust process leads its own process group (:class:`gauntlet.children.Child`), its output masked
    into its log; however this ends (the run's end, its time limit, Ctrl-C, SIGTERM, SIGHUP) every group
    gets SIGTERM (Locust writes its report), :data:`STOP_GRACE_S`, then SIGKILL: none outlives the run.
    ``stop`` set (from another thread: the chaos run beside it was interrupted) ends it early the same way."""
    out.mkdir(parents=True, exist_ok=True)
    argvs = commands(p, out, workers, remote=remote)
    write_atomic(out / "command.json", json.dumps(redact_data(argvs), indent=2))
    env = {**os.environ, "PYTHONUNBUFFERED": "1",
           "GAUNTLET_ENVIRONMENTS_DIR": str(environments_dir or paths.environments_dir())}
    started = time.monotonic()
    limit_s = (REMOTE_WORKERS_MAX_WAIT_S if remote else STARTUP_S) + p.duration_s + GRACE_S
    problem: str | None = None
    shown, every = -1.0, max(2.0, p.duration_s / 30)
    procs: list[children.Child] = []
    try:
        procs.append(children.Child(argvs[0], env=env, cwd=paths.ROOT, log=out / "locust.log", dies_with_parent=True))
        for i, argv in enumerate(argvs[1:], 1):
            procs.append(children.Child(argv, env=env, cwd=paths.ROOT, log=out / f"worker-{i}.log", dies_with_parent=True))
        while procs[0].poll() is None:
            time.sleep(0.25)
            points = figures_.read_series(out / "series.jsonl") if progress else []
            if points and points[-1]["t"] - shown >= every:
                shown = points[-1]["t"]
                progress(progress_line(p, points[-1]))  # type: ignore[misc]
            if time.monotonic() - started > limit_s:
                problem = f"Locust was still running {limit_s:.0f} s after its start (duration {p.duration_s} s): terminated"
                break
            if stop is not None and stop.is_set():
                problem = f"stopped after {time.monotonic() - started:.0f} s: the run was interrupted"
                break
    finally:
        for proc in procs:  # the master first: it tells its workers to quit
            proc.stop(grace_s=STOP_GRACE_S)
    code = procs[0].proc.returncode
    if problem is None and code not in (0, None):
        problem = f"Locust exited with code {code}: {_last_error(out / 'locust.log')} (see {out / 'locust.log'})"
    problem = problem or _exceptions(out / CSV_PREFIX, figures_.read_json(out / "outcome.json"))
    return {"exit_code": code, "wall_s": round(time.monotonic() - started, 2), "problem": problem, "workers": workers}


def timeline(p: LoadParams, points: list[dict], outcome: dict | None) -> dict:
    """The run over time in the report's chart format (``gauntlet.charts``): p95, rps and errors per
    second, the stop condition's breach and trip marked."""
    def series(name: str, unit: str, key: str, scale: float = 1.0) -> dict:
        return {"name": name, "unit": unit,
                "points": [[round(pt["t"], 2), round(pt[key] * scale, 3)] for pt in points if pt.get(key) is not None]}

    markers = []
    trip = (outcome or {}).get("stop")
    if trip:
        label = "p95" if trip["metric"] == "p95_ms" else "error rate"
        markers += [{"t": trip["since_s"], "label": f"{label} beyond the stop condition"},
                    {"t": trip["at_s"], "label": "stopped"}]
    elif (outcome or {}).get("ended_by") == "max_requests":
        markers.append({"t": outcome["elapsed_s"], "label": f"{p.max_requests} requests: request bound"})  # type: ignore[index]
    return {"title": f"load {p.profile} on {p.environment} ({p.user} users, {p.shape})",
            "series": [series("p95", "ms", "p95_ms"), series("rps", "req/s", "rps"), series("errors", "%", "error_rate", 100.0)],
            "markers": markers, "ended_by": (outcome or {}).get("ended_by")}


def write_timeline(run: Run, p: LoadParams, out: Path, outcome: dict | None) -> Path:
    """``timeline-load-<profile>.json`` in the run folder: the report draws it as a chart."""
    path = run.dir / f"timeline-load-{p.profile}.json"
    write_atomic(path, json.dumps(timeline(p, figures_.read_series(out / "series.jsonl"), outcome), indent=1))
    return path


def run_profile(env: Environment, run: Run, name: str, *, workers: int = 0, progress: Progress | None = None,
                environments_dir: Path | None = None, remote: str | None = None,
                beside: str | None = None, stop: threading.Event | None = None) -> list[CheckResult]:
    """Run load profile ``name`` of ``env`` and record its SLO checks into ``run``; the checks.

    ``remote`` (``HOST:PORT``): start only Locust's master there and wait for ``workers``
    workers started elsewhere (see load/README.md). A profile that is evidence only during a
    chaos experiment (``during:``) is not run on its own: its checks are recorded as not
    evidence. Run ``beside`` that experiment, nothing is recorded here: the experiment judges
    the checks on its fault window (:mod:`gauntlet.chaos.record`). ``stop``: see :func:`execute`.
    """
    remote = check_workers(workers, remote)
    profile = env.load_profile(name)
    run.add_ran(f"load:{name}")
    if profile.during and beside not in profile.during:
        why = (f"load profile {name} is evidence only inside the fault window of chaos experiment "
               f"{' or '.join(profile.during)}: run `gauntlet chaos {env.name} {profile.during[0]} --load {name}`")
        if progress:
            progress(f"load {name}: not run: {why}")
        results = slo.not_evidence(env, name, why)
        for result in results:
            run.record(result)
        return results
    p = resolve(env, name)
    check_users(p, workers)
    out = out_dir(run, name)
    if progress:
        mode = (f"a master on {remote} waiting for {workers} remote workers" if remote
                else f"{workers} workers" if workers else "one process")
        most = f"{p.max_requests:,}".replace(",", " ")
        progress(f"load {name}: {p.user} users on {p.host}, {p.shape} up to {p.users} users, "
                 f"{p.duration_s} s and {most} requests at most, {mode}")
    happened = execute(p, out, workers=workers, progress=progress, environments_dir=environments_dir, remote=remote,
                       stop=stop)
    outcome = figures_.read_json(out / "outcome.json")
    chart = write_timeline(run, p, out, outcome)
    figures = figures_.from_outcome(outcome) or figures_.read_stats(out / CSV_PREFIX)
    failures = (outcome or {}).get("failures") or figures_.read_failures(out / CSV_PREFIX)

    def rel(file: str) -> str:
        return str((out / file).relative_to(run.dir))

    details = {"profile": name, "user": p.user, "host": p.host, "shape": p.shape, "users": p.users,
               "bounds": {"duration_s": p.duration_s, "max_requests": p.max_requests}, **happened,
               "artefacts": {"html": rel("locust.html"), "csv": rel(f"{CSV_PREFIX}_stats.csv"),
                             "history": rel(f"{CSV_PREFIX}_stats_history.csv"), "series": rel("series.jsonl"),
                             "timeline": chart.name,
                             "log": rel("locust.log")}}
    results = slo.evaluate(env, name, figures, outcome, failures=failures,
                           problem=happened["problem"], duration_s=happened["wall_s"], details=details)
    if beside is None:
        for result in results:
            run.record(result)
    return results

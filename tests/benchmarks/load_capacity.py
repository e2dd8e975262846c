"""Generator capacity: how many requests per second Locust worker processes reach against the local edge.

The harness must never be the bottleneck of the claims it checks: this prints what one
Locust worker process reaches with the GOPROXY user (list/info/mod/zip over TLS with the
local CA) and with a trivial GET (an edge cache hit: a small ``.info``), next to ``wrk -t1``
on the same URL with as many connections, the Locust/wrk ratio, and 2 workers against 1.
Every measurement is bounded (``SECONDS`` each, a request bound, loopback only); about
a minute and a half in all.

Run it alone on the machine (it competes with the stack for CPU) and under the stack's lock:

    flock /tmp/gauntlet-stack.lock .venv/bin/python tests/benchmarks/load_capacity.py [SECONDS] [USERS]

Needs the local stack (started if it is not) and Debian's wrk (``apt-get install -y wrk``).
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

import gauntlet.local as local
from gauntlet import paths
from gauntlet.environment import load_environment
from gauntlet.load.params import resolve
from gauntlet.load.runner import execute

TRIVIAL = "/github.com/pkg/errors/@v/v0.9.1.info"
MAX_REQUESTS = 5_000_000  # the time bound ends these runs; this one only guards against a runaway


def environments(folder: Path, seconds: int, users: int) -> Path:
    """A copy of local.yaml plus two benchmark profiles (no think time, no SLOs)."""
    data = yaml.safe_load((paths.ROOT / "environments" / "local.yaml").read_text())
    common = {"endpoint": "edge", "shape": "steady", "users": users, "spawn_rate": 1000, "wait_s": [0, 0],
              "duration_s": seconds, "max_requests": MAX_REQUESTS, "stop": {"error_rate": 0.5, "for_s": 5}, "slos": []}
    data["load_profiles"].update({
        "bench-goproxy": {**common, "user": "goproxy", "modules": "goproxy/modules.txt", "cold_ratio": 0.2},
        "bench-trivial": {**common, "user": "web", "paths": [TRIVIAL]},
    })
    (folder / "local.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def locust_rps(envs: Path, profile: str, workers: int, out: Path) -> dict:
    """One bounded run; CPU seconds of the Locust processes (all waited for) over the run's wall time
    says whether the generator was saturated (about 1 core per worker) or had room."""
    env = load_environment("local", envs)
    cpu_before = _children_cpu_s()
    happened = execute(resolve(env, profile), out, workers=workers, environments_dir=envs)
    cores = (_children_cpu_s() - cpu_before) / happened["wall_s"]
    outcome = json.loads((out / "outcome.json").read_text())
    final = outcome["final"]
    if happened["problem"] or not final["requests"]:
        raise SystemExit(f"{profile} with {workers} worker(s) failed: {happened['problem']} (see {out})")
    return {"rps": final["rps"], "p95_ms": final["p95_ms"], "cores": cores,
            "requests": final["requests"], "errors": final["failures"]}


def wrk_rps(url: str, seconds: int, connections: int) -> float:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    proc = subprocess.run([wrk, "-t1", f"-c{connections}", f"-d{seconds}s", url], capture_output=True, text=True,
                          timeout=seconds + 30)
    match = re.search(r"Requests/sec:\s+([\d.]+)", proc.stdout)
    if proc.returncode != 0 or not match:
        raise SystemExit(f"wrk failed: {proc.stdout}{proc.stderr}")
    return float(match.group(1))


def fmt(rps: float) -> str:
    return f"{rps:,.0f}".replace(",", " ")


def main(seconds: int = 10, users: int = 20) -> int:
    status = local.up(progress=lambda _: None)
    url = status["edge_url"] + TRIVIAL
    print(f"machine: {os.cpu_count()} CPUs, shared by the generator and the whole local tier "
          f"(edge nginx with 1 worker, HAProxy, 2 replicas); load average {os.getloadavg()[0]:.2f} before; "
          f"{seconds} s per measurement, {users} users/connections")
    with tempfile.TemporaryDirectory(prefix="gauntlet-bench-") as tmp:
        envs = environments(Path(tmp), seconds, users)
        runs = {}
        for profile, workers in (("bench-goproxy", 1), ("bench-trivial", 1), ("bench-trivial", 2), ("bench-goproxy", 2)):
            runs[profile, workers] = locust_rps(envs, profile, workers, Path(tmp) / f"{profile}-{workers}")
            r = runs[profile, workers]
            print(f"  locust {profile:<14} {workers} worker{'s' if workers > 1 else ' '}  {fmt(r['rps']):>7} rps "
                  f"(Locust used {r['cores']:.2f} cores incl. start-up, p95 {r['p95_ms']:.0f} ms, "
                  f"{r['requests']} requests, {r['errors']} errors)")
        wrk = wrk_rps(url, seconds, users)
        print(f"  wrk -t1 -c{users} -d{seconds}s {TRIVIAL}  {fmt(wrk):>7} rps")
    trivial1, trivial2 = runs["bench-trivial", 1]["rps"], runs["bench-trivial", 2]["rps"]
    goproxy1, goproxy2 = runs["bench-goproxy", 1]["rps"], runs["bench-goproxy", 2]["rps"]
    print(f"one Locust worker vs wrk -t1, trivial GET: {trivial1 / wrk:.2f}")
    print(f"GOPROXY user vs trivial GET, one worker: {goproxy1 / trivial1:.2f}")
    print(f"2 workers vs 1: trivial GET {trivial2 / trivial1:.2f}x, GOPROXY user {goproxy2 / goproxy1:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(*map(int, sys.argv[1:3])))

"""Memory and time against hostile targets (issue 17): peak RSS of a conformance run and of a load run against an
infinite body, wall time of a conformance run against a target sending one byte every two seconds.

Run: .venv/bin/python tests/benchmarks/hostile_targets.py [TRICKLE_DEADLINE_S | defaults]   (default 2.5: the
trickled endpoint gets timeout_s 2.5, so no read times out and each request ends at its deadline; ``defaults``: the
environment's defaults, timeout_s 10 and a deadline of 30 s, which takes minutes). The targets are the
hostile suite's own (tests/hostile/conftest.py) on loopback. Peak RSS is that of the largest process of the run
(gauntlet, pytest, Locust, go), as its parent reaped it (RUSAGE_CHILDREN).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("hostile_fixtures", ROOT / "tests" / "hostile" / "conftest.py")
hostile = sys.modules["hostile_fixtures"] = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(hostile)  # type: ignore[union-attr]

BOUNDS = {"conformance, infinite body": ("peak_rss_mb", 450), "load, infinite body": ("peak_rss_mb", 350),
          "conformance, trickle": ("wall_s", 180)}
DEFAULTS_TRICKLE_S = 1200  # the bound with the environment's defaults (30 s a request)

_MEASURE = ("import json, resource, subprocess, sys, time; t = time.monotonic(); "
            "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "print(json.dumps({'code': p.returncode, 'wall_s': round(time.monotonic() - t, 1), "
            "'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}))")


def serve(behaviour: str) -> hostile.Target:
    server = hostile.Target(hostile.BEHAVIOURS[behaviour])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def measure(folder: Path, env: dict, *args: str) -> dict:
    (folder / "environments" / "hostile.yaml").write_text(yaml.safe_dump(env, sort_keys=False))
    variables = {**os.environ, "GAUNTLET_ENVIRONMENTS_DIR": str(folder / "environments"),
                 "GAUNTLET_REPORTS_DIR": str(folder / "reports")}
    proc = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "gauntlet", *args], capture_output=True,
                          text=True, cwd=ROOT, env=variables, timeout=1800)
    return json.loads(proc.stdout)


def main(trickle: str = "2.5") -> int:
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "environments").mkdir()
        infinite, slow = serve("infinite"), serve("trickle")
        env = hostile.goproxy_env(infinite.url, timeout_s=5)
        figures["conformance, infinite body"] = measure(folder, env, "conformance", "hostile", "--suite", "goproxy")
        env["load_profiles"]["steady"]["duration_s"] = 10
        figures["load, infinite body"] = measure(folder, env, "load", "hostile", "--profile", "steady")
        bounds = {} if trickle == "defaults" else {"timeout_s": 2.5, "deadline_s": float(trickle)}
        env = hostile.goproxy_env(slow.url, **bounds)
        started = len(slow.requests)
        figures["conformance, trickle"] = measure(folder, env, "conformance", "hostile", "--suite", "goproxy")
        figures["conformance, trickle"]["requests"] = len(slow.requests) - started
    ok = True
    for name, figure in figures.items():
        key, bound = BOUNDS[name]
        bound = DEFAULTS_TRICKLE_S if name == "conformance, trickle" and trickle == "defaults" else bound
        ok &= figure[key] < bound
        print(f"{name:28} exit {figure['code']}  wall {figure['wall_s']:6.1f} s  peak RSS {figure['peak_rss_mb']:5} MB"
              + (f"  {figure['requests']} requests, deadline "
                 + ("30 s (the defaults)" if trickle == "defaults" else f"{trickle} s") if "requests" in figure else "")
              + f"   (bound: {key} < {bound})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))

"""The GOPROXY suite against one real `go mod download` of the same probe set through the same edge, same run.

Each round, on the healthy local tier: `go mod download -json` of the probe set of
`environments/local.yaml` through the edge (fresh module cache and GOPATH, GOSUMDB as the
suite's real-client check sets it), then the suite as users run it
(`pytest conformance/goproxy --env local`, the run recorded) and as the CLI runs it
(`gauntlet conformance local --suite goproxy`), and the suite's start-up alone
(`--collect-only`, which runs no check). Reports the medians and suite / go; the target is 3x.

Run: .venv/bin/python tests/benchmarks/goproxy_suite.py [ROUNDS]. Leaves the tier as it found it.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gauntlet.local as local
from gauntlet import paths
from gauntlet.environment import load_environment
from gauntlet.goproxy.sumdb import database
from gauntlet.local import goproxy_tier
from gauntlet.local.goproxy_tier import COMPONENTS, running_pid

TARGET = 3.0


def _timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    took = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv[:4])} … exited {proc.returncode}: {proc.stderr[-500:]}")
    return took


def go_mod_download(status: dict) -> float:
    """Seconds of one `go mod download -json` of the probe set through the edge, with nothing cached."""
    config = load_environment("local").goproxy
    assert config is not None
    modules = [f"{p.module}@{p.version}" for p in config.probe_set]
    with tempfile.TemporaryDirectory(prefix="gauntlet-bench-go-") as tmp:
        env = dict(os.environ, GOPROXY=status["edge_url"], GOSUMDB=database(config.sumdb[0]).key or "off",
                   SSL_CERT_FILE=status["ca_bundle"], GOMODCACHE=f"{tmp}/modcache", GOPATH=f"{tmp}/gopath",
                   GOFLAGS="-modcacherw", GOTOOLCHAIN="local", GONOSUMDB="", GOPRIVATE="")
        return _timed([shutil.which("go") or "go", "mod", "download", "-json", *modules], env, Path(tmp))


def main(rounds: int = 5) -> int:
    was_running = any(running_pid(c.name) for c in COMPONENTS)
    status = local.up(progress=lambda _: None)
    figures: dict[str, list[float]] = {"go mod download": [], "suite (pytest)": [], "suite (gauntlet CLI)": [],
                                       "suite start-up (--collect-only)": []}
    with tempfile.TemporaryDirectory(prefix="gauntlet-bench-reports-") as reports:
        env = dict(os.environ, GAUNTLET_REPORTS_DIR=reports)
        pytest = [sys.executable, "-m", "pytest", "conformance/goproxy", "--env", "local", "-q", "-p", "no:cacheprovider"]
        for _ in range(rounds):
            figures["go mod download"].append(go_mod_download(status))
            figures["suite (pytest)"].append(_timed(pytest, env, paths.ROOT))
            figures["suite (gauntlet CLI)"].append(_timed([sys.executable, "-m", "gauntlet", "conformance", "local", "--suite",
                                                            "goproxy", "--json"], env, paths.ROOT))
            figures["suite start-up (--collect-only)"].append(_timed([*pytest, "--collect-only"], env, paths.ROOT))
    if not was_running:
        goproxy_tier.down()
    medians = {name: statistics.median(values) for name, values in figures.items()}
    for name, value in medians.items():
        print(f"{name:34s} median {value:5.2f} s  ({', '.join(f'{v:.2f}' for v in figures[name])})")
    ratio = medians["suite (pytest)"] / medians["go mod download"]
    print(f"suite / go mod download: {ratio:.1f}x (CLI {medians['suite (gauntlet CLI)'] / medians['go mod download']:.1f}x), "
          f"target {TARGET:.0f}x, over {rounds} rounds, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main(*map(int, sys.argv[1:2])))
